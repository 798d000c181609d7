//! Building the actix application, the same way for the server and the tests.

use actix_cors::Cors;
use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::middleware::from_fn;
use actix_web::{App, web};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::http::deadline::request_deadline;
use crate::http::fallback::{RouteTable, head_as_get, no_route, route_guard};
use crate::http::middleware::{REQUEST_ID, request_envelope};
use crate::openapi::{ApiDoc, finish, routes};
use crate::state::AppState;

/// Builds the application: every route, Swagger UI, the OpenAPI document,
/// CORS, the request envelope and the fallback for unknown routes.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = cors(&state.settings.cors_origins);
    let payload_limit = state.settings.max_body_bytes;
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    let api = finish(api);
    let table = web::Data::new(RouteTable::from_openapi(&api));
    app.app_data(state)
        .app_data(web::PayloadConfig::new(payload_limit))
        .app_data(crate::http::extract::path_config())
        .app_data(table)
        .service(
            SwaggerUi::new("/swagger-ui/{_:.*}")
                .url("/api-docs/openapi.json", api)
                .config(Config::default().try_it_out_enabled(true)),
        )
        .default_service(web::to(no_route))
        .wrap(from_fn(route_guard))
        .wrap(from_fn(request_deadline))
        .wrap(cors)
        .wrap(from_fn(request_envelope))
        .wrap(from_fn(crate::metrics::track))
        .wrap(from_fn(head_as_get))
}

/// CORS for third-party frontends: the configured origins, plus the API's own
/// origin so that Swagger UI works when served from it.
fn cors(origins: &[String]) -> Cors {
    let origins = origins.to_vec();
    Cors::default()
        .allowed_origin_fn(move |origin, head| {
            let Ok(origin) = origin.to_str() else {
                return false;
            };
            if origins.iter().any(|o| o == origin) {
                return true;
            }
            let host = head
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok());
            host.is_some_and(|host| {
                origin == format!("http://{host}") || origin == format!("https://{host}")
            })
        })
        .allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
            REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            REQUEST_ID,
        ])
        .max_age(3600)
}
