//! The client's response cache: least-recently-used, bounded by entry count
//! and by bytes, with a time to live for mutable entries.
//!
//! Typed: each kind of value (manifests, listing pages, small blobs) has its
//! own [`Shelf`], a map from its key type to its value type, so a lookup
//! cannot find a value of another kind. The shelves share one bound on
//! entries and bytes and one least-recently-used order: making room drops the
//! entry used longest ago, whatever its kind.
//!
//! Content addressed by digest never changes, so such entries are cached as
//! *immutable* and never expire; entries about names (tags, listings) do.
//! Concurrent lookups that miss the same key make one fetch between them.
//!
//! A hit takes the lock shared, so threads hit in parallel: it does not
//! reorder the entries but stamps the one it found (an atomic, written only
//! when the entry is not already the most recent), and counts itself in a
//! counter of its own thread's stripe. Making room (under the exclusive
//! lock) drops the entry with the oldest stamp: exact least-recently-used
//! order, found by a scan, which costs a few microseconds at the default
//! 256 entries and is paid only by an insertion into a full cache (after a
//! fetch from the network).
//!
//! The cache itself is internal; [`CacheStats`] is what the client reports.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::RwLock;

use crate::clock::Clock;
use crate::singleflight::Flights;

/// Counters and sizes of a client's response cache.
///
/// `hits` and `misses` count lookups; a lookup that waited for another
/// caller's fetch of the same key and got its value counts as a hit, the
/// caller that ran the fetch as a miss, and a call that skipped the cache
/// ([`Client::uncached`](crate::Client::uncached)) as a miss. `evictions`
/// counts entries the cache dropped by itself, to stay within its bounds or
/// because they had expired (not those removed by clearing or invalidating
/// it, or replaced by a newer value). `entries` and `bytes` are the current
/// contents, every kind of value together.
///
/// ```
/// use registry_client::CacheStats;
/// let s = CacheStats { hits: 3, misses: 1, ..CacheStats::default() };
/// assert_eq!(s.hits + s.misses, 4);
/// assert_eq!(s.entries, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that were not.
    pub misses: u64,
    /// Entries dropped for room or because they expired.
    pub evictions: u64,
    /// Entries held now.
    pub entries: usize,
    /// Bytes held now, as declared at insertion.
    pub bytes: usize,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    bytes: usize,
    /// `None`: never expires.
    expires: Option<Instant>,
    /// When it was last inserted or found, on the cache's use counter: the
    /// order across shelves. Stamped by hits under the shared lock.
    used: AtomicU64,
}

impl<V> Entry<V> {
    fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|t| now >= t)
    }
}

/// The entries of one kind, most recently used first.
#[derive(Debug)]
pub(crate) struct Shelf<K: Hash + Eq, V> {
    lru: LruCache<K, Entry<V>>,
}

impl<K: Hash + Eq, V> Default for Shelf<K, V> {
    fn default() -> Self {
        Shelf {
            lru: LruCache::unbounded(),
        }
    }
}

/// What the cache does to a shelf without knowing its types: make room and
/// empty it.
pub(crate) trait AnyShelf {
    /// The use counter of its least recently used entry.
    fn oldest(&self) -> Option<u64>;
    /// Drops its least recently used entry; the bytes it held.
    fn pop_oldest(&mut self) -> Option<usize>;
    /// Drops its expired entries; how many and their bytes.
    fn drop_expired(&mut self, now: Instant) -> (usize, usize);
    /// Drops every entry.
    fn clear(&mut self);
}

impl<K: Hash + Eq + Clone, V> AnyShelf for Shelf<K, V> {
    fn oldest(&self) -> Option<u64> {
        self.lru
            .iter()
            .map(|(_, e)| e.used.load(Ordering::Relaxed))
            .min()
    }

    fn pop_oldest(&mut self) -> Option<usize> {
        let key = self
            .lru
            .iter()
            .min_by_key(|(_, e)| e.used.load(Ordering::Relaxed))
            .map(|(k, _)| k.clone())?;
        self.lru.pop(&key).map(|e| e.bytes)
    }

    fn drop_expired(&mut self, now: Instant) -> (usize, usize) {
        self.remove_where(|_, e| e.expired(now))
    }

    fn clear(&mut self) {
        self.lru.clear()
    }
}

impl<K: Hash + Eq + Clone, V> Shelf<K, V> {
    /// Removes the entries `doomed` picks; how many and their bytes.
    fn remove_where(&mut self, mut doomed: impl FnMut(&K, &Entry<V>) -> bool) -> (usize, usize) {
        let keys: Vec<K> = self
            .lru
            .iter()
            .filter(|(k, e)| doomed(k, e))
            .map(|(k, _)| k.clone())
            .collect();
        let bytes = keys
            .iter()
            .filter_map(|k| self.lru.pop(k))
            .map(|e| e.bytes)
            .sum();
        (keys.len(), bytes)
    }
}

/// The shelves of one cache, one per kind of value, and their single-flight
/// state (kept outside the cache's lock).
pub(crate) trait Shelves: Default {
    /// One [`Flights`] per kind.
    type Flights: Default;
    /// Calls `f` on every shelf, always in the same order.
    fn each(&mut self, f: &mut dyn FnMut(&mut dyn AnyShelf));
}

/// A key of one kind of value: it names the value's type and its shelf.
pub(crate) trait Kind<S: Shelves>: Hash + Eq + Clone {
    /// What is cached under such a key.
    type Value: Clone;
    /// The shelf holding this kind.
    fn shelf(shelves: &mut S) -> &mut Shelf<Self, Self::Value>;
    /// The same, to read.
    fn shelf_ref(shelves: &S) -> &Shelf<Self, Self::Value>;
    /// The fetches of this kind in flight.
    fn flights(flights: &S::Flights) -> &Flights<Self, Self::Value>;
}

#[derive(Debug)]
struct State<S> {
    shelves: S,
    entries: usize,
    bytes: usize,
    evictions: u64,
}

impl<S: Shelves> State<S> {
    fn forget(&mut self, (entries, bytes): (usize, usize)) {
        self.entries -= entries;
        self.bytes -= bytes;
    }

    fn remove<K: Kind<S>>(&mut self, key: &K) {
        if let Some(e) = K::shelf(&mut self.shelves).lru.pop(key) {
            self.forget((1, e.bytes));
        }
    }

    /// Drops the least recently used entry of any kind.
    fn pop_oldest(&mut self) -> bool {
        let mut oldest: Option<(usize, u64)> = None;
        let mut i = 0;
        self.shelves.each(&mut |s| {
            if let Some(used) = s.oldest() {
                if oldest.is_none_or(|(_, o)| used < o) {
                    oldest = Some((i, used));
                }
            }
            i += 1;
        });
        let Some((target, _)) = oldest else {
            return false;
        };
        let (mut freed, mut i) = (0, 0);
        self.shelves.each(&mut |s| {
            if i == target {
                freed = s.pop_oldest().unwrap_or(0);
            }
            i += 1;
        });
        self.forget((1, freed));
        self.evictions += 1;
        true
    }

    fn drop_expired(&mut self, now: Instant) {
        let mut dropped = (0, 0);
        self.shelves.each(&mut |s| {
            let (n, b) = s.drop_expired(now);
            dropped = (dropped.0 + n, dropped.1 + b);
        });
        self.forget(dropped);
        self.evictions += dropped.0 as u64;
    }
}

/// A thread-safe, typed LRU cache with a time to live; values are meant to
/// be `Arc`s, so a hit copies nothing.
///
/// Bounds, over every shelf together: at most `capacity` entries (0 turns the
/// cache off) and at most `max_bytes` bytes as declared by each insertion; a
/// single value larger than `max_bytes` is not cached. Mutable entries expire
/// `ttl` after insertion, immutable ones never.
pub(crate) struct Cache<S: Shelves> {
    capacity: usize,
    max_bytes: usize,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    state: RwLock<State<S>>,
    /// Counts insertions and hits that changed the most recent entry: the
    /// stamps ordering entries across shelves.
    uses: AtomicU64,
    counts: Counts,
    flights: S::Flights,
}

/// Stripes of the hit and miss counters, so that threads hitting at once
/// do not pass one cache line between cores.
const STRIPES: usize = 8;

#[repr(align(64))]
#[derive(Default)]
struct Stripe {
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct Counts([Stripe; STRIPES]);

impl Counts {
    /// This thread's stripe: threads take stripes in turn, once.
    fn mine(&self) -> &Stripe {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
        }
        &self.0[STRIPE.with(|s| *s)]
    }

    fn count(&self, hit: bool) {
        let s = self.mine();
        let c = if hit { &s.hits } else { &s.misses };
        c.fetch_add(1, Ordering::Relaxed);
    }

    fn totals(&self) -> (u64, u64) {
        self.0.iter().fold((0, 0), |(h, m), s| {
            (
                h + s.hits.load(Ordering::Relaxed),
                m + s.misses.load(Ordering::Relaxed),
            )
        })
    }
}

impl<S: Shelves> Cache<S> {
    /// An empty cache holding at most `capacity` entries (0: the cache is
    /// off and stores nothing) and `max_bytes` bytes; mutable entries live
    /// for `ttl` by `clock`.
    pub(crate) fn new(
        capacity: usize,
        max_bytes: usize,
        ttl: Duration,
        clock: Arc<dyn Clock>,
    ) -> Cache<S> {
        Cache {
            capacity,
            max_bytes,
            ttl,
            clock,
            state: RwLock::new(State {
                shelves: S::default(),
                entries: 0,
                bytes: 0,
                evictions: 0,
            }),
            uses: AtomicU64::new(0),
            counts: Counts::default(),
            flights: S::Flights::default(),
        }
    }

    /// The value for `key`, if cached and not expired; marks it most
    /// recently used. Counts a hit or a miss; an expired entry found is
    /// dropped.
    pub(crate) fn get<K: Kind<S>>(&self, key: &K) -> Option<K::Value> {
        let found = self.lookup(key);
        self.count(found.is_some());
        found
    }

    fn count(&self, hit: bool) {
        self.counts.count(hit);
    }

    /// The next use stamp.
    fn tick(&self) -> u64 {
        self.uses.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// [`get`](Self::get) without counting: under the shared lock, unless
    /// the entry found has expired (then it is dropped).
    fn lookup<K: Kind<S>>(&self, key: &K) -> Option<K::Value> {
        let now = self.clock.now();
        {
            let state = self.state.read();
            match K::shelf_ref(&state.shelves).lru.peek(key) {
                None => return None,
                Some(entry) if !entry.expired(now) => {
                    // Already the most recent: nothing to write (threads
                    // hitting the same entry then share its cache line).
                    if entry.used.load(Ordering::Relaxed) != self.uses.load(Ordering::Relaxed) {
                        entry.used.store(self.tick(), Ordering::Relaxed);
                    }
                    return Some(entry.value.clone());
                }
                Some(_) => {}
            }
        }
        let mut state = self.state.write();
        let expired = K::shelf_ref(&state.shelves)
            .lru
            .peek(key)
            .is_some_and(|e| e.expired(now));
        if expired {
            state.remove(key);
            state.evictions += 1;
        }
        None
    }

    /// Caches `value` under `key`, replacing any older value, as `bytes`
    /// bytes; `immutable` entries never expire.
    ///
    /// Not cached (and any older value for `key` is dropped) when the cache
    /// is off, when `bytes > max_bytes`, or when a mutable value would expire
    /// at once (`ttl` zero). To make room it first drops every expired entry,
    /// then least-recently-used ones of any kind, until both bounds hold.
    pub(crate) fn insert<K: Kind<S>>(
        &self,
        key: K,
        value: K::Value,
        bytes: usize,
        immutable: bool,
    ) {
        let now = self.clock.now();
        let mut state = self.state.write();
        state.remove(&key);
        let expires = if immutable {
            None
        } else {
            // A time to live too long to represent never expires.
            now.checked_add(self.ttl)
        };
        let entry = Entry {
            value,
            bytes,
            expires,
            used: AtomicU64::new(self.tick()),
        };
        if self.capacity == 0 || bytes > self.max_bytes || entry.expired(now) {
            return;
        }
        // `bytes <= max_bytes`, so the room needed cannot underflow.
        let fits = |state: &State<S>| {
            state.entries < self.capacity && state.bytes <= self.max_bytes - bytes
        };
        if !fits(&state) {
            state.drop_expired(now);
            while !fits(&state) && state.pop_oldest() {}
        }
        state.entries += 1;
        state.bytes += bytes;
        K::shelf(&mut state.shelves).lru.push(key, entry);
    }

    /// Drops the entry for `key`, if any. Not counted as a lookup or an
    /// eviction.
    pub(crate) fn remove<K: Kind<S>>(&self, key: &K) {
        self.state.write().remove(key);
    }

    /// Drops the entry for `key` if `stale` says so of its value (expired or
    /// not). Not counted as a lookup or an eviction.
    pub(crate) fn remove_if<K: Kind<S>>(&self, key: &K, stale: impl FnOnce(&K::Value) -> bool) {
        let mut state = self.state.write();
        let doomed = K::shelf(&mut state.shelves)
            .lru
            .peek(key)
            .is_some_and(|e| stale(&e.value));
        if doomed {
            state.remove(key);
        }
    }

    /// Drops every entry of `K`'s kind that `doomed` picks. Not counted as
    /// evictions.
    pub(crate) fn remove_where<K: Kind<S>>(&self, mut doomed: impl FnMut(&K, &K::Value) -> bool) {
        let mut state = self.state.write();
        let removed = K::shelf(&mut state.shelves).remove_where(|k, e| doomed(k, &e.value));
        state.forget(removed);
    }

    /// Drops every entry. The hit, miss and eviction counters are kept.
    pub(crate) fn clear(&self) {
        let mut state = self.state.write();
        state.shelves.each(&mut |s| s.clear());
        state.entries = 0;
        state.bytes = 0;
    }

    /// Current counters and contents. Expired entries not yet dropped are
    /// still counted in `entries` and `bytes`.
    pub(crate) fn stats(&self) -> CacheStats {
        let state = self.state.read();
        let (hits, misses) = self.counts.totals();
        CacheStats {
            hits,
            misses,
            evictions: state.evictions,
            entries: state.entries,
            bytes: state.bytes,
        }
    }

    /// The cached value for `key`, or the one `fetch` returns (as `(value,
    /// bytes, immutable)`, inserted as by [`insert`](Self::insert)).
    ///
    /// Single-flight: concurrent callers missing the same key run one
    /// `fetch`; the others wait for it, without holding any lock, and get its
    /// value (even when it was too big to cache or the cache is off). If that
    /// fetch fails or panics, each waiter tries again itself, and only the
    /// caller whose `fetch` failed sees its error. Counts one hit or one miss
    /// per call (see [`CacheStats`]).
    ///
    /// `fetch` must not look up the same key in this cache through
    /// `get_or_insert_with`: it would wait for itself.
    pub(crate) fn get_or_insert_with<K: Kind<S>, E>(
        &self,
        key: &K,
        fetch: impl FnOnce() -> Result<(K::Value, usize, bool), E>,
    ) -> Result<K::Value, E> {
        let mut fetched = false;
        let result = K::flights(&self.flights).run(
            key,
            || self.lookup(key),
            || {
                fetched = true;
                let (value, bytes, immutable) = fetch()?;
                self.insert(key.clone(), value.clone(), bytes, immutable);
                Ok(value)
            },
        );
        self.count(!fetched);
        result
    }

    /// The value `fetch` returns, inserted as by [`insert`](Self::insert),
    /// without looking in the cache first (nor joining a fetch in flight,
    /// which may have started before the caller asked). Counts a miss.
    pub(crate) fn refresh_with<K: Kind<S>, E>(
        &self,
        key: K,
        fetch: impl FnOnce() -> Result<(K::Value, usize, bool), E>,
    ) -> Result<K::Value, E> {
        self.count(false);
        let (value, bytes, immutable) = fetch()?;
        self.insert(key, value.clone(), bytes, immutable);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Barrier;

    const TTL: Duration = Duration::from_secs(60);

    /// Two kinds: strings by name, and by number.
    #[derive(Default)]
    struct TestShelves {
        named: Shelf<String, Arc<String>>,
        numbered: Shelf<u32, Arc<String>>,
    }

    #[derive(Default)]
    struct TestFlights {
        named: Flights<String, Arc<String>>,
        numbered: Flights<u32, Arc<String>>,
    }

    impl Shelves for TestShelves {
        type Flights = TestFlights;
        fn each(&mut self, f: &mut dyn FnMut(&mut dyn AnyShelf)) {
            f(&mut self.named);
            f(&mut self.numbered);
        }
    }

    impl Kind<TestShelves> for String {
        type Value = Arc<String>;
        fn shelf(s: &mut TestShelves) -> &mut Shelf<String, Arc<String>> {
            &mut s.named
        }
        fn shelf_ref(s: &TestShelves) -> &Shelf<String, Arc<String>> {
            &s.named
        }
        fn flights(f: &TestFlights) -> &Flights<String, Arc<String>> {
            &f.named
        }
    }

    impl Kind<TestShelves> for u32 {
        type Value = Arc<String>;
        fn shelf(s: &mut TestShelves) -> &mut Shelf<u32, Arc<String>> {
            &mut s.numbered
        }
        fn shelf_ref(s: &TestShelves) -> &Shelf<u32, Arc<String>> {
            &s.numbered
        }
        fn flights(f: &TestFlights) -> &Flights<u32, Arc<String>> {
            &f.numbered
        }
    }

    fn cache(capacity: usize, max_bytes: usize) -> (ManualClock, Cache<TestShelves>) {
        let clock = ManualClock::new();
        let c = Cache::new(capacity, max_bytes, TTL, Arc::new(clock.clone()));
        (clock, c)
    }

    fn k(s: &str) -> String {
        s.to_string()
    }

    fn v(s: &str) -> Arc<String> {
        Arc::new(s.to_string())
    }

    #[test]
    fn hit_returns_the_same_arc() {
        let (_, c) = cache(4, 1000);
        let value = v("manifest");
        c.insert(k("a"), Arc::clone(&value), 8, false);
        let got = c.get(&k("a")).unwrap();
        assert!(Arc::ptr_eq(&got, &value));
    }

    #[test]
    fn evicts_least_recently_used_by_count() {
        let (_, c) = cache(3, 1000);
        c.insert(k("a"), v("A"), 1, false);
        c.insert(k("b"), v("B"), 1, false);
        c.insert(k("c"), v("C"), 1, false);
        assert!(c.get(&k("a")).is_some()); // a is now most recent; b is LRU
        c.insert(k("d"), v("D"), 1, false);
        assert!(c.get(&k("b")).is_none());
        for key in ["a", "c", "d"] {
            assert!(c.get(&k(key)).is_some(), "{key}");
        }
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.evictions), (3, 3, 1));
    }

    #[test]
    fn evicts_by_bytes_until_it_fits() {
        let (_, c) = cache(100, 100);
        c.insert(k("a"), v("A"), 40, false);
        c.insert(k("b"), v("B"), 40, true);
        c.insert(k("c"), v("C"), 10, false);
        // LRU order is now b, c, a; 90 held. 50 more needs only b (40) gone.
        c.get(&k("a"));
        c.insert(k("d"), v("D"), 50, false);
        assert!(c.get(&k("b")).is_none());
        for key in ["a", "c", "d"] {
            assert!(c.get(&k(key)).is_some(), "{key}");
        }
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.evictions), (3, 100, 1));
        // 70 more needs a, c and d gone (LRU order is a, c, d after the gets).
        c.insert(k("f"), v("F"), 70, false);
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.evictions), (1, 70, 4));
        // Exactly max_bytes fits.
        c.insert(k("e"), v("E"), 100, false);
        assert_eq!((c.stats().entries, c.stats().bytes), (1, 100));
    }

    #[test]
    fn replacing_a_key_updates_bytes() {
        let (_, c) = cache(10, 100);
        c.insert(k("a"), v("old"), 60, false);
        c.insert(k("a"), v("new"), 30, false);
        assert_eq!(*c.get(&k("a")).unwrap(), "new");
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.evictions), (1, 30, 0));
    }

    #[test]
    fn oversize_values_are_not_cached_and_drop_the_old_value() {
        let (_, c) = cache(10, 100);
        c.insert(k("a"), v("small"), 10, false);
        c.insert(k("b"), v("B"), 10, false);
        c.insert(k("a"), v("huge"), 101, true);
        assert!(c.get(&k("a")).is_none());
        assert!(c.get(&k("b")).is_some());
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.evictions), (1, 10, 0));
        c.insert(k("c"), v("C"), usize::MAX, false);
        assert_eq!(c.stats().bytes, 10);
    }

    #[test]
    fn mutable_entries_expire_after_ttl() {
        let (clock, c) = cache(10, 100);
        c.insert(k("tag"), v("T"), 5, false);
        clock.advance(TTL - Duration::from_millis(1));
        assert!(c.get(&k("tag")).is_some());
        clock.advance(Duration::from_millis(1));
        assert!(c.get(&k("tag")).is_none());
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.evictions), (0, 0, 1));
    }

    #[test]
    fn immutable_entries_survive_ttl() {
        let (clock, c) = cache(10, 100);
        c.insert(k("sha256:abc"), v("M"), 5, true);
        clock.advance(TTL * 1000);
        assert!(c.get(&k("sha256:abc")).is_some());
        clock.advance(Duration::MAX);
        assert!(c.get(&k("sha256:abc")).is_some());
    }

    #[test]
    fn inserts_drop_expired_entries_before_live_ones() {
        let (clock, c) = cache(3, 1000);
        c.insert(k("old"), v("O"), 1, false);
        clock.advance(TTL / 2);
        c.insert(k("live1"), v("L1"), 1, false);
        c.insert(k("live2"), v("L2"), 1, false);
        c.get(&k("old")); // most recently used, but about to expire
        clock.advance(TTL / 2);
        c.insert(k("new"), v("N"), 1, false);
        for key in ["live1", "live2", "new"] {
            assert!(c.get(&k(key)).is_some(), "{key}");
        }
        assert_eq!(c.stats().evictions, 1);
        // What the expired entry held is given back exactly.
        assert_eq!((c.stats().entries, c.stats().bytes), (3, 3));
    }

    #[test]
    fn zero_ttl_caches_only_immutable() {
        let clock = ManualClock::new();
        let c: Cache<TestShelves> = Cache::new(10, 100, Duration::ZERO, Arc::new(clock));
        c.insert(k("tag"), v("T"), 1, false);
        c.insert(k("digest"), v("D"), 1, true);
        assert!(c.get(&k("tag")).is_none());
        assert!(c.get(&k("digest")).is_some());
    }

    #[test]
    fn huge_ttl_does_not_overflow() {
        let clock = ManualClock::new();
        let c: Cache<TestShelves> = Cache::new(10, 100, Duration::MAX, Arc::new(clock.clone()));
        c.insert(k("tag"), v("T"), 1, false);
        clock.advance(Duration::MAX);
        assert!(c.get(&k("tag")).is_some());
    }

    #[test]
    fn capacity_zero_is_off() {
        let (_, c) = cache(0, 1000);
        c.insert(k("a"), v("A"), 1, true);
        assert!(c.get(&k("a")).is_none());
        let s = c.stats();
        assert_eq!((s.entries, s.misses), (0, 1));
    }

    #[test]
    fn stats_count_hits_and_misses() {
        let (_, c) = cache(10, 100);
        assert!(c.get(&k("a")).is_none());
        c.insert(k("a"), v("A"), 7, false);
        c.get(&k("a"));
        c.get(&k("a"));
        c.get(&k("b"));
        assert_eq!(
            c.stats(),
            CacheStats {
                hits: 2,
                misses: 2,
                evictions: 0,
                entries: 1,
                bytes: 7
            }
        );
    }

    #[test]
    fn clear_empties_but_keeps_counters() {
        let (_, c) = cache(10, 100);
        c.insert(k("a"), v("A"), 7, false);
        c.insert(k("b"), v("B"), 8, true);
        c.get(&k("a"));
        c.clear();
        assert!(c.get(&k("a")).is_none());
        assert!(c.get(&k("b")).is_none());
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.hits, s.misses), (0, 0, 1, 2));
        c.insert(k("c"), v("C"), 100, false);
        assert_eq!(c.stats().bytes, 100);
    }

    #[test]
    fn get_or_insert_with_caches_and_counts() {
        let (clock, c) = cache(10, 100);
        let fetches = AtomicUsize::new(0);
        let fetch = || {
            fetches.fetch_add(1, Ordering::SeqCst);
            Ok::<_, String>((v("fetched"), 10, false))
        };
        assert_eq!(*c.get_or_insert_with(&k("a"), fetch).unwrap(), "fetched");
        assert_eq!(*c.get_or_insert_with(&k("a"), fetch).unwrap(), "fetched");
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        clock.advance(TTL);
        c.get_or_insert_with(&k("a"), fetch).unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.evictions, s.entries), (1, 2, 1, 1));
    }

    #[test]
    fn get_or_insert_with_error_is_not_cached() {
        let (_, c) = cache(10, 100);
        let r = c.get_or_insert_with(&k("a"), || Err::<(Arc<String>, usize, bool), _>("nope"));
        assert_eq!(r.unwrap_err(), "nope");
        assert_eq!(c.stats().entries, 0);
        let r = c.get_or_insert_with(&k("a"), || Ok::<_, &str>((v("A"), 1, true)));
        assert_eq!(*r.unwrap(), "A");
    }

    #[test]
    fn sixteen_threads_one_fetch() {
        const N: usize = 16;
        let (_, c) = cache(10, 1000);
        let c = Arc::new(c);
        let fetches = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(N));
        let handles: Vec<_> = (0..N)
            .map(|_| {
                let c = Arc::clone(&c);
                let fetches = Arc::clone(&fetches);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    c.get_or_insert_with(&k("sha256:abc"), || {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        // Long enough for the other threads to pile up behind.
                        std::thread::sleep(Duration::from_millis(5));
                        Ok::<_, ()>((v("blob"), 4, true))
                    })
                })
            })
            .collect();
        let results: Vec<Arc<String>> = handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect();
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert!(results.iter().all(|r| Arc::ptr_eq(r, &results[0])));
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.entries), (N as u64 - 1, 1, 1));
    }

    #[test]
    fn single_flight_shares_uncacheable_values() {
        const N: usize = 8;
        let (_, c) = cache(0, 1000); // cache off
        let c = Arc::new(c);
        let fetches = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..N)
            .map(|_| {
                let c = Arc::clone(&c);
                let fetches = Arc::clone(&fetches);
                std::thread::spawn(move || {
                    c.get_or_insert_with(&k("a"), || {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        let deadline = Instant::now() + Duration::from_secs(10);
                        while c.flights.named.waiting(&k("a")) < N - 1 {
                            assert!(Instant::now() < deadline, "waiters never arrived");
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        Ok::<_, ()>((v("A"), 1, false))
                    })
                })
            })
            .collect();
        for h in handles {
            assert_eq!(*h.join().unwrap().unwrap(), "A");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(c.stats().entries, 0);
    }

    #[test]
    fn panicking_fetch_does_not_wedge_the_key() {
        let (_, c) = cache(10, 100);
        let c = Arc::new(c);
        let c2 = Arc::clone(&c);
        let r = std::thread::spawn(move || {
            c2.get_or_insert_with(&k("a"), || -> Result<(Arc<String>, usize, bool), ()> {
                panic!("fetch blew up")
            })
        })
        .join();
        assert!(r.is_err());
        let got = c.get_or_insert_with(&k("a"), || Ok::<_, ()>((v("A"), 1, false)));
        assert_eq!(*got.unwrap(), "A");
    }

    #[test]
    fn kinds_share_one_bound_and_one_lru_order() {
        let (_, c) = cache(3, 100);
        c.insert(k("a"), v("A"), 10, false);
        c.insert(1u32, v("one"), 10, false);
        c.insert(k("b"), v("B"), 10, false);
        assert!(c.get(&k("a")).is_some()); // the number is now the oldest
        c.insert(2u32, v("two"), 10, false);
        assert!(c.get(&1u32).is_none(), "the oldest entry of any kind goes");
        for key in ["a", "b"] {
            assert!(c.get(&k(key)).is_some(), "{key}");
        }
        assert!(c.get(&2u32).is_some());
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.evictions), (3, 30, 1));
        // By bytes too: 90 more needs the two oldest (both named) gone, not
        // the number used last.
        c.insert(3u32, v("three"), 90, true);
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.evictions), (2, 100, 3));
        assert!(c.get(&k("a")).is_none());
        assert!(c.get(&k("b")).is_none());
        assert!(c.get(&2u32).is_some());
    }

    #[test]
    fn kinds_do_not_see_each_others_keys() {
        let (_, c) = cache(10, 100);
        c.insert(k("7"), v("named"), 1, true);
        assert!(c.get(&7u32).is_none());
        c.insert(7u32, v("numbered"), 1, true);
        assert_eq!(*c.get(&k("7")).unwrap(), "named");
        assert_eq!(*c.get(&7u32).unwrap(), "numbered");
        c.clear();
        assert_eq!(c.stats().entries, 0);
    }

    #[test]
    fn removing_is_not_evicting() {
        let (_, c) = cache(10, 100);
        c.insert(k("a"), v("A"), 5, true);
        c.insert(k("b"), v("B"), 6, false);
        c.insert(1u32, v("A"), 7, false);
        c.remove_if(&k("a"), |v| **v == "not A");
        assert!(c.get(&k("a")).is_some(), "kept: the predicate said no");
        c.remove_if(&k("a"), |v| **v == "A");
        assert!(c.get(&k("a")).is_none());
        c.remove(&k("b"));
        c.remove(&k("b"));
        assert!(c.get(&k("b")).is_none());
        c.insert(k("b"), v("B"), 6, false);
        c.remove_where(|_: &u32, v| **v == "A");
        assert!(c.get(&1u32).is_none());
        assert!(c.get(&k("b")).is_some());
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.evictions), (1, 6, 0));
    }

    #[test]
    fn refresh_skips_the_lookup_but_fills_the_cache() {
        let (_, c) = cache(10, 100);
        c.insert(k("a"), v("old"), 3, false);
        let got = c.refresh_with(k("a"), || Ok::<_, ()>((v("new"), 3, false)));
        assert_eq!(*got.unwrap(), "new");
        assert_eq!(*c.get(&k("a")).unwrap(), "new");
        let failed = c.refresh_with(k("a"), || Err::<(Arc<String>, usize, bool), _>("down"));
        assert_eq!(failed.unwrap_err(), "down");
        assert_eq!(*c.get(&k("a")).unwrap(), "new", "an error keeps the entry");
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.entries, s.bytes), (2, 2, 1, 3));
    }

    #[test]
    fn hits_from_many_threads_are_all_counted_and_keep_the_recency_order() {
        let (_, c) = cache(3, 1000);
        c.insert(k("a"), v("a"), 1, true);
        c.insert(k("b"), v("b"), 1, true);
        c.insert(k("c"), v("c"), 1, true);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        assert_eq!(c.get(&k("a")).unwrap().as_str(), "a");
                        assert_eq!(c.get(&k("c")).unwrap().as_str(), "c");
                    }
                });
            }
        });
        assert_eq!(c.stats().hits, 16_000);
        assert_eq!(c.stats().misses, 0);
        // `b` was never hit: it is the least recently used.
        c.insert(k("d"), v("d"), 1, true);
        assert!(c.get(&k("b")).is_none());
        for key in ["a", "c", "d"] {
            assert!(c.get(&k(key)).is_some(), "{key}");
        }
    }

    #[test]
    fn hits_on_the_most_recent_entry_write_nothing_shared() {
        let (_, c) = cache(4, 1000);
        c.insert(k("a"), v("a"), 1, true);
        let stamp = c.uses.load(Ordering::Relaxed);
        for _ in 0..3 {
            c.get(&k("a")).unwrap();
        }
        // `a` was already the most recent: no new stamp was taken.
        assert_eq!(c.uses.load(Ordering::Relaxed), stamp);
        c.insert(k("b"), v("b"), 1, true);
        c.get(&k("a")).unwrap();
        assert_eq!(
            c.uses.load(Ordering::Relaxed),
            stamp + 2,
            "one for b, one for a's hit"
        );
    }
}
