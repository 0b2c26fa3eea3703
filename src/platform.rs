//! Platforms (`linux/amd64`, `linux/arm/v7`, …) and matching them against
//! the entries of an image index.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::text::quote;
use crate::{Error, Result};

/// Deserializes `null` (or an absent field, with `#[serde(default)]`) as
/// the type's default: real registries and Docker send `null` for empty
/// lists and maps.
pub(crate) fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

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

    /// Whether `candidate` (an index entry's platform) satisfies this
    /// wanted platform.
    ///
    /// OS and architecture must be equal, ignoring ASCII case. When
    /// `self.variant` is set, the candidate's variant must be equal too
    /// (for `arm64`, `v8` and no variant count as equal); when it is not
    /// set, any variant matches (see
    /// [`ImageIndex::select`](crate::manifest::ImageIndex::select) for
    /// which is preferred). `os_version` and `os_features` are ignored.
    ///
    /// ```
    /// use registry_client::platform::Platform;
    /// let want = Platform::parse("linux/arm64").unwrap();
    /// assert!(want.matches(&Platform::parse("Linux/ARM64/v8").unwrap()));
    /// let v7 = Platform::parse("linux/arm/v7").unwrap();
    /// assert!(!v7.matches(&Platform::parse("linux/arm/v6").unwrap()));
    /// assert!(Platform::parse("linux/arm64/v8").unwrap().matches(&want));
    /// ```
    pub fn matches(&self, candidate: &Platform) -> bool {
        if !self.os.eq_ignore_ascii_case(&candidate.os)
            || !self
                .architecture
                .eq_ignore_ascii_case(&candidate.architecture)
        {
            return false;
        }
        match &self.variant {
            None => true,
            Some(want) => {
                let arm64 = self.architecture.eq_ignore_ascii_case("arm64");
                match &candidate.variant {
                    Some(have) => want.eq_ignore_ascii_case(have),
                    None => arm64 && want.eq_ignore_ascii_case("v8"),
                }
            }
        }
    }

    /// Whether the variant is absent or the one that architecture
    /// typically means: `v8` for `arm64`, `v7` for `arm`, `v1` for `amd64`.
    pub(crate) fn has_default_variant(&self) -> bool {
        match &self.variant {
            None => true,
            Some(v) => {
                default_variant(&self.architecture).is_some_and(|d| v.eq_ignore_ascii_case(d))
            }
        }
    }
}

fn default_variant(arch: &str) -> Option<&'static str> {
    match arch.to_ascii_lowercase().as_str() {
        "arm64" => Some("v8"),
        "arm" => Some("v7"),
        "amd64" => Some("v1"),
        _ => None,
    }
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
        // no wanted variant: anything matches
        assert!(p("linux/arm").matches(&p("linux/arm/v6")));
        // wanted variant must be equal
        assert!(p("linux/arm/v7").matches(&p("linux/arm/V7")));
        assert!(!p("linux/arm/v7").matches(&p("linux/arm/v6")));
        assert!(!p("linux/arm/v7").matches(&p("linux/arm")));
        // arm64: v8 == none
        assert!(p("linux/arm64/v8").matches(&p("linux/arm64")));
        assert!(p("linux/arm64").matches(&p("linux/arm64/v8")));
        assert!(!p("linux/arm64/v9").matches(&p("linux/arm64")));
        // os.version is ignored
        let mut win = p("windows/amd64");
        win.os_version = Some("10.0.17763.1234".into());
        assert!(p("windows/amd64").matches(&win));
    }

    #[test]
    fn default_variants() {
        let p = |s: &str| Platform::parse(s).unwrap();
        assert!(p("linux/arm64").has_default_variant());
        assert!(p("linux/arm64/v8").has_default_variant());
        assert!(p("linux/arm/v7").has_default_variant());
        assert!(!p("linux/arm/v6").has_default_variant());
        assert!(!p("linux/amd64/v3").has_default_variant());
        assert!(!p("linux/riscv64/rva22").has_default_variant());
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
