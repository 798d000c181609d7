//! Bulk push: upserts keyed by (source agency, external reference).

use serde_json::{Value, json};

use crate::helpers::{TestApp, new_case};

fn batch(records: Vec<Value>) -> Value {
    json!({"records": records})
}

#[actix_web::test]
async fn the_same_batch_twice_creates_nothing_the_second_time() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let records: Vec<Value> = (0..20)
        .map(|n| new_case(n, if n % 2 == 0 { "61.71" } else { "33.01" }))
        .collect();
    let first = app
        .post(
            "/api/v1/cases/batch",
            &batch(records.clone()),
            Some(&k.push_client),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(
        first.json()["totals"],
        json!({"created": 20, "updated": 0, "unchanged": 0, "linked": 0, "rejected": 0})
    );
    let second = app
        .post(
            "/api/v1/cases/batch",
            &batch(records.clone()),
            Some(&k.push_client),
        )
        .await
        .json();
    assert_eq!(
        second["totals"],
        json!({"created": 0, "updated": 0, "unchanged": 20, "linked": 0, "rejected": 0})
    );
    assert_eq!(
        first.json()["results"][7]["case_id"],
        second["results"][7]["case_id"]
    );

    let mut changed = records.clone();
    changed[3]["shelter"] = json!("RPTC Pontianak");
    let third = app
        .post("/api/v1/cases/batch", &batch(changed), Some(&k.push_client))
        .await
        .json();
    assert_eq!(
        third["totals"],
        json!({"created": 0, "updated": 1, "unchanged": 19, "linked": 0, "rejected": 0})
    );
    assert_eq!(third["results"][3]["result"], "updated");

    let id = third["results"][3]["case_id"].as_str().unwrap();
    let history = app
        .get(&format!("/api/v1/cases/{id}/history"), Some(&k.push_client))
        .await
        .json();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["created", "updated"],
        "an unchanged push writes no history"
    );
    let case = app
        .get(&format!("/api/v1/cases/{id}"), Some(&k.push_client))
        .await
        .json();
    assert_eq!(case["shelter"], "RPTC Pontianak");
    assert_eq!(case["version"], 2);
    // A push records the case as the API shows it, as single writes do.
    let entries = history.as_array().unwrap();
    assert_eq!(entries[1]["after"], case);
    assert_eq!(entries[1]["before"], entries[0]["after"]);
    assert_eq!(entries[0]["before"], Value::Null);
    assert_eq!(entries[0]["after"]["version"], 1);
    assert_eq!(entries[0]["after"]["shelter"], Value::Null);
    assert_eq!(entries[0]["after"]["person"], case["person"]);
    // And the change feed carries both writes, with the version each left.
    // The feed shows a change once every older transaction of the cluster
    // has ended, and other tests' transactions share the cluster: poll.
    let mut of_case = Vec::new();
    for _ in 0..100 {
        let feed = app
            .get("/api/v1/events?limit=500", Some(&k.push_client))
            .await
            .json();
        of_case = feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["entity_id"] == id)
            .map(|e| (e["action"].clone(), e["data"]["version"].clone()))
            .collect();
        if of_case.len() == 2 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        of_case,
        vec![(json!("created"), json!(1)), (json!("updated"), json!(2))]
    );
}

#[actix_web::test]
async fn a_push_and_a_case_workers_edit_both_show_in_the_history() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let pushed = app
        .post(
            "/api/v1/cases/batch",
            &batch(vec![new_case(1, "61.71")]),
            Some(&k.push_client),
        )
        .await
        .json();
    let id = pushed["results"][0]["case_id"].as_str().unwrap().to_owned();
    let edit = app
        .call(crate::helpers::with_token(
            actix_web::test::TestRequest::patch()
                .uri(&format!("/api/v1/cases/{id}"))
                .insert_header(("If-Match", "\"1\""))
                .set_json(json!({"needs": ["health"]})),
            Some(&k.case_worker),
        ))
        .await;
    assert_eq!(edit.status, 200, "{}", edit.text());
    let history = app
        .get(&format!("/api/v1/cases/{id}/history"), Some(&k.case_worker))
        .await
        .json();
    let who: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap(),
                h["actor_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        who,
        vec![
            ("created", "bp3tki-pontianak"),
            ("updated", "dinsos.kalbar")
        ]
    );
    // The edit's `before` is what the push recorded as its `after`.
    assert_eq!(history[1]["before"], history[0]["after"]);
    assert_eq!(history[1]["after"]["needs"], json!(["health"]));
}

#[actix_web::test]
async fn per_record_mode_applies_the_good_records_and_names_the_bad_fields() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let mut bad = new_case(2, "61.71");
    bad["person"]["nik"] = json!("123");
    let mut no_ref = new_case(3, "61.71");
    no_ref.as_object_mut().unwrap().remove("external_reference");
    let mut wrong_type = new_case(4, "61.71");
    wrong_type["arrived_at"] = json!(42);
    let records = vec![
        new_case(1, "61.71"),
        bad,
        no_ref,
        wrong_type,
        new_case(1, "61.71"),
    ];
    let response = app
        .post("/api/v1/cases/batch", &batch(records), Some(&k.push_client))
        .await
        .json();
    assert_eq!(
        response["totals"],
        json!({"created": 1, "updated": 0, "unchanged": 0, "linked": 0, "rejected": 4})
    );
    let results = response["results"].as_array().unwrap();
    assert_eq!(results[1]["errors"][0]["field"], "person.nik");
    assert_eq!(results[2]["errors"][0]["field"], "external_reference");
    assert_eq!(results[3]["errors"][0]["field"], "arrived_at");
    assert!(
        results[4]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("twice")
    );
}

#[actix_web::test]
async fn atomic_mode_writes_nothing_when_a_record_is_bad() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let mut bad = new_case(2, "61.71");
    bad["country_left"] = json!("XX");
    let body = json!({"mode": "atomic", "records": [new_case(1, "61.71"), bad]});
    let problem = app
        .post("/api/v1/cases/batch", &body, Some(&k.push_client))
        .await
        .assert_problem(422);
    assert_eq!(problem["results"][1]["errors"][0]["field"], "country_left");
    let count = app
        .get("/api/v1/cases?with_total=true", Some(&k.push_client))
        .await
        .json();
    assert_eq!(count["total"], 0);
}

#[actix_web::test]
async fn atomic_mode_writes_a_good_batch() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let body = json!({"mode": "atomic", "records": [new_case(1, "61.71"), new_case(2, "35.07")]});
    let response = app
        .post("/api/v1/cases/batch", &body, Some(&k.push_client))
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["totals"]["created"], 2);
}

#[actix_web::test]
async fn a_dry_run_classifies_without_writing() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let body = json!({"dry_run": true, "records": [new_case(1, "61.71")]});
    let response = app
        .post("/api/v1/cases/batch", &body, Some(&k.push_client))
        .await
        .json();
    assert_eq!(response["totals"]["created"], 1);
    assert_eq!(response["results"][0]["case_id"], Value::Null);
    let count = app
        .get("/api/v1/cases?with_total=true", Some(&k.push_client))
        .await
        .json();
    assert_eq!(count["total"], 0);
}

#[actix_web::test]
async fn overlapping_batches_pushed_at_once_make_one_case_per_key() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    // Four batches over 0..60 with overlaps, several carrying the same person (NIK) too.
    let record = |n: u32| {
        let mut r = new_case(n, "61.71");
        r["person"]["nik"] = json!(format!("617101{:02}0590{:04}", 1 + n % 28, n % 7));
        r["person"].as_object_mut().unwrap().remove("sex");
        r
    };
    let batches: Vec<Value> = [(0, 30), (15, 45), (30, 60), (0, 60)]
        .iter()
        .map(|(from, to)| batch((*from..*to).map(record).collect()))
        .collect();
    let responses = futures_util::future::join_all(
        batches
            .iter()
            .map(|b| app.post("/api/v1/cases/batch", b, Some(&k.push_client))),
    )
    .await;
    let created: u64 = responses
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{}", r.text());
            r.json()["totals"]["created"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(created, 60);
    let count = app
        .get(
            "/api/v1/cases?with_total=true&limit=1",
            Some(&k.push_client),
        )
        .await
        .json();
    assert_eq!(count["total"], 60);
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let persons: i64 = pulang::schema::persons::table
        .count()
        .get_result(&mut app.db().await)
        .await
        .unwrap();
    let distinct_niks: std::collections::HashSet<String> = (0..60)
        .map(|n| record(n)["person"]["nik"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(persons as usize, distinct_niks.len(), "one person per NIK");
}

#[actix_web::test]
async fn only_pushers_push_and_batches_have_a_size_limit() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    app.post(
        "/api/v1/cases/batch",
        &batch(vec![new_case(1, "61.71")]),
        Some(&k.pontianak_viewer),
    )
    .await
    .assert_problem(403);
    let too_many: Vec<Value> = (0..5001).map(|_| json!({})).collect();
    let problem = app
        .post(
            "/api/v1/cases/batch",
            &batch(too_many),
            Some(&k.push_client),
        )
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "records");
}
