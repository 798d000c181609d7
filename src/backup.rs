//! Backups that restore: `pulang backup` and `pulang restore`.
//!
//! With the private cluster, a backup is a base backup taken from the running
//! server (`pg_basebackup`: consistent while the API writes, with the WAL it
//! needs and PostgreSQL's own manifest of SHA-256 checksums) plus Pulang's
//! `manifest.json` (time, versions, size, and the checksum of PostgreSQL's
//! manifest). A restore verifies both, lays the backup down as a new data
//! folder — never over an existing one — and, with a WAL archive
//! (`PULANG_WAL_ARCHIVE_DIR`) and a time, replays the archive to that point.
//! It then starts the restored server once, waits until recovery has ended,
//! and stops it, so that what it leaves is a cluster ready to serve.
//!
//! With `DATABASE_URL`, the same commands use the server's own tools:
//! `pg_dump` in its custom format, and `pg_restore` into an empty database.
//! Point-in-time recovery of such a server is the server's own (see
//! `docs/operations.md`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::cluster::{ClusterOptions, LocalCluster, Recovery, find_bin_dir};

/// The name of Pulang's manifest in a backup folder.
pub const MANIFEST: &str = "manifest.json";

/// What a backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupKind {
    /// A base backup of the private cluster, in `data/`.
    BaseBackup,
    /// A `pg_dump` of the database behind `DATABASE_URL`, in `pulang.dump`.
    Dump,
}

/// Pulang's manifest of a backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// What the backup holds.
    pub kind: BackupKind,
    /// When the backup started: every write acknowledged before it is in it.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// The Pulang version that made it.
    pub pulang_version: String,
    /// The PostgreSQL version that made it (`postgres --version`).
    pub postgres_version: String,
    /// Files in the backup.
    pub files: u64,
    /// Their size in bytes.
    pub bytes: u64,
    /// SHA-256 of PostgreSQL's `backup_manifest` (which holds every file's
    /// SHA-256), or of the dump file.
    pub sha256: String,
}

/// A folder that may receive a backup: absent or empty.
fn fresh_folder(dest: &Path) -> anyhow::Result<()> {
    if dest.exists()
        && std::fs::read_dir(dest)
            .with_context(|| format!("cannot read {}", dest.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty; a backup goes into a new folder",
            dest.display()
        );
    }
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))
}

fn sha256_of(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Files and bytes under `dir`.
fn measure(dir: &Path) -> anyhow::Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                files += 1;
                bytes += meta.len();
            }
        }
    }
    Ok((files, bytes))
}

fn postgres_version() -> String {
    find_bin_dir()
        .and_then(|bin| {
            Command::new(bin.join("postgres"))
                .arg("--version")
                .output()
                .ok()
        })
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn write_manifest(dest: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let mut json = serde_json::to_vec_pretty(manifest)?;
    json.push(b'\n');
    std::fs::write(dest.join(MANIFEST), json)
        .with_context(|| format!("cannot write {}", dest.join(MANIFEST).display()))
}

/// Reads a backup's manifest and checks the checksum it records.
pub fn read_manifest(from: &Path) -> anyhow::Result<Manifest> {
    let path = from.join(MANIFEST);
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(&path).with_context(|| {
            format!("{} is not a Pulang backup: no {MANIFEST}", from.display())
        })?)
        .with_context(|| format!("{} is not a Pulang manifest", path.display()))?;
    let checked = match manifest.kind {
        BackupKind::BaseBackup => from.join("data").join("backup_manifest"),
        BackupKind::Dump => from.join("pulang.dump"),
    };
    let actual = sha256_of(&checked)?;
    if actual != manifest.sha256 {
        bail!(
            "{} has SHA-256 {actual}, but the manifest records {}: the backup is damaged",
            checked.display(),
            manifest.sha256
        );
    }
    Ok(manifest)
}

/// Takes a base backup of a running private cluster into `dest` (absent or
/// empty), verifies it, and writes the manifest.
pub fn back_up_cluster(cluster: &LocalCluster, dest: &Path) -> anyhow::Result<Manifest> {
    fresh_folder(dest)?;
    let started_at = Utc::now();
    let data = dest.join("data");
    cluster.base_backup(&data)?;
    cluster.verify_backup(&data)?;
    let (files, bytes) = measure(&data)?;
    let manifest = Manifest {
        kind: BackupKind::BaseBackup,
        started_at,
        finished_at: Utc::now(),
        pulang_version: env!("CARGO_PKG_VERSION").to_owned(),
        postgres_version: postgres_version(),
        files,
        bytes,
        sha256: sha256_of(&data.join("backup_manifest"))?,
    };
    write_manifest(dest, &manifest)?;
    Ok(manifest)
}

/// Restores a base backup as the private cluster under `root` (whose
/// `postgres/` folder must not exist yet), replaying archived WAL up to
/// `recovery.until` when given; starts the restored server until its
/// recovery has ended, then stops it.
pub async fn restore_cluster(
    from: &Path,
    root: &Path,
    recovery: Option<Recovery>,
) -> anyhow::Result<Manifest> {
    let manifest = read_manifest(from)?;
    if manifest.kind != BackupKind::BaseBackup {
        bail!(
            "{} holds a dump; restore it with DATABASE_URL set",
            from.display()
        );
    }
    let (from, root) = (from.to_path_buf(), root.to_path_buf());
    let mut cluster = tokio::task::spawn_blocking(move || -> anyhow::Result<LocalCluster> {
        let mut cluster = LocalCluster::new(&root, ClusterOptions::default())?;
        cluster.verify_backup(&from.join("data"))?;
        cluster.lay_down(&from.join("data"), recovery.as_ref())?;
        cluster.start()?;
        Ok(cluster)
    })
    .await??;
    let waited = wait_for_recovery(&cluster.url("postgres")).await;
    let stopped = tokio::task::spawn_blocking(move || cluster.stop()).await?;
    waited?;
    stopped?;
    Ok(manifest)
}

/// Waits until the server has left recovery (replayed its WAL and, for a
/// point-in-time recovery, been promoted).
async fn wait_for_recovery(url: &str) -> anyhow::Result<()> {
    #[derive(diesel::QueryableByName)]
    struct InRecovery {
        #[diesel(sql_type = Bool)]
        r: bool,
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Ok(mut conn) = AsyncPgConnection::establish(url).await
            && let Ok(row) = diesel::sql_query("SELECT pg_is_in_recovery() AS r")
                .get_result::<InRecovery>(&mut conn)
                .await
            && !row.r
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the restored server did not finish its recovery within 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn tool(name: &str) -> anyhow::Result<PathBuf> {
    let path = find_bin_dir()
        .map(|bin| bin.join(name))
        .filter(|p| p.exists())
        .with_context(|| format!("{name} was not found: install PostgreSQL's client tools"))?;
    Ok(path)
}

/// Dumps the database at `url` (`pg_dump`, custom format) into `dest`.
pub fn dump_database(url: &str, dest: &Path) -> anyhow::Result<Manifest> {
    fresh_folder(dest)?;
    let started_at = Utc::now();
    let file = dest.join("pulang.dump");
    let out = Command::new(tool("pg_dump")?)
        .arg("--format=custom")
        .arg("--file")
        .arg(&file)
        .arg("--dbname")
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .context("cannot run pg_dump")?;
    if !out.status.success() {
        bail!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let manifest = Manifest {
        kind: BackupKind::Dump,
        started_at,
        finished_at: Utc::now(),
        pulang_version: env!("CARGO_PKG_VERSION").to_owned(),
        postgres_version: postgres_version(),
        files: 1,
        bytes: std::fs::metadata(&file)?.len(),
        sha256: sha256_of(&file)?,
    };
    write_manifest(dest, &manifest)?;
    Ok(manifest)
}

/// Restores a dump into the database at `url`, which must hold no tables yet.
pub async fn restore_dump(from: &Path, url: &str) -> anyhow::Result<Manifest> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let manifest = read_manifest(from)?;
    if manifest.kind != BackupKind::Dump {
        bail!(
            "{} holds a base backup of a private cluster; restore it without DATABASE_URL",
            from.display()
        );
    }
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .context("cannot reach the database to restore into")?;
    let tables = diesel::sql_query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .get_result::<Count>(&mut conn)
    .await?
    .n;
    if tables > 0 {
        bail!(
            "the database to restore into holds {tables} tables; restore refuses to overwrite one, give it an empty database"
        );
    }
    let out = Command::new(tool("pg_restore")?)
        .arg("--exit-on-error")
        .arg("--no-owner")
        .arg("--dbname")
        .arg(url)
        .arg(from.join("pulang.dump"))
        .stdin(Stdio::null())
        .output()
        .context("cannot run pg_restore")?;
    if !out.status.success() {
        bail!(
            "pg_restore failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_backup_is_refused_by_its_manifest() {
        let dir = std::env::temp_dir().join(format!("pulang-manifest-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pulang.dump"), b"the dump").unwrap();
        let manifest = Manifest {
            kind: BackupKind::Dump,
            started_at: Utc::now(),
            finished_at: Utc::now(),
            pulang_version: "0".into(),
            postgres_version: "x".into(),
            files: 1,
            bytes: 8,
            sha256: sha256_of(&dir.join("pulang.dump")).unwrap(),
        };
        write_manifest(&dir, &manifest).unwrap();
        assert!(read_manifest(&dir).is_ok());
        std::fs::write(dir.join("pulang.dump"), b"the dump, changed").unwrap();
        let error = read_manifest(&dir).unwrap_err().to_string();
        assert!(error.contains("damaged"), "{error}");
        assert!(
            fresh_folder(&dir).is_err(),
            "a backup never goes into a full folder"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
