//! Drives the C API tests in `ffi-tests/` against real registries: builds
//! the C, C++ and sanitizer programs with `make` (against the static and the
//! shared library this very `cargo test` built), starts the registries with
//! the fixture, and runs every program with their URLs and credentials in
//! `REGC_TEST_*` environment variables — plainly, under valgrind, with
//! ASan/UBSan, and the Python ctypes test. A missing tool (cc, c++, make,
//! pkg-config, readelf, valgrind, python3) fails loudly; nothing is skipped.

#[path = "support/fault.rs"]
mod fault;
#[path = "support/markers.rs"]
mod markers;
mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use fault::{json, status, FaultServer, Route};
use support::{Registry, ALICE, BOB};

const TOOLS: &[&str] = &[
    "cc",
    "c++",
    "make",
    "pkg-config",
    "readelf",
    "valgrind",
    "python3",
];

fn require_tools() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let missing: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|tool| !std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
        .collect();
    assert!(
        missing.is_empty(),
        "\n\n*** C API TESTS: required tools missing: {} ***\n\
         The C/C++/Python tests never skip. Install them with scripts/install-deps\n\
         (Debian: gcc g++ make pkg-config binutils valgrind python3).\n\n",
        missing.join(", ")
    );
}

/// Where this test binary lives: `target/<profile>/deps`, next to the
/// `libregistry_client.{a,so}` built by the same `cargo test`.
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent().expect("deps dir").to_path_buf()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds every test program once per process; returns the output directory.
fn build() -> &'static Path {
    static BUILD: OnceLock<PathBuf> = OnceLock::new();
    BUILD.get_or_init(|| {
        require_tools();
        let libdir = deps_dir();
        for lib in ["libregistry_client.a", "libregistry_client.so"] {
            assert!(
                libdir.join(lib).is_file(),
                "{lib} not found in {} (cargo builds it with the test)",
                libdir.display()
            );
        }
        let out = libdir.parent().expect("profile dir").join("ffi-tests");
        run(
            Command::new("make")
                .arg("-C")
                .arg(root().join("ffi-tests"))
                .arg(format!("LIBDIR={}", libdir.display()))
                .arg(format!("BUILD={}", out.display()))
                .arg("all"),
            "make -C ffi-tests",
        );
        out
    })
}

/// Runs a command to completion; fails with its whole output unless it exits 0.
fn run(cmd: &mut Command, what: &str) -> String {
    let started = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "\n{what} failed ({}):\n--- command ---\n{cmd:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    eprintln!("{what}: ok in {:.1?}", started.elapsed());
    stdout.into_owned()
}

/// A URL where connections are refused (a port that was free a moment ago).
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A server that accepts connections and never answers; it lives as long as
/// the test process.
fn silent_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Every registry kind the C tests use, and the environment describing them.
struct Registries {
    open: Registry,
    basic: Registry,
    token: Registry,
    tls: Registry,
    refused: String,
    silent: String,
}

impl Registries {
    fn start() -> Registries {
        Registries {
            open: Registry::open(),
            basic: Registry::basic(),
            token: Registry::token(),
            tls: Registry::tls(),
            refused: refused_url(),
            silent: silent_url(),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("REGC_TEST_OPEN_URL", self.open.url()),
            ("REGC_TEST_BASIC_URL", self.basic.url()),
            ("REGC_TEST_TOKEN_URL", self.token.url()),
            ("REGC_TEST_TLS_URL", self.tls.url()),
            (
                "REGC_TEST_TLS_CA_FILE",
                self.tls.ca_pem_path().display().to_string(),
            ),
            ("REGC_TEST_REFUSED_URL", self.refused.clone()),
            ("REGC_TEST_SILENT_URL", self.silent.clone()),
            ("REGC_TEST_USER", ALICE.name.to_string()),
            ("REGC_TEST_PASSWORD", ALICE.password.to_string()),
            ("REGC_TEST_USER2", BOB.name.to_string()),
            ("REGC_TEST_PASSWORD2", BOB.password.to_string()),
        ]
    }

    /// A command with the registry environment.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.envs(self.env()).env_remove("REGC_TEST_SUITES");
        cmd
    }
}

fn valgrind(program: &Path) -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--leak-check=full",
        "--show-leak-kinds=definite,indirect",
        "--errors-for-leak-kinds=definite,indirect",
        "--error-exitcode=1",
        "--quiet",
    ])
    .arg(program);
    cmd
}

#[test]
fn c_tests_static_and_shared() {
    let dir = build();
    let regs = Registries::start();
    for linkage in ["static", "shared"] {
        let program = dir.join(format!("test_api_{linkage}"));
        run(&mut regs.command(&program), &format!("test_api_{linkage}"));
        // 8 threads sharing one client: anonymous, and with token auth.
        let threads = dir.join(format!("test_threads_{linkage}"));
        run(
            regs.command(&threads)
                .env("REGC_TEST_THREADS_URL", regs.open.url()),
            &format!("test_threads_{linkage} (open registry)"),
        );
        run(
            regs.command(&threads)
                .env("REGC_TEST_THREADS_URL", regs.token.url())
                .env("REGC_TEST_THREADS_USER", ALICE.name)
                .env("REGC_TEST_THREADS_PASSWORD", ALICE.password),
            &format!("test_threads_{linkage} (token registry)"),
        );
    }
}

#[test]
fn c_tests_under_valgrind() {
    let dir = build();
    let regs = Registries::start();
    // Every suite but `tls`: ring's hand-written AES-GCM assembly produces
    // bytes memcheck cannot see as initialised (false positives in
    // `ring::bb::verify_slices_are_equal` and on `send`); the TLS paths run
    // under ASan/UBSan instead.
    let mut cmd = valgrind(&dir.join("test_api_static"));
    cmd.envs(regs.env())
        .env("REGC_TEST_SUITES", "offline,open,basic,token,network");
    run(&mut cmd, "valgrind test_api_static (all suites but tls)");
    let mut cmd = valgrind(&dir.join("test_threads_static"));
    cmd.envs(regs.env())
        .env("REGC_TEST_THREADS_URL", regs.open.url())
        .env("REGC_TEST_ITERATIONS", "1");
    run(&mut cmd, "valgrind test_threads_static");
}

#[test]
fn c_tests_under_asan_and_ubsan() {
    let dir = build();
    let regs = Registries::start();
    let sanitizers = [
        ("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1"),
        ("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
    ];
    run(
        regs.command(dir.join("test_api_asan")).envs(sanitizers),
        "test_api_asan",
    );
    run(
        regs.command(dir.join("test_threads_asan"))
            .envs(sanitizers)
            .env("REGC_TEST_THREADS_URL", regs.open.url())
            .env("REGC_TEST_ITERATIONS", "2"),
        "test_threads_asan",
    );
}

#[test]
fn cpp_raii_wrapper() {
    let dir = build();
    let open = Registry::open();
    run(
        Command::new(dir.join("test_cpp")).env("REGC_TEST_OPEN_URL", open.url()),
        "test_cpp",
    );
}

#[test]
fn python_ctypes() {
    build();
    let open = Registry::open();
    // Also with PYTHONOPTIMIZE, which strips `assert`: the test's checks
    // must not be asserts, or this run would check nothing.
    for optimize in ["", "1"] {
        run(
            Command::new("python3")
                .arg(root().join("ffi-tests/test_ctypes.py"))
                .env("REGC_TEST_LIB", deps_dir().join("libregistry_client.so"))
                .env("REGC_TEST_OPEN_URL", open.url())
                .env("PYTHONOPTIMIZE", optimize),
            &format!("python3 test_ctypes.py (PYTHONOPTIMIZE={optimize:?})"),
        );
    }
}

/// A registry that asks for Basic credentials and answers 403 with an
/// error body quoting the password and the Basic value it got.
fn echoing_registry() -> FaultServer {
    use markers::*;
    let basic = basic_b64(MARKER_USER, MARKER_PASSWORD);
    let echo = serde_json::json!({"errors": [{
        "code": "DENIED",
        "message": format!("credential Basic {basic} (password {MARKER_PASSWORD})"),
        "detail": {"password": MARKER_PASSWORD, "basic": basic},
    }]});
    FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![status(401).header("WWW-Authenticate", r#"Basic realm="r""#)],
        ),
        (Route::prefix("/v2/"), vec![json(403, &echo.to_string())]),
    ])
}

fn secrets_env(srv: &FaultServer) -> Vec<(&'static str, String)> {
    use markers::*;
    vec![
        ("REGC_TEST_SECRETS_URL", srv.url()),
        ("REGC_TEST_SECRETS_USER", MARKER_USER.to_string()),
        ("REGC_TEST_SECRETS_PASSWORD", MARKER_PASSWORD.to_string()),
        (
            "REGC_TEST_SECRETS_BASIC",
            basic_b64(MARKER_USER, MARKER_PASSWORD),
        ),
        ("REGC_TEST_SECRETS_MARK", MARK.to_string()),
    ]
}

#[test]
fn c_last_error_never_shows_secrets() {
    let dir = build();
    let srv = echoing_registry();
    let env = secrets_env(&srv);
    let program = dir.join("test_secrets_static");
    run(
        Command::new(&program).envs(env.clone()),
        "test_secrets_static",
    );
    run(
        valgrind(&program).envs(env.clone()),
        "valgrind test_secrets_static",
    );
    run(
        Command::new(dir.join("test_secrets_asan"))
            .envs(env)
            .env("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
        "test_secrets_asan",
    );
    // The server was asked (bare, then with Basic) by each of the three
    // runs, for both calls: the echo was really sent.
    let with_basic = srv
        .requests()
        .iter()
        .filter(|r| {
            r.header("authorization")
                .is_some_and(|a| a.starts_with("Basic "))
        })
        .count();
    assert!(with_basic >= 6, "{with_basic} requests with credentials");
}
