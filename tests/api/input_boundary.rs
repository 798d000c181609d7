//! Issue 14's reproductions: careless and hostile input gets a 4xx problem
//! document, never a 500 or a dropped connection.

use actix_web::test::TestRequest;
use pulang::agencies::AgencyKind;
use pulang::auth::Role;
use serde_json::json;

use crate::helpers::{TestApp, new_case, with_token};

#[actix_web::test]
async fn a_region_code_with_a_multi_byte_character_is_refused_not_a_dropped_connection() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let problem = app
        .get("/api/v1/regions/%E2%82%AC12", Some(&k.case_worker))
        .await;
    assert!(
        problem.status.is_client_error(),
        "{} {}",
        problem.status,
        problem.text()
    );
    problem.assert_problem(problem.status.as_u16());
    for query in [
        "/api/v1/cases?origin_region=%E2%82%AC12",
        "/api/v1/cases?handling_province=%E2%82%AC",
        "/api/v1/stats/returns?from=2019-01-01&to=2019-12-31&handling_province=6%E2%82%AC",
    ] {
        let response = app.get(query, Some(&k.case_worker)).await;
        assert!(
            response.status.is_client_error(),
            "{query}: {}",
            response.text()
        );
        response.assert_problem(response.status.as_u16());
    }
    let mut case = new_case(1, "61.71");
    case["origin_region"] = json!("€12");
    let problem = app
        .post("/api/v1/cases", &case, Some(&k.case_worker))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "origin_region");
}

#[actix_web::test]
async fn a_multi_byte_region_code_in_a_batch_rejects_only_its_record() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let mut bad = new_case(2, "61.71");
    bad["origin_region"] = json!("€12");
    let body = json!({"mode": "per_record", "records": [new_case(1, "61.71"), bad]});
    let response = app
        .post("/api/v1/cases/batch", &body, Some(&k.push_client))
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let response = response.json();
    assert_eq!(response["totals"]["created"], 1);
    assert_eq!(response["totals"]["rejected"], 1);
    assert_eq!(
        response["results"][1]["errors"][0]["field"],
        "origin_region"
    );
}

#[actix_web::test]
async fn a_nul_in_a_query_parameter_is_a_400_naming_it() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let problem = app
        .get("/api/v1/cases?q=a%00b", Some(&k.case_worker))
        .await
        .assert_problem(400);
    assert_eq!(problem["errors"][0]["field"], "q");
}

#[actix_web::test]
async fn a_nul_in_a_sign_in_username_is_a_422_not_a_500() {
    let app = TestApp::spawn().await;
    let problem = app
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "password", "username": "adm\u{0}in", "password": "whatever"}),
            None,
        )
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "username");
}

#[actix_web::test]
async fn nul_and_control_characters_in_case_text_are_422s_naming_the_field() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    for (field, value) in [
        ("notes", "a\u{0}b"),
        ("shelter", "RPTC\u{1b}[31m"),
        ("origin_address", "Jl.\nTanjungpura"),
        ("external_reference", "REF\u{0}1"),
    ] {
        let mut case = new_case(1, "61.71");
        case[field] = json!(value);
        let problem = app
            .post("/api/v1/cases", &case, Some(&k.case_worker))
            .await
            .assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let mut case = new_case(1, "61.71");
    case["person"]["full_name"] = json!("Siti\u{7}");
    let problem = app
        .post("/api/v1/cases", &case, Some(&k.case_worker))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "person.full_name");
    // prose keeps its line breaks
    let mut case = new_case(2, "61.71");
    case["notes"] = json!("line one\nline two\twith a tab");
    let created = app.post("/api/v1/cases", &case, Some(&k.case_worker)).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["notes"], "line one\nline two\twith a tab");
}

#[actix_web::test]
async fn a_control_character_in_a_batch_record_rejects_only_that_record() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let mut bad = new_case(2, "61.71");
    bad["shelter"] = json!("RPTC\u{8}");
    let body = json!({"mode": "per_record", "records": [new_case(1, "61.71"), bad]});
    let response = app
        .post("/api/v1/cases/batch", &body, Some(&k.push_client))
        .await
        .json();
    assert_eq!(response["totals"]["created"], 1, "{response}");
    assert_eq!(response["results"][1]["errors"][0]["field"], "shelter");
}

#[actix_web::test]
async fn a_nul_in_a_batch_record_rejects_only_that_record() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let mut bad_notes = new_case(2, "61.71");
    bad_notes["notes"] = json!("a\u{0}b");
    let mut bad_name = new_case(3, "61.71");
    bad_name["person"]["full_name"] = json!("Siti\u{0}");
    let body =
        json!({"mode": "per_record", "records": [new_case(1, "61.71"), bad_notes, bad_name]});
    let response = app
        .post("/api/v1/cases/batch", &body, Some(&k.push_client))
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let response = response.json();
    assert_eq!(response["totals"]["created"], 1, "{response}");
    assert_eq!(response["totals"]["rejected"], 2, "{response}");
    assert_eq!(response["results"][1]["errors"][0]["field"], "notes");
    assert_eq!(
        response["results"][2]["errors"][0]["field"],
        "person.full_name"
    );
}

#[actix_web::test]
async fn oversized_text_is_a_422_naming_the_field_and_its_limit() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let mut case = new_case(1, "61.71");
    case["notes"] = json!("x".repeat(4001));
    let problem = app
        .post("/api/v1/cases", &case, Some(&k.case_worker))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "notes");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 4000")
    );
}

#[actix_web::test]
async fn implausible_arrival_and_birth_dates_are_refused() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    for arrived in [
        "0000-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "9999-01-01T00:00:00Z",
    ] {
        let mut case = new_case(1, "61.71");
        case["arrived_at"] = json!(arrived);
        let problem = app
            .post("/api/v1/cases", &case, Some(&k.case_worker))
            .await
            .assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], "arrived_at", "{arrived}");
    }
    let mut case = new_case(1, "61.71");
    case["person"]["birth_date"] = json!("1899-12-31");
    let problem = app
        .post("/api/v1/cases", &case, Some(&k.case_worker))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "person.birth_date");
}

/// A second record under a reference the source already used is that
/// source's new report of the same return (issue 21): an upsert answered 200
/// `updated`, one case, never a 500 from the unique key it once hit.
#[actix_web::test]
async fn a_second_case_with_a_used_external_reference_updates_that_report() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let first = app
        .post("/api/v1/cases", &new_case(1, "61.71"), Some(&k.push_client))
        .await;
    assert_eq!(first.status, 201, "{}", first.text());
    let mut again = new_case(3, "61.71");
    again["external_reference"] = json!("REF-00001");
    let second = app
        .post("/api/v1/cases", &again, Some(&k.push_client))
        .await;
    assert_eq!(second.status, 200, "{}", second.text());
    assert_eq!(
        second.header("pulang-record-result").as_deref(),
        Some("updated")
    );
    assert_eq!(second.json()["id"], first.json()["id"]);
    assert_eq!(second.json()["person"]["full_name"], "Returnee Number 3");
}

#[actix_web::test]
async fn single_and_batch_writes_of_one_reference_race_to_one_case_and_no_500() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    for n in 0..6u32 {
        let case = new_case(100 + n, "61.71");
        let batch = json!({"records": [case.clone()]});
        let (single, pushed) = futures_util::future::join(
            app.post("/api/v1/cases", &case, Some(&k.push_client)),
            app.post("/api/v1/cases/batch", &batch, Some(&k.push_client)),
        )
        .await;
        assert!(
            single.status == 201 || single.status == 200,
            "{}: {}",
            single.status,
            single.text()
        );
        assert_eq!(pushed.status, 200, "{}", pushed.text());
    }
    let list = app
        .get("/api/v1/cases?limit=100", Some(&k.case_worker))
        .await
        .json();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        6,
        "one case per reference"
    );
}

#[actix_web::test]
async fn an_unknown_receiving_agency_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let planner = app
        .user_token(k.province, "planner", vec![Role::CaseWorker])
        .await
        .1;
    let plan = json!({
        "destination_region": "61.72",
        "receiving_agency_id": uuid::Uuid::new_v4(),
        "fiscal_year": 2019
    });
    let problem = app
        .post("/api/v1/transfers", &plan, Some(&planner))
        .await
        .assert_problem(422);
    assert_eq!(
        problem["errors"][0]["field"], "receiving_agency_id",
        "{problem}"
    );
}

#[actix_web::test]
async fn money_beyond_ten_to_the_fifteen_is_refused_and_budget_reads_keep_working() {
    let app = TestApp::spawn().await;
    let agency = app
        .create_agency(
            "DINSOS-6172",
            AgencyKind::RegencySocialService,
            Some("61.72"),
        )
        .await;
    let officer = app
        .user_token(agency, "keuangan.6172", vec![Role::FinanceOfficer])
        .await
        .1;
    let body = |allocation: i64| {
        json!({"fiscal_year": 2019, "source": "apbd_regency", "document_number": "DPA-1",
               "name": "Pemulangan", "allocation": allocation, "status": "active"})
    };
    let problem = app
        .post("/api/v1/budgets", &body(i64::MAX), Some(&officer))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "allocation");
    let created = app
        .post(
            "/api/v1/budgets",
            &body(1_000_000_000_000_000),
            Some(&officer),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let ledger = format!("/api/v1/budgets/{id}/ledger");
    let problem = app
        .post(
            &ledger,
            &json!({"kind": "commitment", "amount": i64::MAX, "reason": "x"}),
            Some(&officer),
        )
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "amount");
    let problem = app
        .post(
            &ledger,
            &json!({"kind": "revision", "amount": 1, "reason": "above the ceiling"}),
            Some(&officer),
        )
        .await
        .assert_problem(409);
    assert_eq!(problem["type"], "/problems/allocation-too-large");
    // commit and release the whole allocation many times: the reads still add up
    for kind in [
        "commitment",
        "release",
        "commitment",
        "release",
        "commitment",
    ] {
        let response = app
            .post(
                &ledger,
                &json!({"kind": kind, "amount": 1_000_000_000_000_000_i64, "reason": "cycle"}),
                Some(&officer),
            )
            .await;
        assert_eq!(response.status, 201, "{kind}: {}", response.text());
    }
    let budget = app
        .get(&format!("/api/v1/budgets/{id}"), Some(&officer))
        .await;
    assert_eq!(budget.status, 200, "{}", budget.text());
    assert_eq!(
        budget.json()["balance"]["committed"],
        1_000_000_000_000_000_i64
    );
    for path in [
        "/api/v1/budgets",
        "/api/v1/budgets/summary?fiscal_year=2019",
    ] {
        let response = app.get(path, Some(&officer)).await;
        assert_eq!(response.status, 200, "{path}: {}", response.text());
    }
}

#[actix_web::test]
async fn a_static_path_answers_405_with_its_own_allow_not_a_uuid_error() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let response = app
        .call(with_token(
            TestRequest::patch()
                .uri("/api/v1/budgets/summary")
                .set_json(json!({})),
            Some(&k.case_worker),
        ))
        .await;
    response.assert_problem(405);
    assert_eq!(response.header("allow").as_deref(), Some("GET, HEAD"));
    for (path, allow) in [
        ("/api/v1/cases/batch", "POST"),
        ("/api/v1/budgets/split-preview", "POST"),
    ] {
        let response = app.get(path, Some(&k.case_worker)).await;
        response.assert_problem(405);
        assert_eq!(response.header("allow").as_deref(), Some(allow), "{path}");
    }
}

#[actix_web::test]
async fn head_on_a_get_route_answers_like_get_without_a_body() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let response = app
        .call(with_token(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/api/v1/regions?limit=2"),
            Some(&k.case_worker),
        ))
        .await;
    assert_eq!(response.status, 200);
    assert!(response.body.is_empty());
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("application/json")
    );
}

#[actix_web::test]
async fn control_characters_in_names_and_codes_are_422s_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let problem = app
        .post(
            "/api/v1/agencies",
            &json!({"code": "SHELTER-1", "name": "RPTC\u{1b}[2J", "kind": "shelter"}),
            Some(&admin),
        )
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "name", "{problem}");
    let agency = app
        .create_agency(
            "DINSOS-6172",
            AgencyKind::RegencySocialService,
            Some("61.72"),
        )
        .await;
    let officer = app
        .user_token(agency, "keuangan.6172", vec![Role::FinanceOfficer])
        .await
        .1;
    let problem = app
        .post(
            "/api/v1/budgets",
            &json!({"fiscal_year": 2019, "source": "apbd_regency", "document_number": "DPA-1",
                    "activity_code": "1.06\u{7}", "name": "Pemulangan", "allocation": 1}),
            Some(&officer),
        )
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "activity_code", "{problem}");
}

#[actix_web::test]
async fn malformed_header_values_the_application_sees_get_problem_answers() {
    use actix_web::http::header::HeaderValue;
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let odd = HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap();
    let response = app
        .call(
            TestRequest::get()
                .uri("/api/v1/cases")
                .insert_header(("authorization", odd)),
        )
        .await;
    response.assert_problem(401);
    let case = app
        .post("/api/v1/cases", &new_case(1, "61.71"), Some(&k.case_worker))
        .await
        .json();
    for (name, value) in [
        ("if-match", &b"\"\xff\""[..]),
        ("if-match", b"W/\"1\", *"),
        ("content-type", b"application/json; charset=\xff"),
        ("idempotency-key", b"\xff\xfe"),
        ("accept-language", b"\xff"),
    ] {
        let response = app
            .call(with_token(
                TestRequest::patch()
                    .uri(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()))
                    .insert_header((name, HeaderValue::from_bytes(value).unwrap()))
                    .set_payload(r#"{"notes": "x"}"#),
                Some(&k.case_worker),
            ))
            .await;
        assert!(
            response.status.is_client_error() || response.status.is_success(),
            "{name}: {} {}",
            response.status,
            response.text()
        );
        if !response.status.is_success() {
            response.assert_problem(response.status.as_u16());
        }
    }
}
