//! Regions: the shipped reference data, and codes accepted dotted or plain.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pulang::agencies::AgencyKind;
use pulang::auth::Role;

use crate::helpers::TestApp;

#[actix_web::test]
async fn regions_match_the_shipped_csv() {
    let app = TestApp::spawn().await;
    let csv = include_str!("../../data/regions.csv");
    let mut expected: Vec<(String, String, Option<String>, String)> = csv
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.splitn(4, ',').collect();
            (
                f[0].into(),
                f[1].into(),
                Some(f[2].to_owned()).filter(|p| !p.is_empty()),
                f[3].into(),
            )
        })
        .collect();
    expected.sort();
    use pulang::schema::regions;
    let actual: Vec<(String, String, Option<String>, String)> = regions::table
        .order(regions::code)
        .select((
            regions::code,
            regions::level,
            regions::parent_code,
            regions::name,
        ))
        .load(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(actual.len(), 552);
    assert_eq!(actual.iter().filter(|r| r.1 == "province").count(), 38);
    assert_eq!(actual, expected);
}

#[actix_web::test]
async fn a_province_lists_its_regencies() {
    let app = TestApp::spawn().await;
    let token = app
        .token_for(AgencyKind::Other, None, vec![Role::Viewer])
        .await;
    let response = app
        .get("/api/v1/regions?province=61&limit=50", Some(&token))
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let items = response.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 14);
    assert!(
        items
            .iter()
            .all(|r| r["parent_code"] == "61" && r["level"] == "regency")
    );
    let search = app
        .get("/api/v1/regions?q=pontianak", Some(&token))
        .await
        .json();
    assert_eq!(search["items"][0]["code"], "61.71");
}

#[actix_web::test]
async fn codes_are_accepted_plain_or_dotted_and_answered_dotted() {
    let app = TestApp::spawn().await;
    let token = app
        .token_for(AgencyKind::Other, None, vec![Role::Viewer])
        .await;
    for code in ["6171", "61.71"] {
        let response = app
            .get(&format!("/api/v1/regions/{code}"), Some(&token))
            .await;
        assert_eq!(response.status, 200);
        assert_eq!(response.json()["code"], "61.71");
        assert_eq!(response.json()["name"], "Kota Pontianak");
    }
    app.get("/api/v1/regions/99.99", Some(&token))
        .await
        .assert_problem(404);
    let bad = app
        .get("/api/v1/regions/abc", Some(&token))
        .await
        .assert_problem(400);
    assert_eq!(bad["errors"][0]["field"], "code");
}

#[actix_web::test]
async fn the_region_list_pages_with_a_cursor() {
    let app = TestApp::spawn().await;
    let token = app
        .token_for(AgencyKind::Other, None, vec![Role::Viewer])
        .await;
    let mut seen = Vec::new();
    let mut url = "/api/v1/regions?level=province&limit=10".to_owned();
    loop {
        let page = app.get(&url, Some(&token)).await.json();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/regions?level=province&limit=10&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 38);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "pages overlap or are out of order");
    app.get("/api/v1/regions?limit=0", Some(&token))
        .await
        .assert_problem(400);
    app.get("/api/v1/regions?cursor=forged", Some(&token))
        .await
        .assert_problem(400);
}
