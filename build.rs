//! Generates `include/registry_client.h` from `src/ffi/` with cbindgen.
//!
//! * Deterministic: only `src/ffi/` and `cbindgen.toml` are read (no
//!   `cargo metadata`); the version macros come from the package version.
//! * The header is written only when its text changes, and never when
//!   `DOCS_RS` is set (read-only source trees).
//! * Trouble (a parse error, a read-only source tree in a downstream build)
//!   is a cargo warning, never a failed build: the committed header is still
//!   there, and `scripts/ffi-test` catches a stale one.
//! * Also writes `registry_client.pc` (pkg-config, for this uninstalled
//!   build) next to the libraries in the profile directory.
//! * Gives the shared library its SONAME, `libregistry_client.so.<major>`
//!   (ELF targets; `@rpath/libregistry_client.<major>.dylib` as the install
//!   name on Apple ones), so that programs linked against it need the ABI
//!   they were built for; `scripts/install-c` installs the versioned file
//!   and its symlinks.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/ffi");
    // A hand-edited header is regenerated (and then caught by scripts/ffi-test).
    println!("cargo:rerun-if-changed=include/registry_client.h");
    println!("cargo:rerun-if-changed=registry_client.pc.in");
    println!("cargo:rerun-if-env-changed=DOCS_RS");
    soname();
    if env::var_os("DOCS_RS").is_some() {
        return;
    }
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    if let Err(e) = header(&root) {
        println!("cargo:warning=registry_client.h not regenerated: {e}");
    }
    if let Err(e) = pkg_config(&root) {
        println!("cargo:warning=registry_client.pc not written: {e}");
    }
}

/// The shared library's SONAME (or install name) with the major version.
fn soname() {
    let major = version("MAJOR");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let family = env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    if matches!(os.as_str(), "macos" | "ios") {
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libregistry_client.{major}.dylib"
        );
    } else if family == "unix" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libregistry_client.so.{major}");
    }
}

fn version(part: &str) -> String {
    env::var(format!("CARGO_PKG_VERSION_{part}")).unwrap_or_else(|_| "0".into())
}

/// Runs cbindgen over `src/ffi/mod.rs` and writes the header if it changed.
fn header(root: &Path) -> Result<(), String> {
    let mut config = cbindgen::Config::from_file(root.join("cbindgen.toml"))
        .map_err(|e| format!("cbindgen.toml: {e}"))?;
    config.after_includes = Some(format!(
        "\n#define REGC_VERSION_MAJOR {}\n#define REGC_VERSION_MINOR {}\n#define REGC_VERSION_PATCH {}\n#define REGC_VERSION \"{}\"",
        version("MAJOR"),
        version("MINOR"),
        version("PATCH"),
        env::var("CARGO_PKG_VERSION").unwrap_or_default(),
    ));
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .map_err(|e| format!("cbindgen: {e}"))?;
    let mut text = Vec::new();
    bindings.write(&mut text);
    let path = root.join("include/registry_client.h");
    if write_if_changed(&path, &text)? {
        // The header is also an input (rerun-if-changed, so that a hand edit
        // is regenerated); dating it like its newest source keeps cargo from
        // running this script (and recompiling the crate) once more.
        if let Some(newest) = newest_mtime(&[
            root.join("build.rs"),
            root.join("cbindgen.toml"),
            root.join("src/ffi"),
        ]) {
            let file = fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            file.set_modified(newest)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The newest modification time among these files and directories' files.
fn newest_mtime(paths: &[PathBuf]) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for path in paths {
        let meta = fs::metadata(path).ok()?;
        let mut times = vec![meta.modified().ok()?];
        if meta.is_dir() {
            for entry in fs::read_dir(path).ok()?.flatten() {
                times.push(entry.metadata().ok()?.modified().ok()?);
            }
        }
        newest = times.into_iter().chain(newest).max();
    }
    newest
}

/// `registry_client.pc` for the build in progress: headers from the source
/// tree, libraries from the profile directory (`target/debug` …).
fn pkg_config(root: &Path) -> Result<(), String> {
    let template = fs::read_to_string(root.join("registry_client.pc.in"))
        .map_err(|e| format!("registry_client.pc.in: {e}"))?;
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    // OUT_DIR is <profile dir>/build/<package>-<hash>/out.
    let profile_dir = out_dir
        .ancestors()
        .nth(3)
        .ok_or("unexpected OUT_DIR layout")?;
    let text = template
        .replace("@PREFIX@", &root.display().to_string())
        .replace("@INCLUDEDIR@", &root.join("include").display().to_string())
        .replace("@LIBDIR@", &profile_dir.display().to_string())
        .replace(
            "@VERSION@",
            &env::var("CARGO_PKG_VERSION").unwrap_or_default(),
        );
    write_if_changed(&profile_dir.join("registry_client.pc"), text.as_bytes()).map(|_| ())
}

/// Writes `text` unless the file already holds it; tells whether it wrote.
fn write_if_changed(path: &Path, text: &[u8]) -> Result<bool, String> {
    if fs::read(path).ok().as_deref() == Some(text) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(true)
}
