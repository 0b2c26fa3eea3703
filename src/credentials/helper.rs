//! `docker-credential-NAME get`: the registry's server URL on stdin, a JSON
//! `{"ServerURL", "Username", "Secret"}` on stdout (the protocol of
//! docker-credential-helpers). The program runs under a deadline (killed
//! when it passes) and its output is capped; whatever goes wrong is an
//! `Auth` error naming the helper, and nothing it printed is shown when it
//! might be a secret.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::Credential;
use crate::text::quote;
use crate::{Error, Result};

/// The most a helper may print: an answer is a few hundred bytes.
pub(crate) const MAX_OUTPUT: u64 = 64 << 10;
/// What a helper prints when it has nothing for the server.
const NOT_FOUND: &str = "credentials not found in native keychain";
/// The user name that marks the secret as an identity token.
const TOKEN_USER: &str = "<token>";
/// How much of a failing helper's message is shown.
const SHOWN: usize = 200;

// No `Debug`: it holds the secret.
#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Asks helper `name` for the credentials of `server`, waiting at most
/// `timeout`; `env` is added to the helper's environment. `Ok(None)` when
/// the helper has none.
pub(crate) fn get(
    name: &str,
    server: &str,
    timeout: Duration,
    env: &[(OsString, OsString)],
) -> Result<Option<Credential>> {
    // A name is a program-name suffix, never a path.
    if name.is_empty() || name.contains(['/', '\\', '\0']) || name.starts_with('.') {
        return Err(Error::auth(
            None,
            format!("credential helper name {} is not valid", quote(name)),
        ));
    }
    let program = format!("docker-credential-{name}");
    let fail = |why: String| Error::auth(None, format!("credential helper {program}: {why}"));
    let deadline = Instant::now() + timeout;
    let mut child = Command::new(&program)
        .arg("get")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "is not installed (not found on PATH)".to_string()
            } else {
                format!("cannot be run: {e}")
            };
            Error::auth_caused(None, format!("credential helper {program} {why}"), e)
        })?;
    // Small enough for the pipe's buffer; a helper that does not read it
    // is met by the deadline below, and a closed pipe is its own answer.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    // Read on threads so that a helper filling a pipe cannot stall us; a
    // reader left behind by a grandchild holding the pipe ends with it.
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = mpsc::channel();
        if let Some(pipe) = pipe {
            std::thread::spawn(move || {
                let mut out = Vec::new();
                let r = pipe.take(MAX_OUTPUT + 1).read_to_end(&mut out);
                let _ = tx.send(r.map(|_| out));
            });
        }
        rx
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );

    let mut pause = Duration::from_millis(2);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("cannot be waited for: {e}")));
            }
        }
        let now = Instant::now();
        if now >= deadline {
            // Killed by its own handle, and reaped.
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(format!(
                "did not answer within {timeout:?}; it was stopped"
            )));
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    };
    let collect = |rx: mpsc::Receiver<std::io::Result<Vec<u8>>>, what: &str| {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.max(Duration::from_millis(100))) {
            Ok(Ok(out)) if out.len() as u64 > MAX_OUTPUT => Err(fail(format!(
                "printed more than {} KiB on {what}",
                MAX_OUTPUT >> 10
            ))),
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(fail(format!("{what} cannot be read: {e}"))),
            Err(mpsc::RecvTimeoutError::Disconnected) => Ok(Vec::new()),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(fail(format!(
                "its {what} stayed open after it exited, past {timeout:?}"
            ))),
        }
    };
    let out = collect(stdout, "stdout")?;
    let err = collect(stderr, "stderr")?;

    if !status.success() {
        let said = String::from_utf8_lossy(if out.iter().all(u8::is_ascii_whitespace) {
            &err
        } else {
            &out
        })
        .into_owned();
        if said.contains(NOT_FOUND) {
            return Ok(None);
        }
        return Err(fail(format!("get failed ({status}){}", excerpt(&said))));
    }
    let answer: Answer = serde_json::from_slice(&out).map_err(|_| {
        // What it printed is not shown: it may hold a secret.
        fail(format!(
            "printed {} bytes that are not the credential-helper JSON answer",
            out.len()
        ))
    })?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    if answer.username == TOKEN_USER {
        return Ok(Some(Credential::IdentityToken(answer.secret)));
    }
    if answer.username.is_empty() {
        return Err(fail("answered a secret without a user name".into()));
    }
    Ok(Some(Credential::basic(answer.username, answer.secret)))
}

/// `": first line"` of what a failing helper said, short and printable.
fn excerpt(said: &str) -> String {
    let line = said.trim().lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return String::new();
    }
    let mut shown: String = line.chars().take(SHOWN).collect();
    if shown.len() < line.len() {
        shown.push('…');
    }
    format!(": {}", shown.escape_debug())
}
