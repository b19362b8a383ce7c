//! The binary refuses to start without a webhook key of its own: it no
//! longer falls back to `CX_JWT_SECRET`, so one leaked key gives only one.

use std::process::Command;

const JWT_SECRET: &str = "a-jwt-secret-of-at-least-32-characters";

/// Runs `cx-reporting serve` with only these variables (and an unreachable
/// database, which a valid configuration would go on to connect to), and
/// returns its exit status and stderr.
fn serve_with(webhook_key: Option<&str>) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cx-reporting"));
    command
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("CX_JWT_SECRET", JWT_SECRET)
        .env("CX_BIND", "127.0.0.1:0");
    if let Some(key) = webhook_key {
        command.env("CX_WEBHOOK_KEY", key);
    }
    let output = command.output().expect("run cx-reporting");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn startup_fails_fast_without_a_separate_webhook_key() {
    for (key, message) in [
        (None, "CX_WEBHOOK_KEY must be set"),
        (
            Some("too-short"),
            "CX_WEBHOOK_KEY must be at least 32 characters",
        ),
        (
            Some(JWT_SECRET),
            "CX_WEBHOOK_KEY must differ from CX_JWT_SECRET",
        ),
    ] {
        let (success, stderr) = serve_with(key);
        assert!(!success, "{key:?}: must not start");
        assert!(stderr.contains(message), "{key:?}: {stderr}");
    }
}
