//! The layering of `src/` (see ARCHITECTURE.md), checked on the source:
//! the graph of which top-level module names which (`crate::…` paths
//! outside comments and test modules) has no cycle, the request path's
//! layers only import downwards, `unsafe` appears only under `src/ffi/`,
//! and the model modules import no layer.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its test module and comments.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Top-level module → the top-level modules it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    // What the crate root re-exports, by name: `crate::Error` is `error`.
    let mut reexports = BTreeMap::new();
    for stmt in code(&lib).split(';') {
        let stmt = stmt.trim();
        let Some(rest) = stmt.strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = name.split(" as ").last().unwrap().trim();
            if !name.is_empty() {
                reexports.insert(name.to_string(), module.trim().to_string());
            }
        }
    }
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" {
            continue;
        }
        let text = code(&fs::read_to_string(&file).unwrap());
        let mut named = BTreeSet::new();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    named.insert(ident(item.trim()));
                }
            } else {
                named.insert(ident(rest));
            }
        }
        let entry = graph.entry(top.clone()).or_default();
        for name in named {
            let module = reexports.get(&name).cloned().unwrap_or(name);
            if !module.is_empty() && module != top {
                entry.insert(module);
            }
        }
    }
    graph
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, graph, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node.as_str()) {
            if let Some(c) = visit(node, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_module_graph_has_no_cycle() {
    let g = graph();
    assert!(g.len() > 10, "too few modules found: {g:?}");
    if let Some(cycle) = find_cycle(&g) {
        panic!("import cycle: {}\n{g:#?}", cycle.join(" -> "));
    }
}

#[test]
fn the_request_path_only_imports_downwards() {
    let g = graph();
    // Bottom to top.
    let layers = ["http", "resilience", "auth", "request", "client"];
    for (i, layer) in layers.iter().enumerate() {
        let imports = g.get(*layer).cloned().unwrap_or_default();
        for above in &layers[i + 1..] {
            assert!(
                !imports.contains(*above),
                "{layer} imports {above}, a layer above it"
            );
        }
    }
    // A token fetch goes through the layer below auth.
    assert!(g["auth"].contains("resilience"), "{:?}", g["auth"]);
}

#[test]
fn model_modules_import_no_layer() {
    let g = graph();
    let layers = [
        "http",
        "resilience",
        "auth",
        "request",
        "client",
        "cache",
        "ffi",
    ];
    for model in [
        "digest",
        "reference",
        "manifest",
        "platform",
        "pagination",
        "text",
        "error",
    ] {
        let imports = g.get(model).cloned().unwrap_or_default();
        for layer in layers {
            assert!(!imports.contains(layer), "{model} imports {layer}");
        }
    }
}

#[test]
fn unsafe_code_lives_only_in_the_c_api() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    for file in files {
        if file.starts_with(src.join("ffi")) {
            continue;
        }
        let text = code(&fs::read_to_string(&file).unwrap());
        assert!(
            !text.contains("unsafe "),
            "{} has unsafe code",
            file.display()
        );
    }
}
