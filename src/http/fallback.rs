//! What answers when no route matches: 404, or 405 with `Allow` when the path
//! exists with other methods.
//!
//! The table of paths and methods is taken from the generated OpenAPI document,
//! which utoipa-actix-web builds from the very routes the app registers, so
//! the two cannot disagree.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;

/// Every documented path template with the methods it accepts.
#[derive(Debug, Default, Clone)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
}

impl RouteTable {
    /// Builds the table from an OpenAPI document.
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let value = serde_json::to_value(&api.paths).unwrap_or_default();
        let routes = value
            .get("paths")
            .or(Some(&value))
            .and_then(|p| p.as_object())
            .map(|paths| {
                paths
                    .iter()
                    .map(|(path, item)| {
                        let segments = split(path);
                        let mut methods: Vec<String> = item
                            .as_object()
                            .map(|ops| {
                                ops.keys()
                                    .filter(|m| {
                                        ["get", "put", "post", "delete", "patch", "head", "options"]
                                            .contains(&m.as_str())
                                    })
                                    .map(|m| m.to_uppercase())
                                    .collect()
                            })
                            .unwrap_or_default();
                        methods.sort();
                        (segments, methods)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self { routes }
    }

    /// The methods allowed on `path`, if any documented path template matches it.
    pub fn allowed_methods(&self, path: &str) -> Option<Vec<String>> {
        let wanted = split(path);
        let mut allowed: Vec<String> = self
            .routes
            .iter()
            .filter(|(template, _)| matches(template, &wanted))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        if allowed.is_empty() {
            return None;
        }
        allowed.sort();
        allowed.dedup();
        Some(allowed)
    }
}

fn split(path: &str) -> Vec<String> {
    path.trim_end_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect()
}

fn matches(template: &[String], path: &[String]) -> bool {
    template.len() == path.len()
        && template
            .iter()
            .zip(path)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty()))
}

/// The app's default service.
pub async fn no_route(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    Err(match table.allowed_methods(req.path()) {
        Some(allowed) if !allowed.iter().any(|m| m == req.method().as_str()) => {
            ApiError::method_not_allowed(allowed)
        }
        _ => ApiError::not_found(format!("there is no resource at {}", req.path())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable {
            routes: vec![
                (split("/api/v1/cases"), vec!["GET".into(), "POST".into()]),
                (
                    split("/api/v1/cases/{id}"),
                    vec!["GET".into(), "PATCH".into()],
                ),
            ],
        }
    }

    #[test]
    fn a_known_path_lists_its_methods() {
        assert_eq!(
            table().allowed_methods("/api/v1/cases/123"),
            Some(vec!["GET".into(), "PATCH".into()])
        );
    }

    #[test]
    fn an_unknown_path_has_none() {
        assert_eq!(table().allowed_methods("/api/v1/nothing"), None);
        assert_eq!(table().allowed_methods("/api/v1/cases/1/2"), None);
    }
}
