//! The set-based statements behind a bulk push: each takes whole columns as
//! arrays and `unnest`s them, so a batch of thousands is a handful of
//! statements, each prepared once.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::input::ValidCase;
use super::view::{CaseRow, CaseView, Person};
use crate::audit::Actor;
use crate::schema::{cases, persons};

/// Serialises the pushes of one source agency until the transaction ends.
pub async fn lock_source(conn: &mut AsyncPgConnection, source: Uuid) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<Text, _>(format!("pulang.push.{source}"))
        .execute(conn)
        .await
        .map(drop)
}

/// The ids of the cases `source` pushed under these references: one index
/// lookup per reference. The `LIMIT 1` keeps the lateral subquery from being
/// flattened into a join, which the planner would otherwise turn into a hash
/// of every case of the source once it holds more than a few batches (36 ms
/// against 3 ms per 1,000 references at 50,000 cases; docs/benchmarks.md).
pub async fn cases_by_reference(
    conn: &mut AsyncPgConnection,
    source: Uuid,
    references: &[&str],
) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let rows: Vec<Id> = diesel::sql_query(
        "SELECT c.id FROM unnest($2::text[]) AS r(reference) \
         CROSS JOIN LATERAL (SELECT id FROM cases \
           WHERE source_agency_id = $1 AND external_reference = r.reference LIMIT 1) AS c",
    )
    .bind::<SqlUuid, _>(source)
    .bind::<Array<Text>, _>(references)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The person of each new case: found by NIK, else by passport, else new.
/// New persons are inserted in one statement.
pub async fn resolve_persons(
    conn: &mut AsyncPgConnection,
    new: &[&ValidCase],
) -> QueryResult<Vec<Uuid>> {
    let niks: Vec<&str> = new.iter().filter_map(|c| c.person.nik.as_deref()).collect();
    let passports: Vec<&str> = new
        .iter()
        .filter(|c| c.person.nik.is_none())
        .filter_map(|c| c.person.passport_number.as_deref())
        .collect();
    let mut by_nik: HashMap<String, Uuid> = persons::table
        .filter(persons::nik.eq_any(&niks))
        .select((persons::nik.assume_not_null(), persons::id))
        .load::<(String, Uuid)>(conn)
        .await?
        .into_iter()
        .collect();
    let mut by_passport: HashMap<String, Uuid> = persons::table
        .filter(persons::passport_number.eq_any(&passports))
        .distinct_on(persons::passport_number)
        .order((persons::passport_number, persons::created_at.desc()))
        .select((persons::passport_number.assume_not_null(), persons::id))
        .load::<(String, Uuid)>(conn)
        .await?
        .into_iter()
        .collect();

    let mut ids = Vec::with_capacity(new.len());
    let mut fresh: Vec<(Uuid, &ValidCase)> = Vec::new();
    for case in new {
        let p = &case.person;
        let known = match (&p.nik, &p.passport_number) {
            (Some(nik), _) => by_nik.get(nik).copied(),
            (None, Some(passport)) => by_passport.get(passport).copied(),
            (None, None) => None,
        };
        let id = known.unwrap_or_else(|| {
            let id = super::new_id();
            match (&p.nik, &p.passport_number) {
                (Some(nik), _) => {
                    by_nik.insert(nik.clone(), id);
                }
                (None, Some(passport)) => {
                    by_passport.insert(passport.clone(), id);
                }
                (None, None) => {}
            }
            fresh.push((id, case));
            id
        });
        ids.push(id);
    }
    if fresh.is_empty() {
        return Ok(ids);
    }
    let col =
        |f: fn(&ValidCase) -> Option<String>| fresh.iter().map(|(_, c)| f(c)).collect::<Vec<_>>();
    diesel::sql_query(
        "INSERT INTO persons (id, full_name, nik, passport_number, sex, birth_date, birth_place, phone) \
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[], $8::text[]) \
         ON CONFLICT (nik) WHERE nik IS NOT NULL DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(fresh.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(fresh.iter().map(|(_, c)| c.person.full_name.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(col(|c| c.person.nik.clone()))
    .bind::<Array<Nullable<Text>>, _>(col(|c| c.person.passport_number.clone()))
    .bind::<Array<Nullable<Text>>, _>(col(|c| c.person.sex.map(|s| s.as_str().to_owned())))
    .bind::<Array<Nullable<diesel::sql_types::Date>>, _>(fresh.iter().map(|(_, c)| c.person.birth_date).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(col(|c| c.person.birth_place.clone()))
    .bind::<Array<Nullable<Text>>, _>(col(|c| c.person.phone.clone()))
    .execute(conn)
    .await?;
    // A NIK another push recorded a moment ago won the insert: link to that person.
    let fresh_niks: Vec<&str> = fresh
        .iter()
        .filter_map(|(_, c)| c.person.nik.as_deref())
        .collect();
    if !fresh_niks.is_empty() {
        let actual: HashMap<String, Uuid> = persons::table
            .filter(persons::nik.eq_any(&fresh_niks))
            .select((persons::nik.assume_not_null(), persons::id))
            .load::<(String, Uuid)>(conn)
            .await?
            .into_iter()
            .collect();
        for (id, case) in ids.iter_mut().zip(new) {
            if let Some(nik) = &case.person.nik
                && let Some(real) = actual.get(nik)
            {
                *id = *real;
            }
        }
    }
    Ok(ids)
}

/// Which of these persons already have a case.
pub async fn persons_with_cases(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<HashSet<Uuid>> {
    Ok(cases::table
        .filter(cases::person_id.eq_any(ids))
        .select(cases::person_id)
        .distinct()
        .load::<Uuid>(conn)
        .await?
        .into_iter()
        .collect())
}

/// Inserts new cases and their `created` history entries, whose `after` is
/// the case as `GET /cases/{id}` shows it, like a single create's.
#[expect(clippy::too_many_arguments, reason = "one column per argument")]
pub async fn insert_cases(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    source: Uuid,
    new: &[&ValidCase],
    ids: &[Uuid],
    person_ids: &[Uuid],
    numbers: &[String],
    repeat: &[bool],
) -> QueryResult<()> {
    let text = |f: fn(&ValidCase) -> String| new.iter().map(|c| f(c)).collect::<Vec<_>>();
    let opt = |f: fn(&ValidCase) -> Option<String>| new.iter().map(|c| f(c)).collect::<Vec<_>>();
    let rows: Vec<CaseRow> = diesel::sql_query(format!(
        "WITH inserted AS (INSERT INTO cases (id, case_number, person_id, category, trafficking_indicated, arrived_at, \
           entry_point, country_left, documents, origin_region, origin_province, origin_address, needs, shelter, status, \
           handling_province, funding_scope, source_agency_id, external_reference, notes, repeat_return) \
         SELECT u.id, u.num, u.pid, u.cat, u.traf, u.arr, u.ep, u.cl, string_to_array(u.docs, ','), u.orig, \
           split_part(u.orig, '.', 1), u.addr, string_to_array(u.needs, ','), u.shel, 'registered', u.hp, u.fs, \
           $19, u.ref, u.notes, u.rep \
         FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::bool[], $6::timestamptz[], $7::text[], \
           $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], \
           $16::text[], $17::text[], $18::bool[]) \
           AS u(id, num, pid, cat, traf, arr, ep, cl, docs, orig, addr, needs, shel, hp, fs, ref, notes, rep) \
         RETURNING *), \
         events AS ({}) \
         SELECT * FROM inserted",
        crate::events::case_events_sql("inserted", "'created'")
    ))
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Text>, _>(numbers)
    .bind::<Array<SqlUuid>, _>(person_ids)
    .bind::<Array<Text>, _>(text(|c| c.category.as_str().to_owned()))
    .bind::<Array<Bool>, _>(new.iter().map(|c| c.trafficking_indicated).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(new.iter().map(|c| c.arrived_at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(text(|c| c.entry_point.as_str().to_owned()))
    .bind::<Array<Text>, _>(text(|c| c.country_left.clone()))
    .bind::<Array<Text>, _>(text(|c| join(c.documents.iter().map(|d| d.as_str()))))
    .bind::<Array<Text>, _>(text(|c| c.origin_region.to_string()))
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.origin_address.clone()))
    .bind::<Array<Text>, _>(text(|c| join(c.needs.iter().map(|n| n.as_str()))))
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.shelter.clone()))
    .bind::<Array<Text>, _>(text(|c| c.handling_province.to_string()))
    .bind::<Array<Text>, _>(text(|c| c.funding_scope.as_str().to_owned()))
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.external_reference.clone()))
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.notes.clone()))
    .bind::<Array<Bool>, _>(repeat)
    .bind::<SqlUuid, _>(source)
    .load(conn)
    .await?;
    // Each entry names its case, so the entries follow the returned rows.
    let views = with_persons(conn, rows).await?;
    let created: Vec<Uuid> = views.iter().map(|v| v.id).collect();
    let after: Vec<String> = views.iter().map(to_json).collect::<QueryResult<_>>()?;
    insert_history(
        conn,
        actor,
        &created,
        "created",
        &vec![None; views.len()],
        &after,
    )
    .await
}

/// Case views of freshly written rows, with their persons read in one query.
async fn with_persons(
    conn: &mut AsyncPgConnection,
    rows: Vec<CaseRow>,
) -> QueryResult<Vec<CaseView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.person_id).collect();
    let persons: HashMap<Uuid, Person> = persons::table
        .filter(persons::id.eq_any(&ids))
        .select(Person::as_select())
        .load::<Person>(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    rows.into_iter()
        .map(|row| {
            let person = persons
                .get(&row.person_id)
                .cloned()
                .ok_or_else(|| missing(format!("person {} of case {}", row.person_id, row.id)))?;
            Ok(CaseView::new(row, person))
        })
        .collect()
}

/// A row a statement of this push wrote but did not give back.
fn missing(what: String) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("{what} not returned").into())
}

/// A history snapshot: the case as the API shows it, as single writes record
/// it. Written straight to JSON text (PostgreSQL casts it to `jsonb`): going
/// through `serde_json::Value` trees cost the API more than the database
/// spent inserting the entries.
fn to_json(view: &CaseView) -> QueryResult<String> {
    serde_json::to_string(view).map_err(|e| diesel::result::Error::SerializationError(e.into()))
}

/// Appends one history entry per case; `before` and `after` are JSON texts.
async fn insert_history(
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

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(",")
}

/// A stored case (locked) and what a push says it now is.
pub struct Update {
    /// The case before, as the API shows it.
    pub before: CaseView,
    /// The pushed record.
    pub new: ValidCase,
}

/// Applies changed records: persons, cases (version + 1) and `updated` history entries.
pub async fn update_all(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    updates: &[Update],
) -> QueryResult<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let person_ids: Vec<Uuid> = updates.iter().map(|u| u.before.person.id).collect();
    let opt =
        |f: fn(&ValidCase) -> Option<String>| updates.iter().map(|u| f(&u.new)).collect::<Vec<_>>();
    let text = |f: fn(&ValidCase) -> String| updates.iter().map(|u| f(&u.new)).collect::<Vec<_>>();
    diesel::sql_query(
        "UPDATE persons p SET full_name = u.name, nik = u.nik, passport_number = u.passport, sex = u.sex, \
           birth_date = u.birth, birth_place = u.place, phone = u.phone, updated_at = now() \
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[], $8::text[]) \
           AS u(id, name, nik, passport, sex, birth, place, phone) \
         WHERE p.id = u.id AND (p.full_name, p.nik, p.passport_number, p.sex, p.birth_date, p.birth_place, p.phone) \
           IS DISTINCT FROM (u.name, u.nik, u.passport, u.sex, u.birth, u.place, u.phone)",
    )
    .bind::<Array<SqlUuid>, _>(&person_ids)
    .bind::<Array<Text>, _>(text(|c| c.person.full_name.clone()))
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.person.nik.clone()))
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.person.passport_number.clone()))
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.person.sex.map(|s| s.as_str().to_owned())))
    .bind::<Array<Nullable<diesel::sql_types::Date>>, _>(updates.iter().map(|u| u.new.person.birth_date).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.person.birth_place.clone()))
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.person.phone.clone()))
    .execute(conn)
    .await?;
    let ids: Vec<Uuid> = updates.iter().map(|u| u.before.id).collect();
    let rows: Vec<CaseRow> = diesel::sql_query(format!(
        "WITH updated AS (UPDATE cases c SET category = u.cat, trafficking_indicated = u.traf, arrived_at = u.arr, entry_point = u.ep, \
           country_left = u.cl, documents = string_to_array(u.docs, ','), origin_region = u.orig, \
           origin_province = split_part(u.orig, '.', 1), origin_address = u.addr, \
           needs = string_to_array(u.needs, ','), shelter = u.shel, handling_province = u.hp, funding_scope = u.fs, \
           notes = u.notes, version = c.version + 1, updated_at = now() \
         FROM unnest($1::uuid[], $2::text[], $3::bool[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], \
           $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[]) \
           AS u(id, cat, traf, arr, ep, cl, docs, orig, addr, needs, shel, hp, fs, notes) \
         WHERE c.id = u.id \
         RETURNING c.*), \
         events AS ({}) \
         SELECT * FROM updated",
        crate::events::case_events_sql("updated", "'updated'")
    ))
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Text>, _>(text(|c| c.category.as_str().to_owned()))
    .bind::<Array<Bool>, _>(updates.iter().map(|u| u.new.trafficking_indicated).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(updates.iter().map(|u| u.new.arrived_at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(text(|c| c.entry_point.as_str().to_owned()))
    .bind::<Array<Text>, _>(text(|c| c.country_left.clone()))
    .bind::<Array<Text>, _>(text(|c| join(c.documents.iter().map(|d| d.as_str()))))
    .bind::<Array<Text>, _>(text(|c| c.origin_region.to_string()))
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.origin_address.clone()))
    .bind::<Array<Text>, _>(text(|c| join(c.needs.iter().map(|n| n.as_str()))))
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.shelter.clone()))
    .bind::<Array<Text>, _>(text(|c| c.handling_province.to_string()))
    .bind::<Array<Text>, _>(text(|c| c.funding_scope.as_str().to_owned()))
    .bind::<Array<Nullable<Text>>, _>(opt(|c| c.notes.clone()))
    .load(conn)
    .await?;
    let mut after: HashMap<Uuid, CaseView> = with_persons(conn, rows)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let (mut before_json, mut after_json) = (Vec::new(), Vec::new());
    for u in updates {
        let mut view = after
            .remove(&u.before.id)
            .ok_or_else(|| missing(format!("updated case {}", u.before.id)))?;
        // A push does not move a case between transfers.
        view.transfer = u.before.transfer.clone();
        before_json.push(Some(to_json(&u.before)?));
        after_json.push(to_json(&view)?);
    }
    insert_history(conn, actor, &ids, "updated", &before_json, &after_json).await
}
