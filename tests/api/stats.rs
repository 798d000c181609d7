//! Return statistics: every figure is the total of the case list with the same filters.

use diesel_async::RunQueryDsl;
use pulang::agencies::AgencyKind;
use pulang::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, new_case};

async fn total(app: &TestApp, token: &str, filters: &str) -> i64 {
    let url = format!(
        "/api/v1/cases?with_total=true&limit=1&arrived_from=2019-01-01&arrived_to=2019-10-31&handling_province=61{filters}"
    );
    let response = app.get(&url, Some(token)).await;
    assert_eq!(response.status, 200, "{url}: {}", response.text());
    response.json()["total"].as_i64().unwrap()
}

#[actix_web::test]
async fn every_figure_is_the_total_of_the_matching_case_list() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let origins = [
        "61.71", "61.71", "61.01", "61.01", "61.05", "35.07", "35.07", "33.01", "52.03", "61.72",
        "61.71", "35.07",
    ];
    let mut records: Vec<Value> = origins
        .iter()
        .enumerate()
        .map(|(n, o)| new_case(n as u32, o))
        .collect();
    records[2]["category"] = json!("trafficking_victim");
    records[3]["entry_point"] = json!("plbn_aruk");
    // The same person twice: a repeat return.
    records[10]["person"]["nik"] = json!("6171011505900001");
    records[10]["person"].as_object_mut().unwrap().remove("sex");
    records[0]["person"]["nik"] = json!("6171011505900001");
    records[0]["person"].as_object_mut().unwrap().remove("sex");
    // More than the same-return window (7 days) before the other arrival
    // (2019-01-11): a second return, not a second report of one.
    records[0]["arrived_at"] = json!("2019-01-02T00:00:00Z");
    // One arrival outside the period.
    records[11]["arrived_at"] = json!("2018-12-31T23:00:00Z");
    let pushed = app
        .post(
            "/api/v1/cases/batch",
            &json!({"records": records}),
            Some(&k.push_client),
        )
        .await
        .json();
    assert_eq!(pushed["totals"]["created"], 12, "{pushed}");
    // Three of them handed over home (set directly: the transfer walk is tested elsewhere).
    let ids: Vec<uuid::Uuid> = (0..3)
        .map(|i| {
            pushed["results"][i]["case_id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    diesel::sql_query("UPDATE cases SET status = 'returned' WHERE id = ANY($1)")
        .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&ids)
        .execute(&mut app.db().await)
        .await
        .unwrap();

    let stats = app
        .get(
            "/api/v1/stats/returns?from=2019-01-01&to=2019-10-31&handling_province=61",
            Some(&k.case_worker),
        )
        .await;
    assert_eq!(stats.status, 200, "{}", stats.text());
    let stats = stats.json();
    let token = &k.case_worker;
    assert_eq!(stats["received"], 11);
    assert_eq!(
        stats["received"].as_i64().unwrap(),
        total(&app, token, "").await
    );
    assert_eq!(
        stats["returned"].as_i64().unwrap(),
        total(&app, token, "&status=returned").await
    );
    assert_eq!(
        stats["repeat_returns"].as_i64().unwrap(),
        total(&app, token, "&repeat_return=true").await
    );
    assert_eq!(stats["repeat_returns"], 1);

    let dimensions = [
        ("by_funding_source", "funding_scope"),
        ("by_origin_province", "origin_region"),
        ("by_regency", "origin_region"),
        ("by_category", "category"),
        ("by_entry_point", "entry_point"),
        ("by_status", "status"),
    ];
    for (group, filter) in dimensions {
        let mut sum = 0;
        for row in stats[group].as_array().unwrap() {
            let key = row["key"].as_str().unwrap();
            assert_eq!(
                row["received"].as_i64().unwrap(),
                total(&app, token, &format!("&{filter}={key}")).await,
                "{group} {key}"
            );
            sum += row["received"].as_i64().unwrap();
        }
        assert_eq!(sum, 11, "{group} adds up to the whole");
    }
    for row in stats["by_month"].as_array().unwrap() {
        let month = row["key"].as_str().unwrap();
        let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").unwrap();
        let last = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap()
            .pred_opt()
            .unwrap();
        let url = format!(
            "/api/v1/cases?with_total=true&limit=1&arrived_from={first}&arrived_to={last}&handling_province=61"
        );
        assert_eq!(
            row["received"],
            app.get(&url, Some(token)).await.json()["total"],
            "month {month}"
        );
    }
    let scopes = stats["by_origin_scope"].as_array().unwrap();
    let inside = scopes.iter().find(|s| s["key"] == "in_province").unwrap();
    let outside = scopes
        .iter()
        .find(|s| s["key"] == "out_of_province")
        .unwrap();
    assert_eq!(
        (inside["received"].as_i64(), outside["received"].as_i64()),
        (Some(7), Some(4))
    );
    assert_eq!(
        inside["percent_of_received"].as_f64().unwrap()
            + outside["percent_of_received"].as_f64().unwrap(),
        100.0
    );
    let pontianak = stats["by_regency"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "61.71")
        .unwrap()
        .clone();
    assert_eq!(pontianak["name"], "Kota Pontianak");
    assert_eq!(pontianak["received"], 3);
}

#[actix_web::test]
async fn the_secretariat_reads_reports_but_not_cases_and_a_regency_sees_its_own() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let records: Vec<Value> = ["61.71", "61.01", "35.07"]
        .iter()
        .enumerate()
        .map(|(n, o)| new_case(n as u32, o))
        .collect();
    app.post(
        "/api/v1/cases/batch",
        &json!({"records": records}),
        Some(&k.push_client),
    )
    .await;
    let kesra = app
        .create_agency(
            "KESRA-KALBAR",
            AgencyKind::ProvincialSecretariat,
            Some("61"),
        )
        .await;
    let (_, secretariat) = app
        .user_token(kesra, "kesra.kalbar", vec![Role::Viewer])
        .await;
    let url = "/api/v1/stats/returns?from=2019-01-01&to=2019-12-31";
    assert_eq!(app.get(url, Some(&secretariat)).await.json()["received"], 3);
    app.get("/api/v1/cases", Some(&secretariat))
        .await
        .assert_problem(403);
    assert_eq!(
        app.get(url, Some(&k.pontianak_viewer)).await.json()["received"],
        1
    );
    app.get(url, Some(&k.push_client)).await.assert_problem(403);
    app.get(
        "/api/v1/stats/returns?from=2019-12-31&to=2019-01-01",
        Some(&secretariat),
    )
    .await
    .assert_problem(400);
    app.get(
        "/api/v1/stats/returns?from=2019-01-01&to=2019-12-31&handling_province=61.71",
        Some(&secretariat),
    )
    .await
    .assert_problem(400);
}

#[actix_web::test]
async fn a_period_without_returns_answers_zeros() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let response = app
        .get(
            "/api/v1/stats/returns?from=2019-01-01&to=2019-12-31",
            Some(&k.case_worker),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let stats = response.json();
    assert_eq!(stats["received"], 0);
    assert_eq!(stats["returned"], 0);
    assert_eq!(stats["repeat_returns"], 0);
    assert_eq!(stats["by_regency"], json!([]));
}
