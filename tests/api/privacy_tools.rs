//! Consent, the read log, correcting, merging and splitting identities, and
//! breaking the glass.

use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use diesel_async::RunQueryDsl;
use pulang::agencies::AgencyKind;
use pulang::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, new_case, with_token};

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

async fn create(app: &TestApp, body: &Value, token: &str) -> Value {
    let r = app.post("/api/v1/cases", body, Some(token)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

fn returnee(name: &str, person: Value, day: &str) -> Value {
    let mut p = person;
    p["full_name"] = json!(name);
    json!({
        "person": p, "category": "undocumented_migrant", "arrived_at": format!("2019-{day}T08:00:00Z"),
        "entry_point": "plbn_entikong", "country_left": "MY", "origin_region": "61.71"
    })
}

#[actix_web::test]
async fn a_partner_outside_government_sees_a_case_only_while_its_returnee_consents() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let ngo = app
        .create_agency("IOM-PONTIANAK", AgencyKind::Other, Some("61"))
        .await;
    let partner = app.client_token(ngo, "iom-pontianak").await;
    let case = create(
        &app,
        &returnee(
            "Siti Nurhaliza",
            json!({"nik": "6171015505900002", "phone": "+6281234567890"}),
            "03-14",
        ),
        &k.case_worker,
    )
    .await;
    let csv = |token: String| {
        let app = &app;
        async move {
            app.call(with_token(
                TestRequest::get()
                    .uri("/api/v1/cases")
                    .insert_header(("Accept", "text/csv")),
                Some(&token),
            ))
            .await
            .text()
        }
    };
    let feed = |token: String| {
        let app = &app;
        async move {
            app.get("/api/v1/events?limit=100&wait=1", Some(&token))
                .await
                .json()
        }
    };
    let list = app.get("/api/v1/cases", Some(&partner)).await.json();
    assert_eq!(
        list["items"],
        json!([]),
        "no consent recorded: unknown counts as refused"
    );
    assert_eq!(
        csv(partner.clone()).await.lines().count(),
        1,
        "a header only"
    );
    assert_eq!(feed(partner.clone()).await["events"], json!([]));
    app.get(&format!("/api/v1/cases/{}", id(&case)), Some(&partner))
        .await
        .assert_problem(404);

    let consent = |decision: &'static str| {
        let app = &app;
        let token = k.case_worker.clone();
        let path = format!("/api/v1/cases/{}/consent", id(&case));
        async move {
            app.call(with_token(
                TestRequest::put().uri(&path).set_json(json!({
                    "decision": decision, "note": "asked with a social worker present"
                })),
                Some(&token),
            ))
            .await
        }
    };
    let given = consent("given").await;
    assert_eq!(given.status, 200, "{}", given.text());
    assert_eq!(given.json()["consent"], "given");
    assert_eq!(given.json()["version"], 2);
    let seen = app
        .get(&format!("/api/v1/cases/{}", id(&case)), Some(&partner))
        .await;
    assert_eq!(seen.status, 200, "{}", seen.text());
    assert_eq!(
        seen.json()["person"]["nik"],
        "6171********0002",
        "masked for partners"
    );
    let exported = csv(partner.clone()).await;
    assert_eq!(exported.lines().count(), 2, "{exported}");
    assert!(exported.contains("6171********0002") && !exported.contains("6171015505900002"));
    // An event shows once every older transaction on the server has ended,
    // and other tests' transactions share this cluster: wait for both.
    let deadline = Instant::now() + Duration::from_secs(20);
    let actions = loop {
        let events = feed(partner.clone()).await;
        let actions: Vec<String> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect();
        if actions.len() >= 2 || Instant::now() > deadline {
            break actions;
        }
    };
    assert_eq!(actions, vec!["created", "consent_recorded"]);

    let refused = consent("refused").await;
    assert_eq!(refused.json()["consent"], "refused");
    app.get(&format!("/api/v1/cases/{}", id(&case)), Some(&partner))
        .await
        .assert_problem(404);
    assert_eq!(
        feed(partner.clone()).await["events"],
        json!([]),
        "a withdrawn consent hides the case"
    );
    let history = app
        .get(
            &format!("/api/v1/cases/{}/history", id(&case)),
            Some(&k.case_worker),
        )
        .await
        .json();
    let recorded: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "consent_recorded")
        .collect();
    assert_eq!(recorded.len(), 2, "every decision is kept");
    assert_eq!(recorded[1]["after"]["consent"], "refused");
}

/// The read log's entries for `query`, waiting for the writer's next second.
async fn read_log(app: &TestApp, admin: &str, query: &str, at_least: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = app
            .get(&format!("/api/v1/read-log?{query}"), Some(admin))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let items = r.json()["items"].as_array().unwrap().clone();
        if items.len() >= at_least || Instant::now() > deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn every_read_of_a_case_or_person_is_recorded_within_a_second_without_a_flush() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let admin = app.admin_token().await;
    let finance = app
        .user_token(k.province, "keuangan.kalbar", vec![Role::FinanceOfficer])
        .await;
    let case = create(
        &app,
        &returnee(
            "Siti Nurhaliza",
            json!({"nik": "6171015505900002"}),
            "03-14",
        ),
        &k.case_worker,
    )
    .await;
    let person = case["person"]["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/api/v1/cases/{}", id(&case)),
        format!("/api/v1/cases/{}/history", id(&case)),
        format!("/api/v1/cases/{}/matches", id(&case)),
        format!("/api/v1/persons/{person}"),
        "/api/v1/cases?q=siti&limit=10".to_owned(),
        "/api/v1/cases?status=registered".to_owned(),
    ] {
        let r = app.get(&path, Some(&k.case_worker)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    let export = app
        .call(with_token(
            TestRequest::get()
                .uri("/api/v1/cases?origin_region=61.71")
                .insert_header(("Accept", "text/csv")),
            Some(&finance.1),
        ))
        .await;
    assert_eq!(export.status, 200);
    let entries = read_log(&app, &admin, &format!("case_id={}", id(&case)), 7).await;
    let mut operations: Vec<&str> = entries
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    operations.sort();
    assert_eq!(
        operations,
        vec![
            "case.export",
            "case.history",
            "case.list",
            "case.matches",
            "case.read",
            "case.search",
            "person.read"
        ],
        "{entries:?}"
    );
    let search = entries
        .iter()
        .find(|e| e["operation"] == "case.search")
        .unwrap();
    assert_eq!(search["filter"], json!({"q": "siti", "limit": "10"}));
    assert_eq!(search["row_count"], 1);
    assert_eq!(search["principal_name"], "dinsos.kalbar");
    let export = entries
        .iter()
        .find(|e| e["operation"] == "case.export")
        .unwrap();
    assert_eq!(export["principal_id"], json!(finance.0));
    assert_eq!(export["filter"], json!({"origin_region": "61.71"}));
    let by_person = read_log(&app, &admin, &format!("person_id={person}"), 1).await;
    assert_eq!(by_person.len(), 1);
    let by_principal = read_log(&app, &admin, &format!("principal_id={}", finance.0), 1).await;
    assert_eq!(by_principal.len(), 1);
    // Only system administrators read the log; it cannot be changed.
    app.get("/api/v1/read-log", Some(&k.case_worker))
        .await
        .assert_problem(403);
    let refused = diesel::sql_query("DELETE FROM read_log")
        .execute(&mut app.db().await)
        .await;
    assert!(refused.is_err(), "append-only");
}

#[actix_web::test]
async fn a_flush_writes_the_buffered_reads_at_once() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let case = create(&app, &returnee("Siti", json!({}), "03-14"), &k.case_worker).await;
    app.get(
        &format!("/api/v1/cases/{}", id(&case)),
        Some(&k.case_worker),
    )
    .await;
    app.reads.flush().await;
    let count: i64 = diesel_async::RunQueryDsl::get_result(
        diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "count(*) FROM read_log",
        )),
        &mut app.db().await,
    )
    .await
    .unwrap();
    assert_eq!(count, 1);
}

async fn post(app: &TestApp, path: &str, body: Value, token: &str) -> crate::helpers::TestResponse {
    app.post(path, &body, Some(token)).await
}

#[actix_web::test]
async fn two_persons_found_to_be_the_same_are_merged_with_a_reason() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let a = create(
        &app,
        &returnee(
            "Siti Nurhaliza",
            json!({"birth_date": "1990-05-15", "sex": "female"}),
            "06-01",
        ),
        &k.case_worker,
    )
    .await;
    let b = create(
        &app,
        &returnee(
            "Siti Nurhalisa",
            json!({"birth_date": "1990-05-15", "sex": "female"}),
            "02-01",
        ),
        &k.case_worker,
    )
    .await;
    let with_nik = create(
        &app,
        &returnee("Siti N", json!({"nik": "6171015505900002"}), "09-01"),
        &k.case_worker,
    )
    .await;
    let other_nik = create(
        &app,
        &returnee("Sri", json!({"nik": "6171015505900003"}), "09-02"),
        &k.case_worker,
    )
    .await;
    let (pa, pb) = (
        a["person"]["id"].as_str().unwrap(),
        b["person"]["id"].as_str().unwrap(),
    );
    let merged = post(
        &app,
        &format!("/api/v1/persons/{pa}/merge"),
        json!({"other_person_id": pb, "reason": "same mother's name"}),
        &k.case_worker,
    )
    .await;
    assert_eq!(merged.status, 200, "{}", merged.text());
    assert_eq!(
        merged.json(),
        json!({"person_id": pa, "moved_case_ids": [id(&b)]})
    );
    let a_now = app
        .get(&format!("/api/v1/cases/{}", id(&a)), Some(&k.case_worker))
        .await
        .json();
    let b_now = app
        .get(&format!("/api/v1/cases/{}", id(&b)), Some(&k.case_worker))
        .await
        .json();
    assert_eq!(b_now["person"]["id"], json!(pa));
    assert_eq!(
        (
            b_now["repeat_return"].clone(),
            a_now["repeat_return"].clone()
        ),
        (json!(false), json!(true)),
        "by arrival"
    );
    let history = app
        .get(
            &format!("/api/v1/cases/{}/history", id(&b)),
            Some(&k.case_worker),
        )
        .await
        .json();
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["action"].as_str(), last["reason"].as_str()),
        (Some("identity_merged"), Some("same mother's name"))
    );
    app.get(&format!("/api/v1/persons/{pb}"), Some(&k.case_worker))
        .await
        .assert_problem(404);
    // A merge into a NIK identity keeps the NIK; two different NIKs are two people.
    let pn = with_nik["person"]["id"].as_str().unwrap();
    let into_nik = post(
        &app,
        &format!("/api/v1/persons/{pa}/merge"),
        json!({"other_person_id": pn, "reason": "same KTP photo"}),
        &k.case_worker,
    )
    .await;
    assert_eq!(
        into_nik.json()["person_id"],
        json!(pn),
        "the identity with a NIK survives"
    );
    let a_nik = app
        .get(&format!("/api/v1/cases/{}", id(&a)), Some(&k.case_worker))
        .await
        .json();
    assert_eq!(a_nik["person"]["nik"], "6171015505900002");
    let po = other_nik["person"]["id"].as_str().unwrap();
    let refused = post(
        &app,
        &format!("/api/v1/persons/{pn}/merge"),
        json!({"other_person_id": po, "reason": "x"}),
        &k.case_worker,
    )
    .await;
    assert_eq!(
        refused.assert_problem(422)["errors"][0]["field"],
        "other_person_id"
    );
    let no_reason = post(
        &app,
        &format!("/api/v1/persons/{pn}/merge"),
        json!({"other_person_id": po, "reason": " "}),
        &k.case_worker,
    )
    .await;
    assert_eq!(
        no_reason.assert_problem(422)["errors"][0]["field"],
        "reason"
    );
}

#[actix_web::test]
async fn a_wrong_nik_is_corrected_and_a_wrong_link_split_with_reasons() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let first = create(
        &app,
        &returnee("Siti", json!({"nik": "6171015505900002"}), "01-10"),
        &k.case_worker,
    )
    .await;
    let typo = create(
        &app,
        &returnee("Siti", json!({"nik": "6171015505900009"}), "05-10"),
        &k.case_worker,
    )
    .await;
    assert_eq!(typo["repeat_return"], false);
    let corrected = post(
        &app,
        &format!("/api/v1/cases/{}/identity", id(&typo)),
        json!({"nik": "6171015505900002", "reason": "checked against the KTP"}),
        &k.case_worker,
    )
    .await;
    assert_eq!(corrected.status, 200, "{}", corrected.text());
    assert_eq!(corrected.json()["person"]["id"], first["person"]["id"]);
    assert_eq!(corrected.json()["repeat_return"], true);
    let history = app
        .get(
            &format!("/api/v1/cases/{}/history", id(&typo)),
            Some(&k.case_worker),
        )
        .await
        .json();
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["action"].as_str(), last["reason"].as_str()),
        (Some("identity_corrected"), Some("checked against the KTP"))
    );
    app.get(
        &format!("/api/v1/persons/{}", typo["person"]["id"].as_str().unwrap()),
        Some(&k.case_worker),
    )
    .await
    .assert_problem(404);
    let disagrees = post(
        &app,
        &format!("/api/v1/cases/{}/identity", id(&typo)),
        json!({"nik": "6171011505900002", "reason": "x"}),
        &k.case_worker,
    )
    .await;
    assert_eq!(
        disagrees.assert_problem(422)["errors"][0]["field"],
        "person.sex",
        "the case records a woman"
    );

    // Two returns linked by a passport, one of them someone else.
    let p1 = create(
        &app,
        &returnee("Budi", json!({"passport_number": "A1234567"}), "02-01"),
        &k.case_worker,
    )
    .await;
    let p2 = create(
        &app,
        &returnee("Bambang", json!({"passport_number": "A1234567"}), "04-01"),
        &k.case_worker,
    )
    .await;
    assert_eq!(p2["person"]["id"], p1["person"]["id"]);
    assert_eq!(p2["repeat_return"], true);
    let split = post(
        &app,
        &format!("/api/v1/cases/{}/split", id(&p1)),
        json!({"reason": "different person, photo checked"}),
        &k.case_worker,
    )
    .await;
    assert_eq!(split.status, 200, "{}", split.text());
    assert_ne!(split.json()["person"]["id"], p1["person"]["id"]);
    let p2_now = app
        .get(&format!("/api/v1/cases/{}", id(&p2)), Some(&k.case_worker))
        .await
        .json();
    assert_eq!(
        p2_now["repeat_return"], false,
        "its earlier return is someone else's"
    );
    let p2_history = app
        .get(
            &format!("/api/v1/cases/{}/history", id(&p2)),
            Some(&k.case_worker),
        )
        .await
        .json();
    assert_eq!(
        p2_history.as_array().unwrap().last().unwrap()["action"],
        "repeat_return_changed"
    );
    post(
        &app,
        &format!("/api/v1/cases/{}/split", id(&p1)),
        json!({"reason": "again"}),
        &k.case_worker,
    )
    .await
    .assert_problem(409);
    let by_nik = post(
        &app,
        &format!("/api/v1/cases/{}/split", id(&first)),
        json!({"reason": "x"}),
        &k.case_worker,
    )
    .await;
    assert_eq!(
        by_nik.assert_problem(422)["errors"][0]["field"],
        "person.nik"
    );
}

#[actix_web::test]
async fn breaking_the_glass_opens_earlier_returns_masked_recorded_shown_to_owners_and_ends() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let admin = app.admin_token().await;
    let jatim = app
        .create_agency(
            "DINSOS-JATIM",
            AgencyKind::ProvincialSocialService,
            Some("35"),
        )
        .await;
    let jatim_worker = app
        .user_token(jatim, "dinsos.jatim", vec![Role::CaseWorker])
        .await
        .1;
    let jatim_admin = app
        .user_token(jatim, "admin.jatim", vec![Role::AgencyAdmin])
        .await
        .1;
    let mut earlier = returnee(
        "Sri Wahyuni",
        json!({"nik": "3507015505900003", "phone": "+6281111111111"}),
        "02-01",
    );
    earlier["origin_region"] = json!("35.07");
    let earlier = create(&app, &earlier, &jatim_worker).await;
    let later = create(
        &app,
        &returnee("SRI WAHYUNI", json!({"nik": "3507015505900003"}), "03-14"),
        &k.case_worker,
    )
    .await;
    let earlier_path = format!("/api/v1/cases/{}", id(&earlier));
    app.get(&earlier_path, Some(&k.case_worker))
        .await
        .assert_problem(404);
    let access = format!("/api/v1/cases/{}/earlier-returns/access", id(&later));
    post(&app, &access, json!({"reason": ""}), &k.case_worker)
        .await
        .assert_problem(422);
    post(&app, &access, json!({"reason": "x"}), &k.push_client)
        .await
        .assert_problem(403);
    let granted = post(
        &app,
        &access,
        json!({"reason": "third return through the same agent"}),
        &k.case_worker,
    )
    .await;
    assert_eq!(granted.status, 201, "{}", granted.text());
    assert_eq!(granted.json()["case_ids"], json!([id(&earlier)]));
    let opened = app.get(&earlier_path, Some(&k.case_worker)).await;
    assert_eq!(opened.status, 200, "{}", opened.text());
    assert_eq!(opened.json()["person"]["phone"], "+628********11", "masked");
    let person = app
        .get(
            &format!(
                "/api/v1/persons/{}",
                later["person"]["id"].as_str().unwrap()
            ),
            Some(&k.case_worker),
        )
        .await
        .json();
    assert_eq!(person["cases"].as_array().unwrap().len(), 2);
    // Lists stay within the caller's own scope.
    let list = app.get("/api/v1/cases", Some(&k.case_worker)).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let grants = app.get("/api/v1/access-grants", Some(&jatim_admin)).await;
    assert_eq!(grants.status, 200, "{}", grants.text());
    assert_eq!(
        grants.json()["items"][0]["reason"],
        "third return through the same agent"
    );
    assert_eq!(grants.json()["items"][0]["principal_name"], "dinsos.kalbar");
    let logged = read_log(&app, &admin, &format!("case_id={}", id(&earlier)), 1).await;
    assert!(
        logged
            .iter()
            .any(|e| e["via_grant"] == true && e["principal_name"] == "dinsos.kalbar")
    );
    let audit = app
        .get("/api/v1/audit-events?action=case.break_glass", Some(&admin))
        .await
        .json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
    // It ends by itself.
    diesel::sql_query("UPDATE access_grants SET granted_at = now() - interval '5 hours', expires_at = now() - interval '1 hour'")
        .execute(&mut app.db().await)
        .await
        .unwrap();
    app.get(&earlier_path, Some(&k.case_worker))
        .await
        .assert_problem(404);
    let grants = app
        .get("/api/v1/access-grants?active=true", Some(&jatim_admin))
        .await
        .json();
    assert_eq!(grants["items"], json!([]));
    // A return without others has nothing to open.
    let alone = create(&app, &new_case(1, "61.71"), &k.case_worker).await;
    post(
        &app,
        &format!("/api/v1/cases/{}/earlier-returns/access", id(&alone)),
        json!({"reason": "x"}),
        &k.case_worker,
    )
    .await
    .assert_problem(409);
}
