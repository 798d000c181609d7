//! The Diesel schema and the migrations agree, and the migrations run both ways.

use std::collections::BTreeSet;

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;

use crate::helpers::TestApp;

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// Every column of every table that `src/schema.rs` declares, read from the
/// SQL Diesel generates for `SELECT <all columns>`.
fn declared_columns() -> BTreeSet<(String, String)> {
    use diesel::prelude::*;
    use pulang::schema::*;
    let sql = [
        diesel::debug_query::<diesel::pg::Pg, _>(&agencies::table.select(agencies::all_columns))
            .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(&users::table.select(users::all_columns))
            .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(
            &api_clients::table.select(api_clients::all_columns),
        )
        .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(
            &revoked_tokens::table.select(revoked_tokens::all_columns),
        )
        .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(&persons::table.select(persons::all_columns))
            .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(&cases::table.select(cases::all_columns))
            .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(
            &case_history::table.select(case_history::all_columns),
        )
        .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(
            &case_consents::table.select(case_consents::all_columns),
        )
        .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(&read_log::table.select(read_log::all_columns))
            .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(
            &access_grants::table.select(access_grants::all_columns),
        )
        .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(&transfers::table.select(transfers::all_columns))
            .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(
            &transfer_cost_items::table.select(transfer_cost_items::all_columns),
        )
        .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(
            &cost_disputes::table.select(cost_disputes::all_columns),
        )
        .to_string(),
        diesel::debug_query::<diesel::pg::Pg, _>(
            &budget_ledger::table.select(budget_ledger::all_columns),
        )
        .to_string(),
    ];
    let mut set = BTreeSet::new();
    for statement in sql {
        let select = statement.split(" FROM ").next().unwrap();
        for qualified in select.trim_start_matches("SELECT ").split(", ") {
            let parts: Vec<&str> = qualified.split('.').map(|p| p.trim_matches('"')).collect();
            set.insert((parts[0].to_owned(), parts[1].to_owned()));
        }
    }
    set
}

#[actix_web::test]
async fn schema_matches_the_migrations() {
    let app = TestApp::spawn().await;
    let rows: Vec<ColumnRow> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_\\_diesel%'",
    )
    .load(&mut app.db().await)
    .await
    .unwrap();
    let declared = declared_columns();
    let tables: BTreeSet<&String> = declared.iter().map(|(t, _)| t).collect();
    let actual: BTreeSet<(String, String)> = rows
        .into_iter()
        .map(|r| (r.table_name, r.column_name))
        .filter(|(t, _)| tables.contains(t))
        .collect();
    assert_eq!(
        declared, actual,
        "src/schema.rs does not match the migrations; update the table! declarations"
    );
}

#[actix_web::test]
async fn migrations_run_down_and_up_again() {
    let app = TestApp::spawn().await;
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        use diesel_async::AsyncPgConnection;
        use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
        use diesel_migrations::MigrationHarness;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
        conn.revert_all_migrations(pulang::db::MIGRATIONS).unwrap();
        conn.run_pending_migrations(pulang::db::MIGRATIONS).unwrap();
    })
    .await
    .unwrap();
}

/// The identities migration moves each person's details onto their cases:
/// every case keeps exactly the personal details its answer showed before.
#[actix_web::test]
async fn the_identities_migration_keeps_each_cases_personal_details_and_counts_repeats_by_arrival()
{
    let app = TestApp::spawn().await;
    let url = app.database_url.clone();
    // Back to the schema before persons became identities.
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        use diesel_async::AsyncPgConnection;
        use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
        use diesel_migrations::MigrationHarness;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
        loop {
            let applied = conn.applied_migrations().unwrap();
            if !applied
                .iter()
                .any(|v| v.to_string().replace('-', "") == "20261203100000")
            {
                break;
            }
            conn.revert_last_migration(pulang::db::MIGRATIONS).unwrap();
        }
    })
    .await
    .unwrap();
    let mut db = app.db().await;
    diesel::sql_query(
        "INSERT INTO agencies (id, code, name, kind, region_code) VALUES \
           ('00000000-0000-0000-0000-0000000000a1', 'OLD-PUSH', 'Old pusher', 'migrant_protection_service', '61')",
    )
    .execute(&mut db)
    .await
    .unwrap();
    diesel::sql_query(
        "INSERT INTO persons (id, full_name, nik, passport_number, sex, birth_date, birth_place, phone) VALUES \
           ('00000000-0000-0000-0000-000000000001', 'Siti Nurhaliza', '6171015505900002', 'C1234567', 'female', '1990-05-15', 'Pontianak', '+6281'), \
           ('00000000-0000-0000-0000-000000000002', 'Budi', NULL, 'A7654321', 'male', '1985-01-01', NULL, NULL), \
           ('00000000-0000-0000-0000-000000000003', 'Budi S', NULL, 'A7654321', 'male', NULL, 'Sambas', '+6282')",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let case = |n: u32, person: u32, arrived: &str, repeat: bool| {
        format!(
            "('00000000-0000-0000-0000-0000000001{n:02}', 'PLG-2019-0000{n:02}', '00000000-0000-0000-0000-00000000000{person}', \
              'undocumented_migrant', '{arrived}', 'plbn_entikong', 'MY', '61.71', '61', 'registered', '61', 'apbd_shared', \
              '00000000-0000-0000-0000-0000000000a1', {repeat})"
        )
    };
    diesel::sql_query(format!(
        "INSERT INTO cases (id, case_number, person_id, category, arrived_at, entry_point, country_left, origin_region, \
           origin_province, status, handling_province, funding_scope, source_agency_id, repeat_return) VALUES {}, {}, {}, {}",
        // Pushed in an order unlike arrival: the old flag sat on the earlier arrival.
        case(1, 1, "2019-06-01T00:00:00Z", false),
        case(2, 1, "2019-02-01T00:00:00Z", true),
        case(3, 2, "2019-03-01T00:00:00Z", false),
        case(4, 3, "2019-04-01T00:00:00Z", false),
    ))
    .execute(&mut db)
    .await
    .unwrap();
    pulang::db::run_migrations(&app.database_url).await.unwrap();

    let k = app.kalbar().await;
    let case = |n: u32| {
        let app = &app;
        let token = k.case_worker.clone();
        async move {
            app.get(
                &format!("/api/v1/cases/00000000-0000-0000-0000-0000000001{n:02}"),
                Some(&token),
            )
            .await
            .json()
        }
    };
    let (c1, c2, c3, c4) = (case(1).await, case(2).await, case(3).await, case(4).await);
    for c in [&c1, &c2] {
        assert_eq!(
            c["person"],
            serde_json::json!({"id": "00000000-0000-0000-0000-000000000001", "full_name": "Siti Nurhaliza",
                "nik": "6171015505900002", "passport_number": "C1234567", "sex": "female", "birth_date": "1990-05-15",
                "birth_place": "Pontianak", "phone": "+6281", "masked": false})
        );
    }
    assert_eq!(
        (c2["repeat_return"].clone(), c1["repeat_return"].clone()),
        (serde_json::json!(false), serde_json::json!(true))
    );
    assert_eq!(c1["earlier_returns"], 1);
    // The two passport-only persons were one identity; each case keeps its own details.
    assert_eq!(c3["person"]["id"], c4["person"]["id"]);
    assert_eq!(c3["person"]["full_name"], "Budi");
    assert_eq!(c3["person"]["birth_date"], "1985-01-01");
    assert_eq!(c4["person"]["full_name"], "Budi S");
    assert_eq!(c4["person"]["birth_place"], "Sambas");
    assert_eq!(c4["person"]["phone"], "+6282");
    assert_eq!(c4["repeat_return"], true);
}
