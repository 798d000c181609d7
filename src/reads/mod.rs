//! The read log: every read of a case or person record — one record, a list
//! page, a search, a match list, an export page, a history — with who, when,
//! which operation and which records (for lists and exports, also the filter
//! and the row count). Append-only, like the audit log; system administrators
//! read it through `GET /api/v1/read-log`.
//!
//! Reads are buffered, not written with the read: a handler hands its record to
//! a channel (no database round trip on the read path) and a background task
//! writes the buffer in one statement every second, or at once when 1,000
//! records wait. A crash of the process therefore loses at most the last
//! second of read records; a graceful stop writes the buffer before the pool
//! closes ([`ReadLog::flush`]). When the database is away the buffer is kept
//! and written on the next tick, up to [`MAX_BUFFERED`] records.

pub mod handlers;

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::auth::{Caller, PrincipalKind};
use crate::db::DbPool;

/// How often the buffer is written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Records that trigger a write before the second is up.
const FLUSH_AT: usize = 1000;
/// Records kept while the database cannot be written; older ones are dropped (and logged).
pub const MAX_BUFFERED: usize = 100_000;

crate::text_enum! {
    /// What kind of read was recorded.
    pub enum ReadKind {
        /// `GET /cases/{id}`.
        Case => "case.read",
        /// A page of `GET /cases` without a text search.
        CaseList => "case.list",
        /// A page of `GET /cases?q=…`.
        CaseSearch => "case.search",
        /// A page of rows of a CSV export of cases.
        CaseExport => "case.export",
        /// `GET /cases/{id}/history`.
        CaseHistory => "case.history",
        /// `GET /cases/{id}/matches`.
        CaseMatches => "case.matches",
        /// `GET /persons/{id}`.
        Person => "person.read",
    }
}

/// One read, as recorded.
#[derive(Debug, Clone)]
pub struct ReadRecord {
    occurred_at: DateTime<Utc>,
    principal_id: Uuid,
    principal_kind: &'static str,
    principal_name: String,
    agency_id: Uuid,
    operation: ReadKind,
    case_ids: Vec<Uuid>,
    person_id: Option<Uuid>,
    filter: Option<serde_json::Value>,
    row_count: i32,
    via_grant: bool,
    request_id: Option<String>,
}

/// What was read.
#[derive(Debug, Default)]
pub struct Read {
    /// The case records read.
    pub case_ids: Vec<Uuid>,
    /// The person record read, if any.
    pub person_id: Option<Uuid>,
    /// For lists, searches and exports: the filter, as the caller gave it.
    pub filter: Option<serde_json::Value>,
    /// Read through a break-the-glass grant rather than the caller's scope.
    pub via_grant: bool,
}

/// The query parameters of a list, search or export as a JSON object, for
/// the `filter` of its record (the cursor left out: it says where, not what).
pub fn query_filter(query_string: &str) -> Option<serde_json::Value> {
    let map: serde_json::Map<String, serde_json::Value> =
        form_urlencoded::parse(query_string.as_bytes())
            .filter(|(k, _)| k != "cursor")
            .map(|(k, v)| (k.into_owned(), serde_json::Value::from(v.into_owned())))
            .collect();
    Some(serde_json::Value::Object(map))
}

enum Command {
    Record(Box<ReadRecord>),
    Flush(oneshot::Sender<()>),
}

/// The handle handlers record reads with; cheap to clone.
#[derive(Clone)]
pub struct ReadLog {
    tx: mpsc::UnboundedSender<Command>,
}

impl ReadLog {
    /// Starts the writer on the current Tokio runtime.
    pub fn start(pool: DbPool) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(pool, rx));
        Self { tx }
    }

    /// Records a read by `caller` (buffered; written within a second).
    pub fn record(&self, caller: &Caller, operation: ReadKind, read: Read) {
        let record = ReadRecord {
            occurred_at: Utc::now(),
            principal_id: caller.principal_id,
            principal_kind: match caller.kind {
                PrincipalKind::User => "user",
                PrincipalKind::Client => "client",
            },
            principal_name: caller.name.clone(),
            agency_id: caller.agency_id,
            operation,
            row_count: i32::try_from(read.case_ids.len()).unwrap_or(i32::MAX),
            case_ids: read.case_ids,
            person_id: read.person_id,
            filter: read.filter,
            via_grant: read.via_grant,
            request_id: caller.request_id.clone(),
        };
        if self.tx.send(Command::Record(Box::new(record))).is_err() {
            log::error!("read log writer has stopped; a read of {operation} went unrecorded");
        }
    }

    /// Writes everything recorded so far (for a graceful stop, and for tests).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Command::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

async fn writer(pool: DbPool, mut rx: mpsc::UnboundedReceiver<Command>) {
    let mut buffer: Vec<ReadRecord> = Vec::new();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            command = rx.recv() => match command {
                Some(Command::Record(record)) => {
                    buffer.push(*record);
                    if buffer.len() >= FLUSH_AT {
                        write(&pool, &mut buffer).await;
                    }
                }
                Some(Command::Flush(done)) => {
                    write(&pool, &mut buffer).await;
                    let _ = done.send(());
                }
                None => {
                    write(&pool, &mut buffer).await;
                    return;
                }
            },
            _ = tick.tick() => {
                if !buffer.is_empty() {
                    write(&pool, &mut buffer).await;
                }
            }
        }
    }
}

/// Writes the buffer in one statement; on failure keeps it for the next try.
async fn write(pool: &DbPool, buffer: &mut Vec<ReadRecord>) {
    if buffer.is_empty() {
        return;
    }
    match insert(pool, buffer).await {
        Ok(()) => {
            crate::metrics::reads_recorded(buffer.len());
            buffer.clear()
        }
        Err(e) => {
            log::warn!(
                "read log: {} records not written yet, will retry: {e}",
                buffer.len()
            );
            if buffer.len() > MAX_BUFFERED {
                let dropped = buffer.len() - MAX_BUFFERED;
                buffer.drain(..dropped);
                log::error!("read log: dropped the {dropped} oldest unwritten records");
            }
        }
    }
}

async fn insert(pool: &DbPool, records: &[ReadRecord]) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    // Case ids travel as one text array of `{…}` literals, since PostgreSQL has
    // no arrays of arrays of differing lengths to unnest.
    let case_ids: Vec<String> = records
        .iter()
        .map(|r| {
            let ids: Vec<String> = r.case_ids.iter().map(Uuid::to_string).collect();
            format!("{{{}}}", ids.join(","))
        })
        .collect();
    diesel::sql_query(
        "INSERT INTO read_log (occurred_at, principal_id, principal_kind, principal_name, agency_id, operation, \
           case_ids, person_id, filter, row_count, via_grant, request_id) \
         SELECT u.at, u.pid, u.kind, u.name, u.agency, u.op, u.ids::uuid[], u.person, u.flt, u.n, u.via, u.req \
         FROM unnest($1::timestamptz[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::text[], \
           $7::text[], $8::uuid[], $9::jsonb[], $10::int4[], $11::bool[], $12::text[]) \
           AS u(at, pid, kind, name, agency, op, ids, person, flt, n, via, req)",
    )
    .bind::<Array<Timestamptz>, _>(records.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(records.iter().map(|r| r.principal_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(records.iter().map(|r| r.principal_kind).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(records.iter().map(|r| r.principal_name.as_str()).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(records.iter().map(|r| r.agency_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(records.iter().map(|r| r.operation.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(case_ids)
    .bind::<Array<Nullable<SqlUuid>>, _>(records.iter().map(|r| r.person_id).collect::<Vec<_>>())
    .bind::<Array<Nullable<Jsonb>>, _>(records.iter().map(|r| r.filter.clone()).collect::<Vec<_>>())
    .bind::<Array<Int4>, _>(records.iter().map(|r| r.row_count).collect::<Vec<_>>())
    .bind::<Array<Bool>, _>(records.iter().map(|r| r.via_grant).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(records.iter().map(|r| r.request_id.clone()).collect::<Vec<_>>())
    .execute(&mut conn)
    .await?;
    Ok(())
}
