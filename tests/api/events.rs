//! The change feed: nothing missed, nothing twice, even with concurrent writers.

use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, new_case};

/// A page of the feed, waiting up to 5 s for the first event: an event shows
/// once every older transaction on the server has ended, and other tests'
/// transactions share this cluster.
async fn page(app: &TestApp, token: &str, after: Option<&str>, limit: u32) -> Value {
    let url = match after {
        Some(cursor) => format!("/api/v1/events?after={cursor}&limit={limit}&wait=5"),
        None => format!("/api/v1/events?limit={limit}&wait=5"),
    };
    let response = app.get(&url, Some(token)).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

#[actix_web::test]
async fn a_consumer_following_the_cursor_sees_every_change_once_while_writers_run() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let writers = (0..4u32).map(|w| {
        let app = &app;
        let token = k.case_worker.clone();
        async move {
            for n in 0..8u32 {
                let mut case = new_case(w * 100 + n, "61.71");
                case.as_object_mut().unwrap().remove("external_reference");
                let r = app.post("/api/v1/cases", &case, Some(&token)).await;
                assert_eq!(r.status, 201, "{}", r.text());
            }
        }
    });
    let consumer = async {
        let mut cursor: Option<String> = None;
        let mut seen: Vec<(String, String)> = Vec::new();
        for _ in 0..400 {
            let p = page(&app, &k.case_worker, cursor.as_deref(), 5).await;
            for e in p["events"].as_array().unwrap() {
                seen.push((
                    e["entity_id"].as_str().unwrap().to_owned(),
                    e["action"].as_str().unwrap().to_owned(),
                ));
            }
            cursor = Some(p["next_cursor"].as_str().unwrap().to_owned());
            if seen.len() >= 32 {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        (seen, cursor)
    };
    let (_, (seen, cursor)) = futures_util::future::join(join_all(writers), consumer).await;
    assert_eq!(seen.len(), 32, "every creation, once");
    let distinct: HashSet<&(String, String)> = seen.iter().collect();
    assert_eq!(distinct.len(), 32, "nothing twice");
    assert!(seen.iter().all(|(_, action)| action == "created"));
    // Nothing more after the end, and the cursor stays put.
    let rest = app
        .get(
            &format!(
                "/api/v1/events?after={}&limit=100",
                cursor.as_deref().unwrap()
            ),
            Some(&k.case_worker),
        )
        .await
        .json();
    assert!(rest["events"].as_array().unwrap().is_empty());
    assert_eq!(rest["next_cursor"].as_str(), cursor.as_deref());
}

#[actix_web::test]
async fn each_reader_follows_only_what_it_may_see() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let records = vec![
        new_case(1, "61.71"),
        new_case(2, "61.01"),
        new_case(3, "35.07"),
    ];
    app.post(
        "/api/v1/cases/batch",
        &json!({"records": records}),
        Some(&k.push_client),
    )
    .await;
    let regency = page(&app, &k.pontianak_viewer, None, 100).await;
    let regency_events = regency["events"].as_array().unwrap();
    assert_eq!(regency_events.len(), 1, "only the case from Kota Pontianak");
    assert_eq!(regency_events[0]["entity_type"], "case");
    assert_eq!(
        page(&app, &k.push_client, None, 100).await["events"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        page(&app, &k.case_worker, None, 100).await["events"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // A status change is an event too.
    let id = regency_events[0]["entity_id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/cases/{id}/transitions"),
        &json!({"to": "sheltered", "reason": "x"}),
        Some(&k.case_worker),
    )
    .await;
    let next = page(
        &app,
        &k.pontianak_viewer,
        regency["next_cursor"].as_str(),
        100,
    )
    .await;
    assert_eq!(next["events"][0]["action"], "status_changed");
    assert_eq!(next["events"][0]["data"]["status"], "sheltered");
}

#[actix_web::test]
async fn a_long_poll_waits_and_returns_the_same_cursor_when_nothing_came() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let start = page(&app, &k.case_worker, None, 10).await;
    let cursor = start["next_cursor"].as_str().unwrap();
    let waited = app
        .get(
            &format!("/api/v1/events?after={cursor}&wait=1"),
            Some(&k.case_worker),
        )
        .await
        .json();
    assert!(waited["events"].as_array().unwrap().is_empty());
    assert_eq!(waited["next_cursor"], cursor);
    app.get("/api/v1/events?wait=31", Some(&k.case_worker))
        .await
        .assert_problem(400);
    app.get("/api/v1/events?after=nonsense", Some(&k.case_worker))
        .await
        .assert_problem(400);
}
