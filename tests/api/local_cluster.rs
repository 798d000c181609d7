//! `pulang serve` with nothing configured: it creates its own cluster, serves,
//! stops it on SIGTERM and finds its data again at the next start.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data_dir: &std::path::Path, port: u16, admin: bool) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pulang"));
    cmd.env_remove("DATABASE_URL")
        .env("PULANG_DATA_DIR", data_dir)
        .env("PULANG_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if admin {
        cmd.env("PULANG_ADMIN_USERNAME", "first.admin")
            .env("PULANG_ADMIN_PASSWORD", "a long enough first password");
    }
    cmd.spawn().unwrap()
}

pub(crate) fn http(port: u16, request: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut out = String::new();
    stream.read_to_string(&mut out).ok()?;
    Some(out)
}

pub(crate) fn wait_ready(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        assert!(child.try_wait().unwrap().is_none(), "pulang exited early");
        if http(
            port,
            "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("pulang did not become ready");
}

fn sign_in(port: u16) -> String {
    let body = r#"{"grant_type":"password","username":"first.admin","password":"a long enough first password"}"#;
    let request = format!(
        "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    http(port, &request).unwrap()
}

pub(crate) fn terminate(mut child: Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "pulang exited with {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("pulang did not stop on SIGTERM");
}

#[test]
fn serve_runs_its_own_cluster_stops_it_and_keeps_the_data() {
    let dir = std::env::temp_dir().join(format!("pulang-serve-{}", uuid::Uuid::new_v4().simple()));
    let port = free_port();

    let mut first = start(&dir, port, true);
    wait_ready(port, &mut first);
    assert!(
        sign_in(port).starts_with("HTTP/1.1 200"),
        "the first administrator cannot sign in"
    );
    assert!(
        dir.join("jwt-secret").exists(),
        "the signing key is kept in the data folder"
    );
    terminate(first);
    assert!(
        !dir.join("postgres/postmaster.pid").exists(),
        "the cluster was not stopped"
    );

    // The data is there at the next start (no admin variables this time).
    let mut second = start(&dir, port, false);
    wait_ready(port, &mut second);
    assert!(
        sign_in(port).starts_with("HTTP/1.1 200"),
        "the administrator was lost"
    );
    terminate(second);

    let _ = std::fs::remove_dir_all(&dir);
}
