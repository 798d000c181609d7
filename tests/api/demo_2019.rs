//! The 2019 demo year comes out of the statistics exactly as built.

use actix_web::web;
use pulang::seed_2019::{DemoSize, Progress, demo_2019};

use crate::helpers::{TestApp, test_keys};

#[actix_web::test]
async fn the_demo_year_gives_back_its_own_figures() {
    let app = TestApp::spawn().await;
    let mut conn = app.db().await;
    pulang::seed::west_kalimantan(&mut conn, false)
        .await
        .unwrap();
    let settings = pulang::config::Settings::from_lookup(|_| None).unwrap();
    let pool = pulang::db::build_pool(&app.database_url, 4).unwrap();
    let state = web::Data::new(pulang::state::AppState::new(pool, test_keys(), settings).unwrap());
    let size = DemoSize {
        out_of_province: 27,
        in_province: 23,
    };
    let mut shown: Vec<u8> = Vec::new();
    let report = demo_2019(
        &mut conn,
        state.clone(),
        size,
        &mut Progress::new(&mut shown, false),
    )
    .await
    .unwrap();
    assert!(
        report.contains("50 returnees received, 50 returned"),
        "{report}"
    );
    assert!(
        report.contains("reconciliation of 2019: 0 difference(s)"),
        "{report}"
    );
    assert!(report.contains("realised (rupiah): apbn "), "{report}");
    // A line per phase, in order, with counts and elapsed time; no bar off a terminal.
    let shown = String::from_utf8(shown).unwrap();
    let phases: Vec<&str> = shown.lines().collect();
    assert_eq!(phases.len(), 4, "{shown}");
    assert!(
        phases[0].starts_with("budgets and agreements: 16 budgets, 11 agreements ("),
        "{shown}"
    );
    assert!(
        phases[1].starts_with(
            "returnees pushed by BP3TKI Pontianak: 50 (27 from other provinces, 23 from Kalbar) ("
        ),
        "{shown}"
    );
    assert!(
        phases[2].starts_with("sheltered, assessed, ready for transfer: 50 ("),
        "{shown}"
    );
    assert!(
        phases[3].starts_with("transfers planned, costed and handed over: "),
        "{shown}"
    );
    assert!(phases.iter().all(|l| l.ends_with(" s)")), "{shown}");
    assert!(!shown.contains('\r'), "{shown}");
    let again = demo_2019(
        &mut conn,
        state,
        size,
        &mut Progress::new(&mut std::io::sink(), false),
    )
    .await
    .unwrap();
    assert!(again.contains("already there"), "idempotent: {again}");

    let admin = app.admin_token().await;
    let agencies = app
        .get("/api/v1/agencies?q=DINSOS-KALBAR", Some(&admin))
        .await
        .json();
    let province: uuid::Uuid = agencies["items"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (_, token) = app
        .user_token(province, "viewer.kalbar", vec![pulang::auth::Role::Viewer])
        .await;
    let stats = app
        .get(
            "/api/v1/stats/returns?from=2019-01-01&to=2019-10-31&handling_province=61",
            Some(&token),
        )
        .await
        .json();
    assert_eq!(stats["received"], 50);
    assert_eq!(stats["returned"], 50);
    let scope = |key: &str| {
        stats["by_origin_scope"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .unwrap()["received"]
            .clone()
    };
    assert_eq!(scope("out_of_province"), 27);
    assert_eq!(scope("in_province"), 23);
    let costs = app
        .get("/api/v1/stats/costs?fiscal_year=2019", Some(&token))
        .await
        .json();
    assert!(
        !costs["without_agreement"].as_array().unwrap().is_empty(),
        "three regencies have no agreement"
    );
    assert!(
        costs["regency_shares"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["regency_share_percent"] == 40.0)
    );
}
