//! Retrying creating POSTs: a client that lost the answer (a 503, a dropped
//! connection) sends the same request with the same `Idempotency-Key` and
//! gets the first answer back; nothing is created, committed or charged twice.

use actix_web::test::TestRequest;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use pulang::agencies::AgencyKind;
use pulang::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, with_token};

async fn post_with_key(
    app: &TestApp,
    path: &str,
    body: &Value,
    token: &str,
    key: &str,
) -> TestResponse {
    app.call(with_token(
        TestRequest::post()
            .uri(path)
            .insert_header(("Idempotency-Key", key))
            .set_json(body),
        Some(token),
    ))
    .await
}

/// Sends the request twice with one key; asserts one creation and the same answer.
async fn twice(app: &TestApp, path: &str, body: &Value, token: &str, key: &str) -> Value {
    let first = post_with_key(app, path, body, token, key).await;
    assert_eq!(first.status, 201, "{path}: {}", first.text());
    let again = post_with_key(app, path, body, token, key).await;
    assert_eq!(again.status, 201, "{path}: {}", again.text());
    assert_eq!(
        again.header("idempotent-replayed").as_deref(),
        Some("true"),
        "{path}"
    );
    assert_eq!(again.json(), first.json(), "{path}: the replay differs");
    assert_eq!(again.header("location"), first.header("location"), "{path}");
    let documented = crate::openapi_contract::documented_headers("post", path, 201);
    for header in ["Idempotent-Replayed", "Location", "X-Request-Id", "ETag"] {
        let sent = first.header(header).is_some() || again.header(header).is_some();
        assert!(
            !sent || documented.iter().any(|d| d == header),
            "{path}: the server sends {header}, the document does not list it: {documented:?}"
        );
    }
    first.json()
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(&mut app.db().await)
        .await
        .unwrap()
        .n
}

#[actix_web::test]
async fn every_creating_post_that_takes_a_key_creates_once_however_often_it_is_retried() {
    let app = TestApp::spawn().await;
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
    let singkawang = app
        .create_agency(
            "DINSOS-6172",
            AgencyKind::RegencySocialService,
            Some("61.72"),
        )
        .await;
    let ministry = app
        .user_token(kemensos, "kemensos.keuangan", vec![Role::FinanceOfficer])
        .await
        .1;
    let province = app
        .user_token(
            dinsos,
            "keuangan.kalbar",
            vec![Role::FinanceOfficer, Role::CaseWorker],
        )
        .await
        .1;
    let regency = app
        .user_token(singkawang, "keuangan.6172", vec![Role::FinanceOfficer])
        .await
        .1;
    let budget = |source: &str, allocation: i64| {
        json!({"fiscal_year": 2019, "source": source, "document_number": format!("DOC-{source}"),
               "name": source, "allocation": allocation, "status": "active"})
    };

    let apbn = twice(
        &app,
        "/api/v1/budgets",
        &budget("apbn", 100_000_000),
        &ministry,
        "b-1",
    )
    .await;
    let apbd_province = twice(
        &app,
        "/api/v1/budgets",
        &budget("apbd_province", 10_000_000),
        &province,
        "b-2",
    )
    .await;
    let apbd_regency = twice(
        &app,
        "/api/v1/budgets",
        &budget("apbd_regency", 5_000_000),
        &regency,
        "b-3",
    )
    .await;
    assert_eq!(count(&app, "SELECT count(*) AS n FROM budgets").await, 3);

    let ledger = format!("/api/v1/budgets/{}/ledger", apbn["id"].as_str().unwrap());
    let commitment = json!({"kind": "commitment", "amount": 1_000_000, "reason": "tickets"});
    twice(&app, &ledger, &commitment, &ministry, "l-1").await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM budget_ledger WHERE kind = 'commitment'"
        )
        .await,
        1
    );

    let proposal = json!({"fiscal_year": 2019, "regency_agency_id": singkawang,
                          "province_budget_id": apbd_province["id"], "regency_budget_id": apbd_regency["id"],
                          "all_costs_bp": 6000});
    twice(
        &app,
        "/api/v1/cost-sharing-agreements",
        &proposal,
        &province,
        "a-1",
    )
    .await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM cost_sharing_agreements").await,
        1
    );

    let plan = json!({"destination_region": "35", "estimated_costs": [{"category": "transport", "amount": 2_500_000}],
                      "legs": [{"mode": "sea", "from": "Pontianak", "to": "Surabaya", "planned_departure": "2019-04-02T08:00:00Z"}]});
    let transfer = twice(&app, "/api/v1/transfers", &plan, &province, "t-1").await;
    assert_eq!(count(&app, "SELECT count(*) AS n FROM transfers").await, 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM budget_ledger WHERE kind = 'commitment'"
        )
        .await,
        2,
        "the plan's estimate is committed once"
    );

    let costs = format!(
        "/api/v1/transfers/{}/costs",
        transfer["id"].as_str().unwrap()
    );
    let cost = json!({"category": "transport", "amount": 400_000, "receipt_number": "KW-1"});
    let item = twice(&app, &costs, &cost, &province, "c-1").await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM transfer_cost_items").await,
        1
    );
    // The ministry's finance officer confirms the proposal; a repeated
    // confirmation is refused, so the cost is realised once.
    let confirm = format!("{costs}/{}/confirmation", item["id"].as_str().unwrap());
    let confirmed = app.post(&confirm, &json!({}), Some(&ministry)).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    app.post(&confirm, &json!({}), Some(&ministry))
        .await
        .assert_problem(409);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM budget_ledger WHERE kind = 'realisation'"
        )
        .await,
        1,
        "the cost is charged once"
    );

    // The same key with another request is refused, not replayed.
    let other = json!({"category": "transport", "amount": 500_000, "receipt_number": "KW-2"});
    post_with_key(&app, &costs, &other, &province, "c-1")
        .await
        .assert_problem(422);
    // The same body for another transfer under the same key is another request too.
    let elsewhere = format!("/api/v1/transfers/{}/costs", uuid::Uuid::new_v4());
    post_with_key(&app, &elsewhere, &cost, &province, "c-1")
        .await
        .assert_problem(422);
}
