//! Platforms (`linux/amd64`, `linux/arm/v7`, …) and matching them against
//! the entries of an image index.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::json::null_default;
use crate::text::quote;
use crate::{Error, Result};

/// The platform an image runs on, as in an image index entry.
///
/// Serde names follow the OCI image index: `os`, `architecture`,
/// `variant`, `os.version`, `os.features`; empty optional fields are
/// omitted when serializing.
///
/// ```
/// use registry_client::platform::Platform;
/// let p = Platform::parse("linux/arm64/v8").unwrap();
/// assert_eq!(p.os, "linux");
/// assert_eq!(p.architecture, "arm64");
/// assert_eq!(p.variant.as_deref(), Some("v8"));
/// assert_eq!(p.to_string(), "linux/arm64/v8");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// The operating system, such as `linux` or `windows`.
    pub os: String,
    /// The CPU architecture in Go's naming, such as `amd64` or `arm64`.
    pub architecture: String,
    /// The CPU variant, such as `v7` for `arm` or `v8` for `arm64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The OS version, used for Windows images.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required OS features, such as `win32k`.
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
}

fn check_part(whole: &str, what: &str, part: &str) -> Result<()> {
    let bad = |why: String| {
        Error::invalid(format!(
            "invalid platform {}: {why}; expected os/arch[/variant] such as linux/amd64",
            quote(whole)
        ))
    };
    if part.is_empty() {
        return Err(bad(format!("empty {what}")));
    }
    if let Some(c) = part
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(bad(format!("{c:?} is not allowed in the {what}")));
    }
    Ok(())
}

impl Platform {
    /// A platform without variant or OS details.
    ///
    /// ```
    /// use registry_client::platform::Platform;
    /// assert_eq!(Platform::new("linux", "amd64").to_string(), "linux/amd64");
    /// ```
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Platform {
        Platform {
            os: os.into(),
            architecture: architecture.into(),
            variant: None,
            os_version: None,
            os_features: Vec::new(),
        }
    }

    /// Parses `os/arch` or `os/arch/variant`.
    ///
    /// Each part must be non-empty and made of ASCII letters, digits, `.`,
    /// `_` and `-`; otherwise [`Error::InvalidInput`]. Case is kept.
    ///
    /// ```
    /// use registry_client::platform::Platform;
    /// assert!(Platform::parse("linux/amd64").is_ok());
    /// assert!(Platform::parse("linux").is_err());
    /// assert!(Platform::parse("linux/arm/v7/extra").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Platform> {
        let parts: Vec<&str> = s.splitn(4, '/').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(Error::invalid(format!(
                "invalid platform {}: expected os/arch[/variant] such as linux/amd64",
                quote(s)
            )));
        }
        check_part(s, "os", parts[0])?;
        check_part(s, "architecture", parts[1])?;
        let mut p = Platform::new(parts[0], parts[1]);
        if let Some(v) = parts.get(2) {
            check_part(s, "variant", v)?;
            p.variant = Some((*v).to_owned());
        }
        Ok(p)
    }

    /// The platform of this process: `linux` and the Go name of the host
    /// architecture (`amd64`, `arm64`, `arm` with variant `v7`, `386`,
    /// `ppc64le`, `s390x`, `riscv64`, `loong64`, `mips64le`, …). The OS is
    /// always `linux` since that is what registries mostly serve, even on
    /// macOS hosts.
    ///
    /// ```
    /// use registry_client::platform::Platform;
    /// let host = Platform::host();
    /// assert_eq!(host.os, "linux");
    /// assert!(!host.architecture.is_empty());
    /// ```
    pub fn host() -> Platform {
        let (arch, variant) = host_arch();
        let mut p = Platform::new("linux", arch);
        p.variant = variant.map(str::to_owned);
        p
    }

    /// This platform in containerd's canonical form, which matching
    /// compares.
    ///
    /// Everything is lowercased; `macos` becomes `darwin`; architecture
    /// aliases become Go names (`x86_64`/`x86-64` → `amd64`, `aarch64` →
    /// `arm64`, `i386` → `386`, `armhf` → `arm/v7`, `armel` → `arm/v6`);
    /// each architecture's usual variant is made explicit or dropped the
    /// way containerd does: `arm` without variant (or `7`) is `arm/v7`,
    /// `arm/5`, `6`, `8` gain their `v`; `arm64/v8` (or `8`, `v8.0`) is
    /// plain `arm64` and `arm64/9` (or `9.0`, `v9.0`) is `arm64/v9`;
    /// `amd64/v1` is plain `amd64`. OS features are sorted and deduplicated;
    /// the OS version is kept as is.
    ///
    /// ```
    /// use registry_client::platform::Platform;
    /// let n = |s: &str| Platform::parse(s).unwrap().normalized().to_string();
    /// assert_eq!(n("linux/arm"), "linux/arm/v7");
    /// assert_eq!(n("Linux/aarch64/v8"), "linux/arm64");
    /// assert_eq!(n("linux/x86_64/v1"), "linux/amd64");
    /// assert_eq!(n("linux/armhf"), "linux/arm/v7");
    /// ```
    pub fn normalized(&self) -> Platform {
        let mut os = self.os.to_ascii_lowercase();
        if os == "macos" {
            os = "darwin".into();
        }
        let (architecture, variant) = normalize_arch(
            &self.architecture.to_ascii_lowercase(),
            &self
                .variant
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase(),
        );
        let mut os_features = self.os_features.clone();
        os_features.sort();
        os_features.dedup();
        Platform {
            os,
            architecture,
            variant: Some(variant).filter(|v| !v.is_empty()),
            os_version: self.os_version.clone(),
            os_features,
        }
    }

    /// Whether an image built for `candidate` (an index entry's or a
    /// config's platform) runs on this wanted platform, by containerd's
    /// rules (`platforms.Only`).
    ///
    /// Both sides are [`normalized`](Platform::normalized) first, so `arm`
    /// without variant is `arm/v7`, `arm64` is `arm64/v8`, `aarch64` is
    /// `arm64`. Then the OS and architecture must be equal and the variant
    /// equal or an older one the wanted CPU also runs:
    ///
    /// * `arm/vN` runs `arm/vN` down to `arm/v5` (so `arm/v7` runs `arm`
    ///   and `arm/v6`, but not `arm/v8`);
    /// * `amd64/vN` runs `amd64/vN` down to plain `amd64`, then `386`;
    /// * `arm64/v8.x` runs `arm64/v8.x` down to `arm64/v8`; `arm64/v9.x`
    ///   also `arm64/v8.(x+5)` and below (capped at `v8.9`); and every
    ///   known `arm64` variant also runs `arm/v8` down to `arm/v5`. An
    ///   `arm64` variant containerd does not know matches only itself;
    /// * any other architecture only its own variant (no variant matches no
    ///   variant only).
    ///
    /// `os_version` and `os_features` are ignored.
    ///
    /// ```
    /// use registry_client::platform::Platform;
    /// let p = |s: &str| Platform::parse(s).unwrap();
    /// assert!(p("linux/arm64").matches(&p("Linux/ARM64/v8")));
    /// assert!(p("linux/arm/v7").matches(&p("linux/arm")));
    /// assert!(p("linux/arm/v7").matches(&p("linux/arm/v6")));
    /// assert!(!p("linux/arm/v6").matches(&p("linux/arm/v7")));
    /// assert!(p("linux/amd64").matches(&p("linux/386")));
    /// assert!(!p("linux/amd64").matches(&p("linux/amd64/v2")));
    /// ```
    pub fn matches(&self, candidate: &Platform) -> bool {
        self.preference(candidate).is_some()
    }

    /// How well `candidate` fits this wanted platform: `Some(0)` for an
    /// exact (normalized) match, higher for older compatible variants
    /// (containerd's order), `None` when it does not run here.
    pub(crate) fn preference(&self, candidate: &Platform) -> Option<usize> {
        let have = candidate.normalized();
        compatible(&self.normalized()).iter().position(|p| {
            p.os == have.os && p.architecture == have.architecture && p.variant == have.variant
        })
    }
}

/// containerd's `normalizeArch`, on lowercased input; an empty variant is
/// none.
fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let (arch, variant) = match arch {
        "i386" => ("386", ""),
        "x86_64" | "x86-64" | "amd64" => ("amd64", if variant == "v1" { "" } else { variant }),
        "aarch64" | "arm64" => (
            "arm64",
            match variant {
                "8" | "v8" | "v8.0" => "",
                "9" | "9.0" | "v9.0" => "v9",
                v => v,
            },
        ),
        "armhf" => ("arm", "v7"),
        "armel" => ("arm", "v6"),
        "arm" => match variant {
            "" | "7" => ("arm", "v7"),
            "5" => ("arm", "v5"),
            "6" => ("arm", "v6"),
            "8" => ("arm", "v8"),
            v => ("arm", v),
        },
        a => (a, variant),
    };
    (arch.to_owned(), variant.to_owned())
}

/// The newest `vN` listed below a wanted variant: higher numbers exist in
/// no index, and a hostile `v4294967295` must not make billions of entries.
const NEWEST_LISTED_VARIANT: u32 = 64;

/// The numeric part of a `vN` variant.
fn variant_number(variant: Option<&str>) -> Option<u32> {
    variant?.strip_prefix('v')?.parse().ok()
}

/// The (major, newest minor) pairs an `arm64` variant runs, newest first:
/// containerd's `arm64variantToVersion` (an ARMv9.x core implements
/// ARMv8.(x+5)).
fn arm64_versions(variant: &str) -> Option<Vec<(u32, u32)>> {
    let (major, minor) = match variant.split_once('.') {
        // Only canonical numbers: `v8.01` is not `v8.1`.
        Some((major, minor)) => (
            major,
            minor
                .parse::<u32>()
                .ok()
                .filter(|n| n.to_string() == minor)?,
        ),
        None => (variant, 0),
    };
    match major {
        "v8" if minor <= 9 => Some(vec![(8, minor)]),
        "v9" if minor <= 7 => Some(vec![(9, minor), (8, (minor + 5).min(9))]),
        _ => None,
    }
}

/// The normalized platforms that run on normalized `want`, best first
/// (containerd's `platformVector`).
fn compatible(want: &Platform) -> Vec<Platform> {
    let with = |architecture: &str, variant: Option<String>| Platform {
        architecture: architecture.to_owned(),
        variant,
        ..want.clone()
    };
    let mut out = vec![want.clone()];
    match want.architecture.as_str() {
        "amd64" => {
            if let Some(n) = variant_number(want.variant.as_deref()).filter(|&n| n > 1) {
                let below = (n - 1).min(NEWEST_LISTED_VARIANT);
                out.extend(
                    (2..=below)
                        .rev()
                        .map(|k| with("amd64", Some(format!("v{k}")))),
                );
                out.push(with("amd64", None));
            }
            out.push(with("386", None));
        }
        "arm" => {
            if let Some(n) = variant_number(want.variant.as_deref()).filter(|&n| n > 5) {
                let below = (n - 1).min(NEWEST_LISTED_VARIANT);
                out.extend(
                    (5..=below)
                        .rev()
                        .map(|k| with("arm", Some(format!("v{k}")))),
                );
            }
        }
        "arm64" => {
            let variant = want.variant.as_deref().unwrap_or("v8");
            // containerd matches nothing for an unknown variant; matching
            // the variant itself is less surprising.
            let Some(versions) = arm64_versions(variant) else {
                return out;
            };
            out.clear();
            for (major, newest) in versions {
                for minor in (0..=newest).rev() {
                    let v = match (major, minor) {
                        (8, 0) => None,
                        (_, 0) => Some(format!("v{major}")),
                        _ => Some(format!("v{major}.{minor}")),
                    };
                    out.push(with("arm64", v));
                }
            }
            // Every arm64 core runs 32-bit arm code up to ARMv8.
            out.extend((5..=8).rev().map(|k| with("arm", Some(format!("v{k}")))));
        }
        _ => {}
    }
    out
}

/// The Go architecture name (and variant) of the compile target.
fn host_arch() -> (&'static str, Option<&'static str>) {
    let little = cfg!(target_endian = "little");
    match std::env::consts::ARCH {
        "x86_64" => ("amd64", None),
        "aarch64" => ("arm64", None),
        "arm" => ("arm", Some("v7")),
        "x86" => ("386", None),
        "powerpc64" if little => ("ppc64le", None),
        "powerpc64" => ("ppc64", None),
        "powerpc" => ("ppc", None),
        "s390x" => ("s390x", None),
        "riscv64" => ("riscv64", None),
        "loongarch64" => ("loong64", None),
        "mips" if little => ("mipsle", None),
        "mips" => ("mips", None),
        "mips64" if little => ("mips64le", None),
        "mips64" => ("mips64", None),
        "sparc64" => ("sparc64", None),
        "wasm32" => ("wasm", None),
        other => (other, None),
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Platform> {
        Platform::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn parse_and_display() {
        for s in [
            "linux/amd64",
            "linux/arm/v7",
            "windows/amd64",
            "linux/386",
            "Linux/ARM64/V8",
        ] {
            assert_eq!(Platform::parse(s).unwrap().to_string(), s);
        }
        let p: Platform = "linux/arm/v6".parse().unwrap();
        assert_eq!(p.variant.as_deref(), Some("v6"));
        assert_eq!(p.os_version, None);
    }

    #[test]
    fn parse_rejects() {
        let long = "a/".repeat(100_000);
        for s in [
            "",
            "/",
            "linux",
            "linux/",
            "/amd64",
            "linux//v7",
            "linux/arm/",
            "linux/arm/v7/x",
            "linux/amd 64",
            "linux/amd64\n",
            "linüx/amd64",
            "linux/arm/v7/",
            long.as_str(),
        ] {
            let e = Platform::parse(s).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{s:.40}");
            assert!(e.to_string().contains("invalid platform"));
            assert!(e.to_string().len() < 300, "{e}");
        }
    }

    #[test]
    fn host_is_plausible() {
        let h = Platform::host();
        assert_eq!(h.os, "linux");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(h.to_string(), "linux/amd64");
        #[cfg(target_arch = "aarch64")]
        assert_eq!(h.to_string(), "linux/arm64");
        assert!(h.matches(&h));
    }

    #[test]
    fn matching() {
        let p = |s: &str| Platform::parse(s).unwrap();
        assert!(p("linux/amd64").matches(&p("linux/amd64")));
        assert!(p("linux/amd64").matches(&p("LINUX/AMD64")));
        assert!(!p("linux/amd64").matches(&p("linux/arm64")));
        assert!(!p("linux/amd64").matches(&p("windows/amd64")));
        assert!(p("linux/arm").matches(&p("linux/arm/v6")));
        assert!(p("linux/arm/v7").matches(&p("linux/arm/V7")));
        assert!(!p("linux/arm/v6").matches(&p("linux/arm/v7")));
        // arm64: v8 == none
        assert!(p("linux/arm64/v8").matches(&p("linux/arm64")));
        assert!(p("linux/arm64").matches(&p("linux/arm64/v8")));
        assert!(!p("linux/arm64").matches(&p("linux/arm64/v9")));
        // other architectures: variants must be equal, none is none
        assert!(p("linux/riscv64").matches(&p("linux/riscv64")));
        assert!(!p("linux/riscv64").matches(&p("linux/riscv64/rva22")));
        assert!(!p("linux/riscv64/rva22").matches(&p("linux/riscv64")));
        // os.version and os.features are ignored
        let mut win = p("windows/amd64");
        win.os_version = Some("10.0.17763.1234".into());
        win.os_features = vec!["win32k".into()];
        assert!(p("windows/amd64").matches(&win));
    }

    /// Issue: an `arm` entry without variant is `arm/v7` to containerd,
    /// but a request for `linux/arm/v7` did not match it.
    #[test]
    fn arm_without_variant_is_v7() {
        let p = |s: &str| Platform::parse(s).unwrap();
        assert!(p("linux/arm/v7").matches(&Platform::new("linux", "arm")));
        assert!(p("linux/arm/v7").matches(&p("linux/arm")));
        assert!(p("linux/arm").matches(&p("linux/arm/v7")));
        assert!(!p("linux/arm/v6").matches(&p("linux/arm")));
    }

    #[test]
    fn normalization() {
        // containerd's TestParse and normalizeArch
        for (input, want) in [
            ("linux/arm", "linux/arm/v7"),
            ("linux/arm/7", "linux/arm/v7"),
            ("linux/arm/5", "linux/arm/v5"),
            ("linux/arm/6", "linux/arm/v6"),
            ("linux/arm/8", "linux/arm/v8"),
            ("linux/arm/v4", "linux/arm/v4"),
            ("linux/armhf", "linux/arm/v7"),
            ("linux/armhf/v6", "linux/arm/v7"),
            ("linux/armel", "linux/arm/v6"),
            ("linux/Aarch64", "linux/arm64"),
            ("linux/aarch64/v8", "linux/arm64"),
            ("linux/arm64/8", "linux/arm64"),
            ("linux/arm64/v8.0", "linux/arm64"),
            ("linux/arm64/v8.2", "linux/arm64/v8.2"),
            ("linux/arm64/9", "linux/arm64/v9"),
            ("linux/arm64/9.0", "linux/arm64/v9"),
            ("linux/arm64/v9.0", "linux/arm64/v9"),
            ("linux/x86_64", "linux/amd64"),
            ("Linux/x86_64", "linux/amd64"),
            ("linux/x86-64/v1", "linux/amd64"),
            ("linux/amd64/V1", "linux/amd64"),
            ("linux/amd64/v3", "linux/amd64/v3"),
            ("linux/i386", "linux/386"),
            ("linux/i386/v7", "linux/386"),
            ("macOS/arm64", "darwin/arm64"),
            ("linux/s390x", "linux/s390x"),
            ("linux/riscv64/RVA22", "linux/riscv64/rva22"),
        ] {
            assert_eq!(
                Platform::parse(input).unwrap().normalized().to_string(),
                want,
                "{input}"
            );
        }
        let mut w = Platform::new("windows", "amd64");
        w.os_version = Some("10.0.17763".into());
        w.os_features = vec!["b".into(), "a".into(), "b".into()];
        let n = w.normalized();
        assert_eq!(n.os_features, ["a", "b"]);
        assert_eq!(n.os_version.as_deref(), Some("10.0.17763"));
        // aliases match the canonical names
        let p = |s: &str| Platform::parse(s).unwrap();
        for (want, have) in [
            ("linux/arm64", "linux/aarch64"),
            ("linux/arm64", "linux/aarch64/v8"),
            ("linux/arm64/v8", "linux/aarch64"),
            ("linux/arm", "linux/armhf"),
            ("linux/arm", "linux/arm/7"),
            ("linux/arm/v7", "linux/armhf"),
            ("linux/arm/v6", "linux/armel"),
            ("linux/amd64", "linux/x86_64"),
            ("linux/x86_64", "linux/amd64/v1"),
            ("linux/386", "linux/i386"),
        ] {
            assert!(p(want).matches(&p(have)), "{want} {have}");
        }
    }

    /// containerd's `TestOnly` vectors (those without OS versions).
    #[test]
    fn containerd_only_vectors() {
        let arm64_v9_6_yes: Vec<String> = ["", "/v5", "/v6", "/v7", "/v8"]
            .iter()
            .map(|v| format!("linux/arm{v}"))
            .chain(
                [
                    "", "/v8", "/v8.1", "/v8.2", "/v8.3", "/v8.4", "/v8.5", "/v8.6", "/v8.7",
                    "/v8.8", "/v8.9", "/v9", "/v9.0", "/v9.1", "/v9.2", "/v9.3", "/v9.4", "/v9.5",
                    "/v9.6",
                ]
                .iter()
                .map(|v| format!("linux/arm64{v}")),
            )
            .collect();
        let arm64_v9_6_yes: Vec<&str> = arm64_v9_6_yes.iter().map(String::as_str).collect();
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "linux/amd64",
                &["linux/amd64", "linux/386"],
                &[
                    "linux/amd64/v2",
                    "linux/arm/v7",
                    "linux/arm64",
                    "windows/amd64",
                    "windows/arm",
                ],
            ),
            (
                "linux/amd64/v2",
                &[
                    "linux/amd64",
                    "linux/amd64/v1",
                    "linux/amd64/v2",
                    "linux/386",
                ],
                &[
                    "linux/amd64/v3",
                    "linux/amd64/v4",
                    "linux/arm/v7",
                    "linux/arm64",
                    "windows/amd64",
                ],
            ),
            (
                "linux/386",
                &["linux/386"],
                &[
                    "linux/amd64",
                    "linux/arm/v7",
                    "linux/arm64",
                    "windows/amd64",
                    "windows/arm",
                ],
            ),
            (
                "windows/amd64",
                &["windows/amd64"],
                &["linux/amd64", "linux/arm/v7", "windows/arm"],
            ),
            (
                "linux/arm/v8",
                &[
                    "linux/arm",
                    "linux/arm/v5",
                    "linux/arm/v6",
                    "linux/arm/v7",
                    "linux/arm/v8",
                ],
                &[
                    "linux/amd64",
                    "linux/arm/v4",
                    "linux/arm64",
                    "windows/amd64",
                    "windows/arm",
                ],
            ),
            (
                "linux/arm/v7",
                &["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7"],
                &[
                    "linux/amd64",
                    "linux/arm/v4",
                    "linux/arm/v8",
                    "linux/arm64",
                    "windows/arm",
                ],
            ),
            (
                "linux/arm/v6",
                &["linux/arm/v5", "linux/arm/v6"],
                &[
                    "linux/amd64",
                    "linux/arm",
                    "linux/arm/v4",
                    "linux/arm/v7",
                    "linux/arm/v8",
                    "linux/arm64",
                ],
            ),
            (
                "linux/arm/v5",
                &["linux/arm/v5"],
                &[
                    "linux/arm",
                    "linux/arm/v4",
                    "linux/arm/v6",
                    "linux/arm/v7",
                    "linux/arm/v8",
                ],
            ),
            (
                "linux/arm/v4",
                &["linux/arm/v4"],
                &[
                    "linux/arm",
                    "linux/arm/v5",
                    "linux/arm/v6",
                    "linux/arm/v7",
                    "linux/arm/v8",
                ],
            ),
            (
                "linux/arm64/v9.6",
                &arm64_v9_6_yes,
                &[
                    "linux/amd64",
                    "linux/arm/v4",
                    "windows/amd64",
                    "windows/arm",
                    "linux/arm64/v8.10",
                ],
            ),
            (
                "linux/arm64/v9",
                &[
                    "linux/arm",
                    "linux/arm/v5",
                    "linux/arm/v6",
                    "linux/arm/v7",
                    "linux/arm/v8",
                    "linux/arm64",
                    "linux/arm64/v8",
                    "linux/arm64/v8.1",
                    "linux/arm64/v8.2",
                    "linux/arm64/v8.3",
                    "linux/arm64/v8.4",
                    "linux/arm64/v8.5",
                    "linux/arm64/v9",
                    "linux/arm64/v9.0",
                ],
                &[
                    "linux/amd64",
                    "linux/arm/v4",
                    "windows/amd64",
                    "windows/arm",
                    "linux/arm64/v8.6",
                ],
            ),
            (
                "linux/arm64/v8.1",
                &[
                    "linux/arm",
                    "linux/arm/v5",
                    "linux/arm/v6",
                    "linux/arm/v7",
                    "linux/arm/v8",
                    "linux/arm64",
                    "linux/arm64/v8",
                    "linux/arm64/v8.1",
                ],
                &[
                    "linux/amd64",
                    "linux/arm/v4",
                    "linux/arm/v9",
                    "linux/arm64/v9",
                    "windows/arm",
                ],
            ),
            (
                "linux/arm64",
                &[
                    "linux/arm",
                    "linux/arm/v5",
                    "linux/arm/v6",
                    "linux/arm/v7",
                    "linux/arm/v8",
                    "linux/arm64",
                    "linux/arm64/v8",
                ],
                &[
                    "linux/amd64",
                    "linux/arm/v4",
                    "linux/arm/v9",
                    "linux/arm64/v9",
                    "windows/arm",
                ],
            ),
        ];
        for (want, yes, no) in cases {
            let w = Platform::parse(want).unwrap();
            for have in *yes {
                assert!(
                    w.matches(&Platform::parse(have).unwrap()),
                    "{want} runs {have}"
                );
            }
            for have in *no {
                assert!(
                    !w.matches(&Platform::parse(have).unwrap()),
                    "{want} runs not {have}"
                );
            }
        }
    }

    #[test]
    fn preference_order() {
        let p = |s: &str| Platform::parse(s).unwrap();
        let order = |want: &str, haves: &[&str]| -> Vec<Option<usize>> {
            haves.iter().map(|h| p(want).preference(&p(h))).collect()
        };
        assert_eq!(
            order(
                "linux/arm/v7",
                &["linux/arm", "linux/arm/v6", "linux/arm/v5", "linux/arm/v8"]
            ),
            [Some(0), Some(1), Some(2), None]
        );
        assert_eq!(
            order(
                "linux/amd64/v3",
                &[
                    "linux/amd64/v3",
                    "linux/amd64/v2",
                    "linux/amd64",
                    "linux/386"
                ]
            ),
            [Some(0), Some(1), Some(2), Some(3)]
        );
        // arm64 prefers every arm64 variant to 32-bit arm
        let v9 = order(
            "linux/arm64/v9",
            &[
                "linux/arm64/v9",
                "linux/arm64/v8.5",
                "linux/arm64",
                "linux/arm/v8",
                "linux/arm",
            ],
        );
        assert!(v9.windows(2).all(|w| w[0] < w[1]), "{v9:?}");
        // unknown arm64 variants match only themselves; no panic on odd input
        assert_eq!(
            order(
                "linux/arm64/v7",
                &["linux/arm64/v7", "linux/arm64", "linux/arm"]
            ),
            [Some(0), None, None]
        );
        assert_eq!(
            order(
                "linux/arm64/v8.01",
                &["linux/arm64/v8.01", "linux/arm64/v8.1"]
            ),
            [Some(0), None]
        );
        assert_eq!(
            order("linux/arm64/v9.99999999999", &["linux/arm64"]),
            [None]
        );
        assert_eq!(order("linux/arm/v99999999999", &["linux/arm"]), [None]);
        assert_eq!(order("linux/amd64/v99999999999", &["linux/386"]), [Some(1)]);
        // huge variant numbers stay cheap
        assert_eq!(
            order("linux/arm/v4294967295", &["linux/arm/v64", "linux/arm"]),
            [Some(1), Some(58)]
        );
        assert_eq!(
            order("linux/amd64/v4294967295", &["linux/amd64/v2", "linux/386"]),
            [Some(63), Some(65)]
        );
    }

    /// The edges of the variant lists, as containerd draws them.
    #[test]
    fn variant_list_edges() {
        let p = |s: &str| Platform::parse(s).unwrap();
        let order = |want: &str, haves: &[&str]| -> Vec<Option<usize>> {
            haves.iter().map(|h| p(want).preference(&p(h))).collect()
        };
        // arm64 versions containerd knows end at v8.9 and v9.7; past them
        // a variant matches only itself
        assert_eq!(
            order("linux/arm64/v8.9", &["linux/arm64/v8.8", "linux/arm64"]),
            [Some(1), Some(9)]
        );
        assert_eq!(
            order(
                "linux/arm64/v8.10",
                &["linux/arm64/v8.10", "linux/arm64/v8.9", "linux/arm64"]
            ),
            [Some(0), None, None]
        );
        assert_eq!(
            order(
                "linux/arm64/v9.7",
                &["linux/arm64/v9.6", "linux/arm64/v8.9"]
            ),
            [Some(1), Some(8)]
        );
        assert_eq!(
            order("linux/arm64/v9.8", &["linux/arm64/v9.8", "linux/arm64/v9"]),
            [Some(0), None]
        );
        // amd64: containerd reads `v01` as 1 (strconv.Atoi), which lists
        // nothing below it but 386; `v02` lists plain amd64
        assert_eq!(
            order("linux/amd64/v01", &["linux/amd64", "linux/386"]),
            [None, Some(1)]
        );
        assert_eq!(
            order("linux/amd64/v02", &["linux/amd64", "linux/386"]),
            [Some(1), Some(2)]
        );
    }

    #[test]
    fn serde_names() {
        let j = r#"{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1879","os.features":["win32k"]}"#;
        let p: Platform = serde_json::from_str(j).unwrap();
        assert_eq!(p.os_version.as_deref(), Some("10.0.17763.1879"));
        assert_eq!(p.os_features, vec!["win32k".to_string()]);
        let back = serde_json::to_value(&p).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(j).unwrap());
        // empty fields are omitted
        let s = serde_json::to_string(&Platform::new("linux", "amd64")).unwrap();
        assert_eq!(s, r#"{"os":"linux","architecture":"amd64"}"#);
        // nulls decode as empty
        let p: Platform = serde_json::from_str(
            r#"{"os":"linux","architecture":"arm","variant":null,"os.features":null}"#,
        )
        .unwrap();
        assert_eq!(p, Platform::new("linux", "arm"));
        // os and architecture are required
        assert!(serde_json::from_str::<Platform>(r#"{"os":"linux"}"#).is_err());
    }
}
