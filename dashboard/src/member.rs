//! Members: the people passes are issued to, and the sites they belong to.
//!
//! A member is seen only by principals of one of the member's sites. Revoking a member puts
//! the member id on the revocation list of each of their sites, which refuses every pass of
//! theirs, issued or still to come, until the gateway gets a list without it.

use crate::access::{Principal, Scope};
use crate::error::{ServiceError, ServiceResult};
use crate::service::Dashboard;
use bygd_protocol::{MemberId, SiteId};
use serde::Serialize;

/// A member as the API and CLI show it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberInfo {
    /// The id passes carry.
    pub id: String,
    /// The member's name, for people.
    pub name: String,
    /// E-mail, if given.
    pub email: Option<String>,
    /// The sites the member belongs to (those the asker sees).
    pub sites: Vec<String>,
    /// When the member was added (RFC 3339).
    pub created_at: String,
    /// When revoked, if revoked.
    pub revoked_at: Option<String>,
    /// The language of their pass page's first view and their e-mails (sv, da or en);
    /// `None`: their site's language.
    pub language: Option<String>,
}

/// A new member.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewMember {
    /// The id: lowercase letters, digits, '-' and '_', up to 64 (it travels in every pass).
    pub id: String,
    /// The name.
    pub name: String,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Sites, at least one.
    pub sites: Vec<String>,
    /// sv, da or en; `None`: their site's language.
    #[serde(default)]
    pub language: Option<String>,
}

/// Members: adding them to sites, looking them up, listing and revoking them.
///
/// Reached by [`Dashboard::members`]; it borrows the shared state and holds nothing else.
#[derive(Debug, Clone, Copy)]
pub struct Members<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

impl Members<'_> {
    /// Adds a member to some sites.
    pub async fn add(&self, who: &Principal, new: &NewMember) -> ServiceResult<MemberInfo> {
        who.require(Scope::MembersWrite)?;
        MemberId::new(&new.id).map_err(|e| {
            ServiceError::invalid(
                "id",
                format!("{e} (lowercase letters, digits, '-' and '_')"),
            )
        })?;
        if new.name.trim().is_empty() || new.name.len() > 200 {
            return Err(ServiceError::invalid("name", "1 to 200 characters"));
        }
        if new.sites.is_empty() {
            return Err(ServiceError::invalid("sites", "name at least one site"));
        }
        let language = new
            .language
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(crate::site::check_language)
            .transpose()?;
        let mut tx = self.dashboard.begin_write().await?;
        for site in &new.sites {
            SiteId::new(site)
                .map_err(|e| ServiceError::invalid("sites", format!("`{site}`: {e}")))?;
            let known: Option<String> = sqlx::query_scalar("SELECT id FROM sites WHERE id = $1")
                .bind(site.clone())
                .fetch_optional(&mut *tx)
                .await?;
            if known.is_none() || !who.sees(site) {
                return Err(ServiceError::not_found("site", site.clone()));
            }
        }
        let taken: Option<String> = sqlx::query_scalar("SELECT id FROM members WHERE id = $1")
            .bind(new.id.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(ServiceError::Conflict(format!(
                "member id `{}` is taken; choose another (ids are unique across the network)",
                new.id
            )));
        }
        let now = self.dashboard.now();
        sqlx::query(
            "INSERT INTO members (id, name, email, language, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new.id.clone())
        .bind(new.name.trim().to_owned())
        .bind(new.email.clone())
        .bind(language.clone())
        .bind(now)
        .bind(who.actor.clone())
        .execute(&mut *tx)
        .await?;
        for site in &new.sites {
            sqlx::query(
                "INSERT INTO member_sites (member, site) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(new.id.clone())
            .bind(site.clone())
            .execute(&mut *tx)
            .await?;
        }
        self.dashboard
            .record(
                &mut tx,
                who,
                "member.add",
                &new.id,
                serde_json::json!({ "name": new.name, "sites": new.sites, "language": language }),
            )
            .await?;
        member_changed(&mut tx, &new.id, "added", &new.sites, self.dashboard.now()).await?;
        tx.commit().await?;
        self.get(who, &new.id).await
    }

    /// One member, if `who` shares a site with them.
    pub async fn get(&self, who: &Principal, id: &str) -> ServiceResult<MemberInfo> {
        who.require(Scope::MembersRead)?;
        let row: Option<(
            String,
            String,
            Option<String>,
            i64,
            Option<i64>,
            Option<String>,
        )> = sqlx::query_as(
            "SELECT id, name, email, created_at, revoked_at, language FROM members \
                 WHERE id = $1",
        )
        .bind(id.to_owned())
        .fetch_optional(&self.dashboard.db.pool)
        .await?;
        let Some((id, name, email, created_at, revoked_at, language)) = row else {
            return Err(ServiceError::not_found("member", id));
        };
        let sites = self.sites(&id).await?;
        let visible: Vec<String> = sites.into_iter().filter(|s| who.sees(s)).collect();
        if visible.is_empty() {
            return Err(ServiceError::not_found("member", id));
        }
        Ok(MemberInfo {
            id,
            name,
            email,
            sites: visible,
            created_at: crate::timetext::rfc3339(created_at),
            revoked_at: revoked_at.map(crate::timetext::rfc3339),
            language,
        })
    }

    pub(crate) async fn sites(&self, id: &str) -> ServiceResult<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT site FROM member_sites WHERE member = $1 ORDER BY site")
                .bind(id.to_owned())
                .fetch_all(&self.dashboard.db.pool)
                .await?,
        )
    }

    /// The members of `site` (or of every site `who` sees), by id.
    pub async fn list(
        &self,
        who: &Principal,
        site: Option<&str>,
    ) -> ServiceResult<Vec<MemberInfo>> {
        who.require(Scope::MembersRead)?;
        let ids: Vec<(String, String)> =
            sqlx::query_as("SELECT member, site FROM member_sites ORDER BY member, site")
                .fetch_all(&self.dashboard.db.pool)
                .await?;
        let mut wanted: Vec<String> = ids
            .into_iter()
            .filter(|(_, s)| who.sees(s) && site.is_none_or(|want| want == s))
            .map(|(m, _)| m)
            .collect();
        wanted.dedup();
        let mut out = Vec::with_capacity(wanted.len());
        for id in wanted {
            out.push(self.get(who, &id).await?);
        }
        Ok(out)
    }

    /// The member's sites, all of which `who` must manage to change the member (else a
    /// conflict naming the other site, as for revoking).
    async fn managed_sites(
        &self,
        who: &Principal,
        id: &str,
        doing: &str,
    ) -> ServiceResult<Vec<String>> {
        let sites = self.sites(id).await?;
        if sites.iter().any(|s| !who.sees(s)) {
            return Err(ServiceError::Conflict(format!(
                "member `{id}` also belongs to a site {} does not manage; ask an admin of every \
                 site to {doing} them",
                who.actor
            )));
        }
        Ok(sites)
    }

    /// Signs each of `sites`' new revocation list inside `tx`, commits, and announces the
    /// lists: a change to a member's standing is never committed without its lists.
    async fn commit_with_lists(
        &self,
        mut tx: crate::service::Tx,
        sites: &[String],
        now: i64,
    ) -> ServiceResult<()> {
        let lists = self.dashboard.revocation_lists();
        let mut signed = Vec::with_capacity(sites.len());
        for site in sites {
            signed.push(lists.sign_in(&mut tx, site, now).await?);
        }
        tx.commit().await?;
        for list in signed {
            list.announce(self.dashboard);
        }
        Ok(())
    }

    /// Changes a member's name, e-mail and language (`Some(None)` clears the e-mail, and
    /// sets the language back to their site's). Their id, which every pass carries, never
    /// changes.
    pub async fn update(
        &self,
        who: &Principal,
        id: &str,
        name: Option<&str>,
        email: Option<Option<&str>>,
        language: Option<Option<&str>>,
    ) -> ServiceResult<MemberInfo> {
        who.require(Scope::MembersWrite)?;
        let member = self.get(who, id).await?;
        self.managed_sites(who, id, "change").await?;
        if name.is_none() && email.is_none() && language.is_none() {
            return Err(ServiceError::invalid(
                "name",
                "give a new name, e-mail or language",
            ));
        }
        let language = match language {
            Some(l) => l
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(crate::site::check_language)
                .transpose()?,
            None => member.language.clone(),
        };
        let name = match name.map(str::trim) {
            Some(n) if n.is_empty() || n.len() > 200 => {
                return Err(ServiceError::invalid("name", "1 to 200 characters"))
            }
            Some(n) => n.to_owned(),
            None => member.name.clone(),
        };
        let email = match email {
            Some(e) => e
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned),
            None => member.email.clone(),
        };
        if email
            .as_ref()
            .is_some_and(|e| e.len() > 254 || !e.contains('@'))
        {
            return Err(ServiceError::invalid(
                "email",
                "an e-mail address like anna@example.org",
            ));
        }
        let mut tx = self.dashboard.begin_write().await?;
        sqlx::query("UPDATE members SET name = $1, email = $2, language = $3 WHERE id = $4")
            .bind(name.clone())
            .bind(email.clone())
            .bind(language.clone())
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        self.dashboard
            .record(
                &mut tx,
                who,
                "member.update",
                id,
                serde_json::json!({ "name": name, "email": email, "language": language }),
            )
            .await?;
        member_changed(
            &mut tx,
            id,
            "updated",
            &self.sites(id).await?,
            self.dashboard.now(),
        )
        .await?;
        tx.commit().await?;
        self.get(who, id).await
    }

    /// Restores a revoked member: their passes that are neither revoked nor expired open
    /// doors again once each site's new revocation list (signed in the same transaction)
    /// reaches its gateways.
    pub async fn restore(&self, who: &Principal, id: &str) -> ServiceResult<MemberInfo> {
        who.require(Scope::MembersWrite)?;
        let member = self.get(who, id).await?;
        let sites = self.managed_sites(who, id, "restore").await?;
        if member.revoked_at.is_none() {
            return Err(ServiceError::Conflict(format!(
                "member `{id}` is not revoked"
            )));
        }
        let now = self.dashboard.now();
        let mut tx = self.dashboard.begin_write().await?;
        sqlx::query("UPDATE members SET revoked_at = NULL, revoked_by = NULL WHERE id = $1")
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        self.dashboard
            .record(
                &mut tx,
                who,
                "member.restore",
                id,
                serde_json::json!({ "sites": sites }),
            )
            .await?;
        member_changed(&mut tx, id, "restored", &sites, self.dashboard.now()).await?;
        self.commit_with_lists(tx, &sites, now).await?;
        self.get(who, id).await
    }

    /// Revokes a member at every site they belong to (all must be `who`'s) and re-signs those
    /// sites' revocation lists, in one transaction.
    pub async fn revoke(&self, who: &Principal, id: &str) -> ServiceResult<MemberInfo> {
        who.require(Scope::MembersWrite)?;
        let member = self.get(who, id).await?;
        let sites = self.sites(id).await?;
        if sites.iter().any(|s| !who.sees(s)) {
            return Err(ServiceError::Conflict(format!(
                "member `{id}` also belongs to a site {} does not manage; revoke their passes \
                 instead, or ask an admin of every site",
                who.actor
            )));
        }
        if member.revoked_at.is_some() {
            return Err(ServiceError::Conflict(format!(
                "member `{id}` is already revoked"
            )));
        }
        let now = self.dashboard.now();
        let mut tx = self.dashboard.begin_write().await?;
        sqlx::query("UPDATE members SET revoked_at = $1, revoked_by = $2 WHERE id = $3")
            .bind(now)
            .bind(who.actor.clone())
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        self.dashboard
            .record(
                &mut tx,
                who,
                "member.revoke",
                id,
                serde_json::json!({ "sites": sites }),
            )
            .await?;
        member_changed(&mut tx, id, "revoked", &sites, self.dashboard.now()).await?;
        // Every site's new list in the same transaction: a revoked member is never missing
        // from one of them.
        self.commit_with_lists(tx, &sites, now).await?;
        self.get(who, id).await
    }
}

/// Tells the webhooks of each of the member's sites that the member changed, inside `tx`.
async fn member_changed(
    tx: &mut crate::service::Tx,
    id: &str,
    change: &str,
    sites: &[String],
    at: i64,
) -> ServiceResult<()> {
    let events: Vec<crate::webhook::Event> = sites
        .iter()
        .map(|site| crate::webhook::Event {
            kind: "member.changed",
            site: site.clone(),
            at,
            data: serde_json::json!({ "member": id, "change": change }),
        })
        .collect();
    crate::webhook::emit(tx, &events).await
}
