//! The OpenAPI document as a contract other systems build against: it must be
//! valid and complete on its own, whatever the handlers say.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

fn document() -> Value {
    serde_json::to_value(pulang::openapi::openapi()).unwrap()
}

/// Every `(method, path, operation)` of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

fn collect_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "$ref"
                    && let Some(r) = inner.as_str()
                {
                    out.insert(r.to_owned());
                }
                collect_refs(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

/// Follows a local JSON pointer such as `#/components/schemas/Case`.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

#[test]
fn every_ref_in_the_document_resolves() {
    let doc = document();
    let mut refs = BTreeSet::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 20, "the document uses references");
    let broken: Vec<_> = refs.iter().filter(|r| resolve(&doc, r).is_none()).collect();
    assert!(broken.is_empty(), "unresolvable $ref: {broken:?}");
}

#[test]
fn no_schema_name_is_used_by_two_different_types() {
    let mut by_name: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    for (handler, name, schema) in pulang::openapi::schema_contributions() {
        by_name
            .entry(name)
            .or_default()
            .push((handler, serde_json::to_value(schema).unwrap()));
    }
    assert!(by_name.contains_key("CaseTransitionRequest"));
    let mut clashes = Vec::new();
    for (name, uses) in &by_name {
        let first = &uses[0];
        for other in &uses[1..] {
            if other.1 != first.1 {
                clashes.push(format!("{name}: {} and {}", first.0, other.0));
            }
        }
    }
    assert!(
        clashes.is_empty(),
        "one schema name, two different types (rename one, or use #[schema(as = ...)]): {clashes:#?}"
    );
}

#[test]
fn every_component_schema_is_used() {
    let doc = document();
    let mut refs = BTreeSet::new();
    collect_refs(&doc, &mut refs);
    let unused: Vec<_> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|name| !refs.contains(&format!("#/components/schemas/{name}")))
        .collect();
    assert!(unused.is_empty(), "schemas no operation uses: {unused:?}");
}

#[test]
fn every_operation_has_an_id_a_summary_a_description_and_a_success_example() {
    let doc = document();
    let mut ids = BTreeSet::new();
    let mut missing = Vec::new();
    for (method, path, op) in operations(&doc) {
        let at = format!("{method} {path}");
        match op["operationId"].as_str() {
            Some(id) if ids.insert(id.to_owned()) => {}
            Some(id) => missing.push(format!("{at}: operationId {id} is used twice")),
            None => missing.push(format!("{at}: no operationId")),
        }
        for field in ["summary", "description"] {
            if op[field].as_str().is_none_or(|s| s.trim().is_empty()) {
                missing.push(format!("{at}: no {field}"));
            }
        }
        let successes: Vec<_> = op["responses"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(status, _)| status.starts_with('2'))
            .collect();
        if successes.is_empty() {
            missing.push(format!("{at}: no success response"));
        }
        for (status, response) in successes {
            for (media_type, content) in response["content"].as_object().into_iter().flatten() {
                let has_example = content.get("example").is_some_and(|e| !e.is_null())
                    || content["examples"]
                        .as_object()
                        .is_some_and(|e| !e.is_empty());
                if media_type.ends_with("json") && !has_example {
                    missing.push(format!("{at}: {status} {media_type} has no example"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn every_operation_documents_the_errors_it_can_answer() {
    let doc = document();
    let mut missing = Vec::new();
    for (method, path, op) in operations(&doc) {
        let at = format!("{method} {path}");
        let responses = op["responses"].as_object().unwrap();
        let public = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().all(|r| r == &serde_json::json!({})));
        let has_params = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
        let has_path_params = op["parameters"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["in"] == "path"));
        let has_body = op.get("requestBody").is_some();
        let mut expected = vec!["429", "500", "503"];
        if !public {
            expected.extend(["401", "403"]);
        }
        if has_params || has_body {
            expected.push("400");
        }
        if has_path_params {
            expected.push("404");
        }
        if has_body {
            expected.extend(["413", "415", "422"]);
        }
        for status in expected {
            match responses.get(status) {
                None => missing.push(format!("{at}: no {status}")),
                Some(r) if r["content"]["application/problem+json"].is_null() => {
                    missing.push(format!("{at}: {status} is not a problem document"))
                }
                Some(_) => {}
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn the_document_names_a_local_and_a_relative_server() {
    let doc = document();
    let urls: Vec<&str> = doc["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .filter_map(|s| s["url"].as_str())
        .collect();
    assert!(urls.contains(&"http://127.0.0.1:8080"), "{urls:?}");
    assert!(urls.contains(&"/"), "{urls:?}");
}

#[test]
fn pages_refer_to_their_item_schema_instead_of_copying_it() {
    let doc = document();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut copies = Vec::new();
    for (name, schema) in schemas {
        let Some(item) = name.strip_prefix("Page_") else {
            continue;
        };
        if schemas.contains_key(item)
            && schema["properties"]["items"]["items"]["$ref"]
                != format!("#/components/schemas/{item}").as_str()
        {
            copies.push(name.clone());
        }
    }
    assert!(copies.is_empty(), "pages that copy their item: {copies:?}");
}

/// The header names the document lists for the answer `status` of `method` on
/// the concrete `path` (a template such as `/api/v1/budgets/{id}/ledger`
/// matches `/api/v1/budgets/<uuid>/ledger`).
pub fn documented_headers(method: &str, path: &str, status: u16) -> Vec<String> {
    let doc = document();
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let (_, item) = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(template, _)| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || t.starts_with('{'))
        })
        .unwrap_or_else(|| panic!("{path} is not in the document"));
    item[method.to_lowercase()]["responses"][status.to_string()]["headers"]
        .as_object()
        .map(|h| h.keys().cloned().collect())
        .unwrap_or_default()
}
