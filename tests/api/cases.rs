//! Cases: registration, NIK rules, repeat returns, updates with ETags, the
//! state machine, history, scope, search and idempotent creation.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::helpers::{TestApp, new_case, with_token};

fn siti() -> Value {
    json!({
        "person": {"full_name": "Siti Nurhaliza", "nik": "6171015505900002", "passport_number": "c 1234567"},
        "category": "trafficking_victim",
        "arrived_at": "2019-03-14T09:30:00Z",
        "entry_point": "plbn_entikong",
        "country_left": "MY",
        "documents": ["splp"],
        "origin_region": "6171",
        "needs": ["psychosocial"]
    })
}

async fn patch(
    app: &TestApp,
    id: &str,
    body: Value,
    if_match: Option<&str>,
    token: &str,
) -> crate::helpers::TestResponse {
    let mut request = TestRequest::patch()
        .uri(&format!("/api/v1/cases/{id}"))
        .set_json(body);
    if let Some(tag) = if_match {
        request = request.insert_header(("If-Match", tag.to_owned()));
    }
    app.call(with_token(request, Some(token))).await
}

#[actix_web::test]
async fn a_case_worker_registers_a_case_with_number_etag_and_funding_scope() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let response = app
        .post("/api/v1/cases", &siti(), Some(&k.case_worker))
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let case = response.json();
    assert!(
        case["case_number"]
            .as_str()
            .unwrap()
            .starts_with("PLG-2019-")
    );
    assert_eq!(case["status"], "registered");
    assert_eq!(case["origin_region"], "61.71");
    assert_eq!(case["origin_province"], "61");
    assert_eq!(case["handling_province"], "61");
    assert_eq!(case["funding_scope"], "apbd_shared");
    assert_eq!(case["person"]["sex"], "female", "taken from the NIK");
    assert_eq!(case["person"]["birth_date"], "1990-05-15");
    assert_eq!(case["person"]["passport_number"], "C1234567");
    assert_eq!(case["repeat_return"], false);
    assert_eq!(response.header("etag").as_deref(), Some("\"1\""));
    let id = case["id"].as_str().unwrap();
    assert_eq!(
        response.header("location").unwrap(),
        format!("/api/v1/cases/{id}")
    );

    let history = app
        .get(&format!("/api/v1/cases/{id}/history"), Some(&k.case_worker))
        .await
        .json();
    assert_eq!(history[0]["action"], "created");
    assert_eq!(history[0]["actor_name"], "dinsos.kalbar");

    let mut other = siti();
    other["person"] = json!({"full_name": "Budi", "nik": "3507011505900001"});
    other["origin_region"] = json!("35.07");
    let national = app
        .post("/api/v1/cases", &other, Some(&k.case_worker))
        .await
        .json();
    assert_eq!(national["funding_scope"], "apbn");
}

#[actix_web::test]
async fn a_bad_or_disagreeing_nik_is_a_422_naming_the_fields() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let mut bad = siti();
    bad["person"]["nik"] = json!("6199015505900002");
    let problem = app
        .post("/api/v1/cases", &bad, Some(&k.case_worker))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "person.nik");

    let mut disagree = siti();
    disagree["person"]["sex"] = json!("male");
    disagree["person"]["birth_date"] = json!("1991-05-15");
    let problem = app
        .post("/api/v1/cases", &disagree, Some(&k.case_worker))
        .await
        .assert_problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["person.sex", "person.birth_date"]);

    let mut province_origin = siti();
    province_origin["origin_region"] = json!("61");
    let problem = app
        .post("/api/v1/cases", &province_origin, Some(&k.case_worker))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "origin_region");
}

#[actix_web::test]
async fn a_person_who_returns_again_is_linked_and_flagged() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let first = app
        .post("/api/v1/cases", &siti(), Some(&k.case_worker))
        .await
        .json();
    let mut again = siti();
    again["arrived_at"] = json!("2019-09-02T10:00:00Z");
    let second = app
        .post("/api/v1/cases", &again, Some(&k.case_worker))
        .await
        .json();
    assert_eq!(first["person"]["id"], second["person"]["id"]);
    assert_eq!(second["repeat_return"], true);
    let person = app
        .get(
            &format!(
                "/api/v1/persons/{}",
                first["person"]["id"].as_str().unwrap()
            ),
            Some(&k.case_worker),
        )
        .await;
    assert_eq!(person.status, 200, "{}", person.text());
    assert_eq!(person.json()["return_count"], 2);
    assert_eq!(
        person.json()["cases"][0]["id"],
        second["id"],
        "newest first"
    );
}

#[actix_web::test]
async fn updates_need_the_current_etag() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let case = app
        .post("/api/v1/cases", &siti(), Some(&k.case_worker))
        .await
        .json();
    let id = case["id"].as_str().unwrap();
    patch(&app, id, json!({"shelter": "RPTC"}), None, &k.case_worker)
        .await
        .assert_problem(428);
    let ok = patch(
        &app,
        id,
        json!({"shelter": "RPTC Pontianak", "person": {"phone": "+62 812 3456"}}),
        Some("\"1\""),
        &k.case_worker,
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(ok.json()["shelter"], "RPTC Pontianak");
    assert_eq!(ok.json()["person"]["phone"], "+62 812 3456");
    patch(
        &app,
        id,
        json!({"shelter": "elsewhere"}),
        Some("\"1\""),
        &k.case_worker,
    )
    .await
    .assert_problem(412);
    let invalid = patch(
        &app,
        id,
        json!({"person": {"sex": "male"}}),
        Some("\"2\""),
        &k.case_worker,
    )
    .await
    .assert_problem(422);
    assert_eq!(invalid["errors"][0]["field"], "person.sex");

    let history = app
        .get(&format!("/api/v1/cases/{id}/history"), Some(&k.case_worker))
        .await
        .json();
    let update = &history.as_array().unwrap()[1];
    assert_eq!(update["action"], "updated");
    assert_eq!(update["before"]["shelter"], Value::Null);
    assert_eq!(update["after"]["shelter"], "RPTC Pontianak");
}

#[actix_web::test]
async fn the_state_machine_refuses_illegal_moves_and_lists_the_legal_ones() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let case = app
        .post("/api/v1/cases", &siti(), Some(&k.case_worker))
        .await
        .json();
    let path = format!("/api/v1/cases/{}/transitions", case["id"].as_str().unwrap());
    let ok = app
        .post(
            &path,
            &json!({"to": "sheltered", "reason": "arrived at RPTC"}),
            Some(&k.case_worker),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["status"], "sheltered");
    assert_eq!(ok.json()["version"], 2);
    let refused = app
        .post(
            &path,
            &json!({"to": "returned", "reason": "x"}),
            Some(&k.case_worker),
        )
        .await
        .assert_problem(409);
    assert_eq!(refused["type"], "/problems/illegal-transition");
    assert_eq!(refused["current"], "sheltered");
    assert_eq!(
        refused["allowed"],
        json!(["assessed", "referred", "absconded", "deceased", "cancelled"])
    );
    let no_reason = app
        .post(
            &path,
            &json!({"to": "assessed", "reason": " "}),
            Some(&k.case_worker),
        )
        .await
        .assert_problem(422);
    assert_eq!(no_reason["errors"][0]["field"], "reason");
    let history = app
        .get(
            &format!("/api/v1/cases/{}/history", case["id"].as_str().unwrap()),
            Some(&k.case_worker),
        )
        .await
        .json();
    assert_eq!(history[1]["from_status"], "registered");
    assert_eq!(history[1]["to_status"], "sheltered");
    assert_eq!(history[1]["reason"], "arrived at RPTC");
}

#[actix_web::test]
async fn each_agency_sees_its_own_cases_and_nothing_else_exists_for_it() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let pontianak = app
        .post("/api/v1/cases", &new_case(1, "61.71"), Some(&k.case_worker))
        .await
        .json();
    let sambas = app
        .post("/api/v1/cases", &new_case(2, "61.01"), Some(&k.case_worker))
        .await
        .json();
    let pushed = app
        .post("/api/v1/cases", &new_case(3, "61.01"), Some(&k.push_client))
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.text());
    let pushed = pushed.json();
    assert_eq!(pushed["source_agency_id"], k.bp3tki.to_string());
    assert_eq!(sambas["source_agency_id"], k.province.to_string());
    let own = app
        .get(
            &format!("/api/v1/agencies/{}", k.pontianak),
            Some(&k.pontianak_viewer),
        )
        .await;
    assert_eq!(own.json()["region_code"], "61.71");

    let seen = |token: String| {
        let app = &app;
        async move {
            let page = app
                .get("/api/v1/cases?limit=100", Some(&token))
                .await
                .json();
            let mut ids: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        seen(k.case_worker.clone()).await.len(),
        3,
        "the province sees every case it handles"
    );
    assert_eq!(
        seen(k.pontianak_viewer.clone()).await,
        vec![pontianak["id"].as_str().unwrap().to_owned()]
    );
    assert_eq!(
        seen(k.push_client.clone()).await,
        vec![pushed["id"].as_str().unwrap().to_owned()]
    );

    let sambas_id = sambas["id"].as_str().unwrap();
    app.get(
        &format!("/api/v1/cases/{sambas_id}"),
        Some(&k.pontianak_viewer),
    )
    .await
    .assert_problem(404);
    app.get(
        &format!("/api/v1/cases/{sambas_id}/history"),
        Some(&k.push_client),
    )
    .await
    .assert_problem(404);
    // A regency may read but not write cases.
    let path = format!(
        "/api/v1/cases/{}/transitions",
        pontianak["id"].as_str().unwrap()
    );
    app.post(
        &path,
        &json!({"to": "sheltered", "reason": "x"}),
        Some(&k.pontianak_viewer),
    )
    .await
    .assert_problem(403);
}

#[actix_web::test]
async fn the_list_filters_searches_names_loosely_and_pages() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    app.post("/api/v1/cases", &siti(), Some(&k.case_worker))
        .await;
    for n in 0..12 {
        let origin = if n % 3 == 0 { "61.02" } else { "35.07" };
        assert_eq!(
            app.post("/api/v1/cases", &new_case(n, origin), Some(&k.case_worker))
                .await
                .status,
            201
        );
    }
    let found = app
        .get("/api/v1/cases?q=siti%20nurhalisa", Some(&k.case_worker))
        .await
        .json();
    assert_eq!(
        found["items"].as_array().unwrap().len(),
        1,
        "a spelling variant finds the name"
    );
    let by_nik = app
        .get("/api/v1/cases?q=6171015505900002", Some(&k.case_worker))
        .await
        .json();
    assert_eq!(by_nik["items"].as_array().unwrap().len(), 1);

    let kalbar = app
        .get(
            "/api/v1/cases?origin_region=61&with_total=true",
            Some(&k.case_worker),
        )
        .await
        .json();
    assert_eq!(kalbar["total"], 5, "siti and 4 from Mempawah");
    let national = app
        .get(
            "/api/v1/cases?funding_scope=apbn&with_total=true",
            Some(&k.case_worker),
        )
        .await
        .json();
    assert_eq!(national["total"], 8);

    let mut seen = Vec::new();
    let mut url = "/api/v1/cases?limit=5&sort=-arrived_at".to_owned();
    loop {
        let page = app.get(&url, Some(&k.case_worker)).await.json();
        for c in page["items"].as_array().unwrap() {
            seen.push((
                c["arrived_at"].as_str().unwrap().to_owned(),
                c["id"].as_str().unwrap().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("/api/v1/cases?limit=5&sort=-arrived_at&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 13);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "pages continue in order without overlap");

    app.get("/api/v1/cases?status=flying", Some(&k.case_worker))
        .await
        .assert_problem(400);
    app.get("/api/v1/cases?limit=501", Some(&k.case_worker))
        .await
        .assert_problem(400);
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_first_answer() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let send = |body: Value| {
        let app = &app;
        let token = k.case_worker.clone();
        async move {
            let request = TestRequest::post()
                .uri("/api/v1/cases")
                .insert_header(("Idempotency-Key", "retry-1"))
                .set_json(body);
            app.call(with_token(request, Some(&token))).await
        }
    };
    let first = send(siti()).await;
    let second = send(siti()).await;
    assert_eq!(first.status, 201);
    assert_eq!(second.status, 201);
    assert_eq!(first.json()["id"], second.json()["id"]);
    assert_eq!(
        second.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    let count = app
        .get("/api/v1/cases?with_total=true", Some(&k.case_worker))
        .await
        .json();
    assert_eq!(count["total"], 1);
    let mut other = siti();
    other["shelter"] = json!("different");
    send(other).await.assert_problem(422);
}

#[actix_web::test]
async fn possible_duplicates_are_pointed_out() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let mut a = siti();
    a["person"] =
        json!({"full_name": "Siti Nurhaliza", "birth_date": "1990-05-15", "sex": "female"});
    let mut b = siti();
    b["person"] =
        json!({"full_name": "Siti Nurhalisa", "birth_date": "1990-05-15", "sex": "female"});
    let first = app
        .post("/api/v1/cases", &a, Some(&k.case_worker))
        .await
        .json();
    let second = app
        .post("/api/v1/cases", &b, Some(&k.case_worker))
        .await
        .json();
    assert_ne!(
        first["person"]["id"], second["person"]["id"],
        "without NIK or passport they are not linked"
    );
    let matches = app
        .get(
            &format!("/api/v1/cases/{}/matches", first["id"].as_str().unwrap()),
            Some(&k.case_worker),
        )
        .await
        .json();
    assert_eq!(matches.as_array().unwrap().len(), 1);
    assert_eq!(matches[0]["person_id"], second["person"]["id"]);
    assert_eq!(
        matches[0]["reasons"],
        json!(["similar_name_and_birth_date"])
    );
    assert_eq!(matches[0]["case_ids"], json!([second["id"]]));
}
