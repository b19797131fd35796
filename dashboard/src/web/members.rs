//! Members: the list with search, adding a member, a member's page with their passes, and
//! revoking a member (with a confirmation page, so it works without JavaScript).

use super::frame::{render, Me, OrPage, SiteTimes, WebError};
use super::i18n::Tr;
use crate::error::ServiceError;
use crate::member::{MemberInfo, NewMember};
use crate::pass::PassInfo;
use crate::service::Dashboard;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The most fields read from a posted form.
const MAX_FORM_FIELDS: usize = 200;
/// The most members a search lists.
const LIST_LIMIT: usize = 500;

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    t: Tr,
    me: Me,
    q: String,
    members: Vec<MemberInfo>,
    more: bool,
}

#[derive(Deserialize)]
pub(crate) struct Search {
    q: Option<String>,
}

/// Whether `member` matches the search text (id, name or e-mail, any case).
fn matches(member: &MemberInfo, q: &str) -> bool {
    let q = q.to_lowercase();
    member.id.to_lowercase().contains(&q)
        || member.name.to_lowercase().contains(&q)
        || member
            .email
            .as_deref()
            .is_some_and(|e| e.to_lowercase().contains(&q))
}

/// `GET /members?q=`.
pub(crate) async fn list(
    State(d): State<Dashboard>,
    me: Me,
    Query(search): Query<Search>,
) -> Result<Response, WebError> {
    let q = search.q.unwrap_or_default().trim().to_owned();
    let mut members: Vec<MemberInfo> = d
        .members()
        .list(&me.who, None)
        .await
        .or_page(&me)?
        .into_iter()
        .filter(|m| q.is_empty() || matches(m, &q))
        .collect();
    let more = members.len() > LIST_LIMIT;
    members.truncate(LIST_LIMIT);
    Ok(render(&MembersPage {
        t: me.t(),
        me,
        q,
        members,
        more,
    }))
}

#[derive(Template)]
#[template(path = "member_new.html")]
struct NewMemberPage {
    t: Tr,
    me: Me,
    sites: Vec<String>,
    form: MemberForm,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct MemberForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    /// sv, da or en; empty for the site's language.
    #[serde(default)]
    language: String,
    /// Sites, as checkboxes (`site=a&site=b`) or a comma-separated text.
    #[serde(default)]
    site: Vec<String>,
}

impl MemberForm {
    fn has_site(&self, site: &str) -> bool {
        self.site.iter().any(|s| s == site)
    }
}

/// The sites `me` sees, by id: those members are put in and entries filtered by (a site
/// with no gateway yet among them).
pub(crate) async fn my_sites(d: &Dashboard, me: &Me) -> Result<Vec<String>, WebError> {
    Ok(d.sites()
        .list(&me.who)
        .await
        .or_page(me)?
        .into_iter()
        .map(|s| s.id)
        .collect())
}

/// `GET /members/new`.
pub(crate) async fn new(State(d): State<Dashboard>, me: Me) -> Result<Response, WebError> {
    let sites = my_sites(&d, &me).await?;
    let form = MemberForm {
        site: if sites.len() == 1 {
            sites.clone()
        } else {
            Vec::new()
        },
        ..MemberForm::default()
    };
    Ok(render(&NewMemberPage {
        t: me.t(),
        me,
        sites,
        form,
        error: None,
    }))
}

/// `POST /members`: adds the member and shows their page.
pub(crate) async fn add(
    State(d): State<Dashboard>,
    me: Me,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_member_form(&body);
    let new = NewMember {
        id: form.id.trim().to_owned(),
        name: form.name.trim().to_owned(),
        email: Some(form.email.trim().to_owned()).filter(|e| !e.is_empty()),
        sites: form.site.clone(),
        language: Some(form.language.clone()).filter(|l| !l.is_empty()),
    };
    match d.members().add(&me.who, &new).await {
        Ok(member) => Ok(Redirect::to(&format!("/members/{}", member.id)).into_response()),
        Err(
            e @ (ServiceError::Invalid { .. }
            | ServiceError::Conflict(_)
            | ServiceError::NotFound { .. }),
        ) => {
            let sites = my_sites(&d, &me).await?;
            let page = NewMemberPage {
                t: me.t(),
                error: Some(super::frame::form_error(me.t(), &e)),
                me,
                sites,
                form,
            };
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(e) => Err(WebError::new(e, me.lang)),
    }
}

/// A member form from `application/x-www-form-urlencoded` bytes: repeated `site` fields
/// are collected (serde's form decoding takes only one).
fn parse_member_form(body: &[u8]) -> MemberForm {
    let mut form = MemberForm::default();
    for (key, value) in form_pairs(body) {
        match key.as_str() {
            "id" => form.id = value,
            "name" => form.name = value,
            "email" => form.email = value,
            "language" => form.language = value,
            "site" => form.site.extend(crate::service::split_list(&value)),
            _ => {}
        }
    }
    form
}

/// The value of `name` in a form, trimmed (empty if it is not there).
pub(crate) fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// Every value of `name` in a form (checkboxes), trimmed.
pub(crate) fn fields_named(fields: &[(String, String)], name: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

/// The fields of a URL-encoded form, in order, at most [`MAX_FORM_FIELDS`] of them. NUL
/// characters are dropped: no field takes one.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .take(MAX_FORM_FIELDS)
        .map(|(k, v)| (k.replace('\0', ""), v.replace('\0', "")))
        .collect()
}

#[derive(Template)]
#[template(path = "member.html")]
struct MemberPage {
    t: Tr,
    me: Me,
    member: MemberInfo,
    created: String,
    revoked: Option<String>,
    passes: Vec<(PassInfo, String)>,
    error: Option<String>,
}

/// `GET /members/{id}`: the member and their passes.
pub(crate) async fn show(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    member_page(&d, me, &id, None).await
}

/// `POST /members/{id}`: `what=update` with `name` and `email`, or `what=restore`.
pub(crate) async fn change(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let fields = form_pairs(&body);
    let result = match field(&fields, "what").as_str() {
        "update" => {
            let email = field(&fields, "email");
            let language = field(&fields, "language");
            d.members()
                .update(
                    &me.who,
                    &id,
                    Some(&field(&fields, "name")),
                    Some(Some(email.as_str()).filter(|e| !e.is_empty())),
                    Some(Some(language.as_str()).filter(|l| !l.is_empty())),
                )
                .await
        }
        "restore" => d.members().restore(&me.who, &id).await,
        _ => Err(ServiceError::invalid("what", "update or restore")),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/members/{id}")).into_response()),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let error = super::frame::form_error(me.t(), &e);
            let page = member_page(&d, me, &id, Some(error)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(WebError::new(e, me.lang)),
    }
}

async fn member_page(
    d: &Dashboard,
    me: Me,
    id: &str,
    error: Option<String>,
) -> Result<Response, WebError> {
    let d = d.clone();
    let id = id.to_owned();
    let member = d.members().get(&me.who, &id).await.or_page(&me)?;
    let site = member.sites.first().cloned().unwrap_or_default();
    let mut times = SiteTimes::new(&d, &me.who);
    let created = times.local(&site, &member.created_at).await;
    let revoked = match &member.revoked_at {
        Some(t) => Some(times.local(&site, t).await),
        None => None,
    };
    let mut passes = Vec::new();
    if me.may("passes:read") {
        for p in d
            .passes()
            .list(&me.who, Some(&id), false)
            .await
            .or_page(&me)?
        {
            let until = times.local(&p.site, &p.valid_until).await;
            passes.push((p, until));
        }
    }
    Ok(render(&MemberPage {
        t: me.t(),
        me,
        member,
        created,
        revoked,
        passes,
        error,
    }))
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmPage {
    pub(crate) t: Tr,
    pub(crate) me: Me,
    pub(crate) title: String,
    pub(crate) question: String,
    pub(crate) action: String,
    pub(crate) confirm: String,
    pub(crate) back: String,
    pub(crate) danger: bool,
}

/// `GET /members/{id}/revoke`: are you sure?
pub(crate) async fn confirm_revoke(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let member = d.members().get(&me.who, &id).await.or_page(&me)?;
    let t = me.t();
    Ok(render(&ConfirmPage {
        t,
        title: t.get("member-revoke"),
        question: t.with("member-revoke-question", "name", &member.name),
        action: format!("/members/{id}/revoke"),
        confirm: t.get("member-revoke"),
        back: format!("/members/{id}"),
        danger: true,
        me,
    }))
}

/// `POST /members/{id}/revoke`.
pub(crate) async fn revoke(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    d.members().revoke(&me.who, &id).await.or_page(&me)?;
    Ok(Redirect::to(&format!("/members/{id}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_body_decodes_repeated_fields_and_escapes() {
        let pairs = form_pairs(b"id=anna&name=Anna+%C3%85berg&site=byn&site=hus&bad=%zz%");
        assert_eq!(
            pairs,
            vec![
                ("id".into(), "anna".into()),
                ("name".into(), "Anna Åberg".into()),
                ("site".into(), "byn".into()),
                ("site".into(), "hus".into()),
                ("bad".into(), "%zz%".into()),
            ]
        );
    }
}
