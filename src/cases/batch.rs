//! `POST /api/v1/cases/batch`: bulk push from BP3TKI and Kemensos systems.
//!
//! Records are reports keyed by (source agency, external reference) and
//! upserted: created (a new case), linked (a new report of a return already
//! recorded), updated, or left unchanged when their source sends the same
//! values again (no write, no history). See `reports.rs` for the rules.
//! Pushes of one source are serialised by a transaction-level advisory lock,
//! so overlapping batches, on any number of API instances, still make exactly
//! one case per key. The writes are set-based (`INSERT … SELECT FROM unnest`),
//! a handful of statements per batch whatever its size.

use std::collections::HashMap;

use actix_web::{HttpResponse, post, web};
use chrono::{Datelike, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::input::{CaseInput, ValidCase};
use super::queries;
use super::view::CaseView;
use super::write_access::check_handling_province;
use super::{bulk_sql, identity, reports};
use crate::access::{CaseScope, Operation};
use crate::audit::Actor;
use crate::auth::Caller;
use crate::changes::{self, Change};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::RecordsJson;
use crate::regions::RegionCode;
use crate::state::AppState;

/// Most records in one batch.
pub const MAX_RECORDS: usize = 5000;

/// How a batch treats invalid records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchMode {
    /// Apply the valid records, report the invalid ones.
    #[default]
    PerRecord,
    /// All or nothing: one invalid record and nothing is written (422).
    Atomic,
}

/// A batch of case records from one source system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "mode": "per_record", "dry_run": false,
    "records": [{
        "external_reference": "BP3TKI-PTK-2019-00042",
        "person": {"full_name": "Siti Nurhaliza", "nik": "6171015505900002"},
        "category": "trafficking_victim", "arrived_at": "2019-03-14T09:30:00Z",
        "entry_point": "plbn_entikong", "country_left": "MY", "origin_region": "61.71"
    }]
}))]
pub struct BatchRequest {
    /// `per_record` (default) or `atomic`.
    #[serde(default)]
    pub mode: BatchMode,
    /// Validate and classify only; write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Up to 5,000 records, each shaped like a new case and with an `external_reference`.
    #[schema(value_type = Vec<CaseInput>)]
    pub records: Vec<serde_json::Value>,
}

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordResult {
    /// A new case.
    Created,
    /// An existing case was changed.
    Updated,
    /// The same values as the source last sent for this reference: nothing written.
    Unchanged,
    /// A new report of a return already recorded (same identity, same
    /// handling province, arrival within the window): attached to that case
    /// (`case_id`) instead of creating one.
    Linked,
    /// Invalid; see `errors`.
    Rejected,
}

impl RecordResult {
    /// The result as written in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
            Self::Linked => "linked",
            Self::Rejected => "rejected",
        }
    }
}

/// The outcome of one record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordOutcome {
    /// Position in `records`.
    pub index: usize,
    /// The record's external reference, if it had one.
    pub external_reference: Option<String>,
    /// What happened.
    pub result: RecordResult,
    /// The case, when there is one (not for rejected records or new ones in a dry run).
    pub case_id: Option<Uuid>,
    /// Why a record was rejected, by field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Counts per result.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct BatchTotals {
    /// New cases.
    pub created: usize,
    /// Changed cases.
    pub updated: usize,
    /// Untouched cases.
    pub unchanged: usize,
    /// Reports attached to returns already recorded.
    pub linked: usize,
    /// Invalid records.
    pub rejected: usize,
}

/// The answer to a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// The mode used.
    pub mode: BatchMode,
    /// Counts per result.
    pub totals: BatchTotals,
    /// One outcome per record, in order.
    pub results: Vec<RecordOutcome>,
}

/// A valid record and its slot in the answer.
#[derive(Clone)]
struct Valid {
    index: usize,
    reference: String,
    case: ValidCase,
}

/// Push cases in bulk.
///
/// Upserts up to 5,000 records, each a report keyed by (your agency,
/// `external_reference`): a known reference is `updated`, or `unchanged` when
/// it says what it said last time (no write, no history entry, no event). A
/// new reference whose person (NIK, or passport without a NIK) has a return
/// in the same handling province arriving within the same-return window
/// (7 days unless configured) is `linked`: it becomes a second report of that
/// case, whose id is given, instead of a new case. Otherwise it is `created`. Pushing the same batch twice creates nothing the second
/// time; overlapping batches pushed at once still give one case per key.
/// `mode=atomic` writes all or nothing (any invalid record: 422, with
/// `results` in the problem); `per_record` writes the valid ones and reports
/// the rest. `dry_run=true` validates and classifies without writing. A push
/// never changes a case's status: the handling province does that.
#[utoipa::path(
    tag = "cases",
    operation_id = "push_cases",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "Every record's outcome and the totals", body = BatchResponse),
        (status = 422, description = "The batch is malformed, or `atomic` and a record is invalid (`results` lists them)", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/batch")]
pub async fn push_cases(
    state: web::Data<AppState>,
    caller: Caller,
    body: RecordsJson<BatchRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Operation::PushCases)?;
    let request = body.0;
    if request.records.len() > MAX_RECORDS {
        return Err(ApiError::invalid_field(
            "records",
            format!("at most {MAX_RECORDS} records per batch"),
        ));
    }
    let (outcomes, valid) = validate_all(&caller, request.records);
    // Valid records are still marked rejected until they are applied; count the others.
    let rejected = outcomes.len() - valid.len();
    if request.mode == BatchMode::Atomic && rejected > 0 {
        return Err(ApiError::validation(vec![FieldError::new(
            "records",
            format!("{rejected} record(s) are invalid; nothing was written"),
        )])
        .with_extension(
            crate::error::ProblemMember::Results,
            serde_json::to_value(&outcomes).unwrap_or_default(),
        ));
    }
    let actor = Actor::from(&caller);
    let source = caller.agency_id;
    let mut conn = state.pool.get().await?;
    let dry_run = request.dry_run;
    // A serialization failure or deadlock (two sources pushing one person's
    // returns at once) runs the whole push once more, from the same records.
    let pristine = outcomes.clone();
    let outcomes = crate::db::retry_once(async || {
        let mut outcomes = pristine.clone();
        let valid = valid.clone();
        conn.transaction::<_, ApiError, _>(async |conn| {
            bulk_sql::lock_source(conn, source).await?;
            let window = state.settings.same_return_window;
            apply(conn, &actor, source, valid, &mut outcomes, dry_run, window).await?;
            let totals = totals(&outcomes);
            // A push that changes nothing leaves no trace, not even in the audit log.
            if !dry_run && totals.created + totals.updated + totals.linked > 0 {
                // The cases' history and feed events are written by the
                // push's set-based statements.
                let change = Change::of_set(&actor, "case.push", "case_batch").after(&totals);
                changes::record(conn, change).await?;
            }
            Ok(())
        })
        .await?;
        Ok(outcomes)
    })
    .await?;
    let totals = totals(&outcomes);
    if !dry_run {
        for (result, count) in [
            ("created", totals.created),
            ("updated", totals.updated),
            ("unchanged", totals.unchanged),
            ("linked", totals.linked),
            ("rejected", totals.rejected),
        ] {
            crate::metrics::bulk_records(result, count);
        }
    }
    Ok(HttpResponse::Ok().json(BatchResponse {
        dry_run,
        mode: request.mode,
        totals,
        results: outcomes,
    }))
}

fn totals(outcomes: &[RecordOutcome]) -> BatchTotals {
    let mut t = BatchTotals::default();
    for o in outcomes {
        match o.result {
            RecordResult::Created => t.created += 1,
            RecordResult::Updated => t.updated += 1,
            RecordResult::Unchanged => t.unchanged += 1,
            RecordResult::Linked => t.linked += 1,
            RecordResult::Rejected => t.rejected += 1,
        }
    }
    t
}

/// Applies one record of `source` (with an external reference) like a batch
/// of one: what happened to it, and its case. The caller's transaction must
/// not have locked other sources' pushes.
pub(crate) async fn push_one(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    source: Uuid,
    reference: String,
    case: ValidCase,
    window: chrono::Duration,
) -> ApiResult<(RecordResult, Uuid)> {
    bulk_sql::lock_source(conn, source).await?;
    let mut outcomes = vec![RecordOutcome {
        index: 0,
        external_reference: Some(reference.clone()),
        result: RecordResult::Rejected,
        case_id: None,
        errors: Vec::new(),
    }];
    let valid = vec![Valid {
        index: 0,
        reference,
        case,
    }];
    apply(conn, actor, source, valid, &mut outcomes, false, window).await?;
    let outcome = outcomes.remove(0);
    let id = outcome
        .case_id
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a pushed record got no case")))?;
    Ok((outcome.result, id))
}

/// Parses and validates every record; rejected ones are final outcomes.
fn validate_all(
    caller: &Caller,
    records: Vec<serde_json::Value>,
) -> (Vec<RecordOutcome>, Vec<Valid>) {
    let now = Utc::now();
    let region = caller
        .agency_region
        .as_deref()
        .and_then(|r| RegionCode::parse(r).ok());
    let mut outcomes = Vec::with_capacity(records.len());
    let mut valid = Vec::with_capacity(records.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, record) in records.into_iter().enumerate() {
        let reference = record
            .get("external_reference")
            .and_then(|r| r.as_str())
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        let mut outcome = RecordOutcome {
            index,
            external_reference: reference.clone(),
            result: RecordResult::Rejected,
            case_id: None,
            errors: Vec::new(),
        };
        let parsed: Result<CaseInput, _> = serde_path_to_error::deserialize(record);
        match (parsed, &reference) {
            (Err(e), _) => {
                let field = e.path().to_string();
                outcome.errors.push(FieldError::new(
                    if field == "." { "record".into() } else { field },
                    e.into_inner().to_string(),
                ));
            }
            (Ok(_), None) => outcome.errors.push(FieldError::new(
                "external_reference",
                "is required in a batch",
            )),
            (Ok(input), Some(reference)) => match input.validate(now, region.as_ref()) {
                Err(errors) => outcome.errors = errors,
                Ok(case) => {
                    if let Some(first) = seen.get(reference) {
                        outcome.errors.push(FieldError::new(
                            "external_reference",
                            format!("appears twice in this batch (first at index {first})"),
                        ));
                    } else if let Err(e) = check_handling_province(caller, &case.handling_province)
                    {
                        outcome.errors.extend(e.field_errors().iter().cloned());
                    } else {
                        seen.insert(reference.clone(), index);
                        valid.push(Valid {
                            index,
                            reference: reference.clone(),
                            case,
                        });
                    }
                }
            },
        }
        outcomes.push(outcome);
    }
    (outcomes, valid)
}

/// Whether a stored case already says what a record says.
pub(crate) fn identical(case: &CaseView, new: &ValidCase) -> bool {
    let (person, p) = (&case.person, &new.person);
    person.full_name == p.full_name
        && person.nik == p.nik
        && person.passport_number == p.passport_number
        && person.sex == p.sex
        && person.birth_date.and_then(|d| d.whole()) == p.birth_date
        && person.birth_place == p.birth_place
        && person.phone == p.phone
        && case.category == new.category
        && case.trafficking_indicated == new.trafficking_indicated
        && case.arrived_at == new.arrived_at
        && case.entry_point == new.entry_point
        && case.country_left == new.country_left
        && case.documents == new.documents
        && case.origin_region == new.origin_region.as_str()
        && case.origin_address == new.origin_address
        && case.needs == new.needs
        && case.shelter == new.shelter
        && case.handling_province == new.handling_province.as_str()
        && case.notes == new.notes
}

/// Classifies the valid records against the reports and returns stored, and
/// writes the changes (unless `dry_run`), filling in their outcomes.
///
/// A record whose (source, reference) is known is compared with the values
/// its source last sent: the same values are `unchanged` and write nothing,
/// not even row locks. Other records are matched to a stored return of the
/// same identity (see [`reports::same_returns`]) under a lock on their
/// identity keys, so that two sources pushing the same new return at once
/// make one case; a match is `linked`, no match is `created`. The cases whose
/// shown values change are locked (in id order) and rewritten once each.
async fn apply(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    source: Uuid,
    valid: Vec<Valid>,
    outcomes: &mut [RecordOutcome],
    dry_run: bool,
    window: chrono::Duration,
) -> ApiResult<()> {
    let references: Vec<&str> = valid.iter().map(|v| v.reference.as_str()).collect();
    let known = reports::by_reference(conn, source, &references).await?;
    let mut fresh: Vec<Valid> = Vec::new();
    let mut changed: Vec<(Valid, Uuid, Uuid)> = Vec::new();
    for record in valid {
        let outcome = &mut outcomes[record.index];
        match known.get(&record.reference) {
            Some(report) if report.reported == reports::reported(&record.case) => {
                outcome.result = RecordResult::Unchanged;
                outcome.case_id = Some(report.case_id);
            }
            Some(report) => {
                outcome.result = RecordResult::Updated;
                outcome.case_id = Some(report.case_id);
                changed.push((record, report.id, report.case_id));
            }
            None => fresh.push(record),
        }
    }
    if !dry_run {
        let keys: Vec<String> = fresh
            .iter()
            .filter_map(|v| reports::key_of(&v.case))
            .collect();
        reports::lock_keys(conn, &keys).await?;
    }
    let fresh_cases: Vec<&ValidCase> = fresh.iter().map(|v| &v.case).collect();
    let matches = reports::same_returns(conn, &fresh_cases, window).await?;
    let mut creates: Vec<Valid> = Vec::new();
    let mut links: Vec<(Valid, Uuid)> = Vec::new();
    for (record, found) in fresh.into_iter().zip(matches) {
        let outcome = &mut outcomes[record.index];
        match found {
            Some(case) => {
                outcome.result = RecordResult::Linked;
                outcome.case_id = Some(case);
                links.push((record, case));
            }
            None => {
                outcome.result = RecordResult::Created;
                creates.push(record);
            }
        }
    }
    // Records of this batch describing one new return: the earliest arrival
    // makes the case, the others become its reports.
    let (creates, same_batch) = one_case_per_return(creates, window);
    for (record, _) in &same_batch {
        outcomes[record.index].result = RecordResult::Linked;
    }
    if dry_run {
        return Ok(());
    }

    // What the cases described by changed or new reports now show.
    let touched: Vec<Uuid> = changed
        .iter()
        .map(|c| c.2)
        .chain(links.iter().map(|l| l.1))
        .collect();
    let mut updates = Vec::new();
    if !touched.is_empty() {
        let locked: HashMap<Uuid, CaseView> =
            queries::find_all_for_update(conn, &CaseScope::All, &touched)
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();
        let worker = reports::worker_fields(conn, &touched).await?;
        let counts = reports::counts(conn, &touched).await?;
        // One rewrite per case: the last record of the batch about it is the most recent report.
        let mut latest: HashMap<Uuid, ValidCase> = HashMap::new();
        let mut order: Vec<Uuid> = Vec::new();
        let described = changed
            .iter()
            .map(|(r, _, case)| (r, *case, false))
            .chain(links.iter().map(|(r, case)| (r, *case, true)));
        for (record, id, new_report) in described {
            let Some(case) = locked.get(&id) else {
                continue;
            };
            let origin = !new_report
                && case.source_agency_id == source
                && case.external_reference.as_deref() == Some(record.reference.as_str());
            let reports_of_case = counts.get(&id).copied().unwrap_or(0) + i64::from(new_report);
            let shown = reports::effective(
                &record.case,
                case,
                worker.get(&id).map(Vec::as_slice).unwrap_or(&[]),
                origin,
                !new_report && reports_of_case <= 1,
            );
            if latest.insert(id, shown).is_none() {
                order.push(id);
            }
        }
        for id in order {
            let (Some(case), Some(new)) = (locked.get(&id), latest.remove(&id)) else {
                continue;
            };
            if !identical(case, &new) {
                updates.push(bulk_sql::Update {
                    before: case.clone(),
                    new,
                });
            }
        }
    }
    reports::update(
        conn,
        &changed
            .iter()
            .map(|(r, report, _)| (*report, reports::reported(&r.case)))
            .collect::<Vec<_>>(),
    )
    .await?;
    let created_ids = create_all(
        conn,
        actor,
        source,
        creates.iter().map(|c| &c.case).collect(),
    )
    .await?;
    for (record, id) in creates.iter().zip(&created_ids) {
        outcomes[record.index].case_id = Some(*id);
    }
    let mut links_in_batch: Vec<(Valid, Uuid)> = Vec::with_capacity(same_batch.len());
    for (record, anchor) in same_batch {
        let id = created_ids[anchor];
        outcomes[record.index].case_id = Some(id);
        links_in_batch.push((record, id));
    }
    // Reported together with the case's first report: its `created` event covers them.
    let attached_in_batch: Vec<(Uuid, &str)> = links_in_batch
        .iter()
        .map(|(r, case)| (*case, r.reference.as_str()))
        .collect();
    let new_reports: Vec<(Uuid, &str, serde_json::Value, bool)> = links
        .iter()
        .chain(&links_in_batch)
        .map(|(r, case)| {
            (
                *case,
                r.reference.as_str(),
                reports::reported(&r.case),
                true,
            )
        })
        .chain(
            creates
                .iter()
                .zip(&created_ids)
                .map(|(r, id)| (*id, r.reference.as_str(), reports::reported(&r.case), false)),
        )
        .collect();
    reports::insert(conn, source, &new_reports).await?;
    bulk_sql::update_all(conn, actor, &updates).await?;
    // A follower hears of each attached case once: with the update when the
    // case's values changed, else with `report_attached`.
    let attached: Vec<(Uuid, &str)> = links
        .iter()
        .map(|(r, case)| (*case, r.reference.as_str()))
        .collect();
    crate::changes::bulk::reports_attached(conn, actor, source, &attached).await?;
    crate::changes::bulk::reports_attached(conn, actor, source, &attached_in_batch).await?;
    let rewritten: Vec<Uuid> = updates.iter().map(|u| u.before.id).collect();
    let mut quiet: Vec<Uuid> = links
        .iter()
        .map(|l| l.1)
        .filter(|id| !rewritten.contains(id))
        .collect();
    quiet.sort();
    quiet.dedup();
    crate::changes::bulk::case_events_only(conn, &quiet, "report_attached").await?;
    super::duplicates::queue(conn, &created_ids, window).await?;
    Ok(())
}

/// Splits the records about to create cases into those that do and, for
/// records of one identity (NIK, or passport without one) and handling
/// province arriving within `window` of an earlier one of the batch, the
/// position (in the returned list) of the record whose case they report.
fn one_case_per_return(
    creates: Vec<Valid>,
    window: chrono::Duration,
) -> (Vec<Valid>, Vec<(Valid, usize)>) {
    let mut order: Vec<usize> = (0..creates.len()).collect();
    let key =
        |v: &Valid| reports::key_of(&v.case).map(|k| (k, v.case.handling_province.to_string()));
    order.sort_by_key(|i| {
        (
            key(&creates[*i]),
            creates[*i].case.arrived_at,
            creates[*i].index,
        )
    });
    // For each record, the record (by position in `creates`) whose case it reports.
    let mut anchor_of: Vec<Option<usize>> = vec![None; creates.len()];
    let mut anchor: Option<usize> = None;
    for i in order {
        let this = key(&creates[i]);
        match anchor {
            Some(a)
                if this.is_some()
                    && key(&creates[a]) == this
                    && creates[i].case.arrived_at - creates[a].case.arrived_at <= window =>
            {
                anchor_of[i] = Some(a);
            }
            _ => anchor = Some(i),
        }
    }
    let mut position = vec![0; creates.len()];
    let mut kept = Vec::new();
    let mut reporting = Vec::new();
    for (i, record) in creates.into_iter().enumerate() {
        match anchor_of[i] {
            None => {
                position[i] = kept.len();
                kept.push(record);
            }
            Some(a) => reporting.push((record, a)),
        }
    }
    let reporting = reporting
        .into_iter()
        .map(|(record, a)| (record, position[a]))
        .collect();
    (kept, reporting)
}

/// Inserts new cases (and their new persons) in a few set-based statements.
async fn create_all(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    source: Uuid,
    new: Vec<&ValidCase>,
) -> ApiResult<Vec<Uuid>> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let people: Vec<&super::input::ValidPerson> = new.iter().map(|c| &c.person).collect();
    let person_ids = identity::resolve(conn, &people).await?;
    identity::lock(conn, &person_ids).await?;
    let ids: Vec<Uuid> = (0..new.len()).map(|_| super::new_id()).collect();
    let returns: Vec<identity::Return> = new
        .iter()
        .zip(&ids)
        .zip(&person_ids)
        .map(|((case, id), person)| identity::Return {
            case_id: *id,
            person_id: *person,
            arrived_at: case.arrived_at,
        })
        .collect();
    let counts = identity::reconcile(conn, &person_ids, &returns, &[]).await?;
    let earlier: Vec<i32> = ids.iter().map(|id| counts[id]).collect();
    // Case numbers per arrival year.
    let mut numbers: Vec<String> = vec![String::new(); new.len()];
    let mut by_year: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, case) in new.iter().enumerate() {
        by_year.entry(case.arrived_at.year()).or_default().push(i);
    }
    for (year, members) in by_year {
        let allocated = super::store::next_case_numbers(conn, year, members.len() as i32).await?;
        for (i, number) in members.into_iter().zip(allocated) {
            numbers[i] = number;
        }
    }
    bulk_sql::insert_cases(
        conn,
        actor,
        source,
        &new,
        &ids,
        &person_ids,
        &numbers,
        &earlier,
    )
    .await?;
    Ok(ids)
}
