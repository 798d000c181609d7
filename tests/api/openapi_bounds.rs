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
            wrong.push(format!(
                "GET {path}: limit has no minimum and maximum: {schema}"
            ));
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

#[actix_web::test]
async fn every_patterned_query_parameter_takes_its_example_and_refuses_what_breaks_the_pattern() {
    let app = TestApp::spawn().await;
    let f = fixtures(&app).await;
    let doc = serde_json::to_value(pulang::openapi::openapi()).unwrap();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let parameters = op["parameters"].as_array().cloned().unwrap_or_default();
        let path_values: Vec<(String, String)> = parameters
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                let name = p["name"].as_str().unwrap().to_owned();
                let value = real_param(&f, path, &name);
                (name, value)
            })
            .collect();
        let mut uri = fill(path, &path_values);
        // Required query parameters, with their examples.
        let required: Vec<String> = parameters
            .iter()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| {
                let example = p["example"].clone();
                let example = if example.is_null() {
                    p["schema"]["examples"][0].clone()
                } else {
                    example
                };
                let value = example
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or(example.to_string());
                format!("{}={value}&", p["name"].as_str().unwrap())
            })
            .collect();
        uri = format!("{uri}?{}", required.concat());
        for parameter in parameters.iter().filter(|p| p["in"] == "query") {
            let schema = match parameter["schema"]["$ref"].as_str() {
                Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap().clone(),
                None => parameter["schema"].clone(),
            };
            let Some(pattern) = schema["pattern"].as_str() else {
                continue;
            };
            let name = parameter["name"].as_str().unwrap();
            let good = parameter["example"]
                .as_str()
                .or(schema["examples"][0].as_str())
                .unwrap_or_else(|| panic!("GET {path} {name}: no example"));
            let re = regex_lite(pattern);
            assert!(
                re(good),
                "GET {path} {name}: the example {good} breaks {pattern}"
            );
            // One digit short of a province code: outside every region pattern.
            for (value, accepted) in [(good, true), ("6", false), ("61.7x", false)] {
                assert_eq!(re(value), accepted, "{pattern} and {value}");
                let response = app
                    .get(&format!("{uri}{name}={value}"), Some(&f.token))
                    .await;
                let refused = response.status == 400 && names(&response.json(), name);
                if refused == accepted || accepted && response.status != 200 {
                    wrong.push(format!(
                        "GET {path}?{name}={value}: {} {}",
                        response.status,
                        response.text().chars().take(200).collect::<String>()
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} patterned query parameters");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The region-code pattern as a matcher, so the test does not need a regex
/// crate: it knows only the one pattern the document uses for query values.
fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool {
    assert_eq!(
        pattern, r"^[0-9]{2}(\.?[0-9]{2})?$",
        "a new pattern: teach regex_lite about it"
    );
    |value: &str| {
        let digits: String = value.chars().filter(|c| *c != '.').collect();
        let dots = value.len() - digits.len();
        digits.chars().all(|c| c.is_ascii_digit())
            && (digits.len() == 2 && dots == 0
                || digits.len() == 4 && (dots == 0 || dots == 1 && value.as_bytes()[2] == b'.'))
    }
}

/// The schema of a property, with a `$ref` resolved.
fn resolved<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap(),
        None => schema,
    }
}

#[actix_web::test]
async fn every_bounded_body_field_is_taken_at_its_bound_and_refused_past_it() {
    use actix_web::test::TestRequest;
    let app = TestApp::spawn().await;
    let f = fixtures(&app).await;
    let doc = serde_json::to_value(pulang::openapi::openapi()).unwrap();
    let mut checked = Vec::new();
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let content = &op["requestBody"]["content"]["application/json"];
            let schema = resolved(&doc, &content["schema"]);
            let Some(example) = content["example"]
                .as_object()
                .or(schema["example"].as_object())
                .cloned()
            else {
                continue;
            };
            let path_values: Vec<(String, String)> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    let name = p["name"].as_str().unwrap().to_owned();
                    let value = real_param(&f, path, &name);
                    (name, value)
                })
                .collect();
            let uri = fill(path, &path_values);
            for (field, property) in schema["properties"].as_object().into_iter().flatten() {
                let property = resolved(&doc, property);
                let mut trials: Vec<(Value, bool)> = Vec::new();
                if let (Some(max), Some(first)) = (
                    property["maxItems"].as_u64(),
                    example.get(field).and_then(|v| v.get(0)),
                ) {
                    let items = |n: u64| Value::Array((0..n).map(|_| first.clone()).collect());
                    trials.push((items(max), true));
                    trials.push((items(max + 1), false));
                }
                let email = property["format"] == "email";
                let plain_text = (property["format"].is_null() || email)
                    && property["enum"].is_null()
                    && property["pattern"].is_null();
                if let (Some(max), true) = (property["maxLength"].as_u64(), plain_text) {
                    let text = |n: u64| {
                        Value::String(if email {
                            format!("{}@x.id", "a".repeat(n as usize - 5))
                        } else {
                            "a".repeat(n as usize)
                        })
                    };
                    trials.push((text(max), true));
                    trials.push((text(max + 1), false));
                }
                if let (Some(min), true) = (property["minLength"].as_u64(), plain_text)
                    && min > 0
                {
                    let text = |n: u64| Value::String("a".repeat(n as usize));
                    trials.push((text(min), true));
                    trials.push((text(min - 1), false));
                }
                if let Some(max) = property["maximum"].as_i64() {
                    trials.push((max.into(), true));
                    trials.push(((max + 1).into(), false));
                }
                if let Some(min) = property["minimum"].as_i64() {
                    trials.push((min.into(), true));
                    trials.push(((min - 1).into(), false));
                }
                if property["pattern"].is_string()
                    && let Some(good) = example.get(field)
                {
                    trials.push((good.clone(), true));
                    trials.push((Value::String("6".into()), false));
                }
                let trials_empty = trials.is_empty();
                for (value, accepted) in trials {
                    let mut body = example.clone();
                    body.insert(field.clone(), value);
                    let mut request = TestRequest::default()
                        .method(method.to_uppercase().parse().unwrap())
                        .uri(&uri)
                        .set_json(Value::Object(body));
                    if method == "patch" {
                        let current = app.get(&uri, Some(&f.token)).await;
                        if let Some(etag) = current.header("etag") {
                            request = request.insert_header(("if-match", etag));
                        }
                    }
                    let response = app
                        .call(crate::helpers::with_token(request, Some(&f.token)))
                        .await;
                    let refused = matches!(response.status.as_u16(), 400 | 422)
                        && names(&response.json(), field);
                    if refused == accepted {
                        wrong.push(format!(
                            "{method} {path} {field} ({}): {} {}",
                            if accepted { "at the bound" } else { "past it" },
                            response.status,
                            response.text().chars().take(200).collect::<String>()
                        ));
                    }
                }
                if !trials_empty {
                    checked.push(format!("{method} {path} {field}"));
                }
            }
        }
    }
    assert!(
        checked.len() > 30
            && checked
                .iter()
                .any(|c| c.ends_with("/api/v1/cases/batch records")),
        "{checked:#?}"
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[actix_web::test]
async fn every_one_of_request_variant_is_taken_whole_and_refused_without_each_required_field() {
    let app = TestApp::spawn().await;
    let doc = serde_json::to_value(pulang::openapi::openapi()).unwrap();
    let mut checked = Vec::new();
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("post") else { continue };
        let schema = resolved(
            &doc,
            &op["requestBody"]["content"]["application/json"]["schema"],
        );
        let Some(variants) = schema["oneOf"].as_array() else {
            continue;
        };
        let tag = schema["discriminator"]["propertyName"]
            .as_str()
            .unwrap_or_else(|| panic!("POST {path}: a oneOf without a discriminator"));
        for variant in variants {
            let variant = resolved(&doc, variant);
            let example = variant["examples"][0].clone();
            assert!(
                example.is_object(),
                "POST {path}: a variant without an example"
            );
            let whole = app.post(path, &example, None).await;
            if matches!(whole.status.as_u16(), 400 | 422) {
                wrong.push(format!(
                    "POST {path} {example}: {} {}",
                    whole.status,
                    whole.text()
                ));
            }
            for field in variant["required"].as_array().unwrap() {
                let field = field.as_str().unwrap();
                if field == tag {
                    continue;
                }
                let mut body = example.clone();
                body.as_object_mut().unwrap().remove(field);
                let response = app.post(path, &body, None).await;
                if !(response.status == 422 && names(&response.json(), field)) {
                    wrong.push(format!(
                        "POST {path} without {field}: {} {}",
                        response.status,
                        response.text()
                    ));
                }
            }
            checked.push(format!("{path} {}", example[tag]));
        }
    }
    assert!(checked.len() >= 2, "{checked:?}");
    assert!(wrong.is_empty(), "{wrong:#?}");
}
