//! One error shape for every failure: RFC 9457 `application/problem+json`.
//!
//! Handlers return [`ApiResult`]. An [`ApiError`] renders into a [`Problem`]
//! that is stored in the response's extensions; the problem middleware
//! (`http::problem`) then adds the request's path and id and writes the body.
//! Failures raised by actix itself (unknown routes, bad JSON, ...) pass the same
//! middleware, so no response ever carries a framework's default text.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// Result type of handlers and of the code they call.
pub type ApiResult<T> = Result<T, ApiError>;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input field.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as a JSON path into the request (`nik`, `legs[0].mode`) or a query or path parameter.
    #[schema(example = "nik")]
    pub field: String,
    /// What is wrong with it.
    #[schema(example = "must be 16 digits")]
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document, the body of every non-2xx response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem; `/problems/<kind>`, documented in `docs/errors.md`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The path of the request that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The request's id, as in the `X-Request-Id` response header and the server log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For validation failures: every invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extra members of specific problems (for example the allowed transitions of a 409).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ProblemMembers)]
    pub extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An extension member of a problem document. [`ApiError::with_extension`]
/// takes one of these, so a handler cannot add a member that
/// [`ProblemMembers`] (the schema clients see) does not type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemMember {
    /// `reason`
    Reason,
    /// `results`
    Results,
    /// `current`
    Current,
    /// `allowed`
    Allowed,
    /// `limit`
    Limit,
    /// `limit_ms`
    LimitMs,
    /// `budget_id`
    BudgetId,
    /// `available`
    Available,
    /// `shortfall`
    Shortfall,
    /// `committed`
    Committed,
    /// `key`
    Key,
    /// `transfer_id`
    TransferId,
    /// `outstanding`
    Outstanding,
    /// `agreement_id`
    AgreementId,
    /// `dispute_id`
    DisputeId,
    /// `closed_at`
    ClosedAt,
}

impl ProblemMember {
    /// Every member.
    pub const ALL: [Self; 16] = [
        Self::Reason,
        Self::Results,
        Self::Current,
        Self::Allowed,
        Self::Limit,
        Self::LimitMs,
        Self::BudgetId,
        Self::Available,
        Self::Shortfall,
        Self::Committed,
        Self::Key,
        Self::TransferId,
        Self::Outstanding,
        Self::AgreementId,
        Self::DisputeId,
        Self::ClosedAt,
    ];

    /// The member's name in the problem document.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reason => "reason",
            Self::Results => "results",
            Self::Current => "current",
            Self::Allowed => "allowed",
            Self::Limit => "limit",
            Self::LimitMs => "limit_ms",
            Self::BudgetId => "budget_id",
            Self::Available => "available",
            Self::Shortfall => "shortfall",
            Self::Committed => "committed",
            Self::Key => "key",
            Self::TransferId => "transfer_id",
            Self::Outstanding => "outstanding",
            Self::AgreementId => "agreement_id",
            Self::DisputeId => "dispute_id",
            Self::ClosedAt => "closed_at",
        }
    }
}

/// The extension members a problem document may carry, each with its type;
/// a problem has only those its kind sets.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "the schema of the members ApiError::with_extension writes as JSON"
)]
pub struct ProblemMembers {
    /// 503 and readiness: why the service is unavailable (`unreachable`, `restarting`,
    /// `read_only`, `busy`, `statement_timeout`, `lock_timeout`,
    /// `idle_in_transaction_timeout`, `timeout`, `not_migrated`).
    #[schema(example = "busy")]
    reason: Option<String>,
    /// 422 of an atomic batch push: what became of every record (nothing was written).
    results: Option<Vec<crate::cases::batch::RecordOutcome>>,
    /// 409 of a refused status change: the record's current status.
    #[schema(example = "registered")]
    current: Option<String>,
    /// 409 of a refused status change: the statuses reachable from `current`.
    #[schema(example = json!(["sheltered", "assessed"]))]
    allowed: Option<Vec<String>>,
    /// 504: the name of the deadline that ran out.
    #[schema(example = "request")]
    limit: Option<String>,
    /// 504: that deadline, in milliseconds.
    #[schema(example = 30000, minimum = 0)]
    limit_ms: Option<u64>,
    /// 409 of a refused budget entry: the budget.
    budget_id: Option<uuid::Uuid>,
    /// 409 insufficient funds: what the budget has left, in whole rupiah.
    #[schema(example = 1500000)]
    available: Option<i64>,
    /// 409 insufficient funds: how much is missing, in whole rupiah.
    #[schema(example = 250000)]
    shortfall: Option<i64>,
    /// 409 over-release: what is committed and could be released, in whole rupiah.
    #[schema(example = 750000)]
    committed: Option<i64>,
    /// 409 duplicate: the field whose value is already taken.
    #[schema(example = "external_reference")]
    key: Option<String>,
    /// 409 `transfer-entry`: the transfer a ledger entry belongs to.
    transfer_id: Option<uuid::Uuid>,
    /// 409 `over-settlement`: what the regency still owes, in whole rupiah.
    #[schema(example = 400000)]
    outstanding: Option<i64>,
    /// 409 `share-settled`: the cost-sharing agreement whose settlement must be reversed first.
    agreement_id: Option<uuid::Uuid>,
    /// 409 `cost-disputed`: the open dispute.
    dispute_id: Option<uuid::Uuid>,
    /// 409 `transfer-costs-closed`: when the transfer's costs closed.
    closed_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Problem {
    /// A problem of the given status with the default kind and title for it.
    pub fn for_status(status: StatusCode) -> Self {
        let (kind, title) = default_kind(status);
        Self {
            kind: format!("/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            instance: None,
            request_id: None,
            errors: Vec::new(),
            extensions: None,
        }
    }
}

fn default_kind(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("bad-request", "Bad request"),
        401 => ("unauthorized", "Authentication required"),
        403 => ("forbidden", "Not allowed"),
        404 => ("not-found", "Not found"),
        405 => ("method-not-allowed", "Method not allowed"),
        406 => ("not-acceptable", "Not acceptable"),
        409 => ("conflict", "Conflict"),
        412 => ("precondition-failed", "Precondition failed"),
        413 => ("payload-too-large", "Request body too large"),
        415 => ("unsupported-media-type", "Unsupported media type"),
        422 => ("validation", "Invalid input"),
        428 => ("precondition-required", "Precondition required"),
        429 => ("too-many-requests", "Too many requests"),
        503 => ("unavailable", "Service unavailable"),
        504 => ("deadline-exceeded", "Request deadline exceeded"),
        s if s >= 500 => ("internal", "Internal server error"),
        _ => ("error", "Request failed"),
    }
}

/// An error a handler returns: it knows its status and what the client may be told.
///
/// Boxed, so that `Result<T, ApiError>` stays small on the happy path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", .0.status, .0.detail)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    kind: Option<&'static str>,
    title: Option<&'static str>,
    detail: String,
    errors: Vec<FieldError>,
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
    retry_after: Option<u64>,
    allow: Option<String>,
    /// Whether running the transaction again may succeed (a serialization
    /// failure or deadlock); see [`crate::db::retry_once`].
    retryable: bool,
    /// The cause of a 5xx, logged and never shown.
    cause: Option<anyhow::Error>,
}

impl ApiError {
    /// An error with a status and a detail message for the client.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            status,
            kind: None,
            title: None,
            detail: detail.into(),
            errors: Vec::new(),
            extensions: None,
            retry_after: None,
            allow: None,
            retryable: false,
            cause: None,
        }))
    }

    /// 400: the request cannot be read.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401: no valid credentials. Answered with `WWW-Authenticate`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    /// 403: the caller is known but may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// 404: nothing here, or nothing the caller may see.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// 422: the listed fields are invalid.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut error = Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail);
        error.0.errors = errors;
        error
    }

    /// 422 for one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    /// 400 for a malformed query or path parameter, naming it.
    pub fn bad_parameter(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = FieldError::new(field, message);
        let mut error = Self::bad_request(format!("{}: {}", field.field, field.message));
        error.0.errors = vec![field];
        error
    }

    /// 429 with a `Retry-After` in seconds.
    pub fn too_many_requests(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, detail).with_retry_after(retry_after_secs.max(1))
    }

    /// 503: a dependency (the database) cannot be reached. Answered with `Retry-After`.
    pub fn unavailable(cause: impl Into<anyhow::Error>) -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database cannot be reached; try again shortly",
        )
        .with_retry_after(5);
        error.0.cause = Some(cause.into());
        error
    }

    /// 503 for a database outage, with its `reason` and `Retry-After`.
    pub fn outage(outage: crate::db::Outage, cause: impl Into<anyhow::Error>) -> Self {
        crate::metrics::db_error(outage.reason());
        if outage == crate::db::Outage::Busy {
            crate::metrics::pool_timeout();
        }
        let mut error = Self::new(StatusCode::SERVICE_UNAVAILABLE, outage.detail())
            .with_retry_after(outage.retry_after())
            .with_extension(ProblemMember::Reason, outage.reason().into());
        error.0.cause = Some(cause.into());
        error
    }

    /// 500: something unexpected. The cause is logged with the request id, never shown.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let mut error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "an unexpected error occurred; it has been logged",
        );
        error.0.cause = Some(cause.into());
        error
    }

    /// 500 from a message (for invariants that should never break).
    pub fn internal_msg(message: impl std::fmt::Display) -> Self {
        Self::internal(anyhow::anyhow!("{message}"))
    }

    /// 405 with the methods the path does allow.
    pub fn method_not_allowed(allow: Vec<String>) -> Self {
        let mut error = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("this resource allows {}", allow.join(", ")),
        );
        error.0.allow = Some(allow.join(", "));
        error
    }

    /// Sets the problem's kind (the last segment of its `type`) and title.
    pub fn with_kind(mut self, kind: &'static str, title: &'static str) -> Self {
        self.0.kind = Some(kind);
        self.0.title = Some(title);
        self
    }

    /// Adds an extension member to the problem body.
    pub fn with_extension(mut self, member: ProblemMember, value: serde_json::Value) -> Self {
        self.0
            .extensions
            .get_or_insert_with(serde_json::Map::new)
            .insert(member.name().to_owned(), value);
        self
    }

    /// Lists the fields (or records) the error is about.
    pub fn with_fields(mut self, errors: Vec<FieldError>) -> Self {
        self.0.errors = errors;
        self
    }

    /// Adds a `Retry-After` header of `secs` seconds.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.0.retry_after = Some(secs);
        self
    }

    /// An extension member of the problem body, if set.
    pub fn extension(&self, member: ProblemMember) -> Option<&serde_json::Value> {
        self.0.extensions.as_ref()?.get(member.name())
    }

    /// The problem's kind (the last segment of its `type`), if set.
    pub fn kind(&self) -> Option<&'static str> {
        self.0.kind
    }

    /// Whether running the same transaction again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.0.retryable
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The field errors, if any.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.0.errors
    }

    /// Builds the problem document (without instance and request id, which the middleware adds).
    pub fn to_problem(&self) -> Problem {
        let inner = &self.0;
        let mut problem = Problem::for_status(inner.status);
        if let Some(kind) = inner.kind {
            problem.kind = format!("/problems/{kind}");
        }
        if let Some(title) = inner.title {
            problem.title = title.to_owned();
        }
        problem.detail = Some(inner.detail.clone()).filter(|d| !d.is_empty());
        problem.errors = inner.errors.clone();
        problem.extensions = inner.extensions.clone();
        problem
    }
}

/// The logged cause of a 5xx, kept in the response's extensions for the access log.
#[derive(Debug, Clone)]
pub struct LoggedCause(pub String);

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        let inner = &self.0;
        let mut response = HttpResponse::new(inner.status);
        let headers = response.headers_mut();
        if let Some(secs) = inner.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(allow) = &inner.allow
            && let Ok(value) = HeaderValue::from_str(allow)
        {
            headers.insert(header::ALLOW, value);
        }
        if inner.status == StatusCode::UNAUTHORIZED {
            let challenge = format!(
                "Bearer realm=\"pulang\", error=\"invalid_token\", error_description=\"{}\"",
                inner.detail.replace('"', "'")
            );
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_str(&challenge)
                    .unwrap_or(HeaderValue::from_static("Bearer realm=\"pulang\"")),
            );
        }
        if let Some(cause) = &inner.cause {
            response
                .extensions_mut()
                .insert(LoggedCause(format!("{cause:#}")));
        }
        response.extensions_mut().insert(self.to_problem());
        response
    }
}

/// What a unique index or key protects, as the field a client sends (for the
/// ones whose name does not say it); others are named after the constraint.
const UNIQUE_KEYS: &[(&str, &str)] = &[
    ("agencies_code_key", "code"),
    ("users_username_key", "username"),
    ("api_clients_client_id_key", "client_id"),
    ("cases_source_reference_key", "external_reference"),
    ("cases_case_number_key", "case_number"),
    ("persons_nik_key", "person.nik"),
    ("transfers_reference_key", "reference"),
    ("transfer_cases_one_active", "case_ids"),
    ("cost_sharing_one_approved", "regency_code"),
    ("budget_ledger_one_reversal", "reverses_id"),
];

/// The column a constraint named by PostgreSQL's convention
/// (`<table>_<column>_fkey`, `<table>_<column>_check`, `<table>_<column>_key`) is about.
fn constraint_field(info: &dyn diesel::result::DatabaseErrorInformation) -> String {
    let Some(name) = info.constraint_name() else {
        return info.column_name().unwrap_or("body").to_owned();
    };
    if let Some((_, field)) = UNIQUE_KEYS.iter().find(|(key, _)| *key == name) {
        return (*field).to_owned();
    }
    if name == "agencies_region_fk" {
        return "region_code".to_owned();
    }
    let mut field = name;
    if let Some(table) = info.table_name()
        && let Some(rest) = field.strip_prefix(table).and_then(|r| r.strip_prefix('_'))
    {
        field = rest;
    }
    for suffix in ["_fkey", "_check", "_key", "_fk", "_pkey", "_excl"] {
        if let Some(rest) = field.strip_suffix(suffix) {
            field = rest;
            break;
        }
    }
    field.to_owned()
}

/// Whether a database error is one a retry of the same transaction can cure:
/// a serialization failure or a deadlock.
pub fn is_retryable(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(_, info) => info.message().starts_with("deadlock detected"),
        _ => false,
    }
}

/// Database errors become the answer they mean, in this one place:
/// a missing row 404; a unique violation 409 naming the key; a foreign key
/// naming no row 422 naming the field (409 when a row is still referenced);
/// a check or not-null violation 422; a serialization failure or deadlock
/// (after the caller's one retry, see `db::retrying`) 503 with `Retry-After`;
/// a lost connection 503. Anything else is a bug: 500.
impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        if let Some(outage) = crate::db::Outage::of_query(&error) {
            return Self::outage(outage, error);
        }
        if is_retryable(&error) {
            crate::metrics::db_error("contention");
            let mut contention = Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the request collided with another; retry it",
            )
            .with_kind("contention", "Contention")
            .with_retry_after(1);
            contention.0.retryable = true;
            return contention;
        }
        let Error::DatabaseError(kind, info) = &error else {
            return match error {
                Error::NotFound => Self::not_found("no such record"),
                _ => Self::internal(error),
            };
        };
        let info = info.as_ref();
        crate::metrics::db_error(match kind {
            DatabaseErrorKind::UniqueViolation
            | DatabaseErrorKind::ForeignKeyViolation
            | DatabaseErrorKind::CheckViolation
            | DatabaseErrorKind::NotNullViolation
            | DatabaseErrorKind::ExclusionViolation
            | DatabaseErrorKind::RestrictViolation => "constraint",
            _ => "other",
        });
        match kind {
            DatabaseErrorKind::ClosedConnection => Self::unavailable(error),
            DatabaseErrorKind::UniqueViolation => {
                let key = constraint_field(info);
                Self::conflict(format!("{key}: this value is already taken"))
                    .with_kind("duplicate", "Already exists")
                    .with_extension(ProblemMember::Key, serde_json::Value::String(key.clone()))
                    .with_fields(vec![FieldError::new(key, "is already taken")])
            }
            DatabaseErrorKind::ForeignKeyViolation
                if info.message().starts_with("update or delete") =>
            {
                Self::conflict("the record is still referenced by others")
                    .with_kind("still-referenced", "Still referenced")
            }
            DatabaseErrorKind::ForeignKeyViolation => {
                Self::invalid_field(constraint_field(info), "names no record that exists")
            }
            DatabaseErrorKind::CheckViolation | DatabaseErrorKind::NotNullViolation => {
                Self::invalid_field(constraint_field(info), "is outside the allowed values")
            }
            DatabaseErrorKind::ExclusionViolation | DatabaseErrorKind::RestrictViolation => {
                Self::conflict("the request conflicts with a stored record")
            }
            _ if info.message().contains("0x00") => {
                // A last line of defence: the extractors refuse NUL before it gets here.
                Self::invalid_field("body", "text must not contain NUL characters")
            }
            _ => Self::internal(error),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for ApiError {
    fn from(error: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::outage(
            crate::db::Outage::of_pool(&error),
            anyhow::anyhow!("{error}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_member_has_a_typed_schema_and_every_schema_member_exists() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(ProblemMembers::schema()).unwrap();
        let documented: std::collections::BTreeSet<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let members: std::collections::BTreeSet<&str> =
            ProblemMember::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(documented, members);
        for (name, property) in schema["properties"].as_object().unwrap() {
            assert!(
                property.get("type").is_some()
                    || property.get("$ref").is_some()
                    || property.get("oneOf").is_some(),
                "{name} has no type: {property}"
            );
        }
    }

    #[test]
    fn a_validation_error_names_its_fields() {
        let problem =
            ApiError::validation(vec![FieldError::new("nik", "must be 16 digits")]).to_problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.kind, "/problems/validation");
        assert_eq!(problem.detail.as_deref(), Some("nik: must be 16 digits"));
        assert_eq!(problem.errors[0].field, "nik");
    }

    #[test]
    fn an_internal_error_hides_its_cause() {
        let error = ApiError::internal(anyhow::anyhow!("relation \"secret_table\" does not exist"));
        let body = serde_json::to_string(&error.to_problem()).unwrap();
        assert!(!body.contains("secret_table"));
        assert!(body.contains("\"status\":500"));
    }

    /// Every kind of problem the code can answer, with its status, is in
    /// `docs/errors.md`: the kinds given to `with_kind` anywhere in `src/`, and
    /// the default kind of every status the API answers.
    #[test]
    fn docs_errors_lists_every_problem_type() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let doc = std::fs::read_to_string(root.join("docs/errors.md")).unwrap();
        let mut kinds = Vec::new();
        let mut dirs = vec![root.join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for piece in text.split(".with_kind(\"").skip(1) {
                        kinds.push(piece.split('"').next().unwrap().to_owned());
                    }
                }
            }
        }
        for status in [
            400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 428, 429, 500, 503,
        ] {
            let problem = Problem::for_status(StatusCode::from_u16(status).unwrap());
            kinds.push(problem.kind.trim_start_matches("/problems/").to_owned());
        }
        kinds.sort();
        kinds.dedup();
        assert!(kinds.len() > 25, "the scan found the kinds: {kinds:?}");
        let missing: Vec<&String> = kinds
            .iter()
            .filter(|k| !doc.contains(&format!("`/problems/{k}`")))
            .collect();
        assert!(missing.is_empty(), "docs/errors.md lacks {missing:?}");
    }

    #[test]
    fn a_missing_row_is_a_404() {
        assert_eq!(
            ApiError::from(diesel::result::Error::NotFound).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn unavailable_says_when_to_retry() {
        let response = ApiError::unavailable(anyhow::anyhow!("down")).error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "5");
    }
}
