//! The test harness: one throwaway PostgreSQL cluster per run, one database per
//! test cloned from a migrated template, and the real application driven
//! in-process as a client would drive it.

use std::sync::OnceLock;
use std::time::Duration;

use actix_http::Request;
use actix_service::boxed::BoxService;
use actix_web::body::{BoxBody, to_bytes};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::{test, web};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use pulang::agencies::AgencyKind;
use pulang::auth::{PrincipalKind, Role, TokenKeys};
use pulang::config::Settings;
use pulang::db::cluster::{ClusterOptions, LocalCluster};
use pulang::state::AppState;
use serde_json::Value;
use uuid::Uuid;

/// The server every test's database lives on, and the migrated template.
struct TestServer {
    /// URL template: `{db}` is replaced by a database name.
    url_for: Box<dyn Fn(&str) -> String + Send + Sync>,
    template: String,
}

static SERVER: OnceLock<TestServer> = OnceLock::new();

fn server() -> &'static TestServer {
    SERVER.get_or_init(|| {
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(start_server())
        })
        .join()
        .expect("test database server failed to start")
    })
}

async fn start_server() -> TestServer {
    let url_for: Box<dyn Fn(&str) -> String + Send + Sync> =
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                let (base, query) = match url.split_once('?') {
                    Some((b, q)) => (b.to_owned(), format!("?{q}")),
                    None => (url.clone(), String::new()),
                };
                let base = base[..base
                    .rfind('/')
                    .expect("TEST_DATABASE_URL needs a database path")]
                    .to_owned();
                Box::new(move |db| format!("{base}/{db}{query}"))
            }
            _ => {
                let dir = std::env::temp_dir().join(format!(
                    "pulang-test-{}-{}",
                    std::process::id(),
                    Uuid::new_v4().simple()
                ));
                let mut cluster = LocalCluster::new(
                    &dir,
                    ClusterOptions {
                        durable: false,
                        max_connections: 400,
                        ..ClusterOptions::default()
                    },
                )
                .expect(
                    "PostgreSQL binaries are needed to run the tests (or set TEST_DATABASE_URL)",
                );
                cluster.start().expect("cannot start the test cluster");
                cluster
                    .stop_and_remove_when_process_ends(std::process::id(), &dir)
                    .expect("cannot arrange the test cluster's removal");
                Box::new(move |db| cluster.url(db))
            }
        };
    let template = format!("pulang_template_{}", Uuid::new_v4().simple());
    let mut admin = AsyncPgConnection::establish(&url_for("postgres"))
        .await
        .expect("cannot reach the test server");
    diesel::sql_query(format!("CREATE DATABASE {template}"))
        .execute(&mut admin)
        .await
        .unwrap();
    pulang::db::run_migrations(&url_for(&template))
        .await
        .expect("migrations failed");
    TestServer { url_for, template }
}

/// How a test app is configured.
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// Environment variables for [`Settings`].
    pub env: Vec<(String, String)>,
    /// Point the pool at a server that does not exist.
    pub unreachable_database: bool,
    /// The keys that sign and verify tokens; [`test_keys`] when absent.
    pub token_keys: Option<TokenKeys>,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            env: vec![(
                "PULANG_CORS_ORIGINS".into(),
                "https://frontend.example".into(),
            )],
            unreachable_database: false,
            token_keys: None,
        }
    }
}

/// A running application on its own database.
pub struct TestApp {
    service: BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>,
    /// Connection URL of this test's database.
    pub database_url: String,
    database: String,
    /// Whether this instance drops the database when it ends (the first one does).
    owns_database: bool,
    /// The app's read log, to flush in tests.
    pub reads: pulang::reads::ReadLog,
}

impl TestApp {
    /// An app with the default test options.
    pub async fn spawn() -> Self {
        Self::spawn_with(TestOptions::default()).await
    }

    /// An app with the given options.
    pub async fn spawn_with(options: TestOptions) -> Self {
        let server = server();
        let database = format!("pulang_test_{}", Uuid::new_v4().simple());
        let mut admin = AsyncPgConnection::establish(&(server.url_for)("postgres"))
            .await
            .unwrap();
        diesel::sql_query(format!(
            "CREATE DATABASE {database} TEMPLATE {}",
            server.template
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        let database_url = (server.url_for)(&database);
        let mut app = Self::on_database(&database_url, options).await;
        app.database = database;
        app.owns_database = true;
        app
    }

    /// An app on a database that exists already (and that it does not drop),
    /// for tests that run a server of their own.
    pub async fn on_database(database_url: &str, options: TestOptions) -> Self {
        let database_url = database_url.to_owned();
        let env = options.env.clone();
        let settings =
            Settings::from_lookup(|k| env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()))
                .unwrap();
        let pool_url = if options.unreachable_database {
            "postgres://postgres@localhost/none?host=%2Fnonexistent".to_owned()
        } else {
            database_url.clone()
        };
        let pool = pulang::db::build_pool_with(&pool_url, 8, settings.db_limits).unwrap();
        let keys = options.token_keys.clone().unwrap_or_else(test_keys);
        let state = web::Data::new(AppState::new(pool, keys, settings).unwrap());
        let reads = state.reads.clone();
        let service = test::init_service(pulang::app::build_app(state)).await;
        Self {
            service: actix_service::boxed::service(service),
            database_url,
            database: String::new(),
            owns_database: false,
            reads,
        }
    }

    /// A second, independent instance of the API (its own pool and app) on
    /// the same database and signing key, as behind a load balancer.
    pub async fn second_instance(&self) -> TestApp {
        let settings = Settings::from_lookup(|_| None).unwrap();
        let pool = pulang::db::build_pool(&self.database_url, 8).unwrap();
        let state = web::Data::new(AppState::new(pool, test_keys(), settings).unwrap());
        let reads = state.reads.clone();
        let service = test::init_service(pulang::app::build_app(state)).await;
        TestApp {
            service: actix_service::boxed::service(service),
            database_url: self.database_url.clone(),
            database: self.database.clone(),
            owns_database: false,
            reads,
        }
    }

    /// A direct connection to this test's database.
    pub async fn db(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.database_url)
            .await
            .unwrap()
    }

    /// Sends a request and hands back the response with its body unread.
    /// An error of the service itself (the request deadline's 504) is
    /// answered as the HTTP server answers it.
    pub async fn call_raw(&self, request: test::TestRequest) -> ServiceResponse<BoxBody> {
        match test::try_call_service(&self.service, request.to_request()).await {
            Ok(response) => response,
            Err(error) => ServiceResponse::new(
                test::TestRequest::default().to_http_request(),
                error.error_response(),
            ),
        }
    }

    /// Sends a request.
    pub async fn call(&self, request: test::TestRequest) -> TestResponse {
        let response = self.call_raw(request).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = to_bytes(response.into_body())
            .await
            .unwrap_or_default()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// Sends a request; an error of the service itself (a panic caught by the
    /// request envelope) is returned as its response's status and body.
    pub async fn try_call(&self, request: test::TestRequest) -> Result<TestResponse, String> {
        match test::try_call_service(&self.service, request.to_request()).await {
            Ok(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let body = to_bytes(response.into_body())
                    .await
                    .unwrap_or_default()
                    .to_vec();
                Ok(TestResponse {
                    status,
                    headers,
                    body,
                })
            }
            Err(error) => Err(format!("service error: {error}")),
        }
    }

    /// `GET path` with an optional token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.call(with_token(test::TestRequest::get().uri(path), token))
            .await
    }

    /// `POST path` with a JSON body and an optional token.
    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> TestResponse {
        self.call(with_token(
            test::TestRequest::post().uri(path).set_json(body),
            token,
        ))
        .await
    }

    /// Creates a user in a new or existing agency and returns its username and password.
    pub async fn create_user(
        &self,
        username: &str,
        roles: Vec<Role>,
        agency_code: Option<&str>,
    ) -> (String, String) {
        let password = format!("test-password-{}", Uuid::new_v4().simple());
        pulang::admin::create_user(
            &mut self.db().await,
            pulang::admin::NewUser {
                username: username.into(),
                full_name: format!("Test {username}"),
                roles,
                agency_code: agency_code.map(str::to_owned),
                password: password.clone(),
            },
        )
        .await
        .unwrap();
        (username.to_owned(), password)
    }

    /// Signs in and returns the access token.
    pub async fn sign_in(&self, username: &str, password: &str) -> String {
        let response = self
            .post(
                "/api/v1/auth/token",
                &serde_json::json!({"grant_type": "password", "username": username, "password": password}),
                None,
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "sign-in failed: {}",
            response.text()
        );
        response.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// A system administrator's token.
    pub async fn admin_token(&self) -> String {
        let (user, pass) = self
            .create_user("admin", vec![Role::SystemAdmin], None)
            .await;
        self.sign_in(&user, &pass).await
    }
}

impl TestApp {
    /// Creates an agency directly in the database and returns its id.
    pub async fn create_agency(&self, code: &str, kind: AgencyKind, region: Option<&str>) -> Uuid {
        use pulang::schema::agencies;
        diesel::insert_into(agencies::table)
            .values((
                agencies::code.eq(code),
                agencies::name.eq(format!("Agency {code}")),
                agencies::kind.eq(kind),
                agencies::region_code.eq(region),
            ))
            .returning(agencies::id)
            .get_result(&mut self.db().await)
            .await
            .unwrap()
    }

    /// Creates a user of `agency` with `roles` and mints a token for it, as a
    /// sign-in would (without the cost of hashing a password for each test user).
    pub async fn user_token(
        &self,
        agency: Uuid,
        username: &str,
        roles: Vec<Role>,
    ) -> (Uuid, String) {
        use pulang::schema::users;
        static HASH: OnceLock<String> = OnceLock::new();
        let hash =
            HASH.get_or_init(|| pulang::auth::password::hash("unused-test-password").unwrap());
        let id: Uuid = diesel::insert_into(users::table)
            .values((
                users::agency_id.eq(agency),
                users::username.eq(username),
                users::full_name.eq(format!("Test {username}")),
                users::password_hash.eq(hash),
                users::roles.eq(&roles),
                users::password_changed_at.eq(chrono::Utc::now() - chrono::Duration::seconds(5)),
            ))
            .returning(users::id)
            .get_result(&mut self.db().await)
            .await
            .unwrap();
        let (token, _) = test_keys()
            .issue(id, PrincipalKind::User, agency, roles)
            .unwrap();
        (id, token)
    }

    /// A token for a new user with `roles` in a new agency of `kind` covering `region`.
    pub async fn token_for(
        &self,
        kind: AgencyKind,
        region: Option<&str>,
        roles: Vec<Role>,
    ) -> String {
        let tag = Uuid::new_v4().simple().to_string();
        let agency = self
            .create_agency(&format!("T-{}", &tag[..12].to_uppercase()), kind, region)
            .await;
        self.user_token(agency, &format!("u{}", &tag[..12]), roles)
            .await
            .1
    }

    /// A machine client of `agency` with the integration role, and a token for it.
    pub async fn client_token(&self, agency: Uuid, client_id: &str) -> String {
        use pulang::schema::api_clients;
        let id: Uuid = diesel::insert_into(api_clients::table)
            .values((
                api_clients::agency_id.eq(agency),
                api_clients::client_id.eq(client_id),
                api_clients::name.eq(format!("Client {client_id}")),
                api_clients::secret_hash.eq("not used in tests"),
                api_clients::roles.eq(vec![Role::Integration]),
            ))
            .returning(api_clients::id)
            .get_result(&mut self.db().await)
            .await
            .unwrap();
        test_keys()
            .issue(id, PrincipalKind::Client, agency, vec![Role::Integration])
            .unwrap()
            .0
    }

    /// The West Kalimantan cast: the provincial service's case worker, BP3TKI's
    /// push client, and the Kota Pontianak social service's viewer.
    pub async fn kalbar(&self) -> Kalbar {
        let province = self
            .create_agency(
                "DINSOS-KALBAR",
                AgencyKind::ProvincialSocialService,
                Some("61"),
            )
            .await;
        let bp3tki = self
            .create_agency(
                "BP3TKI-PONTIANAK",
                AgencyKind::MigrantProtectionService,
                Some("61"),
            )
            .await;
        let pontianak = self
            .create_agency(
                "DINSOS-6171",
                AgencyKind::RegencySocialService,
                Some("61.71"),
            )
            .await;
        Kalbar {
            province,
            bp3tki,
            pontianak,
            case_worker: self
                .user_token(province, "dinsos.kalbar", vec![Role::CaseWorker])
                .await
                .1,
            push_client: self.client_token(bp3tki, "bp3tki-pontianak").await,
            pontianak_viewer: self
                .user_token(
                    pontianak,
                    "dinsos.6171",
                    vec![Role::Viewer, Role::CaseWorker],
                )
                .await
                .1,
        }
    }

    /// `PATCH path` with a JSON body and a token.
    pub async fn patch(&self, path: &str, body: &Value, token: Option<&str>) -> TestResponse {
        self.call(with_token(
            test::TestRequest::patch().uri(path).set_json(body),
            token,
        ))
        .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if !self.owns_database {
            return;
        }
        let url = (server().url_for)("postgres");
        let database = self.database.clone();
        // Best effort: the throwaway cluster is removed at the end of the run anyway.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = AsyncPgConnection::establish(&url).await {
                    let _ = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                    ))
                    .execute(&mut conn)
                    .await;
                }
            })
        })
        .join();
    }
}

/// Agencies and tokens of the West Kalimantan story.
#[derive(Debug, Clone)]
pub struct Kalbar {
    /// Dinas Sosial Provinsi Kalimantan Barat.
    pub province: Uuid,
    /// BP3TKI Pontianak.
    pub bp3tki: Uuid,
    /// Dinas Sosial Kota Pontianak.
    pub pontianak: Uuid,
    /// A case worker of the provincial service.
    pub case_worker: String,
    /// BP3TKI's integration client.
    pub push_client: String,
    /// A viewer and case worker of Kota Pontianak's service.
    pub pontianak_viewer: String,
}

/// A valid new case from `origin`; `n` varies the person.
pub fn new_case(n: u32, origin: &str) -> Value {
    serde_json::json!({
        "person": {"full_name": format!("Returnee Number {n}"), "sex": if n.is_multiple_of(2) { "male" } else { "female" }},
        "category": "undocumented_migrant",
        "arrived_at": format!("2019-{:02}-{:02}T08:00:00Z", 1 + n % 10, 1 + n % 28),
        "entry_point": "plbn_entikong",
        "country_left": "MY",
        "origin_region": origin,
        "external_reference": format!("REF-{n:05}")
    })
}

/// Adds a bearer token to a request.
pub fn with_token(request: test::TestRequest, token: Option<&str>) -> test::TestRequest {
    match token {
        Some(token) => request.insert_header(("Authorization", format!("Bearer {token}"))),
        None => request,
    }
}

/// The signing keys every test app uses (random per run).
pub fn test_keys() -> TokenKeys {
    static SECRET: OnceLock<String> = OnceLock::new();
    let secret = SECRET.get_or_init(|| pulang::auth::password::random_secret(48));
    TokenKeys::new(
        secret.as_bytes(),
        "pulang",
        "pulang-api",
        Duration::from_secs(900),
    )
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl TestResponse {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// Asserts that this is a problem document of `status`, and returns it.
    pub fn assert_problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text()
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "not a problem document: {}",
            self.text()
        );
        let problem = self.json();
        assert_eq!(problem["status"], status);
        assert!(
            problem["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("/problems/")),
            "{problem}"
        );
        assert!(problem["title"].is_string(), "{problem}");
        assert!(problem["instance"].is_string(), "{problem}");
        assert!(problem["request_id"].is_string(), "{problem}");
        problem
    }
}
