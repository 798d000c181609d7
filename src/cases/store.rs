//! Writing cases: linking the person, numbering, history. Every function takes
//! the connection of the caller's transaction, so a change, its history entry
//! and its audit entry commit together.

use chrono::{Datelike, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use super::identity;
use super::input::ValidCase;
use super::status::CaseStatus;
use super::view::{CaseRow, CaseView};
use crate::audit::Actor;
use crate::schema::{case_history, case_number_counters, cases};

/// What a history entry records.
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

/// One entry of a case's history, to be written.
#[derive(Debug, Clone)]
pub struct HistoryEntry<'a> {
    /// The case.
    pub case_id: Uuid,
    /// What happened.
    pub action: HistoryAction,
    /// For status changes: from.
    pub from_status: Option<CaseStatus>,
    /// For status changes: to.
    pub to_status: Option<CaseStatus>,
    /// Why.
    pub reason: Option<&'a str>,
    /// The case before.
    pub before: Option<serde_json::Value>,
    /// The case after.
    pub after: Option<serde_json::Value>,
}

/// Appends to a case's history.
pub async fn record_history(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    entry: HistoryEntry<'_>,
) -> QueryResult<()> {
    diesel::insert_into(case_history::table)
        .values((
            case_history::case_id.eq(entry.case_id),
            case_history::actor_id.eq(actor.id),
            case_history::actor_name.eq(&actor.name),
            case_history::agency_id.eq(actor.agency_id),
            case_history::action.eq(entry.action.as_str()),
            case_history::from_status.eq(entry.from_status.map(|s| s.as_str())),
            case_history::to_status.eq(entry.to_status.map(|s| s.as_str())),
            case_history::reason.eq(entry.reason),
            case_history::before.eq(entry.before),
            case_history::after.eq(entry.after),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The JSON of a value for history and audit entries.
pub fn snapshot<T: Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// Hands out `count` case numbers for `year`: `PLG-<year>-<serial>`.
pub async fn next_case_numbers(
    conn: &mut AsyncPgConnection,
    year: i32,
    count: i32,
) -> QueryResult<Vec<String>> {
    let last: i32 = diesel::insert_into(case_number_counters::table)
        .values((
            case_number_counters::year.eq(year),
            case_number_counters::last.eq(count),
        ))
        .on_conflict(case_number_counters::year)
        .do_update()
        .set(case_number_counters::last.eq(case_number_counters::last + count))
        .returning(case_number_counters::last)
        .get_result(conn)
        .await?;
    Ok((last - count + 1..=last)
        .map(|n| format_case_number(year, n))
        .collect())
}

/// The case number of serial `n` in `year`.
pub fn format_case_number(year: i32, n: i32) -> String {
    format!("PLG-{year}-{n:06}")
}

/// Records a new case from `source_agency`, with its history entry.
pub async fn insert_case(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    source_agency: Uuid,
    case: &ValidCase,
) -> QueryResult<CaseView> {
    let person_id = identity::resolve(conn, &[&case.person]).await?[0];
    identity::lock(conn, &[person_id]).await?;
    let id = super::new_id();
    let earlier = identity::reconcile(
        conn,
        &[person_id],
        &[identity::Return {
            case_id: id,
            person_id,
            arrived_at: case.arrived_at,
        }],
        &[],
    )
    .await?[&id];
    let number = next_case_numbers(conn, case.arrived_at.year(), 1)
        .await?
        .remove(0);
    let p = &case.person;
    let row: CaseRow = diesel::insert_into(cases::table)
        .values((
            (
                cases::id.eq(id),
                cases::case_number.eq(number),
                cases::person_id.eq(person_id),
                cases::category.eq(case.category),
                cases::trafficking_indicated.eq(case.trafficking_indicated),
                cases::arrived_at.eq(case.arrived_at),
                cases::entry_point.eq(case.entry_point),
                cases::country_left.eq(&case.country_left),
                cases::documents.eq(&case.documents),
                cases::origin_region.eq(case.origin_region.as_str()),
                cases::origin_province.eq(case.origin_region.province().as_str().to_owned()),
                cases::origin_address.eq(&case.origin_address),
                cases::needs.eq(&case.needs),
                cases::shelter.eq(&case.shelter),
                cases::status.eq(CaseStatus::Registered),
                cases::handling_province.eq(case.handling_province.as_str()),
            ),
            (
                cases::funding_scope.eq(case.funding_scope),
                cases::source_agency_id.eq(source_agency),
                cases::external_reference.eq(&case.external_reference),
                cases::notes.eq(&case.notes),
                cases::repeat_return.eq(earlier > 0),
                cases::earlier_returns.eq(earlier),
                cases::full_name.eq(&p.full_name),
                cases::passport_number.eq(&p.passport_number),
                cases::sex.eq(p.sex.map(|s| s.as_str())),
                cases::birth_date.eq(p.birth_date),
                cases::birth_place.eq(&p.birth_place),
                cases::phone.eq(&p.phone),
            ),
        ))
        .returning(CaseRow::as_returning())
        .get_result(conn)
        .await?;
    let view = CaseView::new(row, p.nik.clone());
    record_history(
        conn,
        actor,
        HistoryEntry {
            case_id: view.id,
            action: HistoryAction::Created,
            from_status: None,
            to_status: Some(CaseStatus::Registered),
            reason: None,
            before: None,
            after: snapshot(&view),
        },
    )
    .await?;
    crate::events::case_changed(conn, view.id, "created").await?;
    Ok(view)
}

/// Moves a case to `to` (already checked against the state machine), with a history entry.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    case: &CaseView,
    to: CaseStatus,
    reason: Option<&str>,
) -> QueryResult<()> {
    diesel::update(cases::table.find(case.id))
        .set((
            cases::status.eq(to),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    record_history(
        conn,
        actor,
        HistoryEntry {
            case_id: case.id,
            action: HistoryAction::StatusChanged,
            from_status: Some(case.status),
            to_status: Some(to),
            reason,
            before: None,
            after: None,
        },
    )
    .await?;
    crate::events::case_changed(conn, case.id, "status_changed").await
}
