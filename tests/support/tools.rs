//! External tools: loud failures, never skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Absolute path of the registry binary (Debian package `docker-registry`).
pub const DOCKER_REGISTRY: &str = "/usr/bin/docker-registry";

/// Returns the path of a required external tool, or panics loudly.
///
/// `name` is either an absolute path or a program name looked up in `PATH`.
pub fn require_tool(name: &str) -> PathBuf {
    let found = if name.starts_with('/') {
        let p = PathBuf::from(name);
        p.is_file().then_some(p)
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    };
    match found {
        Some(p) => p,
        None => panic!(
            "\n\n*** REGISTRY TEST FIXTURE: required tool `{name}` is not installed. ***\n\
             The integration tests need a real registry and real image tooling; they never skip.\n\
             On Debian/Ubuntu: apt-get install docker-registry skopeo umoci openssl apache2-utils\n\n"
        ),
    }
}

/// Runs a command, panicking with its stdout/stderr if it fails. Returns stdout.
pub fn run(cmd: &mut Command, what: &str) -> Vec<u8> {
    let out = output(cmd, what);
    if !out.status.success() {
        panic!(
            "fixture: {what} failed ({}): {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            cmd,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.stdout
}

/// Runs a command and returns its output whatever the exit status.
pub fn output(cmd: &mut Command, what: &str) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("fixture: cannot run {what} ({cmd:?}): {e}"))
}

/// `openssl` with the given arguments, run in `dir`.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let bin = require_tool("openssl");
    run(
        Command::new(bin).current_dir(dir).args(args),
        &format!("openssl {}", args.first().unwrap_or(&"")),
    )
}
