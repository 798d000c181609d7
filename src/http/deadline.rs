//! The request deadline: a request that has not produced its response head
//! within its limit is answered 504 with a problem document naming the limit.
//!
//! The handler's future is dropped at the deadline. A transaction it held is
//! then left open in diesel-async's transaction manager, so the pool closes
//! that connection rather than reuse it and PostgreSQL rolls it back; a single
//! statement still running is ended by the statement or lock timeout, which
//! are shorter than the deadline by default. A streamed export's body is not
//! under the deadline (its pages are under the report statement timeout).

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError, web};

use crate::config::Settings;
use crate::error::{ApiError, PROBLEM_JSON, Problem};
use crate::http::middleware::{REQUEST_ID, RequestId, request_id_of};
use crate::state::AppState;

/// The longest `wait` of `GET /api/v1/events`, added to its deadline.
const LONGEST_EVENT_WAIT: Duration = Duration::from_secs(30);

/// The deadline of a request and the variable that sets it.
fn deadline_for(req: &ServiceRequest, settings: &Settings) -> (Duration, &'static str) {
    let path = req.path();
    let report = path.starts_with("/api/v1/stats/")
        || (req.method() == Method::GET
            && (path == "/api/v1/cases" || path == "/api/v1/transfers")
            && crate::http::csv::wants_csv(req.request()));
    if report {
        (
            settings.report_request_timeout,
            "PULANG_REPORT_REQUEST_TIMEOUT_MS",
        )
    } else if path == "/api/v1/events" {
        (
            settings.request_timeout + LONGEST_EVENT_WAIT,
            "PULANG_REQUEST_TIMEOUT_MS plus the longest event wait",
        )
    } else {
        (settings.request_timeout, "PULANG_REQUEST_TIMEOUT_MS")
    }
}

/// Runs the request under its deadline. This middleware is the innermost,
/// around the routes, so that the request envelope (request id, access log)
/// and CORS stay outside it. At the deadline the handler went with the request
/// object, so the 504 is returned as the service's error, rendered whole here
/// (problem document under the request's id); the layers outside add their
/// headers to it as to any error.
pub async fn request_deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let (limit, name) = deadline_for(&req, &state.settings);
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map_or_else(|| request_id_of(&req), |id| id.0.clone());
    let path = req.path().to_owned();
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(response) => Ok(response?.map_into_boxed_body()),
        Err(_) => {
            let error = ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "the request did not finish within its deadline of {} ms ({name}) and was \
                     stopped; a change it had not committed was rolled back; sending it again is \
                     safe (with the same Idempotency-Key for a create)",
                    limit.as_millis()
                ),
            )
            .with_extension(crate::error::ProblemMember::Limit, name.into())
            .with_extension(
                crate::error::ProblemMember::LimitMs,
                (limit.as_millis() as u64).into(),
            );
            let mut problem = error.to_problem();
            problem.instance = Some(path);
            problem.request_id = Some(request_id.clone());
            log::warn!(
                "request_id={request_id} stopped at its deadline of {} ms ({name})",
                limit.as_millis()
            );
            Err(DeadlineExceeded {
                problem,
                request_id,
            }
            .into())
        }
    }
}

/// The 504 answer, whole: returned as the service's error, since the request
/// went with the handler that was stopped.
#[derive(Debug)]
struct DeadlineExceeded {
    problem: Problem,
    request_id: String,
}

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            self.problem
                .detail
                .as_deref()
                .unwrap_or("deadline exceeded"),
        )
    }
}

impl ResponseError for DeadlineExceeded {
    fn status_code(&self) -> StatusCode {
        StatusCode::GATEWAY_TIMEOUT
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(StatusCode::GATEWAY_TIMEOUT);
        response
            .content_type(PROBLEM_JSON)
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if let Ok(value) = HeaderValue::from_str(&self.request_id) {
            response.insert_header((REQUEST_ID, value));
        }
        response.body(serde_json::to_vec(&self.problem).unwrap_or_default())
    }
}
