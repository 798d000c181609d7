//! The OpenAPI document: the fixed parts (info, tags, security scheme) and the
//! assembly of every route, so that no route exists without its documentation.

use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, RefOr, Response, ResponseBuilder};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{PROBLEM_JSON, Problem};

/// The name of the bearer-token security scheme.
pub const BEARER: &str = "bearer_token";

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
field in `errors`. Times are RFC 3339 in UTC, money is whole rupiah as integers, ids are UUIDs.",
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
    components(schemas(Problem))
)]
pub struct ApiDoc;

/// Registers every route of the API. Used by the server and by [`openapi`].
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(crate::health::check_live)
        .service(crate::health::check_ready)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .service(crate::auth::handlers::create_token)
                .service(crate::auth::handlers::revoke_token)
                .service(crate::auth::me::get_me)
                .service(crate::auth::me::change_my_password)
                .service(crate::regions::handlers::list_regions)
                .service(crate::regions::handlers::get_region)
                .service(crate::agencies::handlers::list_agencies)
                .service(crate::agencies::handlers::create_agency)
                .service(crate::agencies::handlers::get_agency)
                .service(crate::agencies::handlers::update_agency)
                .service(crate::agencies::users::list_agency_users)
                .service(crate::agencies::users::create_agency_user)
                .service(crate::agencies::users::update_agency_user)
                .service(crate::agencies::clients::list_agency_clients)
                .service(crate::agencies::clients::create_agency_client)
                .service(crate::agencies::clients::rotate_agency_client_secret)
                .service(crate::agencies::clients::update_agency_client)
                .service(crate::audit::handlers::list_audit_events)
                .service(crate::reads::handlers::list_read_log)
                .service(crate::cases::batch::push_cases)
                .service(crate::cases::handlers::create_case)
                .service(crate::cases::handlers::list_cases)
                .service(crate::cases::handlers::get_case)
                .service(crate::cases::handlers::update_case)
                .service(crate::cases::lifecycle::transition_case)
                .service(crate::cases::lifecycle::list_case_history)
                .service(crate::cases::consent::record_case_consent)
                .service(crate::cases::relink::correct_case_identity)
                .service(crate::cases::relink::split_case_identity)
                .service(crate::cases::relink::merge_persons)
                .service(crate::cases::grants::grant_earlier_returns_access)
                .service(crate::cases::grants::list_access_grants)
                .service(crate::cases::report_handlers::list_case_reports)
                .service(crate::cases::report_handlers::detach_case_report)
                .service(crate::cases::duplicates::list_possible_duplicates)
                .service(crate::cases::duplicates::confirm_possible_duplicate)
                .service(crate::cases::duplicates::dismiss_possible_duplicate)
                .service(crate::cases::persons::list_case_matches)
                .service(crate::cases::persons::get_person)
                .service(crate::budgets::summary::summarise_budgets)
                .service(crate::budgets::summary::preview_cost_split)
                .service(crate::budgets::reconciliation::reconcile_budgets)
                .service(crate::budgets::forecast::forecast_budgets)
                .service(crate::budgets::handlers::list_budgets)
                .service(crate::budgets::handlers::create_budget)
                .service(crate::budgets::handlers::get_budget)
                .service(crate::budgets::handlers::update_budget)
                .service(crate::budgets::handlers::list_budget_ledger)
                .service(crate::budgets::realisation::get_budget_realisation)
                .service(crate::budgets::handlers::create_ledger_entry)
                .service(crate::budgets::agreements::list_cost_sharing_agreements)
                .service(crate::budgets::agreements::create_cost_sharing_agreement)
                .service(crate::budgets::agreements::get_cost_sharing_agreement)
                .service(crate::budgets::settlements::get_agreement_statement)
                .service(crate::budgets::agreements::approve_cost_sharing_agreement)
                .service(crate::budgets::agreements::reject_cost_sharing_agreement)
                .service(crate::transfers::handlers::list_transfers)
                .service(crate::transfers::handlers::create_transfer)
                .service(crate::transfers::handlers::get_transfer)
                .service(crate::transfers::handlers::update_transfer)
                .service(crate::transfers::members::add_transfer_cases)
                .service(crate::transfers::members::remove_transfer_case)
                .service(crate::transfers::lifecycle::transition_transfer)
                .service(crate::transfers::lifecycle::hand_over_transfer)
                .service(crate::transfers::lifecycle::create_transfer_cost)
                .service(crate::transfers::corrections::confirm_transfer_cost)
                .service(crate::transfers::corrections::cancel_transfer_cost)
                .service(crate::transfers::corrections::create_cost_dispute)
                .service(crate::transfers::corrections::resolve_cost_dispute)
                .service(crate::transfers::corrections::list_cost_disputes)
                .service(crate::stats::returns::get_return_stats)
                .service(crate::stats::costs::get_cost_stats)
                .service(crate::events::handlers::list_events),
        );
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
        }
    }
    api
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
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_an_id_a_summary_and_error_responses() {
        let api = openapi();
        let value = serde_json::to_value(&api).unwrap();
        assert_eq!(value["openapi"], "3.1.0");
        for (path, item) in value["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let where_ = format!("{method} {path}");
                assert!(op["operationId"].is_string(), "{where_} has no operationId");
                assert!(op["summary"].is_string(), "{where_} has no summary");
                assert!(op["description"].is_string(), "{where_} has no description");
                assert!(
                    op["responses"]["500"].is_object(),
                    "{where_} does not document 500"
                );
            }
        }
    }

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
