//! What the client caches, one typed shelf per kind: manifests (by tag or
//! digest), listing pages, small blobs (image configs); and what each entry
//! is charged against the cache's byte bound.

use std::sync::Arc;

use url::Url;

use crate::cache::{AnyShelf, Kind, Shelf};
use crate::digest::Digest;
use crate::pagination::Page;
use crate::reference::Reference;
use crate::singleflight::Flights;

use super::catalog::{Listing, ITEM_OVERHEAD};
use super::manifests::ManifestResponse;

/// Bytes charged to every entry beyond its content: its key and bookkeeping.
const ENTRY_OVERHEAD: usize = 256;
/// A manifest is held twice: the bytes served and the decoded form, which is
/// about as large.
const MANIFEST_COPIES: usize = 2;

/// A manifest by repository and tag (expires) or digest (immutable).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct ManifestKey {
    pub repository: String,
    pub reference: Reference,
}

/// One page of a listing, by the URL it was fetched from (expires).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct PageKey {
    pub listing: Listing,
    pub url: String,
}

/// A blob read whole, by repository and digest (immutable).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct BlobKey {
    pub repository: String,
    pub digest: Digest,
}

/// A page with its next page's URL.
#[derive(Clone, Debug)]
pub(super) struct Listed {
    pub page: Page,
    pub next: Option<Url>,
}

#[derive(Default)]
pub(super) struct Shelves {
    manifests: Shelf<ManifestKey, Arc<ManifestResponse>>,
    pages: Shelf<PageKey, Arc<Listed>>,
    blobs: Shelf<BlobKey, Arc<Vec<u8>>>,
}

#[derive(Default)]
pub(super) struct ShelfFlights {
    manifests: Flights<ManifestKey, Arc<ManifestResponse>>,
    pages: Flights<PageKey, Arc<Listed>>,
    blobs: Flights<BlobKey, Arc<Vec<u8>>>,
}

impl crate::cache::Shelves for Shelves {
    type Flights = ShelfFlights;

    fn each(&mut self, f: &mut dyn FnMut(&mut dyn AnyShelf)) {
        f(&mut self.manifests);
        f(&mut self.pages);
        f(&mut self.blobs);
    }
}

impl Kind<Shelves> for ManifestKey {
    type Value = Arc<ManifestResponse>;

    fn shelf(s: &mut Shelves) -> &mut Shelf<Self, Self::Value> {
        &mut s.manifests
    }

    fn shelf_ref(s: &Shelves) -> &Shelf<Self, Self::Value> {
        &s.manifests
    }

    fn flights(f: &ShelfFlights) -> &Flights<Self, Self::Value> {
        &f.manifests
    }
}

impl Kind<Shelves> for PageKey {
    type Value = Arc<Listed>;

    fn shelf(s: &mut Shelves) -> &mut Shelf<Self, Self::Value> {
        &mut s.pages
    }

    fn shelf_ref(s: &Shelves) -> &Shelf<Self, Self::Value> {
        &s.pages
    }

    fn flights(f: &ShelfFlights) -> &Flights<Self, Self::Value> {
        &f.pages
    }
}

impl Kind<Shelves> for BlobKey {
    type Value = Arc<Vec<u8>>;

    fn shelf(s: &mut Shelves) -> &mut Shelf<Self, Self::Value> {
        &mut s.blobs
    }

    fn shelf_ref(s: &Shelves) -> &Shelf<Self, Self::Value> {
        &s.blobs
    }

    fn flights(f: &ShelfFlights) -> &Flights<Self, Self::Value> {
        &f.blobs
    }
}

pub(super) fn manifest_cost(m: &ManifestResponse) -> usize {
    m.body.len().saturating_mul(MANIFEST_COPIES) + ENTRY_OVERHEAD
}

pub(super) fn page_cost(l: &Listed) -> usize {
    l.page
        .items
        .iter()
        .map(|i| i.len() + ITEM_OVERHEAD)
        .sum::<usize>()
        + ENTRY_OVERHEAD
}

pub(super) fn blob_cost(b: &[u8]) -> usize {
    b.len() + ENTRY_OVERHEAD
}
