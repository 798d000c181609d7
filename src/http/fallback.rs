//! What answers when no route matches: 404, or 405 with `Allow` when the path
//! exists with other methods.
//!
//! The table of paths and methods is taken from the generated OpenAPI document,
//! which utoipa-actix-web builds from the very routes the app registers, so
//! the two cannot disagree.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

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

    /// The methods allowed on `path`: those of the documented path template
    /// that matches it best, as the router picks it (a static segment wins
    /// over `{id}` at the first place they differ). `HEAD` is allowed wherever
    /// `GET` is.
    pub fn allowed_methods(&self, path: &str) -> Option<Vec<String>> {
        let wanted = split(path);
        let (_, methods) = self
            .routes
            .iter()
            .filter(|(template, _)| matches(template, &wanted))
            .min_by_key(|(template, _)| template.iter().map(|s| is_param(s)).collect::<Vec<_>>())?;
        let mut allowed = methods.clone();
        if allowed.iter().any(|m| m == "GET") && !allowed.iter().any(|m| m == "HEAD") {
            allowed.push("HEAD".to_owned());
        }
        allowed.sort();
        Some(allowed)
    }
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
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
            .all(|(t, p)| t == p || (is_param(t) && !p.is_empty()))
}

/// Answers before routing what the router would get wrong: a method the best
/// matching documented path does not allow is a 405 with that path's `Allow`
/// (so `PATCH /budgets/summary` is not taken for `PATCH /budgets/{id}` and a
/// 400 about a UUID). Paths outside the document (Swagger UI) pass untouched.
pub async fn route_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let allowed = req
        .app_data::<web::Data<RouteTable>>()
        .and_then(|table| table.allowed_methods(req.path()));
    let Some(allowed) = allowed else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let method = req.method().clone();
    if method == Method::OPTIONS {
        // CORS preflights are answered by the CORS layer outside this one.
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    if !allowed.iter().any(|m| m == method.as_str()) {
        let (http, _) = req.into_parts();
        let response = ApiError::method_not_allowed(allowed).error_response();
        return Ok(ServiceResponse::new(http, response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Serves `HEAD` on a documented `GET` route as the `GET`, without its body.
/// The outermost layer: it changes the request's method, which only the
/// request's sole owner may do.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let serves_get = req.method() == Method::HEAD
        && req
            .app_data::<web::Data<RouteTable>>()
            .and_then(|table| table.allowed_methods(req.path()))
            .is_some_and(|allowed| allowed.iter().any(|m| m == "GET"));
    if !serves_get {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    req.head_mut().method = Method::GET;
    let response = next.call(req).await?;
    Ok(response.map_body(|_, _| BoxBody::new(())))
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
            Some(vec!["GET".into(), "HEAD".into(), "PATCH".into()])
        );
    }

    #[test]
    fn a_static_segment_wins_over_a_parameter() {
        let mut table = table();
        table
            .routes
            .push((split("/api/v1/cases/batch"), vec!["POST".into()]));
        assert_eq!(
            table.allowed_methods("/api/v1/cases/batch"),
            Some(vec!["POST".into()])
        );
        assert_eq!(
            table.allowed_methods("/api/v1/cases"),
            Some(vec!["GET".into(), "HEAD".into(), "POST".into()])
        );
    }

    #[test]
    fn an_unknown_path_has_none() {
        assert_eq!(table().allowed_methods("/api/v1/nothing"), None);
        assert_eq!(table().allowed_methods("/api/v1/cases/1/2"), None);
    }
}
