//! `make watch` stops exactly what it started: SIGTERM in the middle of start-up (the APIs
//! up, the functions not yet built) ends every process it started and removes its files.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Every descendant of `pid`, from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            // `pid (comm) state ppid ...`; comm may hold spaces, so read after the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u32>().ok());
            if ppid == Some(p) && !found.contains(&child) {
                found.push(child);
                frontier.push(child);
            }
        }
    }
    found
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next().map(str::to_owned))
        })
        .is_some_and(|state| state != "Z")
}

#[test]
fn sigterm_during_start_up_stops_every_process_make_watch_started() {
    let _one = super::RUN_DIR.lock().unwrap_or_else(|e| e.into_inner());
    let paths = e2e::Paths::discover();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stack"))
        .env("E2E_VENV_BIN", &paths.venv_bin)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.path().join("out")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("err")).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let err = || std::fs::read_to_string(dir.path().join("err")).unwrap_or_default();
    while !err().contains("building and starting") {
        assert!(
            Instant::now() < deadline,
            "make watch did not get going:\n{}",
            err()
        );
        assert!(child.try_wait().unwrap().is_none(), "it exited:\n{}", err());
        std::thread::sleep(Duration::from_millis(100));
    }
    let started = descendants(child.id());
    assert!(
        started.len() >= 3,
        "moto, the watch and the gateway run: {started:?}"
    );
    let env_file = paths.root.join(".run/watch.env");
    assert!(env_file.exists());
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "make watch did not stop:\n{}",
            err()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let left: Vec<u32> = started.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "left running: {left:?}");
    assert!(!env_file.exists(), "its env file is removed");
    assert!(err().contains("stopping"));
}
