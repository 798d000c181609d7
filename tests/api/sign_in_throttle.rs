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
