//! One recorded change: the audit entry, the change-feed events and, for
//! cases, the history entries, written together.
//!
//! Every write builds one [`Change`] — who did it, what they did to which
//! record, and every case, transfer and budget the write touched on the way —
//! and hands it to [`record`] on the connection of the write's transaction, so
//! the data and its record commit together or not at all. This is the only
//! place that writes the audit log, the change feed and case history for a
//! single write: the constructors make the audit entry mandatory, and a case
//! touched is always a history entry *and* a feed event, so neither can be
//! forgotten. Set-based writes (the bulk push, recounted repeat returns)
//! build the same rows in SQL with [`bulk`].
//!
//! A test (`tests/api/changes.rs`) walks every write operation of the API and
//! checks all three.

use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use crate::audit::{Actor, Entry};
use crate::schema::{audit_events, case_history};

/// What a case's history entry (and its feed event) records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryAction {
    /// The case was recorded.
    Created,
    /// Fields changed.
    Updated,
    /// The status changed.
    StatusChanged,
    /// The case was linked to another identity (a wrong NIK or passport corrected).
    IdentityCorrected,
    /// The case's identity was merged with another found to be the same person.
    IdentityMerged,
    /// The case was split from its identity into a new one.
    IdentitySplit,
    /// The returnee's consent to share their data was recorded.
    ConsentRecorded,
    /// A report was detached from the case into a case of its own.
    ReportDetached,
    /// A possible duplicate was confirmed: another case was merged into this one.
    DuplicateMerged,
    /// A possible duplicate was dismissed: the two cases are two returns.
    DuplicateDismissed,
}

impl HistoryAction {
    /// The action's name in the history and the change feed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::StatusChanged => "status_changed",
            Self::IdentityCorrected => "identity_corrected",
            Self::IdentityMerged => "identity_merged",
            Self::IdentitySplit => "identity_split",
            Self::ConsentRecorded => "consent_recorded",
            Self::ReportDetached => "report_detached",
            Self::DuplicateMerged => "duplicate_merged",
            Self::DuplicateDismissed => "duplicate_dismissed",
        }
    }
}

/// One entry of a case's history; recording it also tells the change feed.
#[derive(Debug, Clone)]
pub struct CaseEntry {
    /// The case.
    pub case_id: Uuid,
    /// What happened.
    pub action: HistoryAction,
    /// For status changes: from (`CaseStatus::as_str`).
    pub from_status: Option<&'static str>,
    /// For status changes: to.
    pub to_status: Option<&'static str>,
    /// Why.
    pub reason: Option<String>,
    /// The case (or the part that changed) before.
    pub before: Option<serde_json::Value>,
    /// The case (or the part that changed) after.
    pub after: Option<serde_json::Value>,
}

impl CaseEntry {
    /// An entry with no status move, reason or snapshots; fill in what applies.
    pub fn new(case_id: Uuid, action: HistoryAction) -> Self {
        Self {
            case_id,
            action,
            from_status: None,
            to_status: None,
            reason: None,
            before: None,
            after: None,
        }
    }

    /// With the reason given.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// With the case (or part) before.
    pub fn before<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.before = snapshot(value);
        self
    }

    /// With the case (or part) after.
    pub fn after<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.after = snapshot(value);
        self
    }
}

/// A record of the change feed other than a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    Transfer,
    Budget,
}

/// A write, with everything it touched, to be recorded by [`record`].
#[derive(Debug)]
#[must_use = "a change is only recorded by changes::record"]
pub struct Change<'a> {
    actor: &'a Actor,
    entry: Entry,
    cases: Vec<CaseEntry>,
    /// Feed events of the transfers and budgets the write touched on the way.
    feed: Vec<(Feed, Uuid, &'static str)>,
    /// The feed event of the record the write is about, recorded after those
    /// of what it touched on the way (a transfer's commitments, then the
    /// transfer).
    subject: Option<(Feed, Uuid, &'static str)>,
}

impl<'a> Change<'a> {
    fn new(actor: &'a Actor, action: &'static str, entity_type: &'static str, id: String) -> Self {
        Self {
            actor,
            entry: Entry {
                action,
                entity_type,
                entity_id: Some(id),
                success: true,
                before: None,
                after: None,
            },
            cases: Vec::new(),
            feed: Vec::new(),
            subject: None,
        }
    }

    /// A write to a case (`action` is the audit action, `case.<verb>`): its
    /// audit entry, its history entry and its feed event.
    pub fn case(actor: &'a Actor, action: &'static str, entry: CaseEntry) -> Self {
        let mut change = Self::new(actor, action, "case", entry.case_id.to_string());
        change.cases.push(entry);
        change
    }

    /// A write to a transfer: its audit entry and a feed event `event`.
    pub fn transfer(actor: &'a Actor, action: &'static str, id: Uuid, event: &'static str) -> Self {
        let mut change = Self::new(actor, action, "transfer", id.to_string());
        change.subject = Some((Feed::Transfer, id, event));
        change
    }

    /// A write to a budget: its audit entry and a feed event `event`.
    pub fn budget(actor: &'a Actor, action: &'static str, id: Uuid, event: &'static str) -> Self {
        let mut change = Self::new(actor, action, "budget", id.to_string());
        change.subject = Some((Feed::Budget, id, event));
        change
    }

    /// A write to a record the change feed does not carry (an agency, user,
    /// client, agreement, person, access grant, token, …): its audit entry.
    pub fn of(
        actor: &'a Actor,
        action: &'static str,
        entity_type: &'static str,
        id: impl ToString,
    ) -> Self {
        Self::new(actor, action, entity_type, id.to_string())
    }

    /// A write to a set of records with no single id (a batch of cases).
    pub fn of_set(actor: &'a Actor, action: &'static str, entity_type: &'static str) -> Self {
        let mut change = Self::new(actor, action, entity_type, String::new());
        change.entry.entity_id = None;
        change
    }

    /// An attempt that failed (a refused sign-in): recorded as a failure.
    pub fn failed(mut self) -> Self {
        self.entry.success = false;
        self
    }

    /// The audit entry's record before the change.
    pub fn before<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.entry.before = snapshot(value);
        self
    }

    /// The audit entry's record after the change.
    pub fn after<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.entry.after = snapshot(value);
        self
    }

    /// Another case the write touched: a history entry and a feed event.
    pub fn and_case(mut self, entry: CaseEntry) -> Self {
        self.cases.push(entry);
        self
    }

    /// Another case the write touched, added where the write touches it.
    pub fn touch_case(&mut self, entry: CaseEntry) {
        self.cases.push(entry);
    }

    /// A transfer the write touched: a feed event `event`.
    pub fn and_transfer(mut self, id: Uuid, event: &'static str) -> Self {
        self.touch_transfer(id, event);
        self
    }

    /// A transfer the write touched, added where the write touches it.
    pub fn touch_transfer(&mut self, id: Uuid, event: &'static str) {
        self.feed.push((Feed::Transfer, id, event));
    }

    /// A budget the write touched: a feed event `event`.
    pub fn and_budget(mut self, id: Uuid, event: &'static str) -> Self {
        self.touch_budget(id, event);
        self
    }

    /// A budget the write touched, added where the write touches it.
    pub fn touch_budget(&mut self, id: Uuid, event: &'static str) {
        self.feed.push((Feed::Budget, id, event));
    }

    /// Who is making the change.
    pub fn actor(&self) -> &'a Actor {
        self.actor
    }
}

/// Records a change: its audit entry, then each case's history entry and feed
/// event, then the feed events of the transfers and budgets touched, in the
/// order the write touched them, and last the feed event of the record the
/// write is about.
/// Call it on the connection of the write's transaction, after the write.
pub async fn record(conn: &mut AsyncPgConnection, change: Change<'_>) -> QueryResult<()> {
    let Change {
        actor,
        entry,
        cases,
        feed,
        subject,
    } = change;
    audit(conn, actor, entry).await?;
    if !cases.is_empty() {
        history(conn, actor, &cases).await?;
        // One statement per action, in the order the actions first appear.
        let mut actions: Vec<HistoryAction> = Vec::new();
        for case in &cases {
            if !actions.contains(&case.action) {
                actions.push(case.action);
            }
        }
        for action in actions {
            let ids: Vec<Uuid> = cases
                .iter()
                .filter(|c| c.action == action)
                .map(|c| c.case_id)
                .collect();
            diesel::sql_query(bulk::case_events("cases WHERE id = ANY($1)", "$2"))
                .bind::<Array<SqlUuid>, _>(&ids)
                .bind::<Text, _>(action.as_str())
                .execute(conn)
                .await?;
        }
    }
    for (kind, id, event) in feed.into_iter().chain(subject) {
        let sql = match kind {
            Feed::Transfer => bulk::TRANSFER_EVENT,
            Feed::Budget => bulk::BUDGET_EVENT,
        };
        diesel::sql_query(sql)
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(event)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Appends an audit entry.
async fn audit(conn: &mut AsyncPgConnection, actor: &Actor, entry: Entry) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::actor_id.eq(actor.id),
            audit_events::actor_kind.eq(actor.kind),
            audit_events::actor_name.eq(&actor.name),
            audit_events::agency_id.eq(actor.agency_id),
            audit_events::action.eq(entry.action),
            audit_events::entity_type.eq(entry.entity_type),
            audit_events::entity_id.eq(entry.entity_id),
            audit_events::outcome.eq(if entry.success { "success" } else { "failure" }),
            audit_events::before.eq(entry.before),
            audit_events::after.eq(entry.after),
            audit_events::client_addr.eq(&actor.client_addr),
            audit_events::request_id.eq(&actor.request_id),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Appends the cases' history entries, in one statement.
async fn history(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    cases: &[CaseEntry],
) -> QueryResult<()> {
    let rows: Vec<_> = cases
        .iter()
        .map(|entry| {
            (
                case_history::case_id.eq(entry.case_id),
                case_history::actor_id.eq(actor.id),
                case_history::actor_name.eq(&actor.name),
                case_history::agency_id.eq(actor.agency_id),
                case_history::action.eq(entry.action.as_str()),
                case_history::from_status.eq(entry.from_status),
                case_history::to_status.eq(entry.to_status),
                case_history::reason.eq(entry.reason.as_deref()),
                case_history::before.eq(&entry.before),
                case_history::after.eq(&entry.after),
            )
        })
        .collect();
    diesel::insert_into(case_history::table)
        .values(rows)
        .execute(conn)
        .await
        .map(drop)
}

/// The JSON of a value for history and audit entries.
pub fn snapshot<T: Serialize + ?Sized>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// The same records for set-based writes, as SQL to put in their statements.
pub mod bulk {
    use diesel::QueryResult;
    use diesel::sql_types::{Array, Nullable, Text, Uuid as SqlUuid};
    use diesel_async::{AsyncPgConnection, RunQueryDsl};
    use uuid::Uuid;

    use crate::audit::Actor;

    /// The statement that records an event for each case row of `rows` — the
    /// `cases` table filtered, or a `WITH` query of the rows a statement just
    /// wrote, so that a bulk write records its events without reading the
    /// cases again — with `action` (a literal or a parameter), in id order.
    pub fn case_events(rows: &str, action: &str) -> String {
        format!(
            "INSERT INTO change_events (entity_type, entity_id, action, handling_province, origin_region, source_agency_id, data) \
             SELECT 'case', id, {action}, handling_province, origin_region, source_agency_id, \
                    jsonb_build_object('status', status, 'version', version, 'case_number', case_number) \
             FROM {rows} ORDER BY id"
        )
    }

    /// Records that transfer `$1` changed, with action `$2`.
    pub(super) const TRANSFER_EVENT: &str = "INSERT INTO change_events (entity_type, entity_id, action, handling_province, destination_region, \
           receiving_agency_id, out_of_province, data) \
         SELECT 'transfer', id, $2, handling_province, destination_region, receiving_agency_id, \
                destination_province <> handling_province, \
                jsonb_build_object('status', status, 'version', version, 'reference', reference) \
         FROM transfers WHERE id = $1";

    /// Records that budget `$1` changed (its description, status or ledger), with action `$2`.
    pub(super) const BUDGET_EVENT: &str = "INSERT INTO change_events (entity_type, entity_id, action, budget_source, budget_owner_id, budget_province, data) \
         SELECT 'budget', id, $2, source, owner_agency_id, province_code, \
                jsonb_build_object('status', status, 'fiscal_year', fiscal_year) \
         FROM budgets WHERE id = $1";

    /// Appends one history entry per case; `before` and `after` are JSON texts.
    pub async fn case_history(
        conn: &mut AsyncPgConnection,
        actor: &Actor,
        ids: &[Uuid],
        action: &str,
        before: &[Option<String>],
        after: &[String],
    ) -> QueryResult<()> {
        diesel::sql_query(
            "INSERT INTO case_history (case_id, actor_id, actor_name, agency_id, action, to_status, before, after) \
             SELECT u.id, $4, $5, $6, $7, CASE WHEN $7 = 'created' THEN 'registered' END, u.before, u.after \
             FROM unnest($1::uuid[], $2::text[]::jsonb[], $3::text[]::jsonb[]) AS u(id, before, after)",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Array<Nullable<Text>>, _>(before)
        .bind::<Array<Text>, _>(after)
        .bind::<Nullable<SqlUuid>, _>(actor.id)
        .bind::<Nullable<Text>, _>(&actor.name)
        .bind::<Nullable<SqlUuid>, _>(actor.agency_id)
        .bind::<Text, _>(action)
        .execute(conn)
        .await
        .map(drop)
    }

    /// Records that the cases `ids` changed, with `action`, in the feed only:
    /// for reports attached to cases whose history the push wrote already.
    pub async fn case_events_only(
        conn: &mut AsyncPgConnection,
        ids: &[Uuid],
        action: &str,
    ) -> QueryResult<()> {
        diesel::sql_query(case_events("cases WHERE id = ANY($1)", "$2"))
            .bind::<Array<SqlUuid>, _>(ids)
            .bind::<Text, _>(action)
            .execute(conn)
            .await
            .map(drop)
    }

    /// Records in each case's history that a report of `source` was attached.
    /// The entry names the source agency and its reference; a follower of the
    /// case learns of it through the case's change event.
    pub async fn reports_attached(
        conn: &mut AsyncPgConnection,
        actor: &Actor,
        source: Uuid,
        attached: &[(Uuid, &str)],
    ) -> QueryResult<()> {
        if attached.is_empty() {
            return Ok(());
        }
        let cases: Vec<Uuid> = attached.iter().map(|a| a.0).collect();
        let refs: Vec<&str> = attached.iter().map(|a| a.1).collect();
        diesel::sql_query(
            "INSERT INTO case_history (case_id, actor_id, actor_name, agency_id, action, after) \
             SELECT u.id, $3, $4, $5, 'report_attached', \
                    jsonb_build_object('source_agency_id', $6::uuid, 'external_reference', u.ref) \
             FROM unnest($1::uuid[], $2::text[]) AS u(id, ref)",
        )
        .bind::<Array<SqlUuid>, _>(&cases)
        .bind::<Array<Text>, _>(&refs)
        .bind::<Nullable<SqlUuid>, _>(actor.id)
        .bind::<Nullable<Text>, _>(&actor.name)
        .bind::<Nullable<SqlUuid>, _>(actor.agency_id)
        .bind::<SqlUuid, _>(source)
        .execute(conn)
        .await
        .map(drop)
    }

    /// Records in the feed that case `merged` is gone, merged into `kept`
    /// (`merged_away`, with `merged_into` in its data). Call it before the
    /// merged case's row is deleted.
    pub async fn case_merged_away(
        conn: &mut AsyncPgConnection,
        merged: Uuid,
        kept: Uuid,
    ) -> QueryResult<()> {
        diesel::sql_query(
            "INSERT INTO change_events (entity_type, entity_id, action, handling_province, origin_region, source_agency_id, data) \
             SELECT 'case', id, 'merged_away', handling_province, origin_region, source_agency_id, \
                    jsonb_build_object('status', status, 'version', version, 'case_number', case_number, 'merged_into', $2::uuid) \
             FROM cases WHERE id = $1",
        )
        .bind::<SqlUuid, _>(merged)
        .bind::<SqlUuid, _>(kept)
        .execute(conn)
        .await
        .map(drop)
    }

    /// The statement that records, for the system, a `repeat_return_changed`
    /// history entry for each row of `changed` (cases just updated) against
    /// `before` (their `repeat_return` and `earlier_returns` before).
    pub fn repeat_return_history(changed: &str, before: &str) -> String {
        format!(
            "INSERT INTO case_history (case_id, actor_name, action, before, after) \
             SELECT c.id, 'pulang', 'repeat_return_changed', \
               jsonb_build_object('repeat_return', b.repeat_return, 'earlier_returns', b.earlier_returns), \
               jsonb_build_object('repeat_return', c.repeat_return, 'earlier_returns', c.earlier_returns) \
             FROM {changed} c JOIN {before} b ON b.id = c.id ORDER BY c.id"
        )
    }
}
