//! The API keeps no state of its own: two instances on one database behave as one.

use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, new_case};

#[actix_web::test]
async fn two_instances_share_tokens_keys_and_the_feed() {
    let a = TestApp::spawn().await;
    let b = a.second_instance().await;
    let k = a.kalbar().await;

    // A token signed in on one works on the other, and a sign-out on one holds on both.
    let (user, pass) = a
        .create_user(
            "ani.kalbar",
            vec![pulang::auth::Role::Viewer],
            Some("DINSOS-KALBAR"),
        )
        .await;
    let token = a.sign_in(&user, &pass).await;
    assert_eq!(b.get("/api/v1/me", Some(&token)).await.status, 200);
    let out = b
        .call(crate::helpers::with_token(
            actix_web::test::TestRequest::post().uri("/api/v1/auth/logout"),
            Some(&token),
        ))
        .await;
    assert_eq!(out.status, 204);
    a.get("/api/v1/me", Some(&token)).await.assert_problem(401);

    // The same batches pushed through both at once still make one case per key.
    let batch: Vec<Value> = (0..40).map(|n| new_case(n, "61.71")).collect();
    let body = json!({"records": batch});
    let pushes = (0..4).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        let token = k.push_client.clone();
        let body = body.clone();
        async move { app.post("/api/v1/cases/batch", &body, Some(&token)).await }
    });
    let created: u64 = join_all(pushes)
        .await
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{}", r.text());
            r.json()["totals"]["created"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(created, 40);
    assert_eq!(
        b.get(
            "/api/v1/cases?with_total=true&limit=1",
            Some(&k.case_worker)
        )
        .await
        .json()["total"],
        40
    );

    // The change feed reads the same, in the same order, through either instance.
    let through_a = feed(&a, &k.case_worker).await;
    let through_b = feed(&b, &k.case_worker).await;
    assert_eq!(through_a.len(), 40);
    assert_eq!(through_a, through_b);
    assert_eq!(through_a.iter().collect::<HashSet<_>>().len(), 40);
}

async fn feed(app: &TestApp, token: &str) -> Vec<String> {
    let page = app
        .get("/api/v1/events?limit=1000", Some(token))
        .await
        .json();
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entity_id"].as_str().unwrap().to_owned())
        .collect()
}
