//! The committed OpenAPI document must be what the code generates.

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = pulang::openapi::openapi().to_pretty_json().unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale; regenerate it with `cargo run -- openapi --output openapi/openapi.json`"
    );
}

#[actix_web::test]
async fn the_served_document_is_the_generated_one_and_swagger_ui_loads() {
    let app = crate::helpers::TestApp::spawn().await;
    let served = app.get("/api-docs/openapi.json", None).await;
    assert_eq!(served.status, 200);
    assert_eq!(
        served.json(),
        serde_json::to_value(pulang::openapi::openapi()).unwrap()
    );
    let ui = app.get("/swagger-ui/", None).await;
    assert_eq!(ui.status, 200);
    assert!(ui.text().contains("swagger-ui"));
    let init = app.get("/swagger-ui/swagger-initializer.js", None).await;
    assert!(init.text().contains("/api-docs/openapi.json"));
}
