//! Members and passes: what a booking system or operator creates, issues and revokes.

use super::auth::Caller;
use super::error::AppError;
use super::ApiPath as Path;
use super::{ApiJson, ApiQuery};
use crate::member::NewMember;
use crate::pass::IssuePass;
use crate::service::Dashboard;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SiteQuery {
    #[serde(default)]
    site: Option<String>,
}

pub(crate) async fn list_members(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<SiteQuery>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({ "members": d.members().list(&who, q.site.as_deref()).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewMemberBody {
    id: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
    sites: Vec<String>,
    #[serde(default)]
    language: Option<String>,
}

pub(crate) async fn add_member(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    request: axum::extract::Request,
) -> Response {
    super::idempotent::once(&d, &who, request, async |request| {
        add_member_once(&d, &who, request)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

async fn add_member_once(
    d: &Dashboard,
    who: &crate::access::Principal,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    use axum::extract::FromRequest as _;
    let ApiJson(req) = ApiJson::<NewMemberBody>::from_request(request, &()).await?;
    let member = d
        .members()
        .add(
            who,
            &NewMember {
                id: req.id,
                name: req.name,
                email: req.email,
                sites: req.sites,
                language: req.language,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(member)).into_response())
}

pub(crate) async fn member(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let member = d.members().get(&who, &id).await?;
    let passes = d.passes().list(&who, Some(&id), false).await?;
    Ok(Json(json!({ "member": member, "passes": passes })))
}

/// A field given as `null` is `Some(None)`; a field left out stays `None` (by `default`).
pub(super) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberChange {
    #[serde(default)]
    name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    /// `null`: the site's language again.
    #[serde(default, deserialize_with = "present")]
    language: Option<Option<String>>,
}

pub(crate) async fn update_member(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<MemberChange>,
) -> Result<Json<Value>, AppError> {
    let email = change.email.as_ref().map(Option::as_deref);
    let language = change.language.as_ref().map(Option::as_deref);
    Ok(Json(json!(
        d.members()
            .update(&who, &id, change.name.as_deref(), email, language)
            .await?
    )))
}

pub(crate) async fn restore_member(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!(d.members().restore(&who, &id).await?)))
}

pub(crate) async fn revoke_member(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!(d.members().revoke(&who, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PassQuery {
    #[serde(default)]
    member: Option<String>,
    /// Only passes that are neither revoked nor expired.
    #[serde(default)]
    valid: Option<bool>,
}

pub(crate) async fn list_passes(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<PassQuery>,
) -> Result<Json<Value>, AppError> {
    let passes = d
        .passes()
        .list(&who, q.member.as_deref(), q.valid.unwrap_or(false))
        .await?;
    Ok(Json(json!({ "passes": passes })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueBody {
    member: String,
    site: String,
    #[serde(default)]
    doors: Vec<String>,
    /// A time as `bygd pass issue --from` takes it (RFC 3339, or local to the site).
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    device_key: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    booking: Option<String>,
    #[serde(default)]
    email: bool,
}

pub(crate) async fn issue_pass(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    request: axum::extract::Request,
) -> Response {
    super::idempotent::once(&d, &who, request, async |request| {
        issue_pass_once(&d, &who, request)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

async fn issue_pass_once(
    d: &Dashboard,
    who: &crate::access::Principal,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    use axum::extract::FromRequest as _;
    let ApiJson(req) = ApiJson::<IssueBody>::from_request(request, &()).await?;
    who.require(crate::access::Scope::PassesWrite)
        .map_err(crate::error::ServiceError::from)?;
    let zone = d.sites().zone(who, &req.site).await?;
    let now = d.now();
    let time = |field: &str, text: &Option<String>| {
        crate::timetext::parse_field(field, text.as_deref(), &zone, now)
            .map_err(|(field, e)| AppError::invalid(&field, e))
    };
    let issue = IssuePass {
        from: time("from", &req.from)?,
        until: time("until", &req.until)?,
        member: req.member,
        site: req.site,
        doors: req.doors,
        schedule: req.schedule,
        device_key: req.device_key,
        kind: req.kind,
        booking: req.booking,
        email: req.email,
    };
    let issued = d.passes().issue(who, &issue).await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

pub(crate) async fn pass(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!(d.passes().get(&who, &id).await?)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenewBody {
    /// The new end (Unix seconds).
    until: i64,
}

pub(crate) async fn renew_pass(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenewBody>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!(d.passes().renew(&who, &id, body.until).await?)))
}

pub(crate) async fn revoke_pass(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!(d.passes().revoke(&who, &id).await?)))
}

pub(crate) async fn send_pass(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!(d.passes().send_link(&who, &id).await?)))
}
