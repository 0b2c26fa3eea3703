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
use support::{Auth, Registry, Storage, ALICE, BOB};

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
    /// `auth.json` (podman/skopeo format) with alice's login for `basic`,
    /// named by `REGISTRY_AUTH_FILE`: what the C tests of system
    /// credentials find.
    auth_file: tempfile::TempDir,
}

/// An `auth.json` in a new directory, with `user`'s login for the
/// registry at `url`.
fn auth_file(url: &str, user: &support::User) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let host = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .trim_end_matches('/');
    let auths = serde_json::json!({"auths": {host: {
        "auth": markers::basic_b64(user.name, user.password),
    }}});
    std::fs::write(dir.path().join("auth.json"), auths.to_string()).unwrap();
    dir
}

impl Registries {
    fn start() -> Registries {
        let basic = Registry::basic();
        let auth_file = auth_file(&basic.url(), &ALICE);
        Registries {
            open: Registry::open(),
            basic,
            token: Registry::token(),
            tls: Registry::tls(),
            refused: refused_url(),
            silent: silent_url(),
            auth_file,
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
            (
                "REGISTRY_AUTH_FILE",
                self.auth_file
                    .path()
                    .join("auth.json")
                    .display()
                    .to_string(),
            ),
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

/// The registries of one run of `test_write`: each run writes, so each
/// gets fresh ones.
struct WriteRegistries {
    /// The seed, read-only, no auth: what copies read.
    source: Registry,
    /// Empty, token auth (alice may do anything, bob only pull and push
    /// under bob/), deletion on.
    write: Registry,
    /// Empty, no auth: the other side of copies between registries.
    second: Registry,
    /// Empty, no auth, deletion off.
    nodelete: Registry,
}

impl WriteRegistries {
    fn start() -> WriteRegistries {
        WriteRegistries {
            source: Registry::open(),
            write: Registry::token_empty(),
            second: Registry::open_empty(),
            nodelete: Registry::builder()
                .storage(Storage::Empty)
                .delete(false)
                .start(),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("REGC_TEST_OPEN_URL", self.source.url()),
            ("REGC_TEST_WRITE_URL", self.write.url()),
            ("REGC_TEST_WRITE2_URL", self.second.url()),
            ("REGC_TEST_NODELETE_URL", self.nodelete.url()),
            ("REGC_TEST_USER", ALICE.name.to_string()),
            ("REGC_TEST_PASSWORD", ALICE.password.to_string()),
            ("REGC_TEST_USER2", BOB.name.to_string()),
            ("REGC_TEST_PASSWORD2", BOB.password.to_string()),
        ]
    }

    /// Checks with skopeo and raw HTTP what a run of `test_write` says it
    /// left (`pushed REPO TAG DIGEST`, `blob REPO DIGEST SIZE`).
    fn check_left(&self, stdout: &str) {
        assert_eq!(self.write.auth(), Auth::Token);
        let mut manifests = 0;
        let mut blobs = 0;
        for line in stdout.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["pushed", repo, tag, digest] => {
                    let raw = support::skopeo_raw_manifest(&self.write, repo, tag);
                    assert_eq!(support::sha256_digest(&raw), *digest, "{repo}:{tag}");
                    manifests += 1;
                }
                ["blob", repo, digest, size] => {
                    let size: usize = size.parse().unwrap();
                    let url = format!("{}/v2/{repo}/blobs/{digest}", self.write.url());
                    let auth = self.write.admin_authorization(&[repo]).unwrap();
                    let resp = support::http::get(
                        self.write.agent(),
                        &url,
                        &[("Authorization", auth.as_str())],
                    );
                    assert_eq!(resp.status, 200, "GET {url}");
                    assert_eq!(resp.body.len(), size);
                    // The bytes of test_write.c's pattern_byte().
                    let want: Vec<u8> = (0..size as u64)
                        .map(|i| ((i * 31 + 7) % 251) as u8)
                        .collect();
                    assert!(resp.body == want, "{repo}@{digest}: other bytes");
                    assert_eq!(support::sha256_digest(&resp.body), *digest);
                    blobs += 1;
                }
                _ => {}
            }
        }
        assert_eq!(
            (manifests, blobs),
            (1, 1),
            "what test_write left:\n{stdout}"
        );
    }
}

#[test]
fn c_write_tests_static_and_shared() {
    let dir = build();
    for linkage in ["static", "shared"] {
        let regs = WriteRegistries::start();
        let out = run(
            Command::new(dir.join(format!("test_write_{linkage}"))).envs(regs.env()),
            &format!("test_write_{linkage}"),
        );
        regs.check_left(&out);
    }
}

#[test]
fn c_write_tests_under_valgrind() {
    let dir = build();
    let regs = WriteRegistries::start();
    let out = run(
        valgrind(&dir.join("test_write_static")).envs(regs.env()),
        "valgrind test_write_static",
    );
    regs.check_left(&out);
}

#[test]
fn c_write_tests_under_asan_and_ubsan() {
    let dir = build();
    let regs = WriteRegistries::start();
    let out = run(
        Command::new(dir.join("test_write_asan"))
            .envs(regs.env())
            .env("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
        "test_write_asan",
    );
    regs.check_left(&out);
}

#[test]
fn cpp_raii_wrapper() {
    let dir = build();
    let open = Registry::open();
    let write = Registry::open_empty();
    run(
        Command::new(dir.join("test_cpp"))
            .env("REGC_TEST_OPEN_URL", open.url())
            .env("REGC_TEST_WRITE_URL", write.url()),
        "test_cpp",
    );
}

#[test]
fn python_ctypes() {
    build();
    let open = Registry::open();
    let write = Registry::open_empty();
    // Also with PYTHONOPTIMIZE, which strips `assert`: the test's checks
    // must not be asserts, or this run would check nothing.
    for optimize in ["", "1"] {
        run(
            Command::new("python3")
                .arg(root().join("ffi-tests/test_ctypes.py"))
                .env("REGC_TEST_LIB", deps_dir().join("libregistry_client.so"))
                .env("REGC_TEST_OPEN_URL", open.url())
                .env("REGC_TEST_WRITE_URL", write.url())
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

#[test]
fn python_module_against_every_registry_kind() {
    build();
    let regs = Registries::start();
    // For the write path: empty, token auth (alice may do anything, bob
    // only pull here).
    let write = Registry::token_empty();
    // Also with PYTHONOPTIMIZE: the checks are not asserts.
    for optimize in ["", "1"] {
        run(
            regs.command("python3")
                .env("REGC_TEST_WRITE_URL", write.url())
                .env(
                    "REGC_TEST_RUN",
                    if optimize.is_empty() {
                        "plain"
                    } else {
                        "optimized"
                    },
                )
                .arg(root().join("ffi-tests/test_python_module.py"))
                .env(
                    "REGISTRY_CLIENT_LIB",
                    deps_dir().join("libregistry_client.so"),
                )
                .env("PYTHONPATH", root().join("python"))
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .env("PYTHONOPTIMIZE", optimize),
            &format!("python3 test_python_module.py (PYTHONOPTIMIZE={optimize:?})"),
        );
    }
}

/// The README's C example, pointed at `url` with `user`/`password` and
/// the seeded `oci/app` (every literal it replaces must be there).
fn readme_c_example(url: &str, user: &str, password: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split_once("## Using it from C")
        .expect("README has a C section")
        .1;
    let code = section
        .split_once("```c\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a C code block in the README's C section")
        .0;
    let mut code = code.to_string();
    for (from, to) in [
        ("\"http://127.0.0.1:5000\"", format!("\"{url}\"")),
        (
            "\"alice\", \"secret\"",
            format!("\"{user}\", \"{password}\""),
        ),
        ("\"team/app\"", "\"oci/app\"".to_string()),
    ] {
        assert!(
            code.contains(from),
            "the README's C example no longer has {from}"
        );
        code = code.replace(from, &to);
    }
    code
}

#[test]
fn install_c_then_the_readme_example_builds_against_the_installed_copy() {
    require_tools();
    let libdir = deps_dir();
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("prefix");
    run(
        Command::new(root().join("scripts/install-c"))
            .arg("--prefix")
            .arg(&prefix)
            .arg("--from")
            .arg(&libdir),
        "scripts/install-c",
    );
    let lib = prefix.join("lib");
    let version = env!("CARGO_PKG_VERSION");
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    // The layout: header, versioned library and its symlinks, archive, .pc.
    assert!(prefix.join("include/registry_client.h").is_file());
    assert!(lib.join("libregistry_client.a").is_file());
    let real = lib.join(format!("libregistry_client.so.{version}"));
    assert!(real.is_file() && !real.is_symlink());
    let link = |name: String| std::fs::read_link(lib.join(name)).unwrap();
    assert_eq!(
        link(format!("libregistry_client.so.{major}")),
        Path::new(&format!("libregistry_client.so.{version}"))
    );
    assert_eq!(
        link("libregistry_client.so".into()),
        Path::new(&format!("libregistry_client.so.{major}"))
    );
    let dynamic = run(
        Command::new("readelf").arg("-d").arg(&real),
        "readelf -d (installed library)",
    );
    assert!(
        dynamic.contains(&format!("Library soname: [libregistry_client.so.{major}]")),
        "{dynamic}"
    );

    // The archive lost what a C linker never reads: DWARF and LLVM bitcode.
    let built = std::fs::metadata(libdir.join("libregistry_client.a"))
        .unwrap()
        .len();
    let installed = std::fs::metadata(lib.join("libregistry_client.a"))
        .unwrap()
        .len();
    let sections = run(
        Command::new("objdump")
            .arg("-h")
            .arg(lib.join("libregistry_client.a")),
        "objdump -h (installed archive)",
    );
    assert!(
        !sections.contains(".llvmbc") && !sections.contains(".debug_info"),
        "the installed archive still carries bitcode or DWARF"
    );
    assert!(installed < built, "{installed} >= {built}");
    eprintln!("static archive: {built} bytes built, {installed} installed");

    // The README's example, built with the installed .pc only.
    let reg = Registry::basic();
    let src = tmp.path().join("app.c");
    std::fs::write(
        &src,
        readme_c_example(&reg.url(), ALICE.name, ALICE.password),
    )
    .unwrap();
    let pkg_config = |args: &[&str]| {
        let out = run(
            Command::new("pkg-config")
                .args(args)
                .arg("registry_client")
                .env("PKG_CONFIG_PATH", lib.join("pkgconfig")),
            &format!("pkg-config {args:?}"),
        );
        out.split_whitespace().map(String::from).collect::<Vec<_>>()
    };
    let cflags = pkg_config(&["--cflags"]);
    assert!(
        cflags.contains(&format!("-I{}", prefix.join("include").display())),
        "{cflags:?}"
    );
    let shared_app = tmp.path().join("app_shared");
    run(
        Command::new("cc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"])
            .args(&cflags)
            .arg(&src)
            .args(pkg_config(&["--libs"]))
            .arg("-o")
            .arg(&shared_app),
        "cc README example (installed shared library)",
    );
    let needed = run(
        Command::new("readelf").arg("-d").arg(&shared_app),
        "readelf -d app_shared",
    );
    assert!(
        needed.contains(&format!("Shared library: [libregistry_client.so.{major}]")),
        "{needed}"
    );
    // Static: the archive and the system libraries of Libs.private.
    let static_app = tmp.path().join("app_static");
    let syslibs: Vec<String> = pkg_config(&["--static", "--libs-only-l"])
        .into_iter()
        .filter(|l| l != "-lregistry_client")
        .collect();
    run(
        Command::new("cc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"])
            .args(&cflags)
            .arg(&src)
            .arg(lib.join("libregistry_client.a"))
            .args(&syslibs)
            .arg("-o")
            .arg(&static_app),
        "cc README example (installed static library)",
    );
    let raw = support::skopeo_raw_manifest(&reg, "oci/app", "v1");
    let digest = format!("sha256:{}", support::sha256_hex(&raw));
    for (app, what) in [(&shared_app, "shared"), (&static_app, "static")] {
        // The shared one finds the library the way an installed program
        // whose prefix is not a system directory does.
        let out = run(
            Command::new(app).env("LD_LIBRARY_PATH", &lib),
            &format!("README example ({what})"),
        );
        assert_eq!(
            out.trim(),
            format!("{digest} application/vnd.oci.image.manifest.v1+json"),
            "{what}"
        );
    }
    // Without the library where the loader looks, the shared program cannot
    // start: it really uses the installed copy.
    let out = Command::new(&shared_app)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert!(!out.status.success());
    // Python finds the installed library by its SONAME name.
    run(
        Command::new("python3")
            .arg("-c")
            .arg("import registry_client as rc; rc.load(); print(rc.version())")
            .env(
                "REGISTRY_CLIENT_LIB",
                lib.join(format!("libregistry_client.so.{major}")),
            )
            .env("PYTHONPATH", root().join("python"))
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        "python3 (installed library)",
    );
}

/// The README's C example of references and pull: built with the flags
/// of the `.pc` against the shared library, then run on a reference to
/// the open registry; the layout it writes names the image's manifest.
#[test]
fn readme_c_pull_example_pulls_by_reference() {
    let dir = build();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let code = readme
        .split_once("### References and pull from C")
        .and_then(|(_, section)| section.split_once("```c\n"))
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a C code block in the README's references and pull section")
        .0;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("pull.c");
    std::fs::write(&src, code).unwrap();
    let pkg_config = |args: &[&str]| {
        let out = run(
            Command::new("pkg-config")
                .args(args)
                .arg("registry_client")
                .env("PKG_CONFIG_PATH", dir),
            &format!("pkg-config {args:?}"),
        );
        out.split_whitespace().map(String::from).collect::<Vec<_>>()
    };
    let app = tmp.path().join("pull");
    run(
        Command::new("cc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"])
            .args(pkg_config(&["--cflags"]))
            .arg(&src)
            .args(pkg_config(&["--libs"]))
            .arg(format!("-Wl,-rpath,{}", dir.join("lib").display()))
            .arg("-o")
            .arg(&app),
        "cc README pull example",
    );
    let reg = Registry::open();
    let reference = format!("{}/oci/app:v1", reg.host());
    let layout = tmp.path().join("layout");
    let out = run(
        Command::new(&app)
            .arg(&reference)
            .arg(&layout)
            // No login anywhere: anonymous, as the open registry wants.
            .env("REGISTRY_AUTH_FILE", tmp.path().join("none.json"))
            .env("DOCKER_CONFIG", tmp.path()),
        "README pull example",
    );
    assert!(
        out.starts_with(&format!("{reference} in {} after ", layout.display())),
        "{out}"
    );
    let calls: u32 = out
        .trim()
        .rsplit_once(" after ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of progress calls in {out:?}"));
    assert!(calls >= 3, "{calls} progress calls");
    let raw = support::skopeo_raw_manifest(&reg, "oci/app", "v1");
    let digest = format!("sha256:{}", support::sha256_hex(&raw));
    let index = std::fs::read_to_string(layout.join("index.json")).unwrap();
    assert!(index.contains(&digest), "{index}");
    assert!(
        index.contains("\"org.opencontainers.image.ref.name\":\"v1\""),
        "{index}"
    );
    assert!(layout
        .join("blobs/sha256")
        .join(&digest["sha256:".len()..])
        .is_file());
    // A reference the parser refuses: exit 2, the reason on stderr.
    let bad = Command::new(&app)
        .arg("docker.io/Library/x")
        .arg(&layout)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("position"));
}

/// The README's C example of push, copy and delete: built with the flags
/// of the `.pc` against the shared library, then run from the seed to an
/// empty registry with Basic auth; skopeo and raw HTTP read what it left.
#[test]
fn readme_c_write_example_copies_pushes_and_deletes() {
    let dir = build();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let code = readme
        .split_once("### Push, copy and delete from C")
        .and_then(|(_, section)| section.split_once("```c\n"))
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a C code block in the README's push, copy and delete section")
        .0;
    let mut code = code.to_string();
    for (from, to) in [
        (
            "\"alice\", \"secret\"".to_string(),
            format!("\"{}\", \"{}\"", ALICE.name, ALICE.password),
        ),
        ("\"team/app\"".to_string(), "\"oci/app\"".to_string()),
    ] {
        assert!(
            code.contains(&from),
            "the README's example no longer has {from}"
        );
        code = code.replace(&from, &to);
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("write.c");
    std::fs::write(&src, code).unwrap();
    let pkg_config = |args: &[&str]| {
        let out = run(
            Command::new("pkg-config")
                .args(args)
                .arg("registry_client")
                .env("PKG_CONFIG_PATH", dir),
            &format!("pkg-config {args:?}"),
        );
        out.split_whitespace().map(String::from).collect::<Vec<_>>()
    };
    let app = tmp.path().join("write");
    run(
        Command::new("cc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"])
            .args(pkg_config(&["--cflags"]))
            .arg(&src)
            .args(pkg_config(&["--libs"]))
            .arg(format!("-Wl,-rpath,{}", dir.join("lib").display()))
            .arg("-o")
            .arg(&app),
        "cc README write example",
    );
    let from = Registry::open();
    let to = Registry::basic_empty();
    let layer: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let layer_file = tmp.path().join("layer.tar");
    std::fs::write(&layer_file, &layer).unwrap();
    let out = run(
        Command::new(&app)
            .arg(from.url())
            .arg(to.url())
            .arg(&layer_file),
        "README write example",
    );
    let said = |word: &str| -> String {
        out.lines()
            .find_map(|l| l.strip_prefix(word))
            .unwrap_or_else(|| panic!("no {word:?} line in {out:?}"))
            .trim()
            .to_string()
    };
    let source = support::skopeo_raw_manifest(&from, "oci/app", "v1");
    assert_eq!(said("copied "), support::sha256_digest(&source));
    assert_eq!(said("deleted "), said("copied "));
    let pushed = said("pushed ");
    for tag in ["v2", "latest"] {
        let raw = support::skopeo_raw_manifest(&to, "mirror/app", tag);
        assert_eq!(support::sha256_digest(&raw), pushed, "{tag}");
    }
    let auth = to.admin_authorization(&["mirror/app"]).unwrap();
    let headers = [("Authorization", auth.as_str())];
    let blob = support::http::get(
        to.agent(),
        &format!(
            "{}/v2/mirror/app/blobs/{}",
            to.url(),
            support::sha256_digest(&layer)
        ),
        &headers,
    );
    assert_eq!(blob.status, 200);
    assert!(blob.body == layer, "the layer read back differs");
    // The copied manifest is gone, by tag and by digest; the pushed one
    // is there, asked the same way.
    let accept = [
        ("Authorization", auth.as_str()),
        (
            "Accept",
            "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
        ),
    ];
    let status_of = |reference: &str| {
        support::http::head(
            to.agent(),
            &format!("{}/v2/mirror/app/manifests/{reference}", to.url()),
            &accept,
        )
        .status
    };
    assert_eq!(status_of("v2"), 200);
    assert_eq!(status_of(&pushed), 200);
    assert_eq!(status_of("v1"), 404);
    assert_eq!(status_of(&said("copied ")), 404);
}
