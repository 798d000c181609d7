//! A private PostgreSQL cluster run from the machine's installed binaries.
//!
//! Used when `DATABASE_URL` is unset (the local default) and by the test
//! harness. The cluster listens only on a unix socket in a folder of its own,
//! so it never clashes with another server. When the process runs as root,
//! `initdb`, `pg_ctl` and `postgres` run as the `postgres` user, which owns the
//! data folder. PostgreSQL's own `postmaster.pid` lock guarantees that two
//! starts never run two servers on one data folder: the second finds the first
//! running and reuses it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, anyhow, bail};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;

use nix::unistd::{Uid, User, chown};

/// Longest unix socket path the kernel accepts, less a safety margin.
const MAX_SOCKET_PATH: usize = 100;
/// Name of the socket file PostgreSQL creates in its socket folder.
const SOCKET_FILE: &str = ".s.PGSQL.5432";

/// What went wrong when no PostgreSQL binaries could be found.
pub const NO_BINARIES_HELP: &str = "\
no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found on PATH, through \
`pg_config --bindir`, or under /usr/lib/postgresql/<version>/bin.
Three ways out:
  1. install PostgreSQL (Debian: `apt-get install postgresql`) and run Pulang again;
  2. set DATABASE_URL to a PostgreSQL server you already have;
  3. run `docker compose up` to start Pulang beside a PostgreSQL container.";

/// Options for a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Turn off `fsync` and synchronous commit: for throwaway test clusters only.
    pub durable: bool,
    /// `max_connections` of the server.
    pub max_connections: u32,
    /// Archive every completed WAL segment to this folder, for point-in-time
    /// recovery from a base backup (`PULANG_WAL_ARCHIVE_DIR`).
    pub wal_archive: Option<PathBuf>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            durable: true,
            max_connections: 100,
            wal_archive: None,
        }
    }
}

/// How to stop a server (`pg_ctl stop -m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// Sessions are ended (57P01), data is flushed: a clean stop.
    Fast,
    /// Every process quits at once; the next start recovers from the WAL, as after a crash.
    Immediate,
}

/// A local cluster: its folders, the binaries that run it and the account they run as.
#[derive(Debug)]
pub struct LocalCluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    run_as: Option<User>,
    options: ClusterOptions,
    started_here: bool,
}

impl LocalCluster {
    /// Describes the cluster kept under `root` (created on [`LocalCluster::start`]).
    pub fn new(root: &Path, options: ClusterOptions) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir().ok_or_else(|| anyhow!(NO_BINARIES_HELP))?;
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create the data folder {}", root.display()))?;
        let root = root
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", root.display()))?;
        let run_as = if Uid::effective().is_root() {
            Some(
                User::from_name("postgres")?
                    .ok_or_else(|| anyhow!("running as root needs a `postgres` user to run PostgreSQL as; install PostgreSQL or create the user"))?,
            )
        } else {
            None
        };
        Ok(Self {
            bin_dir,
            data_dir: root.join("postgres"),
            socket_dir: socket_dir_for(&root),
            log_file: root.join("postgres.log"),
            run_as,
            options,
            started_here: false,
        })
    }

    /// The folder holding the unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// A connection URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@localhost/{database}?host={}",
            percent_encode(&self.socket_dir.to_string_lossy())
        )
    }

    /// Whether this process started the server (and so should stop it).
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// Creates the cluster if it does not exist yet and starts it unless it already runs.
    pub fn start(&mut self) -> anyhow::Result<()> {
        self.prepare_folder(&self.socket_dir.clone())?;
        if !self.data_dir.join("PG_VERSION").exists() {
            self.init()?;
        }
        self.prepare_log_file()?;
        if self.is_running()? {
            log::info!(
                "reusing the PostgreSQL cluster already running in {}",
                self.data_dir.display()
            );
            return Ok(());
        }
        let mut server_options = format!(
            "-c listen_addresses='' -k {} -c unix_socket_permissions=0700 -c max_connections={}",
            self.socket_dir.display(),
            self.options.max_connections
        );
        if !self.options.durable {
            server_options
                .push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        if let Some(archive) = self.options.wal_archive.clone() {
            self.prepare_folder(&archive)?;
            let archive = archive
                .canonicalize()
                .with_context(|| format!("cannot resolve {}", archive.display()))?;
            let dir = shell_quoted(&archive)?;
            // pg_ctl hands these options to a shell: the command is one quoted word.
            server_options.push_str(&format!(
                " -c archive_mode=on -c archive_timeout=60 -c \"archive_command=test ! -f {dir}/%f && cp %p {dir}/%f\""
            ));
        }
        let out = self.pg_ctl(&[
            OsStr::new("start"),
            OsStr::new("-w"),
            OsStr::new("-t"),
            OsStr::new("60"),
            OsStr::new("-l"),
            self.log_file.as_os_str(),
            OsStr::new("-o"),
            OsStr::new(&server_options),
        ])?;
        if !out.status.success() {
            // Another process may have won a race to start the same cluster.
            if self.is_running()? {
                return Ok(());
            }
            bail!(
                "PostgreSQL did not start ({}); see {}\n{}",
                out.status,
                self.log_file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        self.started_here = true;
        log::info!("started PostgreSQL in {}", self.data_dir.display());
        Ok(())
    }

    /// Stops the server with a fast shutdown (open sessions are ended, data is flushed).
    pub fn stop(&mut self) -> anyhow::Result<()> {
        self.stop_with(Shutdown::Fast)
    }

    /// Stops the server in the given mode (the fault tests use both).
    pub fn stop_with(&mut self, mode: Shutdown) -> anyhow::Result<()> {
        let mode = match mode {
            Shutdown::Fast => "fast",
            Shutdown::Immediate => "immediate",
        };
        let out = self.pg_ctl(&[
            OsStr::new("stop"),
            OsStr::new("-m"),
            OsStr::new(mode),
            OsStr::new("-w"),
        ])?;
        if !out.status.success() {
            bail!(
                "pg_ctl stop failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        self.started_here = false;
        Ok(())
    }

    /// Whether a server runs on this data folder.
    pub fn is_running(&self) -> anyhow::Result<bool> {
        Ok(self.pg_ctl(&[OsStr::new("status")])?.status.success())
    }

    /// Runs a shell command line when this process exits, however it exits:
    /// a detached watchdog waits for `pid` to end. Used by the test harness to
    /// stop and remove its throwaway cluster.
    pub fn stop_and_remove_when_process_ends(&self, pid: u32, remove: &Path) -> anyhow::Result<()> {
        let pg_ctl = self.bin_dir.join("pg_ctl");
        let stop = self.as_user_prefix();
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
             {stop} '{}' stop -D '{}' -m immediate >/dev/null 2>&1; rm -rf '{}'",
            pg_ctl.display(),
            self.data_dir.display(),
            remove.display()
        );
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd.process_group(0);
        cmd.spawn().context("cannot start the cluster watchdog")?;
        Ok(())
    }

    /// The cluster's data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Writes a consistent base backup of the running server into `dest`
    /// (plain format, with the WAL it needs, and PostgreSQL's own manifest of
    /// SHA-256 checksums), as the account PostgreSQL runs as.
    pub fn base_backup(&self, dest: &Path) -> anyhow::Result<()> {
        self.prepare_folder(dest)?;
        let out = self.run(
            "pg_basebackup",
            &[
                OsStr::new("-D"),
                dest.as_os_str(),
                OsStr::new("-h"),
                self.socket_dir.as_os_str(),
                OsStr::new("-U"),
                OsStr::new("postgres"),
                OsStr::new("-X"),
                OsStr::new("stream"),
                OsStr::new("--checkpoint=fast"),
                OsStr::new("--manifest-checksums=SHA256"),
                OsStr::new("--label=pulang backup"),
            ],
        )?;
        if !out.status.success() {
            bail!(
                "pg_basebackup failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Checks a base backup against its manifest: every file's checksum and
    /// the WAL needed to make it consistent (`pg_verifybackup`).
    pub fn verify_backup(&self, backup: &Path) -> anyhow::Result<()> {
        let out = self.run("pg_verifybackup", &[backup.as_os_str()])?;
        if !out.status.success() {
            bail!(
                "the backup in {} does not verify: {}",
                backup.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// Lays a base backup down as this cluster's data folder, which must not
    /// exist yet. With `recovery`, the server will replay archived WAL up to a
    /// point in time when it next starts.
    pub fn lay_down(&self, backup: &Path, recovery: Option<&Recovery>) -> anyhow::Result<()> {
        if self.data_dir.exists()
            && std::fs::read_dir(&self.data_dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            bail!(
                "{} already holds a cluster; restore refuses to overwrite one. Stop Pulang and move \
                 that folder aside (or point PULANG_DATA_DIR elsewhere) first",
                self.data_dir.display()
            );
        }
        self.prepare_folder(&self.data_dir)?;
        let mut source = backup.as_os_str().to_owned();
        source.push("/.");
        let out = self
            .command("cp")
            .arg("-a")
            .arg(&source)
            .arg(&self.data_dir)
            .stdin(Stdio::null())
            .output()
            .context("cannot run cp")?;
        if !out.status.success() {
            bail!(
                "cannot copy the backup: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // A base backup has no server log or socket settings of its own to keep.
        let _ = std::fs::remove_file(self.data_dir.join("backup_manifest"));
        if let Some(recovery) = recovery {
            let archive = shell_quoted(&recovery.wal_archive)?;
            let mut conf = std::fs::OpenOptions::new()
                .append(true)
                .open(self.data_dir.join("postgresql.auto.conf"))
                .context("cannot open postgresql.auto.conf of the restored cluster")?;
            use std::io::Write;
            writeln!(
                conf,
                "# point-in-time recovery, written by `pulang restore`\n\
                 restore_command = 'cp {archive}/%f %p'\n\
                 recovery_target_time = '{}'\n\
                 recovery_target_action = 'promote'",
                recovery.until.to_rfc3339()
            )?;
            std::fs::write(self.data_dir.join("recovery.signal"), b"")?;
            if let Some(user) = &self.run_as {
                chown(
                    &self.data_dir.join("recovery.signal"),
                    Some(user.uid),
                    Some(user.gid),
                )?;
            }
        }
        Ok(())
    }

    fn as_user_prefix(&self) -> String {
        match &self.run_as {
            Some(user) => format!("runuser -u {} --", user.name),
            None => String::new(),
        }
    }

    fn init(&self) -> anyhow::Result<()> {
        self.prepare_folder(&self.data_dir)?;
        let out = self.run(
            "initdb",
            &[
                OsStr::new("-D"),
                self.data_dir.as_os_str(),
                OsStr::new("-U"),
                OsStr::new("postgres"),
                OsStr::new("--auth=trust"),
                OsStr::new("-E"),
                OsStr::new("UTF8"),
                OsStr::new("--no-locale"),
                OsStr::new("--no-instructions"),
            ],
        )?;
        if !out.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// Creates `dir` (mode 0700) owned by the account PostgreSQL runs as, and
    /// checks that this account can reach it.
    fn prepare_folder(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        if let Some(user) = &self.run_as {
            chown(dir, Some(user.uid), Some(user.gid))
                .with_context(|| format!("cannot give {} to the postgres user", dir.display()))?;
            let reachable = self
                .command("sh")
                .args(["-c", "test -w \"$1\" -a -x \"$1\"", "sh"])
                .arg(dir)
                .status()?
                .success();
            if !reachable {
                bail!(
                    "the postgres user cannot reach {}: a folder above it is closed to other users. \
                     Set PULANG_DATA_DIR to a folder it can reach (for example /var/lib/pulang).",
                    dir.display()
                );
            }
        }
        Ok(())
    }

    /// The server log lives beside the data folder; PostgreSQL's account must own it.
    fn prepare_log_file(&self) -> anyhow::Result<()> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)
            .with_context(|| format!("cannot create {}", self.log_file.display()))?;
        drop(file);
        if let Some(user) = &self.run_as {
            chown(&self.log_file, Some(user.uid), Some(user.gid))?;
        }
        Ok(())
    }

    fn pg_ctl(&self, args: &[&OsStr]) -> anyhow::Result<Output> {
        let mut full: Vec<&OsStr> = vec![OsStr::new("-D"), self.data_dir.as_os_str()];
        full.extend_from_slice(args);
        self.run("pg_ctl", &full)
    }

    fn run(&self, program: &str, args: &[&OsStr]) -> anyhow::Result<Output> {
        let path = self.bin_dir.join(program);
        let mut cmd = self.command(&path);
        cmd.args(args).stdin(Stdio::null());
        // A Ctrl-C in the terminal must reach Pulang, which then stops the server cleanly.
        cmd.process_group(0);
        if program == "pg_ctl" {
            // pg_ctl's server keeps stdout/stderr open; send them to the log, not a pipe.
            cmd.stdout(Stdio::null());
        }
        cmd.output()
            .with_context(|| format!("cannot run {}", path.display()))
    }

    fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_remove("PGDATA").env("LC_ALL", "C");
        if let Some(user) = &self.run_as {
            cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
            cmd.current_dir("/").env("HOME", &user.dir);
        }
        cmd
    }
}

/// Replaying archived WAL to a point in time after laying down a base backup.
#[derive(Debug, Clone)]
pub struct Recovery {
    /// The folder the WAL was archived to (`PULANG_WAL_ARCHIVE_DIR`).
    pub wal_archive: PathBuf,
    /// Replay every transaction committed up to this time, and none after.
    pub until: chrono::DateTime<chrono::Utc>,
}

/// A path for a shell command line, refused when it would need quoting.
fn shell_quoted(path: &Path) -> anyhow::Result<String> {
    let text = path.to_string_lossy();
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        Ok(text.into_owned())
    } else {
        bail!(
            "{} may hold only letters, digits and / . _ - + to be used in PostgreSQL's archive commands",
            path.display()
        )
    }
}

/// The socket folder: inside the data folder when its path is short enough for
/// a unix socket, otherwise a short folder under `/tmp` named after it.
fn socket_dir_for(root: &Path) -> PathBuf {
    let inside = root.join("run");
    if inside.join(SOCKET_FILE).as_os_str().len() <= MAX_SOCKET_PATH {
        return inside;
    }
    let mut hash: u64 = 0xcbf29ce484222325;
    for byte in root.as_os_str().as_encoded_bytes() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x100000001b3);
    }
    PathBuf::from(format!("/tmp/pulang-{hash:016x}"))
}

/// Finds the folder with `initdb`, `pg_ctl` and `postgres`.
pub fn find_bin_dir() -> Option<PathBuf> {
    // Links to the server binaries (`/usr/local/bin/postgres` →
    // `/usr/lib/postgresql/15/bin/postgres`) lead to the folder that also holds
    // pg_basebackup, pg_verifybackup, pg_dump and pg_restore.
    find_linked_bin_dir().map(|dir| {
        dir.join("postgres")
            .canonicalize()
            .ok()
            .and_then(|real| real.parent().map(Path::to_path_buf))
            .filter(|real| real.join("pg_ctl").is_file() && real.join("initdb").is_file())
            .unwrap_or(dir)
    })
}

fn find_linked_bin_dir() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = std::env::var_os("PULANG_PG_BIN").map(PathBuf::from) {
        return complete(&dir).then_some(dir);
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|d| complete(d))
    {
        return Some(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if complete(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| complete(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_root_keeps_its_socket_inside() {
        assert_eq!(
            socket_dir_for(Path::new("/srv/pulang")),
            PathBuf::from("/srv/pulang/run")
        );
    }

    #[test]
    fn a_long_root_moves_its_socket_to_a_short_folder() {
        let long = PathBuf::from(format!("/{}", "x".repeat(120)));
        let dir = socket_dir_for(&long);
        assert!(dir.starts_with("/tmp"));
        assert!(dir.join(SOCKET_FILE).as_os_str().len() <= MAX_SOCKET_PATH);
        assert_eq!(
            dir,
            socket_dir_for(&long),
            "the same root gives the same folder"
        );
    }

    #[test]
    fn socket_paths_are_percent_encoded_in_urls() {
        assert_eq!(percent_encode("/tmp/a b"), "%2Ftmp%2Fa%20b");
    }
}
