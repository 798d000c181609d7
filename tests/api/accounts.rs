//! Users and machine clients of an agency, and the caller's own account.

use pulang::agencies::AgencyKind;
use pulang::auth::Role;
use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn an_agency_admin_manages_its_own_agency_only() {
    let app = TestApp::spawn().await;
    let own = app
        .create_agency(
            "DINSOS-KALBAR",
            AgencyKind::ProvincialSocialService,
            Some("61"),
        )
        .await;
    let other = app
        .create_agency(
            "DINSOS-JATIM",
            AgencyKind::ProvincialSocialService,
            Some("35"),
        )
        .await;
    let (_, admin) = app
        .user_token(own, "admin.kalbar", vec![Role::AgencyAdmin])
        .await;

    let created = app
        .post(
            &format!("/api/v1/agencies/{own}/users"),
            &json!({"username": "Ani.Kalbar", "full_name": "Ani", "roles": ["case_worker"]}),
            Some(&admin),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let body = created.json();
    assert_eq!(body["username"], "ani.kalbar");
    let initial = body["initial_password"].as_str().unwrap().to_owned();
    assert!(body.get("password_hash").is_none());
    let token = app.sign_in("ani.kalbar", &initial).await;
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.json()["roles"],
        json!(["case_worker"])
    );

    let listed = app
        .get(&format!("/api/v1/agencies/{own}/users"), Some(&admin))
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    app.get(&format!("/api/v1/agencies/{other}/users"), Some(&admin))
        .await
        .assert_problem(403);
    app.post(
        &format!("/api/v1/agencies/{other}/users"),
        &json!({"username": "x.y", "full_name": "x", "roles": ["viewer"]}),
        Some(&admin),
    )
    .await
    .assert_problem(403);
    let escalate = app
        .post(
            &format!("/api/v1/agencies/{own}/users"),
            &json!({"username": "boss", "full_name": "x", "roles": ["system_admin"]}),
            Some(&admin),
        )
        .await
        .assert_problem(422);
    assert_eq!(escalate["errors"][0]["field"], "roles");
}

#[actix_web::test]
async fn a_taken_username_is_a_409_and_a_weak_password_a_422() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agency = app
        .create_agency("KESRA", AgencyKind::ProvincialSecretariat, Some("61"))
        .await;
    let path = format!("/api/v1/agencies/{agency}/users");
    let body = json!({"username": "kesra.kalbar", "full_name": "Kesra", "roles": ["viewer"], "password": "a long enough password"});
    assert_eq!(app.post(&path, &body, Some(&admin)).await.status, 201);
    app.post(&path, &body, Some(&admin))
        .await
        .assert_problem(409);
    let weak = json!({"username": "kesra.dua", "full_name": "Kesra", "roles": ["viewer"], "password": "short"});
    let problem = app
        .post(&path, &weak, Some(&admin))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "password");
}

#[actix_web::test]
async fn a_deactivated_user_is_signed_out_at_once() {
    let app = TestApp::spawn().await;
    let own = app
        .create_agency(
            "DINSOS-6101",
            AgencyKind::RegencySocialService,
            Some("61.01"),
        )
        .await;
    let (_, admin) = app
        .user_token(own, "admin.6101", vec![Role::AgencyAdmin])
        .await;
    let (staff, token) = app.user_token(own, "staff.6101", vec![Role::Viewer]).await;
    let response = app
        .patch(
            &format!("/api/v1/agencies/{own}/users/{staff}"),
            &json!({"active": false}),
            Some(&admin),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    app.get("/api/v1/me", Some(&token))
        .await
        .assert_problem(401);
}

#[actix_web::test]
async fn an_administrator_cannot_lock_themself_out() {
    let app = TestApp::spawn().await;
    let own = app
        .create_agency(
            "DINSOS-6102",
            AgencyKind::RegencySocialService,
            Some("61.02"),
        )
        .await;
    let (me, admin) = app
        .user_token(own, "admin.6102", vec![Role::AgencyAdmin])
        .await;
    let problem = app
        .patch(
            &format!("/api/v1/agencies/{own}/users/{me}"),
            &json!({"active": false}),
            Some(&admin),
        )
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "active");
}

#[actix_web::test]
async fn a_client_secret_is_shown_once_and_rotation_retires_the_old_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agency = app
        .create_agency(
            "BP3TKI-PTK",
            AgencyKind::MigrantProtectionService,
            Some("61"),
        )
        .await;
    let created = app
        .post(
            &format!("/api/v1/agencies/{agency}/clients"),
            &json!({"name": "BP3TKI push"}),
            Some(&admin),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let client = created.json();
    let (client_id, secret) = (
        client["client_id"].as_str().unwrap().to_owned(),
        client["client_secret"].as_str().unwrap().to_owned(),
    );
    assert_eq!(client["roles"], json!(["integration"]));
    let sign_in = |secret: String| {
        let client_id = client_id.clone();
        let app = &app;
        async move {
            app.post("/api/v1/auth/token", &json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}), None)
                .await
        }
    };
    assert_eq!(sign_in(secret.clone()).await.status, 200);

    let listed = app
        .get(&format!("/api/v1/agencies/{agency}/clients"), Some(&admin))
        .await;
    assert!(
        !listed.text().contains(&secret),
        "a listed client shows its secret"
    );

    let id = client["id"].as_str().unwrap();
    let rotated = app
        .call(crate::helpers::with_token(
            actix_web::test::TestRequest::post()
                .uri(&format!("/api/v1/agencies/{agency}/clients/{id}/secret")),
            Some(&admin),
        ))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let new_secret = rotated.json()["client_secret"].as_str().unwrap().to_owned();
    sign_in(secret).await.assert_problem(401);
    assert_eq!(sign_in(new_secret).await.status, 200);

    let bad = app
        .post(
            &format!("/api/v1/agencies/{agency}/clients"),
            &json!({"name": "x", "roles": ["system_admin"]}),
            Some(&admin),
        )
        .await
        .assert_problem(422);
    assert_eq!(bad["errors"][0]["field"], "roles");
}

#[actix_web::test]
async fn me_shows_the_agency_and_what_the_caller_may_do() {
    let app = TestApp::spawn().await;
    let agency = app
        .create_agency(
            "DINSOS-6171",
            AgencyKind::RegencySocialService,
            Some("61.71"),
        )
        .await;
    let (_, token) = app
        .user_token(agency, "ani.6171", vec![Role::CaseWorker])
        .await;
    let me = app.get("/api/v1/me", Some(&token)).await.json();
    assert_eq!(me["name"], "ani.6171");
    assert_eq!(me["agency"]["code"], "DINSOS-6171");
    let permissions: Vec<&str> = me["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(permissions.contains(&"transfers.confirm_handover"));
    assert!(!permissions.contains(&"cases.write"));
}

#[actix_web::test]
async fn changing_the_password_ends_older_sessions() {
    let app = TestApp::spawn().await;
    let (user, pass) = app
        .create_user("budi.kalbar", vec![Role::Viewer], None)
        .await;
    let token = app.sign_in(&user, &pass).await;
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let wrong = app
        .call(crate::helpers::with_token(
            actix_web::test::TestRequest::put()
                .uri("/api/v1/me/password")
                .set_json(
                    json!({"current_password": "nope", "new_password": "a brand new passphrase"}),
                ),
            Some(&token),
        ))
        .await;
    assert_eq!(
        wrong.assert_problem(422)["errors"][0]["field"],
        "current_password"
    );
    let ok = app
        .call(crate::helpers::with_token(
            actix_web::test::TestRequest::put()
                .uri("/api/v1/me/password")
                .set_json(
                    json!({"current_password": pass, "new_password": "a brand new passphrase"}),
                ),
            Some(&token),
        ))
        .await;
    assert_eq!(ok.status, 204, "{}", ok.text());
    app.get("/api/v1/me", Some(&token))
        .await
        .assert_problem(401);
    let fresh = app.sign_in(&user, "a brand new passphrase").await;
    assert_eq!(app.get("/api/v1/me", Some(&fresh)).await.status, 200);
}

#[actix_web::test]
async fn a_password_change_ends_tokens_issued_in_the_same_second() {
    let app = TestApp::spawn().await;
    let (user, pass) = app
        .create_user("intan.kalbar", vec![Role::Viewer], None)
        .await;
    // Two sessions and the change, well within one second.
    let first = app.sign_in(&user, &pass).await;
    let second = app.sign_in(&user, &pass).await;
    let changed = app
        .call(
            actix_web::test::TestRequest::put()
                .uri("/api/v1/me/password")
                .insert_header(("Authorization", format!("Bearer {first}")))
                .set_json(
                    json!({"current_password": pass, "new_password": "Kapuas river at dawn 2019!"}),
                ),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.text());
    for token in [&first, &second] {
        app.get("/api/v1/me", Some(token)).await.assert_problem(401);
    }
    let fresh = app.sign_in(&user, "Kapuas river at dawn 2019!").await;
    assert_eq!(app.get("/api/v1/me", Some(&fresh)).await.status, 200);
}

#[actix_web::test]
async fn a_role_change_and_a_secret_rotation_end_earlier_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agency = app
        .create_agency(
            "BP3TKI-PONTIANAK",
            AgencyKind::MigrantProtectionService,
            Some("61"),
        )
        .await;
    let (user, pass) = app
        .create_user("joko.bp3tki", vec![Role::Viewer], Some("BP3TKI-PONTIANAK"))
        .await;
    let token = app.sign_in(&user, &pass).await;
    let user_id = app.get("/api/v1/me", Some(&token)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let changed = app
        .patch(
            &format!("/api/v1/agencies/{agency}/users/{user_id}"),
            &json!({"roles": ["viewer", "case_worker"]}),
            Some(&admin),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    app.get("/api/v1/me", Some(&token))
        .await
        .assert_problem(401);

    let client = app
        .post(
            &format!("/api/v1/agencies/{agency}/clients"),
            &json!({"name": "push", "roles": ["integration"]}),
            Some(&admin),
        )
        .await;
    assert_eq!(client.status, 201, "{}", client.text());
    let client = client.json();
    let client_token = app
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": client["client_id"],
                    "client_secret": client["client_secret"]}),
            None,
        )
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.get("/api/v1/regions?limit=1", Some(&client_token))
            .await
            .status,
        200
    );
    let rotated = app
        .call(crate::helpers::with_token(
            actix_web::test::TestRequest::post().uri(&format!(
                "/api/v1/agencies/{agency}/clients/{}/secret",
                client["id"].as_str().unwrap()
            )),
            Some(&admin),
        ))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    app.get("/api/v1/regions?limit=1", Some(&client_token))
        .await
        .assert_problem(401);
}

#[actix_web::test]
async fn a_long_but_trivial_password_is_refused_with_the_rule() {
    let app = TestApp::spawn().await;
    let (user, pass) = app
        .create_user("kiki.kalbar", vec![Role::Viewer], None)
        .await;
    let token = app.sign_in(&user, &pass).await;
    for weak in ["            ", "aaaaaaaaaaaa", "123456789012"] {
        let problem = app
            .call(
                actix_web::test::TestRequest::put()
                    .uri("/api/v1/me/password")
                    .insert_header(("Authorization", format!("Bearer {token}")))
                    .set_json(json!({"current_password": pass, "new_password": weak})),
            )
            .await
            .assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], "new_password");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("zxcvbn"),
            "{problem}"
        );
    }
}
