//! Money that reconciles (issue 23): the reproductions of the issue, each of
//! which broke the books on the earlier code, and a property test that runs
//! random sequences of plans, costs, corrections, cancellations, handovers,
//! reversals and disputes through the API and asks the reconciliation after
//! every step.

use pulang::agencies::AgencyKind;
use pulang::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, new_case};

/// Kemensos with its APBN, the province with its APBD, Kota Pontianak with
/// its APBD and an approved 60/40 agreement, and the people who use them.
pub struct Books {
    pub admin: String,
    pub ministry: String,
    pub province_worker: String,
    pub province_finance: String,
    pub pontianak: String,
    pub push_client: String,
    pub apbn: String,
    pub apbd_province: String,
    pub apbd_pontianak: String,
    next_case: std::cell::Cell<u32>,
}

pub async fn books(app: &TestApp, allocations: [i64; 3]) -> Books {
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
    let pontianak_agency = app
        .create_agency(
            "DINSOS-6171",
            AgencyKind::RegencySocialService,
            Some("61.71"),
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
    let pontianak = app
        .user_token(
            pontianak_agency,
            "dinsos.6171",
            vec![Role::CaseWorker, Role::FinanceOfficer],
        )
        .await
        .1;
    let make = async |token: &str, source: &str, allocation: i64| {
        let body = json!({"fiscal_year": 2019, "source": source, "document_number": format!("DOC-{source}"),
                          "activity_code": "1.06.01.2.04", "name": source, "allocation": allocation, "status": "active"});
        let r = app.post("/api/v1/budgets", &body, Some(token)).await;
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_owned()
    };
    let apbn = make(&ministry, "apbn", allocations[0]).await;
    let apbd_province = make(&province_finance, "apbd_province", allocations[1]).await;
    let apbd_pontianak = make(&pontianak, "apbd_regency", allocations[2]).await;
    let proposal = json!({"fiscal_year": 2019, "regency_agency_id": pontianak_agency, "province_budget_id": apbd_province,
                          "regency_budget_id": apbd_pontianak, "all_costs_bp": 6000});
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
        app.post(&approve, &json!({}), Some(&pontianak))
            .await
            .status,
        200
    );
    Books {
        admin: app.admin_token().await,
        ministry,
        province_worker: app
            .user_token(dinsos, "dinsos.kalbar", vec![Role::CaseWorker])
            .await
            .1,
        province_finance,
        pontianak,
        push_client: app.client_token(bp3tki, "bp3tki-pontianak").await,
        apbn,
        apbd_province,
        apbd_pontianak,
        next_case: std::cell::Cell::new(1),
    }
}

impl Books {
    /// A returnee from `origin`, pushed and made ready for transfer.
    async fn ready_case(&self, app: &TestApp, origin: &str) -> String {
        let n = self.next_case.get();
        self.next_case.set(n + 1);
        let pushed = app
            .post(
                "/api/v1/cases/batch",
                &json!({"records": [new_case(n, origin)]}),
                Some(&self.push_client),
            )
            .await;
        assert_eq!(pushed.status, 200, "{}", pushed.text());
        let case = pushed.json()["results"][0]["case_id"]
            .as_str()
            .unwrap()
            .to_owned();
        for to in ["sheltered", "assessed", "ready_for_transfer"] {
            let r = app
                .post(
                    &format!("/api/v1/cases/{case}/transitions"),
                    &json!({"to": to, "reason": format!("{to} step")}),
                    Some(&self.province_worker),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text());
        }
        case
    }

    /// A planned transfer of one ready returnee to `destination`, with an estimate.
    pub async fn plan(&self, app: &TestApp, destination: &str, estimate: i64) -> Transfer {
        let origin = format!("{}.{}", &destination[..2], &destination[2..]);
        let case = self.ready_case(app, &origin).await;
        let plan = json!({
            "destination_region": destination,
            "legs": [{"mode": "road", "from": "RPTC Pontianak", "to": destination, "planned_departure": "2019-03-20T01:00:00Z"}],
            "estimated_costs": [{"category": "transport", "amount": estimate}]
        });
        let created = app
            .post("/api/v1/transfers", &plan, Some(&self.province_worker))
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        let id = created.json()["id"].as_str().unwrap().to_owned();
        let joined = app
            .post(
                &format!("/api/v1/transfers/{id}/cases"),
                &json!({"case_ids": [case]}),
                Some(&self.province_worker),
            )
            .await;
        assert_eq!(joined.status, 200, "{}", joined.text());
        Transfer {
            id,
            case,
            home: destination.starts_with("61"),
        }
    }

    pub async fn step(&self, app: &TestApp, t: &Transfer, to: &str) -> TestResponse {
        app.post(
            &format!("/api/v1/transfers/{}/transitions", t.id),
            &json!({"to": to, "reason": format!("now {to}")}),
            Some(&self.province_worker),
        )
        .await
    }

    pub async fn hand_over(&self, app: &TestApp, t: &Transfer) -> TestResponse {
        let handover = json!({
            "bast_number": format!("BAST/{}", t.id), "handed_over_at": "2019-03-20T06:00:00Z",
            "received_by": {"name": "Kepala Dinsos", "position": "Kepala Dinas"},
            "outcomes": [{"case_id": t.case, "outcome": "received"}]
        });
        app.post(
            &format!("/api/v1/transfers/{}/handover", t.id),
            &handover,
            Some(&self.province_worker),
        )
        .await
    }

    /// Departs, arrives and hands over.
    pub async fn complete(&self, app: &TestApp, t: &Transfer) {
        for to in ["departed", "arrived"] {
            let r = self.step(app, t, to).await;
            assert_eq!(r.status, 200, "{}", r.text());
        }
        let r = self.hand_over(app, t).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }

    /// A case worker proposes a cost; nothing moves until it is confirmed.
    pub async fn propose(&self, app: &TestApp, t: &Transfer, body: Value) -> TestResponse {
        app.post(
            &format!("/api/v1/transfers/{}/costs", t.id),
            &body,
            Some(&self.province_worker),
        )
        .await
    }

    /// The finance officer who confirms a cost of `t`: the ministry's for a
    /// return out of the province, the province's inside it.
    pub fn confirmer(&self, t: &Transfer) -> &str {
        if t.home {
            &self.province_finance
        } else {
            &self.ministry
        }
    }

    pub async fn confirm(
        &self,
        app: &TestApp,
        t: &Transfer,
        item: &str,
        token: &str,
    ) -> TestResponse {
        app.post(
            &format!("/api/v1/transfers/{}/costs/{item}/confirmation", t.id),
            &json!({"note": "SPJ diperiksa"}),
            Some(token),
        )
        .await
    }

    /// A cost proposed by the case worker and confirmed by the paying finance
    /// officer; answers the proposal (or its refusal).
    pub async fn cost(&self, app: &TestApp, t: &Transfer, body: Value) -> TestResponse {
        let proposed = self.propose(app, t, body).await;
        if proposed.status == 201 {
            let item = proposed.json()["id"].as_str().unwrap().to_owned();
            let confirmed = self.confirm(app, t, &item, self.confirmer(t)).await;
            assert_eq!(confirmed.status, 200, "{}", confirmed.text());
        }
        proposed
    }

    pub async fn ledger(&self, app: &TestApp, token: &str, budget: &str) -> Vec<Value> {
        let r = app
            .get(&format!("/api/v1/budgets/{budget}/ledger"), Some(token))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let page = r.json();
        assert_eq!(
            page["next_cursor"],
            Value::Null,
            "one page holds these ledgers"
        );
        page["items"].as_array().unwrap().clone()
    }

    pub async fn balance(&self, app: &TestApp, token: &str, budget: &str) -> Value {
        app.get(&format!("/api/v1/budgets/{budget}"), Some(token))
            .await
            .json()["balance"]
            .clone()
    }

    /// The reconciliation's differences, as `token` sees them.
    pub async fn differences(&self, app: &TestApp, token: &str) -> Vec<Value> {
        let r = app
            .get(
                "/api/v1/budgets/reconciliation?fiscal_year=2019",
                Some(token),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["differences"].as_array().unwrap().clone()
    }

    pub async fn report(&self, app: &TestApp, token: &str) -> Value {
        let r = app
            .get("/api/v1/stats/costs?fiscal_year=2019", Some(token))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }
}

pub struct Transfer {
    pub id: String,
    pub case: String,
    /// Inside the province (shared APBD), else APBN.
    pub home: bool,
}

fn b(allocated: i64, committed: i64, realised: i64) -> Value {
    json!({"allocated": allocated, "committed": committed, "realised": realised, "available": allocated - committed - realised})
}

/// The entry of `kind` naming `transfer` on a ledger.
fn entry_of<'a>(ledger: &'a [Value], kind: &str, amount: i64) -> &'a Value {
    ledger
        .iter()
        .find(|e| e["kind"] == kind && e["amount"] == amount)
        .unwrap_or_else(|| panic!("no {kind} of {amount} in {ledger:?}"))
}

#[actix_web::test]
async fn a_regency_cannot_drop_its_share_of_a_transfer_cost_by_reversing_it_alone() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let t = w.plan(&app, "6171", 1_000_000).await;
    let cost = w
        .cost(
            &app,
            &t,
            json!({"category": "transport", "amount": 1_000_001, "receipt_number": "KW-1"}),
        )
        .await;
    assert_eq!(cost.status, 201, "{}", cost.text());
    let ledger = w.ledger(&app, &w.pontianak, &w.apbd_pontianak).await;
    let realisation = entry_of(&ledger, "realisation", 400_000);

    let reversal = app
        .post(
            &format!("/api/v1/budgets/{}/ledger", w.apbd_pontianak),
            &json!({"reverses_id": realisation["id"], "reason": "bukan tanggungan kami"}),
            Some(&w.pontianak),
        )
        .await;
    let problem = reversal.assert_problem(409);
    assert_eq!(problem["type"], "/problems/transfer-entry");
    assert_eq!(problem["transfer_id"], t.id.as_str());

    assert_eq!(
        w.ledger(&app, &w.pontianak, &w.apbd_pontianak).await.len(),
        ledger.len(),
        "nothing was recorded"
    );
    let view = app
        .get(
            &format!("/api/v1/transfers/{}", t.id),
            Some(&w.province_worker),
        )
        .await
        .json();
    assert_eq!(view["costs"]["realised"], 1_000_001);
    assert_eq!(w.differences(&app, &w.admin).await, Vec::<Value>::new());
    let report = w.report(&app, &w.province_finance).await;
    let share = &report["regency_shares"][0];
    assert_eq!(share["regency"], "61.71");
    assert_eq!(share["province_paid"], 600_001);
    assert_eq!(share["regency_paid"], 400_000);
    assert_eq!(share["regency_share_percent"], 40.0);
}

#[actix_web::test]
async fn a_handed_over_transfers_commitment_cannot_be_reopened_by_reversing_its_release() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let t = w.plan(&app, "6171", 1_000_000).await;
    w.complete(&app, &t).await;
    let ledger = w.ledger(&app, &w.province_finance, &w.apbd_province).await;
    let release = entry_of(&ledger, "release", 600_000);

    let reversal = app
        .post(
            &format!("/api/v1/budgets/{}/ledger", w.apbd_province),
            &json!({"reverses_id": release["id"], "reason": "salah lepas"}),
            Some(&w.province_finance),
        )
        .await;
    assert_eq!(
        reversal.assert_problem(409)["type"],
        "/problems/transfer-entry"
    );
    assert_eq!(
        w.balance(&app, &w.province_finance, &w.apbd_province).await,
        b(20_000_000, 0, 0)
    );
    assert_eq!(w.differences(&app, &w.admin).await, Vec::<Value>::new());

    // A manual entry is still the finance officer's to reverse.
    let manual = app
        .post(
            &format!("/api/v1/budgets/{}/ledger", w.apbd_province),
            &json!({"kind": "revision", "amount": 1_000_000, "reason": "APBD-P"}),
            Some(&w.province_finance),
        )
        .await;
    assert_eq!(manual.status, 201, "{}", manual.text());
    let undone = app
        .post(
            &format!("/api/v1/budgets/{}/ledger", w.apbd_province),
            &json!({"reverses_id": manual.json()["id"], "reason": "APBD-P dibatalkan"}),
            Some(&w.province_finance),
        )
        .await;
    assert_eq!(undone.status, 201, "{}", undone.text());
}

#[actix_web::test]
async fn cancelling_a_cost_item_reverses_it_on_every_paying_budget_in_one_step() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let t = w.plan(&app, "6171", 1_000_000).await;
    let item = w
        .cost(
            &app,
            &t,
            json!({"category": "transport", "amount": 900_000}),
        )
        .await
        .json();
    assert_eq!(
        w.balance(&app, &w.pontianak, &w.apbd_pontianak).await,
        b(10_000_000, 40_000, 360_000)
    );
    let path = format!(
        "/api/v1/transfers/{}/costs/{}/cancellation",
        t.id,
        item["id"].as_str().unwrap()
    );
    // The regency pays a share but does not cancel: it disputes.
    app.post(&path, &json!({"reason": "dobel"}), Some(&w.pontianak))
        .await
        .assert_problem(403);
    let cancelled = app
        .post(
            &path,
            &json!({"reason": "kuitansi dicatat dua kali"}),
            Some(&w.province_worker),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    assert_eq!(
        cancelled.json()["cancelled_reason"],
        "kuitansi dicatat dua kali"
    );
    assert_eq!(
        w.balance(&app, &w.province_finance, &w.apbd_province).await,
        b(20_000_000, 60_000, 0)
    );
    assert_eq!(
        w.balance(&app, &w.pontianak, &w.apbd_pontianak).await,
        b(10_000_000, 40_000, 0)
    );
    let view = app
        .get(
            &format!("/api/v1/transfers/{}", t.id),
            Some(&w.province_worker),
        )
        .await
        .json();
    assert_eq!(view["costs"]["realised"], 0);
    assert_eq!(view["cost_items"][0]["amount"], 900_000, "the item is kept");
    app.post(&path, &json!({"reason": "lagi"}), Some(&w.province_worker))
        .await
        .assert_problem(409);
    assert_eq!(w.differences(&app, &w.admin).await, Vec::<Value>::new());
}

#[actix_web::test]
async fn a_disputed_share_moves_nothing_until_the_province_resolves_it() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let t = w.plan(&app, "6171", 1_000_000).await;
    let item = w
        .cost(&app, &t, json!({"category": "meals", "amount": 500_000}))
        .await
        .json();
    let item_id = item["id"].as_str().unwrap();
    let disputes = format!("/api/v1/transfers/{}/costs/{item_id}/disputes", t.id);
    let raise = async |reason: &str| {
        app.post(
            &disputes,
            &json!({"budget_id": w.apbd_pontianak, "reason": reason}),
            Some(&w.pontianak),
        )
        .await
    };
    // Only the owner of a charged budget disputes its share.
    app.post(
        &disputes,
        &json!({"budget_id": w.apbd_pontianak, "reason": "x"}),
        Some(&w.province_finance),
    )
    .await
    .assert_problem(403);
    let first = raise("makan pendamping provinsi").await;
    assert_eq!(first.status, 201, "{}", first.text());
    let first = first.json();
    assert_eq!(first["status"], "open");
    raise("sekali lagi").await.assert_problem(409);
    let before = w.balance(&app, &w.pontianak, &w.apbd_pontianak).await;
    app.post(
        &format!("/api/v1/transfers/{}/costs/{item_id}/cancellation", t.id),
        &json!({"reason": "batal"}),
        Some(&w.province_worker),
    )
    .await
    .assert_problem(409);
    assert_eq!(
        w.balance(&app, &w.pontianak, &w.apbd_pontianak).await,
        before
    );

    let resolve = |id: &str| format!("/api/v1/cost-disputes/{id}/resolution");
    app.post(
        &resolve(first["id"].as_str().unwrap()),
        &json!({"decision": "upheld", "reason": "kami sendiri"}),
        Some(&w.pontianak),
    )
    .await
    .assert_problem(403);
    let rejected = app
        .post(
            &resolve(first["id"].as_str().unwrap()),
            &json!({"decision": "rejected", "reason": "sesuai perjanjian"}),
            Some(&w.province_finance),
        )
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.text());
    assert_eq!(rejected.json()["status"], "rejected");
    assert_eq!(
        w.balance(&app, &w.pontianak, &w.apbd_pontianak).await,
        before
    );
    app.post(
        &resolve(first["id"].as_str().unwrap()),
        &json!({"decision": "upheld", "reason": "berubah pikiran"}),
        Some(&w.province_finance),
    )
    .await
    .assert_problem(409);

    let second = raise("kuitansi untuk pendamping").await.json();
    let upheld = app
        .post(
            &resolve(second["id"].as_str().unwrap()),
            &json!({"decision": "upheld", "reason": "benar, dicatat ulang"}),
            Some(&w.province_worker),
        )
        .await;
    assert_eq!(upheld.status, 200, "{}", upheld.text());
    assert_eq!(
        w.balance(&app, &w.pontianak, &w.apbd_pontianak).await,
        b(10_000_000, 200_000, 0)
    );
    assert_eq!(
        w.balance(&app, &w.province_finance, &w.apbd_province).await,
        b(20_000_000, 300_000, 0)
    );
    let listed = app
        .get("/api/v1/cost-disputes", Some(&w.pontianak))
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let ministry = app
        .get("/api/v1/cost-disputes", Some(&w.ministry))
        .await
        .json();
    assert_eq!(ministry, json!([]), "the ministry sees no APBD dispute");
    assert_eq!(w.differences(&app, &w.admin).await, Vec::<Value>::new());
}

#[actix_web::test]
async fn costs_after_handover_need_a_reason_and_stop_thirty_days_after_closing() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let t = w.plan(&app, "6171", 1_000_000).await;
    w.complete(&app, &t).await;

    let bare = w
        .cost(&app, &t, json!({"category": "meals", "amount": 50_000}))
        .await;
    let problem = bare.assert_problem(422);
    assert!(problem.to_string().contains("late_reason"), "{problem}");
    let late = w
        .cost(
            &app,
            &t,
            json!({"category": "meals", "amount": 50_000, "late_reason": "kuitansi rumah makan menyusul"}),
        )
        .await;
    assert_eq!(late.status, 201, "{}", late.text());
    assert_eq!(late.json()["late_reason"], "kuitansi rumah makan menyusul");

    // Thirty-one days later the transfer's money is closed.
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "UPDATE transfers SET closed_at = now() - interval '31 days' WHERE id = $1::uuid",
    )
    .bind::<diesel::sql_types::Text, _>(&t.id)
    .execute(&mut app.db().await)
    .await
    .unwrap();
    let refused = w
        .cost(
            &app,
            &t,
            json!({"category": "meals", "amount": 50_000, "late_reason": "terlambat sekali"}),
        )
        .await;
    assert_eq!(
        refused.assert_problem(409)["type"],
        "/problems/transfer-costs-closed"
    );
    assert_eq!(w.differences(&app, &w.admin).await, Vec::<Value>::new());
}

#[actix_web::test]
async fn the_money_report_counts_what_a_cancelled_transfer_cost() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let t = w.plan(&app, "3201", 2_000_000).await;
    let ticket = w
        .cost(
            &app,
            &t,
            json!({"category": "transport", "amount": 500_000}),
        )
        .await;
    assert_eq!(ticket.status, 201, "{}", ticket.text());
    let r = w.step(&app, &t, "cancelled").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        w.balance(&app, &w.ministry, &w.apbn).await,
        b(100_000_000, 0, 500_000)
    );

    let report = w.report(&app, &w.ministry).await;
    assert_eq!(report["by_funding_source"][0]["source"], "apbn");
    assert_eq!(report["by_funding_source"][0]["realised"], 500_000);
    assert_eq!(
        report["by_funding_source"][0]["budgets"],
        json!([{"document_number": "DOC-apbn", "activity_code": "1.06.01.2.04"}])
    );
    assert_eq!(report["not_handed_over"][0]["status"], "cancelled");
    assert_eq!(report["not_handed_over"][0]["realised"], 500_000);
    assert_eq!(report["by_destination"], json!([]));
    assert_eq!(w.differences(&app, &w.ministry).await, Vec::<Value>::new());
    assert_eq!(w.differences(&app, &w.admin).await, Vec::<Value>::new());
}

#[actix_web::test]
async fn each_reader_of_the_money_report_sees_the_money_of_its_own_budgets() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let home = w.plan(&app, "6171", 1_000_000).await;
    let away = w.plan(&app, "3201", 3_000_000).await;
    for (t, amount) in [(&home, 1_000_001), (&away, 2_500_000)] {
        let r = w
            .cost(&app, t, json!({"category": "transport", "amount": amount}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        w.complete(&app, t).await;
    }
    let sources = |report: &Value| -> Vec<(String, i64)> {
        report["by_funding_source"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["source"].as_str().unwrap().to_owned(),
                    s["realised"].as_i64().unwrap(),
                )
            })
            .collect()
    };

    let ministry = w.report(&app, &w.ministry).await;
    assert_eq!(sources(&ministry), vec![("apbn".to_owned(), 2_500_000)]);
    assert_eq!(ministry["regency_shares"], json!([]));
    assert_eq!(ministry["without_agreement"], json!([]));
    assert_eq!(ministry["by_destination"][0]["destination_region"], "32.01");
    assert_eq!(ministry["by_destination"].as_array().unwrap().len(), 1);

    let province = w.report(&app, &w.province_finance).await;
    assert_eq!(
        sources(&province),
        vec![
            ("apbd_province".to_owned(), 600_001),
            ("apbd_regency".to_owned(), 400_000)
        ]
    );

    let regency = w.report(&app, &w.pontianak).await;
    assert_eq!(
        sources(&regency),
        vec![("apbd_regency".to_owned(), 400_000)]
    );
    assert_eq!(
        regency["regency_shares"][0]["regency_share_percent"], 40.0,
        "a regency sees the province's part of the costs it shares"
    );

    for token in [&w.ministry, &w.province_finance, &w.pontianak, &w.admin] {
        assert_eq!(w.differences(&app, token).await, Vec::<Value>::new());
    }
}

#[actix_web::test]
async fn the_reconciliation_names_money_written_behind_the_transfers_back() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let t = w.plan(&app, "6171", 1_000_000).await;
    let item = w
        .cost(
            &app,
            &t,
            json!({"category": "transport", "amount": 1_000_001}),
        )
        .await
        .json();
    w.complete(&app, &t).await;
    assert_eq!(w.differences(&app, &w.admin).await, Vec::<Value>::new());

    // What the old API let a regency do: drop its 400,000 alone; and a
    // reopened commitment on the closed transfer.
    use diesel_async::RunQueryDsl;
    let mut db = app.db().await;
    diesel::sql_query(
        "INSERT INTO budget_ledger (budget_id, kind, amount, reason, transfer_id, cost_item_id, reverses_id) \
         SELECT budget_id, kind, -amount, 'dropped', transfer_id, cost_item_id, id FROM budget_ledger \
         WHERE budget_id = $1::uuid AND kind = 'realisation'",
    )
    .bind::<diesel::sql_types::Text, _>(&w.apbd_pontianak)
    .execute(&mut db)
    .await
    .unwrap();
    diesel::sql_query(
        "INSERT INTO budget_ledger (budget_id, kind, amount, reason, transfer_id) \
         VALUES ($1::uuid, 'commitment', 25000, 'reopened', $2::uuid)",
    )
    .bind::<diesel::sql_types::Text, _>(&w.apbd_province)
    .bind::<diesel::sql_types::Text, _>(&t.id)
    .execute(&mut db)
    .await
    .unwrap();

    let found = w.differences(&app, &w.admin).await;
    let checks: Vec<&str> = found.iter().map(|d| d["check"].as_str().unwrap()).collect();
    assert_eq!(
        checks,
        vec![
            "cost_item_realised",
            "cost_item_split",
            "closed_transfer_committed"
        ],
        "{found:#?}"
    );
    assert_eq!(found[0]["cost_item_id"], item["id"]);
    assert_eq!(
        (&found[0]["expected"], &found[0]["actual"]),
        (&json!(1_000_001), &json!(600_001))
    );
    assert_eq!(found[1]["budget_id"], w.apbd_pontianak.as_str());
    assert_eq!(
        (&found[1]["expected"], &found[1]["actual"]),
        (&json!(400_000), &json!(0))
    );
    assert_eq!(found[2]["actual"], 25_000);
    // The ministry's APBN is untouched, so its reconciliation is empty.
    assert_eq!(w.differences(&app, &w.ministry).await, Vec::<Value>::new());
}

/// One step of the property test; indices pick among what exists so far.
#[derive(Debug, Clone)]
enum Op {
    /// Plan a transfer home to Kota Pontianak (shared APBD) or to Kab. Bogor (APBN).
    Plan { home: bool, estimate: i64 },
    /// Record a cost on a transfer (with a late reason, used only once it closed).
    Cost {
        transfer: usize,
        category: usize,
        amount: i64,
    },
    /// Confirm a proposed cost item, by the paying finance officer (or, to
    /// be refused, by the regency for a return it does not pay).
    Confirm { item: usize, by_regency: bool },
    /// Cancel a cost item.
    CancelCost { item: usize },
    /// Move a transfer on: depart, arrive, hand over.
    Advance { transfer: usize },
    /// Cancel a transfer.
    CancelTransfer { transfer: usize },
    /// The owner of a budget tries to reverse one of its entries by hand.
    Reverse { budget: usize, entry: usize },
    /// The owner of a budget revises its allocation.
    Revise { budget: usize, amount: i64 },
    /// Kota Pontianak disputes its share of a cost item.
    Dispute { item: usize },
    /// The province resolves a dispute.
    Resolve { dispute: usize, upheld: bool },
    /// Kota Pontianak settles part of its share with the province.
    Settle { amount: i64 },
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        2 => (any::<bool>(), 100_000i64..4_000_000).prop_map(|(home, estimate)| Op::Plan { home, estimate }),
        4 => (0usize..8, 0usize..5, 1i64..3_000_000).prop_map(|(transfer, category, amount)| Op::Cost { transfer, category, amount }),
        3 => (0usize..16, any::<bool>()).prop_map(|(item, by_regency)| Op::Confirm { item, by_regency }),
        1 => (0usize..16).prop_map(|item| Op::CancelCost { item }),
        3 => (0usize..8).prop_map(|transfer| Op::Advance { transfer }),
        1 => (0usize..8).prop_map(|transfer| Op::CancelTransfer { transfer }),
        2 => (0usize..3, 0usize..64).prop_map(|(budget, entry)| Op::Reverse { budget, entry }),
        1 => (0usize..3, -3_000_000i64..3_000_000).prop_map(|(budget, amount)| Op::Revise { budget, amount }),
        1 => (0usize..16).prop_map(|item| Op::Dispute { item }),
        1 => (0usize..8, any::<bool>()).prop_map(|(dispute, upheld)| Op::Resolve { dispute, upheld }),
        1 => (1i64..1_500_000).prop_map(|amount| Op::Settle { amount }),
    ]
}

/// A refusal is an answer (a regency does not see a transfer to Bogor: 404);
/// a server error is not.
fn tolerated(r: &TestResponse, op: &Op) {
    assert!(
        [200, 201, 403, 404, 409, 422].contains(&r.status.as_u16()),
        "{op:?} answered {}: {}",
        r.status,
        r.text()
    );
}

async fn run_operations(ops: Vec<Op>) {
    let app = TestApp::spawn().await;
    let w = books(&app, [20_000_000, 8_000_000, 4_000_000]).await;
    let owners = [
        (w.apbn.clone(), w.ministry.clone()),
        (w.apbd_province.clone(), w.province_finance.clone()),
        (w.apbd_pontianak.clone(), w.pontianak.clone()),
    ];
    let mut transfers: Vec<Transfer> = Vec::new();
    let mut items: Vec<(usize, String)> = Vec::new();
    let mut disputes: Vec<String> = Vec::new();
    let agreements = app
        .get("/api/v1/cost-sharing-agreements", Some(&w.pontianak))
        .await
        .json();
    let agreement = agreements[0]["id"].as_str().unwrap().to_owned();
    for (n, op) in ops.iter().enumerate() {
        let pick = |i: usize, len: usize| (len > 0).then(|| i % len);
        match op {
            Op::Plan { home, estimate } => {
                let destination = if *home { "6171" } else { "3201" };
                // A plan the budgets cannot cover is refused whole; plan within reach.
                let origin = format!("{}.{}", &destination[..2], &destination[2..]);
                let case = w.ready_case(&app, &origin).await;
                let plan = json!({
                    "destination_region": destination,
                    "legs": [{"mode": "road", "from": "RPTC Pontianak", "to": destination, "planned_departure": "2019-03-20T01:00:00Z"}],
                    "estimated_costs": [{"category": "transport", "amount": estimate}]
                });
                let created = app
                    .post("/api/v1/transfers", &plan, Some(&w.province_worker))
                    .await;
                tolerated(&created, op);
                if created.status == 201 {
                    let id = created.json()["id"].as_str().unwrap().to_owned();
                    let joined = app
                        .post(
                            &format!("/api/v1/transfers/{id}/cases"),
                            &json!({"case_ids": [case]}),
                            Some(&w.province_worker),
                        )
                        .await;
                    assert_eq!(joined.status, 200, "{}", joined.text());
                    transfers.push(Transfer {
                        id,
                        case,
                        home: *home,
                    });
                }
            }
            Op::Cost {
                transfer,
                category,
                amount,
            } => {
                let Some(t) = pick(*transfer, transfers.len()) else {
                    continue;
                };
                let category = [
                    "transport",
                    "meals",
                    "escort_allowance",
                    "accommodation",
                    "other",
                ][*category];
                let r = w
                    .propose(
                        &app,
                        &transfers[t],
                        json!({"category": category, "amount": amount, "late_reason": "kuitansi menyusul"}),
                    )
                    .await;
                tolerated(&r, op);
                if r.status == 201 {
                    items.push((t, r.json()["id"].as_str().unwrap().to_owned()));
                }
            }
            Op::Confirm { item, by_regency } => {
                let Some(i) = pick(*item, items.len()) else {
                    continue;
                };
                let (t, id) = &items[i];
                let t = &transfers[*t];
                let token = if *by_regency {
                    w.pontianak.as_str()
                } else {
                    w.confirmer(t)
                };
                let r = w.confirm(&app, t, id, token).await;
                tolerated(&r, op);
                if *by_regency && !t.home {
                    assert_ne!(r.status, 200, "the regency confirmed an APBN cost");
                }
            }
            Op::CancelCost { item } => {
                let Some(i) = pick(*item, items.len()) else {
                    continue;
                };
                let (t, id) = &items[i];
                let t = &transfers[*t].id;
                let r = app
                    .post(
                        &format!("/api/v1/transfers/{t}/costs/{id}/cancellation"),
                        &json!({"reason": "salah catat"}),
                        Some(&w.province_finance),
                    )
                    .await;
                tolerated(&r, op);
            }
            Op::Advance { transfer } => {
                let Some(t) = pick(*transfer, transfers.len()) else {
                    continue;
                };
                let status = app
                    .get(
                        &format!("/api/v1/transfers/{}", transfers[t].id),
                        Some(&w.province_worker),
                    )
                    .await
                    .json()["status"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let r = match status.as_str() {
                    "planned" => w.step(&app, &transfers[t], "departed").await,
                    "departed" => w.step(&app, &transfers[t], "arrived").await,
                    "arrived" => w.hand_over(&app, &transfers[t]).await,
                    _ => continue,
                };
                tolerated(&r, op);
            }
            Op::CancelTransfer { transfer } => {
                let Some(t) = pick(*transfer, transfers.len()) else {
                    continue;
                };
                let r = w.step(&app, &transfers[t], "cancelled").await;
                tolerated(&r, op);
            }
            Op::Reverse { budget, entry } => {
                let (budget, token) = &owners[*budget];
                let ledger = w.ledger(&app, token, budget).await;
                let e = &ledger[entry % ledger.len()];
                let r = app
                    .post(
                        &format!("/api/v1/budgets/{budget}/ledger"),
                        &json!({"reverses_id": e["id"], "reason": "koreksi"}),
                        Some(token),
                    )
                    .await;
                tolerated(&r, op);
                if e["transfer_id"].is_string() {
                    assert_ne!(r.status, 201, "a transfer's entry was reversed by hand");
                }
            }
            Op::Revise { budget, amount } => {
                let (budget, token) = &owners[*budget];
                let r = app
                    .post(
                        &format!("/api/v1/budgets/{budget}/ledger"),
                        &json!({"kind": "revision", "amount": if *amount == 0 { 1 } else { *amount }, "reason": "APBD-P"}),
                        Some(token),
                    )
                    .await;
                tolerated(&r, op);
            }
            Op::Dispute { item } => {
                let Some(i) = pick(*item, items.len()) else {
                    continue;
                };
                let (t, id) = &items[i];
                let t = &transfers[*t].id;
                let r = app
                    .post(
                        &format!("/api/v1/transfers/{t}/costs/{id}/disputes"),
                        &json!({"budget_id": w.apbd_pontianak, "reason": "bukan bagian kami"}),
                        Some(&w.pontianak),
                    )
                    .await;
                tolerated(&r, op);
                if r.status == 201 {
                    disputes.push(r.json()["id"].as_str().unwrap().to_owned());
                }
            }
            Op::Settle { amount } => {
                let r = app
                    .post(
                        &format!("/api/v1/budgets/{}/ledger", w.apbd_pontianak),
                        &json!({"kind": "settlement", "amount": amount, "agreement_id": agreement, "reason": "setor"}),
                        Some(&w.pontianak),
                    )
                    .await;
                tolerated(&r, op);
            }
            Op::Resolve { dispute, upheld } => {
                let Some(d) = pick(*dispute, disputes.len()) else {
                    continue;
                };
                let r = app
                    .post(
                        &format!("/api/v1/cost-disputes/{}/resolution", disputes[d]),
                        &json!({"decision": if *upheld { "upheld" } else { "rejected" }, "reason": "diperiksa"}),
                        Some(&w.province_finance),
                    )
                    .await;
                tolerated(&r, op);
            }
        }
        let differences = w.differences(&app, &w.admin).await;
        assert!(
            differences.is_empty(),
            "after step {n} ({op:?}) of {ops:?}: {differences:#?}"
        );
        for (budget, token) in &owners {
            let balance = w.balance(&app, token, budget).await;
            assert!(
                balance["available"].as_i64().unwrap() >= 0
                    && balance["committed"].as_i64().unwrap() >= 0,
                "after step {n} ({op:?}): {balance}"
            );
        }
    }
}

/// The property of issue 23, point 2: whatever sequence of plans, costs,
/// corrections, cancellations, handovers, reversals and disputes the API
/// accepts, the reconciliation stays empty and no budget goes below zero.
#[test]
fn random_sequences_of_money_operations_keep_the_books_reconciled() {
    use proptest::test_runner::{Config, TestRunner};
    let cases = std::env::var("PULANG_MONEY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 32,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 6..30), |ops| {
            actix_web::rt::System::new().block_on(run_operations(ops));
            Ok(())
        })
        .unwrap();
}

#[actix_web::test]
async fn a_finance_officer_books_dates_accounts_and_payment_orders_and_reports_by_them() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let t = w.plan(&app, "6171", 3_000_000).await;
    let bad = w
        .cost(
            &app,
            &t,
            json!({"category": "transport", "amount": 100_000, "account_code": "bus", "sp2d_number": "SP2D-1"}),
        )
        .await;
    let problem = bad.assert_problem(422).to_string();
    assert!(
        problem.contains("account_code") && problem.contains("sp2d_date"),
        "{problem}"
    );

    let travel = "5.1.02.04.01.0001";
    let meals = "5.1.02.01.01.0052";
    for (category, amount, spent_on, account) in [
        ("transport", 1_000_000, "2019-03-20", travel),
        ("meals", 200_000, "2019-03-21", meals),
        ("transport", 500_000, "2019-04-02", travel),
    ] {
        let r = w
            .cost(
                &app,
                &t,
                json!({"category": category, "amount": amount, "spent_on": spent_on, "account_code": account,
                       "payee": "CV Khatulistiwa Trans", "sp2d_number": format!("SP2D-{spent_on}"), "sp2d_date": "2019-04-10"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.json()["account_code"], account);
    }

    // The ledger carries what was booked, and filters by it.
    let path = format!("/api/v1/budgets/{}/ledger", w.apbd_province);
    let march = app
        .get(
            &format!("{path}?kind=realisation&from=2019-03-01&to=2019-03-31"),
            Some(&w.province_finance),
        )
        .await
        .json();
    let march: Vec<(i64, String)> = march["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["amount"].as_i64().unwrap(),
                e["spent_on"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        march,
        vec![
            (600_000, "2019-03-20".to_owned()),
            (120_000, "2019-03-21".to_owned())
        ]
    );
    let on_meals = app
        .get(
            &format!("{path}?account_code={meals}"),
            Some(&w.province_finance),
        )
        .await
        .json()["items"]
        .clone();
    assert_eq!(on_meals.as_array().unwrap().len(), 1);
    assert_eq!(on_meals[0]["sp2d_number"], "SP2D-2019-03-21");
    assert_eq!(on_meals[0]["payee"], "CV Khatulistiwa Trans");
    let csv = app
        .call(
            actix_web::test::TestRequest::get()
                .uri(&format!("{path}?kind=realisation"))
                .insert_header(("Authorization", format!("Bearer {}", w.province_finance)))
                .insert_header(("Accept", "text/csv")),
        )
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0]
            .trim_start_matches('\u{feff}')
            .starts_with("id,recorded_at,spent_on,kind,amount")
    );
    assert!(
        lines[1].contains(",2019-03-20,realisation,600000,"),
        "{text}"
    );

    // The realisation report: DPA number, activity code, by month, quarter and account.
    let report = app
        .get(
            &format!("/api/v1/budgets/{}/realisation", w.apbd_province),
            Some(&w.province_finance),
        )
        .await
        .json();
    assert_eq!(report["document_number"], "DOC-apbd_province");
    assert_eq!(report["activity_code"], "1.06.01.2.04");
    let summary = app
        .get(
            "/api/v1/budgets/summary?fiscal_year=2019",
            Some(&w.province_finance),
        )
        .await
        .json();
    let own = summary["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["budget_id"] == w.apbd_province.as_str())
        .unwrap();
    assert_eq!(
        (&own["document_number"], &own["activity_code"]),
        (&json!("DOC-apbd_province"), &json!("1.06.01.2.04"))
    );
    assert_eq!(
        report["by_month"],
        json!([{"key": "2019-03", "realised": 720_000}, {"key": "2019-04", "realised": 300_000}])
    );
    assert_eq!(
        report["by_quarter"],
        json!([{"key": "2019-Q1", "realised": 720_000}, {"key": "2019-Q2", "realised": 300_000}])
    );
    assert_eq!(
        report["by_account_code"],
        json!([{"key": meals, "realised": 120_000}, {"key": travel, "realised": 900_000}])
    );
    // As of the end of March: the allocation and March's spending; the
    // commitments were recorded today, after that date.
    let march_end = app
        .get(
            &format!(
                "/api/v1/budgets/{}/realisation?as_of=2019-03-31",
                w.apbd_province
            ),
            Some(&w.province_finance),
        )
        .await
        .json();
    assert_eq!(march_end["balance"], b(20_000_000, 0, 720_000));
    assert_eq!(
        march_end["by_quarter"],
        json!([{"key": "2019-Q1", "realised": 720_000}])
    );
    // The regency sees its own report, the ministry none of the province's.
    app.get(
        &format!("/api/v1/budgets/{}/realisation", w.apbd_province),
        Some(&w.ministry),
    )
    .await
    .assert_problem(404);
    let regency = app
        .get(
            &format!("/api/v1/budgets/{}/realisation", w.apbd_pontianak),
            Some(&w.pontianak),
        )
        .await
        .json();
    assert_eq!(
        regency["by_month"][0],
        json!({"key": "2019-03", "realised": 480_000})
    );
    assert_eq!(w.differences(&app, &w.admin).await, Vec::<Value>::new());
}

#[actix_web::test]
async fn a_case_worker_proposes_a_cost_and_a_finance_officer_of_a_paying_budget_confirms_it() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let t = w.plan(&app, "6171", 1_000_000).await;
    let proposed = w
        .propose(
            &app,
            &t,
            json!({"category": "transport", "amount": 800_000}),
        )
        .await;
    assert_eq!(proposed.status, 201, "{}", proposed.text());
    let item = proposed.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(proposed.json()["confirmed_at"], Value::Null);
    // Nothing moves on a proposal.
    assert_eq!(
        w.balance(&app, &w.province_finance, &w.apbd_province).await,
        b(20_000_000, 600_000, 0)
    );
    let view = app
        .get(
            &format!("/api/v1/transfers/{}", t.id),
            Some(&w.province_worker),
        )
        .await
        .json();
    assert_eq!(
        (&view["costs"]["proposed"], &view["costs"]["realised"]),
        (&json!(800_000), &json!(0))
    );
    assert_eq!(w.differences(&app, &w.admin).await, Vec::<Value>::new());

    // Not the case worker; not the ministry, which pays nothing inside the province.
    w.confirm(&app, &t, &item, &w.province_worker)
        .await
        .assert_problem(403);
    w.confirm(&app, &t, &item, &w.ministry)
        .await
        .assert_problem(404);
    // Whoever proposed does not confirm, even holding both roles.
    let dinsos: uuid::Uuid = app
        .get(
            &format!("/api/v1/transfers/{}", t.id),
            Some(&w.province_worker),
        )
        .await
        .json()["planning_agency_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let both = app
        .user_token(
            dinsos,
            "pptk.kalbar",
            vec![Role::CaseWorker, Role::FinanceOfficer],
        )
        .await
        .1;
    let own = app
        .post(
            &format!("/api/v1/transfers/{}/costs", t.id),
            &json!({"category": "meals", "amount": 100_000}),
            Some(&both),
        )
        .await
        .json();
    w.confirm(&app, &t, own["id"].as_str().unwrap(), &both)
        .await
        .assert_problem(403);

    // The regency pays a share, so its finance officer may confirm.
    let confirmed = w.confirm(&app, &t, &item, &w.pontianak).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    assert!(confirmed.json()["confirmed_at"].is_string());
    assert_eq!(
        w.balance(&app, &w.province_finance, &w.apbd_province).await,
        b(20_000_000, 120_000, 480_000)
    );
    assert_eq!(
        w.balance(&app, &w.pontianak, &w.apbd_pontianak).await,
        b(10_000_000, 80_000, 320_000)
    );
    w.confirm(&app, &t, &item, &w.province_finance)
        .await
        .assert_problem(409);
    // A proposal cancelled before confirmation leaves no trace in the ledgers.
    let cancelled = app
        .post(
            &format!(
                "/api/v1/transfers/{}/costs/{}/cancellation",
                t.id,
                own["id"].as_str().unwrap()
            ),
            &json!({"reason": "bukan biaya transfer ini"}),
            Some(&w.province_worker),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    assert_eq!(
        w.balance(&app, &w.province_finance, &w.apbd_province).await,
        b(20_000_000, 120_000, 480_000)
    );
    assert_eq!(w.differences(&app, &w.admin).await, Vec::<Value>::new());
}

#[actix_web::test]
async fn a_regency_settles_what_it_owes_under_its_agreement_and_no_more() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let agreements = app
        .get("/api/v1/cost-sharing-agreements", Some(&w.pontianak))
        .await
        .json();
    let agreement = agreements[0]["id"].as_str().unwrap().to_owned();
    let t = w.plan(&app, "6171", 1_000_000).await;
    let item = w
        .cost(
            &app,
            &t,
            json!({"category": "transport", "amount": 1_000_001}),
        )
        .await
        .json();
    let ledger = format!("/api/v1/budgets/{}/ledger", w.apbd_pontianak);
    let settle = async |amount: i64, agreement: Option<&str>| {
        app.post(
            &ledger,
            &json!({"kind": "settlement", "amount": amount, "agreement_id": agreement,
                    "reason": "Setor ke kas daerah provinsi", "sp2d_number": "SP2D-77/2019", "sp2d_date": "2019-05-02"}),
            Some(&w.pontianak),
        )
        .await
    };
    settle(300_000, None).await.assert_problem(422);
    let before = w.balance(&app, &w.pontianak, &w.apbd_pontianak).await;
    let first = settle(300_000, Some(&agreement)).await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(
        w.balance(&app, &w.pontianak, &w.apbd_pontianak).await,
        before,
        "a settlement pays what was realised already"
    );
    let over = settle(200_000, Some(&agreement)).await;
    assert_eq!(over.assert_problem(409)["outstanding"], 100_000);

    let statement = app
        .get(
            &format!("/api/v1/cost-sharing-agreements/{agreement}/statement"),
            Some(&w.province_finance),
        )
        .await
        .json();
    assert_eq!(statement["province_paid"], 600_001);
    assert_eq!(statement["regency_owes"], 400_000);
    assert_eq!(statement["settled"], 300_000);
    assert_eq!(statement["outstanding"], 100_000);
    assert_eq!(statement["regency_document_number"], "DOC-apbd_regency");
    assert_eq!(statement["settlements"][0]["sp2d_number"], "SP2D-77/2019");
    app.get(
        &format!("/api/v1/cost-sharing-agreements/{agreement}/statement"),
        Some(&w.ministry),
    )
    .await
    .assert_problem(404);
    assert_eq!(w.differences(&app, &w.admin).await, Vec::<Value>::new());

    // The cost turns out wrong after the regency paid: the province cannot
    // cancel it while the regency would have paid more than it owes.
    let cancel = format!(
        "/api/v1/transfers/{}/costs/{}/cancellation",
        t.id,
        item["id"].as_str().unwrap()
    );
    let refused = app
        .post(
            &cancel,
            &json!({"reason": "kuitansi palsu"}),
            Some(&w.province_worker),
        )
        .await;
    assert_eq!(
        refused.assert_problem(409)["type"],
        "/problems/share-settled"
    );
    // The settlement is refunded (reversed) first; then the cost goes.
    let refund = app
        .post(
            &ledger,
            &json!({"reverses_id": first.json()["id"], "reason": "dikembalikan oleh provinsi"}),
            Some(&w.pontianak),
        )
        .await;
    assert_eq!(refund.status, 201, "{}", refund.text());
    let cancelled = app
        .post(
            &cancel,
            &json!({"reason": "kuitansi palsu"}),
            Some(&w.province_worker),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    assert_eq!(w.differences(&app, &w.pontianak).await, Vec::<Value>::new());

    // Written behind the API's back, an over-settlement shows in the reconciliation.
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "INSERT INTO budget_ledger (budget_id, kind, amount, reason, agreement_id) \
         VALUES ($1::uuid, 'settlement', 50000, 'tampered', $2::uuid)",
    )
    .bind::<diesel::sql_types::Text, _>(&w.apbd_pontianak)
    .bind::<diesel::sql_types::Text, _>(&agreement)
    .execute(&mut app.db().await)
    .await
    .unwrap();
    let found = w.differences(&app, &w.pontianak).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["check"], "settlement_exceeds_share");
    assert_eq!(
        (&found[0]["expected"], &found[0]["actual"]),
        (&json!(0), &json!(50_000))
    );
}

#[actix_web::test]
async fn the_forecast_sets_proposed_costs_and_waiting_returnees_against_what_is_left() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let done = w.plan(&app, "6171", 1_000_000).await;
    let r = w
        .cost(
            &app,
            &done,
            json!({"category": "transport", "amount": 1_000_001}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    w.complete(&app, &done).await;
    let planned = w.plan(&app, "6171", 1_000_000).await;
    let proposal = w
        .propose(
            &app,
            &planned,
            json!({"category": "transport", "amount": 500_000}),
        )
        .await;
    assert_eq!(proposal.status, 201, "{}", proposal.text());
    w.ready_case(&app, "61.71").await;

    let forecast = app
        .get("/api/v1/budgets/forecast?fiscal_year=2019", Some(&w.admin))
        .await;
    assert_eq!(forecast.status, 200, "{}", forecast.text());
    let forecast = forecast.json();
    let of = |budget: &str| {
        forecast
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["budget_id"] == budget)
            .unwrap()
            .clone()
    };
    let province = of(&w.apbd_province);
    assert_eq!(province["balance"], b(20_000_000, 600_000, 600_001));
    assert_eq!(province["proposed"], 300_000);
    assert_eq!(
        province["waiting_returnees"], 1,
        "the planned transfer's returnee is committed already"
    );
    assert_eq!(province["cost_per_returnee"], 600_001);
    assert_eq!(province["left_after"], 18_799_999 - 300_000 - 600_001);
    let regency = of(&w.apbd_pontianak);
    assert_eq!(regency["proposed"], 200_000);
    assert_eq!(regency["waiting_cost"], 400_000);
    assert_eq!(regency["left_after"], 9_200_000 - 200_000 - 400_000);
    let national = of(&w.apbn);
    assert_eq!(national["waiting_returnees"], 0);
    assert_eq!(national["waiting_cost"], Value::Null);
    assert_eq!(national["left_after"], 100_000_000);
    // The ministry's forecast has the APBN only.
    let ministry = app
        .get(
            "/api/v1/budgets/forecast?fiscal_year=2019",
            Some(&w.ministry),
        )
        .await
        .json();
    assert_eq!(ministry.as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn the_ledger_comes_in_pages_that_add_up_to_the_whole() {
    let app = TestApp::spawn().await;
    let w = books(&app, [100_000_000, 20_000_000, 10_000_000]).await;
    let path = format!("/api/v1/budgets/{}/ledger", w.apbd_province);
    for n in 1..=6 {
        let r = app
            .post(
                &path,
                &json!({"kind": "revision", "amount": n * 1_000, "reason": format!("revisi {n}")}),
                Some(&w.province_finance),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let mut seen: Vec<i64> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?kind=revision&limit=4&cursor={c}"),
            None => format!("{path}?kind=revision&limit=4"),
        };
        let page = app.get(&url, Some(&w.province_finance)).await.json();
        pages += 1;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["amount"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, vec![1_000, 2_000, 3_000, 4_000, 5_000, 6_000]);
    app.get(&format!("{path}?limit=1001"), Some(&w.province_finance))
        .await
        .assert_problem(400);
}
