//! The middleware every request passes: request id, problem bodies, security headers, access log.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::ResponseError;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage};

use futures_util::FutureExt;

use crate::error::{ApiError, LoggedCause, PROBLEM_JSON, Problem};

/// The request header carrying a request id, echoed in the response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, stored in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Takes the caller's `X-Request-Id` (if it is a sane token) or makes one.
pub(crate) fn request_id_of(req: &ServiceRequest) -> String {
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
    let lang = crate::i18n::Lang::negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );

    // A panic anywhere below is a bug, but it must still be answered (500, as
    // a problem document) instead of dropping the connection; the worker lives on.
    // The request cannot be kept for the answer (routing needs it unshared),
    // so the answer is an error that renders its whole problem document itself;
    // actix sends an error's own response.
    let mut res = match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(Ok(res)) => res.map_into_boxed_body(),
        Ok(Err(error)) => {
            // An error of the service itself (the request deadline's 504, a CORS
            // refusal): the server renders it; the access log still gets its line.
            let status = error.as_response_error().status_code();
            let line = AccessLine {
                method: method.to_string(),
                path,
                status: status.as_u16(),
                request_id,
                started,
            };
            if status.is_server_error() {
                line.error(&format!("cause: {error}"));
            } else {
                line.info("");
            }
            return Err(error);
        }
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
        res = render_problem(res, &path, &request_id, lang);
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

    let cause = res.response().extensions().get::<LoggedCause>().cloned();
    let line = AccessLine {
        method: method.to_string(),
        path,
        status: status.as_u16(),
        request_id,
        started,
    };
    if matches!(res.response().body().size(), BodySize::Stream) && status.is_success() {
        // A streamed body (an export) can still fail after its 200 was sent:
        // the access line is written when the body has ended, and says how.
        return Ok(res.map_body(|_, body| {
            BoxBody::new(LoggedBody {
                body,
                line: Some(line),
                bytes: 0,
            })
        }));
    }
    match cause {
        Some(LoggedCause(cause)) if status.is_server_error() => {
            line.error(&format!("cause: {cause}"))
        }
        _ => line.info(""),
    }
    Ok(res)
}

/// What the access log says of one request.
struct AccessLine {
    method: String,
    path: String,
    status: u16,
    request_id: String,
    started: Instant,
}

impl AccessLine {
    fn text(&self, tail: &str) -> String {
        format!(
            "{} {} {} {:.1}ms request_id={}{}{tail}",
            self.method,
            self.path,
            self.status,
            self.started.elapsed().as_secs_f64() * 1000.0,
            self.request_id,
            if tail.is_empty() { "" } else { " " },
        )
    }
    fn info(&self, tail: &str) {
        log::info!("{}", self.text(tail));
    }
    fn error(&self, tail: &str) {
        log::error!("{}", self.text(tail));
    }
}

/// A streamed body that writes its request's access line when it ends:
/// `complete`, `FAILED` (the body broke off after the status line; the client
/// got a truncated transfer) or `ABANDONED` (the client went away).
struct LoggedBody {
    body: BoxBody,
    line: Option<AccessLine>,
    bytes: u64,
}

impl MessageBody for LoggedBody {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.body).poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => this.bytes += chunk.len() as u64,
            Poll::Ready(Some(Err(e))) => {
                if let Some(line) = this.line.take() {
                    line.error(&format!(
                        "FAILED after {} bytes of body, response truncated: {e}",
                        this.bytes
                    ));
                }
            }
            Poll::Ready(None) => {
                if let Some(line) = this.line.take() {
                    line.info(&format!("complete, {} bytes", this.bytes));
                }
            }
            Poll::Pending => {}
        }
        polled
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        if let Some(line) = self.line.take() {
            line.info(&format!(
                "ABANDONED by the client after {} bytes",
                self.bytes
            ));
        }
    }
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
    lang: crate::i18n::Lang,
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
    crate::i18n::localise(&mut problem, lang);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    res.map_body(|head, _| {
        head.headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        head.headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.tag()),
        );
        head.headers
            .append(header::VARY, HeaderValue::from_static("accept-language"));
        head.headers.remove(header::CONTENT_LENGTH);
        head.headers.remove(header::CONTENT_ENCODING);
        BoxBody::new(body)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Mutex, OnceLock};

    use actix_web::body::{BodyStream, to_bytes};

    use super::*;

    /// Keeps every log line, for the tests below (the only logger of the unit tests).
    struct Capture(Mutex<Vec<String>>);

    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            self.0
                .lock()
                .unwrap()
                .push(format!("{} {}", record.level(), record.args()));
        }
        fn flush(&self) {}
    }

    fn lines_about(request_id: &str) -> Vec<String> {
        static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
        let capture = CAPTURE.get_or_init(|| {
            let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
            let _ = log::set_logger(capture);
            log::set_max_level(log::LevelFilter::Trace);
            capture
        });
        let lines = capture.0.lock().unwrap();
        lines
            .iter()
            .filter(|l| l.contains(request_id))
            .cloned()
            .collect()
    }

    fn streamed(request_id: &str, chunks: Vec<Result<Bytes, std::io::Error>>) -> LoggedBody {
        lines_about(request_id);
        LoggedBody {
            body: BoxBody::new(BodyStream::new(futures_util::stream::iter(chunks))),
            line: Some(AccessLine {
                method: "GET".into(),
                path: "/api/v1/cases".into(),
                status: 200,
                request_id: request_id.into(),
                started: Instant::now(),
            }),
            bytes: 0,
        }
    }

    #[tokio::test]
    async fn a_streamed_body_that_breaks_off_is_logged_as_a_failure_not_a_success() {
        let body = streamed(
            "req-broken",
            vec![
                Ok(Bytes::from_static(b"a,b\r\n")),
                Err(std::io::Error::other("the database went away")),
            ],
        );
        assert!(to_bytes(body).await.is_err());
        let lines = lines_about("req-broken");
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("ERROR GET /api/v1/cases 200"),
            "{lines:?}"
        );
        assert!(
            lines[0].contains("FAILED after 5 bytes of body, response truncated"),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn a_streamed_body_is_logged_when_it_has_ended() {
        let body = streamed("req-whole", vec![Ok(Bytes::from_static(b"a,b\r\n"))]);
        assert_eq!(to_bytes(body).await.unwrap().len(), 5);
        let lines = lines_about("req-whole");
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("INFO "), "{lines:?}");
        assert!(lines[0].contains("complete, 5 bytes"), "{lines:?}");
    }

    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, test, web};

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
