//! Logins made by the real tools, in throwaway homes: `skopeo login` into an
//! `auth.json`, `docker-credential-pass` backed by `pass` and a gpg key made
//! in batch mode, and credential-helper scripts on a private `PATH`.
//!
//! Every tool runs with `HOME`, `XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`,
//! `DOCKER_CONFIG`, `GNUPGHOME` and `PASSWORD_STORE_DIR` inside the
//! [`Home`], so nothing of the machine's own logins is read or written.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

use super::registry::Registry;
use super::tools::{output, require_tool, run};
use super::User;

/// A throwaway home: `home/`, `run/` (XDG_RUNTIME_DIR), `config/`
/// (XDG_CONFIG_HOME), `docker/` (DOCKER_CONFIG), `gnupg/`, `store/`
/// (PASSWORD_STORE_DIR) and `bin/` (helper scripts, first on PATH).
pub struct Home {
    dir: TempDir,
    gpg_started: bool,
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::Builder::new()
            .prefix("regc-logins-")
            .tempdir()
            .expect("fixture: temp home");
        for sub in ["home", "run", "config", "docker", "gnupg", "bin"] {
            fs::create_dir_all(dir.path().join(sub)).expect("fixture: home dirs");
        }
        // gpg refuses a home others may read.
        fs::set_permissions(dir.path().join("gnupg"), fs::Permissions::from_mode(0o700))
            .expect("fixture: chmod gnupg");
        fs::set_permissions(dir.path().join("run"), fs::Permissions::from_mode(0o700))
            .expect("fixture: chmod run");
        Home {
            dir,
            gpg_started: false,
        }
    }

    pub fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// `$XDG_RUNTIME_DIR/containers/auth.json`: where `podman login` writes.
    pub fn runtime_auth_json(&self) -> PathBuf {
        self.path("run").join("containers").join("auth.json")
    }

    /// `$DOCKER_CONFIG/config.json`.
    pub fn docker_config(&self) -> PathBuf {
        self.path("docker").join("config.json")
    }

    /// `PATH` with `bin/` first, then the system's.
    pub fn path_var(&self) -> OsString {
        let mut dirs = vec![self.path("bin")];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        ));
        std::env::join_paths(dirs).expect("fixture: PATH")
    }

    /// Every variable a login lookup or a tool may read, inside this home.
    /// `REGISTRY_AUTH_FILE` is not among them (it would hide the others).
    pub fn env(&self) -> Vec<(String, OsString)> {
        vec![
            ("HOME".into(), self.path("home").into()),
            ("XDG_RUNTIME_DIR".into(), self.path("run").into()),
            ("XDG_CONFIG_HOME".into(), self.path("config").into()),
            ("DOCKER_CONFIG".into(), self.path("docker").into()),
            ("GNUPGHOME".into(), self.path("gnupg").into()),
            ("PASSWORD_STORE_DIR".into(), self.path("store").into()),
            ("PATH".into(), self.path_var()),
        ]
    }

    /// `tool` (required, never skipped) run inside this home.
    pub fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(require_tool(tool));
        cmd.env_remove("REGISTRY_AUTH_FILE");
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd
    }

    /// `skopeo login [--authfile FILE] -u USER --password-stdin TARGET`,
    /// TARGET being the registry's `host:port` plus `namespace` if given.
    /// Without `authfile` skopeo writes `$XDG_RUNTIME_DIR/containers/auth.json`
    /// (`DOCKER_CONFIG` is left out of its environment for that).
    pub fn skopeo_login(
        &self,
        reg: &Registry,
        authfile: Option<&Path>,
        user: &User,
        namespace: Option<&str>,
    ) {
        let target = match namespace {
            Some(ns) => format!("{}/{ns}", reg.host()),
            None => reg.host(),
        };
        let mut cmd = self.command("skopeo");
        cmd.arg("login");
        match authfile {
            Some(f) => {
                cmd.arg("--authfile").arg(f);
            }
            // skopeo 1.9 writes $DOCKER_CONFIG/config.json when that is
            // set; without it, podman's primary file.
            None => {
                cmd.env_remove("DOCKER_CONFIG");
            }
        }
        // The suite's CA is not in the system store: skip verification, as
        // the login is only the way to get a real file written.
        cmd.args(["--tls-verify=false", "-u", user.name, "--password-stdin"])
            .arg(&target)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("fixture: run skopeo login");
        child
            .stdin
            .take()
            .expect("fixture: skopeo stdin")
            .write_all(user.password.as_bytes())
            .expect("fixture: write password");
        let out = child.wait_with_output().expect("fixture: skopeo login");
        assert!(
            out.status.success(),
            "fixture: skopeo login {target} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Sets up `pass` on a fresh gpg key (no passphrase, batch mode) so that
    /// `docker-credential-pass` works in this home.
    pub fn init_pass(&mut self) {
        require_tool("docker-credential-pass");
        self.gpg_started = true;
        run(
            self.command("gpg").args([
                "--batch",
                "--passphrase",
                "",
                "--quick-generate-key",
                "registry-client test <test@invalid>",
                "default",
                "default",
                "never",
            ]),
            "gpg --quick-generate-key",
        );
        let listed = run(
            self.command("gpg").args(["--list-keys", "--with-colons"]),
            "gpg --list-keys",
        );
        let listed = String::from_utf8_lossy(&listed);
        let fpr = listed
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.trim_end_matches(':').rsplit(':').next())
            .expect("fixture: gpg key fingerprint")
            .to_string();
        run(self.command("pass").args(["init", &fpr]), "pass init");
    }

    /// `docker-credential-pass store` of `user` for `server`.
    pub fn pass_store(&self, server: &str, user: &User) {
        let mut child = self
            .command("docker-credential-pass")
            .arg("store")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fixture: run docker-credential-pass");
        let payload = serde_json::json!({
            "ServerURL": server,
            "Username": user.name,
            "Secret": user.password,
        });
        child
            .stdin
            .take()
            .expect("fixture: helper stdin")
            .write_all(payload.to_string().as_bytes())
            .expect("fixture: write helper payload");
        let out = child.wait_with_output().expect("fixture: helper store");
        assert!(
            out.status.success(),
            "fixture: docker-credential-pass store failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Writes `bin/docker-credential-NAME`, a shell script with `body`.
    pub fn helper_script(&self, name: &str, body: &str) {
        let path = self.path("bin").join(format!("docker-credential-{name}"));
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("fixture: write helper");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .expect("fixture: chmod helper");
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        // The gpg-agent that gpg started for this home, stopped by its own
        // tool (it knows the agent's pid from the home's socket).
        if self.gpg_started {
            let _ = output(
                self.command("gpgconf").args(["--kill", "gpg-agent"]),
                "gpgconf --kill gpg-agent",
            );
        }
    }
}
