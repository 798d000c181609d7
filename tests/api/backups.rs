//! Backups that restore: a base backup taken under a write load restores
//! every write acknowledged before it, with its audit log and ledgers, and the
//! API serves from it; a point-in-time restore keeps what came before the
//! point and nothing after. Each test runs clusters of its own.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use pulang::db::cluster::{ClusterOptions, LocalCluster, Recovery, Shutdown};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, TestOptions, new_case};

/// A folder of the test's own, removed when it ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!("pulang-backup-{}", Uuid::new_v4().simple())))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for cluster in ["origin", "restored"] {
            if let Ok(mut c) = LocalCluster::new(&self.0.join(cluster), ClusterOptions::default())
                && c.is_running().unwrap_or(false)
            {
                let _ = c.stop_with(Shutdown::Immediate);
            }
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn started(root: &Path, wal_archive: Option<PathBuf>) -> LocalCluster {
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut cluster = LocalCluster::new(
            &root,
            ClusterOptions {
                wal_archive,
                ..ClusterOptions::default()
            },
        )
        .expect("PostgreSQL binaries are needed for the backup tests");
        cluster.start().unwrap();
        cluster
    })
    .await
    .unwrap()
}

async fn migrated(cluster: &LocalCluster) -> String {
    pulang::db::create_database_if_missing(&cluster.url("postgres"), "pulang")
        .await
        .unwrap();
    let url = cluster.url("pulang");
    pulang::db::run_migrations(&url).await.unwrap();
    url
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(url: &str, sql: &str, ids: &[Uuid]) -> i64 {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    diesel::sql_query(sql)
        .bind::<Array<SqlUuid>, _>(ids)
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n
}

#[actix_web::test]
async fn a_backup_under_write_load_restores_every_acknowledged_write_and_serves() {
    let scratch = Scratch::new();
    let origin = started(&scratch.0.join("origin"), None).await;
    let url = migrated(&origin).await;
    let app = TestApp::on_database(&url, TestOptions::default()).await;
    let k = app.kalbar().await;
    let finance = app
        .user_token(
            k.province,
            "keuangan.kalbar",
            vec![pulang::auth::Role::FinanceOfficer],
        )
        .await
        .1;
    let budget = app
        .post(
            "/api/v1/budgets",
            &json!({"fiscal_year": 2019, "source": "apbd_province", "document_number": "DPA-61-2019",
                    "name": "DPA Dinsos Kalbar 2019", "allocation": 500_000_000, "status": "active"}),
            Some(&finance),
        )
        .await;
    assert_eq!(budget.status, 201, "{}", budget.text());
    let budget = budget.json()["id"].as_str().unwrap().to_owned();
    let entry = app
        .post(
            &format!("/api/v1/budgets/{budget}/ledger"),
            &json!({"kind": "commitment", "amount": 1_250_000, "reason": "transport, March"}),
            Some(&finance),
        )
        .await;
    assert_eq!(entry.status, 201, "{}", entry.text());

    // Writers keep creating cases while the backup is taken.
    let acknowledged: RefCell<Vec<(chrono::DateTime<Utc>, Uuid)>> = RefCell::new(Vec::new());
    let stop = std::cell::Cell::new(false);
    let writer = async {
        let mut n = 0u32;
        while !stop.get() {
            let mut case = new_case(n, "61.71");
            case.as_object_mut().unwrap().remove("external_reference");
            let r = app.post("/api/v1/cases", &case, Some(&k.case_worker)).await;
            assert_eq!(r.status, 201, "{}", r.text());
            let id: Uuid = r.json()["id"].as_str().unwrap().parse().unwrap();
            acknowledged.borrow_mut().push((Utc::now(), id));
            n += 1;
        }
    };
    let dest = scratch.0.join("backup");
    let backup = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let cluster =
            LocalCluster::new(&scratch.0.join("origin"), ClusterOptions::default()).unwrap();
        let dest = dest.clone();
        let manifest =
            tokio::task::spawn_blocking(move || pulang::backup::back_up_cluster(&cluster, &dest))
                .await
                .unwrap()
                .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.set(true);
        manifest
    };
    let ((), manifest) = futures_util::future::join(writer, backup).await;
    let before: Vec<Uuid> = acknowledged
        .borrow()
        .iter()
        .filter(|(at, _)| *at < manifest.started_at)
        .map(|(_, id)| *id)
        .collect();
    assert!(
        before.len() >= 3,
        "writes before the backup: {}",
        before.len()
    );
    assert!(
        acknowledged.borrow().len() > before.len(),
        "writes went on during and after the backup"
    );
    drop(app);

    pulang::backup::restore_cluster(&dest, &scratch.0.join("restored"), None)
        .await
        .unwrap();
    // Restoring over a cluster that exists is refused.
    let again = pulang::backup::restore_cluster(&dest, &scratch.0.join("restored"), None).await;
    assert!(
        again
            .unwrap_err()
            .to_string()
            .contains("refuses to overwrite")
    );

    let restored = started(&scratch.0.join("restored"), None).await;
    let restored_url = restored.url("pulang");
    assert_eq!(
        count(
            &restored_url,
            "SELECT count(*) AS n FROM cases WHERE id = ANY($1)",
            &before
        )
        .await,
        before.len() as i64,
        "every case acknowledged before the backup"
    );
    assert_eq!(
        count(
            &restored_url,
            "SELECT count(*) AS n FROM audit_events WHERE action = 'case.create' AND entity_id::uuid = ANY($1)",
            &before
        )
        .await,
        before.len() as i64,
        "and its audit entry"
    );
    assert_eq!(
        count(
            &restored_url,
            "SELECT count(*) AS n FROM case_history WHERE case_id = ANY($1)",
            &before
        )
        .await,
        before.len() as i64,
        "and its history entry"
    );
    let mut conn = AsyncPgConnection::establish(&restored_url).await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Ledger {
        #[diesel(sql_type = Text)]
        kinds: String,
    }
    let ledger: Ledger = diesel::sql_query(
        "SELECT string_agg(kind || ':' || amount, ',' ORDER BY id) AS kinds FROM budget_ledger WHERE budget_id = $1::text::uuid",
    )
    .bind::<Text, _>(&budget)
    .get_result(&mut conn)
    .await
    .unwrap();
    assert!(
        ledger.kinds.contains("commitment:1250000"),
        "{}",
        ledger.kinds
    );
    // The API serves from the restored data, with the same accounts.
    let served = TestApp::on_database(&restored_url, TestOptions::default()).await;
    let case = served
        .get(
            &format!("/api/v1/cases/{}", before[0]),
            Some(&k.case_worker),
        )
        .await;
    assert_eq!(case.status, 200, "{}", case.text());
    let summary = served
        .get(&format!("/api/v1/budgets/{budget}"), Some(&finance))
        .await;
    assert_eq!(summary.status, 200, "{}", summary.text());
    drop(origin);
}

#[actix_web::test]
async fn a_point_in_time_restore_keeps_what_came_before_and_nothing_after() {
    let scratch = Scratch::new();
    let archive = scratch.0.join("wal-archive");
    let origin = started(&scratch.0.join("origin"), Some(archive.clone())).await;
    let url = migrated(&origin).await;
    let app = TestApp::on_database(&url, TestOptions::default()).await;
    let k = app.kalbar().await;
    let dest = scratch.0.join("backup");
    {
        let cluster =
            LocalCluster::new(&scratch.0.join("origin"), ClusterOptions::default()).unwrap();
        let dest = dest.clone();
        tokio::task::spawn_blocking(move || pulang::backup::back_up_cluster(&cluster, &dest))
            .await
            .unwrap()
            .unwrap();
    }
    let create = |n: u32| {
        let app = &app;
        let token = k.case_worker.clone();
        async move {
            let mut case = new_case(n, "61.71");
            case.as_object_mut().unwrap().remove("external_reference");
            let r = app.post("/api/v1/cases", &case, Some(&token)).await;
            assert_eq!(r.status, 201, "{}", r.text());
            r.json()["id"].as_str().unwrap().parse::<Uuid>().unwrap()
        }
    };
    let mut kept = Vec::new();
    for n in 0..5 {
        kept.push(create(n).await);
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let point = Utc::now();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let mut lost = Vec::new();
    for n in 5..10 {
        lost.push(create(n).await);
    }
    // Close the WAL segment so the archive holds everything written.
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    diesel::sql_query("SELECT pg_switch_wal()")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(app);

    pulang::backup::restore_cluster(
        &dest,
        &scratch.0.join("restored"),
        Some(Recovery {
            wal_archive: archive,
            until: point,
        }),
    )
    .await
    .unwrap();
    let restored = started(&scratch.0.join("restored"), None).await;
    let restored_url = restored.url("pulang");
    assert_eq!(
        count(
            &restored_url,
            "SELECT count(*) AS n FROM cases WHERE id = ANY($1)",
            &kept
        )
        .await,
        5,
        "everything committed before the point"
    );
    assert_eq!(
        count(
            &restored_url,
            "SELECT count(*) AS n FROM cases WHERE id = ANY($1)",
            &lost
        )
        .await,
        0,
        "nothing committed after it"
    );
    // The restored cluster is a primary again: it takes writes.
    let served = TestApp::on_database(&restored_url, TestOptions::default()).await;
    let mut case = new_case(99, "61.71");
    case.as_object_mut().unwrap().remove("external_reference");
    let r = served
        .post("/api/v1/cases", &case, Some(&k.case_worker))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    drop(origin);
}
