use crate::helpers::{TestApp, TestOptions};

#[actix_web::test]
async fn liveness_needs_no_token_and_no_database() {
    let app = TestApp::spawn_with(TestOptions {
        unreachable_database: true,
        ..TestOptions::default()
    })
    .await;
    let response = app.get("/health/live", None).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["status"], "live");
}

#[actix_web::test]
async fn readiness_reports_the_applied_schema() {
    let app = TestApp::spawn().await;
    let response = app.get("/health/ready", None).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["status"], "ready");
    assert_eq!(
        body["schema_version"].as_str(),
        pulang::db::latest_migration_version()
    );
}

#[actix_web::test]
async fn an_unreachable_database_is_a_503_with_retry_after() {
    let app = TestApp::spawn_with(TestOptions {
        unreachable_database: true,
        ..TestOptions::default()
    })
    .await;
    let response = app.get("/health/ready", None).await;
    let problem = response.assert_problem(503);
    assert!(response.header("retry-after").is_some());
    assert!(
        !problem.to_string().contains("nonexistent"),
        "internal detail leaked: {problem}"
    );
}
