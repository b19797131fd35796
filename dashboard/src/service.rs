//! The dashboard's state and the pieces every service shares: the store, the issuer key, the
//! clock, the audit trail and the wake-up for the MQTT publisher.
//!
//! Service calls live with their noun: [`Dashboard::members`] gives the members service of
//! `member.rs`, [`Dashboard::passes`] the passes of `pass.rs`, and so on; each borrows this
//! state. The HTTP API and the CLI are thin layers over them. Invariant: every write records who
//! made it in the audit trail, in the same transaction as the write.

use crate::access::{Principal, Role, Sites};
use crate::account::Accounts;
use crate::alarm::Alarms;
use crate::clock::Clock;
use crate::command::Commands;
use crate::config::{DashboardConfig, CONFIG_FILE, ISSUER_KEY_FILE};
use crate::db::{Backend, Db};
use crate::entry::Entries;
use crate::error::{ServiceError, ServiceResult};
use crate::gateway::Gateways;
use crate::member::Members;
use crate::pass::Passes;
use crate::revocation::RevocationLists;
use crate::site::SiteDirectory;
use crate::token::Tokens;
use bygd_protocol::SecretKey;
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A transaction on the store.
pub(crate) type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// The dashboard: cheap to clone, shared by the API handlers, the ingest and the CLI.
#[derive(Clone)]
pub struct Dashboard {
    /// The SQL store.
    pub(crate) db: Db,
    /// The issuer key: signs passes, revocation lists, commands and acks.
    pub(crate) issuer: Arc<SecretKey>,
    /// Woken after a command or revocation list is queued, so the MQTT publisher sends it
    /// at once instead of at its next poll.
    pub(crate) outbox: Arc<tokio::sync::Notify>,
    /// The base URL of pass links.
    pub(crate) public_url: String,
    /// Whether the MQTT link is connected (for the health check).
    pub(crate) link_up: Arc<std::sync::atomic::AtomicBool>,
    /// Login throttling and the queue that keeps password hashing off the async workers.
    pub(crate) logins: Arc<crate::throttle::LoginGuard>,
    /// Counts changes the overview shows (entries stored, a gateway's status, alarms, command
    /// results); the web UI's live pages wait on it. It carries no data, so a page re-reads
    /// what its viewer may see.
    pub(crate) changes: Arc<tokio::sync::watch::Sender<u64>>,
    /// The MQTT broker's URL, when the link runs (for gateway configs).
    pub(crate) broker_url: Option<String>,
    /// Where every service reads the time: the system clock, or a manual one in tests.
    pub(crate) clock: Clock,
    /// Woken after a pass mail is queued, so the mail sender sends it at once.
    pub(crate) mail_wake: Arc<tokio::sync::Notify>,
    /// The mail relay (`[smtp]`), when configured: `serve` runs a sender through it.
    pub(crate) smtp: Option<Arc<crate::config::DashboardSmtp>>,
    /// What the dashboard counts as it works, for `GET /metrics`.
    pub(crate) counters: Arc<crate::metrics::Counters>,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Dashboard")
            .field("issuer", &self.issuer.id().to_string())
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// What `bygd init` made.
#[derive(Debug)]
pub struct Initialised {
    /// The data directory.
    pub dir: PathBuf,
    /// The issuer's public key, 64 hex digits (gateways pin it).
    pub issuer_public_key: String,
    /// Its key id.
    pub issuer_key_id: String,
    /// The first admin's name.
    pub admin: String,
    /// Their generated password (shown once, stored only as an argon2id hash).
    pub password: String,
}

/// `n` random bytes from the OS.
pub(crate) fn random_bytes<const N: usize>() -> ServiceResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        ServiceError::Internal(format!("the system random number generator failed: {e}"))
    })?;
    Ok(bytes)
}

/// A random id as 32 hex digits.
pub(crate) fn random_hex_id() -> ServiceResult<String> {
    Ok(hex::encode(random_bytes::<16>()?))
}

/// SHA-256 of `text` as hex: how secrets (tokens, session ids, link secrets) are kept.
pub(crate) fn secret_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// An SQL condition limiting `column` to the sites a principal sees (empty for every site),
/// numbering its parameters from `$first`; bind the returned sites in order after the
/// query's own parameters. Filtering in SQL keeps `LIMIT` honest for site-limited callers.
pub(crate) fn site_condition(who: &Principal, column: &str, first: usize) -> (String, Vec<String>) {
    match who.sites.list() {
        None => (String::new(), Vec::new()),
        Some(sites) => {
            let marks: Vec<String> = (0..sites.len())
                .map(|i| format!("${}", first + i))
                .collect();
            (format!(" AND {column} IN ({})", marks.join(", ")), sites)
        }
    }
}

/// Splits a comma-separated list, dropping blanks.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Dashboard {
    /// The dashboard over an open store, with its issuer key.
    #[must_use]
    pub fn new(db: Db, issuer: SecretKey, public_url: String) -> Self {
        Self {
            db,
            issuer: Arc::new(issuer),
            outbox: Arc::new(tokio::sync::Notify::new()),
            public_url,
            link_up: Arc::default(),
            logins: Arc::new(crate::throttle::LoginGuard::new(
                &crate::throttle::LoginLimits::default(),
            )),
            changes: Arc::new(tokio::sync::watch::Sender::new(0)),
            broker_url: None,
            clock: Clock::system(),
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            smtp: None,
            counters: Arc::default(),
        }
    }

    /// Tells the live pages that what they show may have changed.
    pub(crate) fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that wakes at each change the overview shows.
    #[must_use]
    pub fn watch_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Opens the data directory made by `bygd init`; `database` overrides the config's URL.
    /// A directory made by an older version, with world-readable modes, is tightened (see
    /// [`crate::files`]); where that is not allowed a warning says so.
    pub async fn open(
        dir: &Path,
        database: Option<&str>,
    ) -> anyhow::Result<(Self, DashboardConfig)> {
        use anyhow::Context as _;
        let mut config = DashboardConfig::load(dir)?;
        crate::files::tighten_data_dir(dir, &[CONFIG_FILE, ISSUER_KEY_FILE]);
        if let Some(url) = database {
            config.database = url.to_owned();
        }
        let issuer = bygd_link::read_key(&dir.join(ISSUER_KEY_FILE))
            .with_context(|| format!("the issuer key in {}", dir.display()))?;
        let db = Db::connect(&config.database).await?;
        let public_url = config.public_url();
        let dashboard = Self::new(db, issuer, public_url);
        let dashboard = match &config.smtp {
            Some(smtp) => dashboard.with_smtp(smtp.clone()),
            None => dashboard,
        };
        Ok((dashboard, config))
    }

    /// `bygd init`: a new data directory (mode 0700) with its config, issuer key and SQLite
    /// database (mode 0600 each, whatever the umask) and first admin account. Refuses a
    /// directory that already holds a dashboard.
    pub async fn init(
        dir: &Path,
        database: Option<&str>,
        admin: &str,
    ) -> anyhow::Result<(Self, Initialised)> {
        use anyhow::Context as _;
        if dir.join(CONFIG_FILE).exists() || dir.join(ISSUER_KEY_FILE).exists() {
            anyhow::bail!(
                "{} already holds a dashboard (it has {CONFIG_FILE} or {ISSUER_KEY_FILE}); \
                 use it with `bygd serve --data {}`, or give `--data` a new directory",
                dir.display(),
                dir.display()
            );
        }
        crate::files::create_private_dir(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let dir = std::fs::canonicalize(dir)?;
        let mut config = DashboardConfig::for_data_dir(&dir);
        if let Some(url) = database {
            config.database = url.to_owned();
        }
        config.check(&dir.join(CONFIG_FILE))?;
        let db = Db::connect(&config.database).await?;
        let issuer = bygd_link::generate_key(&dir.join(ISSUER_KEY_FILE))?;
        crate::files::write_private(&dir.join(CONFIG_FILE), config.to_toml().as_bytes())
            .with_context(|| format!("cannot write {}", dir.join(CONFIG_FILE).display()))?;
        let public_url = config.public_url();
        let dashboard = Self::new(db, issuer, public_url);
        let password = crate::account::generate_password()?;
        dashboard
            .accounts()
            .add(
                &Principal::local_admin(),
                admin,
                Role::Admin,
                &Sites::All,
                &password,
            )
            .await?;
        let issuer = &dashboard.issuer;
        let done = Initialised {
            dir,
            issuer_public_key: issuer.public_key().to_hex(),
            issuer_key_id: issuer.id().to_string(),
            admin: admin.to_owned(),
            password,
        };
        Ok((dashboard, done))
    }

    /// The same dashboard with other login limits (tests and benchmarks; `bygd serve` uses the
    /// defaults).
    #[must_use]
    pub fn with_login_limits(mut self, limits: &crate::throttle::LoginLimits) -> Self {
        self.logins = std::sync::Arc::new(crate::throttle::LoginGuard::new(limits));
        self
    }

    /// The same dashboard reading the time from `clock` (tests pass a [`Clock::manual`] and
    /// move it on; `bygd serve` uses the system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock every service reads the time from.
    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, in Unix seconds, by [`Dashboard::clock`].
    #[must_use]
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Whether the MQTT link is connected now.
    #[must_use]
    pub fn link_connected(&self) -> bool {
        self.link_up.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The same dashboard with pass links built on `url` (`http://host:port`): for a
    /// caller that chose the listening address after `init` (the demo).
    #[must_use]
    pub fn with_public_url(mut self, url: String) -> Self {
        self.public_url = url;
        self
    }

    /// The dashboard with the broker its gateways use (`serve` sets it from its link), for
    /// the gateway configs the web UI hands out.
    #[must_use]
    pub fn with_broker_url(mut self, url: String) -> Self {
        self.broker_url = Some(url);
        self
    }

    /// The dashboard with a mail relay: `serve` then sends queued pass mail through it.
    #[must_use]
    pub fn with_smtp(mut self, smtp: crate::config::DashboardSmtp) -> Self {
        self.smtp = Some(Arc::new(smtp));
        self
    }

    /// Whether a mail relay is configured (mail queued without one waits until there is).
    #[must_use]
    pub fn mail_configured(&self) -> bool {
        self.smtp.is_some()
    }

    /// Tells the mail sender that a mail was queued.
    pub(crate) fn wake_mailer(&self) {
        self.mail_wake.notify_one();
    }

    /// The issuer's public key (64 hex digits).
    #[must_use]
    pub fn issuer_public_key(&self) -> String {
        self.issuer.public_key().to_hex()
    }

    /// A transaction that will write: on SQLite it takes the write lock at once, so that two
    /// processes never deadlock upgrading read locks (the loser would fail instead of wait).
    pub(crate) async fn begin_write(&self) -> ServiceResult<Tx> {
        Ok(match self.db.backend {
            Backend::Sqlite => self.db.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.db.pool.begin().await?,
        })
    }

    /// Records a write in the audit trail, inside the write's transaction.
    pub(crate) async fn record(
        &self,
        tx: &mut Tx,
        who: &Principal,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> ServiceResult<()> {
        sqlx::query(
            "INSERT INTO audit_trail (id, at, actor, action, target, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(random_hex_id()?)
        .bind(self.now())
        .bind(who.actor.clone())
        .bind(action.to_owned())
        .bind(target.to_owned())
        .bind(detail.to_string())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The audit trail, newest first (admins only).
    pub async fn trail(
        &self,
        who: &Principal,
        limit: i64,
    ) -> ServiceResult<Vec<serde_json::Value>> {
        who.require(crate::access::Scope::Admin)?;
        if who.sites != Sites::All {
            // The trail names members and sites of the whole network.
            return Err(ServiceError::Conflict(format!(
                "the audit trail covers every site; {} is an admin of some sites only",
                who.actor
            )));
        }
        let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
            "SELECT at, actor, action, target, detail FROM audit_trail ORDER BY at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at, actor, action, target, detail)| {
                serde_json::json!({
                    "at": crate::timetext::rfc3339(at),
                    "actor": actor,
                    "action": action,
                    "target": target,
                    "detail": serde_json::from_str::<serde_json::Value>(&detail).unwrap_or_default(),
                })
            })
            .collect())
    }
}

/// The services by noun: each borrows the shared state and owns its noun's calls, so
/// "revoke a pass" is `dashboard.passes().revoke(who, id)`, found in `pass.rs`.
impl Dashboard {
    /// Sites (`site.rs`).
    #[must_use]
    pub fn sites(&self) -> SiteDirectory<'_> {
        SiteDirectory { dashboard: self }
    }

    /// Members (`member.rs`).
    #[must_use]
    pub fn members(&self) -> Members<'_> {
        Members { dashboard: self }
    }

    /// Idempotency keys of the API's creating calls.
    pub(crate) fn idempotency(&self) -> crate::idempotency::Idempotency<'_> {
        crate::idempotency::Idempotency { dashboard: self }
    }

    /// Passes (`pass.rs`).
    #[must_use]
    pub fn passes(&self) -> Passes<'_> {
        Passes { dashboard: self }
    }

    /// Gateways (`gateway.rs`).
    #[must_use]
    pub fn gateways(&self) -> Gateways<'_> {
        Gateways { dashboard: self }
    }

    /// Commands to gateways (`command.rs`).
    #[must_use]
    pub fn commands(&self) -> Commands<'_> {
        Commands { dashboard: self }
    }

    /// Entries and the audit query (`entry.rs`).
    #[must_use]
    pub fn entries(&self) -> Entries<'_> {
        Entries { dashboard: self }
    }

    /// Alarms (`alarm.rs`).
    #[must_use]
    pub fn alarms(&self) -> Alarms<'_> {
        Alarms { dashboard: self }
    }

    /// Operator accounts, sessions and credential checks (`account.rs`).
    #[must_use]
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts { dashboard: self }
    }

    /// API tokens (`token.rs`).
    #[must_use]
    pub fn tokens(&self) -> Tokens<'_> {
        Tokens { dashboard: self }
    }

    /// Revocation lists (`revocation.rs`, `revocation_lag.rs`).
    #[must_use]
    pub fn revocation_lists(&self) -> RevocationLists<'_> {
        RevocationLists { dashboard: self }
    }
}
