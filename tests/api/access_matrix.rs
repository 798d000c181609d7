//! The access policy, exercised over HTTP: every agency kind and role against
//! every operation of the policy, each through an endpoint that performs it,
//! checked against `pulang::access::permits`.

use actix_web::test::TestRequest;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pulang::access::{Operation, permits};
use pulang::agencies::AgencyKind;
use pulang::auth::{PrincipalKind, Role};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, test_keys, with_token};

fn region_for(kind: AgencyKind) -> Option<&'static str> {
    match kind {
        AgencyKind::ProvincialSocialService
        | AgencyKind::ProvincialSecretariat
        | AgencyKind::MigrantProtectionService => Some("61"),
        AgencyKind::RegencySocialService => Some("61.71"),
        _ => None,
    }
}

/// Calls the endpoint standing for `operation` and says whether it was allowed.
async fn attempt(app: &TestApp, token: &str, own: Uuid, other: Uuid, operation: Operation) -> bool {
    let request = match operation {
        Operation::ReadRegions => TestRequest::get().uri("/api/v1/regions?limit=1"),
        Operation::ReadAgencies => TestRequest::get().uri("/api/v1/agencies?limit=1"),
        Operation::ManageAgencies => TestRequest::post().uri("/api/v1/agencies").set_json(json!({
            "code": format!("M-{}", &Uuid::new_v4().simple().to_string()[..10].to_uppercase()),
            "name": "Matrix agency", "kind": "other"
        })),
        Operation::ManageOwnAgencyAccounts => {
            TestRequest::get().uri(&format!("/api/v1/agencies/{own}/users"))
        }
        Operation::ManageAllAccounts => {
            TestRequest::get().uri(&format!("/api/v1/agencies/{other}/users"))
        }
        Operation::ReadAudit => TestRequest::get().uri("/api/v1/audit-events?limit=1"),
        Operation::ReadCases => TestRequest::get().uri("/api/v1/cases?limit=1"),
        Operation::WriteCases => TestRequest::post()
            .uri(&format!("/api/v1/cases/{}/transitions", Uuid::new_v4()))
            .set_json(json!({"to": "sheltered", "reason": "matrix"})),
        Operation::PushCases => TestRequest::post()
            .uri("/api/v1/cases/batch")
            .set_json(json!({"records": []})),
        Operation::ReadBudgets => TestRequest::get().uri("/api/v1/budgets?fiscal_year=2019"),
        Operation::ManageBudgets => TestRequest::post()
            .uri(&format!("/api/v1/budgets/{}/ledger", Uuid::new_v4()))
            .set_json(json!({
                "kind": "commitment", "amount": 1, "reason": "matrix"
            })),
        Operation::ReadTransfers => TestRequest::get().uri("/api/v1/transfers?limit=1"),
        Operation::PlanTransfers => TestRequest::post()
            .uri(&format!("/api/v1/transfers/{}/transitions", Uuid::new_v4()))
            .set_json(json!({"to": "departed", "reason": "matrix"})),
        Operation::ConfirmHandover => TestRequest::post().uri(&format!("/api/v1/transfers/{}/handover", Uuid::new_v4())).set_json(json!({
            "bast_number": "BAST/1", "handed_over_at": "2019-03-20T06:00:00Z", "received_by": {"name": "x"}, "outcomes": []
        })),
        Operation::ReadReports => TestRequest::get().uri("/api/v1/stats/returns?from=2019-01-01&to=2019-12-31"),
        Operation::ReadEvents => TestRequest::get().uri("/api/v1/events?limit=1"),
        Operation::BreakGlass => TestRequest::post()
            .uri(&format!("/api/v1/cases/{}/earlier-returns/access", Uuid::new_v4()))
            .set_json(json!({"reason": "matrix"})),
        Operation::ReviewAccessGrants => TestRequest::get().uri("/api/v1/access-grants"),
        Operation::ReadPersonalData => {
            // Allowed means: the case in Kota Pontianak, when visible, shows its
            // returnee whole rather than masked.
            let response = app
                .call(with_token(
                    TestRequest::get().uri("/api/v1/cases?limit=1"),
                    Some(token),
                ))
                .await;
            return match response.status.as_u16() {
                200 => response.json()["items"][0]["person"]["masked"] == json!(false),
                403 => false,
                other => panic!("{operation}: unexpected {other}: {}", response.text()),
            };
        }
    };
    let response = app.call(with_token(request, Some(token))).await;
    // Past the permission check a request may still find nothing (404) or be
    // invalid (422); only a 403 means the policy said no.
    match response.status.as_u16() {
        200 | 201 | 404 | 422 => true,
        403 => {
            response.assert_problem(403);
            false
        }
        other => panic!("{operation}: unexpected {other}: {}", response.text()),
    }
}

#[actix_web::test]
async fn every_role_of_every_agency_kind_gets_what_the_policy_says() {
    let app = TestApp::spawn().await;
    let other = app
        .create_agency("OTHER-AGENCY", AgencyKind::Other, None)
        .await;
    let mut case = crate::helpers::new_case(1, "61.71");
    case["handling_province"] = json!("61");
    let created = app
        .post("/api/v1/cases", &case, Some(&app.admin_token().await))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let mut checked = 0;
    for kind in AgencyKind::ALL {
        let own = app
            .create_agency(
                &format!("K-{}", kind.as_str().replace('_', "-").to_uppercase()),
                *kind,
                region_for(*kind),
            )
            .await;
        let mut roles = vec![
            Role::AgencyAdmin,
            Role::CaseWorker,
            Role::FinanceOfficer,
            Role::Viewer,
        ];
        if *kind == AgencyKind::System {
            roles.push(Role::SystemAdmin);
        }
        for role in roles {
            let (_, token) = app
                .user_token(
                    own,
                    &format!(
                        "{}.{}",
                        role.as_str().replace('_', "-"),
                        kind.as_str().replace('_', "-")
                    ),
                    vec![role],
                )
                .await;
            for operation in Operation::ALL {
                let allowed = attempt(&app, &token, own, other, *operation).await;
                assert_eq!(
                    allowed,
                    permits(*kind, &[role], *operation),
                    "{kind} {role} {operation}"
                );
                checked += 1;
            }
        }
        // A machine client of this agency.
        let client: Uuid = diesel::insert_into(pulang::schema::api_clients::table)
            .values((
                pulang::schema::api_clients::agency_id.eq(own),
                pulang::schema::api_clients::client_id.eq(format!("client-{}", kind.as_str())),
                pulang::schema::api_clients::name.eq("matrix"),
                pulang::schema::api_clients::secret_hash.eq("unused"),
                pulang::schema::api_clients::roles.eq(vec![Role::Integration]),
            ))
            .returning(pulang::schema::api_clients::id)
            .get_result(&mut app.db().await)
            .await
            .unwrap();
        let (token, _) = test_keys()
            .issue(client, PrincipalKind::Client, own, vec![Role::Integration])
            .unwrap();
        for operation in Operation::ALL {
            let allowed = attempt(&app, &token, own, other, *operation).await;
            assert_eq!(
                allowed,
                permits(*kind, &[Role::Integration], *operation),
                "{kind} integration {operation}"
            );
            checked += 1;
        }
    }
    let operations = Operation::ALL.len();
    assert_eq!(checked, AgencyKind::ALL.len() * 5 * operations + operations);
}
