//! One return, however many systems report it (issue 21): BP3TKI and the
//! ministry push their own records of the same returns, with their own
//! references, spellings and times.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pulang::agencies::AgencyKind;
use serde_json::{Value, json};

use crate::helpers::{Kalbar, TestApp};

/// One record as a source sends it.
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per field of the record"
)]
fn record(
    reference: &str,
    name: &str,
    nik: Option<&str>,
    passport: Option<&str>,
    birth: Option<&str>,
    origin: &str,
    arrived: &str,
    category: &str,
) -> Value {
    json!({
        "external_reference": reference,
        "person": {"full_name": name, "nik": nik, "passport_number": passport, "birth_date": birth},
        "category": category, "arrived_at": arrived, "entry_point": "plbn_entikong",
        "country_left": "MY", "origin_region": origin, "handling_province": "61"
    })
}

/// BP3TKI's records, made when each returnee crossed the border: seven returns.
fn bp3tki_records() -> Vec<Value> {
    vec![
        record(
            "PTK-2019-001",
            "Siti Nurhaliza",
            Some("6171015505900002"),
            None,
            None,
            "61.71",
            "2019-03-14T09:30:00Z",
            "trafficking_victim",
        ),
        record(
            "PTK-2019-002",
            "Budi Santoso",
            Some("3301021203850004"),
            None,
            None,
            "33.01",
            "2019-04-02T08:00:00Z",
            "undocumented_migrant",
        ),
        record(
            "PTK-2019-003",
            "Rina Wati",
            None,
            Some("C7654321"),
            Some("1992-08-01"),
            "52.01",
            "2019-05-10T10:00:00Z",
            "undocumented_migrant",
        ),
        // No NIK, no passport: only a person can tell it is the ministry's Dewi Lestari.
        record(
            "PTK-2019-004",
            "Dewi Lestari",
            None,
            None,
            Some("1995-01-20"),
            "61.72",
            "2019-06-01T07:00:00Z",
            "undocumented_migrant",
        ),
        // Two people of nearly one name, arriving in one week: two returns.
        record(
            "PTK-2019-005",
            "Agus Salim",
            None,
            None,
            None,
            "61.71",
            "2019-07-01T07:00:00Z",
            "undocumented_migrant",
        ),
        record(
            "PTK-2019-006",
            "Agus Salimah",
            None,
            None,
            None,
            "61.71",
            "2019-07-03T07:00:00Z",
            "undocumented_migrant",
        ),
        // Siti again, half a year later: a repeat return, not a report of the first.
        record(
            "PTK-2019-007",
            "Siti Nurhaliza",
            Some("6171015505900002"),
            None,
            None,
            "61.71",
            "2019-09-20T09:30:00Z",
            "trafficking_victim",
        ),
    ]
}

/// The ministry's records of four of the same returns, days later, in capitals,
/// NIKs with spaces, under its own references.
fn kemensos_records() -> Vec<Value> {
    vec![
        record(
            "KMS/61/0001",
            "SITI NURHALIZA",
            Some("6171 0155 0590 0002"),
            None,
            None,
            "61.71",
            "2019-03-16T02:00:00Z",
            "trafficking_victim",
        ),
        record(
            "KMS/61/0002",
            "BUDI SANTOSO",
            Some("3301 0212 0385 0004"),
            None,
            None,
            "33.01",
            "2019-04-05T03:00:00Z",
            "undocumented_migrant",
        ),
        record(
            "KMS/61/0003",
            "RINA WATI",
            None,
            Some("c7654321"),
            Some("1992-08-01"),
            "52.01",
            "2019-05-11T01:00:00Z",
            "undocumented_migrant",
        ),
        record(
            "KMS/61/0004",
            "DEWI LESTARI",
            Some("6172 0160 0195 0001"),
            None,
            None,
            "61.72",
            "2019-06-03T05:00:00Z",
            "undocumented_migrant",
        ),
    ]
}

struct Sources {
    k: Kalbar,
    kemensos: String,
    kemensos_agency: uuid::Uuid,
}

async fn sources(app: &TestApp) -> Sources {
    let k = app.kalbar().await;
    let agency = app
        .create_agency("KEMENSOS-RSTS-KPO", AgencyKind::Ministry, None)
        .await;
    let kemensos = app.client_token(agency, "kemensos-pusat").await;
    Sources {
        k,
        kemensos,
        kemensos_agency: agency,
    }
}

async fn push(app: &TestApp, token: &str, records: Vec<Value>) -> Value {
    let answer = app
        .post(
            "/api/v1/cases/batch",
            &json!({"records": records}),
            Some(token),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()
}

async fn case_total(app: &TestApp, token: &str) -> i64 {
    app.get("/api/v1/cases?with_total=true&limit=1", Some(token))
        .await
        .json()["total"]
        .as_i64()
        .unwrap()
}

async fn stats(app: &TestApp, token: &str) -> Value {
    let answer = app
        .get(
            "/api/v1/stats/returns?from=2019-01-01&to=2019-12-31&handling_province=61",
            Some(token),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()
}

async fn count_rows(app: &TestApp, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result(&mut app.db().await)
        .await
        .unwrap();
    n.n
}

/// The events of one case in the feed, once every write before has become visible.
async fn events_of(app: &TestApp, token: &str, id: &str, at_least: usize) -> Vec<String> {
    let mut actions = Vec::new();
    for _ in 0..100 {
        let feed = app
            .get("/api/v1/events?limit=1000", Some(token))
            .await
            .json();
        actions = feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["entity_id"] == id)
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect();
        if actions.len() >= at_least {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    actions
}

/// Statistics without the queue's figure, which a single source has too.
fn figures(mut stats: Value) -> Value {
    stats
        .as_object_mut()
        .unwrap()
        .remove("possible_duplicates_open");
    stats
}

async fn two_sources_make_one_case_per_return(ministry_first: bool) {
    let app = TestApp::spawn().await;
    let s = sources(&app).await;
    let bp3tki = s.k.push_client.clone();
    let worker = s.k.case_worker.clone();
    let (first, first_records, second, second_records) = if ministry_first {
        (&s.kemensos, kemensos_records(), &bp3tki, bp3tki_records())
    } else {
        (&bp3tki, bp3tki_records(), &s.kemensos, kemensos_records())
    };
    let one = push(&app, first, first_records.clone()).await;
    assert_eq!(one["totals"]["created"], first_records.len());
    let two = push(&app, second, second_records.clone()).await;
    // Siti, Budi and Rina (by NIK, NIK and passport) are reports of returns already recorded.
    assert_eq!(two["totals"]["linked"], 3, "{}", two["totals"]);
    assert_eq!(two["totals"]["created"], second_records.len() - 3);
    for i in 0..3 {
        assert_eq!(two["results"][i]["result"], "linked");
        assert_eq!(two["results"][i]["case_id"], one["results"][i]["case_id"]);
    }
    let siti = one["results"][0]["case_id"].as_str().unwrap().to_owned();
    // Dewi (no NIK at BP3TKI) and Siti's later trip are cases of their own.
    assert_eq!(case_total(&app, &worker).await, 8);

    // The case shows the most recent report's spelling, the first report's arrival.
    let case = app
        .get(&format!("/api/v1/cases/{siti}"), Some(&worker))
        .await
        .json();
    let (first_name, second_name) = if ministry_first {
        ("SITI NURHALIZA", "Siti Nurhaliza")
    } else {
        ("Siti Nurhaliza", "SITI NURHALIZA")
    };
    assert_eq!(case["person"]["full_name"], second_name);
    assert_eq!(case["arrived_at"], first_records[0]["arrived_at"]);
    assert_eq!(
        case["repeat_return"], false,
        "a second report is no second return"
    );
    assert_eq!(case["person"]["nik"], "6171015505900002");

    // The handling agency sees both reports and the spelling they disagree on.
    let reports = app
        .get(&format!("/api/v1/cases/{siti}/reports"), Some(&worker))
        .await
        .json();
    let list = reports["reports"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["created_the_case"], true);
    assert_eq!(list[0]["reported"]["person"]["full_name"], first_name);
    assert_eq!(list[1]["reported"]["person"]["full_name"], second_name);
    assert_eq!(list[1]["reported"]["person"]["nik"], "6171015505900002");
    let fields: Vec<&str> = reports["disagreements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["full_name", "arrived_at"]);
    // BP3TKI reads the case it reported, whoever created it, and of the
    // ministry's report only that it exists.
    let seen = app
        .get(&format!("/api/v1/cases/{siti}"), Some(&bp3tki))
        .await;
    assert_eq!(seen.status, 200, "{}", seen.text());
    let seen_reports = app
        .get(&format!("/api/v1/cases/{siti}/reports"), Some(&bp3tki))
        .await
        .json();
    let theirs: Vec<&Value> = seen_reports["reports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["external_reference"].is_null())
        .collect();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["reported"], Value::Null);
    assert!(
        !seen_reports.to_string().contains("KMS/61/0001"),
        "{seen_reports}"
    );
    if ministry_first {
        assert_eq!(seen.json()["external_reference"], Value::Null);
        let history = app
            .get(&format!("/api/v1/cases/{siti}/history"), Some(&bp3tki))
            .await
            .json();
        assert!(!history.to_string().contains("KMS/61/0001"), "{history}");
        let csv = app
            .call(crate::helpers::with_token(
                actix_web::test::TestRequest::get()
                    .uri("/api/v1/cases")
                    .insert_header(("Accept", "text/csv")),
                Some(&bp3tki),
            ))
            .await;
        assert_eq!(csv.status, 200);
        assert!(
            !csv.text().contains("KMS/61/0001"),
            "the CSV export hides it too"
        );
    }

    // The uncertain ones wait for a person: Dewi's two cases, and the two Aguses.
    let queue = app.get("/api/v1/possible-duplicates", Some(&worker)).await;
    assert_eq!(queue.status, 200, "{}", queue.text());
    let pairs = queue.json()["items"].as_array().unwrap().clone();
    assert_eq!(pairs.len(), 2, "{pairs:?}");
    assert_eq!(stats(&app, &worker).await["possible_duplicates_open"], 2);
    let of = |name: &str| {
        pairs
            .iter()
            .find(|p| {
                p["case"]["full_name"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(name)
            })
            .unwrap()
            .clone()
    };
    let dewi = of("Dewi Lestari");
    let agus = of("Agus Salim");
    // BP3TKI is no case worker of the handling province.
    app.get("/api/v1/possible-duplicates", Some(&bp3tki))
        .await
        .assert_problem(403);

    let confirmed = app
        .post(
            &format!(
                "/api/v1/possible-duplicates/{}/confirm",
                dewi["id"].as_str().unwrap()
            ),
            &json!({"reason": "Same woman: same birth date, origin and week"}),
            Some(&worker),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    let kept = confirmed.json();
    assert_eq!(kept["id"], dewi["case"]["id"]);
    assert_eq!(kept["case_number"], dewi["case"]["case_number"]);
    assert_eq!(
        kept["person"]["nik"], "6172016001950001",
        "the kept case has the NIK now"
    );
    let kept_id = kept["id"].as_str().unwrap();
    let merged_id = dewi["duplicate"]["id"].as_str().unwrap();
    let merged_number = dewi["duplicate"]["case_number"].as_str().unwrap();
    let kept_reports = app
        .get(&format!("/api/v1/cases/{kept_id}/reports"), Some(&worker))
        .await
        .json();
    assert_eq!(kept_reports["reports"].as_array().unwrap().len(), 2);
    // The merged case's number and id still find the kept case.
    let found = app
        .get(&format!("/api/v1/cases?q={merged_number}"), Some(&worker))
        .await
        .json();
    let ids: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![kept_id]);
    let moved = app
        .get(&format!("/api/v1/cases/{merged_id}"), Some(&worker))
        .await;
    assert_eq!(moved.status, 301);
    assert_eq!(
        moved.header("Location").unwrap(),
        format!("/api/v1/cases/{kept_id}")
    );
    let history = app
        .get(&format!("/api/v1/cases/{kept_id}/history"), Some(&worker))
        .await
        .json();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "created").count(),
        2,
        "both histories are kept: {actions:?}"
    );
    assert_eq!(actions.last(), Some(&"duplicate_merged"));

    let dismissed = app
        .post(
            &format!(
                "/api/v1/possible-duplicates/{}/dismiss",
                agus["id"].as_str().unwrap()
            ),
            &json!({"reason": "Two men: Agus Salim and his cousin"}),
            Some(&worker),
        )
        .await;
    assert_eq!(dismissed.status, 200, "{}", dismissed.text());
    assert_eq!(dismissed.json()["status"], "dismissed");
    let again = app
        .post(
            &format!(
                "/api/v1/possible-duplicates/{}/dismiss",
                agus["id"].as_str().unwrap()
            ),
            &json!({"reason": "twice"}),
            Some(&worker),
        )
        .await;
    again.assert_problem(409);
    let queue = app
        .get("/api/v1/possible-duplicates", Some(&worker))
        .await
        .json();
    assert_eq!(queue["items"], json!([]));
    assert_eq!(case_total(&app, &worker).await, 7, "one case per return");
    // Filtered by source, a case counts for every agency that reported it.
    for (agency, reported) in [(s.k.bp3tki, 7), (s.kemensos_agency, 4)] {
        let page = app
            .get(
                &format!("/api/v1/cases?with_total=true&source_agency_id={agency}"),
                Some(&worker),
            )
            .await
            .json();
        assert_eq!(page["total"], reported);
    }
    let export = app
        .call(crate::helpers::with_token(
            actix_web::test::TestRequest::get()
                .uri("/api/v1/cases")
                .insert_header(("Accept", "text/csv")),
            Some(&worker),
        ))
        .await
        .text();
    let rows = export.split("\r\n").filter(|l| !l.is_empty()).count();
    assert_eq!(
        rows,
        1 + 7,
        "the export has a row per return, not per report"
    );

    // Re-pushes from both sources change nothing and write nothing.
    let history_before = count_rows(&app, "case_history").await;
    let audit_before = count_rows(&app, "audit_events").await;
    let events_before = count_rows(&app, "change_events").await;
    let again_first = push(&app, first, first_records.clone()).await;
    let again_second = push(&app, second, second_records.clone()).await;
    assert_eq!(again_first["totals"]["unchanged"], first_records.len());
    assert_eq!(again_second["totals"]["unchanged"], second_records.len());
    assert_eq!(count_rows(&app, "case_history").await, history_before);
    assert_eq!(count_rows(&app, "audit_events").await, audit_before);
    assert_eq!(count_rows(&app, "change_events").await, events_before);
    // Dewi is the fourth record of either source's file.
    assert_eq!(
        again_first["results"][3]["case_id"].as_str(),
        Some(kept_id),
        "the merged report answers with the kept case"
    );

    // A follower hears of Siti's return once as created, then of the second report.
    let events = events_of(&app, &worker, &siti, 2).await;
    assert_eq!(
        events.iter().filter(|a| *a == "created").count(),
        1,
        "{events:?}"
    );
    assert_eq!(events.len(), 2, "{events:?}");
    // BP3TKI follows the case through its report, whoever created it.
    assert_eq!(events_of(&app, &bp3tki, &siti, 2).await, events);

    // The figures are those of one source alone.
    let together = stats(&app, &worker).await;
    assert_eq!(together["received"], 7);
    assert_eq!(together["repeat_returns"], 1);
    assert_eq!(together["possible_duplicates_open"], 0);
    let alone_app = TestApp::spawn().await;
    let alone = sources(&alone_app).await;
    push(&alone_app, &alone.k.push_client, bp3tki_records()).await;
    let single = stats(&alone_app, &alone.k.case_worker).await;
    assert_eq!(figures(together), figures(single));
}

#[actix_web::test]
async fn bp3tki_then_the_ministry_reporting_the_same_returns_make_one_case_per_return() {
    two_sources_make_one_case_per_return(false).await;
}

#[actix_web::test]
async fn the_ministry_then_bp3tki_reporting_the_same_returns_make_one_case_per_return() {
    two_sources_make_one_case_per_return(true).await;
}

#[actix_web::test]
async fn a_report_attached_to_the_wrong_case_is_detached_into_a_case_of_its_own() {
    let app = TestApp::spawn().await;
    let s = sources(&app).await;
    let worker = s.k.case_worker.clone();
    let one = push(&app, &s.k.push_client, vec![bp3tki_records()[1].clone()]).await;
    let two = push(&app, &s.kemensos, vec![kemensos_records()[1].clone()]).await;
    assert_eq!(two["results"][0]["result"], "linked");
    let case = one["results"][0]["case_id"].as_str().unwrap().to_owned();
    let reports = app
        .get(&format!("/api/v1/cases/{case}/reports"), Some(&worker))
        .await
        .json();
    let ministry_report = reports["reports"][1]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/cases/{case}/reports/{ministry_report}/detach");
    app.post(&path, &json!({"reason": " "}), Some(&worker))
        .await
        .assert_problem(422);
    app.post(
        &path,
        &json!({"reason": "not ours"}),
        Some(&s.k.push_client),
    )
    .await
    .assert_problem(403);
    let detached = app
        .post(
            &path,
            &json!({"reason": "The ministry's Budi Santoso is another man of the same NIK typo"}),
            Some(&worker),
        )
        .await;
    assert_eq!(detached.status, 200, "{}", detached.text());
    let body = detached.json();
    assert_eq!(
        body["case"]["person"]["full_name"], "Budi Santoso",
        "the case shows its remaining report"
    );
    assert_eq!(body["detached_case"]["person"]["full_name"], "BUDI SANTOSO");
    assert_eq!(body["detached_case"]["external_reference"], "KMS/61/0002");
    let new_case = body["detached_case"]["id"].as_str().unwrap().to_owned();
    assert_ne!(new_case, case);
    assert_eq!(case_total(&app, &worker).await, 2);

    // The only report left cannot go.
    let last = reports["reports"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/cases/{case}/reports/{last}/detach"),
        &json!({"reason": "try"}),
        Some(&worker),
    )
    .await
    .assert_problem(409);

    let history = app
        .get(&format!("/api/v1/cases/{case}/history"), Some(&worker))
        .await
        .json();
    let last_entry = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last_entry["action"], "report_detached");
    assert_eq!(
        last_entry["reason"],
        "The ministry's Budi Santoso is another man of the same NIK typo"
    );
    let events = events_of(&app, &worker, &case, 3).await;
    assert_eq!(
        events.last().map(String::as_str),
        Some("report_detached"),
        "{events:?}"
    );

    // The ministry's re-push now answers with the new case, unchanged.
    let again = push(&app, &s.kemensos, vec![kemensos_records()[1].clone()]).await;
    assert_eq!(again["results"][0]["result"], "unchanged");
    assert_eq!(
        again["results"][0]["case_id"].as_str(),
        Some(new_case.as_str())
    );
}

#[actix_web::test]
async fn what_a_case_worker_set_wins_over_a_later_report_sent_one_by_one() {
    let app = TestApp::spawn().await;
    let s = sources(&app).await;
    let worker = s.k.case_worker.clone();
    let one = push(&app, &s.k.push_client, vec![bp3tki_records()[0].clone()]).await;
    let id = one["results"][0]["case_id"].as_str().unwrap().to_owned();
    let edit = app
        .call(crate::helpers::with_token(
            actix_web::test::TestRequest::patch()
                .uri(&format!("/api/v1/cases/{id}"))
                .insert_header(("If-Match", "\"1\""))
                .set_json(json!({"person": {"full_name": "Siti Nurhaliza binti Ahmad"}})),
            Some(&worker),
        ))
        .await;
    assert_eq!(edit.status, 200, "{}", edit.text());

    let mut single = kemensos_records()[0].clone();
    single["person"]["phone"] = json!("+6281234567890");
    let answer = app.post("/api/v1/cases", &single, Some(&s.kemensos)).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.header("Pulang-Record-Result").as_deref(),
        Some("linked")
    );
    let case = answer.json();
    assert_eq!(case["id"], id.as_str());
    let shown = app
        .get(&format!("/api/v1/cases/{id}"), Some(&worker))
        .await
        .json();
    assert_eq!(shown["person"]["full_name"], "Siti Nurhaliza binti Ahmad");
    assert_eq!(
        shown["person"]["phone"], "+6281234567890",
        "the new report's value"
    );
    let disagreements = app
        .get(&format!("/api/v1/cases/{id}/reports"), Some(&worker))
        .await
        .json()["disagreements"]
        .clone();
    assert_eq!(disagreements[0]["field"], "full_name");
    assert_eq!(disagreements[0]["shown"], "Siti Nurhaliza binti Ahmad");
    // Sent again one by one: the same report, unchanged.
    let again = app.post("/api/v1/cases", &single, Some(&s.kemensos)).await;
    assert_eq!(
        again.header("Pulang-Record-Result").as_deref(),
        Some("unchanged")
    );
}

#[actix_web::test]
async fn two_sources_pushing_the_same_new_return_at_once_make_one_case() {
    let app = TestApp::spawn().await;
    let s = sources(&app).await;
    let body_b = json!({"records": bp3tki_records()[..3].to_vec()});
    let body_k = json!({"records": kemensos_records()[..3].to_vec()});
    let (b, k) = futures_util::future::join(
        app.post("/api/v1/cases/batch", &body_b, Some(&s.k.push_client)),
        app.post("/api/v1/cases/batch", &body_k, Some(&s.kemensos)),
    )
    .await;
    assert_eq!(b.status, 200, "{}", b.text());
    assert_eq!(k.status, 200, "{}", k.text());
    let linked = b.json()["totals"]["linked"].as_i64().unwrap()
        + k.json()["totals"]["linked"].as_i64().unwrap();
    assert_eq!(linked, 3);
    assert_eq!(case_total(&app, &s.k.case_worker).await, 3);
}

#[actix_web::test]
async fn a_return_that_has_been_in_a_transfer_is_never_merged_into_another() {
    let app = TestApp::spawn().await;
    let s = sources(&app).await;
    let worker = s.k.case_worker.clone();
    let pushed = push(&app, &s.k.push_client, bp3tki_records()[4..6].to_vec()).await;
    let newer = pushed["results"][1]["case_id"].as_str().unwrap().to_owned();
    // The newer Agus is already on his way home (planned by the province).
    diesel::sql_query(
        "WITH t AS (INSERT INTO transfers (reference, fiscal_year, handling_province, planning_agency_id, \
           destination_region, destination_province) VALUES ('TRF-2019-000001', 2019, '61', $1, '61.71', '61') \
           RETURNING id) \
         INSERT INTO transfer_cases (transfer_id, case_id) SELECT id, $2 FROM t",
    )
    .bind::<diesel::sql_types::Uuid, _>(s.k.province)
    .bind::<diesel::sql_types::Uuid, _>(newer.parse::<uuid::Uuid>().unwrap())
    .execute(&mut app.db().await)
    .await
    .unwrap();
    let queue = app
        .get("/api/v1/possible-duplicates", Some(&worker))
        .await
        .json();
    let pair = queue["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(queue["items"][0]["duplicate"]["id"], newer.as_str());
    let refused = app
        .post(
            &format!("/api/v1/possible-duplicates/{pair}/confirm"),
            &json!({"reason": "same man"}),
            Some(&worker),
        )
        .await;
    let problem = refused.assert_problem(409);
    assert!(
        problem["detail"].as_str().unwrap().contains("transfer"),
        "{problem}"
    );
    assert_eq!(case_total(&app, &worker).await, 2);
    let still = app
        .get("/api/v1/possible-duplicates", Some(&worker))
        .await
        .json();
    assert_eq!(still["items"][0]["status"], "open");
}

#[actix_web::test]
async fn a_return_a_case_worker_registered_keeps_what_they_recorded_when_a_source_reports_it() {
    let app = TestApp::spawn().await;
    let s = sources(&app).await;
    let mut registered = bp3tki_records()[0].clone();
    registered
        .as_object_mut()
        .unwrap()
        .remove("external_reference");
    let created = app
        .post("/api/v1/cases", &registered, Some(&s.k.case_worker))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let mut reported = kemensos_records()[0].clone();
    reported["person"]["phone"] = json!("+6281234567890");
    let pushed = push(&app, &s.kemensos, vec![reported]).await;
    assert_eq!(pushed["results"][0]["result"], "linked");
    assert_eq!(pushed["results"][0]["case_id"], id.as_str());
    let case = app
        .get(&format!("/api/v1/cases/{id}"), Some(&s.k.case_worker))
        .await
        .json();
    assert_eq!(
        case["person"]["full_name"], "Siti Nurhaliza",
        "as the case worker wrote it"
    );
    assert_eq!(
        case["person"]["phone"], "+6281234567890",
        "a field they left empty"
    );
}

#[actix_web::test]
async fn one_return_twice_in_one_batch_makes_one_case_with_two_reports() {
    let app = TestApp::spawn().await;
    let s = sources(&app).await;
    let mut again = kemensos_records()[0].clone();
    again["external_reference"] = json!("KMS/61/0001-KOREKSI");
    again["arrived_at"] = json!("2019-03-15T02:00:00Z");
    let records = vec![
        kemensos_records()[0].clone(),
        kemensos_records()[1].clone(),
        again,
    ];
    let dry = app
        .post(
            "/api/v1/cases/batch",
            &json!({"records": records, "dry_run": true}),
            Some(&s.kemensos),
        )
        .await
        .json();
    assert_eq!(dry["totals"]["created"], 2);
    assert_eq!(dry["totals"]["linked"], 1);
    let pushed = push(&app, &s.kemensos, records.clone()).await;
    assert_eq!(pushed["totals"]["created"], 2);
    // The earlier arrival (the correction, last in the file) made the case;
    // the later record is its report.
    assert_eq!(pushed["results"][2]["result"], "created");
    assert_eq!(pushed["results"][0]["result"], "linked");
    let siti = pushed["results"][2]["case_id"].as_str().unwrap().to_owned();
    assert_eq!(
        pushed["results"][0]["case_id"].as_str(),
        Some(siti.as_str())
    );
    let case = app
        .get(&format!("/api/v1/cases/{siti}"), Some(&s.k.case_worker))
        .await
        .json();
    assert_eq!(case["arrived_at"], "2019-03-15T02:00:00Z");
    assert_eq!(case["repeat_return"], false);
    let reports = app
        .get(
            &format!("/api/v1/cases/{siti}/reports"),
            Some(&s.k.case_worker),
        )
        .await
        .json();
    assert_eq!(reports["reports"].as_array().unwrap().len(), 2);
    assert_eq!(case_total(&app, &s.k.case_worker).await, 2);
    let repeated = push(&app, &s.kemensos, records).await;
    assert_eq!(repeated["totals"]["unchanged"], 3);
}
