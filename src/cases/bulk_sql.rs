//! The set-based statements behind a bulk push: each takes whole columns as
//! arrays and `unnest`s them, so a batch of thousands is a handful of
//! statements, each prepared once.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Date, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::input::ValidCase;
use super::view::{CaseRow, CaseView};
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

/// The per-column arrays of the returnees as recorded at these returns.
struct PersonColumns {
    name: Vec<String>,
    passport: Vec<Option<String>>,
    sex: Vec<Option<String>>,
    birth: Vec<Option<chrono::NaiveDate>>,
    place: Vec<Option<String>>,
    phone: Vec<Option<String>>,
}

impl PersonColumns {
    fn of<'a>(cases: impl Iterator<Item = &'a ValidCase>) -> Self {
        let mut c = Self {
            name: vec![],
            passport: vec![],
            sex: vec![],
            birth: vec![],
            place: vec![],
            phone: vec![],
        };
        for case in cases {
            let p = &case.person;
            c.name.push(p.full_name.clone());
            c.passport.push(p.passport_number.clone());
            c.sex.push(p.sex.map(|s| s.as_str().to_owned()));
            c.birth.push(p.birth_date);
            c.place.push(p.birth_place.clone());
            c.phone.push(p.phone.clone());
        }
        c
    }
}

/// Inserts new cases and their `created` history entries, whose `after` is
/// the case as `GET /cases/{id}` shows it, like a single create's.
/// `earlier` is each case's count of earlier returns of its identity.
#[expect(clippy::too_many_arguments, reason = "one column per argument")]
pub async fn insert_cases(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    source: Uuid,
    new: &[&ValidCase],
    ids: &[Uuid],
    person_ids: &[Uuid],
    numbers: &[String],
    earlier: &[i32],
) -> QueryResult<()> {
    let text = |f: fn(&ValidCase) -> String| new.iter().map(|c| f(c)).collect::<Vec<_>>();
    let opt = |f: fn(&ValidCase) -> Option<String>| new.iter().map(|c| f(c)).collect::<Vec<_>>();
    let person = PersonColumns::of(new.iter().copied());
    let rows: Vec<CaseRow> = diesel::sql_query(format!(
        "WITH inserted AS (INSERT INTO cases (id, case_number, person_id, category, trafficking_indicated, arrived_at, \
           entry_point, country_left, documents, origin_region, origin_province, origin_address, needs, shelter, status, \
           handling_province, funding_scope, source_agency_id, external_reference, notes, repeat_return, earlier_returns, \
           full_name, passport_number, sex, birth_date, birth_place, phone) \
         SELECT u.id, u.num, u.pid, u.cat, u.traf, u.arr, u.ep, u.cl, string_to_array(u.docs, ','), u.orig, \
           split_part(u.orig, '.', 1), u.addr, string_to_array(u.needs, ','), u.shel, 'registered', u.hp, u.fs, \
           $19, u.ref, u.notes, u.earlier > 0, u.earlier, u.name, u.passport, u.sex, u.birth, u.place, u.phone \
         FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::bool[], $6::timestamptz[], $7::text[], \
           $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], \
           $16::text[], $17::text[], $18::int4[], $20::text[], $21::text[], $22::text[], $23::date[], $24::text[], \
           $25::text[]) \
           AS u(id, num, pid, cat, traf, arr, ep, cl, docs, orig, addr, needs, shel, hp, fs, ref, notes, earlier, \
             name, passport, sex, birth, place, phone) \
         RETURNING *), \
         events AS ({}) \
         SELECT * FROM inserted",
        crate::changes::bulk::case_events("inserted", "'created'")
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
    .bind::<Array<Int4>, _>(earlier)
    .bind::<SqlUuid, _>(source)
    .bind::<Array<Text>, _>(&person.name)
    .bind::<Array<Nullable<Text>>, _>(&person.passport)
    .bind::<Array<Nullable<Text>>, _>(&person.sex)
    .bind::<Array<Nullable<Date>>, _>(&person.birth)
    .bind::<Array<Nullable<Text>>, _>(&person.place)
    .bind::<Array<Nullable<Text>>, _>(&person.phone)
    .load(conn)
    .await?;
    // Each entry names its case, so the entries follow the returned rows.
    let views = with_niks(conn, rows).await?;
    let created: Vec<Uuid> = views.iter().map(|v| v.id).collect();
    let after: Vec<String> = views.iter().map(to_json).collect::<QueryResult<_>>()?;
    crate::changes::bulk::case_history(
        conn,
        actor,
        &created,
        "created",
        &vec![None; views.len()],
        &after,
    )
    .await
}

/// Case views of freshly written rows, with their identities' NIKs read in one query.
async fn with_niks(conn: &mut AsyncPgConnection, rows: Vec<CaseRow>) -> QueryResult<Vec<CaseView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.person_id).collect();
    let niks: HashMap<Uuid, Option<String>> = persons::table
        .filter(persons::id.eq_any(&ids))
        .select((persons::id, persons::nik))
        .load::<(Uuid, Option<String>)>(conn)
        .await?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|row| {
            let nik = niks
                .get(&row.person_id)
                .cloned()
                .ok_or_else(|| missing(format!("person {} of case {}", row.person_id, row.id)))?;
            Ok(CaseView::new(row, nik))
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

impl Update {
    /// Whether the record links the case to another identity: a changed NIK,
    /// or, without a NIK, a changed passport number.
    fn relinks(&self) -> bool {
        let (old, new) = (&self.before.person, &self.new.person);
        new.nik != old.nik || (new.nik.is_none() && new.passport_number != old.passport_number)
    }
}

/// Applies changed records: cases (version + 1), with the returnee as
/// recorded at each return, and `updated` history entries. A record whose NIK
/// (or passport, without a NIK) changed is linked to that identity; the
/// returns of every identity touched are recounted.
pub async fn update_all(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    updates: &[Update],
) -> QueryResult<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let relinked: Vec<usize> = (0..updates.len())
        .filter(|i| updates[*i].relinks())
        .collect();
    let mut person_ids: Vec<Uuid> = updates.iter().map(|u| u.before.person.id).collect();
    if !relinked.is_empty() {
        let people: Vec<&super::input::ValidPerson> =
            relinked.iter().map(|i| &updates[*i].new.person).collect();
        let found = super::identity::resolve(conn, &people).await?;
        for (i, id) in relinked.iter().zip(found) {
            person_ids[*i] = id;
        }
    }
    let old_ids: Vec<Uuid> = updates.iter().map(|u| u.before.person.id).collect();
    let touched: Vec<Uuid> = old_ids.iter().chain(&person_ids).copied().collect();
    let recount = !relinked.is_empty()
        || updates
            .iter()
            .any(|u| u.new.arrived_at != u.before.arrived_at);
    if recount {
        super::identity::lock(conn, &touched).await?;
    }
    let opt =
        |f: fn(&ValidCase) -> Option<String>| updates.iter().map(|u| f(&u.new)).collect::<Vec<_>>();
    let text = |f: fn(&ValidCase) -> String| updates.iter().map(|u| f(&u.new)).collect::<Vec<_>>();
    let person = PersonColumns::of(updates.iter().map(|u| &u.new));
    let ids: Vec<Uuid> = updates.iter().map(|u| u.before.id).collect();
    let rows: Vec<CaseRow> = diesel::sql_query(format!(
        "WITH updated AS (UPDATE cases c SET category = u.cat, trafficking_indicated = u.traf, arrived_at = u.arr, entry_point = u.ep, \
           country_left = u.cl, documents = string_to_array(u.docs, ','), origin_region = u.orig, \
           origin_province = split_part(u.orig, '.', 1), origin_address = u.addr, \
           needs = string_to_array(u.needs, ','), shelter = u.shel, handling_province = u.hp, funding_scope = u.fs, \
           notes = u.notes, person_id = u.pid, full_name = u.name, passport_number = u.passport, sex = u.sex, \
           birth_date = u.birth, birth_place = u.place, phone = u.phone, version = c.version + 1, updated_at = now() \
         FROM unnest($1::uuid[], $2::text[], $3::bool[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], \
           $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::uuid[], \
           $16::text[], $17::text[], $18::text[], $19::date[], $20::text[], $21::text[]) \
           AS u(id, cat, traf, arr, ep, cl, docs, orig, addr, needs, shel, hp, fs, notes, pid, name, passport, sex, \
             birth, place, phone) \
         WHERE c.id = u.id \
         RETURNING c.*), \
         events AS ({}) \
         SELECT * FROM updated",
        crate::changes::bulk::case_events("updated", "'updated'")
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
    .bind::<Array<SqlUuid>, _>(&person_ids)
    .bind::<Array<Text>, _>(&person.name)
    .bind::<Array<Nullable<Text>>, _>(&person.passport)
    .bind::<Array<Nullable<Text>>, _>(&person.sex)
    .bind::<Array<Nullable<Date>>, _>(&person.birth)
    .bind::<Array<Nullable<Text>>, _>(&person.place)
    .bind::<Array<Nullable<Text>>, _>(&person.phone)
    .load(conn)
    .await?;
    let rows = if recount {
        super::identity::reconcile(conn, &touched, &[], &ids).await?;
        for old in &old_ids {
            if !person_ids.contains(old) {
                super::identity::forget_if_unused(conn, *old).await?;
            }
        }
        // The recount may have moved the flags of the rows just written.
        diesel::QueryDsl::filter(cases::table, cases::id.eq_any(&ids))
            .select(CaseRow::as_select())
            .load(conn)
            .await?
    } else {
        rows
    };
    let mut after: HashMap<Uuid, CaseView> = with_niks(conn, rows)
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
    crate::changes::bulk::case_history(conn, actor, &ids, "updated", &before_json, &after_json)
        .await
}
