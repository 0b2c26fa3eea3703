//! Listings: the catalog and a repository's tags, page by page, with the
//! memory a listing may take bounded.
//!
//! A page body is capped at `limits::LIST_PAGE` bytes, but names are small
//! and each lives in its own `String`: a 16 MiB page of one-letter names
//! takes hundreds of MiB once decoded. So names are counted as they are
//! decoded, and a listing stops with [`Error::TooLarge`] past the builder's
//! `max_list_items` names or `max_list_bytes` bytes (each name's length plus
//! the `String` holding it): for `list_*`, over the whole listing; for
//! [`Pages`], which keeps no past page, over one page.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::auth::scope::Scope;
use crate::http::limits;
use crate::pagination::{list_url, next_link, Page};
use crate::reference::validate_repository;
use crate::request::Request;
use crate::text::redact_url;
use crate::{Error, Result};

use super::cached::{page_cost, Listed, PageKey};
use super::Client;

/// Memory a listed name takes besides its bytes: the `String` holding it.
pub(super) const ITEM_OVERHEAD: usize = std::mem::size_of::<String>();

/// At most this many pages per listing: a registry that invents new page
/// URLs forever must not keep a caller busy forever.
const MAX_PAGES: usize = 100_000;

/// Which listing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Listing {
    Catalog,
    Tags(String),
}

impl Listing {
    fn what(&self) -> String {
        match self {
            Listing::Catalog => "catalog".to_string(),
            Listing::Tags(repo) => format!("tags of repository {repo}"),
        }
    }

    /// The JSON field holding the names.
    fn field(&self) -> &'static str {
        match self {
            Listing::Catalog => "repositories",
            Listing::Tags(_) => "tags",
        }
    }
}

/// What a listing may still hold: names, and bytes (each name's length plus
/// [`ITEM_OVERHEAD`]).
#[derive(Clone, Copy, Debug)]
struct Budget {
    items: usize,
    bytes: usize,
}

/// The bound a listing would pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bound {
    Items,
    Bytes,
}

impl Budget {
    /// Takes one name out of the budget.
    fn charge(&mut self, name: &str) -> std::result::Result<(), Bound> {
        let cost = name.len().saturating_add(ITEM_OVERHEAD);
        if self.items == 0 {
            return Err(Bound::Items);
        }
        if cost > self.bytes {
            return Err(Bound::Bytes);
        }
        self.items -= 1;
        self.bytes -= cost;
        Ok(())
    }

    fn charge_all(&mut self, names: &[String]) -> std::result::Result<(), Bound> {
        names.iter().try_for_each(|n| self.charge(n))
    }
}

/// The pages of a catalog or tag listing, fetched one at a time as the
/// iterator advances.
///
/// It keeps no page it has yielded: the caller holds as many as it wants,
/// and memory for a listing of any length stays that of one page (at most
/// the builder's `max_list_items` names and `max_list_bytes` bytes, else
/// [`Error::TooLarge`]). A page the registry links to twice is an error, and
/// there are at most 100 000 pages, so the iteration always ends. Each page
/// may come from the response cache (see [`Client::catalog_pages`]).
///
/// ```no_run
/// let client = registry_client::Client::builder("localhost:5000").page_size(50).build()?;
/// for page in client.catalog_pages() {
///     let page = page?;
///     println!("{} repositories, more: {}", page.items.len(), page.next.is_some());
/// }
/// # Ok::<(), registry_client::Error>(())
/// ```
pub struct Pages {
    client: Client,
    listing: Listing,
    next: Option<Url>,
    /// SHA-256 of each page URL met, for loop detection in fixed room per
    /// page however long the URLs.
    seen: HashSet<[u8; 32]>,
    pending: Option<Error>,
}

impl fmt::Debug for Pages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("listing", &self.listing)
            .field("next", &self.next.as_ref().map(Url::as_str))
            .finish_non_exhaustive()
    }
}

impl Iterator for Pages {
    type Item = Result<Page>;

    fn next(&mut self) -> Option<Result<Page>> {
        self.next_within(&mut self.client.list_budget())
    }
}

impl Pages {
    /// The next page, decoded within `budget` and charged to it.
    fn next_within(&mut self, budget: &mut Budget) -> Option<Result<Page>> {
        if let Some(e) = self.pending.take() {
            // Built here, after `fetch_page` scrubbed its own errors.
            return Some(self.client.scrub(Err(e)));
        }
        let url = self.next.take()?;
        let listed = match self.client.fetch_page(&self.listing, &url, budget) {
            Ok(listed) => listed,
            Err(e) => return Some(Err(e)),
        };
        if let Some(next) = listed.next {
            if self.seen.len() >= MAX_PAGES {
                self.pending = Some(Error::decode(
                    "pagination",
                    format!("more than {MAX_PAGES} pages"),
                ));
            } else if !self.seen.insert(url_hash(&next)) {
                self.pending = Some(Error::decode(
                    "pagination Link header",
                    // Without the query: a registry can put anything there.
                    format!("the registry links to {} again (a loop)", redact_url(&next)),
                ));
            } else {
                self.next = Some(next);
            }
        }
        Some(Ok(listed.page))
    }

    /// Every name of every remaining page, within the listing's bounds.
    fn collect_names(mut self) -> Result<Vec<String>> {
        let mut budget = self.client.list_budget();
        let mut all = Vec::new();
        while let Some(page) = self.next_within(&mut budget) {
            all.extend(page?.items);
        }
        Ok(all)
    }
}

fn url_hash(url: &Url) -> [u8; 32] {
    Sha256::digest(url.as_str().as_bytes()).into()
}

impl Client {
    /// Every repository in the registry, following pagination. At most the
    /// builder's `max_list_items` names and `max_list_bytes` bytes, else
    /// [`Error::TooLarge`]; use [`catalog_pages`](Self::catalog_pages) to
    /// go through a longer catalog.
    ///
    /// Pages may come from the response cache, for the builder's
    /// `cache_ttl`; call it on [`uncached`](Self::uncached) to ask the
    /// registry.
    ///
    /// ```no_run
    /// let repos = registry_client::Client::new("localhost:5000")?.list_repositories()?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn list_repositories(&self) -> Result<Vec<String>> {
        self.catalog_pages().collect_names()
    }

    /// The catalog page by page, without keeping past pages (see
    /// [`Pages`]). Each page may come from the response cache, for the
    /// builder's `cache_ttl`.
    ///
    /// ```no_run
    /// let first = registry_client::Client::new("localhost:5000")?.catalog_pages().next();
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn catalog_pages(&self) -> Pages {
        self.pages(Listing::Catalog, "v2/_catalog")
    }

    /// Every tag of `repository`, following pagination, within the same
    /// bounds as [`list_repositories`](Self::list_repositories). Pages may
    /// come from the response cache, for the builder's `cache_ttl`.
    ///
    /// ```no_run
    /// let tags = registry_client::Client::new("localhost:5000")?.list_tags("app")?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn list_tags(&self, repository: &str) -> Result<Vec<String>> {
        self.tag_pages(repository)?.collect_names()
    }

    /// The tags of `repository` page by page, without keeping past pages
    /// (see [`Pages`]). Each page may come from the response cache.
    ///
    /// ```
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// assert!(c.tag_pages("Not/Valid").is_err());
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn tag_pages(&self, repository: &str) -> Result<Pages> {
        validate_repository(repository)?;
        Ok(self.pages(
            Listing::Tags(repository.to_string()),
            &format!("v2/{repository}/tags/list"),
        ))
    }

    /// One page of the catalog: up to `n` names after `last`. May come from
    /// the response cache, for the builder's `cache_ttl`.
    ///
    /// ```no_run
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// let page = c.catalog_page(Some(10), None)?;
    /// let second = c.catalog_page(Some(10), page.items.last().map(String::as_str))?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn catalog_page(&self, n: Option<usize>, last: Option<&str>) -> Result<Page> {
        if n == Some(0) {
            return Err(Error::invalid("page size must be at least 1"));
        }
        let url = list_url(&self.config().base, "v2/_catalog", n, last);
        Ok(self
            .fetch_page(&Listing::Catalog, &url, &mut self.list_budget())?
            .page)
    }

    fn pages(&self, listing: Listing, path: &str) -> Pages {
        let first = list_url(&self.config().base, path, self.config().page_size, None);
        Pages {
            client: self.clone(),
            listing,
            seen: HashSet::from([url_hash(&first)]),
            next: Some(first),
            pending: None,
        }
    }

    fn list_budget(&self) -> Budget {
        Budget {
            items: self.config().max_list_items,
            bytes: self.config().max_list_bytes,
        }
    }

    fn too_large(&self, listing: &Listing, bound: Bound) -> Error {
        match bound {
            Bound::Items => Error::too_many(
                format!(
                    "{}: the number of names (ClientBuilder::max_list_items)",
                    listing.what()
                ),
                self.config().max_list_items as u64,
                "names",
            ),
            Bound::Bytes => Error::too_large(
                format!(
                    "{}: the names held in memory (ClientBuilder::max_list_bytes)",
                    listing.what()
                ),
                self.config().max_list_bytes as u64,
            ),
        }
    }

    /// One page, from the cache or the registry, charged to `budget`.
    fn fetch_page(&self, listing: &Listing, url: &Url, budget: &mut Budget) -> Result<Listed> {
        self.scrub((|| {
            let key = PageKey {
                listing: listing.clone(),
                url: url.to_string(),
            };
            let within = *budget;
            let listed = self.cached(key, || {
                let listed = self.fetch_page_uncached(listing, url, within)?;
                let bytes = page_cost(&listed);
                Ok((Arc::new(listed), bytes, false))
            })?;
            // A cached page (or one another caller fetched) was decoded within
            // another budget.
            budget
                .charge_all(&listed.page.items)
                .map_err(|b| self.too_large(listing, b))?;
            Ok((*listed).clone())
        })())
    }

    fn fetch_page_uncached(&self, listing: &Listing, url: &Url, budget: Budget) -> Result<Listed> {
        let what = listing.what();
        let scope = match listing {
            Listing::Catalog => Scope::catalog(),
            Listing::Tags(repo) => Scope::pull(repo),
        };
        let resp = self.send(&Request {
            accept: Some("application/json"),
            scope: Some(scope),
            limit: limits::LIST_PAGE,
            ..self.request(url.clone(), &what)
        })?;
        let items = decode_names(&resp.body, listing.field(), budget).map_err(|e| match e {
            NamesError::Bound(b) => self.too_large(listing, b),
            NamesError::Json(e) => Error::decode(what.clone(), e),
        })?;
        // Checked against the page we asked for, not where a redirect led:
        // a next page is only ever fetched from the registry itself.
        let links = resp
            .headers
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok());
        let next = next_link(links, url)?;
        let query = |key: &str| {
            url.query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        let page = Page {
            items,
            next: next.as_ref().map(|u| u.to_string()),
            page_size: query("n").and_then(|n| n.parse().ok()),
            last: query("last"),
        };
        Ok(Listed { page, next })
    }
}

#[derive(Debug)]
enum NamesError {
    Bound(Bound),
    Json(serde_json::Error),
}

/// The names under `field` of a listing body (`{"tags": [...]}`; absent or
/// `null` is none), stopping as soon as `budget` is spent so that no more
/// than it is ever held.
fn decode_names(
    body: &[u8],
    field: &'static str,
    mut budget: Budget,
) -> std::result::Result<Vec<String>, NamesError> {
    let mut over = None;
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = ListBody {
        field,
        budget: &mut budget,
        over: &mut over,
    };
    let names = seed
        .deserialize(&mut de)
        .and_then(|names| de.end().map(|()| names));
    match (names, over) {
        (_, Some(bound)) => Err(NamesError::Bound(bound)),
        (Ok(names), None) => Ok(names),
        (Err(e), None) => Err(NamesError::Json(e)),
    }
}

/// The body object: the names field decoded within the budget, the other
/// fields skipped.
struct ListBody<'a> {
    field: &'static str,
    budget: &'a mut Budget,
    /// Set when the budget ran out (the JSON error then only stops serde).
    over: &'a mut Option<Bound>,
}

impl<'de> DeserializeSeed<'de> for ListBody<'_> {
    type Value = Vec<String>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Vec<String>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListBody<'_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with a {:?} list", self.field)
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Vec<String>, A::Error> {
        let mut names = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != self.field {
                map.next_value::<IgnoredAny>()?;
            } else if names.is_some() {
                return Err(de::Error::duplicate_field(self.field));
            } else {
                names = Some(map.next_value_seed(Names {
                    budget: &mut *self.budget,
                    over: &mut *self.over,
                })?);
            }
        }
        Ok(names.unwrap_or_default())
    }
}

/// A list of names (or `null`), each charged to the budget as it arrives.
struct Names<'a> {
    budget: &'a mut Budget,
    over: &'a mut Option<Bound>,
}

impl<'de> DeserializeSeed<'de> for Names<'_> {
    type Value = Vec<String>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Vec<String>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Names<'_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of names or null")
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<Vec<String>, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<Vec<String>, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Vec<String>, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Vec<String>, A::Error> {
        let mut names = Vec::new();
        while let Some(name) = seq.next_element::<String>()? {
            if let Err(bound) = self.budget.charge(&name) {
                *self.over = Some(bound);
                return Err(de::Error::custom("the listing's bound is reached"));
            }
            names.push(name);
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(items: usize, bytes: usize) -> Budget {
        Budget { items, bytes }
    }

    #[test]
    fn names_decode_from_either_field_and_null() {
        let big = budget(100, 10_000);
        let names = decode_names(br#"{"name":"x","tags":["a","b"]}"#, "tags", big).unwrap();
        assert_eq!(names, ["a", "b"]);
        let names = decode_names(br#"{"repositories":["r/1"],"tags":7}"#, "repositories", big);
        assert_eq!(names.unwrap(), ["r/1"]);
        for empty in [&br#"{"tags":null}"#[..], br#"{}"#, br#"{"other":[1]}"#] {
            assert!(decode_names(empty, "tags", big).unwrap().is_empty());
        }
    }

    #[test]
    fn malformed_bodies_are_json_errors() {
        let big = budget(100, 10_000);
        for bad in [
            &br#"["a"]"#[..],
            br#"{"tags":["a",1]}"#,
            br#"{"tags":"a"}"#,
            br#"{"tags":["a"],"tags":["b"]}"#,
            br#"{"tags":["a"]} trailing"#,
            br#"{"tags":["a""#,
        ] {
            let e = decode_names(bad, "tags", big).unwrap_err();
            assert!(matches!(e, NamesError::Json(_)), "{bad:?}: {e:?}");
        }
    }

    #[test]
    fn decoding_stops_at_the_item_bound() {
        let body = br#"{"tags":["a","b","c"]}"#;
        assert_eq!(
            decode_names(body, "tags", budget(3, 10_000)).unwrap().len(),
            3
        );
        let e = decode_names(body, "tags", budget(2, 10_000)).unwrap_err();
        assert!(matches!(e, NamesError::Bound(Bound::Items)), "{e:?}");
    }

    #[test]
    fn decoding_stops_at_the_byte_bound() {
        let body = br#"{"tags":["ab","cd"]}"#;
        let exact = 2 * (2 + ITEM_OVERHEAD);
        assert_eq!(
            decode_names(body, "tags", budget(10, exact)).unwrap().len(),
            2
        );
        let e = decode_names(body, "tags", budget(10, exact - 1)).unwrap_err();
        assert!(matches!(e, NamesError::Bound(Bound::Bytes)), "{e:?}");
        // The bound wins over a later syntax error: it is what was hit first.
        let e = decode_names(br#"{"tags":["ab","cd",]"#, "tags", budget(1, exact)).unwrap_err();
        assert!(matches!(e, NamesError::Bound(Bound::Items)), "{e:?}");
    }
}
