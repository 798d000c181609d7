//! Failed sign-ins are rate-limited per account name and per address, without
//! revealing which accounts exist; every attempt is audited.

use pulang::auth::Role;
use serde_json::json;

use crate::helpers::TestApp;

async fn attempt(app: &TestApp, username: &str, password: &str) -> crate::helpers::TestResponse {
    app.post(
        "/api/v1/auth/token",
        &json!({"grant_type": "password", "username": username, "password": password}),
        None,
    )
    .await
}

#[actix_web::test]
async fn five_failures_lock_an_account_known_or_not_in_the_same_words() {
    let app = TestApp::spawn().await;
    let (user, pass) = app
        .create_user("citra.kalbar", vec![Role::Viewer], None)
        .await;
    for _ in 0..5 {
        attempt(&app, &user, "wrong password!")
            .await
            .assert_problem(401);
        attempt(&app, "no.such.user", "wrong password!")
            .await
            .assert_problem(401);
    }
    let known = attempt(&app, &user, &pass).await;
    let unknown = attempt(&app, "no.such.user", "anything at all").await;
    let (k, u) = (known.assert_problem(429), unknown.assert_problem(429));
    assert_eq!(k["detail"], u["detail"]);
    assert!(k["detail"].as_str().unwrap().contains("locked"));
    let retry: u64 = known.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60);

    // Another account is not affected by this one's lock.
    let (other, other_pass) = app
        .create_user("dewi.kalbar", vec![Role::Viewer], None)
        .await;
    assert_eq!(attempt(&app, &other, &other_pass).await.status, 200);

    let admin = app.admin_token().await;
    let log = app
        .get(
            "/api/v1/audit-events?action=auth.sign_in&outcome=failure&limit=500",
            Some(&admin),
        )
        .await
        .json();
    assert_eq!(
        log["items"].as_array().unwrap().len(),
        12,
        "10 wrong passwords and 2 locked attempts"
    );
}

#[actix_web::test]
async fn a_success_resets_the_count() {
    let app = TestApp::spawn().await;
    let (user, pass) = app
        .create_user("eka.kalbar", vec![Role::Viewer], None)
        .await;
    for _ in 0..4 {
        attempt(&app, &user, "wrong password!")
            .await
            .assert_problem(401);
    }
    assert_eq!(attempt(&app, &user, &pass).await.status, 200);
    for _ in 0..4 {
        attempt(&app, &user, "wrong password!")
            .await
            .assert_problem(401);
    }
    assert_eq!(attempt(&app, &user, &pass).await.status, 200);
}

async fn attempt_from(
    app: &TestApp,
    address: &str,
    body: serde_json::Value,
) -> crate::helpers::TestResponse {
    app.call(
        actix_web::test::TestRequest::post()
            .uri("/api/v1/auth/token")
            .peer_addr(format!("{address}:40000").parse().unwrap())
            .set_json(body),
    )
    .await
}

#[actix_web::test]
async fn concurrent_wrong_passwords_get_no_more_checks_than_the_limit() {
    let app = TestApp::spawn().await;
    let (user, _) = app
        .create_user("fajar.kalbar", vec![Role::Viewer], None)
        .await;
    let responses =
        futures_util::future::join_all((0..40).map(|_| attempt(&app, &user, "wrong password!")))
            .await;
    let checked = responses.iter().filter(|r| r.status == 401).count();
    let refused = responses.iter().filter(|r| r.status == 429).count();
    assert_eq!((checked, refused), (5, 35));
}

#[actix_web::test]
async fn wrong_secrets_from_one_address_do_not_lock_a_machine_client_out_elsewhere() {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use pulang::schema::api_clients;
    let app = TestApp::spawn().await;
    let agency = app
        .create_agency(
            "BP3TKI-PONTIANAK",
            pulang::agencies::AgencyKind::MigrantProtectionService,
            Some("61"),
        )
        .await;
    let secret = "a-long-random-client-secret-0123456789";
    diesel::insert_into(api_clients::table)
        .values((
            api_clients::agency_id.eq(agency),
            api_clients::client_id.eq("bp3tki-pontianak"),
            api_clients::name.eq("BP3TKI push"),
            api_clients::secret_hash.eq(pulang::auth::password::hash(secret).unwrap()),
            api_clients::roles.eq(vec![Role::Integration]),
        ))
        .execute(&mut app.db().await)
        .await
        .unwrap();
    let body = |secret: &str| json!({"grant_type": "client_credentials", "client_id": "bp3tki-pontianak", "client_secret": secret});
    for _ in 0..5 {
        attempt_from(&app, "203.0.113.9", body("guess"))
            .await
            .assert_problem(401);
    }
    attempt_from(&app, "203.0.113.9", body(secret))
        .await
        .assert_problem(429);
    let from_bp3tki = attempt_from(&app, "10.61.0.5", body(secret)).await;
    assert_eq!(from_bp3tki.status, 200, "{}", from_bp3tki.text());
}

#[actix_web::test]
async fn guesses_from_many_addresses_slow_a_person_down_but_do_not_lock_them_out() {
    let app = TestApp::spawn().await;
    let (user, pass) = app
        .create_user("gita.kalbar", vec![Role::Viewer], None)
        .await;
    let wrong = json!({"grant_type": "password", "username": user, "password": "wrong password!"});
    for i in 0..6 {
        attempt_from(&app, &format!("198.51.100.{i}"), wrong.clone())
            .await
            .assert_problem(401);
    }
    let started = std::time::Instant::now();
    let right = json!({"grant_type": "password", "username": user, "password": pass});
    let owner = attempt_from(&app, "10.61.0.7", right).await;
    assert_eq!(owner.status, 200, "{}", owner.text());
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "the 7th attempt waits 2 s"
    );
}

#[actix_web::test]
async fn wrong_current_passwords_count_like_sign_ins() {
    let app = TestApp::spawn().await;
    let (user, pass) = app
        .create_user("hadi.kalbar", vec![Role::Viewer], None)
        .await;
    let token = app.sign_in(&user, &pass).await;
    let change = |current: &str| {
        actix_web::test::TestRequest::put()
            .uri("/api/v1/me/password")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .set_json(
                json!({"current_password": current, "new_password": "Kapuas river at dawn 2019!"}),
            )
    };
    for _ in 0..5 {
        app.call(change("wrong password!"))
            .await
            .assert_problem(422);
    }
    app.call(change(&pass)).await.assert_problem(429);
}
