//! Sites: what an admin adds before its members and gateways, and changes later.

use super::auth::Caller;
use super::error::AppError;
use super::members::present;
use super::ApiJson;
use super::ApiPath as Path;
use crate::service::Dashboard;
use crate::site::{NewSite, SiteChange};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) async fn list_sites(
    State(d): State<Dashboard>,
    Caller(who): Caller,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "sites": d.sites().list(&who).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSiteBody {
    id: String,
    name: String,
    #[serde(default)]
    address: Option<String>,
    time_zone: String,
    #[serde(default)]
    language: Option<String>,
}

pub(crate) async fn add_site(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiJson(req): ApiJson<NewSiteBody>,
) -> Result<Response, AppError> {
    let site = d
        .sites()
        .add(
            &who,
            &NewSite {
                id: req.id,
                name: req.name,
                address: req.address,
                time_zone: req.time_zone,
                language: req.language,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(site)).into_response())
}

pub(crate) async fn site(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!(d.sites().get(&who, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SiteChangeBody {
    #[serde(default)]
    name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    address: Option<Option<String>>,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    require_device_key: Option<bool>,
}

pub(crate) async fn update_site(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<SiteChangeBody>,
) -> Result<Json<Value>, AppError> {
    let change = SiteChange {
        name: change.name,
        address: change.address,
        time_zone: change.time_zone,
        language: change.language,
        require_device_key: change.require_device_key,
    };
    Ok(Json(json!(d.sites().update(&who, &id, &change).await?)))
}
