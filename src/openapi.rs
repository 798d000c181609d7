//! The OpenAPI document: the fixed parts (info, tags, security scheme) and the
//! assembly of every route, so that no route exists without its documentation.

use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, RefOr, Response, ResponseBuilder};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{PROBLEM_JSON, Problem};

/// The name of the bearer-token security scheme.
pub const BEARER: &str = "bearer_token";

/// The page size of every list, by operation id: `finish` documents each
/// list's `limit` with the bounds its handler checks.
pub const PAGE_SIZES: &[(&str, crate::http::pagination::PageSize)] = &[
    ("list_agencies", crate::agencies::handlers::AGENCY_PAGE),
    ("list_access_grants", crate::cases::grants::GRANT_PAGE),
    ("list_cases", crate::cases::handlers::CASE_PAGE),
    ("list_audit_events", crate::audit::handlers::AUDIT_PAGE),
    ("list_events", crate::events::handlers::EVENT_PAGE),
    ("list_regions", crate::regions::handlers::REGION_PAGE),
    ("list_read_log", crate::reads::handlers::READ_LOG_PAGE),
    ("list_transfers", crate::transfers::handlers::TRANSFER_PAGE),
    ("list_budget_ledger", crate::budgets::handlers::LEDGER_PAGE),
    (
        "list_possible_duplicates",
        crate::cases::duplicates::DUPLICATE_PAGE,
    ),
];

/// Item limits of request arrays, by schema and property: `finish` documents
/// each as `maxItems` from the constant its handler checks.
pub const ITEM_LIMITS: &[(&str, &str, usize)] =
    &[("BatchRequest", "records", crate::cases::batch::MAX_RECORDS)];

/// Fixed parts of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pulang API",
        description = "Case and repatriation API for Indonesian migrant citizens with problems and victims of \
trafficking (WNI-M KPO) who arrive in a province and are returned to their region of origin.\n\n\
Every `/api/v1` operation except `POST /api/v1/auth/token` needs a bearer token: get one from that \
endpoint and send it as `Authorization: Bearer <token>` (in Swagger UI: the Authorize button). \
Every error is an RFC 9457 `application/problem+json` document; validation errors list each invalid \
field in `errors`. Times are RFC 3339 in UTC, money is whole rupiah as integers, ids are UUIDs.\n\n\
Errors in Bahasa Indonesia: send `Accept-Language: id` and a problem's `title`, `detail` and field \
messages come in Indonesian (`Content-Language: id`); without it, or with `en`, they are English \
(the default).",
        contact(name = "Pulang maintainers", url = "https://github.com/pulang-id/pulang"),
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "auth", description = "Access tokens, sign-in and sign-out, and the caller's own account"),
        (name = "regions", description = "Provinces and kabupaten/kota with their Kemendagri codes"),
        (name = "agencies", description = "Agencies (instansi), their users and machine clients"),
        (name = "cases", description = "Cases (returnees) and persons: registration, bulk push, lifecycle, history, search"),
        (name = "budgets", description = "Budgets (pagu) and their ledgers, cost-sharing agreements, the split rule and budget use; money in whole rupiah"),
        (name = "transfers", description = "Transfers home: members, legs, status, handover (BAST) and costs"),
        (name = "stats", description = "Return statistics, from the same data and filters as the case list"),
        (name = "events", description = "The change feed of cases, transfers and budgets, for systems that follow Pulang"),
        (name = "audit", description = "The append-only audit log, for system administrators"),
        (name = "health", description = "Liveness and readiness probes"),
    ),
    servers(
        (url = "http://127.0.0.1:8080", description = "The default local server (`cargo run`)"),
        (url = "/", description = "The server this document was fetched from"),
    ),
    components(schemas(Problem, crate::cases::queries::CaseSort))
)]
pub struct ApiDoc;

/// Calls `$then!` with every handler under `/api/v1`, so that the routes and the
/// per-handler schema check ([`schema_contributions`]) read the same list.
macro_rules! api_v1_handlers {
    ($then:ident) => {
        $then!(
            crate::auth::handlers::create_token,
            crate::auth::handlers::revoke_token,
            crate::auth::me::get_me,
            crate::auth::me::change_my_password,
            crate::regions::handlers::list_regions,
            crate::regions::handlers::get_region,
            crate::agencies::handlers::list_agencies,
            crate::agencies::handlers::create_agency,
            crate::agencies::handlers::get_agency,
            crate::agencies::handlers::update_agency,
            crate::agencies::users::list_agency_users,
            crate::agencies::users::create_agency_user,
            crate::agencies::users::update_agency_user,
            crate::agencies::clients::list_agency_clients,
            crate::agencies::clients::create_agency_client,
            crate::agencies::clients::rotate_agency_client_secret,
            crate::agencies::clients::update_agency_client,
            crate::audit::handlers::list_audit_events,
            crate::reads::handlers::list_read_log,
            crate::cases::batch::push_cases,
            crate::cases::handlers::create_case,
            crate::cases::handlers::list_cases,
            crate::cases::handlers::get_case,
            crate::cases::handlers::update_case,
            crate::cases::lifecycle::transition_case,
            crate::cases::lifecycle::list_case_history,
            crate::cases::consent::record_case_consent,
            crate::cases::relink::correct_case_identity,
            crate::cases::relink::split_case_identity,
            crate::cases::relink::merge_persons,
            crate::cases::grants::grant_earlier_returns_access,
            crate::cases::grants::list_access_grants,
            crate::cases::report_handlers::list_case_reports,
            crate::cases::report_handlers::detach_case_report,
            crate::cases::duplicates::list_possible_duplicates,
            crate::cases::duplicates::confirm_possible_duplicate,
            crate::cases::duplicates::dismiss_possible_duplicate,
            crate::cases::persons::list_case_matches,
            crate::cases::persons::get_person,
            crate::budgets::summary::summarise_budgets,
            crate::budgets::summary::preview_cost_split,
            crate::budgets::reconciliation::reconcile_budgets,
            crate::budgets::forecast::forecast_budgets,
            crate::budgets::handlers::list_budgets,
            crate::budgets::handlers::create_budget,
            crate::budgets::handlers::get_budget,
            crate::budgets::handlers::update_budget,
            crate::budgets::handlers::list_budget_ledger,
            crate::budgets::realisation::get_budget_realisation,
            crate::budgets::handlers::create_ledger_entry,
            crate::budgets::agreements::list_cost_sharing_agreements,
            crate::budgets::agreements::create_cost_sharing_agreement,
            crate::budgets::agreements::get_cost_sharing_agreement,
            crate::budgets::settlements::get_agreement_statement,
            crate::budgets::agreements::approve_cost_sharing_agreement,
            crate::budgets::agreements::reject_cost_sharing_agreement,
            crate::transfers::handlers::list_transfers,
            crate::transfers::handlers::create_transfer,
            crate::transfers::handlers::get_transfer,
            crate::transfers::handlers::update_transfer,
            crate::transfers::members::add_transfer_cases,
            crate::transfers::members::remove_transfer_case,
            crate::transfers::lifecycle::transition_transfer,
            crate::transfers::lifecycle::hand_over_transfer,
            crate::transfers::lifecycle::create_transfer_cost,
            crate::transfers::corrections::confirm_transfer_cost,
            crate::transfers::corrections::cancel_transfer_cost,
            crate::transfers::corrections::create_cost_dispute,
            crate::transfers::corrections::resolve_cost_dispute,
            crate::transfers::corrections::list_cost_disputes,
            crate::stats::returns::get_return_stats,
            crate::stats::costs::get_cost_stats,
            crate::events::handlers::list_events,
        )
    };
}

/// Calls `$then!` with the handlers outside `/api/v1`.
macro_rules! unversioned_handlers {
    ($then:ident) => {
        $then!(crate::health::check_live, crate::health::check_ready)
    };
}

/// Registers every route of the API. Used by the server and by [`openapi`].
pub fn routes(cfg: &mut ServiceConfig) {
    macro_rules! register {
        ($($handler:path),* $(,)?) => {
            utoipa_actix_web::scope("/api/v1")$(.service($handler))*
        };
    }
    cfg.service(crate::health::check_live)
        .service(crate::health::check_ready)
        .service(api_v1_handlers!(register));
}

/// Every schema each handler brings into the document, by the handler's name,
/// before utoipa merges them by name. Two different schemas under one name
/// would silently overwrite each other in the document; the contract test
/// finds them here.
pub fn schema_contributions() -> Vec<(String, String, RefOr<Schema>)> {
    let mut out = Vec::new();
    macro_rules! collect {
        ($($handler:path),* $(,)?) => {
            $({
                let mut schemas = Vec::new();
                utoipa_actix_web::OpenApiFactory::schemas(&$handler, &mut schemas);
                for (name, schema) in schemas {
                    out.push((stringify!($handler).replace(' ', ""), name, schema));
                }
            })*
        };
    }
    api_v1_handlers!(collect);
    unversioned_handlers!(collect);
    if let Some(components) = ApiDoc::openapi().components {
        for (name, schema) in components.schemas {
            out.push(("ApiDoc".to_owned(), name, schema));
        }
    }
    out
}

/// The complete OpenAPI document, as served at `/api-docs/openapi.json` and
/// written by `pulang openapi`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    finish(api)
}

/// Adds what every operation shares: the version, the security scheme, the
/// bearer requirement on every operation that does not opt out with
/// `security(())`, and the error responses common to all operations.
pub fn finish(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token from POST /api/v1/auth/token"))
                .build(),
        ),
    );
    let schemas = serde_json::to_value(&components.schemas).unwrap_or_default();
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            add_common_responses(operation);
            add_client_headers(operation, &schemas);
            document_page_size(operation);
        }
    }
    if let Some(components) = api.components.as_mut() {
        refer_page_items(components);
        document_item_limits(components);
    }
    add_success_examples(&mut api);
    api
}

/// Sets `maxItems` of each array in [`ITEM_LIMITS`].
fn document_item_limits(components: &mut utoipa::openapi::Components) {
    for (schema, property, max) in ITEM_LIMITS {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema) else {
            continue;
        };
        if let Some(RefOr::T(Schema::Array(array))) = object.properties.get_mut(*property) {
            array.max_items = Some(*max);
        }
    }
}

/// utoipa inlines a generic argument, so each `Page_X` would carry its own copy
/// of `X` and a generated client would get two classes for one thing. Where the
/// inline copy is exactly the component `X`, it becomes a reference to it.
fn refer_page_items(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::schema::ArrayItems;
    let named: Vec<(String, serde_json::Value)> = components
        .schemas
        .iter()
        .filter_map(|(name, schema)| Some((name.clone(), serde_json::to_value(schema).ok()?)))
        .collect();
    for (name, schema) in components.schemas.iter_mut() {
        let Some(item_name) = name.strip_prefix("Page_") else {
            continue;
        };
        let Some(item_json) = named.iter().find(|(n, _)| n == item_name).map(|(_, v)| v) else {
            continue;
        };
        let RefOr::T(Schema::Object(page)) = schema else {
            continue;
        };
        let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") else {
            continue;
        };
        let ArrayItems::RefOrSchema(item) = &mut items.items else {
            continue;
        };
        if serde_json::to_value(&**item).ok().as_ref() == Some(item_json) {
            **item = RefOr::Ref(utoipa::openapi::Ref::from_schema_name(item_name));
        }
    }
}

/// Gives every JSON success answer that has no example of its own one built
/// from its schema: each field's own example, else its first enum value, else
/// a value of its type and format. The linter in `.ci/run` checks each example
/// against its schema.
fn add_success_examples(api: &mut utoipa::openapi::OpenApi) {
    let schemas = api
        .components
        .as_ref()
        .and_then(|c| serde_json::to_value(&c.schemas).ok())
        .unwrap_or_default();
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                if !status.starts_with('2') {
                    continue;
                }
                for (media_type, content) in response.content.iter_mut() {
                    let RefOr::T(content) = content else { continue };
                    if !media_type.ends_with("json")
                        || content.example.is_some()
                        || !content.examples.is_empty()
                    {
                        continue;
                    }
                    if let Some(schema) = content
                        .schema
                        .as_ref()
                        .and_then(|s| serde_json::to_value(s).ok())
                    {
                        content.example = Some(example_of(&schema, &schemas, 0));
                    }
                }
            }
        }
    }
}

/// An example value for a JSON schema; `$ref`s resolve against `schemas`.
fn example_of(
    schema: &serde_json::Value,
    schemas: &serde_json::Value,
    depth: usize,
) -> serde_json::Value {
    use serde_json::{Value, json};
    if depth > 12 {
        return Value::Null;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        return example_of(&schemas[name], schemas, depth + 1);
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(first) = schema.get("examples").and_then(|e| e.get(0)) {
        return first.clone();
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(|e| e.as_array())
        .and_then(|e| e.iter().find(|v| !v.is_null()))
    {
        return first.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(variants) = schema.get(key).and_then(Value::as_array) {
            let chosen = variants
                .iter()
                .find(|v| v.get("type") != Some(&json!("null")))
                .unwrap_or(&Value::Null);
            return example_of(chosen, schemas, depth + 1);
        }
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = serde_json::Map::new();
        for part in parts {
            if let Value::Object(fields) = example_of(part, schemas, depth + 1) {
                merged.extend(fields);
            }
        }
        return Value::Object(merged);
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "null",
    };
    match ty {
        "object" => {
            let mut fields = serde_json::Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    fields.insert(name.clone(), example_of(property, schemas, depth + 1));
                }
            }
            Value::Object(fields)
        }
        "array" => match schema.get("items") {
            Some(items) if items.is_object() => json!([example_of(items, schemas, depth + 1)]),
            _ => json!([]),
        },
        "string" => match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => json!("8e2f0a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b"),
            Some("date-time") => json!("2026-03-14T08:10:00Z"),
            Some("date") => json!("2026-03-14"),
            Some("email") => json!("petugas@dinsos.kalbarprov.go.id"),
            Some("uri") => json!("https://pulang.example.go.id/"),
            _ => json!("teks"),
        },
        "integer" | "number" => schema
            .get("minimum")
            .cloned()
            .filter(|m| m.as_i64().is_some_and(|m| m > 0))
            .unwrap_or(json!(1)),
        "boolean" => json!(true),
        _ => Value::Null,
    }
}

fn add_common_responses(operation: &mut Operation) {
    let public = operation.security.as_ref().is_some_and(|s| {
        s.iter()
            .all(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
    });
    if !public {
        operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    }
    let has_body = operation.request_body.is_some();
    let has_path_params = operation
        .parameters
        .as_ref()
        .is_some_and(|ps| ps.iter().any(|p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path))));
    let has_params = operation
        .parameters
        .as_ref()
        .is_some_and(|ps| !ps.is_empty());
    let mut common: Vec<(&str, &str)> = Vec::new();
    if has_body || has_params {
        common.push((
            "400",
            "The request is malformed: unreadable JSON or a bad query or path parameter",
        ));
    }
    if !public {
        common.push(("401", "No valid access token: missing, malformed, expired, revoked, or for another issuer or audience"));
        common.push(("403", "The caller's roles do not allow this operation"));
    }
    if has_path_params {
        common.push(("404", "No such record, or none the caller may see"));
    }
    if has_body {
        common.push(("413", "The request body is too large"));
        common.push(("415", "The request body is not JSON"));
        common.push((
            "422",
            "The body is well-formed but invalid; `errors` names each field",
        ));
    }
    common.push((
        "429",
        "Too many requests; retry after the `Retry-After` seconds",
    ));
    common.push((
        "500",
        "An unexpected error; it is logged under the request id",
    ));
    common.push((
        "503",
        "The database cannot be reached; retry after the `Retry-After` seconds",
    ));
    for (status, description) in common {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(problem_response(status, description)));
    }
}

/// Gives a list's `limit` parameter the bounds and default its handler checks.
fn document_page_size(operation: &mut Operation) {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let Some(size) = PAGE_SIZES
        .iter()
        .find(|(id, _)| operation.operation_id.as_deref() == Some(id))
        .map(|(_, size)| *size)
    else {
        return;
    };
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        if parameter.name != "limit" {
            continue;
        }
        parameter.description = Some(format!(
            "Page size, 1 to {} (default {}).",
            size.max, size.default
        ));
        parameter.schema = Some(RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                .minimum(Some(1))
                .maximum(Some(size.max))
                .default(Some(serde_json::json!(size.default)))
                .build(),
        )));
    }
}

/// Documents the response headers a client reads that the server adds outside
/// the handlers: `X-Request-Id` on every answer (middleware), `Retry-After` on
/// 429 and 503 (the error type), `Location` on every 201, and
/// `Idempotent-Replayed` on the answers of operations that take an
/// `Idempotency-Key`, with the `ETag` a replay of a versioned record carries.
/// Other `ETag`s are documented by the handlers that set them. The
/// hostile-input sweep and the retry tests check every such header they
/// receive against the document.
fn add_client_headers(operation: &mut Operation, schemas: &serde_json::Value) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let idempotent = operation.parameters.as_ref().is_some_and(|ps| {
        ps.iter().any(|p| {
            matches!(p, RefOr::T(p) if p.name.eq_ignore_ascii_case(crate::http::idempotency::HEADER))
        })
    });
    let header = |ty: Type, description: &str, example: serde_json::Value| {
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new().schema_type(ty).examples([example]),
                ))
                .description(Some(description))
                .build(),
        )
    };
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let headers = &mut response.headers;
        headers.entry("X-Request-Id".to_owned()).or_insert_with(|| {
            header(
                Type::String,
                "The request's id: the caller's own `X-Request-Id` if it sent a sane one, else a new one; \
                 the server log and a problem's `request_id` carry the same",
                serde_json::json!("6f1c2a0e-3d7b-4a47-9d2e-0b8f0c6d5e41"),
            )
        });
        if status == "429" || status == "503" {
            headers.entry("Retry-After".to_owned()).or_insert_with(|| {
                header(
                    Type::Integer,
                    "Seconds to wait before sending the request again",
                    serde_json::json!(5),
                )
            });
        }
        if status == "201" {
            headers.entry("Location".to_owned()).or_insert_with(|| {
                header(
                    Type::String,
                    "The address of the created record",
                    serde_json::json!("/api/v1/cases/8e2f0a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b"),
                )
            });
        }
        let versioned = response.content.get("application/json").is_some_and(|c| {
            let RefOr::T(content) = c else { return false };
            let Some(RefOr::Ref(reference)) = &content.schema else {
                return false;
            };
            let name = reference
                .ref_location
                .trim_start_matches("#/components/schemas/");
            schemas[name]["properties"].get("version").is_some()
        });
        if idempotent && versioned && status.starts_with('2') {
            headers.entry("ETag".to_owned()).or_insert_with(|| {
                header(
                    Type::String,
                    "The record's version (on a replay always; see the operation for a first answer)",
                    serde_json::json!("\"1\""),
                )
            });
        }
        if idempotent && status.starts_with('2') {
            headers
                .entry("Idempotent-Replayed".to_owned())
                .or_insert_with(|| {
                    header(
                        Type::String,
                        "`true` when this is the stored answer to an earlier request with the same \
                         `Idempotency-Key`; absent on a first answer",
                        serde_json::json!("true"),
                    )
                });
        }
    }
}

/// The `Content-Language` of a problem document.
fn content_language() -> utoipa::openapi::header::Header {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["en", "id"])),
        ))
        .description(Some(
            "The language of `title`, `detail` and field messages, as asked for with `Accept-Language`",
        ))
        .build()
}

fn problem_response(status: &str, description: &str) -> Response {
    let code = status.parse::<u16>().unwrap_or(500);
    let mut example =
        Problem::for_status(actix_web::http::StatusCode::from_u16(code).unwrap_or_default());
    example.detail = Some(description.to_owned());
    example.instance = Some("/api/v1/…".to_owned());
    example.request_id = Some("6f1c2a0e-3d7b-4a47-9d2e-0b8f0c6d5e41".to_owned());
    if code == 422 {
        example.errors = vec![crate::error::FieldError::new(
            "person.nik",
            "must be 16 digits",
        )];
    }
    let mut content = Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
        "Problem",
    ))));
    content.example = serde_json::to_value(&example).ok();
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content)
        .header("Content-Language", content_language())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sign_in_and_health_are_public() {
        let value = serde_json::to_value(openapi()).unwrap();
        for (path, item) in value["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let public = op["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().all(|r| r == &serde_json::json!({})));
                let meant_public = path.starts_with("/health/") || path == "/api/v1/auth/token";
                assert_eq!(public, meant_public, "{method} {path}");
            }
        }
    }
}
