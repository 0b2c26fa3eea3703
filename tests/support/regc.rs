//! The `regc` example binary for the suites that run it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn find_regc() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .map(|d| d.join("examples").join("regc"))
        .find(|p| p.is_file())
}

/// The newest modification time of the files under `dir` (bounded walk).
fn newest_source(dir: &Path, depth: usize) -> std::time::SystemTime {
    let mut newest = std::time::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let t = if path.is_dir() && depth > 0 {
            newest_source(&path, depth - 1)
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH)
        };
        newest = newest.max(t);
    }
    newest
}

/// The `regc` example built by `cargo test` next to this test binary. It
/// is built again with `cargo build --example regc` when it is missing or
/// older than its sources: `cargo test --test regc_cli` alone does not
/// build examples, and an old binary would be tested instead of the code.
pub fn regc_path() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let sources = ["src", "examples/regc", "Cargo.toml"]
            .iter()
            .map(|p| newest_source(&root.join(p), 8).max(mtime(&root.join(p))))
            .max()
            .unwrap();
        if let Some(p) = find_regc().filter(|p| mtime(p) >= sources) {
            return p;
        }
        let cargo = option_env!("CARGO").unwrap_or("cargo");
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--example", "regc"])
            .current_dir(root)
            .status()
            .expect("cannot run cargo build --example regc");
        assert!(status.success(), "cargo build --example regc failed");
        find_regc().expect("regc not found after cargo build --example regc")
    })
}

fn mtime(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or(std::time::UNIX_EPOCH)
}
