//! Token scopes (`repository:library/ubuntu:pull`), per the registry's
//! token scope grammar.

use std::fmt;
use std::str::FromStr;

use crate::reference::check_component;
use crate::text::quote;
use crate::{Error, Result};

/// One resource scope: a resource type, a resource name and actions.
///
/// ```text
/// use registry_client::auth::scope::Scope;
/// let s = Scope::parse("repository:localhost:5000/team/app:pull,push").unwrap();
/// assert_eq!(s.resource_type, "repository");
/// assert_eq!(s.name, "localhost:5000/team/app");
/// assert_eq!(s.actions, ["pull", "push"]);
/// assert_eq!(s.to_string(), "repository:localhost:5000/team/app:pull,push");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The resource type, such as `repository`, `repository(plugin)` or
    /// `registry`.
    pub resource_type: String,
    /// The resource name, such as `library/ubuntu` or `catalog`.
    pub name: String,
    /// The actions, such as `pull`, `push` or `*`.
    pub actions: Vec<String>,
}

impl Scope {
    /// A scope from its parts, unchecked.
    ///
    /// ```text
    /// use registry_client::auth::scope::Scope;
    /// let s = Scope::new("repository", "x/y", ["pull", "push"]);
    /// assert_eq!(s.to_string(), "repository:x/y:pull,push");
    /// ```
    pub fn new<A: Into<String>>(
        resource_type: impl Into<String>,
        name: impl Into<String>,
        actions: impl IntoIterator<Item = A>,
    ) -> Scope {
        Scope {
            resource_type: resource_type.into(),
            name: name.into(),
            actions: actions.into_iter().map(Into::into).collect(),
        }
    }

    /// `repository:<repo>:pull`.
    ///
    /// ```text
    /// use registry_client::auth::scope::Scope;
    /// assert_eq!(Scope::pull("library/ubuntu").to_string(), "repository:library/ubuntu:pull");
    /// ```
    pub fn pull(repo: &str) -> Scope {
        Scope::new("repository", repo, ["pull"])
    }

    /// `repository:<repo>:pull,push`: what an upload or a manifest put
    /// needs (a push checks what exists first).
    ///
    /// ```text
    /// use registry_client::auth::scope::Scope;
    /// assert_eq!(Scope::push("a/b").to_string(), "repository:a/b:pull,push");
    /// ```
    pub fn push(repo: &str) -> Scope {
        Scope::new("repository", repo, ["pull", "push"])
    }

    /// `repository:<repo>:delete`.
    ///
    /// ```text
    /// use registry_client::auth::scope::Scope;
    /// assert_eq!(Scope::delete("a/b").to_string(), "repository:a/b:delete");
    /// ```
    pub fn delete(repo: &str) -> Scope {
        Scope::new("repository", repo, ["delete"])
    }

    /// `registry:catalog:*`, needed to list repositories.
    ///
    /// ```text
    /// use registry_client::auth::scope::Scope;
    /// assert_eq!(Scope::catalog().to_string(), "registry:catalog:*");
    /// ```
    pub fn catalog() -> Scope {
        Scope::new("registry", "catalog", ["*"])
    }

    /// Parses `type:name:action[,action]*`.
    ///
    /// The type is what comes before the first `:`, the actions what comes
    /// after the last one, so the name may carry a `host:port/` prefix. The
    /// type is `[a-z0-9]+` with an optional `(class)`; the name is an
    /// optional hostname (with port) followed by `/`-separated lowercase
    /// components; actions are `*` or `[a-z0-9_-]+` (slightly wider than
    /// the spec's `[a-z]*`), and empty actions are dropped. Errors are
    /// [`Error::InvalidInput`].
    ///
    /// ```text
    /// use registry_client::auth::scope::Scope;
    /// assert_eq!(Scope::parse("registry:catalog:*").unwrap(), Scope::catalog());
    /// assert!(Scope::parse("repository(plugin):vieux/sshfs:pull").is_ok());
    /// assert!(Scope::parse("repository:Upper:pull").is_err());
    /// assert!(Scope::parse("repository:pull").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Scope> {
        let bad = |why: &str| Error::invalid(format!("invalid scope {}: {why}", quote(s)));
        let (Some(first), Some(last)) = (s.find(':'), s.rfind(':')) else {
            return Err(bad("expected type:name:actions"));
        };
        if first == last {
            return Err(bad("expected type:name:actions"));
        }
        let (rtype, name, actions) = (&s[..first], &s[first + 1..last], &s[last + 1..]);
        check_type(rtype).map_err(&bad)?;
        check_name(name).map_err(|why| bad(&why))?;
        let mut list = Vec::new();
        for a in actions.split(',') {
            if a.is_empty() {
                continue;
            }
            let ok = a == "*"
                || a.bytes().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-'
                });
            if !ok {
                return Err(bad(&format!("invalid action {}", quote(a))));
            }
            list.push(a.to_owned());
        }
        Ok(Scope::new(rtype, name, list))
    }
}

fn is_lower_alnum_run(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

fn check_type(t: &str) -> std::result::Result<(), &'static str> {
    const WHY: &str = "the resource type must be [a-z0-9]+ with an optional (class)";
    let (value, class) = match t.find('(') {
        Some(open) => {
            let Some(inner) = t[open + 1..].strip_suffix(')') else {
                return Err(WHY);
            };
            (&t[..open], Some(inner))
        }
        None => (t, None),
    };
    if !is_lower_alnum_run(value) || class.is_some_and(|c| !is_lower_alnum_run(c)) {
        return Err(WHY);
    }
    Ok(())
}

/// `hostcomponent ['.' hostcomponent]* [':' port-number]`.
fn is_hostname(h: &str) -> bool {
    let (host, port) = match h.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (h, None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit())) {
        return false;
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
        })
}

fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("empty resource name".into());
    }
    let mut parts = name.split('/');
    let first = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    let components: Vec<&str> = if !rest.is_empty() && is_hostname(first) {
        rest
    } else {
        std::iter::once(first).chain(rest).collect()
    };
    for c in components {
        check_component(c).map_err(|why| format!("resource name {}: {why}", quote(name)))?;
    }
    Ok(())
}

/// Parses a space-separated list of scopes, as a challenge's `scope`
/// parameter may hold. Empty input gives an empty list.
///
/// ```text
/// use registry_client::auth::scope::{parse_list, Scope};
/// let l = parse_list("repository:a:pull repository:b:pull,push").unwrap();
/// assert_eq!(l, [Scope::pull("a"), Scope::new("repository", "b", ["pull", "push"])]);
/// assert!(parse_list("").unwrap().is_empty());
/// ```
pub fn parse_list(s: &str) -> Result<Vec<Scope>> {
    s.split_ascii_whitespace().map(Scope::parse).collect()
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.resource_type,
            self.name,
            self.actions.join(",")
        )
    }
}

impl FromStr for Scope {
    type Err = Error;

    fn from_str(s: &str) -> Result<Scope> {
        Scope::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn parse_valid() {
        let cases: &[(&str, &str, &str, &[&str])] = &[
            (
                "repository:samalba/my-app:pull,push",
                "repository",
                "samalba/my-app",
                &["pull", "push"],
            ),
            (
                "repository:library/ubuntu:pull",
                "repository",
                "library/ubuntu",
                &["pull"],
            ),
            ("registry:catalog:*", "registry", "catalog", &["*"]),
            (
                "repository(plugin):vieux/sshfs:pull",
                "repository(plugin)",
                "vieux/sshfs",
                &["pull"],
            ),
            (
                "repository:localhost:5000/x:pull",
                "repository",
                "localhost:5000/x",
                &["pull"],
            ),
            (
                "repository:Reg.Example.com/a/b:delete",
                "repository",
                "Reg.Example.com/a/b",
                &["delete"],
            ),
            ("repository:a:", "repository", "a", &[]),
            (
                "repository:a:pull,,push,",
                "repository",
                "a",
                &["pull", "push"],
            ),
            (
                "repository:my-reg.example.com:5000/a:pull",
                "repository",
                "my-reg.example.com:5000/a",
                &["pull"],
            ),
            ("repository:a:x_y", "repository", "a", &["x_y"]),
            (
                "repository:a__b.c--d:metadata-read",
                "repository",
                "a__b.c--d",
                &["metadata-read"],
            ),
        ];
        for (s, t, n, a) in cases {
            let sc = Scope::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(sc.resource_type, *t);
            assert_eq!(sc.name, *n);
            assert_eq!(sc.actions, *a);
            let again: Scope = sc.to_string().parse().unwrap();
            assert_eq!(again, sc);
        }
        assert_eq!(
            Scope::parse("repository:samalba/my-app:pull,push")
                .unwrap()
                .to_string(),
            "repository:samalba/my-app:pull,push"
        );
    }

    #[test]
    fn parse_invalid() {
        let long = format!("repository:{}:pull", "A".repeat(100_000));
        for s in [
            "",
            ":",
            "::",
            "repository",
            "repository:x",
            ":x:pull",
            "Repository:x:pull",
            "repo sitory:x:pull",
            "repository(:x:pull",
            "repository():x:pull",
            "repository(a)b:x:pull",
            "repository::pull",
            "repository:Upper:pull",
            "repository:a//b:pull",
            "repository:/a:pull",
            "repository:a/:pull",
            "repository:host:/a:pull",
            "repository:host:abc/a:pull",
            "repository:-host/a:pull",
            "repository:my_host:5000/a:pull",
            "repository:a b:pull",
            "repository:ü:pull",
            "repository:a:PULL",
            "repository:a:pu ll",
            "repository:a:pull;push",
            "repository:a:b:c:pull",
            long.as_str(),
        ] {
            let e = Scope::parse(s).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{s:.60}");
            let m = e.to_string();
            assert!(m.contains("invalid scope"), "{m}");
            assert!(m.len() < 400, "{m}");
        }
    }

    #[test]
    fn constructors() {
        assert_eq!(Scope::pull("a/b").to_string(), "repository:a/b:pull");
        assert_eq!(
            Scope::catalog(),
            Scope::parse("registry:catalog:*").unwrap()
        );
        let s = Scope::new("repository", "x", Vec::<String>::new());
        assert_eq!(s.to_string(), "repository:x:");
    }

    #[test]
    fn lists() {
        assert_eq!(parse_list("").unwrap(), vec![]);
        assert_eq!(parse_list("   ").unwrap(), vec![]);
        let l = parse_list(" repository:a:pull \t registry:catalog:*  ").unwrap();
        assert_eq!(l, vec![Scope::pull("a"), Scope::catalog()]);
        assert!(parse_list("repository:a:pull bogus").is_err());
    }
}

/// The examples in this module's docs, run as tests (the module is
/// private, so rustdoc does not run them).
#[cfg(test)]
mod doc_examples {
    #[test]
    fn doc_example_1() {
        use crate::auth::scope::Scope;
        let s = Scope::parse("repository:localhost:5000/team/app:pull,push").unwrap();
        assert_eq!(s.resource_type, "repository");
        assert_eq!(s.name, "localhost:5000/team/app");
        assert_eq!(s.actions, ["pull", "push"]);
        assert_eq!(
            s.to_string(),
            "repository:localhost:5000/team/app:pull,push"
        );
    }

    #[test]
    fn doc_example_2() {
        use crate::auth::scope::Scope;
        let s = Scope::new("repository", "x/y", ["pull", "push"]);
        assert_eq!(s.to_string(), "repository:x/y:pull,push");
    }

    #[test]
    fn doc_example_3() {
        use crate::auth::scope::Scope;
        assert_eq!(
            Scope::pull("library/ubuntu").to_string(),
            "repository:library/ubuntu:pull"
        );
    }

    #[test]
    fn doc_example_4() {
        use crate::auth::scope::Scope;
        assert_eq!(Scope::catalog().to_string(), "registry:catalog:*");
    }

    #[test]
    fn doc_example_5() {
        use crate::auth::scope::Scope;
        assert_eq!(
            Scope::parse("registry:catalog:*").unwrap(),
            Scope::catalog()
        );
        assert!(Scope::parse("repository(plugin):vieux/sshfs:pull").is_ok());
        assert!(Scope::parse("repository:Upper:pull").is_err());
        assert!(Scope::parse("repository:pull").is_err());
    }

    #[test]
    fn doc_example_6() {
        use crate::auth::scope::{parse_list, Scope};
        let l = parse_list("repository:a:pull repository:b:pull,push").unwrap();
        assert_eq!(
            l,
            [
                Scope::pull("a"),
                Scope::new("repository", "b", ["pull", "push"])
            ]
        );
        assert!(parse_list("").unwrap().is_empty());
    }
}
