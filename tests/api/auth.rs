//! Signing in and out, for people and machine clients.

use actix_web::test::TestRequest;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pulang::auth::{PrincipalKind, Role};
use pulang::schema::{agencies, api_clients, users};
use serde_json::json;

use crate::helpers::{TestApp, test_keys, with_token};

#[actix_web::test]
async fn a_user_signs_in_and_the_token_opens_the_api() {
    let app = TestApp::spawn().await;
    let (user, pass) = app
        .create_user("ani.admin", vec![Role::SystemAdmin], None)
        .await;
    let response = app
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "password", "username": user, "password": pass}),
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["roles"], json!(["system_admin"]));
    let claims = test_keys()
        .verify(body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(claims.iss, "pulang");
    assert_eq!(claims.aud, "pulang-api");
    assert_eq!(claims.kind, PrincipalKind::User);
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let (user, _) = app.create_user("budi", vec![Role::Viewer], None).await;
    let wrong = app
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "password", "username": user, "password": "wrong password!"}),
            None,
        )
        .await;
    let unknown = app
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "password", "username": "nobody", "password": "wrong password!"}),
            None,
        )
        .await;
    let (wrong, unknown) = (wrong.assert_problem(401), unknown.assert_problem(401));
    assert_eq!(wrong["detail"], unknown["detail"]);
    assert_eq!(wrong["type"], "/problems/invalid-credentials");
}

#[actix_web::test]
async fn a_deactivated_user_can_neither_sign_in_nor_use_an_old_token() {
    let app = TestApp::spawn().await;
    let (user, pass) = app.create_user("citra", vec![Role::Viewer], None).await;
    let token = app.sign_in(&user, &pass).await;
    diesel::update(users::table.filter(users::username.eq(&user)))
        .set(users::active.eq(false))
        .execute(&mut app.db().await)
        .await
        .unwrap();
    let again = app
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "password", "username": user, "password": pass}),
            None,
        )
        .await;
    again.assert_problem(401);
    let request = with_token(TestRequest::post().uri("/api/v1/auth/logout"), Some(&token));
    app.call(request).await.assert_problem(401);
}

#[actix_web::test]
async fn logout_revokes_the_token() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let first = app
        .call(with_token(
            TestRequest::post().uri("/api/v1/auth/logout"),
            Some(&token),
        ))
        .await;
    assert_eq!(first.status, 204);
    let second = app
        .call(with_token(
            TestRequest::post().uri("/api/v1/auth/logout"),
            Some(&token),
        ))
        .await;
    let problem = second.assert_problem(401);
    assert!(problem["detail"].as_str().unwrap().contains("revoked"));
}

#[actix_web::test]
async fn a_token_from_another_issuer_is_refused() {
    let app = TestApp::spawn().await;
    let (user, pass) = app.create_user("dewi", vec![Role::Viewer], None).await;
    let _ = app.sign_in(&user, &pass).await;
    let foreign = pulang::auth::TokenKeys::new(
        &[1u8; 32],
        "someone-else",
        "pulang-api",
        std::time::Duration::from_secs(60),
    );
    let (token, _) = foreign
        .issue(
            uuid::Uuid::new_v4(),
            PrincipalKind::User,
            uuid::Uuid::new_v4(),
            vec![Role::SystemAdmin],
        )
        .unwrap();
    let response = app
        .call(with_token(
            TestRequest::post().uri("/api/v1/auth/logout"),
            Some(&token),
        ))
        .await;
    response.assert_problem(401);
}

#[actix_web::test]
async fn a_machine_client_signs_in_with_its_credentials() {
    let app = TestApp::spawn().await;
    let _ = app.admin_token().await; // creates the system agency
    let mut conn = app.db().await;
    let agency: uuid::Uuid = agencies::table
        .select(agencies::id)
        .first(&mut conn)
        .await
        .unwrap();
    let secret = pulang::auth::password::random_secret(40);
    diesel::insert_into(api_clients::table)
        .values((
            api_clients::agency_id.eq(agency),
            api_clients::client_id.eq("bp3tki-pontianak"),
            api_clients::name.eq("BP3TKI Pontianak push"),
            api_clients::secret_hash.eq(pulang::auth::password::hash(&secret).unwrap()),
            api_clients::roles.eq(vec![Role::Integration]),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    let response = app
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": "bp3tki-pontianak", "client_secret": secret}),
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let token = response.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        test_keys().verify(&token).unwrap().kind,
        PrincipalKind::Client
    );
    let wrong = app
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": "bp3tki-pontianak", "client_secret": "guess"}),
            None,
        )
        .await;
    wrong.assert_problem(401);
}
