//! Time limits and the ways of losing the database that one test database
//! can show without disturbing the others: locks, a read-only database, a
//! busy pool, a statement that runs too long, a killed backend, and exports
//! that hold one snapshot.

use std::time::{Duration, Instant};

use actix_web::ResponseError;
use actix_web::body::to_bytes;
use actix_web::test::TestRequest;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use pulang::auth::Role;
use pulang::db::DbLimits;
use pulang::error::ApiError;

use crate::helpers::{TestApp, TestOptions, new_case, with_token};

fn with_env(vars: &[(&str, &str)]) -> TestOptions {
    let mut options = TestOptions::default();
    options
        .env
        .extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    options
}

/// Holds an exclusive lock on the cases table until the connection rolls back.
async fn lock_cases(app: &TestApp) -> AsyncPgConnection {
    let mut conn = app.db().await;
    conn.batch_execute("BEGIN; LOCK TABLE cases IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    conn
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Backends of this database, other than `conn`, that are not idle.
async fn busy_backends(conn: &mut AsyncPgConnection) -> i64 {
    diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'",
    )
    .get_result::<Count>(conn)
    .await
    .unwrap()
    .n
}

async fn create_case(app: &TestApp, token: &str, n: u32) -> String {
    let r = app
        .post("/api/v1/cases", &new_case(n, "35.07"), Some(token))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_request_held_by_a_lock_past_its_deadline_answers_504_naming_the_limit_and_leaves_no_connection_behind()
 {
    let app = TestApp::spawn_with(with_env(&[
        ("PULANG_REQUEST_TIMEOUT_MS", "1000"),
        ("PULANG_LOCK_TIMEOUT_MS", "20000"),
    ]))
    .await;
    let k = app.kalbar().await;
    let id = create_case(&app, &k.case_worker, 1).await;

    let mut lock = lock_cases(&app).await;
    let started = Instant::now();
    let request = TestRequest::get()
        .uri(&format!("/api/v1/cases/{id}"))
        .insert_header(("Origin", "https://frontend.example"));
    let r = app.call(with_token(request, Some(&k.case_worker))).await;
    let waited = started.elapsed();
    let problem = r.assert_problem(504);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://frontend.example"),
        "a browser frontend must be able to read the 504"
    );
    assert_eq!(
        r.header("x-request-id"),
        problem["request_id"].as_str().map(str::to_owned)
    );
    assert_eq!(problem["limit"], "PULANG_REQUEST_TIMEOUT_MS", "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("PULANG_REQUEST_TIMEOUT_MS"),
        "{problem}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "the deadline of 1 s took {waited:?}"
    );

    lock.batch_execute("ROLLBACK").await.unwrap();
    let r = app
        .get(&format!("/api/v1/cases/{id}"), Some(&k.case_worker))
        .await;
    assert_eq!(r.status, 200, "the pool did not recover: {}", r.text());
    let deadline = Instant::now() + Duration::from_secs(5);
    while busy_backends(&mut lock).await > 0 {
        assert!(
            Instant::now() < deadline,
            "a connection is still busy or idle in a transaction after the deadline"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_lock_held_past_the_lock_timeout_answers_503_naming_the_lock_timeout() {
    let app = TestApp::spawn_with(with_env(&[("PULANG_LOCK_TIMEOUT_MS", "300")])).await;
    let k = app.kalbar().await;
    let id = create_case(&app, &k.case_worker, 1).await;
    let mut lock = lock_cases(&app).await;
    let r = app
        .get(&format!("/api/v1/cases/{id}"), Some(&k.case_worker))
        .await;
    let problem = r.assert_problem(503);
    assert_eq!(problem["reason"], "lock_timeout", "{problem}");
    assert!(r.header("retry-after").is_some());
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("PULANG_LOCK_TIMEOUT_MS")
    );
    lock.batch_execute("ROLLBACK").await.unwrap();
    let r = app
        .get(&format!("/api/v1/cases/{id}"), Some(&k.case_worker))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[actix_web::test]
async fn a_read_only_database_refuses_writes_with_503_serves_reads_and_is_not_ready() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    create_case(&app, &k.case_worker, 1).await;
    let (user, password) = app.create_user("reader", vec![Role::Viewer], None).await;
    // The pool opened its connections before; new sessions see the setting.
    let app = TestApp::on_database(&app.database_url, TestOptions::default()).await;
    let mut admin = app.db().await;
    diesel::sql_query(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database()); END $$",
    )
    .execute(&mut admin)
    .await
    .unwrap();

    let r = app
        .post("/api/v1/cases", &new_case(2, "35.07"), Some(&k.case_worker))
        .await;
    let problem = r.assert_problem(503);
    assert_eq!(problem["reason"], "read_only", "{problem}");
    assert!(r.header("retry-after").is_some());

    let r = app.get("/api/v1/cases", Some(&k.case_worker)).await;
    assert_eq!(r.status, 200, "reads still work: {}", r.text());

    // A sign-in records its attempt, so it is a write too: 503, not 500.
    let r = app
        .post(
            "/api/v1/auth/token",
            &serde_json::json!({"grant_type": "password", "username": user, "password": password}),
            None,
        )
        .await;
    let problem = r.assert_problem(503);
    assert_eq!(problem["reason"], "read_only", "{problem}");

    let r = app.get("/health/ready", None).await;
    let problem = r.assert_problem(503);
    assert_eq!(problem["reason"], "read_only", "{problem}");
}

#[actix_web::test]
async fn a_pool_with_every_connection_taken_is_busy_and_a_long_statement_is_cancelled_by_its_timeout()
 {
    let app = TestApp::spawn().await;
    let limits = DbLimits {
        statement: Duration::from_millis(200),
        pool_wait: Duration::from_millis(100),
        ..DbLimits::default()
    };
    let pool = pulang::db::build_pool_with(&app.database_url, 1, limits).unwrap();
    let mut held = pool.get().await.unwrap();

    let busy = ApiError::from(pool.get().await.err().expect("the pool has one connection"));
    let response = busy.error_response();
    assert_eq!(response.status(), 503);
    assert_eq!(busy.to_problem().extensions.unwrap()["reason"], "busy");

    let slow = diesel::sql_query("SELECT pg_sleep(2)")
        .execute(&mut *held)
        .await
        .unwrap_err();
    let problem = ApiError::from(slow).to_problem();
    assert_eq!(problem.status, 503);
    assert_eq!(problem.extensions.unwrap()["reason"], "statement_timeout");

    // The connection is fine after the cancel, and an ended backend is an outage, not a bug.
    diesel::sql_query("SELECT 1")
        .execute(&mut *held)
        .await
        .unwrap();
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut app.db().await)
    .await
    .unwrap();
    let ended = diesel::sql_query("SELECT 1")
        .execute(&mut *held)
        .await
        .unwrap_err();
    let problem = ApiError::from(ended).to_problem();
    assert_eq!(problem.status, 503, "{problem:?}");
    let reason = problem.extensions.unwrap()["reason"].clone();
    assert!(
        reason == "restarting" || reason == "unreachable",
        "{reason}"
    );
}

async fn csv_request(app: &TestApp, token: &str) -> actix_web::dev::ServiceResponse {
    let request = TestRequest::get()
        .uri("/api/v1/cases?sort=arrived_at")
        .insert_header(("Accept", "text/csv"));
    app.call_raw(with_token(request, Some(token))).await
}

#[actix_web::test]
async fn an_export_is_one_moment_of_the_data_across_its_pages() {
    let app = TestApp::spawn_with(with_env(&[("PULANG_EXPORT_PAGE_ROWS", "2")])).await;
    let k = app.kalbar().await;
    for n in 0..7 {
        create_case(&app, &k.case_worker, n).await;
    }
    let response = csv_request(&app, &k.case_worker).await;
    assert_eq!(response.status(), 200);
    // A change after the first page: no later page may show it.
    diesel::sql_query("UPDATE cases SET country_left = 'SG'")
        .execute(&mut app.db().await)
        .await
        .unwrap();
    let body = to_bytes(response.into_body()).await.unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    let lines: Vec<&str> = body.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 8, "a header and 7 cases: {body}");
    assert!(
        lines[1..].iter().all(|l| l.contains(",MY,")),
        "a page saw a later moment: {body}"
    );

    // JSON when the client prefers it, by quality.
    let request = TestRequest::get()
        .uri("/api/v1/cases")
        .insert_header(("Accept", "text/csv;q=0.5, application/json"));
    let r = app.call(with_token(request, Some(&k.case_worker))).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["items"].is_array(), "{}", r.text());
}

#[actix_web::test]
async fn an_export_that_fails_part_way_ends_without_its_final_chunk() {
    let app = TestApp::spawn_with(with_env(&[("PULANG_EXPORT_PAGE_ROWS", "2")])).await;
    let k = app.kalbar().await;
    for n in 0..7 {
        create_case(&app, &k.case_worker, n).await;
    }
    let response = csv_request(&app, &k.case_worker).await;
    assert_eq!(response.status(), 200);
    #[derive(diesel::QueryableByName)]
    struct Ended {
        #[diesel(sql_type = Text)]
        state: String,
    }
    let ended: Vec<Ended> = diesel::sql_query(
        "SELECT state, pg_terminate_backend(pid)::text FROM pg_stat_activity \
         WHERE datname = current_database() AND state = 'idle in transaction'",
    )
    .load(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!(
        ended.len(),
        1,
        "the export holds one connection in one transaction"
    );
    assert_eq!(ended[0].state, "idle in transaction");
    assert!(
        to_bytes(response.into_body()).await.is_err(),
        "the body must end with an error, not as a complete file"
    );
    let r = app.get("/api/v1/cases", Some(&k.case_worker)).await;
    assert_eq!(r.status, 200, "{}", r.text());
}
