//! Operating Pulang: signing keys rotated under use.

use std::time::Duration;

use pulang::auth::{Role, TokenKeys};

use crate::helpers::{TestApp, TestOptions};

fn keys(secret: &str) -> TokenKeys {
    TokenKeys::new(
        secret.as_bytes(),
        "pulang",
        "pulang-api",
        Duration::from_secs(900),
    )
}

#[actix_web::test]
async fn a_signing_key_is_retired_without_ending_sessions_and_then_refused() {
    let old = pulang::auth::password::random_secret(48);
    let new = pulang::auth::password::random_secret(48);
    let options = |keys: TokenKeys| TestOptions {
        token_keys: Some(keys),
        ..TestOptions::default()
    };
    let before = TestApp::spawn_with(options(keys(&old))).await;
    let (username, password) = before
        .create_user("rotation.admin", vec![Role::SystemAdmin], None)
        .await;
    let session = before.sign_in(&username, &password).await;
    assert_eq!(before.get("/api/v1/me", Some(&session)).await.status, 200);

    // Rotation: the new key signs, the old one still verifies.
    let rotating = TestApp::on_database(
        &before.database_url,
        options(keys(&new).with_previous([old.as_bytes()])),
    )
    .await;
    assert_eq!(
        rotating.get("/api/v1/me", Some(&session)).await.status,
        200,
        "a session signed with the retired key goes on"
    );
    let fresh = rotating.sign_in(&username, &password).await;
    let kid = jsonwebtoken::decode_header(&fresh).unwrap().kid;
    assert_eq!(
        kid.as_deref(),
        Some(pulang::auth::tokens::key_id(new.as_bytes()).as_str())
    );

    // Once its tokens have expired, the old key is dropped: it is an unknown kid.
    let after = TestApp::on_database(&before.database_url, options(keys(&new))).await;
    let refused = after.get("/api/v1/me", Some(&session)).await;
    assert_eq!(
        refused.assert_problem(401)["detail"]
            .as_str()
            .map(|d| d.contains("kid")),
        Some(true)
    );
    assert_eq!(after.get("/api/v1/me", Some(&fresh)).await.status, 200);
}

#[actix_web::test]
async fn metrics_are_scraped_on_their_own_listener_by_route_template() {
    use actix_web::{App, test, web};
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let case = app
        .post(
            "/api/v1/cases",
            &crate::helpers::new_case(1, "61.71"),
            Some(&k.push_client),
        )
        .await;
    assert_eq!(case.status, 201, "{}", case.text());
    let id = case.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(&format!("/api/v1/cases/{id}"), Some(&k.case_worker))
            .await
            .status,
        200
    );
    let batch = serde_json::json!({"records": [crate::helpers::new_case(2, "61.71")]});
    assert_eq!(
        app.post("/api/v1/cases/batch", &batch, Some(&k.push_client))
            .await
            .status,
        200
    );
    // The public API has no /metrics.
    assert_eq!(app.get("/metrics", None).await.status, 404);

    let settings = pulang::config::Settings::from_lookup(|_| None).unwrap();
    let pool = pulang::db::build_pool(&app.database_url, 2).unwrap();
    let state = web::Data::new(
        pulang::state::AppState::new(pool, crate::helpers::test_keys(), settings).unwrap(),
    );
    let listener = test::init_service(
        App::new()
            .app_data(state)
            .configure(pulang::metrics::routes),
    )
    .await;
    let response = test::call_service(
        &listener,
        test::TestRequest::get().uri("/metrics").to_request(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    for expected in [
        r#"pulang_http_requests_total{method="GET",route="/api/v1/cases/{id}",status="200"}"#,
        r#"pulang_http_requests_total{method="POST",route="/api/v1/cases",status="201"}"#,
        r#"pulang_http_request_duration_seconds_bucket{method="GET",route="/api/v1/cases/{id}",le="0.5"}"#,
        "pulang_http_requests_in_flight",
        "pulang_db_pool_max_connections 2",
        r#"pulang_bulk_records_total{result="created"}"#,
        "pulang_change_feed_lag_seconds",
        "pulang_db_pool_timeouts_total",
        r#"pulang_build_info{version=""#,
    ] {
        assert!(body.contains(expected), "no {expected} in\n{body}");
    }
    assert!(!body.contains(&id), "route templates, never concrete paths");
}
