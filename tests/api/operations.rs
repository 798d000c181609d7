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
