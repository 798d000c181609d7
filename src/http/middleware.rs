//! The middleware every request passes: request id, problem bodies, security headers, access log.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

use crate::error::{LoggedCause, PROBLEM_JSON, Problem};

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

    let mut res = next.call(req).await?.map_into_boxed_body();

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
