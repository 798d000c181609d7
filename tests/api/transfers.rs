//! Transfers: a whole return, walked step by step, and a cancellation —
//! checking the case history, the budget ledgers and the balances each time.

use pulang::agencies::AgencyKind;
use pulang::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, TestResponse, new_case};

struct World {
    province_worker: String,
    province_finance: String,
    push_client: String,
    ministry: String,
    singkawang_agency: Uuid,
    singkawang: String,
    sambas: String,
    apbn: String,
    apbd_province: String,
    apbd_regency: String,
}

async fn world(app: &TestApp) -> World {
    let kemensos = app
        .create_agency("KEMENSOS", AgencyKind::Ministry, None)
        .await;
    let dinsos = app
        .create_agency(
            "DINSOS-KALBAR",
            AgencyKind::ProvincialSocialService,
            Some("61"),
        )
        .await;
    let bp3tki = app
        .create_agency(
            "BP3TKI-PONTIANAK",
            AgencyKind::MigrantProtectionService,
            Some("61"),
        )
        .await;
    let singkawang_agency = app
        .create_agency(
            "DINSOS-6172",
            AgencyKind::RegencySocialService,
            Some("61.72"),
        )
        .await;
    let sambas_agency = app
        .create_agency(
            "DINSOS-6101",
            AgencyKind::RegencySocialService,
            Some("61.01"),
        )
        .await;
    let ministry = app
        .user_token(kemensos, "kemensos.keuangan", vec![Role::FinanceOfficer])
        .await
        .1;
    let province_finance = app
        .user_token(dinsos, "keuangan.kalbar", vec![Role::FinanceOfficer])
        .await
        .1;
    let singkawang = app
        .user_token(
            singkawang_agency,
            "dinsos.6172",
            vec![Role::CaseWorker, Role::FinanceOfficer],
        )
        .await
        .1;
    let make = |token: String, source: &'static str, allocation: i64| {
        let app = &app;
        async move {
            let body = json!({"fiscal_year": 2019, "source": source, "document_number": format!("DOC-{source}"),
                              "name": source, "allocation": allocation, "status": "active"});
            let r = app.post("/api/v1/budgets", &body, Some(&token)).await;
            assert_eq!(r.status, 201, "{}", r.text());
            r.json()["id"].as_str().unwrap().to_owned()
        }
    };
    let apbn = make(ministry.clone(), "apbn", 100_000_000).await;
    let apbd_province = make(province_finance.clone(), "apbd_province", 10_000_000).await;
    let apbd_regency = make(singkawang.clone(), "apbd_regency", 5_000_000).await;
    let proposal = json!({"fiscal_year": 2019, "regency_agency_id": singkawang_agency, "province_budget_id": apbd_province,
                          "regency_budget_id": apbd_regency, "all_costs_bp": 6000});
    let agreement = app
        .post(
            "/api/v1/cost-sharing-agreements",
            &proposal,
            Some(&province_finance),
        )
        .await
        .json();
    let approve = format!(
        "/api/v1/cost-sharing-agreements/{}/approve",
        agreement["id"].as_str().unwrap()
    );
    assert_eq!(
        app.post(&approve, &json!({}), Some(&singkawang))
            .await
            .status,
        200
    );
    World {
        province_worker: app
            .user_token(dinsos, "dinsos.kalbar", vec![Role::CaseWorker])
            .await
            .1,
        province_finance,
        push_client: app.client_token(bp3tki, "bp3tki-pontianak").await,
        ministry,
        singkawang_agency,
        singkawang,
        sambas: app
            .user_token(sambas_agency, "dinsos.6101", vec![Role::CaseWorker])
            .await
            .1,
        apbn,
        apbd_province,
        apbd_regency,
    }
}

async fn balance(app: &TestApp, token: &str, budget: &str) -> Value {
    app.get(&format!("/api/v1/budgets/{budget}"), Some(token))
        .await
        .json()["balance"]
        .clone()
}

fn b(allocated: i64, committed: i64, realised: i64) -> Value {
    json!({"allocated": allocated, "committed": committed, "realised": realised, "available": allocated - committed - realised})
}

async fn ledger_kinds(app: &TestApp, token: &str, budget: &str) -> Vec<(String, i64)> {
    let ledger = app
        .get(&format!("/api/v1/budgets/{budget}/ledger"), Some(token))
        .await
        .json();
    ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn push(app: &TestApp, w: &World, n: u32, origin: &str) -> String {
    let response = app
        .post(
            "/api/v1/cases/batch",
            &json!({"records": [new_case(n, origin)]}),
            Some(&w.push_client),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["results"][0]["case_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn make_ready(app: &TestApp, w: &World, case: &str) {
    for to in ["sheltered", "assessed", "ready_for_transfer"] {
        let r = app
            .post(
                &format!("/api/v1/cases/{case}/transitions"),
                &json!({"to": to, "reason": format!("{to} step")}),
                Some(&w.province_worker),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

async fn step(app: &TestApp, token: &str, transfer: &str, to: &str) -> Value {
    let r = app
        .post(
            &format!("/api/v1/transfers/{transfer}/transitions"),
            &json!({"to": to, "reason": format!("now {to}")}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// A cost proposed by the province's case worker and confirmed by `confirmer`
/// (a finance officer of a paying budget); answers the confirmation.
async fn spend(
    app: &TestApp,
    w: &World,
    transfer: &str,
    cost: Value,
    confirmer: &str,
) -> TestResponse {
    let proposed = app
        .post(
            &format!("/api/v1/transfers/{transfer}/costs"),
            &cost,
            Some(&w.province_worker),
        )
        .await;
    assert_eq!(proposed.status, 201, "{}", proposed.text());
    let item = proposed.json()["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/transfers/{transfer}/costs/{item}/confirmation"),
        &json!({}),
        Some(confirmer),
    )
    .await
}

async fn case_status(app: &TestApp, token: &str, case: &str) -> Value {
    app.get(&format!("/api/v1/cases/{case}"), Some(token))
        .await
        .json()
}

#[actix_web::test]
async fn a_whole_return_inside_the_province_from_push_to_handover() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let case = push(&app, &w, 1, "61.72").await;
    make_ready(&app, &w, &case).await;

    // Planned with estimates: committed 60/40 by the agreement.
    let plan = json!({
        "destination_region": "6172",
        "legs": [{"mode": "road", "from": "RPTC Pontianak", "to": "Singkawang", "planned_departure": "2019-03-20T01:00:00Z"}],
        "escorts": [{"name": "Yusuf Hidayat", "position": "Pekerja Sosial"}],
        "estimated_costs": [{"category": "transport", "amount": 1_000_000}, {"category": "meals", "amount": 200_000}]
    });
    let created = app
        .post("/api/v1/transfers", &plan, Some(&w.province_worker))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let transfer = created.json();
    let id = transfer["id"].as_str().unwrap().to_owned();
    assert_eq!(
        transfer["receiving_agency_id"],
        w.singkawang_agency.to_string()
    );
    assert_eq!(transfer["costs"]["committed"], 1_200_000);
    assert_eq!(
        balance(&app, &w.province_finance, &w.apbd_province).await,
        b(10_000_000, 720_000, 0)
    );
    assert_eq!(
        balance(&app, &w.singkawang, &w.apbd_regency).await,
        b(5_000_000, 480_000, 0)
    );

    let joined = app
        .post(
            &format!("/api/v1/transfers/{id}/cases"),
            &json!({"case_ids": [case]}),
            Some(&w.province_worker),
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.text());
    assert_eq!(
        case_status(&app, &w.province_worker, &case).await["transfer"]["id"],
        id.as_str()
    );

    step(&app, &w.province_worker, &id, "departed").await;
    assert_eq!(
        case_status(&app, &w.province_worker, &case).await["status"],
        "in_transfer"
    );
    step(&app, &w.province_worker, &id, "arrived").await;

    // The actual transport cost: realised 60/40, consuming the commitments.
    let cost = spend(
        &app,
        &w,
        &id,
        json!({"category": "transport", "amount": 900_000, "receipt_number": "KW-1"}),
        &w.province_finance,
    )
    .await;
    assert_eq!(cost.status, 200, "{}", cost.text());
    assert_eq!(
        balance(&app, &w.province_finance, &w.apbd_province).await,
        b(10_000_000, 180_000, 540_000)
    );
    assert_eq!(
        balance(&app, &w.singkawang, &w.apbd_regency).await,
        b(5_000_000, 120_000, 360_000)
    );

    // Handover by the receiving regency: the case is returned, the rest released.
    let handover = json!({
        "bast_number": "BAST/001/2019", "handed_over_at": "2019-03-20T06:00:00Z",
        "received_by": {"name": "Kepala Dinsos Singkawang", "position": "Kepala Dinas"},
        "witnesses": [{"name": "Yusuf Hidayat"}],
        "outcomes": [{"case_id": case, "outcome": "received"}]
    });
    app.post(
        &format!("/api/v1/transfers/{id}/handover"),
        &handover,
        Some(&w.sambas),
    )
    .await
    .assert_problem(404);
    let done = app
        .post(
            &format!("/api/v1/transfers/{id}/handover"),
            &handover,
            Some(&w.singkawang),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    let done = done.json();
    assert_eq!(done["status"], "handed_over");
    assert_eq!(done["handover"]["bast_number"], "BAST/001/2019");
    assert_eq!(done["members"][0]["outcome"], "received");
    assert_eq!(
        done["costs"],
        json!({"estimated": 1_200_000, "committed": 0, "realised": 900_000, "proposed": 0, "per_returnee": 900_000})
    );
    assert_eq!(
        balance(&app, &w.province_finance, &w.apbd_province).await,
        b(10_000_000, 0, 540_000)
    );
    assert_eq!(
        balance(&app, &w.singkawang, &w.apbd_regency).await,
        b(5_000_000, 0, 360_000)
    );
    assert_eq!(
        balance(&app, &w.ministry, &w.apbn).await,
        b(100_000_000, 0, 0),
        "the APBN pays nothing inside the province"
    );

    let kinds = ledger_kinds(&app, &w.province_finance, &w.apbd_province).await;
    assert_eq!(
        kinds,
        vec![
            ("allocation".into(), 10_000_000),
            ("commitment".into(), 600_000),
            ("commitment".into(), 120_000),
            ("release".into(), 540_000),
            ("realisation".into(), 540_000),
            ("release".into(), 180_000),
        ]
    );
    let ledger = app
        .get(
            &format!("/api/v1/budgets/{}/ledger", w.apbd_province),
            Some(&w.province_finance),
        )
        .await
        .json()["items"]
        .clone();
    assert!(
        ledger.as_array().unwrap()[1..]
            .iter()
            .all(|e| e["transfer_id"] == id.as_str()),
        "every movement names the transfer"
    );

    let case_view = case_status(&app, &w.province_worker, &case).await;
    assert_eq!(case_view["status"], "returned");
    assert_eq!(case_view["transfer"], Value::Null);
    let history = app
        .get(
            &format!("/api/v1/cases/{case}/history"),
            Some(&w.province_worker),
        )
        .await
        .json();
    let steps: Vec<(String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap().to_owned(),
                h["to_status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("created", "registered"),
        ("status_changed", "sheltered"),
        ("status_changed", "assessed"),
        ("status_changed", "ready_for_transfer"),
        ("status_changed", "in_transfer"),
        ("status_changed", "returned"),
    ]
    .iter()
    .map(|(a, s)| ((*a).to_owned(), (*s).to_owned()))
    .collect();
    assert_eq!(steps, expected);
    assert_eq!(
        history[5]["actor_name"], "dinsos.6172",
        "the regency's handover moved the case"
    );

    let summary = app
        .get(
            "/api/v1/budgets/summary?fiscal_year=2019",
            Some(&w.province_finance),
        )
        .await
        .json();
    assert_eq!(
        summary["by_source"]["apbd_province"]["returnees_paid_for"],
        1
    );
    assert_eq!(
        summary["by_source"]["apbd_province"]["average_cost_per_returnee"],
        540_000
    );
}

#[actix_web::test]
async fn a_cancelled_return_out_of_the_province_gives_everything_back() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let case = push(&app, &w, 2, "35.07").await;
    make_ready(&app, &w, &case).await;
    let plan = json!({"destination_region": "35", "estimated_costs": [{"category": "transport", "amount": 2_500_000}],
                      "legs": [{"mode": "sea", "carrier": "PELNI", "vessel_or_flight": "KM Lawit", "from": "Pontianak", "to": "Surabaya",
                                "planned_departure": "2019-04-02T08:00:00Z"}]});
    let transfer = app
        .post("/api/v1/transfers", &plan, Some(&w.province_worker))
        .await
        .json();
    let id = transfer["id"].as_str().unwrap().to_owned();
    assert_eq!(
        balance(&app, &w.ministry, &w.apbn).await,
        b(100_000_000, 2_500_000, 0)
    );
    app.post(
        &format!("/api/v1/transfers/{id}/cases"),
        &json!({"case_ids": [case]}),
        Some(&w.province_worker),
    )
    .await;
    step(&app, &w.province_worker, &id, "departed").await;
    // Tickets were bought before the cancellation: they stay spent.
    let ticket = spend(
        &app,
        &w,
        &id,
        json!({"category": "transport", "amount": 400_000}),
        &w.ministry,
    )
    .await;
    assert_eq!(ticket.status, 200, "{}", ticket.text());
    assert_eq!(
        balance(&app, &w.ministry, &w.apbn).await,
        b(100_000_000, 2_100_000, 400_000)
    );

    // The ministry sees this transfer (it leaves the province); Sambas does not.
    assert_eq!(
        app.get(&format!("/api/v1/transfers/{id}"), Some(&w.ministry))
            .await
            .status,
        200
    );
    app.get(&format!("/api/v1/transfers/{id}"), Some(&w.sambas))
        .await
        .assert_problem(404);

    let cancelled = step(&app, &w.province_worker, &id, "cancelled").await;
    assert_eq!(cancelled["costs"]["committed"], 0);
    assert_eq!(
        balance(&app, &w.ministry, &w.apbn).await,
        b(100_000_000, 0, 400_000)
    );
    let case_view = case_status(&app, &w.province_worker, &case).await;
    assert_eq!(case_view["status"], "ready_for_transfer");
    assert_eq!(case_view["transfer"], Value::Null);
    let kinds = ledger_kinds(&app, &w.ministry, &w.apbn).await;
    assert_eq!(
        kinds,
        vec![
            ("allocation".into(), 100_000_000),
            ("commitment".into(), 2_500_000),
            ("release".into(), 400_000),
            ("realisation".into(), 400_000),
            ("release".into(), 2_100_000),
        ]
    );
    let history = app
        .get(
            &format!("/api/v1/cases/{case}/history"),
            Some(&w.province_worker),
        )
        .await
        .json();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["from_status"].as_str(), last["to_status"].as_str()),
        (Some("in_transfer"), Some("ready_for_transfer"))
    );
    assert!(last["reason"].as_str().unwrap().contains("cancelled"));
    // The case can join another transfer now.
    let again = app
        .post(
            "/api/v1/transfers",
            &json!({"destination_region": "35"}),
            Some(&w.province_worker),
        )
        .await
        .json();
    let rejoin = app
        .post(
            &format!("/api/v1/transfers/{}/cases", again["id"].as_str().unwrap()),
            &json!({"case_ids": [case]}),
            Some(&w.province_worker),
        )
        .await;
    assert_eq!(rejoin.status, 200, "{}", rejoin.text());
}

#[actix_web::test]
async fn only_ready_cases_from_the_destination_in_no_other_transfer_may_join() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let ready = push(&app, &w, 3, "61.72").await;
    make_ready(&app, &w, &ready).await;
    let not_ready = push(&app, &w, 4, "61.72").await;
    let elsewhere = push(&app, &w, 5, "61.01").await;
    make_ready(&app, &w, &elsewhere).await;
    let first = app
        .post(
            "/api/v1/transfers",
            &json!({"destination_region": "61.72"}),
            Some(&w.province_worker),
        )
        .await
        .json();
    let second = app
        .post(
            "/api/v1/transfers",
            &json!({"destination_region": "61.72"}),
            Some(&w.province_worker),
        )
        .await
        .json();
    let path = |t: &Value| format!("/api/v1/transfers/{}/cases", t["id"].as_str().unwrap());

    let refused = app
        .post(
            &path(&first),
            &json!({"case_ids": [ready, not_ready]}),
            Some(&w.province_worker),
        )
        .await
        .assert_problem(409);
    assert_eq!(refused["errors"][0]["field"], "case_ids[1]");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("registered")
    );
    let wrong = app
        .post(
            &path(&first),
            &json!({"case_ids": [elsewhere]}),
            Some(&w.province_worker),
        )
        .await
        .assert_problem(422);
    assert!(
        wrong["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("61.01")
    );
    let repeated = app
        .post(
            &path(&first),
            &json!({"case_ids": [ready, ready]}),
            Some(&w.province_worker),
        )
        .await
        .assert_problem(422);
    assert_eq!(repeated["errors"][0]["field"], "case_ids[1]");
    assert_eq!(repeated["errors"][0]["message"], "repeats case_ids[0]");
    let transfer = |t: &Value| format!("/api/v1/transfers/{}", t["id"].as_str().unwrap());
    let etag = |r: &TestResponse| r.header("etag").expect("an ETag");
    let empty = etag(&app.get(&transfer(&first), Some(&w.province_worker)).await);
    let joined = app
        .post(
            &path(&first),
            &json!({"case_ids": [ready]}),
            Some(&w.province_worker),
        )
        .await;
    assert_eq!(joined.status, 200);
    // The member list is part of the transfer: its version moves with it.
    assert_ne!(etag(&joined), empty);
    assert_eq!(
        etag(&app.get(&transfer(&first), Some(&w.province_worker)).await),
        etag(&joined)
    );
    let twice = app
        .post(
            &path(&second),
            &json!({"case_ids": [ready]}),
            Some(&w.province_worker),
        )
        .await
        .assert_problem(409);
    assert!(
        twice["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already in transfer")
    );
    // A regency sees the transfers heading to it, and cannot plan any.
    let list = app
        .get("/api/v1/transfers", Some(&w.singkawang))
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    app.post(
        "/api/v1/transfers",
        &json!({"destination_region": "61.72"}),
        Some(&w.singkawang),
    )
    .await
    .assert_problem(403);
    app.post(
        &format!(
            "/api/v1/transfers/{}/transitions",
            first["id"].as_str().unwrap()
        ),
        &json!({"to": "handed_over", "reason": "x"}),
        Some(&w.province_worker),
    )
    .await
    .assert_problem(409);
}

#[actix_web::test]
async fn a_plan_the_budgets_cannot_cover_is_refused_whole() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let plan = json!({"destination_region": "61.72", "fiscal_year": 2019, "estimated_costs": [{"category": "transport", "amount": 20_000_000}]});
    let problem = app
        .post("/api/v1/transfers", &plan, Some(&w.province_worker))
        .await
        .assert_problem(409);
    assert_eq!(problem["type"], "/problems/insufficient-funds");
    assert!(
        app.get("/api/v1/transfers", Some(&w.province_worker))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing half-planned"
    );
    assert_eq!(
        balance(&app, &w.province_finance, &w.apbd_province).await,
        b(10_000_000, 0, 0)
    );
}

#[actix_web::test]
async fn a_return_to_a_regency_without_an_agreement_is_reported() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let case = push(&app, &w, 6, "61.01").await;
    make_ready(&app, &w, &case).await;
    let plan = json!({"destination_region": "61.01", "fiscal_year": 2019, "estimated_costs": [{"category": "transport", "amount": 700_000}]});
    let transfer = app
        .post("/api/v1/transfers", &plan, Some(&w.province_worker))
        .await
        .json();
    let id = transfer["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/transfers/{id}/cases"),
        &json!({"case_ids": [case]}),
        Some(&w.province_worker),
    )
    .await;
    step(&app, &w.province_worker, &id, "departed").await;
    step(&app, &w.province_worker, &id, "arrived").await;
    let cost = spend(
        &app,
        &w,
        &id,
        json!({"category": "transport", "amount": 650_000}),
        &w.province_finance,
    )
    .await;
    assert_eq!(cost.status, 200, "{}", cost.text());
    let handover = json!({"bast_number": "BAST/9", "handed_over_at": "2019-05-01T06:00:00Z", "received_by": {"name": "Dinsos Sambas"},
                          "outcomes": [{"case_id": case, "outcome": "received"}]});
    assert_eq!(
        app.post(
            &format!("/api/v1/transfers/{id}/handover"),
            &handover,
            Some(&w.province_worker)
        )
        .await
        .status,
        200
    );
    let costs = app
        .get(
            "/api/v1/stats/costs?fiscal_year=2019&handling_province=61",
            Some(&w.province_finance),
        )
        .await
        .json();
    assert_eq!(
        costs["without_agreement"],
        json!([{"transfer": transfer["reference"], "destination_region": "61.01", "amount": 650_000}])
    );
    assert_eq!(
        costs["regency_shares"][0]["regency_share_percent"], 0.0,
        "the province paid all"
    );
}

#[actix_web::test]
async fn planners_adding_the_same_cases_in_opposite_orders_get_one_answer_each() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let mut cases = Vec::new();
    for n in 0..12 {
        let case = push(&app, &w, 40 + n, "61.72").await;
        make_ready(&app, &w, &case).await;
        cases.push(case);
    }
    let body = json!({"destination_region": "61.72"});
    let plan = || app.post("/api/v1/transfers", &body, Some(&w.province_worker));
    let (first, second) = (plan().await.json(), plan().await.json());
    let reversed: Vec<String> = cases.iter().rev().cloned().collect();
    let path = |t: &Value| format!("/api/v1/transfers/{}/cases", t["id"].as_str().unwrap());
    let (a, b) = (
        json!({ "case_ids": cases }),
        json!({ "case_ids": reversed }),
    );
    // Locked in request order, these two could wait on each other until
    // PostgreSQL broke the deadlock with an error; locked in id order, one
    // waits for the other and then sees the cases taken.
    let (one, other) = futures_util::future::join(
        app.post(&path(&first), &a, Some(&w.province_worker)),
        app.post(&path(&second), &b, Some(&w.province_worker)),
    )
    .await;
    let mut statuses = [one.status, other.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", one.text(), other.text());
    let refused = if one.status == 409 { &one } else { &other };
    assert_eq!(refused.json()["errors"].as_array().unwrap().len(), 12);
}

#[actix_web::test]
async fn a_transfer_moved_or_handed_over_twice_at_once_moves_once() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let case = push(&app, &w, 60, "61.72").await;
    make_ready(&app, &w, &case).await;
    let plan = app
        .post(
            "/api/v1/transfers",
            &json!({"destination_region": "61.72"}),
            Some(&w.province_worker),
        )
        .await
        .json();
    let id = plan["id"].as_str().unwrap().to_owned();
    let joined = app
        .post(
            &format!("/api/v1/transfers/{id}/cases"),
            &json!({"case_ids": [case]}),
            Some(&w.province_worker),
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.text());

    // Two departures at once: one moves it, the other finds it departed.
    let path = format!("/api/v1/transfers/{id}/transitions");
    let depart = json!({"to": "departed", "reason": "race"});
    let (one, other) = futures_util::future::join(
        app.post(&path, &depart, Some(&w.province_worker)),
        app.post(&path, &depart, Some(&w.province_worker)),
    )
    .await;
    let mut statuses = [one.status.as_u16(), other.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", one.text(), other.text());
    step(&app, &w.province_worker, &id, "arrived").await;

    let handover = json!({
        "bast_number": "BAST/002/2019", "handed_over_at": "2019-03-20T06:00:00Z",
        "received_by": {"name": "Kepala Dinsos Singkawang"},
        "outcomes": [{"case_id": case, "outcome": "received"}]
    });
    let path = format!("/api/v1/transfers/{id}/handover");
    let (one, other) = futures_util::future::join(
        app.post(&path, &handover, Some(&w.singkawang)),
        app.post(&path, &handover, Some(&w.singkawang)),
    )
    .await;
    let mut statuses = [one.status.as_u16(), other.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", one.text(), other.text());
}

#[actix_web::test]
async fn a_refusal_by_a_budget_the_planner_may_not_read_does_not_name_it() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // Out of the province: the ministry's APBN budget pays, which the
    // province may not read (it answers 404 to it).
    let plan = json!({"destination_region": "35.07", "fiscal_year": 2019,
                      "estimated_costs": [{"category": "transport", "amount": 200_000_000}]});
    let problem = app
        .post("/api/v1/transfers", &plan, Some(&w.province_worker))
        .await
        .assert_problem(409);
    assert_eq!(problem["type"], "/problems/insufficient-funds");
    assert!(problem.get("budget_id").is_none(), "{problem}");
    assert!(problem.get("available").is_none(), "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("apbn"),
        "{problem}"
    );
    // Inside the province the planner reads the provincial budget: named.
    let plan = json!({"destination_region": "61.72", "fiscal_year": 2019,
                      "estimated_costs": [{"category": "transport", "amount": 20_000_000}]});
    let problem = app
        .post("/api/v1/transfers", &plan, Some(&w.province_worker))
        .await
        .assert_problem(409);
    assert!(problem["budget_id"].is_string(), "{problem}");
}
