//! Agencies: created by system administrators, checked against their kind's region, never deleted.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pulang::agencies::AgencyKind;
use pulang::auth::Role;
use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn an_administrator_creates_a_regency_service_and_the_audit_log_shows_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let response = app
        .post(
            "/api/v1/agencies",
            &json!({"code": "dinsos-6171", "name": "Dinas Sosial Kota Pontianak",
                    "kind": "regency_social_service", "region_code": "6171"}),
            Some(&admin),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let agency = response.json();
    assert_eq!(agency["code"], "DINSOS-6171");
    assert_eq!(agency["region_code"], "61.71");
    let id = agency["id"].as_str().unwrap();
    assert_eq!(
        response.header("location").unwrap(),
        format!("/api/v1/agencies/{id}")
    );

    let log = app
        .get(
            &format!("/api/v1/audit-events?entity_type=agency&entity_id={id}"),
            Some(&admin),
        )
        .await;
    let events = log.json()["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["action"], "agency.create");
    assert_eq!(events[0]["actor_name"], "admin");
    assert_eq!(events[0]["after"]["code"], "DINSOS-6171");
}

#[actix_web::test]
async fn a_region_that_does_not_fit_the_kind_is_a_422_naming_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cases = [
        (
            json!({"code": "X1", "name": "x", "kind": "provincial_social_service", "region_code": "61.71"}),
            "region_code",
        ),
        (
            json!({"code": "X2", "name": "x", "kind": "regency_social_service", "region_code": "61"}),
            "region_code",
        ),
        (
            json!({"code": "X3", "name": "x", "kind": "regency_social_service"}),
            "region_code",
        ),
        (
            json!({"code": "X4", "name": "x", "kind": "ministry", "region_code": "61"}),
            "region_code",
        ),
        (
            json!({"code": "X5", "name": "x", "kind": "regency_social_service", "region_code": "99.99"}),
            "region_code",
        ),
        (
            json!({"code": "X6", "name": "x", "kind": "regency_social_service", "region_code": "sixty"}),
            "region_code",
        ),
        (
            json!({"code": "bad code", "name": "x", "kind": "other"}),
            "code",
        ),
        (json!({"code": "X7", "name": " ", "kind": "other"}), "name"),
        (
            json!({"code": "X8", "name": "x", "kind": "spaceship"}),
            "kind",
        ),
    ];
    for (body, field) in cases {
        let response = app.post("/api/v1/agencies", &body, Some(&admin)).await;
        let problem = response.assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
}

#[actix_web::test]
async fn a_taken_code_is_a_409() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = json!({"code": "BP3TKI-PTK", "name": "BP3TKI Pontianak", "kind": "migrant_protection_service", "region_code": "61"});
    assert_eq!(
        app.post("/api/v1/agencies", &body, Some(&admin))
            .await
            .status,
        201
    );
    app.post("/api/v1/agencies", &body, Some(&admin))
        .await
        .assert_problem(409);
}

#[actix_web::test]
async fn only_system_administrators_create_agencies() {
    let app = TestApp::spawn().await;
    let token = app
        .token_for(
            AgencyKind::ProvincialSocialService,
            Some("61"),
            vec![Role::AgencyAdmin],
        )
        .await;
    let body = json!({"code": "NEW", "name": "New", "kind": "other"});
    app.post("/api/v1/agencies", &body, Some(&token))
        .await
        .assert_problem(403);
}

#[actix_web::test]
async fn deactivating_an_agency_locks_out_its_users_and_keeps_the_record() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agency = app
        .create_agency(
            "DINSOS-6172",
            AgencyKind::RegencySocialService,
            Some("61.72"),
        )
        .await;
    let (_, token) = app
        .user_token(agency, "staff.6172", vec![Role::Viewer])
        .await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);

    let response = app
        .patch(
            &format!("/api/v1/agencies/{agency}"),
            &json!({"active": false, "phone": "+62 562"}),
            Some(&admin),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["active"], false);
    assert_eq!(response.json()["phone"], "+62 562");
    app.get("/api/v1/me", Some(&token))
        .await
        .assert_problem(401);

    let still_there = app
        .get(&format!("/api/v1/agencies/{agency}"), Some(&admin))
        .await;
    assert_eq!(still_there.status, 200);
    let log = app
        .get(
            &format!("/api/v1/audit-events?action=agency.update&entity_id={agency}"),
            Some(&admin),
        )
        .await
        .json();
    assert_eq!(log["items"][0]["before"]["active"], true);
    assert_eq!(log["items"][0]["after"]["active"], false);
}

#[actix_web::test]
async fn unknown_fields_and_kind_changes_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agency = app.create_agency("OTHER-1", AgencyKind::Other, None).await;
    let response = app
        .patch(
            &format!("/api/v1/agencies/{agency}"),
            &json!({"kind": "ministry"}),
            Some(&admin),
        )
        .await;
    response.assert_problem(422);
    app.patch(
        &format!("/api/v1/agencies/{}", uuid::Uuid::new_v4()),
        &json!({}),
        Some(&admin),
    )
    .await
    .assert_problem(404);
}

#[actix_web::test]
async fn the_directory_filters_by_kind_and_province() {
    let app = TestApp::spawn().await;
    app.create_agency(
        "DINSOS-6101",
        AgencyKind::RegencySocialService,
        Some("61.01"),
    )
    .await;
    app.create_agency(
        "DINSOS-6171",
        AgencyKind::RegencySocialService,
        Some("61.71"),
    )
    .await;
    app.create_agency(
        "DINSOS-1101",
        AgencyKind::RegencySocialService,
        Some("11.01"),
    )
    .await;
    let token = app
        .token_for(AgencyKind::Shelter, None, vec![Role::Viewer])
        .await;
    let page = app
        .get(
            "/api/v1/agencies?kind=regency_social_service&region=61",
            Some(&token),
        )
        .await
        .json();
    let codes: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["DINSOS-6101", "DINSOS-6171"]);
}

#[actix_web::test]
async fn the_audit_log_cannot_be_changed() {
    let app = TestApp::spawn().await;
    let _ = app.admin_token().await;
    let mut conn = app.db().await;
    let result = diesel::sql_query("DELETE FROM audit_events")
        .execute(&mut conn)
        .await;
    assert!(result.is_err(), "audit_events accepted a delete");
    use pulang::schema::audit_events;
    let count: i64 = audit_events::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert!(count >= 1);
}
