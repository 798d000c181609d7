//! Persons and privacy: one identity across returns, nothing shared between
//! scopes but the link. Two provincial services in different provinces each
//! record a return of the same person.

use actix_web::test::TestRequest;
use pulang::agencies::AgencyKind;
use pulang::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Kalbar, TestApp, with_token};

/// Sri's NIK: issued in Kabupaten Malang (35.07), female, born 15 May 1990.
const NIK: &str = "3507015505900003";

/// East Java's service, which handled Sri's first return.
struct Jatim {
    case_worker: String,
}

async fn jatim(app: &TestApp) -> Jatim {
    let agency = app
        .create_agency(
            "DINSOS-JATIM",
            AgencyKind::ProvincialSocialService,
            Some("35"),
        )
        .await;
    Jatim {
        case_worker: app
            .user_token(agency, "dinsos.jatim", vec![Role::CaseWorker])
            .await
            .1,
    }
}

/// East Java's record of Sri's first return, with details Kalbar must never see.
fn jatim_case() -> Value {
    json!({
        "person": {"full_name": "Sri Wahyuni", "nik": NIK, "passport_number": "B7654321",
                   "phone": "+6281111111111", "birth_place": "Kepanjen"},
        "category": "trafficking_victim", "arrived_at": "2019-02-01T08:00:00Z",
        "entry_point": "bandara_supadio", "country_left": "MY", "origin_region": "35.07",
        "origin_address": "Desa Sumberpucung RT 02"
    })
}

/// What of East Java's record could leak: none of it may appear in a Kalbar answer.
fn secrets(case: &Value) -> Vec<String> {
    vec![
        "B7654321".into(),
        "+6281111111111".into(),
        "Kepanjen".into(),
        "Sumberpucung".into(),
        case["id"].as_str().unwrap().into(),
        case["case_number"].as_str().unwrap().into(),
    ]
}

fn assert_no_leak(what: &str, body: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !body.contains(secret.as_str()),
            "{what} leaks {secret}: {body}"
        );
    }
}

/// Kalbar's record of Sri's later return.
fn kalbar_case(nik: Option<&str>) -> Value {
    json!({
        "person": {"full_name": "SRI WAHYUNI", "nik": nik},
        "category": "undocumented_migrant", "arrived_at": "2019-03-14T09:30:00Z",
        "entry_point": "plbn_entikong", "country_left": "MY", "origin_region": "35.07"
    })
}

async fn patch(
    app: &TestApp,
    case: &Value,
    body: Value,
    token: &str,
) -> crate::helpers::TestResponse {
    let request = TestRequest::patch()
        .uri(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()))
        .insert_header(("If-Match", format!("\"{}\"", case["version"])))
        .set_json(body);
    app.call(with_token(request, Some(token))).await
}

/// Both services' first records: East Java's case, then Kalbar's 201 answer.
async fn two_returns(app: &TestApp, k: &Kalbar, j: &Jatim) -> (Value, Value) {
    let first = app
        .post("/api/v1/cases", &jatim_case(), Some(&j.case_worker))
        .await;
    assert_eq!(first.status, 201, "{}", first.text());
    let second = app
        .post(
            "/api/v1/cases",
            &kalbar_case(Some(NIK)),
            Some(&k.case_worker),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.text());
    (first.json(), second.json())
}

#[actix_web::test]
async fn a_return_with_a_known_nik_shows_only_the_callers_own_record_and_the_link() {
    let app = TestApp::spawn().await;
    let (k, j) = (app.kalbar().await, jatim(&app).await);
    let first = app
        .post("/api/v1/cases", &jatim_case(), Some(&j.case_worker))
        .await
        .json();
    let created = app
        .post(
            "/api/v1/cases",
            &kalbar_case(Some(NIK)),
            Some(&k.case_worker),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let secrets = secrets(&first);
    assert_no_leak("the 201 answer", &created.text(), &secrets);
    let case = created.json();
    assert_eq!(
        case["person"]["full_name"], "SRI WAHYUNI",
        "as Kalbar spelled it"
    );
    assert_eq!(case["person"]["phone"], Value::Null);
    assert_eq!(case["person"]["birth_place"], Value::Null);
    assert_eq!(
        case["person"]["id"], first["person"]["id"],
        "one identity links both"
    );
    assert_eq!(case["repeat_return"], true);
    assert_eq!(case["earlier_returns"], 1);

    let person_path = format!("/api/v1/persons/{}", case["person"]["id"].as_str().unwrap());
    let person = app.get(&person_path, Some(&k.case_worker)).await;
    assert_eq!(person.status, 200, "{}", person.text());
    assert_no_leak("the person", &person.text(), &secrets);
    assert_eq!(person.json()["return_count"], 2, "the other return exists");
    assert_eq!(person.json()["cases"].as_array().unwrap().len(), 1);
    assert_eq!(person.json()["cases"][0]["id"], case["id"]);

    let other = app
        .get(
            &format!("/api/v1/cases/{}", first["id"].as_str().unwrap()),
            Some(&k.case_worker),
        )
        .await;
    other.assert_problem(404);
    assert_no_leak("the 404", &other.text(), &secrets[..4]);
    // Every other answer that carries case or person data.
    let matches = format!("/api/v1/cases/{}/matches", case["id"].as_str().unwrap());
    let history = format!("/api/v1/cases/{}/history", case["id"].as_str().unwrap());
    for path in [
        "/api/v1/cases",
        "/api/v1/cases?q=sri%20wahyuni",
        "/api/v1/cases?q=B7654321",
        &format!("/api/v1/cases?q={NIK}"),
        &matches,
        &history,
        "/api/v1/events?limit=100&wait=2",
    ] {
        let answer = app.get(path, Some(&k.case_worker)).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
        assert_no_leak(path, &answer.text(), &secrets);
    }
    let by_nik = app
        .get(&format!("/api/v1/cases?q={NIK}"), Some(&k.case_worker))
        .await
        .json();
    assert_eq!(
        by_nik["items"].as_array().unwrap().len(),
        1,
        "only Kalbar's return"
    );
    let csv = app
        .call(with_token(
            TestRequest::get()
                .uri("/api/v1/cases")
                .insert_header(("Accept", "text/csv")),
            Some(&k.case_worker),
        ))
        .await;
    assert_eq!(csv.status, 200);
    assert_no_leak("the CSV export", &csv.text(), &secrets);
    // East Java sees its own return whole and Kalbar's not at all.
    let theirs = app.get(&person_path, Some(&j.case_worker)).await.json();
    assert_eq!(theirs["cases"].as_array().unwrap().len(), 1);
    assert_eq!(theirs["cases"][0]["person"]["phone"], "+6281111111111");
    assert_eq!(
        theirs["cases"][0]["repeat_return"], false,
        "Sri's first return"
    );
}

#[actix_web::test]
async fn writing_one_return_never_changes_another_scopes_return() {
    let app = TestApp::spawn().await;
    let (k, j) = (app.kalbar().await, jatim(&app).await);
    let (first, second) = two_returns(&app, &k, &j).await;
    let changed = patch(
        &app,
        &second,
        json!({"person": {"full_name": "Sri Wahyuningsih", "phone": "+6289999999999", "birth_place": "Sanggau"}}),
        &k.case_worker,
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    // BP3TKI pushes its own record of the same NIK.
    let pushed = app
        .post(
            "/api/v1/cases/batch",
            &json!({"records": [{
                "external_reference": "PTK-1", "person": {"full_name": "S. WAHYUNI", "nik": NIK, "phone": "+6287777777777"},
                "category": "undocumented_migrant", "arrived_at": "2019-07-01T08:00:00Z",
                "entry_point": "plbn_aruk", "country_left": "MY", "origin_region": "35.07"
            }]}),
            Some(&k.push_client),
        )
        .await;
    assert_eq!(pushed.status, 200, "{}", pushed.text());
    assert_eq!(pushed.json()["totals"]["created"], 1);

    let theirs = app
        .get(
            &format!("/api/v1/cases/{}", first["id"].as_str().unwrap()),
            Some(&j.case_worker),
        )
        .await
        .json();
    assert_eq!(theirs["person"]["full_name"], "Sri Wahyuni");
    assert_eq!(theirs["person"]["phone"], "+6281111111111");
    assert_eq!(theirs["person"]["birth_place"], "Kepanjen");
    assert_eq!(theirs["version"], 1, "untouched");
    let history = app
        .get(
            &format!("/api/v1/cases/{}/history", first["id"].as_str().unwrap()),
            Some(&j.case_worker),
        )
        .await
        .json();
    assert_eq!(
        history.as_array().unwrap().len(),
        1,
        "only its creation: {history}"
    );
}

#[actix_web::test]
async fn a_nik_outside_the_callers_scope_links_the_return_and_reveals_nothing() {
    let app = TestApp::spawn().await;
    let (k, j) = (app.kalbar().await, jatim(&app).await);
    let first = app
        .post("/api/v1/cases", &jatim_case(), Some(&j.case_worker))
        .await
        .json();
    let own = app
        .post("/api/v1/cases", &kalbar_case(None), Some(&k.case_worker))
        .await
        .json();
    let unknown = app
        .post("/api/v1/cases", &kalbar_case(None), Some(&k.case_worker))
        .await
        .json();
    // A NIK someone else holds and a NIK no one holds answer alike.
    let linked = patch(&app, &own, json!({"person": {"nik": NIK}}), &k.case_worker).await;
    let fresh = patch(
        &app,
        &unknown,
        json!({"person": {"nik": "3507015505900004"}}),
        &k.case_worker,
    )
    .await;
    assert_eq!(linked.status, 200, "{}", linked.text());
    assert_eq!(fresh.status, 200, "{}", fresh.text());
    assert_no_leak("the PATCH answer", &linked.text(), &secrets(&first));
    assert_eq!(linked.json()["person"]["id"], first["person"]["id"]);
    assert_eq!(linked.json()["repeat_return"], true);
    assert_eq!(fresh.json()["repeat_return"], false);
    let history = app
        .get(
            &format!("/api/v1/cases/{}/history", own["id"].as_str().unwrap()),
            Some(&k.case_worker),
        )
        .await;
    assert_no_leak("the history", &history.text(), &secrets(&first));
}

/// One NIK returning three times, each trip with its own passport and spelling.
fn three_trips() -> Vec<Value> {
    [("2019-06-01", "P3000003", "SRI WAHYUNI"), ("2019-01-10", "P1000001", "Sri Wahyuni"), ("2019-03-05", "P2000002", "Sri Wahyuningsih")]
        .iter()
        .enumerate()
        .map(|(n, (day, passport, name))| {
            json!({
                "external_reference": format!("PTK-TRIP-{n}"),
                "person": {"full_name": name, "nik": NIK, "passport_number": passport, "phone": format!("+62812000000{n}")},
                "category": "undocumented_migrant", "arrived_at": format!("{day}T08:00:00Z"),
                "entry_point": "plbn_entikong", "country_left": "MY", "origin_region": "35.07"
            })
        })
        .collect()
}

async fn by_reference(app: &TestApp, token: &str) -> Vec<Value> {
    let list = app.get("/api/v1/cases?sort=arrived_at", Some(token)).await;
    assert_eq!(list.status, 200, "{}", list.text());
    list.json()["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn a_file_with_three_returns_of_one_nik_pushed_twice_is_unchanged_the_second_time() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let file = json!({"records": three_trips()});
    let first = app
        .post("/api/v1/cases/batch", &file, Some(&k.push_client))
        .await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["totals"]["created"], 3);
    let again = app
        .post("/api/v1/cases/batch", &file, Some(&k.push_client))
        .await;
    assert_eq!(
        again.json()["totals"],
        json!({"created": 0, "updated": 0, "unchanged": 3, "linked": 0, "rejected": 0})
    );
    let cases = by_reference(&app, &k.case_worker).await;
    let flags: Vec<(&str, bool, i64)> = cases
        .iter()
        .map(|c| {
            (
                c["person"]["passport_number"].as_str().unwrap(),
                c["repeat_return"].as_bool().unwrap(),
                c["earlier_returns"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        vec![
            ("P1000001", false, 0),
            ("P2000002", true, 1),
            ("P3000003", true, 2)
        ],
        "each return keeps its own passport; the repeats are the later arrivals"
    );
    assert!(cases.iter().all(|c| c["version"] == 1));
}

#[actix_web::test]
async fn an_earlier_arrival_recorded_late_moves_the_repeat_flag_with_history_and_an_event() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let trips = three_trips();
    let later = app
        .post(
            "/api/v1/cases/batch",
            &json!({"records": [trips[0]]}),
            Some(&k.push_client),
        )
        .await
        .json();
    let later_id = later["results"][0]["case_id"].as_str().unwrap().to_owned();
    let case = app
        .get(&format!("/api/v1/cases/{later_id}"), Some(&k.case_worker))
        .await
        .json();
    assert_eq!(case["repeat_return"], false, "the only return so far");
    let earlier = app
        .post(
            "/api/v1/cases/batch",
            &json!({"records": [trips[1], trips[2]]}),
            Some(&k.push_client),
        )
        .await;
    assert_eq!(earlier.json()["totals"]["created"], 2);
    let case = app
        .get(&format!("/api/v1/cases/{later_id}"), Some(&k.case_worker))
        .await
        .json();
    assert_eq!(case["repeat_return"], true);
    assert_eq!(case["earlier_returns"], 2);
    assert_eq!(case["version"], 2);
    let history = app
        .get(
            &format!("/api/v1/cases/{later_id}/history"),
            Some(&k.case_worker),
        )
        .await
        .json();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "repeat_return_changed");
    assert_eq!(
        last["before"],
        json!({"repeat_return": false, "earlier_returns": 0})
    );
    assert_eq!(
        last["after"],
        json!({"repeat_return": true, "earlier_returns": 2})
    );
    assert_eq!(
        last["actor_name"], "pulang",
        "recorded by the system, naming no agency"
    );
    assert_eq!(last["agency_id"], Value::Null);
    let feed = app
        .get("/api/v1/events?limit=100&wait=5", Some(&k.case_worker))
        .await
        .json();
    assert!(
        feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["entity_id"] == json!(later_id) && e["action"] == "repeat_return_changed"),
        "{feed}"
    );
}

/// A user of the Kalbar provincial service with `roles`.
async fn kalbar_user(app: &TestApp, k: &Kalbar, name: &str, roles: Vec<Role>) -> String {
    app.user_token(k.province, name, roles).await.1
}

#[actix_web::test]
async fn only_roles_that_handle_the_person_see_sensitive_fields_whole() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let mut record = kalbar_case(Some("6171015505900002"));
    record["origin_region"] = json!("61.71");
    record["origin_address"] = json!("Jl. Tanjungpura 12");
    record["person"] = json!({"full_name": "Siti Nurhaliza", "nik": "6171015505900002",
        "passport_number": "C1234567", "phone": "+6281234567890", "birth_place": "Pontianak"});
    record["external_reference"] = json!("PTK-SITI");
    let pushed = app
        .post(
            "/api/v1/cases/batch",
            &json!({"records": [record]}),
            Some(&k.push_client),
        )
        .await
        .json();
    let id = pushed["results"][0]["case_id"].as_str().unwrap().to_owned();
    let finance = kalbar_user(&app, &k, "keuangan.kalbar", vec![Role::FinanceOfficer]).await;
    let viewer = kalbar_user(&app, &k, "viewer.kalbar", vec![Role::Viewer]).await;
    let whole = json!({"nik": "6171015505900002", "passport_number": "C1234567",
        "phone": "+6281234567890", "birth_place": "Pontianak", "birth_date": "1990-05-15", "masked": false});
    let masked = json!({"nik": "6171********0002", "passport_number": "C*****67",
        "phone": "+628********90", "birth_place": "***", "birth_date": "1990-**-**", "masked": true});
    for (who, token, expected, address) in [
        (
            "the province's case worker",
            &k.case_worker,
            &whole,
            "Jl. Tanjungpura 12",
        ),
        (
            "the regency's case worker",
            &k.pontianak_viewer,
            &whole,
            "Jl. Tanjungpura 12",
        ),
        ("a finance officer", &finance, &masked, "***"),
        ("a viewer", &viewer, &masked, "***"),
        (
            "BP3TKI's client reading back",
            &k.push_client,
            &masked,
            "***",
        ),
    ] {
        let case = app.get(&format!("/api/v1/cases/{id}"), Some(token)).await;
        assert_eq!(case.status, 200, "{who}: {}", case.text());
        let person = &case.json()["person"];
        for field in [
            "nik",
            "passport_number",
            "phone",
            "birth_place",
            "birth_date",
            "masked",
        ] {
            assert_eq!(person[field], expected[field], "{who}: {field}");
        }
        assert_eq!(case.json()["origin_address"], address, "{who}");
        assert_eq!(
            person["full_name"], "Siti Nurhaliza",
            "{who}: names are not masked"
        );
        let list = app
            .get("/api/v1/cases?q=siti%20nurhalisa", Some(token))
            .await
            .json();
        assert_eq!(
            list["items"][0]["id"],
            json!(id),
            "{who}: name search works"
        );
        assert_eq!(
            list["items"][0]["person"]["nik"], expected["nik"],
            "{who}: list"
        );
        let history = app
            .get(&format!("/api/v1/cases/{id}/history"), Some(token))
            .await
            .json();
        assert_eq!(
            history[0]["after"]["person"]["nik"], expected["nik"],
            "{who}: history"
        );
        let csv = app
            .call(with_token(
                TestRequest::get()
                    .uri("/api/v1/cases")
                    .insert_header(("Accept", "text/csv")),
                Some(token),
            ))
            .await
            .text();
        assert!(
            csv.contains(expected["nik"].as_str().unwrap()),
            "{who}: CSV {csv}"
        );
        assert_eq!(
            csv.contains("6171015505900002"),
            expected["masked"] == false,
            "{who}: CSV"
        );
    }
}
