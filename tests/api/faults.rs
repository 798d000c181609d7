//! Fault tests: PostgreSQL restarted (fast and immediate) and stopped for
//! seconds under a concurrent write load, each on a cluster of its own so
//! that the other tests never see it; and start-up before the database.
//!
//! What they hold: every answer is a 2xx or a 503 (never a 500 or a hang);
//! readiness is back within 5 s of the database; every acknowledged write is
//! there afterwards, none twice although clients retried after 503s with the
//! same Idempotency-Key or the same batch; no case lacks its history entry or
//! its change event. Each prints its measured recovery time (`--nocapture`).

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use pulang::db::cluster::{ClusterOptions, LocalCluster, Shutdown};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Kalbar, TestApp, TestOptions, new_case, with_token};
use crate::local_cluster::{free_port, http, terminate, wait_ready};

/// A PostgreSQL cluster of the test's own, durable (fsync and synchronous
/// commit on), so that an immediate stop loses nothing acknowledged.
struct OwnCluster {
    cluster: Arc<Mutex<LocalCluster>>,
    dir: PathBuf,
}

impl OwnCluster {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("pulang-fault-{}", Uuid::new_v4().simple()));
        let mut cluster = LocalCluster::new(
            &dir,
            ClusterOptions {
                durable: true,
                max_connections: 60,
                ..ClusterOptions::default()
            },
        )
        .expect("PostgreSQL binaries are needed for the fault tests");
        cluster.start().expect("cannot start the fault cluster");
        cluster
            .stop_and_remove_when_process_ends(std::process::id(), &dir)
            .unwrap();
        Self {
            cluster: Arc::new(Mutex::new(cluster)),
            dir,
        }
    }

    fn url(&self, database: &str) -> String {
        self.cluster.lock().unwrap().url(database)
    }

    /// A migrated database `pulang` on this cluster.
    async fn migrated_database(&self) -> String {
        pulang::db::create_database_if_missing(&self.url("postgres"), "pulang")
            .await
            .unwrap();
        let url = self.url("pulang");
        pulang::db::run_migrations(&url).await.unwrap();
        url
    }

    /// Stops the server in `mode`, keeps it down for `down`, starts it again
    /// (`pg_ctl start -w`: it returns once connections are accepted) and
    /// returns when it did.
    async fn bounce(&self, mode: Shutdown, down: Duration) -> Instant {
        let cluster = self.cluster.clone();
        tokio::task::spawn_blocking(move || {
            cluster.lock().unwrap().stop_with(mode).unwrap();
            std::thread::sleep(down);
            cluster.lock().unwrap().start().unwrap();
        })
        .await
        .unwrap();
        Instant::now()
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if let Ok(mut cluster) = self.cluster.lock() {
            let _ = cluster.stop_with(Shutdown::Immediate);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the writers saw.
#[derive(Default)]
struct Tally {
    /// Case ids acknowledged by a 2xx.
    acknowledged: Vec<Uuid>,
    /// Answers by status.
    answers: std::collections::BTreeMap<u16, u32>,
    /// Anything but a 2xx or a 503, with its body.
    unexpected: Vec<String>,
}

/// Sends one write until it is acknowledged, again and again after each 503
/// (a retrying client), and returns the 2xx body.
async fn until_acknowledged(
    app: &TestApp,
    tally: &RefCell<Tally>,
    request: impl Fn() -> TestRequest,
) -> Option<serde_json::Value> {
    let give_up = Instant::now() + Duration::from_secs(60);
    while Instant::now() < give_up {
        let r = app.call(request()).await;
        *tally
            .borrow_mut()
            .answers
            .entry(r.status.as_u16())
            .or_default() += 1;
        if r.status.is_success() {
            return Some(r.json());
        }
        if r.status == 503 {
            let problem = r.json();
            assert!(
                r.header("retry-after").is_some(),
                "a 503 without Retry-After: {problem}"
            );
            assert!(
                problem["reason"].is_string(),
                "a 503 without a reason: {problem}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        tally
            .borrow_mut()
            .unexpected
            .push(format!("{} {}", r.status, r.text()));
        return None;
    }
    tally
        .borrow_mut()
        .unexpected
        .push("a write never got through in 60 s".into());
    None
}

/// Single creates with an Idempotency-Key each, until `stop`.
async fn single_writer(
    app: &TestApp,
    k: &Kalbar,
    writer: u32,
    stop: &Cell<bool>,
    tally: &RefCell<Tally>,
) {
    let mut n = 0;
    while !stop.get() {
        let number = writer * 100_000 + n;
        let key = format!("fault-{writer}-{n}");
        let body = new_case(number, "35.07");
        let created = until_acknowledged(app, tally, || {
            with_token(
                TestRequest::post()
                    .uri("/api/v1/cases")
                    .insert_header(("Idempotency-Key", key.as_str()))
                    .set_json(&body),
                Some(&k.case_worker),
            )
        })
        .await;
        if let Some(id) = created.and_then(|c| c["id"].as_str().and_then(|i| i.parse().ok())) {
            tally.borrow_mut().acknowledged.push(id);
        }
        n += 1;
    }
}

/// Batch pushes of 20 records, each batch retried whole until acknowledged.
async fn batch_writer(app: &TestApp, k: &Kalbar, stop: &Cell<bool>, tally: &RefCell<Tally>) {
    let mut batch = 0;
    while !stop.get() {
        let records: Vec<_> = (0..20u32)
            .map(|i| {
                let mut record = new_case(900_000 + batch * 20 + i, "61.71");
                record["external_reference"] = json!(format!("FAULT-{batch}-{i}"));
                record
            })
            .collect();
        let body = json!({ "records": records });
        let answer = until_acknowledged(app, tally, || {
            with_token(
                TestRequest::post()
                    .uri("/api/v1/cases/batch")
                    .set_json(&body),
                Some(&k.push_client),
            )
        })
        .await;
        if let Some(answer) = answer {
            for result in answer["results"].as_array().into_iter().flatten() {
                match result["case_id"].as_str().and_then(|i| i.parse().ok()) {
                    Some(id) => tally.borrow_mut().acknowledged.push(id),
                    None => tally
                        .borrow_mut()
                        .unexpected
                        .push(format!("a batch record without a case: {result}")),
                }
            }
        }
        batch += 1;
    }
}

/// Polls readiness until it answers 200 and returns when it did.
async fn ready_again(app: &TestApp) -> Instant {
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        let asked = Instant::now();
        let r = app.get("/health/ready", None).await;
        assert!(
            asked.elapsed() < Duration::from_millis(1500),
            "readiness took {:?} to answer",
            asked.elapsed()
        );
        if r.status == 200 {
            return Instant::now();
        }
        assert_eq!(r.status, 503, "{}", r.text());
        assert!(Instant::now() < give_up, "never ready again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .n
}

/// Runs the write load around one fault and checks everything afterwards.
async fn survive(mode: Shutdown, down: Duration, label: &str) {
    let cluster = OwnCluster::start();
    let url = cluster.migrated_database().await;
    let app = TestApp::on_database(&url, TestOptions::default()).await;
    let k = app.kalbar().await;
    let stop = Cell::new(false);
    let tally = RefCell::new(Tally::default());

    let fault = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let database_back = cluster.bounce(mode, down).await;
        let ready = ready_again(&app).await;
        let recovery = ready - database_back;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        stop.set(true);
        recovery
    };
    let (recovery, ..) = futures_util::future::join5(
        fault,
        single_writer(&app, &k, 1, &stop, &tally),
        single_writer(&app, &k, 2, &stop, &tally),
        single_writer(&app, &k, 3, &stop, &tally),
        batch_writer(&app, &k, &stop, &tally),
    )
    .await;
    let tally = tally.into_inner();
    eprintln!(
        "{label}: readiness back {} ms after the database; answers {:?}; {} writes acknowledged",
        recovery.as_millis(),
        tally.answers,
        tally.acknowledged.len()
    );
    assert!(tally.unexpected.is_empty(), "{:#?}", tally.unexpected);
    assert!(
        recovery < Duration::from_secs(5),
        "readiness came back {recovery:?} after the database"
    );
    assert!(
        tally.answers.contains_key(&503),
        "the fault was never seen: {:?}",
        tally.answers
    );

    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    let acknowledged: Vec<Uuid> = tally.acknowledged.clone();
    let mut distinct = acknowledged.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        acknowledged.len(),
        "one case acknowledged twice"
    );
    let present = diesel::sql_query("SELECT count(*) AS n FROM cases WHERE id = ANY($1)")
        .bind::<Array<SqlUuid>, _>(&acknowledged)
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n;
    assert_eq!(
        present as usize,
        acknowledged.len(),
        "an acknowledged write was lost"
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM cases").await as usize,
        acknowledged.len(),
        "a retried write was stored twice (or an unacknowledged one stayed)"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM cases c WHERE NOT EXISTS \
             (SELECT 1 FROM case_history h WHERE h.case_id = c.id)"
        )
        .await,
        0,
        "a case without its history entry"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM cases c WHERE NOT EXISTS \
             (SELECT 1 FROM change_events e WHERE e.entity_type = 'case' AND e.entity_id = c.id)"
        )
        .await,
        0,
        "a case without its change event"
    );
}

#[actix_web::test]
async fn a_fast_restart_under_write_load_answers_only_2xx_or_503_and_loses_nothing() {
    survive(Shutdown::Fast, Duration::ZERO, "fast restart").await;
}

#[actix_web::test]
async fn an_immediate_restart_under_write_load_answers_only_2xx_or_503_and_loses_nothing() {
    survive(Shutdown::Immediate, Duration::ZERO, "immediate restart").await;
}

#[actix_web::test]
async fn a_database_stopped_for_five_seconds_under_write_load_answers_only_2xx_or_503_and_loses_nothing()
 {
    survive(Shutdown::Fast, Duration::from_secs(5), "stopped 5 s").await;
}

#[test]
fn start_up_gives_up_after_its_wait_naming_the_server_but_never_the_password() {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_pulang"))
        .env(
            "DATABASE_URL",
            "postgres://pulang:s3cret-pw@127.0.0.1:1/pulang",
        )
        .env(
            "PULANG_JWT_SECRET",
            format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
        )
        .env("PULANG_DB_WAIT_SECONDS", "2")
        .env("PULANG_BIND", format!("127.0.0.1:{}", free_port()))
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let waited = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it must exit non-zero: {stderr}");
    assert!(
        waited >= Duration::from_secs(2),
        "it did not wait: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(15),
        "it waited too long: {waited:?}"
    );
    assert!(
        stderr.contains("host=127.0.0.1 port=1 database=pulang"),
        "the server is not named: {stderr}"
    );
    assert!(stderr.contains("gave up waiting"), "{stderr}");
    assert!(
        stderr.matches("not reachable").count() >= 2,
        "each try is logged: {stderr}"
    );
    assert!(
        !stderr.contains("s3cret-pw"),
        "the password leaked: {stderr}"
    );
}

#[test]
fn start_up_waits_for_a_database_that_comes_later_and_serves() {
    let cluster = OwnCluster::start();
    let url = cluster.url("pulang");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(pulang::db::create_database_if_missing(
        &cluster.url("postgres"),
        "pulang",
    ))
    .unwrap();
    cluster.cluster.lock().unwrap().stop().unwrap();

    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulang"))
        .env("DATABASE_URL", &url)
        .env(
            "PULANG_JWT_SECRET",
            format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
        )
        .env("PULANG_DB_WAIT_SECONDS", "60")
        .env("PULANG_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        child.try_wait().unwrap().is_none(),
        "it gave up while still within its wait"
    );
    cluster.cluster.lock().unwrap().start().unwrap();
    let database_back = Instant::now();
    wait_ready(port, &mut child);
    eprintln!(
        "start-up: ready {} ms after the database came",
        database_back.elapsed().as_millis()
    );
    assert!(
        http(
            port,
            "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
    );
    terminate(child);
}
