//! The document is as strict as the server, no looser and no stricter: for
//! each documented bound, the server takes the value at the bound and refuses
//! the one just past it, naming the parameter or field.

use serde_json::Value;

use crate::helpers::TestApp;
use crate::hostile_input::{fill, fixtures, real_param};

/// Whether a 4xx problem names `name` (in `detail` or in a field error).
fn names(body: &Value, name: &str) -> bool {
    body["detail"].as_str().is_some_and(|d| d.contains(name))
        || body["errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["field"].as_str() == Some(name)))
}

#[actix_web::test]
async fn every_list_takes_limit_at_its_documented_bounds_and_refuses_it_just_past() {
    let app = TestApp::spawn().await;
    let f = fixtures(&app).await;
    let doc = serde_json::to_value(pulang::openapi::openapi()).unwrap();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let parameters = op["parameters"].as_array().cloned().unwrap_or_default();
        let Some(limit) = parameters
            .iter()
            .find(|p| p["name"] == "limit" && p["in"] == "query")
        else {
            continue;
        };
        let schema = &limit["schema"];
        let (Some(min), Some(max)) = (schema["minimum"].as_u64(), schema["maximum"].as_u64())
        else {
            wrong.push(format!("GET {path}: limit has no minimum and maximum: {schema}"));
            continue;
        };
        let path_values: Vec<(String, String)> = parameters
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                let name = p["name"].as_str().unwrap().to_owned();
                let value = real_param(&f, path, &name);
                (name, value)
            })
            .collect();
        let uri = fill(path, &path_values);
        for (value, accepted) in [(min, true), (max, true), (min - 1, false), (max + 1, false)] {
            let response = app
                .get(&format!("{uri}?limit={value}"), Some(&f.token))
                .await;
            let ok = if accepted {
                response.status == 200
            } else {
                response.status == 400 && names(&response.json(), "limit")
            };
            if !ok {
                wrong.push(format!(
                    "GET {path}?limit={value}: {} {}",
                    response.status,
                    response.text().chars().take(200).collect::<String>()
                ));
            }
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} lists have a limit");
    assert!(wrong.is_empty(), "{wrong:#?}");
}
