//! Who may do what: roles, scopes and the sites a principal is limited to.
//!
//! Every service call takes a [`Principal`] and checks it first, so the HTTP API, the CLI
//! and (later) the web UI enforce the same rules. Spaces that share a dashboard do not see
//! each other's members, passes, entries, gateways or alarms: a principal limited to some
//! sites gets "not found" for anything elsewhere, never a hint that it exists.

use std::collections::BTreeSet;
use std::fmt;

/// What a principal may do. Tokens carry a subset of these; an account's role implies a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read members.
    MembersRead,
    /// Create and revoke members.
    MembersWrite,
    /// Read passes.
    PassesRead,
    /// Issue and revoke passes.
    PassesWrite,
    /// Read the entry log and export it.
    EntriesRead,
    /// List gateways, doors and their state.
    GatewaysRead,
    /// List alarms.
    AlarmsRead,
    /// Acknowledge alarms (with a note).
    AlarmsWrite,
    /// Send unlock and lockdown commands and read their results.
    CommandsWrite,
    /// Manage accounts, API tokens and gateways; read the audit trail.
    Admin,
}

impl Scope {
    /// Every scope, in the order documentation lists them.
    pub const ALL: [Scope; 10] = [
        Scope::MembersRead,
        Scope::MembersWrite,
        Scope::PassesRead,
        Scope::PassesWrite,
        Scope::EntriesRead,
        Scope::GatewaysRead,
        Scope::AlarmsRead,
        Scope::AlarmsWrite,
        Scope::CommandsWrite,
        Scope::Admin,
    ];

    /// The name used in tokens, the API and the CLI.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Scope::MembersRead => "members:read",
            Scope::MembersWrite => "members:write",
            Scope::PassesRead => "passes:read",
            Scope::PassesWrite => "passes:write",
            Scope::EntriesRead => "entries:read",
            Scope::GatewaysRead => "gateways:read",
            Scope::AlarmsRead => "alarms:read",
            Scope::AlarmsWrite => "alarms:write",
            Scope::CommandsWrite => "commands:write",
            Scope::Admin => "admin",
        }
    }

    /// The scope with this name.
    pub fn parse(name: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                format!(
                    "`{name}` is not a scope; use one of: {}",
                    Scope::ALL.map(Scope::name).join(", ")
                )
            })
    }
}

/// An operator account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, including accounts, tokens and gateways.
    Admin,
    /// Members, passes, commands; reads everything of their sites.
    Operator,
    /// Reads entries, members, passes, gateways and alarms; changes nothing.
    Auditor,
}

impl Role {
    /// The name stored and typed.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
        }
    }

    /// The role with this name.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "admin" => Ok(Role::Admin),
            "operator" => Ok(Role::Operator),
            "auditor" => Ok(Role::Auditor),
            other => Err(format!(
                "`{other}` is not a role; use admin, operator or auditor"
            )),
        }
    }

    /// The scopes the role grants.
    #[must_use]
    pub fn scopes(self) -> BTreeSet<Scope> {
        let read = [
            Scope::MembersRead,
            Scope::PassesRead,
            Scope::EntriesRead,
            Scope::GatewaysRead,
            Scope::AlarmsRead,
        ];
        match self {
            Role::Admin => Scope::ALL.into_iter().collect(),
            Role::Operator => read
                .into_iter()
                .chain([
                    Scope::MembersWrite,
                    Scope::PassesWrite,
                    Scope::AlarmsWrite,
                    Scope::CommandsWrite,
                ])
                .collect(),
            Role::Auditor => read.into_iter().collect(),
        }
    }
}

/// The sites a principal may see and act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sites {
    /// Every site, present and future.
    All,
    /// Only these.
    Only(BTreeSet<String>),
}

impl Sites {
    /// Parses `*` or a comma-separated list of site ids.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(Sites::All);
        }
        let mut set = BTreeSet::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            bygd_protocol::SiteId::new(part).map_err(|e| format!("site `{part}`: {e}"))?;
            set.insert(part.to_owned());
        }
        if set.is_empty() {
            return Err("give `*` (every site) or at least one site id".to_owned());
        }
        Ok(Sites::Only(set))
    }

    /// Whether `site` is among them.
    #[must_use]
    pub fn contains(&self, site: &str) -> bool {
        match self {
            Sites::All => true,
            Sites::Only(set) => set.contains(site),
        }
    }

    /// Whether every site of `other` is among these.
    #[must_use]
    pub fn covers(&self, other: &Sites) -> bool {
        match (self, other) {
            (Sites::All, _) => true,
            (Sites::Only(_), Sites::All) => false,
            (Sites::Only(mine), Sites::Only(theirs)) => theirs.is_subset(mine),
        }
    }

    /// The explicit list, or `None` for every site (for SQL filters).
    #[must_use]
    pub fn list(&self) -> Option<Vec<String>> {
        match self {
            Sites::All => None,
            Sites::Only(set) => Some(set.iter().cloned().collect()),
        }
    }
}

impl fmt::Display for Sites {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sites::All => f.write_str("*"),
            Sites::Only(set) => f.write_str(&set.iter().cloned().collect::<Vec<_>>().join(",")),
        }
    }
}

/// Who is asking: an account (through a session or the CLI) or an API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// How the audit trail names them: `account:anna`, `token:3f2a…`, `cli:root`.
    pub actor: String,
    /// What they may do.
    pub scopes: BTreeSet<Scope>,
    /// Where.
    pub sites: Sites,
}

/// A principal lacks a scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{actor} lacks the `{}` scope", scope.name())]
pub struct MissingScope {
    /// Who.
    pub actor: String,
    /// What they lack.
    pub scope: Scope,
}

impl Principal {
    /// The operator at the server's own shell (`bygd` commands on the data directory): an
    /// admin of every site, named after the Unix user for the audit trail.
    #[must_use]
    pub fn local_admin() -> Self {
        let user = std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "unknown".to_owned());
        Self {
            actor: format!("cli:{user}"),
            scopes: Role::Admin.scopes(),
            sites: Sites::All,
        }
    }

    /// A member acting through their pass link (enrolling a phone): no scope at all, one
    /// site; the audit trail names the member and the link.
    #[must_use]
    pub fn pass_link(member: &str, site: &str) -> Self {
        Self {
            actor: format!("member:{member} (pass link)"),
            scopes: BTreeSet::new(),
            sites: Sites::Only(BTreeSet::from([site.to_owned()])),
        }
    }

    /// An account with `role` limited to `sites`.
    #[must_use]
    pub fn account(name: &str, role: Role, sites: Sites) -> Self {
        Self {
            actor: format!("account:{name}"),
            scopes: role.scopes(),
            sites,
        }
    }

    /// Checks that the principal holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), MissingScope> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(MissingScope {
                actor: self.actor.clone(),
                scope,
            })
        }
    }

    /// Whether the principal may see `site`.
    #[must_use]
    pub fn sees(&self, site: &str) -> bool {
        self.sites.contains(site)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_auditor_reads_but_cannot_write() {
        let p = Principal::account("eva", Role::Auditor, Sites::All);
        assert!(p.require(Scope::EntriesRead).is_ok());
        assert_eq!(
            p.require(Scope::PassesWrite).unwrap_err().to_string(),
            "account:eva lacks the `passes:write` scope"
        );
    }

    #[test]
    fn an_operator_cannot_administer() {
        let p = Principal::account("olle", Role::Operator, Sites::All);
        assert!(p.require(Scope::CommandsWrite).is_ok());
        assert!(p.require(Scope::Admin).is_err());
    }

    #[test]
    fn site_lists_parse_and_cover() {
        let some = Sites::parse("byn, klit").unwrap();
        assert!(some.contains("byn") && !some.contains("bornholm"));
        assert!(Sites::All.covers(&some));
        assert!(!some.covers(&Sites::All));
        assert!(some.covers(&Sites::parse("klit").unwrap()));
        assert!(Sites::parse("").is_err());
        assert!(Sites::parse("Bad Site").is_err());
        assert_eq!(some.to_string(), "byn,klit");
    }

    #[test]
    fn every_scope_name_parses_back() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.name()), Ok(s));
        }
        assert!(Scope::parse("root").unwrap_err().contains("members:read"));
    }
}
