//! Reading cases, always within the caller's scope: the scope is part of the
//! `WHERE` clause, so a case outside it is never read.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::{CaseCategory, Consent, EntryPoint, FundingScope};
use super::status::CaseStatus;
use super::view::{CaseRow, CaseTransfer, CaseView};
use crate::access::CaseScope;
use crate::schema::{cases, persons, transfer_cases, transfers};

/// Cases with their person and, when there is one, their active transfer.
/// A case is in at most one active transfer (a unique index says so), so the
/// outer joins add no rows, and a page needs no second query for transfers.
#[diesel::dsl::auto_type]
fn joined() -> _ {
    cases::table
        .inner_join(persons::table)
        .left_join(
            transfer_cases::table.on(transfer_cases::case_id
                .eq(cases::id)
                .and(transfer_cases::active)),
        )
        .left_join(transfers::table.on(transfers::id.eq(transfer_cases::transfer_id)))
}
type ActiveTransfer = (transfers::id, transfers::reference, transfers::status);
type Selection = (
    diesel::dsl::AsSelect<CaseRow, Pg>,
    persons::nik,
    diesel::dsl::Nullable<ActiveTransfer>,
);
type Row = (CaseRow, Option<String>, Option<CaseTransfer>);
type Boxed<'a> = diesel::helper_types::IntoBoxed<'a, diesel::dsl::Select<joined, Selection>, Pg>;

/// The joined rows of a case query.
fn base<'a>() -> Boxed<'a> {
    joined()
        .select((
            CaseRow::as_select(),
            persons::nik,
            (transfers::id, transfers::reference, transfers::status).nullable(),
        ))
        .into_boxed()
}

/// A joined row as the API shows it.
fn view((case, nik, transfer): Row) -> CaseView {
    let mut view = CaseView::new(case, nik);
    view.transfer = transfer;
    view
}

/// Adds the scope to a query on cases.
pub fn scoped<'a>(query: Boxed<'a>, scope: &CaseScope) -> Boxed<'a> {
    match scope.clone() {
        CaseScope::All => query,
        CaseScope::HandledInProvince(p) => query.filter(cases::handling_province.eq(p)),
        CaseScope::OriginRegency(r) => query.filter(cases::origin_region.eq(r)),
        CaseScope::PushedBy(a) => reported_by(query, a),
        CaseScope::ConsentedInProvince(p) => query
            .filter(cases::handling_province.eq(p))
            .filter(cases::consent.eq(Consent::Given)),
        CaseScope::Nothing => query.filter(sql::<Bool>("false")),
    }
}

/// The cases `agency` reported: those it created, through the
/// (source_agency_id, …) indexes, and the few its reports were attached to
/// (an InitPlan over the partial index of attached reports).
fn reported_by(query: Boxed<'_>, agency: Uuid) -> Boxed<'_> {
    query.filter(
        cases::source_agency_id.eq(agency).or(sql::<Bool>(
            "cases.id = ANY(ARRAY(SELECT r.case_id FROM case_reports r WHERE r.attached AND r.source_agency_id = ",
        )
        .bind::<SqlUuid, _>(agency)
        .sql("))")),
    )
}

/// A case the caller may see, with its person.
pub async fn find(
    conn: &mut AsyncPgConnection,
    scope: &CaseScope,
    id: Uuid,
) -> QueryResult<Option<CaseView>> {
    let row: Option<Row> = scoped(base(), scope)
        .filter(cases::id.eq(id))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(view))
}

/// The case that a case merged away (a confirmed duplicate) was merged into.
pub async fn merged_into(conn: &mut AsyncPgConnection, former: Uuid) -> QueryResult<Option<Uuid>> {
    use crate::schema::case_aliases;
    case_aliases::table
        .filter(case_aliases::former_id.eq(former))
        .select(case_aliases::case_id)
        .first(conn)
        .await
        .optional()
}

/// A case the caller may see, locked for an update in the current transaction.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    scope: &CaseScope,
    id: Uuid,
) -> QueryResult<Option<CaseView>> {
    Ok(find_all_for_update(conn, scope, &[id]).await?.pop())
}

/// The cases the caller may see among `ids`, in no particular order.
pub async fn find_many(
    conn: &mut AsyncPgConnection,
    scope: &CaseScope,
    ids: &[Uuid],
) -> QueryResult<Vec<CaseView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = scoped(base(), scope)
        .filter(cases::id.eq_any(ids))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(view).collect())
}

/// The cases the caller may see among `ids`, each locked for an update in the
/// current transaction. The rows are locked in id order, whatever the order
/// of `ids`, so two transactions locking overlapping sets cannot deadlock;
/// two statements in all, whatever the number of cases.
pub async fn find_all_for_update(
    conn: &mut AsyncPgConnection,
    scope: &CaseScope,
    ids: &[Uuid],
) -> QueryResult<Vec<CaseView>> {
    let locked: Vec<Uuid> = cases::table
        .filter(cases::id.eq_any(ids))
        .order(cases::id)
        .select(cases::id)
        .for_update()
        .load(conn)
        .await?;
    find_many(conn, scope, &locked).await
}

/// How a case list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub enum CaseSort {
    /// Newest arrival first (the default).
    #[default]
    #[serde(rename = "-arrived_at")]
    ArrivedDesc,
    /// Oldest arrival first.
    #[serde(rename = "arrived_at")]
    ArrivedAsc,
    /// Newest record first.
    #[serde(rename = "-created_at")]
    CreatedDesc,
    /// Oldest record first.
    #[serde(rename = "created_at")]
    CreatedAsc,
    /// By name, A to Z.
    #[serde(rename = "full_name")]
    NameAsc,
    /// By name, Z to A.
    #[serde(rename = "-full_name")]
    NameDesc,
}

/// Where the previous page ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseCursor {
    /// The sort the cursor belongs to.
    pub sort: CaseSort,
    /// The sort key of the last case (a time or a name).
    pub key: String,
    /// The last case's id.
    pub id: Uuid,
}

/// Filters of the case list; every one is backed by an index.
#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    /// Statuses (any of).
    pub status: Vec<CaseStatus>,
    /// Category.
    pub category: Option<CaseCategory>,
    /// A regency, or every regency of a province.
    pub origin: Option<crate::regions::RegionCode>,
    /// Funding scope.
    pub funding_scope: Option<FundingScope>,
    /// Entry point.
    pub entry_point: Option<EntryPoint>,
    /// Arrived on or after.
    pub arrived_from: Option<NaiveDate>,
    /// Arrived on or before.
    pub arrived_to: Option<NaiveDate>,
    /// An agency that reported the case (created it, or sent a report of it).
    pub source_agency_id: Option<Uuid>,
    /// Text: name (spelling-tolerant), NIK, passport or case number.
    pub text: Option<String>,
    /// Handling province.
    pub handling_province: Option<String>,
    /// Only repeat returns.
    pub repeat_return: Option<bool>,
    /// Only the cases of this person.
    pub person_id: Option<Uuid>,
}

fn filtered<'a>(scope: &CaseScope, f: &CaseFilter) -> Boxed<'a> {
    let mut q = scoped(base(), scope);
    // One status as `=`, so that the (…, status, arrived_at) indexes also give the order.
    match f.status.as_slice() {
        [] => {}
        [one] => q = q.filter(cases::status.eq(*one)),
        many => q = q.filter(cases::status.eq_any(many.to_vec())),
    }
    if let Some(v) = f.category {
        q = q.filter(cases::category.eq(v));
    }
    if let Some(origin) = &f.origin {
        q = if origin.is_province() {
            q.filter(cases::origin_province.eq(origin.as_str().to_owned()))
        } else {
            q.filter(cases::origin_region.eq(origin.as_str().to_owned()))
        };
    }
    if let Some(v) = f.funding_scope {
        q = q.filter(cases::funding_scope.eq(v));
    }
    if let Some(v) = f.entry_point {
        q = q.filter(cases::entry_point.eq(v));
    }
    if let Some(d) = f.arrived_from {
        q = q.filter(cases::arrived_at.ge(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()));
    }
    if let Some(d) = f.arrived_to {
        let next = d
            .succ_opt()
            .unwrap_or(d)
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc();
        q = q.filter(cases::arrived_at.lt(next));
    }
    if let Some(v) = f.source_agency_id {
        q = reported_by(q, v);
    }
    if let Some(v) = &f.handling_province {
        q = q.filter(cases::handling_province.eq(v.clone()));
    }
    if let Some(v) = f.person_id {
        q = q.filter(cases::person_id.eq(v));
    }
    if let Some(v) = f.repeat_return {
        q = q.filter(cases::repeat_return.eq(v));
    }
    if let Some(text) = &f.text {
        let like = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let prefix = format!(
            "{}%",
            compact
                .to_uppercase()
                .replace(['\\', '%'], "")
                .replace('_', "\\_")
        );
        // The matching case ids are gathered first (an InitPlan using the cases'
        // name trigram, passport and case-number indexes and the identities' NIK
        // index), so that the OR never turns into a scan of every case.
        q = q.filter(
            sql::<Bool>(
                "cases.id = ANY(ARRAY(SELECT c.id FROM cases c WHERE c.full_name % ",
            )
            .bind::<Text, _>(text.clone())
            .sql(" OR c.full_name ILIKE ")
            .bind::<Text, _>(like)
            .sql(" UNION SELECT c.id FROM cases c WHERE c.passport_number = ")
            .bind::<Text, _>(compact.to_uppercase())
            .sql(" UNION SELECT c.id FROM cases c JOIN persons p ON p.id = c.person_id WHERE p.nik = ")
            .bind::<Text, _>(compact.clone())
            .sql(" UNION SELECT c.id FROM cases c WHERE c.case_number LIKE ")
            .bind::<Text, _>(prefix.clone())
            .sql(" UNION SELECT a.case_id FROM case_aliases a WHERE a.case_number LIKE ")
            .bind::<Text, _>(prefix)
            .sql("))"),
        );
    }
    q
}

/// A page of cases, sorted, after `cursor`. Asks for `limit` rows.
pub async fn list(
    conn: &mut AsyncPgConnection,
    scope: &CaseScope,
    filter: &CaseFilter,
    sort: CaseSort,
    cursor: Option<&CaseCursor>,
    limit: i64,
) -> QueryResult<Vec<CaseView>> {
    let mut q = filtered(scope, filter);
    let (column, descending) = match sort {
        CaseSort::ArrivedDesc => ("cases.arrived_at", true),
        CaseSort::ArrivedAsc => ("cases.arrived_at", false),
        CaseSort::CreatedDesc => ("cases.created_at", true),
        CaseSort::CreatedAsc => ("cases.created_at", false),
        CaseSort::NameAsc => ("cases.full_name", false),
        CaseSort::NameDesc => ("cases.full_name", true),
    };
    if let Some(c) = cursor {
        let op = if descending { "<" } else { ">" };
        let head = format!("({column}, cases.id) {op} (");
        q = if matches!(sort, CaseSort::NameAsc | CaseSort::NameDesc) {
            q.filter(
                sql::<Bool>(&head)
                    .bind::<Text, _>(c.key.clone())
                    .sql(", ")
                    .bind::<SqlUuid, _>(c.id)
                    .sql(")"),
            )
        } else {
            let at: DateTime<Utc> = c.key.parse().unwrap_or_default();
            q.filter(
                sql::<Bool>(&head)
                    .bind::<Timestamptz, _>(at)
                    .sql(", ")
                    .bind::<SqlUuid, _>(c.id)
                    .sql(")"),
            )
        };
    }
    q = match sort {
        CaseSort::ArrivedDesc => q.order((cases::arrived_at.desc(), cases::id.desc())),
        CaseSort::ArrivedAsc => q.order((cases::arrived_at.asc(), cases::id.asc())),
        CaseSort::CreatedDesc => q.order((cases::created_at.desc(), cases::id.desc())),
        CaseSort::CreatedAsc => q.order((cases::created_at.asc(), cases::id.asc())),
        CaseSort::NameAsc => q.order((cases::full_name.asc(), cases::id.asc())),
        CaseSort::NameDesc => q.order((cases::full_name.desc(), cases::id.desc())),
    };
    let rows: Vec<Row> = crate::db::limit::literal_limit(q, limit).load(conn).await?;
    Ok(rows.into_iter().map(view).collect())
}

/// Up to `limit` returns of one person within `scope`, in `sort` order.
pub async fn of_person(
    conn: &mut AsyncPgConnection,
    scope: &CaseScope,
    person: Uuid,
    sort: CaseSort,
    limit: i64,
) -> QueryResult<Vec<CaseView>> {
    let filter = CaseFilter {
        person_id: Some(person),
        ..CaseFilter::default()
    };
    list(conn, scope, &filter, sort, None, limit).await
}

/// The cursor that continues after `case` in `sort` order.
pub fn cursor_after(case: &CaseView, sort: CaseSort) -> CaseCursor {
    let key = match sort {
        CaseSort::ArrivedDesc | CaseSort::ArrivedAsc => case.arrived_at.to_rfc3339(),
        CaseSort::CreatedDesc | CaseSort::CreatedAsc => case.created_at.to_rfc3339(),
        CaseSort::NameAsc | CaseSort::NameDesc => case.person.full_name.clone(),
    };
    CaseCursor {
        sort,
        key,
        id: case.id,
    }
}

/// How many cases match the filters (for `with_total=true`).
pub async fn count(
    conn: &mut AsyncPgConnection,
    scope: &CaseScope,
    filter: &CaseFilter,
) -> QueryResult<i64> {
    filtered(scope, filter).count().get_result(conn).await
}
