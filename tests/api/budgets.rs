//! Budgets, the ledger, cost-sharing agreements, the split rule and the summary.

use pulang::agencies::AgencyKind;
use pulang::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::TestApp;

/// Kemensos, Kalbar's provincial service and secretariat, and two regencies, each with a finance officer.
struct Money {
    ministry: String,
    province: String,
    secretariat: String,
    singkawang_agency: Uuid,
    singkawang: String,
    sambas: String,
}

async fn money(app: &TestApp) -> Money {
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
    let kesra = app
        .create_agency(
            "KESRA-KALBAR",
            AgencyKind::ProvincialSecretariat,
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
    let sambas = app
        .create_agency(
            "DINSOS-6101",
            AgencyKind::RegencySocialService,
            Some("61.01"),
        )
        .await;
    Money {
        ministry: app
            .user_token(kemensos, "kemensos.keuangan", vec![Role::FinanceOfficer])
            .await
            .1,
        province: app
            .user_token(dinsos, "keuangan.kalbar", vec![Role::FinanceOfficer])
            .await
            .1,
        secretariat: app
            .user_token(kesra, "kesra.kalbar", vec![Role::Viewer])
            .await
            .1,
        singkawang_agency,
        singkawang: app
            .user_token(
                singkawang_agency,
                "keuangan.6172",
                vec![Role::FinanceOfficer],
            )
            .await
            .1,
        sambas: app
            .user_token(sambas, "keuangan.6101", vec![Role::FinanceOfficer])
            .await
            .1,
    }
}

async fn budget(app: &TestApp, token: &str, source: &str, allocation: i64) -> Value {
    let body = json!({"fiscal_year": 2019, "source": source, "document_number": format!("DOC-{source}"),
                      "name": format!("Pemulangan 2019 ({source})"), "allocation": allocation, "status": "active"});
    let response = app.post("/api/v1/budgets", &body, Some(token)).await;
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()
}

async fn entry(
    app: &TestApp,
    token: &str,
    budget: &Value,
    body: Value,
) -> crate::helpers::TestResponse {
    app.post(
        &format!("/api/v1/budgets/{}/ledger", budget["id"].as_str().unwrap()),
        &body,
        Some(token),
    )
    .await
}

#[actix_web::test]
async fn owners_create_budgets_that_fit_their_source() {
    let app = TestApp::spawn().await;
    let m = money(&app).await;
    let apbn = budget(&app, &m.ministry, "apbn", 2_000_000_000).await;
    assert_eq!(
        apbn["balance"],
        json!({"allocated": 2_000_000_000i64, "committed": 0, "realised": 0, "available": 2_000_000_000i64})
    );
    assert_eq!(apbn["province_code"], Value::Null);
    let apbd = budget(&app, &m.province, "apbd_province", 500_000_000).await;
    assert_eq!(apbd["province_code"], "61");

    let wrong = json!({"fiscal_year": 2019, "source": "apbn", "document_number": "X", "name": "X", "allocation": 1});
    let problem = app
        .post("/api/v1/budgets", &wrong, Some(&m.province))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "source");
    let negative = json!({"fiscal_year": 2019, "source": "apbd_province", "document_number": "X", "name": "X", "allocation": -5});
    assert_eq!(
        app.post("/api/v1/budgets", &negative, Some(&m.province))
            .await
            .assert_problem(422)["errors"][0]["field"],
        "allocation"
    );
    let fraction = json!({"fiscal_year": 2019, "source": "apbd_province", "document_number": "X", "name": "X", "allocation": 1.5});
    app.post("/api/v1/budgets", &fraction, Some(&m.province))
        .await
        .assert_problem(422);
    let secretariat = json!({"fiscal_year": 2019, "source": "apbd_province", "document_number": "X", "name": "X", "allocation": 1});
    app.post("/api/v1/budgets", &secretariat, Some(&m.secretariat))
        .await
        .assert_problem(403);
}

#[actix_web::test]
async fn each_agency_sees_the_budgets_of_its_scope() {
    let app = TestApp::spawn().await;
    let m = money(&app).await;
    let apbn = budget(&app, &m.ministry, "apbn", 1000).await;
    let province = budget(&app, &m.province, "apbd_province", 1000).await;
    let singkawang = budget(&app, &m.singkawang, "apbd_regency", 1000).await;
    let ids = |token: String| {
        let app = &app;
        async move {
            let list = app
                .get("/api/v1/budgets?fiscal_year=2019", Some(&token))
                .await
                .json();
            let mut ids: Vec<String> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let id = |b: &Value| b["id"].as_str().unwrap().to_owned();
    assert_eq!(ids(m.ministry.clone()).await, vec![id(&apbn)]);
    let mut kalbar = vec![id(&province), id(&singkawang)];
    kalbar.sort();
    assert_eq!(ids(m.province.clone()).await, kalbar);
    assert_eq!(ids(m.secretariat.clone()).await, kalbar);
    assert_eq!(ids(m.singkawang.clone()).await, vec![id(&singkawang)]);
    assert!(ids(m.sambas.clone()).await.is_empty());
    app.get(
        &format!("/api/v1/budgets/{}", id(&province)),
        Some(&m.sambas),
    )
    .await
    .assert_problem(404);
    // The province reads its regency's budget but does not manage it.
    entry(
        &app,
        &m.province,
        &singkawang,
        json!({"kind": "commitment", "amount": 1, "reason": "x"}),
    )
    .await
    .assert_problem(403);
}

#[actix_web::test]
async fn the_ledger_refuses_what_is_not_there_and_corrects_by_reversal() {
    let app = TestApp::spawn().await;
    let m = money(&app).await;
    let b = budget(&app, &m.province, "apbd_province", 1_000_000).await;
    assert_eq!(
        entry(
            &app,
            &m.province,
            &b,
            json!({"kind": "commitment", "amount": 600_000, "reason": "transfer A"})
        )
        .await
        .status,
        201
    );
    let refused = entry(
        &app,
        &m.province,
        &b,
        json!({"kind": "commitment", "amount": 500_000, "reason": "transfer B"}),
    )
    .await;
    let problem = refused.assert_problem(409);
    assert_eq!(problem["type"], "/problems/insufficient-funds");
    assert_eq!(problem["available"], 400_000);
    assert_eq!(problem["shortfall"], 100_000);
    entry(
        &app,
        &m.province,
        &b,
        json!({"kind": "release", "amount": 700_000, "reason": "x"}),
    )
    .await
    .assert_problem(409);
    let realised = entry(
        &app,
        &m.province,
        &b,
        json!({"kind": "realisation", "amount": 250_000, "reason": "tickets"}),
    )
    .await
    .json();
    let reversal = entry(
        &app,
        &m.province,
        &b,
        json!({"reverses_id": realised["id"], "reason": "wrong receipt"}),
    )
    .await;
    assert_eq!(reversal.status, 201, "{}", reversal.text());
    assert_eq!(reversal.json()["amount"], -250_000);
    assert_eq!(reversal.json()["kind"], "realisation");
    entry(
        &app,
        &m.province,
        &b,
        json!({"reverses_id": realised["id"], "reason": "again"}),
    )
    .await
    .assert_problem(409);
    let revision = entry(
        &app,
        &m.province,
        &b,
        json!({"kind": "revision", "amount": -500_000, "reason": "APBD-P"}),
    )
    .await;
    assert_eq!(revision.assert_problem(409)["shortfall"], 100_000);

    let balance = app
        .get(
            &format!("/api/v1/budgets/{}", b["id"].as_str().unwrap()),
            Some(&m.province),
        )
        .await
        .json()["balance"]
        .clone();
    assert_eq!(
        balance,
        json!({"allocated": 1_000_000, "committed": 600_000, "realised": 0, "available": 400_000})
    );
    let ledger = app
        .get(
            &format!("/api/v1/budgets/{}/ledger", b["id"].as_str().unwrap()),
            Some(&m.secretariat),
        )
        .await
        .json()["items"]
        .clone();
    let kinds: Vec<&str> = ledger
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["allocation", "commitment", "realisation", "realisation"]
    );
    assert_eq!(ledger[1]["actor_name"], "keuangan.kalbar");
}

#[actix_web::test]
async fn parallel_commitments_never_exceed_the_allocation() {
    let app = TestApp::spawn().await;
    let m = money(&app).await;
    let b = budget(&app, &m.province, "apbd_province", 1_000).await;
    let path = format!("/api/v1/budgets/{}/ledger", b["id"].as_str().unwrap());
    let body = json!({"kind": "commitment", "amount": 70, "reason": "parallel"});
    let responses =
        futures_util::future::join_all((0..40).map(|_| app.post(&path, &body, Some(&m.province))))
            .await;
    let accepted = responses.iter().filter(|r| r.status == 201).count();
    assert!(
        responses.iter().all(|r| r.status == 201 || r.status == 409),
        "only 201 or 409"
    );
    assert_eq!(accepted, 14, "14 × 70 = 980 fits in 1000, a 15th does not");
    let balance = app
        .get(
            &format!("/api/v1/budgets/{}", b["id"].as_str().unwrap()),
            Some(&m.province),
        )
        .await
        .json()["balance"]
        .clone();
    assert_eq!(balance["committed"], 980);
    assert_eq!(balance["available"], 20);
}

#[actix_web::test]
async fn drafts_take_no_commitments_and_closed_budgets_nothing() {
    let app = TestApp::spawn().await;
    let m = money(&app).await;
    let body = json!({"fiscal_year": 2019, "source": "apbd_province", "document_number": "D", "name": "Draft", "allocation": 100});
    let draft = app
        .post("/api/v1/budgets", &body, Some(&m.province))
        .await
        .json();
    assert_eq!(draft["status"], "draft");
    entry(
        &app,
        &m.province,
        &draft,
        json!({"kind": "commitment", "amount": 1, "reason": "x"}),
    )
    .await
    .assert_problem(409);
    let id = draft["id"].as_str().unwrap();
    assert_eq!(
        app.patch(
            &format!("/api/v1/budgets/{id}"),
            &json!({"status": "active"}),
            Some(&m.province)
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.patch(
            &format!("/api/v1/budgets/{id}"),
            &json!({"status": "closed"}),
            Some(&m.province)
        )
        .await
        .status,
        200
    );
    app.patch(
        &format!("/api/v1/budgets/{id}"),
        &json!({"status": "active"}),
        Some(&m.province),
    )
    .await
    .assert_problem(409);
    entry(
        &app,
        &m.province,
        &draft,
        json!({"kind": "revision", "amount": 5, "reason": "x"}),
    )
    .await
    .assert_problem(409);
}

async fn agreement(
    app: &TestApp,
    m: &Money,
    province: &Value,
    regency: &Value,
    split: Value,
) -> Value {
    let mut body = json!({"fiscal_year": 2019, "regency_agency_id": m.singkawang_agency,
                          "province_budget_id": province["id"], "regency_budget_id": regency["id"]});
    body.as_object_mut()
        .unwrap()
        .extend(split.as_object().unwrap().clone());
    let response = app
        .post("/api/v1/cost-sharing-agreements", &body, Some(&m.province))
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()
}

#[actix_web::test]
async fn an_agreement_approved_and_rejected_at_once_is_decided_once() {
    let app = TestApp::spawn().await;
    let m = money(&app).await;
    let province = budget(&app, &m.province, "apbd_province", 500_000_000).await;
    let regency = budget(&app, &m.singkawang, "apbd_regency", 100_000_000).await;
    for _ in 0..5 {
        let proposed =
            agreement(&app, &m, &province, &regency, json!({"all_costs_bp": 6000})).await;
        let id = proposed["id"].as_str().unwrap();
        let approve = format!("/api/v1/cost-sharing-agreements/{id}/approve");
        let reject = format!("/api/v1/cost-sharing-agreements/{id}/reject");
        let (approved, rejected) = futures_util::future::join(
            app.post(&approve, &json!({}), Some(&m.singkawang)),
            app.post(&reject, &json!({"reason": "no"}), Some(&m.singkawang)),
        )
        .await;
        let mut statuses = [approved.status.as_u16(), rejected.status.as_u16()];
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 409],
            "{} / {}",
            approved.text(),
            rejected.text()
        );
        let stored = app
            .get(
                &format!("/api/v1/cost-sharing-agreements/{id}"),
                Some(&m.singkawang),
            )
            .await
            .json();
        let winner = if approved.status == 200 {
            "approved"
        } else {
            "rejected"
        };
        assert_eq!(stored["status"], winner);
        if winner == "approved" {
            // one approved agreement per year: reject it to make room for the next round
            let response = app
                .post(&reject, &json!({"reason": "room"}), Some(&m.singkawang))
                .await;
            assert_eq!(response.status, 409);
            diesel_async::RunQueryDsl::execute(
                diesel::sql_query("UPDATE cost_sharing_agreements SET status = 'rejected'"),
                &mut app.db().await,
            )
            .await
            .unwrap();
        }
    }
}

async fn preview(app: &TestApp, token: &str, origin: &str, category: &str, amount: i64) -> Value {
    let body = json!({"fiscal_year": 2019, "handling_province": "61", "origin_region": origin, "category": category, "amount": amount});
    let response = app
        .post("/api/v1/budgets/split-preview", &body, Some(token))
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

#[actix_web::test]
async fn an_approved_agreement_splits_in_province_costs_and_the_apbn_pays_the_rest() {
    let app = TestApp::spawn().await;
    let m = money(&app).await;
    let apbn = budget(&app, &m.ministry, "apbn", 1_000_000_000).await;
    let province = budget(&app, &m.province, "apbd_province", 500_000_000).await;
    let regency = budget(&app, &m.singkawang, "apbd_regency", 100_000_000).await;

    let no_agreement = preview(&app, &m.province, "61.72", "transport", 1_000_001).await;
    assert_eq!(no_agreement["missing_agreement"], true);
    assert_eq!(
        no_agreement["charges"],
        json!([{"budget_id": province["id"], "source": "apbd_province", "amount": 1_000_001}])
    );

    let proposed = agreement(&app, &m, &province, &regency, json!({"all_costs_bp": 6000})).await;
    assert_eq!(proposed["status"], "proposed");
    let id = proposed["id"].as_str().unwrap();
    // Not yet approved: still the province alone.
    assert_eq!(
        preview(&app, &m.province, "61.72", "transport", 100).await["missing_agreement"],
        true
    );
    // Only the regency approves.
    app.post(
        &format!("/api/v1/cost-sharing-agreements/{id}/approve"),
        &json!({}),
        Some(&m.province),
    )
    .await
    .assert_problem(403);
    app.post(
        &format!("/api/v1/cost-sharing-agreements/{id}/approve"),
        &json!({}),
        Some(&m.sambas),
    )
    .await
    .assert_problem(404);
    let approved = app
        .post(
            &format!("/api/v1/cost-sharing-agreements/{id}/approve"),
            &json!({"reason": "rakor"}),
            Some(&m.singkawang),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text());

    let inside = preview(&app, &m.province, "6172", "transport", 1_000_001).await;
    assert_eq!(inside["funding"], "apbd_shared");
    assert_eq!(inside["missing_agreement"], false);
    assert_eq!(inside["agreement_id"], id);
    assert_eq!(
        inside["charges"],
        json!([{"budget_id": province["id"], "source": "apbd_province", "amount": 600_001},
               {"budget_id": regency["id"], "source": "apbd_regency", "amount": 400_000}])
    );
    // A regency sees its own budget and its agreement, not the province's budget;
    // another regency sees no ids at all (they answer 404 to it).
    let by_singkawang = preview(&app, &m.singkawang, "6172", "transport", 1_000_001).await;
    assert_eq!(by_singkawang["agreement_id"], id);
    assert_eq!(
        by_singkawang["charges"],
        json!([{"budget_id": null, "source": "apbd_province", "amount": 600_001},
               {"budget_id": regency["id"], "source": "apbd_regency", "amount": 400_000}])
    );
    let by_sambas = preview(&app, &m.sambas, "6172", "transport", 1_000_001).await;
    assert_eq!(by_sambas["agreement_id"], Value::Null);
    assert!(
        by_sambas["charges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["budget_id"].is_null()),
        "{by_sambas}"
    );
    let outside = preview(&app, &m.province, "35.07", "meals", 750_000).await;
    assert_eq!(outside["funding"], "apbn");
    // The province may not read the APBN budget: the source, not the id.
    assert_eq!(
        outside["charges"],
        json!([{"budget_id": null, "source": "apbn", "amount": 750_000}])
    );
    let by_ministry = preview(&app, &m.ministry, "35.07", "meals", 750_000).await;
    assert_eq!(by_ministry["charges"][0]["budget_id"], apbn["id"]);

    // One approved agreement per pair and year.
    let second = agreement(
        &app,
        &m,
        &province,
        &regency,
        json!({"category_bp": {"transport": 5000}}),
    )
    .await;
    let path = format!(
        "/api/v1/cost-sharing-agreements/{}/approve",
        second["id"].as_str().unwrap()
    );
    app.post(&path, &json!({}), Some(&m.singkawang))
        .await
        .assert_problem(409);
    let rejected = app
        .post(
            &format!(
                "/api/v1/cost-sharing-agreements/{}/reject",
                second["id"].as_str().unwrap()
            ),
            &json!({"reason": "one is enough"}),
            Some(&m.singkawang),
        )
        .await;
    assert_eq!(rejected.json()["status"], "rejected");

    let seen_by_sambas = app
        .get("/api/v1/cost-sharing-agreements", Some(&m.sambas))
        .await
        .json();
    assert!(seen_by_sambas.as_array().unwrap().is_empty());
    let seen_by_kesra = app
        .get(
            "/api/v1/cost-sharing-agreements?fiscal_year=2019",
            Some(&m.secretariat),
        )
        .await
        .json();
    assert_eq!(seen_by_kesra.as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn a_proposal_names_what_does_not_fit() {
    let app = TestApp::spawn().await;
    let m = money(&app).await;
    let province = budget(&app, &m.province, "apbd_province", 1).await;
    let other = budget(&app, &m.province, "apbd_province", 1).await;
    let body = json!({"fiscal_year": 2019, "regency_agency_id": m.singkawang_agency, "province_budget_id": province["id"],
                      "regency_budget_id": other["id"], "all_costs_bp": 12000});
    let problem = app
        .post("/api/v1/cost-sharing-agreements", &body, Some(&m.province))
        .await
        .assert_problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["regency_budget_id", "all_costs_bp"]);
    app.post(
        "/api/v1/cost-sharing-agreements",
        &body,
        Some(&m.singkawang),
    )
    .await
    .assert_problem(403);
}

#[actix_web::test]
async fn the_summary_adds_up_the_ledgers() {
    let app = TestApp::spawn().await;
    let m = money(&app).await;
    let province = budget(&app, &m.province, "apbd_province", 1_000_000).await;
    entry(
        &app,
        &m.province,
        &province,
        json!({"kind": "realisation", "amount": 250_000, "reason": "x"}),
    )
    .await;
    entry(
        &app,
        &m.province,
        &province,
        json!({"kind": "commitment", "amount": 100_000, "reason": "y"}),
    )
    .await;
    let summary = app
        .get(
            "/api/v1/budgets/summary?fiscal_year=2019",
            Some(&m.secretariat),
        )
        .await
        .json();
    let totals = &summary["by_source"]["apbd_province"];
    assert_eq!(
        totals["balance"],
        json!({"allocated": 1_000_000, "committed": 100_000, "realised": 250_000, "available": 650_000})
    );
    assert_eq!(totals["utilisation_percent"], 25.0);
    assert_eq!(
        summary["budgets"][0]["name"],
        "Pemulangan 2019 (apbd_province)"
    );
    app.get("/api/v1/budgets/summary", Some(&m.secretariat))
        .await
        .assert_problem(400);
}
