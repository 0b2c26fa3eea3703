//! Single-flight: concurrent callers wanting the same missing thing make one
//! fetch between them.
//!
//! [`Flights::run`] is the whole API. A caller passes a `check` (look in your
//! cache) and a `work` (fetch, and usually store in your cache):
//!
//! 1. `check()`; a hit is returned at once.
//! 2. Otherwise, if nobody is fetching this key, the caller becomes the
//!    leader: it calls `check()` once more (a flight may have landed between
//!    step 1 and now), then `work()`, and returns its result. A successful
//!    value is also handed to every caller waiting on the flight.
//! 3. If somebody is already fetching this key, the caller blocks until that
//!    flight ends, then takes the value it produced. If the leader failed or
//!    panicked, the waiter starts over at step 1 (and may lead itself).
//!
//! No lock is held while `check` or `work` run. A leader that panics wakes its
//! waiters through a drop guard, so they never wait for ever on a dead flight.
//! Waiters do wait as long as the leader's `work` takes: bound `work` (the
//! transport's timeouts do).
//!
//! Do not call `run` for a key from inside that key's own `work` on the same
//! `Flights`: the caller would wait for itself.
//!
//! Both the response cache and the token cache use this: the response cache
//! checks its LRU and inserts in `work`; the token cache checks for an
//! unexpired token and stores the new one in `work`. Because waiters get the
//! leader's value directly, sharing works even when the value is not cached
//! (cache off, value too big, token already expiring).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

/// The fetches in flight, by key. Share one per cache.
#[derive(Debug)]
pub(crate) struct Flights<K, V> {
    flights: Mutex<HashMap<K, Arc<Flight<V>>>>,
}

#[derive(Debug)]
struct Flight<V> {
    state: Mutex<FlightState<V>>,
    done: Condvar,
}

#[derive(Debug)]
struct FlightState<V> {
    finished: bool,
    /// The leader's value, when it succeeded.
    value: Option<V>,
    /// Callers blocked on this flight (for tests).
    waiting: usize,
}

/// Ends the leader's flight however the leader leaves: publishes the value if
/// one was set, wakes the waiters, and removes the flight from the map.
struct Leader<'a, K: Hash + Eq, V> {
    flights: &'a Flights<K, V>,
    key: &'a K,
    flight: Arc<Flight<V>>,
    value: Option<V>,
}

impl<K: Hash + Eq, V> Drop for Leader<'_, K, V> {
    fn drop(&mut self) {
        // Remove first, so a waiter that wakes and starts over cannot find
        // this finished flight again.
        {
            let mut map = self.flights.flights.lock();
            if map
                .get(self.key)
                .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
            {
                map.remove(self.key);
            }
        }
        let mut state = self.flight.state.lock();
        state.finished = true;
        state.value = self.value.take();
        drop(state);
        self.flight.done.notify_all();
    }
}

enum Role<V> {
    Leader(Arc<Flight<V>>),
    Waiter(Arc<Flight<V>>),
}

impl<K, V> Default for Flights<K, V> {
    fn default() -> Self {
        Flights {
            flights: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Flights<K, V> {
    /// No flights.
    pub(crate) fn new() -> Flights<K, V> {
        Flights::default()
    }

    /// Gets the value for `key` from `check`, or from one `work` shared by
    /// all concurrent callers for `key`. See the [module docs](self).
    ///
    /// Returns `work`'s error only to the caller whose `work` failed.
    pub(crate) fn run<E>(
        &self,
        key: &K,
        mut check: impl FnMut() -> Option<V>,
        work: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        loop {
            if let Some(v) = check() {
                return Ok(v);
            }
            match self.join(key) {
                Role::Leader(flight) => {
                    let mut leader = Leader {
                        flights: self,
                        key,
                        flight,
                        value: None,
                    };
                    if let Some(v) = check() {
                        leader.value = Some(v.clone());
                        return Ok(v);
                    }
                    let result = work();
                    if let Ok(v) = &result {
                        leader.value = Some(v.clone());
                    }
                    return result;
                }
                Role::Waiter(flight) => {
                    if let Some(v) = Self::wait(&flight) {
                        return Ok(v);
                    }
                    // The leader failed or panicked: start over.
                }
            }
        }
    }

    fn join(&self, key: &K) -> Role<V> {
        let mut map = self.flights.lock();
        if let Some(flight) = map.get(key) {
            return Role::Waiter(Arc::clone(flight));
        }
        let flight = Arc::new(Flight {
            state: Mutex::new(FlightState {
                finished: false,
                value: None,
                waiting: 0,
            }),
            done: Condvar::new(),
        });
        map.insert(key.clone(), Arc::clone(&flight));
        Role::Leader(flight)
    }

    fn wait(flight: &Flight<V>) -> Option<V> {
        let mut state = flight.state.lock();
        state.waiting += 1;
        while !state.finished {
            flight.done.wait(&mut state);
        }
        state.waiting -= 1;
        state.value.clone()
    }

    /// How many callers are blocked on the flight for `key`.
    #[cfg(test)]
    pub(crate) fn waiting(&self, key: &K) -> usize {
        let flight = self.flights.lock().get(key).cloned();
        flight.map_or(0, |f| f.state.lock().waiting)
    }

    /// How many flights are in progress.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.flights.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Barrier;
    use std::time::{Duration, Instant};

    /// Spins (briefly sleeping) until `cond` holds; fails the test after 10s.
    fn wait_until(mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(Instant::now() < deadline, "condition never became true");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn sixteen_callers_one_fetch_even_without_a_cache() {
        const N: usize = 16;
        let flights = Arc::new(Flights::<String, Arc<String>>::new());
        let fetches = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(N));
        let handles: Vec<_> = (0..N)
            .map(|_| {
                let flights = Arc::clone(&flights);
                let fetches = Arc::clone(&fetches);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    let key = "k".to_string();
                    flights.run(
                        &key,
                        || None, // no cache at all: sharing must come from the flight
                        || {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            // Hold the flight until all others are waiting on it.
                            wait_until(|| flights.waiting(&key) == N - 1);
                            Ok::<_, ()>(Arc::new("v".to_string()))
                        },
                    )
                })
            })
            .collect();
        for h in handles {
            assert_eq!(*h.join().unwrap().unwrap(), "v");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(flights.in_flight(), 0);
    }

    #[test]
    fn hit_skips_work() {
        let flights = Flights::<u32, u32>::new();
        let r: Result<u32, ()> = flights.run(&1, || Some(7), || panic!("must not fetch"));
        assert_eq!(r, Ok(7));
    }

    #[test]
    fn leader_rechecks_before_working() {
        let flights = Flights::<u32, u32>::new();
        let mut checks = 0;
        let r: Result<u32, ()> = flights.run(
            &1,
            || {
                checks += 1;
                (checks == 2).then_some(9)
            },
            || panic!("must not fetch"),
        );
        assert_eq!(r, Ok(9));
    }

    #[test]
    fn error_goes_to_leader_and_waiters_try_themselves() {
        let flights = Arc::new(Flights::<u32, u32>::new());
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let leader = {
            let flights = Arc::clone(&flights);
            std::thread::spawn(move || {
                flights.run(
                    &1,
                    || None,
                    || {
                        started_tx.send(()).unwrap();
                        wait_until(|| flights.waiting(&1) == 1);
                        Err("boom")
                    },
                )
            })
        };
        started_rx.recv().unwrap();
        let waiter_worked = AtomicUsize::new(0);
        let r = flights.run(
            &1,
            || None,
            || {
                waiter_worked.fetch_add(1, Ordering::SeqCst);
                Ok::<_, &str>(5)
            },
        );
        assert_eq!(r, Ok(5));
        assert_eq!(waiter_worked.load(Ordering::SeqCst), 1);
        assert_eq!(leader.join().unwrap(), Err("boom"));
        assert_eq!(flights.in_flight(), 0);
    }

    #[test]
    fn panicking_leader_does_not_wedge_waiters() {
        let flights = Arc::new(Flights::<u32, u32>::new());
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let leader = {
            let flights = Arc::clone(&flights);
            std::thread::spawn(move || {
                let _: Result<u32, ()> = flights.run(
                    &1,
                    || None,
                    || {
                        started_tx.send(()).unwrap();
                        wait_until(|| flights.waiting(&1) == 1);
                        panic!("fetch panicked");
                    },
                );
            })
        };
        started_rx.recv().unwrap();
        let r = flights.run(&1, || None, || Ok::<_, ()>(11));
        assert_eq!(r, Ok(11));
        assert!(leader.join().is_err());
        assert_eq!(flights.in_flight(), 0);
    }

    #[test]
    fn different_keys_fly_independently() {
        let flights = Arc::new(Flights::<u32, u32>::new());
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let slow = {
            let flights = Arc::clone(&flights);
            std::thread::spawn(move || {
                flights.run(
                    &1,
                    || None,
                    || {
                        started_tx.send(()).unwrap();
                        release_rx.recv().unwrap();
                        Ok::<_, ()>(1)
                    },
                )
            })
        };
        started_rx.recv().unwrap();
        // Key 2 does not wait for key 1's flight.
        assert_eq!(flights.run(&2, || None, || Ok::<_, ()>(2)), Ok(2));
        release_tx.send(()).unwrap();
        assert_eq!(slow.join().unwrap(), Ok(1));
    }
}
