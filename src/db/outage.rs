//! Telling the ways of losing the database apart, so that each answers 503
//! with a detail that says which, and none is mistaken for a bug (500).
//!
//! diesel-async reports PostgreSQL errors with a kind only for a few
//! SQLSTATEs (read-only 25006 is one); every other server error arrives as
//! `Unknown` with PostgreSQL's message, and a socket that broke arrives as
//! `UnableToSendCommand` with tokio-postgres' message. The classification
//! below therefore reads PostgreSQL's message texts (English, as the server
//! sends them with `lc_messages=C`, the default of `initdb --no-locale` and of
//! the official container image).

use diesel::result::{DatabaseErrorKind, Error};
use diesel_async::pooled_connection::deadpool::PoolError;

/// Why the database cannot serve this request now. Every outage is a 503
/// with `Retry-After`; the request can be sent again unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// The server refused the connection, or the connection broke.
    Unreachable,
    /// The server is shutting down, restarting or recovering from a crash
    /// (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now).
    Restarting,
    /// The server accepts only reads (25006), during a failover or maintenance.
    ReadOnly,
    /// Every pooled connection is in use and none came free in time.
    Busy,
    /// A statement ran past `PULANG_STATEMENT_TIMEOUT_MS` (or the report limit).
    StatementTimeout,
    /// A lock was not granted within `PULANG_LOCK_TIMEOUT_MS` (55P03).
    LockTimeout,
    /// A transaction sat idle past `PULANG_IDLE_IN_TRANSACTION_TIMEOUT_MS` (25P03).
    IdleInTransaction,
}

impl Outage {
    /// The `reason` member of the problem document.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Unreachable => "unreachable",
            Self::Restarting => "restarting",
            Self::ReadOnly => "read_only",
            Self::Busy => "busy",
            Self::StatementTimeout => "statement_timeout",
            Self::LockTimeout => "lock_timeout",
            Self::IdleInTransaction => "idle_in_transaction_timeout",
        }
    }

    /// What the client is told.
    pub fn detail(self) -> &'static str {
        match self {
            Self::Unreachable => "the database cannot be reached; try again shortly",
            Self::Restarting => "the database is restarting or recovering; try again shortly",
            Self::ReadOnly => {
                "the database accepts only reads at the moment (failover or maintenance); \
                 this change was not made; try again later"
            }
            Self::Busy => "every database connection is busy; try again shortly",
            Self::StatementTimeout => {
                "a database statement ran longer than the statement timeout \
                 (PULANG_STATEMENT_TIMEOUT_MS, or PULANG_REPORT_STATEMENT_TIMEOUT_MS for reports \
                 and exports) and was cancelled; nothing was changed"
            }
            Self::LockTimeout => {
                "a record is locked by another change longer than the lock timeout \
                 (PULANG_LOCK_TIMEOUT_MS); nothing was changed; try again shortly"
            }
            Self::IdleInTransaction => {
                "the database ended a transaction left idle longer than \
                 PULANG_IDLE_IN_TRANSACTION_TIMEOUT_MS; nothing was changed"
            }
        }
    }

    /// Seconds a client should wait before sending the request again.
    pub fn retry_after(self) -> u64 {
        match self {
            Self::Unreachable | Self::Restarting => 5,
            Self::ReadOnly => 30,
            Self::Busy | Self::LockTimeout | Self::IdleInTransaction => 2,
            Self::StatementTimeout => 10,
        }
    }

    /// The outage behind a query error, if it is one.
    pub fn of_query(error: &Error) -> Option<Self> {
        match error {
            Error::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => Some(Self::ReadOnly),
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => Some(Self::Unreachable),
            Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info) => {
                of_message(info.message()).or_else(|| socket_broke(info.message()))
            }
            Error::DatabaseError(_, info) => of_message(info.message()),
            _ => None,
        }
    }

    /// The outage behind a failed checkout from the pool: it always is one.
    pub fn of_pool(error: &PoolError) -> Self {
        use deadpool::managed::TimeoutType;
        match error {
            PoolError::Timeout(TimeoutType::Wait) => Self::Busy,
            PoolError::Backend(e) => of_message(&e.to_string()).unwrap_or(Self::Unreachable),
            _ => Self::Unreachable,
        }
    }
}

/// PostgreSQL's messages for the SQLSTATEs that mean "not now".
fn of_message(message: &str) -> Option<Outage> {
    const TABLE: &[(&str, Outage)] = &[
        // 57P01 (fast shutdown, pg_terminate_backend)
        (
            "terminating connection due to administrator command",
            Outage::Restarting,
        ),
        // 57P02
        (
            "terminating connection because of crash of another server process",
            Outage::Restarting,
        ),
        // 57P03: "… is starting up", "… is shutting down", "… is in recovery mode", "… not yet accepting connections"
        ("the database system is", Outage::Restarting),
        (
            "canceling statement due to conflict with recovery",
            Outage::Restarting,
        ),
        // 57014
        (
            "canceling statement due to statement timeout",
            Outage::StatementTimeout,
        ),
        // 55P03
        (
            "canceling statement due to lock timeout",
            Outage::LockTimeout,
        ),
        // 25P03
        ("idle-in-transaction timeout", Outage::IdleInTransaction),
        // 53300
        ("too many clients already", Outage::Busy),
        ("remaining connection slots are reserved", Outage::Busy),
    ];
    TABLE
        .iter()
        .find(|(text, _)| message.contains(text))
        .map(|(_, outage)| *outage)
}

/// tokio-postgres' messages for a socket that closed or failed.
fn socket_broke(message: &str) -> Option<Outage> {
    [
        "connection closed",
        "error communicating with the server",
        "timeout waiting for server",
    ]
    .iter()
    .any(|text| message.contains(text))
    .then_some(Outage::Unreachable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(message: &str) -> Error {
        Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()))
    }

    #[test]
    fn a_closed_socket_reported_as_unable_to_send_is_unreachable() {
        let error = Error::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand,
            Box::new("connection closed".to_owned()),
        );
        assert_eq!(Outage::of_query(&error), Some(Outage::Unreachable));
    }

    #[test]
    fn a_protocol_error_that_is_a_bug_stays_a_bug() {
        let error = Error::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand,
            Box::new("error serializing parameter 3".to_owned()),
        );
        assert_eq!(Outage::of_query(&error), None);
    }

    #[test]
    fn admin_shutdown_and_crash_recovery_are_restarts() {
        for message in [
            "terminating connection due to administrator command",
            "the database system is starting up",
            "the database system is in recovery mode",
            "the database system is shutting down",
            "terminating connection because of crash of another server process",
        ] {
            assert_eq!(
                Outage::of_query(&unknown(message)),
                Some(Outage::Restarting),
                "{message}"
            );
        }
    }

    #[test]
    fn each_time_limit_is_named() {
        assert_eq!(
            Outage::of_query(&unknown("canceling statement due to statement timeout")),
            Some(Outage::StatementTimeout)
        );
        assert_eq!(
            Outage::of_query(&unknown("canceling statement due to lock timeout")),
            Some(Outage::LockTimeout)
        );
        assert_eq!(
            Outage::of_query(&unknown(
                "terminating connection due to idle-in-transaction timeout"
            )),
            Some(Outage::IdleInTransaction)
        );
    }

    #[test]
    fn a_read_only_transaction_is_read_only() {
        let error = Error::DatabaseError(
            DatabaseErrorKind::ReadOnlyTransaction,
            Box::new("cannot execute INSERT in a read-only transaction".to_owned()),
        );
        assert_eq!(Outage::of_query(&error), Some(Outage::ReadOnly));
    }

    #[test]
    fn other_database_errors_are_not_outages() {
        assert_eq!(Outage::of_query(&unknown("division by zero")), None);
        assert_eq!(Outage::of_query(&Error::NotFound), None);
    }

    #[test]
    fn a_pool_that_waited_in_vain_is_busy_not_down() {
        let error = PoolError::Timeout(deadpool::managed::TimeoutType::Wait);
        assert_eq!(Outage::of_pool(&error), Outage::Busy);
        let error = PoolError::Timeout(deadpool::managed::TimeoutType::Create);
        assert_eq!(Outage::of_pool(&error), Outage::Unreachable);
    }
}
