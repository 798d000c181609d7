//! The change feed: every change to a case, transfer or budget, for other
//! ministry systems to follow without polling everything.
//!
//! Writers record an event on the connection of the change's transaction, so
//! the two commit together. Readers see events in `(txid, id)` order, and only
//! those of transactions older than every transaction still running, so the
//! cursor never moves past an event that has yet to commit.

pub mod handlers;

use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// The statement that records an event for each case row of `rows` — the
/// `cases` table filtered, or a `WITH` query of the rows a statement just
/// wrote, so that a bulk write records its events without reading the cases
/// again — with `action` (a literal or a parameter), in id order.
pub fn case_events_sql(rows: &str, action: &str) -> String {
    format!(
        "INSERT INTO change_events (entity_type, entity_id, action, handling_province, origin_region, source_agency_id, data) \
         SELECT 'case', id, {action}, handling_province, origin_region, source_agency_id, \
                jsonb_build_object('status', status, 'version', version, 'case_number', case_number) \
         FROM {rows} ORDER BY id"
    )
}

/// Records that cases changed (`created`, `updated`, `status_changed`).
pub async fn cases_changed(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    action: &str,
) -> QueryResult<()> {
    diesel::sql_query(case_events_sql("cases WHERE id = ANY($1)", "$2"))
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Text, _>(action)
        .execute(conn)
        .await
        .map(drop)
}

/// Records that a case changed.
pub async fn case_changed(conn: &mut AsyncPgConnection, id: Uuid, action: &str) -> QueryResult<()> {
    cases_changed(conn, &[id], action).await
}

/// Records that a transfer changed.
pub async fn transfer_changed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    action: &str,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO change_events (entity_type, entity_id, action, handling_province, destination_region, \
           receiving_agency_id, out_of_province, data) \
         SELECT 'transfer', id, $2, handling_province, destination_region, receiving_agency_id, \
                destination_province <> handling_province, \
                jsonb_build_object('status', status, 'version', version, 'reference', reference) \
         FROM transfers WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(action)
    .execute(conn)
    .await
    .map(drop)
}

/// Records that a budget changed (its description, status or ledger).
pub async fn budget_changed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    action: &str,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO change_events (entity_type, entity_id, action, budget_source, budget_owner_id, budget_province, data) \
         SELECT 'budget', id, $2, source, owner_agency_id, province_code, \
                jsonb_build_object('status', status, 'fiscal_year', fiscal_year) \
         FROM budgets WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(action)
    .execute(conn)
    .await
    .map(drop)
}
