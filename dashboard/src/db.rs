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
        "revocation lag",
        include_str!("../migrations/0002_revocation_lag.sql"),
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
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let (backend, sqlx_url) = parse_url(url)?;
        let connect_error = |source| DbError::Connect {
            url: redact_url(url),
            source,
        };
        if backend == Backend::Sqlite {
            // WAL is a property of the file: set it once, alone, because switching needs an
            // exclusive lock that a pool's concurrent connections could not get.
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
                                 PRAGMA synchronous = FULL"
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
        let migrations = MIGRATIONS
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
        Ok(Self { pool, backend })
    }

    /// Closes every connection (waits for running queries).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now, in Unix seconds, from the system clock.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
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
}
