//! Reports: one source system's record of one return.
//!
//! Three levels are kept apart: the person (an identity, `persons`), the
//! return (a case: one arrival, handled once) and the report (`case_reports`:
//! what one source agency sent about that return under its own reference).
//! A case has one report per source record that described it — none when a
//! case worker registered it without a reference.
//!
//! The rules, as plain functions:
//! - A pushed record whose (source, reference) is known updates that report;
//!   a re-push of the same values is `unchanged` and writes nothing.
//! - A new record whose identity (NIK, or passport without a NIK) has a return
//!   in the same handling province arriving within the window
//!   (`PULANG_SAME_RETURN_WINDOW_DAYS`) attaches to that case ([`same_returns`]).
//! - The case shows the values a case worker set first, otherwise those of the
//!   most recent report ([`effective`]); the arrival, the handling province
//!   and the identity keys follow the report that created the case, so that a
//!   second source neither moves the return in time nor relinks it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Interval, Jsonb, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::input::{CaseInput, PersonInput, ValidCase};
use super::model::funding_scope;
use super::view::CaseView;
use crate::regions::RegionCode;

/// The values a report keeps: the record as its source sent it, validated and
/// normalised (NIK without spaces, whitespace collapsed), in the shape of a new case.
pub fn reported(case: &ValidCase) -> serde_json::Value {
    let p = &case.person;
    let input = CaseInput {
        person: PersonInput {
            full_name: p.full_name.clone(),
            nik: p.nik.clone(),
            passport_number: p.passport_number.clone(),
            sex: p.sex,
            birth_date: p.birth_date,
            birth_place: p.birth_place.clone(),
            phone: p.phone.clone(),
        },
        category: case.category,
        trafficking_indicated: case.trafficking_indicated,
        arrived_at: case.arrived_at,
        entry_point: case.entry_point,
        country_left: case.country_left.clone(),
        documents: case.documents.clone(),
        origin_region: case.origin_region.to_string(),
        origin_address: case.origin_address.clone(),
        needs: case.needs.clone(),
        shelter: case.shelter.clone(),
        handling_province: Some(case.handling_province.to_string()),
        external_reference: case.external_reference.clone(),
        notes: case.notes.clone(),
    };
    serde_json::to_value(input).unwrap_or_default()
}

/// The fields a case worker can set; once set, no report overrides them.
pub const WORKER_FIELDS: &[&str] = &[
    "full_name",
    "nik",
    "passport_number",
    "sex",
    "birth_date",
    "birth_place",
    "phone",
    "category",
    "trafficking_indicated",
    "arrived_at",
    "entry_point",
    "country_left",
    "documents",
    "origin_region",
    "origin_address",
    "needs",
    "shelter",
    "notes",
];

/// The fields a case worker gave when registering a case without a
/// reference: they count as set by a case worker, so no later report
/// overrides them (a report may still fill the ones left empty).
pub fn given_fields(case: &ValidCase) -> Vec<&'static str> {
    let p = &case.person;
    let optional = [
        ("nik", p.nik.is_some()),
        ("passport_number", p.passport_number.is_some()),
        ("sex", p.sex.is_some()),
        ("birth_date", p.birth_date.is_some()),
        ("birth_place", p.birth_place.is_some()),
        ("phone", p.phone.is_some()),
        ("documents", !case.documents.is_empty()),
        ("origin_address", case.origin_address.is_some()),
        ("needs", !case.needs.is_empty()),
        ("shelter", case.shelter.is_some()),
        ("notes", case.notes.is_some()),
    ];
    let always = [
        "full_name",
        "category",
        "trafficking_indicated",
        "arrived_at",
        "entry_point",
        "country_left",
        "origin_region",
    ];
    always
        .into_iter()
        .chain(optional.iter().filter(|f| f.1).map(|f| f.0))
        .collect()
}

/// What a case shows after `record` (the most recent report) arrived:
/// fields a case worker set (`worker`) keep the case's value; the arrival,
/// handling province and identity keys change only when `record` is the
/// report that created the case (`origin`); when other reports describe the
/// case too (`!sole`), a value the record leaves out does not clear one the
/// case has. Everything else is the record's.
pub fn effective(
    record: &ValidCase,
    case: &CaseView,
    worker: &[String],
    origin: bool,
    sole: bool,
) -> ValidCase {
    let set = |f: &str| worker.iter().any(|w| w == f);
    let mut e = record.clone();
    let (p, c) = (&mut e.person, &case.person);
    if set("full_name") {
        p.full_name = c.full_name.clone();
    }
    macro_rules! optional {
        ($target:expr, $field:literal, $value:expr) => {
            if set($field) || (!sole && $target.is_none()) {
                $target = $value;
            }
        };
    }
    let keyed_by_passport = c.nik.is_none();
    if !origin {
        p.nik = c.nik.clone();
        if keyed_by_passport {
            p.passport_number = c.passport_number.clone();
        }
    } else if set("nik") {
        p.nik = c.nik.clone();
    }
    optional!(
        p.passport_number,
        "passport_number",
        c.passport_number.clone()
    );
    optional!(p.sex, "sex", c.sex);
    optional!(
        p.birth_date,
        "birth_date",
        c.birth_date.and_then(|d| d.whole())
    );
    optional!(p.birth_place, "birth_place", c.birth_place.clone());
    optional!(p.phone, "phone", c.phone.clone());
    optional!(
        e.origin_address,
        "origin_address",
        case.origin_address.clone()
    );
    optional!(e.shelter, "shelter", case.shelter.clone());
    optional!(e.notes, "notes", case.notes.clone());
    if set("category") {
        e.category = case.category;
    }
    if set("trafficking_indicated") {
        e.trafficking_indicated = case.trafficking_indicated;
    }
    if set("arrived_at") || !origin {
        e.arrived_at = case.arrived_at;
    }
    if set("entry_point") {
        e.entry_point = case.entry_point;
    }
    if set("country_left") {
        e.country_left = case.country_left.clone();
    }
    if set("documents") || (!sole && e.documents.is_empty()) {
        e.documents = case.documents.clone();
    }
    if set("needs") || (!sole && e.needs.is_empty()) {
        e.needs = case.needs.clone();
    }
    if set("origin_region")
        && let Ok(region) = RegionCode::parse(&case.origin_region)
    {
        e.origin_region = region;
    }
    if !origin && let Ok(province) = RegionCode::parse(&case.handling_province) {
        e.handling_province = province;
    }
    e.funding_scope = funding_scope(&e.origin_region, &e.handling_province);
    e.external_reference = case.external_reference.clone();
    e
}

/// A stored report.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::case_reports)]
pub struct StoredReport {
    /// The report's id.
    pub id: Uuid,
    /// The case it describes.
    pub case_id: Uuid,
    /// The source agency.
    pub source_agency_id: Uuid,
    /// The source's reference.
    pub external_reference: String,
    /// The values the source last sent.
    pub reported: serde_json::Value,
    /// When the source first sent it.
    pub received_at: DateTime<Utc>,
    /// When the source last changed it.
    pub updated_at: DateTime<Utc>,
}

/// The reports `source` sent under these references, by reference.
pub async fn by_reference(
    conn: &mut AsyncPgConnection,
    source: Uuid,
    references: &[&str],
) -> QueryResult<HashMap<String, StoredReport>> {
    use crate::schema::case_reports as r;
    if references.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(r::table
        .filter(r::source_agency_id.eq(source))
        .filter(r::external_reference.eq_any(references))
        .select(StoredReport::as_select())
        .load::<StoredReport>(conn)
        .await?
        .into_iter()
        .map(|s| (s.external_reference.clone(), s))
        .collect())
}

/// The reports of these cases, oldest first.
pub async fn of_cases(
    conn: &mut AsyncPgConnection,
    cases: &[Uuid],
) -> QueryResult<Vec<StoredReport>> {
    use crate::schema::case_reports as r;
    r::table
        .filter(r::case_id.eq_any(cases))
        .order((r::received_at, r::id))
        .select(StoredReport::as_select())
        .load(conn)
        .await
}

/// Records new reports: `(case, reference, values, attached)` from
/// `source`; `attached` when the case was created by another report.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    source: Uuid,
    rows: &[(Uuid, &str, serde_json::Value, bool)],
) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|_| super::new_id()).collect();
    let cases: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let refs: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let values: Vec<serde_json::Value> = rows.iter().map(|r| r.2.clone()).collect();
    let attached: Vec<bool> = rows.iter().map(|r| r.3).collect();
    diesel::sql_query(
        "INSERT INTO case_reports (id, case_id, source_agency_id, external_reference, reported, attached) \
         SELECT u.id, u.case_id, $4, u.ref, u.reported, u.attached \
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $5::jsonb[], $6::bool[]) \
           AS u(id, case_id, ref, reported, attached)",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<SqlUuid>, _>(&cases)
    .bind::<Array<Text>, _>(&refs)
    .bind::<SqlUuid, _>(source)
    .bind::<Array<Jsonb>, _>(&values)
    .bind::<Array<diesel::sql_types::Bool>, _>(&attached)
    .execute(conn)
    .await
    .map(drop)
}

/// Stores what the sources now say in existing reports: `(report, values)`.
pub async fn update(
    conn: &mut AsyncPgConnection,
    rows: &[(Uuid, serde_json::Value)],
) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let values: Vec<serde_json::Value> = rows.iter().map(|r| r.1.clone()).collect();
    diesel::sql_query(
        "UPDATE case_reports r SET reported = u.reported, updated_at = now() \
         FROM unnest($1::uuid[], $2::jsonb[]) AS u(id, reported) WHERE r.id = u.id",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Jsonb>, _>(&values)
    .execute(conn)
    .await
    .map(drop)
}

/// Serialises the writers of the same identity keys (NIKs, passports) until
/// the transaction ends, in one order, so that two sources pushing the same
/// new return at once make one case, not two.
pub async fn lock_keys(conn: &mut AsyncPgConnection, keys: &[String]) -> QueryResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(h) FROM \
           (SELECT DISTINCT hashtextextended('pulang.identity.' || k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s",
    )
    .bind::<Array<Text>, _>(keys)
    .execute(conn)
    .await
    .map(drop)
}

/// The identity key of a record: its NIK, else its passport number.
pub fn key_of(case: &ValidCase) -> Option<String> {
    match (&case.person.nik, &case.person.passport_number) {
        (Some(nik), _) => Some(format!("nik:{nik}")),
        (None, Some(passport)) => Some(format!("passport:{passport}")),
        (None, None) => None,
    }
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::Int4)]
    i: i32,
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// For each record, the stored return it reports, if any: a case of the
/// same identity (by NIK; without a NIK, by passport, whether the case's
/// identity is keyed by it or the case held it) in the same handling
/// province, arriving within `window` of the record's arrival — the nearest
/// such arrival, then the oldest case. Records without NIK or passport find
/// nothing here (see the possible-duplicate queue).
pub async fn same_returns(
    conn: &mut AsyncPgConnection,
    records: &[&ValidCase],
    window: chrono::Duration,
) -> QueryResult<Vec<Option<Uuid>>> {
    let mut found = vec![None; records.len()];
    let idx: Vec<i32> = (0..records.len() as i32).collect();
    let niks: Vec<Option<String>> = records.iter().map(|r| r.person.nik.clone()).collect();
    let passports: Vec<Option<String>> = records
        .iter()
        .map(|r| {
            r.person
                .nik
                .is_none()
                .then(|| r.person.passport_number.clone())
                .flatten()
        })
        .collect();
    if niks.iter().chain(&passports).all(Option::is_none) {
        return Ok(found);
    }
    let provinces: Vec<String> = records
        .iter()
        .map(|r| r.handling_province.to_string())
        .collect();
    let arrivals: Vec<DateTime<Utc>> = records.iter().map(|r| r.arrived_at).collect();
    // One branch per way of linking, each on its own index (the identity's
    // returns by person and arrival, or the case's passport): a single OR made
    // the planner scan every case of the province within the window, 380 ms
    // per 1,000 records at 100,000 cases (docs/benchmarks.md).
    let rows: Vec<Found> = diesel::sql_query(
        "SELECT u.i, m.id FROM unnest($1::int4[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) \
           AS u(i, nik, passport, province, arrived) \
         CROSS JOIN LATERAL ( \
           SELECT x.id FROM ( \
             SELECT c.id, c.arrived_at, c.created_at FROM cases c \
              WHERE u.nik IS NOT NULL AND c.person_id = (SELECT p.id FROM persons p WHERE p.nik = u.nik) \
                AND c.handling_province = u.province AND c.arrived_at BETWEEN u.arrived - $6 AND u.arrived + $6 \
             UNION ALL \
             SELECT c.id, c.arrived_at, c.created_at FROM cases c \
              WHERE u.nik IS NULL AND u.passport IS NOT NULL AND c.passport_number = u.passport \
                AND c.handling_province = u.province AND c.arrived_at BETWEEN u.arrived - $6 AND u.arrived + $6 \
             UNION ALL \
             SELECT c.id, c.arrived_at, c.created_at FROM cases c \
              WHERE u.nik IS NULL AND u.passport IS NOT NULL \
                AND c.person_id = (SELECT p.id FROM persons p WHERE p.nik IS NULL AND p.passport_number = u.passport) \
                AND c.handling_province = u.province AND c.arrived_at BETWEEN u.arrived - $6 AND u.arrived + $6 \
           ) x \
            ORDER BY abs(extract(epoch FROM x.arrived_at - u.arrived)), x.created_at, x.id \
            LIMIT 1) AS m \
         WHERE u.nik IS NOT NULL OR u.passport IS NOT NULL",
    )
    .bind::<Array<diesel::sql_types::Int4>, _>(&idx)
    .bind::<Array<diesel::sql_types::Nullable<Text>>, _>(&niks)
    .bind::<Array<diesel::sql_types::Nullable<Text>>, _>(&passports)
    .bind::<Array<Text>, _>(&provinces)
    .bind::<Array<Timestamptz>, _>(&arrivals)
    .bind::<Interval, _>(diesel::data_types::PgInterval::from_microseconds(
        window.num_microseconds().unwrap_or(i64::MAX),
    ))
    .load(conn)
    .await?;
    for row in rows {
        found[row.i as usize] = Some(row.id);
    }
    Ok(found)
}

/// The fields a case worker set, per case.
pub async fn worker_fields(
    conn: &mut AsyncPgConnection,
    cases: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<String>>> {
    use crate::schema::cases as c;
    Ok(c::table
        .filter(c::id.eq_any(cases))
        .select((c::id, c::worker_fields))
        .load::<(Uuid, Vec<String>)>(conn)
        .await?
        .into_iter()
        .collect())
}

/// Adds the fields a case worker just set to those no report overrides.
pub async fn mark_worker_fields(
    conn: &mut AsyncPgConnection,
    case: Uuid,
    fields: &[&str],
) -> QueryResult<()> {
    if fields.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "UPDATE cases SET worker_fields = ARRAY(SELECT DISTINCT f FROM unnest(worker_fields || $2::text[]) AS f ORDER BY f) \
         WHERE id = $1",
    )
    .bind::<SqlUuid, _>(case)
    .bind::<Array<Text>, _>(fields)
    .execute(conn)
    .await
    .map(drop)
}

/// How many reports each case has.
pub async fn counts(
    conn: &mut AsyncPgConnection,
    cases: &[Uuid],
) -> QueryResult<HashMap<Uuid, i64>> {
    use crate::schema::case_reports as r;
    Ok(r::table
        .filter(r::case_id.eq_any(cases))
        .group_by(r::case_id)
        .select((r::case_id, diesel::dsl::count_star()))
        .load::<(Uuid, i64)>(conn)
        .await?
        .into_iter()
        .collect())
}

/// One report as a caller sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    /// The report's id.
    pub id: Uuid,
    /// The source agency that sent it.
    pub source_agency_id: Uuid,
    /// The source's own reference; only for the handling agency and the source itself.
    pub external_reference: Option<String>,
    /// The values the source last sent (the shape of a new case), with the
    /// same masking as the case; only for the handling agency and the source itself.
    #[schema(value_type = Option<Object>)]
    pub reported: Option<serde_json::Value>,
    /// When the source first sent it.
    pub received_at: DateTime<Utc>,
    /// When the source last changed it.
    pub updated_at: DateTime<Utc>,
    /// Whether this report created the case.
    pub created_the_case: bool,
}

/// One value of a disputed field and the reports that sent it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportedValue {
    /// The value as sent (masked like the case for callers who see masked data).
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    /// The reports that sent it.
    pub report_ids: Vec<Uuid>,
}

/// A field the reports of a case disagree on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Disagreement {
    /// The field: `full_name`, `nik`, `passport_number`, `sex`, `birth_date`,
    /// `birth_place`, `origin_region`, `arrived_at`, `category` or `country_left`.
    pub field: String,
    /// The value the case shows now.
    #[schema(value_type = Object)]
    pub shown: serde_json::Value,
    /// Each value sent, with its reports.
    pub values: Vec<ReportedValue>,
}

/// The fields whose disagreement a case worker must settle, as JSON pointers into a report.
const DISPUTABLE: &[(&str, &str)] = &[
    ("full_name", "/person/full_name"),
    ("nik", "/person/nik"),
    ("passport_number", "/person/passport_number"),
    ("sex", "/person/sex"),
    ("birth_date", "/person/birth_date"),
    ("birth_place", "/person/birth_place"),
    ("origin_region", "/origin_region"),
    ("arrived_at", "/arrived_at"),
    ("category", "/category"),
    ("country_left", "/country_left"),
];

/// The fields on which the reports disagree (values absent from a report do not count).
pub fn disagreements(reports: &[StoredReport], case: &serde_json::Value) -> Vec<Disagreement> {
    let mut out = Vec::new();
    for (field, pointer) in DISPUTABLE {
        let mut values: Vec<ReportedValue> = Vec::new();
        for r in reports {
            let Some(v) = r.reported.pointer(pointer).filter(|v| !v.is_null()) else {
                continue;
            };
            match values.iter_mut().find(|x| &x.value == v) {
                Some(x) => x.report_ids.push(r.id),
                None => values.push(ReportedValue {
                    value: v.clone(),
                    report_ids: vec![r.id],
                }),
            }
        }
        if values.len() > 1 {
            out.push(Disagreement {
                field: (*field).to_owned(),
                shown: case.pointer(pointer).cloned().unwrap_or_default(),
                values,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::input::CaseInput;
    use crate::cases::view::{CaseRow, CaseView};

    fn record(name: &str, nik: Option<&str>, arrived: &str, phone: Option<&str>) -> ValidCase {
        let input: CaseInput = serde_json::from_value(serde_json::json!({
            "person": {"full_name": name, "nik": nik, "phone": phone},
            "category": "undocumented_migrant", "arrived_at": arrived,
            "entry_point": "plbn_entikong", "country_left": "MY", "origin_region": "33.01",
            "handling_province": "61", "external_reference": "A-1"
        }))
        .unwrap();
        input
            .validate("2020-01-01T00:00:00Z".parse().unwrap(), None)
            .unwrap()
    }

    fn stored(case: &ValidCase) -> CaseView {
        let p = &case.person;
        let row = CaseRow {
            id: Uuid::from_u128(1),
            case_number: "PLG-2019-000001".into(),
            person_id: Uuid::from_u128(2),
            category: case.category,
            trafficking_indicated: case.trafficking_indicated,
            arrived_at: case.arrived_at,
            entry_point: case.entry_point,
            country_left: case.country_left.clone(),
            documents: case.documents.clone(),
            origin_region: case.origin_region.to_string(),
            origin_province: case.origin_region.province().to_string(),
            origin_address: case.origin_address.clone(),
            needs: case.needs.clone(),
            shelter: case.shelter.clone(),
            status: crate::cases::CaseStatus::Registered,
            handling_province: case.handling_province.to_string(),
            funding_scope: case.funding_scope,
            source_agency_id: Uuid::from_u128(3),
            external_reference: case.external_reference.clone(),
            notes: case.notes.clone(),
            repeat_return: false,
            version: 1,
            created_at: case.arrived_at,
            updated_at: case.arrived_at,
            full_name: p.full_name.clone(),
            passport_number: p.passport_number.clone(),
            sex: p.sex,
            birth_date: p.birth_date,
            birth_place: p.birth_place.clone(),
            phone: p.phone.clone(),
            earlier_returns: 0,
            consent: crate::cases::model::Consent::Unknown,
        };
        CaseView::new(row, p.nik.clone())
    }

    const NIK: &str = "3301015505900002";

    #[test]
    fn the_most_recent_report_gives_the_name_but_not_the_arrival() {
        let first = record("Siti Nurhaliza", Some(NIK), "2019-03-14T09:30:00Z", None);
        let second = record("SITI NURHALIZA", Some(NIK), "2019-03-16T02:00:00Z", None);
        let shown = effective(&second, &stored(&first), &[], false, false);
        assert_eq!(shown.person.full_name, "SITI NURHALIZA");
        assert_eq!(shown.arrived_at, first.arrived_at);
    }

    #[test]
    fn a_field_a_case_worker_set_wins_over_every_report() {
        let first = record("Siti Nurhaliza", Some(NIK), "2019-03-14T09:30:00Z", None);
        let second = record("SITI NURHALIZA", Some(NIK), "2019-03-16T02:00:00Z", None);
        let shown = effective(
            &second,
            &stored(&first),
            &["full_name".into()],
            false,
            false,
        );
        assert_eq!(shown.person.full_name, "Siti Nurhaliza");
    }

    #[test]
    fn a_value_left_out_by_a_second_source_does_not_clear_the_case() {
        let first = record("Siti", Some(NIK), "2019-03-14T09:30:00Z", Some("+628123"));
        let second = record("Siti", Some(NIK), "2019-03-15T09:30:00Z", None);
        let shown = effective(&second, &stored(&first), &[], false, false);
        assert_eq!(shown.person.phone.as_deref(), Some("+628123"));
        let alone = effective(&second, &stored(&first), &[], true, true);
        assert_eq!(alone.person.phone, None, "the only report may clear it");
    }

    #[test]
    fn reports_that_spell_a_name_differently_are_a_disagreement() {
        let a = record("Siti Nurhaliza", Some(NIK), "2019-03-14T09:30:00Z", None);
        let b = record("SITI NURHALIZA", Some(NIK), "2019-03-14T09:30:00Z", None);
        let now = Utc::now();
        let report = |id: u128, v: &ValidCase| StoredReport {
            id: Uuid::from_u128(id),
            case_id: Uuid::from_u128(1),
            source_agency_id: Uuid::from_u128(id),
            external_reference: format!("R{id}"),
            reported: reported(v),
            received_at: now,
            updated_at: now,
        };
        let list = disagreements(&[report(1, &a), report(2, &b)], &reported(&b));
        let fields: Vec<&str> = list.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, vec!["full_name"]);
        assert_eq!(list[0].shown, "SITI NURHALIZA");
        assert_eq!(list[0].values.len(), 2);
    }
}
