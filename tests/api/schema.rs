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
