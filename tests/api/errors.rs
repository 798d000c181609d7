//! Every failure, including actix's own, is an RFC 9457 problem document.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{TestApp, with_token};

#[actix_web::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/no-such-thing", None).await;
    let problem = response.assert_problem(404);
    assert_eq!(problem["instance"], "/api/v1/no-such-thing");
    assert_eq!(problem["type"], "/problems/not-found");
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_listing_the_allowed_ones() {
    let app = TestApp::spawn().await;
    let response = app
        .call(TestRequest::delete().uri("/api/v1/auth/token"))
        .await;
    response.assert_problem(405);
    assert_eq!(response.header("allow").as_deref(), Some("POST"));
}

#[actix_web::test]
async fn a_malformed_body_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let request = TestRequest::post()
        .uri("/api/v1/auth/token")
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"grant_type\": ");
    let problem = app.call(request).await.assert_problem(400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("malformed JSON")
    );
}

#[actix_web::test]
async fn a_body_of_the_wrong_shape_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "password", "username": "ani", "password": 5}),
            None,
        )
        .await;
    let problem = response.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "password");
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = TestApp::spawn().await;
    let request = TestRequest::post()
        .uri("/api/v1/auth/token")
        .insert_header(("content-type", "text/plain"))
        .set_payload("username=ani");
    app.call(request).await.assert_problem(415);
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413() {
    let app = crate::helpers::TestApp::spawn_with(crate::helpers::TestOptions {
        env: vec![("PULANG_MAX_BODY_BYTES".into(), "1024".into())],
        ..Default::default()
    })
    .await;
    let big = json!({"grant_type": "password", "username": "x".repeat(4096), "password": "y"});
    app.post("/api/v1/auth/token", &big, None)
        .await
        .assert_problem(413);
}

#[actix_web::test]
async fn a_missing_token_is_a_401_with_a_challenge() {
    let app = TestApp::spawn().await;
    let response = app
        .call(TestRequest::post().uri("/api/v1/auth/logout"))
        .await;
    response.assert_problem(401);
    assert!(
        response
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
}

#[actix_web::test]
async fn a_garbage_token_is_a_401() {
    let app = TestApp::spawn().await;
    let request = with_token(
        TestRequest::post().uri("/api/v1/auth/logout"),
        Some("not.a.jwt"),
    );
    let response = app.call(request).await;
    response.assert_problem(401);
    assert!(
        response
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
}

#[actix_web::test]
async fn the_request_id_is_echoed_or_made_up() {
    let app = TestApp::spawn().await;
    let given = app
        .call(
            TestRequest::get()
                .uri("/nowhere")
                .insert_header(("x-request-id", "trace-123")),
        )
        .await;
    assert_eq!(given.header("x-request-id").as_deref(), Some("trace-123"));
    assert_eq!(given.json()["request_id"], "trace-123");
    let made = app.get("/health/live", None).await;
    assert_eq!(made.header("x-request-id").unwrap().len(), 36);
}

#[actix_web::test]
async fn api_responses_carry_security_headers() {
    let app = TestApp::spawn().await;
    let response = app.get("/health/live", None).await;
    assert_eq!(
        response.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );
}

#[actix_web::test]
async fn a_configured_frontend_may_call_from_a_browser() {
    let app = TestApp::spawn().await;
    let preflight = TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/api/v1/auth/token")
        .insert_header(("origin", "https://frontend.example"))
        .insert_header(("access-control-request-method", "POST"))
        .insert_header(("access-control-request-headers", "content-type"));
    let response = app.call(preflight).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("access-control-allow-origin").as_deref(),
        Some("https://frontend.example")
    );
}

#[actix_web::test]
async fn an_unknown_origin_is_refused_with_a_problem() {
    let app = TestApp::spawn().await;
    let request = TestRequest::get()
        .uri("/health/live")
        .insert_header(("origin", "https://evil.example"));
    let response = app.call(request).await;
    assert!(response.header("access-control-allow-origin").is_none());
    if response.status.as_u16() >= 400 {
        response.assert_problem(response.status.as_u16());
    }
}

#[actix_web::test]
async fn a_sign_in_without_its_secret_names_the_missing_field() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": "x"}),
            None,
        )
        .await;
    let problem = response.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "client_secret");
}

#[actix_web::test]
async fn a_problem_is_in_bahasa_indonesia_when_accept_language_asks_for_it() {
    use actix_web::test::TestRequest;
    let app = crate::helpers::TestApp::spawn().await;
    let request = || {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .set_json(serde_json::json!({"grant_type": "password", "username": "petugas"}))
    };
    let indonesian = app
        .call(request().insert_header(("accept-language", "id-ID,id;q=0.9,en;q=0.5")))
        .await;
    assert_eq!(indonesian.status, 422);
    assert_eq!(indonesian.header("content-language").as_deref(), Some("id"));
    let body = indonesian.json();
    assert_eq!(body["title"], "Masukan tidak valid");
    assert_eq!(body["detail"], "password: wajib diisi untuk grant_type ini");
    assert_eq!(
        body["errors"][0]["message"],
        "wajib diisi untuk grant_type ini"
    );

    let english = app.call(request()).await;
    assert_eq!(english.header("content-language").as_deref(), Some("en"));
    assert_eq!(english.json()["title"], "Invalid input");
    assert_eq!(
        english.json()["detail"],
        "password: is required for this grant_type"
    );
}
