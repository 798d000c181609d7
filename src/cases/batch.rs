//! `POST /api/v1/cases/batch`: bulk push from BP3TKI and Kemensos systems.
//!
//! Records are keyed by (source agency, external reference) and upserted:
//! created, updated, or left unchanged when identical (no write, no history).
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
use super::{bulk_sql, identity};
use crate::access::{CaseScope, Operation};
use crate::audit::{self, Actor};
use crate::auth::Caller;
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
    /// Identical to the stored case: nothing written.
    Unchanged,
    /// Invalid; see `errors`.
    Rejected,
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
struct Valid {
    index: usize,
    reference: String,
    case: ValidCase,
}

/// Push cases in bulk.
///
/// Upserts up to 5,000 records keyed by (your agency, `external_reference`):
/// each is created, updated, or left unchanged when identical (no write and no
/// history entry). Pushing the same batch twice creates nothing the second
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
    let (mut outcomes, valid) = validate_all(&caller, request.records);
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
    conn.transaction::<_, ApiError, _>(async |conn| {
        bulk_sql::lock_source(conn, source).await?;
        apply(conn, &actor, source, valid, &mut outcomes, dry_run).await?;
        if !dry_run {
            let totals = totals(&outcomes);
            let entry = audit::Entry {
                action: "case.push",
                entity_type: "case_batch",
                entity_id: None,
                success: true,
                before: None,
                after: serde_json::to_value(&totals).ok(),
            };
            audit::record(conn, &actor, entry).await?;
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(BatchResponse {
        dry_run,
        mode: request.mode,
        totals: totals(&outcomes),
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
            RecordResult::Rejected => t.rejected += 1,
        }
    }
    t
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
fn identical(case: &CaseView, new: &ValidCase) -> bool {
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

/// Classifies the valid records against what is stored and writes the
/// changes (unless `dry_run`), filling in their outcomes.
///
/// Records are first compared with the stored cases unlocked, so that a
/// repeat push of unchanged records writes nothing, not even row locks.
/// The cases about to change are then locked (in id order) and compared
/// again, so that an edit a case worker committed in between is neither
/// recorded as the wrong `before` nor mistaken for a change.
async fn apply(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    source: Uuid,
    valid: Vec<Valid>,
    outcomes: &mut [RecordOutcome],
    dry_run: bool,
) -> ApiResult<()> {
    let references: Vec<&str> = valid.iter().map(|v| v.reference.as_str()).collect();
    let ids = bulk_sql::cases_by_reference(conn, source, &references).await?;
    let mut stored: HashMap<String, CaseView> = queries::find_many(conn, &CaseScope::All, &ids)
        .await?
        .into_iter()
        .map(|c| (c.external_reference.clone().unwrap_or_default(), c))
        .collect();

    let mut creates = Vec::new();
    let mut changes: Vec<(Valid, CaseView)> = Vec::new();
    for record in valid {
        let outcome = &mut outcomes[record.index];
        match stored.remove(&record.reference) {
            Some(case) if identical(&case, &record.case) => {
                outcome.result = RecordResult::Unchanged;
                outcome.case_id = Some(case.id);
            }
            Some(case) => changes.push((record, case)),
            None => {
                outcome.result = RecordResult::Created;
                creates.push((record.index, record.case));
            }
        }
    }
    if !dry_run && !changes.is_empty() {
        let ids: Vec<Uuid> = changes.iter().map(|(_, case)| case.id).collect();
        let mut locked: HashMap<Uuid, CaseView> =
            queries::find_all_for_update(conn, &CaseScope::All, &ids)
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();
        for (_, case) in &mut changes {
            if let Some(fresh) = locked.remove(&case.id) {
                *case = fresh;
            }
        }
    }
    let mut updates = Vec::new();
    for (record, case) in changes {
        let outcome = &mut outcomes[record.index];
        outcome.case_id = Some(case.id);
        if identical(&case, &record.case) {
            outcome.result = RecordResult::Unchanged;
        } else {
            outcome.result = RecordResult::Updated;
            updates.push(bulk_sql::Update {
                before: case,
                new: record.case,
            });
        }
    }
    if dry_run {
        return Ok(());
    }
    let created_ids = create_all(
        conn,
        actor,
        source,
        creates.iter().map(|(_, c)| c).collect(),
    )
    .await?;
    for ((index, _), id) in creates.iter().zip(created_ids) {
        outcomes[*index].case_id = Some(id);
    }
    bulk_sql::update_all(conn, actor, &updates).await?;
    Ok(())
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
