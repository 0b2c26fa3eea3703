//! Where podman, skopeo and buildah keep their logins (`auth.json`, in
//! Docker's format with `registry/namespace` keys; see
//! containers-auth.json(5)), in the order containers/image reads them.

use std::path::{Path, PathBuf};

/// The `auth.json` files to read, in order, and whether the list is the
/// user's explicit choice (`$REGISTRY_AUTH_FILE`), which containers/image
/// reads alone.
pub(crate) fn auth_paths(var: &dyn Fn(&str) -> Option<String>) -> (Vec<PathBuf>, bool) {
    if let Some(file) = var("REGISTRY_AUTH_FILE") {
        return (vec![PathBuf::from(file)], true);
    }
    let mut paths = Vec::new();
    // The primary file, where `podman login` writes.
    if let Some(run) = var("XDG_RUNTIME_DIR") {
        paths.push(Path::new(&run).join("containers").join("auth.json"));
    }
    let config_home = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| Path::new(&h).join(".config")));
    if let Some(dir) = config_home {
        paths.push(dir.join("containers").join("auth.json"));
    }
    (paths, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_in_containers_image_order() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let (p, explicit) = auth_paths(&vars(&[
            ("REGISTRY_AUTH_FILE", "/x/a.json"),
            ("HOME", "/h"),
        ]));
        assert_eq!(p, [PathBuf::from("/x/a.json")]);
        assert!(explicit);
        let (p, explicit) = auth_paths(&vars(&[("XDG_RUNTIME_DIR", "/run/u"), ("HOME", "/h")]));
        assert_eq!(
            p,
            [
                PathBuf::from("/run/u/containers/auth.json"),
                PathBuf::from("/h/.config/containers/auth.json")
            ]
        );
        assert!(!explicit);
        let (p, _) = auth_paths(&vars(&[("XDG_CONFIG_HOME", "/c"), ("HOME", "/h")]));
        assert_eq!(p, [PathBuf::from("/c/containers/auth.json")]);
        assert!(auth_paths(&vars(&[])).0.is_empty());
    }
}
