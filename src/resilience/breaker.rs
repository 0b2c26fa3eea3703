//! A circuit breaker per registry host.
//!
//! Each attempt first asks [`Breaker::allow`] for a [`Permit`] and reports its
//! outcome through it ([`Permit::record_success`] / [`Permit::record_failure`]).
//!
//! * **Closed**: every attempt is allowed; `failure_threshold` consecutive
//!   failures open the breaker (a success resets the count).
//! * **Open**: every attempt is refused with the time left until the cooldown
//!   ends; nothing is sent.
//! * **Half-open** (once the cooldown has passed): exactly one attempt, the
//!   probe, is allowed; the others are refused until it reports. Success
//!   closes the breaker, failure opens it for another full cooldown.
//!
//! A probe that never reports cannot wedge the breaker: dropping its permit
//! unreported (early return, `?`, panic) frees the probe slot at once, and a
//! probe outstanding for longer than the cooldown (a leaked permit) is taken
//! as lost and replaced by a new one.
//!
//! Reports are tied to the state they were issued in: a slow attempt let
//! through while closed that reports after the breaker opened, or a replaced
//! probe that reports late, changes nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::clock::Clock;

/// What a breaker is doing, as seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg(test)]
pub(crate) enum BreakerState {
    /// Requests flow.
    Closed,
    /// Requests are refused until the cooldown ends.
    Open,
    /// The cooldown has ended; one probe is (or may be) in flight.
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// `probe` is when the outstanding probe was let through, if one is.
    HalfOpen {
        probe: Option<Instant>,
    },
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// Bumped on every transition and every probe handed out, so reports
    /// from permits of an earlier epoch are recognised and ignored.
    epoch: u64,
}

/// The circuit breaker of one host. Shared between threads behind an `Arc`.
#[derive(Debug)]
pub(crate) struct Breaker {
    failure_threshold: u32,
    cooldown: Duration,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

/// Leave to make one attempt, from [`Breaker::allow`].
///
/// Report the outcome with [`record_success`](Permit::record_success) or
/// [`record_failure`](Permit::record_failure). Dropping it unreported counts
/// as neither, and frees the half-open probe slot if this was the probe.
#[must_use = "report the attempt's outcome through the permit"]
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
    epoch: u64,
    probe: bool,
    reported: bool,
}

impl Breaker {
    /// A closed breaker. `failure_threshold == 0` disables it: every attempt
    /// is allowed and reports change nothing.
    pub(crate) fn new(
        failure_threshold: u32,
        cooldown: Duration,
        clock: Arc<dyn Clock>,
    ) -> Breaker {
        Breaker {
            failure_threshold,
            cooldown,
            clock,
            inner: Mutex::new(Inner {
                state: State::Closed { failures: 0 },
                epoch: 0,
            }),
        }
    }

    /// Asks leave for one attempt. `Err(retry_in)` means refused: the
    /// breaker is open (or its probe is out) and `retry_in` is the time until
    /// an attempt may be allowed again.
    pub(crate) fn allow(&self) -> Result<Permit<'_>, Duration> {
        if self.failure_threshold == 0 {
            return Ok(self.permit(0, false));
        }
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        if let State::Open { until } = inner.state {
            if now < until {
                return Err(until - now);
            }
            inner.state = State::HalfOpen { probe: None };
            inner.epoch += 1;
        }
        match inner.state {
            State::Closed { .. } => Ok(self.permit(inner.epoch, false)),
            State::HalfOpen { probe } => {
                if let Some(since) = probe {
                    let lost_at = since.checked_add(self.cooldown);
                    if let Some(lost_at) = lost_at.filter(|&t| now < t) {
                        return Err(lost_at - now);
                    }
                    if lost_at.is_none() {
                        // A cooldown too long to represent: the probe is never taken as lost.
                        return Err(self.cooldown);
                    }
                }
                inner.state = State::HalfOpen { probe: Some(now) };
                inner.epoch += 1;
                Ok(self.permit(inner.epoch, true))
            }
            State::Open { .. } => unreachable!("open was handled above"),
        }
    }

    /// How long the breaker stays open, if it is open: lets a caller that
    /// just failed give up at once instead of sleeping towards a refusal.
    pub(crate) fn open_for(&self) -> Option<Duration> {
        let now = self.clock.now();
        match self.inner.lock().state {
            State::Open { until } if now < until => Some(until - now),
            _ => None,
        }
    }

    /// The current state (for diagnostics and tests; `allow` is the only
    /// way to take part).
    #[cfg(test)]
    pub(crate) fn state(&self) -> BreakerState {
        let inner = self.inner.lock();
        match inner.state {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if self.clock.now() < until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    fn permit(&self, epoch: u64, probe: bool) -> Permit<'_> {
        Permit {
            breaker: self,
            epoch,
            probe,
            reported: false,
        }
    }

    fn open(&self, inner: &mut Inner) {
        let now = self.clock.now();
        // A cooldown too long to represent keeps the breaker open "forever".
        let until = now
            .checked_add(self.cooldown)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 60 * 60));
        inner.state = State::Open { until };
        inner.epoch += 1;
    }

    fn report(&self, epoch: u64, probe: bool, success: bool) {
        if self.failure_threshold == 0 {
            return;
        }
        let mut inner = self.inner.lock();
        if inner.epoch != epoch {
            return; // issued before the last transition: stale
        }
        match (inner.state, probe, success) {
            (State::Closed { .. }, false, true) => {
                inner.state = State::Closed { failures: 0 };
            }
            (State::Closed { failures }, false, false) => {
                let failures = failures.saturating_add(1);
                if failures >= self.failure_threshold {
                    self.open(&mut inner);
                } else {
                    inner.state = State::Closed { failures };
                }
            }
            (State::HalfOpen { probe: Some(_) }, true, true) => {
                inner.state = State::Closed { failures: 0 };
                inner.epoch += 1;
            }
            (State::HalfOpen { probe: Some(_) }, true, false) => self.open(&mut inner),
            _ => {}
        }
    }

    fn release_probe(&self, epoch: u64) {
        let mut inner = self.inner.lock();
        if inner.epoch == epoch {
            if let State::HalfOpen { probe: Some(_) } = inner.state {
                inner.state = State::HalfOpen { probe: None };
                inner.epoch += 1;
            }
        }
    }
}

impl Permit<'_> {
    /// Whether this permit is the half-open probe.
    #[cfg(test)]
    pub(crate) fn is_probe(&self) -> bool {
        self.probe
    }

    /// The attempt succeeded (the host answered sensibly): resets the failure
    /// count; a probe's success closes the breaker.
    pub(crate) fn record_success(mut self) {
        self.reported = true;
        self.breaker.report(self.epoch, self.probe, true);
    }

    /// The attempt failed in a way that says the host is unwell (network
    /// error, timeout, 5xx; not a 429, which is an answer from a live host):
    /// counts towards opening; a probe's failure
    /// reopens the breaker for a full cooldown.
    pub(crate) fn record_failure(mut self) {
        self.reported = true;
        self.breaker.report(self.epoch, self.probe, false);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.reported {
            self.breaker.release_probe(self.epoch);
        }
    }
}

/// The breakers of all hosts a client talks to, created on first use.
#[derive(Debug)]
pub(crate) struct Breakers {
    failure_threshold: u32,
    cooldown: Duration,
    clock: Arc<dyn Clock>,
    hosts: Mutex<HashMap<String, Arc<Breaker>>>,
}

impl Breakers {
    /// Breakers built with these settings (see [`Breaker::new`]).
    pub(crate) fn new(
        failure_threshold: u32,
        cooldown: Duration,
        clock: Arc<dyn Clock>,
    ) -> Breakers {
        Breakers {
            failure_threshold,
            cooldown,
            clock,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// The breaker of `host` (`host[:port]`, compared case-insensitively).
    pub(crate) fn for_host(&self, host: &str) -> Arc<Breaker> {
        let key = host.to_ascii_lowercase();
        let mut hosts = self.hosts.lock();
        Arc::clone(hosts.entry(key).or_insert_with(|| {
            Arc::new(Breaker::new(
                self.failure_threshold,
                self.cooldown,
                Arc::clone(&self.clock),
            ))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::Barrier;

    const COOLDOWN: Duration = Duration::from_secs(30);

    fn breaker(threshold: u32) -> (ManualClock, Breaker) {
        let clock = ManualClock::new();
        let b = Breaker::new(threshold, COOLDOWN, Arc::new(clock.clone()));
        (clock, b)
    }

    fn fail(b: &Breaker) {
        b.allow().expect("allowed").record_failure();
    }

    fn succeed(b: &Breaker) {
        b.allow().expect("allowed").record_success();
    }

    #[test]
    fn opens_after_threshold_consecutive_failures() {
        let (_clock, b) = breaker(3);
        fail(&b);
        fail(&b);
        succeed(&b); // resets
        fail(&b);
        fail(&b);
        assert_eq!(b.state(), BreakerState::Closed);
        fail(&b);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.allow().unwrap_err(), COOLDOWN);
    }

    #[test]
    fn open_counts_down_then_half_open_single_probe() {
        let (clock, b) = breaker(1);
        fail(&b);
        clock.advance(Duration::from_secs(10));
        assert_eq!(b.allow().unwrap_err(), Duration::from_secs(20));
        clock.advance(Duration::from_secs(20));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let probe = b.allow().expect("probe");
        assert!(probe.is_probe());
        assert_eq!(b.allow().unwrap_err(), COOLDOWN);
        clock.advance(Duration::from_secs(1));
        assert_eq!(b.allow().unwrap_err(), Duration::from_secs(29));
        probe.record_success();
        assert_eq!(b.state(), BreakerState::Closed);
        let p = b.allow().expect("closed");
        assert!(!p.is_probe());
        p.record_success();
    }

    #[test]
    fn failed_probe_reopens_for_full_cooldown() {
        let (clock, b) = breaker(2);
        fail(&b);
        fail(&b);
        clock.advance(COOLDOWN);
        let probe = b.allow().expect("probe");
        clock.advance(Duration::from_secs(5));
        probe.record_failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.allow().unwrap_err(), COOLDOWN);
        clock.advance(COOLDOWN);
        let probe = b.allow().expect("second probe");
        probe.record_success();
        // Closed again with a fresh count: one failure does not reopen.
        fail(&b);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn dropped_probe_frees_the_slot() {
        let (clock, b) = breaker(1);
        fail(&b);
        clock.advance(COOLDOWN);
        let probe = b.allow().expect("probe");
        assert!(b.allow().is_err());
        drop(probe);
        let probe = b.allow().expect("new probe after drop");
        assert!(probe.is_probe());
        probe.record_success();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn probe_panicking_frees_the_slot() {
        let (clock, b) = breaker(1);
        fail(&b);
        clock.advance(COOLDOWN);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _probe = b.allow().expect("probe");
            panic!("caller blew up");
        }));
        assert!(r.is_err());
        assert!(b.allow().expect("new probe").is_probe());
    }

    #[test]
    fn leaked_probe_is_replaced_after_cooldown_and_its_report_ignored() {
        let (clock, b) = breaker(1);
        fail(&b);
        clock.advance(COOLDOWN);
        let leaked = b.allow().expect("probe");
        clock.advance(COOLDOWN - Duration::from_secs(1));
        assert_eq!(b.allow().unwrap_err(), Duration::from_secs(1));
        clock.advance(Duration::from_secs(1));
        let second = b.allow().expect("replacement probe");
        // The first probe's late report is stale.
        leaked.record_failure();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.allow().is_err());
        second.record_success();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn stale_reports_from_before_opening_are_ignored() {
        let (clock, b) = breaker(2);
        let slow_ok = b.allow().unwrap();
        let slow_fail = b.allow().unwrap();
        fail(&b);
        fail(&b);
        assert_eq!(b.state(), BreakerState::Open);
        slow_ok.record_success();
        slow_fail.record_failure();
        assert_eq!(b.allow().unwrap_err(), COOLDOWN);
        clock.advance(COOLDOWN);
        let probe = b.allow().unwrap();
        assert!(probe.is_probe());
        probe.record_success();
    }

    #[test]
    fn threshold_zero_disables() {
        let (_clock, b) = breaker(0);
        for _ in 0..100 {
            fail(&b);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(!b.allow().unwrap().is_probe());
    }

    #[test]
    fn huge_cooldown_does_not_overflow() {
        let clock = ManualClock::new();
        let b = Breaker::new(1, Duration::MAX, Arc::new(clock.clone()));
        fail(&b);
        assert!(b.allow().is_err());
        clock.advance(Duration::MAX);
        // ManualClock caps at ~100 years, exactly when the breaker reopens.
        let probe = b.allow().expect("probe");
        assert_eq!(b.allow().unwrap_err(), Duration::MAX);
        probe.record_success();
    }

    #[test]
    fn open_for_counts_down_and_ends_exactly_when_the_cooldown_does() {
        let (clock, b) = breaker(1);
        assert_eq!(b.open_for(), None, "closed");
        fail(&b);
        assert_eq!(b.open_for(), Some(COOLDOWN));
        clock.advance(COOLDOWN - Duration::from_secs(1));
        assert_eq!(b.open_for(), Some(Duration::from_secs(1)));
        clock.advance(Duration::from_secs(1));
        // The moment `allow` lets a probe through, the retry loop must not
        // be told to give up.
        assert_eq!(b.open_for(), None);
        assert!(b.allow().expect("probe").is_probe());
    }

    #[test]
    fn a_zero_cooldown_is_over_as_soon_as_it_opens() {
        let clock = ManualClock::new();
        let b = Breaker::new(1, Duration::ZERO, Arc::new(clock.clone()));
        fail(&b);
        // No time has passed, yet the cooldown is over: a caller with a
        // retry left retries (the probe) instead of reporting CircuitOpen.
        assert_eq!(b.open_for(), None);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let probe = b.allow().expect("probe");
        assert!(probe.is_probe());
        probe.record_failure();
        assert_eq!(b.open_for(), None, "reopened for zero again");
        b.allow().expect("next probe").record_success();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_cooldown_too_long_to_represent_keeps_it_open_for_decades() {
        const YEAR: Duration = Duration::from_secs(365 * 24 * 60 * 60);
        let clock = ManualClock::new();
        let b = Breaker::new(1, Duration::MAX, Arc::new(clock.clone()));
        fail(&b);
        let mut passed = Duration::ZERO;
        for year in [1, 2, 3, 10, 50, 99] {
            clock.advance(YEAR * year - passed);
            passed = YEAR * year;
            let retry_in = b.allow().expect_err("still open");
            assert!(retry_in >= YEAR, "year {year}: retry in {retry_in:?}");
            assert_eq!(b.open_for(), Some(retry_in), "year {year}");
            assert_eq!(b.state(), BreakerState::Open, "year {year}");
        }
    }

    #[test]
    fn concurrent_half_open_lets_exactly_one_probe_through() {
        for _ in 0..20 {
            let clock = ManualClock::new();
            let b = Arc::new(Breaker::new(1, COOLDOWN, Arc::new(clock.clone())));
            fail(&b);
            clock.advance(COOLDOWN);
            let threads = 8;
            let barrier = Arc::new(Barrier::new(threads));
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let b = Arc::clone(&b);
                    let barrier = Arc::clone(&barrier);
                    std::thread::spawn(move || {
                        barrier.wait();
                        let permit = b.allow().ok();
                        // Hold the permit until everyone has asked.
                        barrier.wait();
                        let got = permit.is_some();
                        assert!(permit.is_none_or(|p| p.is_probe()));
                        got
                    })
                })
                .collect();
            let probes = handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|&ok| ok)
                .count();
            assert_eq!(probes, 1);
            assert_eq!(b.state(), BreakerState::HalfOpen);
        }
    }

    #[test]
    fn breakers_are_per_host() {
        let clock = ManualClock::new();
        let all = Breakers::new(1, COOLDOWN, Arc::new(clock));
        let a = all.for_host("registry-1.docker.io");
        assert!(Arc::ptr_eq(&a, &all.for_host("Registry-1.Docker.IO")));
        fail(&a);
        assert!(a.allow().is_err());
        assert!(all.for_host("ghcr.io").allow().is_ok());
        assert!(all.for_host("registry-1.docker.io").allow().is_err());
    }
}
