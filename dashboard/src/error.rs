//! The one error type of the dashboard's services, shared by the HTTP API and the CLI.
//!
//! Each variant is something a caller can act on: fix a field, ask for another id, get a
//! scope. Database and internal failures are kept apart so that the API can hide their
//! details from clients while the log keeps them.

use crate::access::MissingScope;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A field of the request is unusable.
    #[error("`{field}`: {problem}")]
    Invalid {
        /// The field, as the API and CLI name it (`until`, `doors`, `schedule`).
        field: String,
        /// What was wrong and what is expected.
        problem: String,
    },
    /// The thing does not exist, or the principal may not see it.
    #[error("{what} `{id}` not found")]
    NotFound {
        /// What was looked for (`member`, `pass`, `gateway`).
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// The request contradicts what is stored (an id taken, a pass already revoked).
    #[error("{0}")]
    Conflict(String),
    /// The principal lacks a scope.
    #[error(transparent)]
    Forbidden(#[from] MissingScope),
    /// The credentials are wrong, expired or revoked.
    #[error("{0}")]
    Unauthenticated(String),
    /// Too many tries (logins from one address or for one account), or too many logins at
    /// once: come back after `retry_after` seconds.
    #[error("{message}")]
    Throttled {
        /// What was throttled and for how long.
        message: String,
        /// Seconds to wait before trying again.
        retry_after: u64,
    },
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Something that should not fail did (a key file, the random number generator).
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// An [`ServiceError::Invalid`] for `field`.
    pub(crate) fn invalid(field: &str, problem: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            problem: problem.into(),
        }
    }

    /// A [`ServiceError::NotFound`].
    pub(crate) fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        Self::NotFound {
            what,
            id: id.into(),
        }
    }
}

impl From<crate::db::DbError> for ServiceError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Query(e) => Self::Db(e),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The result of a service call.
pub type ServiceResult<T> = Result<T, ServiceError>;
