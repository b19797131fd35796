//! The SQL store: one connection pool over SQLite (embedded, the default) or PostgreSQL,
//! with one schema and one set of migrations for both (`migrations/`).
//!
//! Queries use `$1`-style placeholders, which both backends accept, and only the column types
//! both share (`TEXT`, `BIGINT`). Invariant: a [`Db`] that exists has run every migration.
//! SQLite runs in WAL mode with `synchronous = FULL`, so a committed transaction survives a
//! power cut: the dashboard acks events to a gateway only after their commit.

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, ConnectOptions as _, Connection as _, Executor as _};
use std::borrow::Cow;
use std::str::FromStr as _;
use std::time::Duration;

/// Connections in the pool: SQLite has one writer at a time anyway; PostgreSQL gains from a
/// few more for concurrent API readers.
const SQLITE_POOL: u32 = 4;
const POSTGRES_POOL: u32 = 8;

/// How long a connection waits for another writer (another `bygd` process on the same SQLite
/// file) before giving up: CLI commands beside a busy `bygd serve` must not fail.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

/// How long to wait for a free connection before reporting the database as unreachable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The migrations, embedded so that the binary needs no files beside it.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial schema",
        include_str!("../migrations/0001_initial.sql"),
    ),
    (
        2,
        "forget stored pass QR texts",
        include_str!("../migrations/0002_forget_qr_texts.sql"),
    ),
    (
        3,
        "revocation lag",
        include_str!("../migrations/0003_revocation_lag.sql"),
    ),
    (
        4,
        "web ui: account language, alarm acknowledgements",
        include_str!("../migrations/0004_web_ui.sql"),
    ),
    (
        5,
        "sites: name, address, language",
        include_str!("../migrations/0005_sites.sql"),
    ),
    (
        6,
        "pass app: device enrolment, replaced passes, sites requiring device keys",
        include_str!("../migrations/0006_pass_app.sql"),
    ),
    (
        7,
        "mail outbox for pass links, member language",
        include_str!("../migrations/0007_mail.sql"),
    ),
    (
        8,
        "idempotency keys",
        include_str!("../migrations/0008_idempotency.sql"),
    ),
    (
        9,
        "webhooks",
        include_str!("../migrations/0009_webhooks.sql"),
    ),
];

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Why the database could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is neither `sqlite:` nor `postgres:`.
    #[error("database URL `{0}` is not supported: use sqlite:PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// The database did not answer or refused us.
    #[error("cannot open the database {url}: {source}")]
    Connect {
        /// The URL, without its password.
        url: String,
        /// What sqlx said.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// The store.
#[derive(Debug, Clone)]
pub struct Db {
    /// The pool; every query goes through it.
    pub(crate) pool: AnyPool,
    /// Which backend, for the few places where SQL differs (none in queries today).
    pub(crate) backend: Backend,
}

/// A URL with any password replaced, for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The backend a URL names, and the URL as sqlx wants it (an SQLite file is created if
/// missing).
fn parse_url(url: &str) -> Result<(Backend, String), DbError> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        if path.is_empty() {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        }
        let mode = if path.contains('?') { "" } else { "?mode=rwc" };
        Ok((Backend::Sqlite, format!("sqlite://{path}{mode}")))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Backend::Postgres, url.to_owned()))
    } else {
        Err(DbError::UnsupportedUrl(redact_url(url)))
    }
}

impl Db {
    /// Opens the database at `url` (`sqlite:PATH` or `postgres://…`), creating an SQLite file
    /// if needed, and runs the migrations.
    ///
    /// An SQLite file, its `-wal` and `-shm` files are made owner-only (0600) whatever the
    /// umask: they hold members' names and every entry. Connections run with
    /// `secure_delete`, so deleted or overwritten content (revoked tokens, the QR texts the
    /// second migration removes) is zeroed rather than left in free pages.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_with(url, MIGRATIONS).await
    }

    /// [`Self::connect`] with the first `migrations` only (tests of a migration).
    async fn connect_with(
        url: &str,
        migrations: &[(i64, &'static str, &'static str)],
    ) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let (backend, sqlx_url) = parse_url(url)?;
        let connect_error = |source| DbError::Connect {
            url: redact_url(url),
            source,
        };
        if backend == Backend::Sqlite {
            // WAL is a property of the file: set it once, alone, because switching needs an
            // exclusive lock that a pool's concurrent connections could not get.
            restrict_sqlite_files(&sqlx_url);
            let options = AnyConnectOptions::from_str(&sqlx_url).map_err(connect_error)?;
            let mut conn = options.connect().await.map_err(connect_error)?;
            conn.execute(format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}").as_str())
                .await?;
            conn.execute("PRAGMA journal_mode = WAL").await?;
            conn.close().await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => SQLITE_POOL,
                Backend::Postgres => POSTGRES_POOL,
            })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            format!(
                                "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                                 PRAGMA synchronous = FULL; PRAGMA secure_delete = ON"
                            )
                            .as_str(),
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&sqlx_url)
            .await
            .map_err(connect_error)?;
        // Whether this start removes stored QR texts (migration 2): then the WAL is emptied
        // afterwards, because its older frames still hold them.
        let forgets_qr_texts = backend == Backend::Sqlite
            && sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM pragma_table_info('passes') WHERE name = 'qr_text'",
            )
            .fetch_one(&pool)
            .await?
                > 0;
        let migrations = migrations
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect::<Vec<_>>();
        let mut migrator = Migrator::DEFAULT;
        migrator.migrations = Cow::Owned(migrations);
        migrator.run(&pool).await?;
        if forgets_qr_texts && migrations_include(&migrator, 2) {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&pool)
                .await?;
        }
        if backend == Backend::Sqlite {
            // Tightens -wal and -shm of a database made by an older version.
            restrict_sqlite_files(&sqlx_url);
        }
        Ok(Self { pool, backend })
    }

    /// Closes every connection (waits for running queries).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether `migrator` holds migration `version`.
fn migrations_include(migrator: &Migrator, version: i64) -> bool {
    migrator.iter().any(|m| m.version == version)
}

/// Makes the SQLite file an `sqlite://PATH?…` URL (as [`parse_url`] makes it) names, and its
/// `-wal` and `-shm`, owner-only (see [`crate::files`]); a failure is a warning, because the
/// file may belong to another account that lets this one write it.
fn restrict_sqlite_files(sqlx_url: &str) {
    let rest = sqlx_url.strip_prefix("sqlite://").unwrap_or(sqlx_url);
    let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
    if path.starts_with(':') || options.contains("mode=memory") || options.contains("mode=ro") {
        return;
    }
    if let Err(e) = crate::files::restrict_sqlite_files(std::path::Path::new(path)) {
        tracing::warn!(path, error = %e,
            "cannot make the database owner-only; others on this machine may read it");
    }
}

/// A `u64` from the wire as the `BIGINT` SQL stores (sequence numbers and times stay far
/// below 2^63 in practice; larger values are clamped rather than wrapped).
pub(crate) fn to_sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A stored `BIGINT` as the `u64` the protocol uses (negative values never come from us).
pub(crate) fn from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_a_database_url_is_never_shown() {
        assert_eq!(
            redact_url("postgres://bygd:s3cret@db.example.org/bygd"),
            "postgres://bygd:***@db.example.org/bygd"
        );
        assert_eq!(
            redact_url("postgres://bygd@db/bygd"),
            "postgres://bygd@db/bygd"
        );
        assert_eq!(redact_url("sqlite:/var/lib/x.db"), "sqlite:/var/lib/x.db");
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_with_the_accepted_forms() {
        let e = parse_url("mysql://u:pw@h/db").unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("sqlite:PATH") && !text.contains("pw"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_fresh_sqlite_file_is_created_and_migrated_twice_without_harm() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("d.db").display());
        let db = Db::connect(&url).await.unwrap();
        db.close().await;
        let db = Db::connect(&url).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM gateways")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(n, 0);
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    /// Whether any file in `dir` holds `needle`.
    fn files_holding(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            // A file SQLite removed meanwhile (a journal) holds nothing any more.
            .filter(|p| {
                std::fs::read(p).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            })
            .map(|p| p.display().to_string())
            .collect()
    }

    #[tokio::test]
    async fn an_old_database_forgets_its_stored_qr_texts_down_to_the_bytes_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("d.db").display());
        // A database of the first schema, which stored each pass's QR text.
        let old = Db::connect_with(&url, &MIGRATIONS[..1]).await.unwrap();
        let secret = "BYGD1:THE-QR-TEXT-OF-A-PASS-THAT-OPENS-DOORS-0123456789";
        sqlx::query(
            "INSERT INTO passes (id, member, site, doors, kind, not_before, expires, qr_text, \
             page_token, issued_at, issued_by) \
             VALUES ('00', 'anna', 'byn', '', 'member', 0, 1, $1, 'tok', 0, 'admin')",
        )
        .bind(secret)
        .execute(&old.pool)
        .await
        .unwrap();
        old.close().await;
        assert!(
            !files_holding(dir.path(), secret.as_bytes()).is_empty(),
            "the old schema kept the text in the file"
        );

        let db = Db::connect(&url).await.unwrap();
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info('passes')")
                .fetch_all(&db.pool)
                .await
                .unwrap();
        assert!(!columns.contains(&"qr_text".to_owned()), "{columns:?}");
        assert!(columns.contains(&"page_token".to_owned()), "{columns:?}");
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passes")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(kept, 1, "the pass itself stays");
        // While the dashboard runs (WAL and all) and after it stops, no byte of any file
        // of the database holds the text.
        let holding = files_holding(dir.path(), secret.as_bytes());
        assert!(holding.is_empty(), "still in {holding:?}");
        db.close().await;
        let holding = files_holding(dir.path(), secret.as_bytes());
        assert!(holding.is_empty(), "still in {holding:?}");
    }

    #[tokio::test]
    async fn a_site_made_before_sites_had_names_is_named_after_its_id_and_speaks_english() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("d.db").display());
        let old = Db::connect_with(&url, &MIGRATIONS[..4]).await.unwrap();
        sqlx::query(
            "INSERT INTO sites (id, time_zone, created_at) VALUES ('byn', 'Europe/Stockholm', 0)",
        )
        .execute(&old.pool)
        .await
        .unwrap();
        old.close().await;
        let db = Db::connect(&url).await.unwrap();
        let row: (String, Option<String>, String, String) =
            sqlx::query_as("SELECT name, address, time_zone, language FROM sites WHERE id = 'byn'")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(
            row,
            (
                "byn".to_owned(),
                None,
                "Europe/Stockholm".to_owned(),
                "en".to_owned()
            )
        );
        db.close().await;
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_sqlite_database_and_its_wal_and_shm_are_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        let db = Db::connect(&format!("sqlite:{}", path.display()))
            .await
            .unwrap();
        sqlx::query("INSERT INTO sites (id, time_zone, created_at) VALUES ('byn', 'UTC', 0)")
            .execute(&db.pool)
            .await
            .unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{}{suffix}", path.display());
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file} has mode {mode:o}");
        }
        db.close().await;
    }
}
