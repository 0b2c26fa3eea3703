//! The client's response cache: least-recently-used, bounded by entry count
//! and by bytes, with a time to live for mutable entries.
//!
//! Content addressed by digest never changes, so such entries are cached as
//! *immutable* and never expire; entries looked up by tag do. Concurrent
//! lookups that miss the same key make one fetch between them.
//!
//! The cache itself is internal; [`CacheStats`] is what the client reports.

use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;

use crate::clock::Clock;
use crate::singleflight::Flights;

/// Counters and sizes of a cache.
///
/// `hits` and `misses` count lookups; a lookup that waited for another
/// caller's fetch of the same key and got its value counts as a hit, the
/// caller that ran the fetch as a miss. `evictions` counts entries the cache
/// dropped by itself, to stay within its bounds or because they had expired
/// (not those removed by clearing it or replaced by a newer value).
/// `entries` and `bytes` are the current contents.
///
/// ```
/// use registry_client::cache::CacheStats;
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
}

impl<V> Entry<V> {
    fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|t| now >= t)
    }
}

#[derive(Debug)]
struct Inner<K: Hash + Eq, V> {
    lru: LruCache<K, Entry<V>>,
    bytes: usize,
    hits: u64,
    misses: u64,
    evictions: u64,
}

impl<K: Hash + Eq, V> Inner<K, V> {
    fn remove(&mut self, key: &K) -> Option<Entry<V>> {
        let entry = self.lru.pop(key)?;
        self.bytes -= entry.bytes;
        Some(entry)
    }

    fn pop_lru(&mut self) -> bool {
        match self.lru.pop_lru() {
            Some((_, entry)) => {
                self.bytes -= entry.bytes;
                self.evictions += 1;
                true
            }
            None => false,
        }
    }

    fn drop_expired(&mut self, now: Instant)
    where
        K: Clone,
    {
        let expired: Vec<K> = self
            .lru
            .iter()
            .filter(|(_, e)| e.expired(now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &expired {
            self.remove(key);
            self.evictions += 1;
        }
    }
}

/// A thread-safe LRU cache with a time to live; values are meant to be
/// `Arc`s, so a hit copies nothing.
///
/// Bounds: at most `capacity` entries (0 turns the cache off) and at most
/// `max_bytes` bytes as declared by each insertion; a single value larger than
/// `max_bytes` is not cached. Mutable entries expire `ttl` after insertion,
/// immutable ones never.
#[derive(Debug)]
pub(crate) struct Cache<K: Hash + Eq, V> {
    capacity: usize,
    max_bytes: usize,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner<K, V>>,
    flights: Flights<K, V>,
}

impl<K: Hash + Eq + Clone, V: Clone> Cache<K, V> {
    /// An empty cache holding at most `capacity` entries (0: the cache is
    /// off and stores nothing) and `max_bytes` bytes; mutable entries live
    /// for `ttl` by `clock`.
    pub(crate) fn new(
        capacity: usize,
        max_bytes: usize,
        ttl: Duration,
        clock: Arc<dyn Clock>,
    ) -> Cache<K, V> {
        Cache {
            capacity,
            max_bytes,
            ttl,
            clock,
            inner: Mutex::new(Inner {
                lru: LruCache::unbounded(),
                bytes: 0,
                hits: 0,
                misses: 0,
                evictions: 0,
            }),
            flights: Flights::new(),
        }
    }

    /// The value for `key`, if cached and not expired; marks it most
    /// recently used. Counts a hit or a miss; an expired entry found is
    /// dropped.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let found = self.lookup(key);
        let mut inner = self.inner.lock();
        if found.is_some() {
            inner.hits += 1;
        } else {
            inner.misses += 1;
        }
        found
    }

    /// [`get`](Self::get) without counting.
    fn lookup(&self, key: &K) -> Option<V> {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        match inner.lru.get(key) {
            Some(entry) if !entry.expired(now) => Some(entry.value.clone()),
            Some(_) => {
                inner.remove(key);
                inner.evictions += 1;
                None
            }
            None => None,
        }
    }

    /// Caches `value` under `key`, replacing any older value, as `bytes`
    /// bytes; `immutable` entries never expire.
    ///
    /// Not cached (and any older value for `key` is dropped) when the cache
    /// is off, when `bytes > max_bytes`, or when a mutable value would expire
    /// at once (`ttl` zero). To make room it first drops every expired entry,
    /// then least-recently-used ones, until both bounds hold.
    pub(crate) fn insert(&self, key: K, value: V, bytes: usize, immutable: bool) {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        inner.remove(&key);
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
        };
        if self.capacity == 0 || bytes > self.max_bytes || entry.expired(now) {
            return;
        }
        // `bytes <= max_bytes`, so the room needed cannot underflow.
        let fits = |inner: &Inner<K, V>| {
            inner.lru.len() < self.capacity && inner.bytes <= self.max_bytes - bytes
        };
        if !fits(&inner) {
            inner.drop_expired(now);
            while !fits(&inner) && inner.pop_lru() {}
        }
        inner.bytes += bytes;
        inner.lru.push(key, entry);
    }

    /// Drops every entry. The hit, miss and eviction counters are kept.
    pub(crate) fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.lru.clear();
        inner.bytes = 0;
    }

    /// Current counters and contents. Expired entries not yet dropped are
    /// still counted in `entries` and `bytes`.
    pub(crate) fn stats(&self) -> CacheStats {
        let inner = self.inner.lock();
        CacheStats {
            hits: inner.hits,
            misses: inner.misses,
            evictions: inner.evictions,
            entries: inner.lru.len(),
            bytes: inner.bytes,
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
    pub(crate) fn get_or_insert_with<E>(
        &self,
        key: &K,
        fetch: impl FnOnce() -> Result<(V, usize, bool), E>,
    ) -> Result<V, E> {
        let mut fetched = false;
        let result = self.flights.run(
            key,
            || self.lookup(key),
            || {
                fetched = true;
                let (value, bytes, immutable) = fetch()?;
                self.insert(key.clone(), value.clone(), bytes, immutable);
                Ok(value)
            },
        );
        let mut inner = self.inner.lock();
        if fetched {
            inner.misses += 1;
        } else {
            inner.hits += 1;
        }
        drop(inner);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Barrier;

    const TTL: Duration = Duration::from_secs(60);

    fn cache(capacity: usize, max_bytes: usize) -> (ManualClock, Cache<String, Arc<String>>) {
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
    }

    #[test]
    fn zero_ttl_caches_only_immutable() {
        let clock = ManualClock::new();
        let c: Cache<String, Arc<String>> = Cache::new(10, 100, Duration::ZERO, Arc::new(clock));
        c.insert(k("tag"), v("T"), 1, false);
        c.insert(k("digest"), v("D"), 1, true);
        assert!(c.get(&k("tag")).is_none());
        assert!(c.get(&k("digest")).is_some());
    }

    #[test]
    fn huge_ttl_does_not_overflow() {
        let clock = ManualClock::new();
        let c: Cache<String, Arc<String>> =
            Cache::new(10, 100, Duration::MAX, Arc::new(clock.clone()));
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
                        while c.flights.waiting(&k("a")) < N - 1 {
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
}
