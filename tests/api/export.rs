//! CSV export of cases: the list's filters and scope, safe in spreadsheets.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::helpers::{TestApp, new_case, with_token};

async fn csv(app: &TestApp, token: &str, query: &str) -> (String, Option<String>) {
    let request = TestRequest::get()
        .uri(&format!("/api/v1/cases{query}"))
        .insert_header(("Accept", "text/csv"));
    let response = app.call(with_token(request, Some(token))).await;
    assert_eq!(response.status, 200, "{}", response.text());
    (response.text(), response.header("content-type"))
}

#[actix_web::test]
async fn the_export_has_every_matching_case_and_no_live_formulas() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let mut records: Vec<Value> = (0..2105u32)
        .map(|n| new_case(n, if n % 5 == 0 { "61.71" } else { "35.07" }))
        .collect();
    records[0]["person"]["full_name"] = json!("=HYPERLINK(\"http://evil.example\",\"click\")");
    records[0]["origin_address"] = json!("Jl. Tanjungpura, Pontianak");
    records[0]["notes"] = json!("@SUM(1+1)");
    for chunk in records.chunks(1000) {
        let r = app
            .post(
                "/api/v1/cases/batch",
                &json!({"records": chunk}),
                Some(&k.push_client),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let (body, content_type) = csv(&app, &k.case_worker, "").await;
    assert_eq!(content_type.as_deref(), Some("text/csv; charset=utf-8"));
    assert!(body.starts_with('\u{feff}'), "UTF-8 byte-order mark");
    let lines: Vec<&str> = body
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .collect();
    assert!(lines[0].starts_with("case_number,full_name,nik"));
    assert_eq!(
        lines.len(),
        1 + 2105,
        "a header and every case, across several internal pages"
    );
    let evil = lines.iter().find(|l| l.contains("HYPERLINK")).unwrap();
    assert!(
        evil.contains("\"'=HYPERLINK("),
        "the formula is neutralised: {evil}"
    );
    assert!(
        lines.iter().any(|l| l.contains(",2019-")),
        "times as spreadsheet dates"
    );
    assert!(!body.contains("T08:00:00Z"), "no RFC 3339 times in the CSV");

    // The same filters and scope as the list.
    let (filtered, _) = csv(&app, &k.case_worker, "?origin_region=61.71").await;
    assert_eq!(
        filtered.split("\r\n").filter(|l| !l.is_empty()).count(),
        1 + 421
    );
    let (regency, _) = csv(&app, &k.pontianak_viewer, "").await;
    assert_eq!(
        regency.split("\r\n").filter(|l| !l.is_empty()).count(),
        1 + 421
    );
    let request = TestRequest::get()
        .uri("/api/v1/cases?status=nonsense")
        .insert_header(("Accept", "text/csv"));
    app.call(with_token(request, Some(&k.case_worker)))
        .await
        .assert_problem(400);
}
