//! Writing cases: linking the person, numbering. Every function takes the
//! connection of the caller's transaction and returns the history entry of
//! what it did, for the caller's [`crate::changes::Change`], so a change, its
//! history entry, its feed event and its audit entry commit together.

use chrono::{Datelike, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::identity;
use super::input::ValidCase;
use super::status::CaseStatus;
use super::view::{CaseRow, CaseView};
use crate::changes::{CaseEntry, HistoryAction};
use crate::schema::{case_number_counters, cases};

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

/// Records a new case from `source_agency`; returns it with its `created`
/// history entry.
pub async fn insert_case(
    conn: &mut AsyncPgConnection,
    source_agency: Uuid,
    case: &ValidCase,
) -> QueryResult<(CaseView, CaseEntry)> {
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
    let mut entry = CaseEntry::new(view.id, HistoryAction::Created).after(&view);
    entry.to_status = Some(CaseStatus::Registered.as_str());
    Ok((view, entry))
}

/// Moves a case to `to` (already checked against the state machine); returns
/// the history entry of the move.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    case: &CaseView,
    to: CaseStatus,
    reason: Option<&str>,
) -> QueryResult<CaseEntry> {
    diesel::update(cases::table.find(case.id))
        .set((
            cases::status.eq(to),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(status_entry(case.id, case.status, to, reason))
}

/// The history entry of a status move.
pub fn status_entry(
    case_id: Uuid,
    from: CaseStatus,
    to: CaseStatus,
    reason: Option<&str>,
) -> CaseEntry {
    let mut entry = CaseEntry::new(case_id, HistoryAction::StatusChanged);
    entry.from_status = Some(from.as_str());
    entry.to_status = Some(to.as_str());
    entry.reason = reason.map(str::to_owned);
    entry
}
