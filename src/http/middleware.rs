//! The middleware every request passes: request id, problem bodies, security headers, access log.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::ResponseError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

use futures_util::FutureExt;

use crate::error::{ApiError, LoggedCause, PROBLEM_JSON, Problem};

/// The request header carrying a request id, echoed in the response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, stored in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Takes the caller's `X-Request-Id` (if it is a sane token) or makes one.
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Wraps every request: assigns its id, turns every error into a problem
/// document with `instance` and `request_id`, sets the security headers and
/// writes one access-log line.
pub async fn request_envelope(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = request_id_of(&req);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().clone();
    let path = req.path().to_owned();

    // A panic anywhere below is a bug, but it must still be answered (500, as
    // a problem document) instead of dropping the connection; the worker lives on.
    // The request cannot be kept for the answer (routing needs it unshared),
    // so the answer is an error that renders its whole problem document itself;
    // actix sends an error's own response.
    let mut res = match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(res) => res?.map_into_boxed_body(),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            log::error!(
                "{method} {path} 500 {:.1}ms request_id={request_id} cause: panic: {message}",
                started.elapsed().as_secs_f64() * 1000.0
            );
            return Err(Panicked { path, request_id }.into());
        }
    };

    let status = res.status();
    if status.as_u16() >= 400 && !is_problem(&res) {
        res = render_problem(res, &path, &request_id);
    }
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !path.starts_with("/swagger-ui") {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }

    let elapsed = started.elapsed();
    let cause = res.response().extensions().get::<LoggedCause>().cloned();
    match cause {
        Some(LoggedCause(cause)) if status.is_server_error() => log::error!(
            "{method} {path} {} {:.1}ms request_id={request_id} cause: {cause}",
            status.as_u16(),
            elapsed.as_secs_f64() * 1000.0
        ),
        _ => log::info!(
            "{method} {path} {} {:.1}ms request_id={request_id}",
            status.as_u16(),
            elapsed.as_secs_f64() * 1000.0
        ),
    }
    Ok(res)
}

/// The answer to a request whose handler panicked: a 500 problem document.
#[derive(Debug, thiserror::Error)]
#[error("the handler panicked")]
struct Panicked {
    path: String,
    request_id: String,
}

impl ResponseError for Panicked {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> actix_web::HttpResponse<BoxBody> {
        let mut problem = ApiError::internal_msg("panic").to_problem();
        problem.instance = Some(self.path.clone());
        problem.request_id = Some(self.request_id.clone());
        let mut response = actix_web::HttpResponse::InternalServerError();
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        response.insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
        if let Ok(value) = HeaderValue::from_str(&self.request_id) {
            response.insert_header((REQUEST_ID, value));
        }
        response.body(serde_json::to_vec(&problem).unwrap_or_default())
    }
}

fn is_problem(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}

/// Replaces an error response's body with its problem document.
fn render_problem(
    res: ServiceResponse<BoxBody>,
    path: &str,
    request_id: &str,
) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let mut problem = res
        .response()
        .extensions()
        .get::<Problem>()
        .cloned()
        .unwrap_or_else(|| {
            // A failure raised by actix itself or by a library: keep its message for
            // client errors (it describes the request), never for server errors.
            let mut problem = Problem::for_status(status);
            if status.is_client_error() {
                problem.detail = res
                    .response()
                    .error()
                    .map(|e| e.to_string())
                    .filter(|d| !d.is_empty());
            } else if let Some(error) = res.response().error() {
                log::error!("{path} request_id={request_id} unhandled error: {error}");
            }
            problem
        });
    problem.instance = Some(path.to_owned());
    problem.request_id = Some(request_id.to_owned());
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    res.map_body(|head, _| {
        head.headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        head.headers.remove(header::CONTENT_LENGTH);
        head.headers.remove(header::CONTENT_ENCODING);
        BoxBody::new(body)
    })
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, test, web};

    use super::*;

    async fn panics() -> HttpResponse {
        panic!("a bug in a handler")
    }

    #[actix_web::test]
    async fn a_panicking_handler_is_answered_with_a_500_problem_and_the_service_lives_on() {
        let app = test::init_service(
            App::new()
                .route("/boom", web::get().to(panics))
                .route("/fine", web::get().to(HttpResponse::NoContent))
                .wrap(from_fn(request_envelope)),
        )
        .await;
        for _ in 0..2 {
            // What actix's dispatcher does with a service error: send its own response.
            let error =
                test::try_call_service(&app, test::TestRequest::get().uri("/boom").to_request())
                    .await
                    .unwrap_err();
            let res = error.error_response();
            assert_eq!(res.status().as_u16(), 500);
            assert_eq!(
                res.headers().get(header::CONTENT_TYPE).unwrap(),
                PROBLEM_JSON
            );
            let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["type"], "/problems/internal");
            assert_eq!(body["instance"], "/boom");
            assert!(!body.to_string().contains("a bug in a handler"));
        }
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/fine").to_request()).await;
        assert_eq!(res.status().as_u16(), 204);
    }
}
