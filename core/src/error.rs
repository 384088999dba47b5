//! The domain's error type: what went wrong, sorted once into the five kinds a caller acts
//! on differently (try later, ask for something else, fix the input, resolve a conflict,
//! or report a fault), each with a sentence meant for the person who asked.
//!
//! Database errors are sorted here and nowhere else ([`Error::from`] on `sqlx::Error` and
//! on an `anyhow::Error` whose chain holds one): a connection that could not be made or was
//! lost is [`Error::Unavailable`], a unique-constraint violation is [`Error::Conflict`],
//! anything else is [`Error::Internal`]. The HTTP API and the dashboard's server functions
//! each turn an [`Error`] into their answer in one place; only the sentence of the first
//! four kinds reaches a client, never the text of an internal error.

/// What a domain operation failed with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database (or another service the operation needs) cannot be reached now;
    /// nothing was changed. Retrying later may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// What was asked for does not exist (a prediction, a report, a model version).
    #[error("{0}")]
    NotFound(String),
    /// The input is not acceptable; the sentence says what to change.
    #[error("{0}")]
    Invalid(String),
    /// The operation conflicts with what is stored (a duplicate key).
    #[error("{0}")]
    Conflict(String),
    /// A fault: its chain is for the logs, not for clients.
    #[error("internal error")]
    Internal(anyhow::Error),
}

/// A result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The sentence of the database being out of reach, shared by every operation.
    pub const DATABASE_UNAVAILABLE: &'static str = "the database is unavailable; retry later";

    /// An [`Error::Invalid`] with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }

    /// An [`Error::NotFound`] with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::NotFound(message.into())
    }

    /// The text that may be shown to a client: the sentence for the first four kinds, a
    /// fixed "internal error" for [`Error::Internal`].
    pub fn public_message(&self) -> String {
        self.to_string()
    }

    /// The whole chain, for logs (the internal error's causes included).
    pub fn log_message(&self) -> String {
        match self {
            Error::Internal(e) => format!("{e:#}"),
            other => other.to_string(),
        }
    }
}

/// Whether `e` means the database could not be reached or the connection was lost, as
/// opposed to a statement the database refused: I/O, TLS and protocol failures, a pool
/// that timed out or closed, and the server's own shutdown codes (57P01 admin_shutdown,
/// 57P02 crash_shutdown, 57P03 cannot_connect_now).
pub fn is_connection_failure(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed
    ) || matches!(
        e.as_database_error().and_then(|d| d.code()),
        Some(code) if code == "57P01" || code == "57P02" || code == "57P03"
    )
}

/// Whether any cause in `e`'s chain is a database connection failure
/// ([`is_connection_failure`]).
pub fn chain_has_connection_failure(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
        .any(is_connection_failure)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::from(anyhow::Error::from(e))
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        // An Error carried through anyhow keeps its kind.
        let e = match e.downcast::<Error>() {
            Ok(inner) => return inner,
            Err(e) => e,
        };
        if chain_has_connection_failure(&e) {
            tracing::warn!(error = %format!("{e:#}"), "database unavailable");
            return Error::Unavailable(Error::DATABASE_UNAVAILABLE.into());
        }
        let unique = e
            .chain()
            .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
            .any(is_unique_violation);
        if unique {
            return Error::Conflict("it is stored already".into());
        }
        Error::Internal(e)
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Internal(e.into())
    }
}

impl From<chrono::RoundingError> for Error {
    fn from(e: chrono::RoundingError) -> Self {
        Error::Internal(e.into())
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::from(anyhow::Error::from(e).context("applying database migrations"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_unavailable_and_keep_no_detail() {
        let e = Error::from(sqlx::Error::PoolTimedOut);
        assert!(matches!(e, Error::Unavailable(_)));
        assert_eq!(e.public_message(), Error::DATABASE_UNAVAILABLE);
        let wrapped = anyhow::Error::from(sqlx::Error::PoolClosed).context("listing predictions");
        assert!(matches!(Error::from(wrapped), Error::Unavailable(_)));
    }

    #[test]
    fn internal_errors_show_no_internal_text() {
        let e = Error::from(anyhow::anyhow!("relation \"secret_table\" does not exist"));
        assert!(matches!(e, Error::Internal(_)));
        assert_eq!(e.public_message(), "internal error");
        assert!(e.log_message().contains("secret_table"));
    }

    #[test]
    fn kinds_survive_a_trip_through_anyhow() {
        let e = anyhow::Error::from(Error::invalid("`limit` must be at most 500"));
        match Error::from(e) {
            Error::Invalid(m) => assert_eq!(m, "`limit` must be at most 500"),
            other => panic!("kind lost: {other:?}"),
        }
    }
}
