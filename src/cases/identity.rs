//! Identities: what links the returns of one person across the country.
//!
//! A person (`persons` row) is an identity and nothing more: the NIK when one
//! is known, else a passport number, and what the NIK fixes (sex, birth date).
//! Everything recorded at a return — the name as spelled then, passport, phone,
//! birth place, address — belongs to that return's case, so writing one case
//! never changes another's data.
//!
//! The identity carries the repeat-return signal across scopes: the first
//! return of an identity is the one with the earliest arrival (then the lowest
//! case id), every later one is a repeat, whatever order the records arrived
//! in ([`earlier_counts`]). Writers lock the identities they touch (in id
//! order) before counting, so concurrent writers of the same identity count
//! one after the other; when a late record moves the flag of a case already
//! stored, that case gets a `repeat_return_changed` history entry and change
//! event, recorded by the system rather than by the caller, whose agency the
//! other case's scope must not learn.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::input::ValidPerson;
use crate::schema::persons;

/// One return as the repeat rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Return {
    /// The case.
    pub case_id: Uuid,
    /// Its identity.
    pub person_id: Uuid,
    /// When it arrived.
    pub arrived_at: DateTime<Utc>,
}

/// For every return, how many returns of the same identity arrived before it:
/// ordered by arrival, then by case id, so that the answer depends on the
/// returns alone and never on the order they were recorded in.
pub fn earlier_counts(returns: &[Return]) -> HashMap<Uuid, i32> {
    let mut by_person: HashMap<Uuid, Vec<&Return>> = HashMap::new();
    for r in returns {
        by_person.entry(r.person_id).or_default().push(r);
    }
    let mut counts = HashMap::with_capacity(returns.len());
    for (_, mut list) in by_person {
        list.sort_by_key(|r| (r.arrived_at, r.case_id));
        for (n, r) in list.into_iter().enumerate() {
            counts.insert(r.case_id, n as i32);
        }
    }
    counts
}

#[derive(QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The identities of `people`, in order: found by NIK; without a NIK, by
/// passport (an identity keyed by that passport, else the identity of the
/// latest return that held it); else recorded anew. A person with neither NIK
/// nor passport gets an identity of their own. Safe against concurrent writers:
/// a NIK or passport recorded by another transaction a moment ago is linked to.
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    people: &[&ValidPerson],
) -> QueryResult<Vec<Uuid>> {
    let niks: Vec<&str> = people.iter().filter_map(|p| p.nik.as_deref()).collect();
    let passports: Vec<&str> = people
        .iter()
        .filter(|p| p.nik.is_none())
        .filter_map(|p| p.passport_number.as_deref())
        .collect();
    let mut by_nik = existing_by_nik(conn, &niks).await?;
    let mut by_passport = existing_by_passport(conn, &passports).await?;

    // New identities, one per key.
    let (mut nik_ids, mut nik_keys, mut nik_sex, mut nik_birth) = (vec![], vec![], vec![], vec![]);
    let (mut pass_ids, mut pass_keys) = (vec![], vec![]);
    let mut keyless = Vec::new();
    let mut ids = Vec::with_capacity(people.len());
    for p in people {
        let id = match (&p.nik, &p.passport_number) {
            (Some(nik), _) => *by_nik.entry(nik.clone()).or_insert_with(|| {
                let id = super::new_id();
                nik_ids.push(id);
                nik_keys.push(nik.clone());
                nik_sex.push(p.sex.map(|s| s.as_str().to_owned()));
                nik_birth.push(p.birth_date);
                id
            }),
            (None, Some(passport)) => *by_passport.entry(passport.clone()).or_insert_with(|| {
                let id = super::new_id();
                pass_ids.push(id);
                pass_keys.push(passport.clone());
                id
            }),
            (None, None) => {
                let id = super::new_id();
                keyless.push(id);
                id
            }
        };
        ids.push(id);
    }
    if !nik_ids.is_empty() {
        diesel::sql_query(
            "INSERT INTO persons (id, nik, sex, birth_date) \
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[]) \
             ON CONFLICT (nik) WHERE nik IS NOT NULL DO NOTHING",
        )
        .bind::<Array<SqlUuid>, _>(&nik_ids)
        .bind::<Array<Text>, _>(&nik_keys)
        .bind::<Array<Nullable<Text>>, _>(&nik_sex)
        .bind::<Array<Nullable<Date>>, _>(&nik_birth)
        .execute(conn)
        .await?;
        // A NIK another transaction recorded a moment ago won: link to that identity.
        let actual = existing_by_nik(
            conn,
            &nik_keys.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await?;
        for (id, p) in ids.iter_mut().zip(people) {
            if let Some(real) = p.nik.as_ref().and_then(|n| actual.get(n)) {
                *id = *real;
            }
        }
    }
    if !pass_ids.is_empty() {
        diesel::sql_query(
            "INSERT INTO persons (id, passport_number) \
             SELECT * FROM unnest($1::uuid[], $2::text[]) \
             ON CONFLICT (passport_number) WHERE nik IS NULL AND passport_number IS NOT NULL DO NOTHING",
        )
        .bind::<Array<SqlUuid>, _>(&pass_ids)
        .bind::<Array<Text>, _>(&pass_keys)
        .execute(conn)
        .await?;
        let actual = keyed_by_passport(
            conn,
            &pass_keys.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await?;
        for (id, p) in ids.iter_mut().zip(people) {
            if p.nik.is_none()
                && let Some(real) = p.passport_number.as_ref().and_then(|n| actual.get(n))
            {
                *id = *real;
            }
        }
    }
    if !keyless.is_empty() {
        diesel::insert_into(persons::table)
            .values(
                keyless
                    .iter()
                    .map(|id| persons::id.eq(*id))
                    .collect::<Vec<_>>(),
            )
            .execute(conn)
            .await?;
    }
    Ok(ids)
}

async fn existing_by_nik(
    conn: &mut AsyncPgConnection,
    niks: &[&str],
) -> QueryResult<HashMap<String, Uuid>> {
    if niks.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(persons::table
        .filter(persons::nik.eq_any(niks))
        .select((persons::nik.assume_not_null(), persons::id))
        .load::<(String, Uuid)>(conn)
        .await?
        .into_iter()
        .collect())
}

/// Identities keyed by these passports.
async fn keyed_by_passport(
    conn: &mut AsyncPgConnection,
    passports: &[&str],
) -> QueryResult<HashMap<String, Uuid>> {
    if passports.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(persons::table
        .filter(persons::nik.is_null())
        .filter(persons::passport_number.eq_any(passports))
        .select((persons::passport_number.assume_not_null(), persons::id))
        .load::<(String, Uuid)>(conn)
        .await?
        .into_iter()
        .collect())
}

/// The identity a passport links to: the identity keyed by it, else that of
/// the latest return that held it (which may be an identity with a NIK).
async fn existing_by_passport(
    conn: &mut AsyncPgConnection,
    passports: &[&str],
) -> QueryResult<HashMap<String, Uuid>> {
    let mut found = keyed_by_passport(conn, passports).await?;
    let rest: Vec<&str> = passports
        .iter()
        .copied()
        .filter(|p| !found.contains_key(*p))
        .collect();
    if !rest.is_empty() {
        let rows: Vec<KeyRow> = diesel::sql_query(
            "SELECT DISTINCT ON (passport_number) passport_number AS key, person_id AS id \
             FROM cases WHERE passport_number = ANY($1) \
             ORDER BY passport_number, arrived_at DESC, id DESC",
        )
        .bind::<Array<Text>, _>(&rest)
        .load(conn)
        .await?;
        found.extend(rows.into_iter().map(|r| (r.key, r.id)));
    }
    Ok(found)
}

/// Locks the identities (in id order, so that writers of overlapping sets
/// cannot deadlock) for the rest of the transaction.
pub async fn lock(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<()> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    persons::table
        .filter(persons::id.eq_any(&ids))
        .order(persons::id)
        .select(persons::id)
        .for_update()
        .load::<Uuid>(conn)
        .await
        .map(drop)
}

/// Deletes an identity no case links to any more (after a correction or a
/// merge), so that no NIK or passport is kept without a return.
pub async fn forget_if_unused(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::sql_query(
        "DELETE FROM persons p WHERE p.id = $1 AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id)",
    )
    .bind::<SqlUuid, _>(id)
    .execute(conn)
    .await
    .map(drop)
}

#[derive(QueryableByName)]
struct StoredReturn {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    person_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    arrived_at: DateTime<Utc>,
    #[diesel(sql_type = Int4)]
    earlier_returns: i32,
}

/// Recounts the returns of `identities` (already locked), with `new` returns
/// about to be inserted. Stored cases whose count changes are updated: those
/// in `quiet` (being written by the caller, whose own history entry covers
/// them) only get the new count; every other one also a new version, a
/// `repeat_return_changed` history entry and change event, recorded by the
/// system. Returns the count of each new return.
pub async fn reconcile(
    conn: &mut AsyncPgConnection,
    identities: &[Uuid],
    new: &[Return],
    quiet: &[Uuid],
) -> QueryResult<HashMap<Uuid, i32>> {
    let mut identities = identities.to_vec();
    identities.sort();
    identities.dedup();
    let new_ids: Vec<Uuid> = new.iter().map(|r| r.case_id).collect();
    let stored: Vec<StoredReturn> = diesel::sql_query(
        "SELECT id, person_id, arrived_at, earlier_returns FROM cases \
         WHERE person_id = ANY($1) AND NOT (id = ANY($2))",
    )
    .bind::<Array<SqlUuid>, _>(&identities)
    .bind::<Array<SqlUuid>, _>(&new_ids)
    .load(conn)
    .await?;
    let all: Vec<Return> = stored
        .iter()
        .map(|s| Return {
            case_id: s.id,
            person_id: s.person_id,
            arrived_at: s.arrived_at,
        })
        .chain(new.iter().copied())
        .collect();
    let counts = earlier_counts(&all);
    let quiet: std::collections::HashSet<Uuid> = quiet.iter().copied().collect();
    let (mut loud, mut loud_counts, mut silent, mut silent_counts) =
        (vec![], vec![], vec![], vec![]);
    for s in &stored {
        let count = counts[&s.id];
        if count != s.earlier_returns {
            if quiet.contains(&s.id) {
                silent.push(s.id);
                silent_counts.push(count);
            } else {
                loud.push(s.id);
                loud_counts.push(count);
            }
        }
    }
    if !silent.is_empty() {
        diesel::sql_query(
            "UPDATE cases c SET earlier_returns = u.n, repeat_return = u.n > 0 \
             FROM unnest($1::uuid[], $2::int4[]) AS u(id, n) WHERE c.id = u.id",
        )
        .bind::<Array<SqlUuid>, _>(&silent)
        .bind::<Array<Int4>, _>(&silent_counts)
        .execute(conn)
        .await?;
    }
    if !loud.is_empty() {
        diesel::sql_query(format!(
            "WITH before AS (SELECT id, repeat_return, earlier_returns FROM cases WHERE id = ANY($1)), \
             changed AS (UPDATE cases c SET earlier_returns = u.n, repeat_return = u.n > 0, \
                 version = c.version + 1, updated_at = now() \
               FROM unnest($1::uuid[], $2::int4[]) AS u(id, n) WHERE c.id = u.id RETURNING c.*), \
             history AS ({}), \
             events AS ({}) \
             SELECT 1",
            crate::changes::bulk::repeat_return_history("changed", "before"),
            crate::changes::bulk::case_events("changed", "'repeat_return_changed'")
        ))
        .bind::<Array<SqlUuid>, _>(&loud)
        .bind::<Array<Int4>, _>(&loud_counts)
        .execute(conn)
        .await?;
    }
    Ok(new_ids.iter().map(|id| (*id, counts[id])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(day: u32) -> DateTime<Utc> {
        format!("2019-03-{day:02}T00:00:00Z").parse().unwrap()
    }

    fn ret(case: u128, person: u128, day: u32) -> Return {
        Return {
            case_id: Uuid::from_u128(case),
            person_id: Uuid::from_u128(person),
            arrived_at: at(day),
        }
    }

    #[test]
    fn the_earliest_arrival_is_the_first_return_whatever_the_order_given() {
        let counts = earlier_counts(&[ret(1, 9, 20), ret(2, 9, 5), ret(3, 9, 12), ret(4, 8, 1)]);
        assert_eq!(counts[&Uuid::from_u128(2)], 0);
        assert_eq!(counts[&Uuid::from_u128(3)], 1);
        assert_eq!(counts[&Uuid::from_u128(1)], 2);
        assert_eq!(counts[&Uuid::from_u128(4)], 0, "another identity");
    }

    #[test]
    fn two_returns_on_the_same_instant_are_ordered_by_case_id() {
        let counts = earlier_counts(&[ret(7, 9, 3), ret(5, 9, 3)]);
        assert_eq!(counts[&Uuid::from_u128(5)], 0);
        assert_eq!(counts[&Uuid::from_u128(7)], 1);
    }

    proptest! {
        #[test]
        fn the_counts_do_not_depend_on_the_order_of_the_returns(
            raw in proptest::collection::vec((0u128..50, 0u128..4, 1u32..28), 0..40),
            seed in any::<u64>(),
        ) {
            let mut returns: Vec<Return> = raw.iter().enumerate()
                .map(|(i, (_, person, day))| ret(i as u128, *person, *day)).collect();
            let first = earlier_counts(&returns);
            // A deterministic shuffle.
            let mut state = seed;
            for i in (1..returns.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                returns.swap(i, (state >> 33) as usize % (i + 1));
            }
            prop_assert_eq!(&first, &earlier_counts(&returns));
            // Each identity's counts are 0..n.
            let mut per: HashMap<Uuid, Vec<i32>> = HashMap::new();
            for r in &returns { per.entry(r.person_id).or_default().push(first[&r.case_id]); }
            for (_, mut v) in per { v.sort(); prop_assert_eq!(v.clone(), (0..v.len() as i32).collect::<Vec<_>>()); }
        }
    }
}
