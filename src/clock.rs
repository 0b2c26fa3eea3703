//! Time as the client sees it.
//!
//! Everything in the client that depends on time — the circuit breaker's
//! cooldown, the cache's time to live, token expiry and the sleeps between
//! retries — asks a [`Clock`] instead of the operating system. The client uses
//! [`SystemClock`] unless told otherwise; tests inject a `ManualClock`
//! (cargo feature `test-util`) and move time forward by hand, so nothing
//! really waits.

use std::fmt;
#[cfg(any(test, feature = "test-util"))]
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

#[cfg(any(test, feature = "test-util"))]
use parking_lot::Mutex;

/// A source of monotonic time, wall-clock time and sleep.
///
/// Implementations must be cheap to call and safe to share between threads.
///
/// ```
/// use std::time::Duration;
/// use registry_client::clock::{Clock, SystemClock};
///
/// fn wait_a_bit(clock: &dyn Clock) {
///     let start = clock.now();
///     clock.sleep(Duration::from_millis(1));
///     assert!(clock.now() >= start);
/// }
/// wait_a_bit(&SystemClock);
/// ```
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current monotonic time, for measuring intervals.
    fn now(&self) -> Instant;
    /// The current wall-clock time, for comparing with dates from a server.
    fn system_time(&self) -> SystemTime;
    /// Blocks the calling thread for `d`.
    fn sleep(&self, d: Duration);
}

/// The real clock: [`Instant::now`], [`SystemTime::now`] and
/// [`std::thread::sleep`].
///
/// ```
/// use registry_client::clock::{Clock, SystemClock};
/// let a = SystemClock.now();
/// assert!(SystemClock.now() >= a);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn system_time(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
}

#[cfg(any(test, feature = "test-util"))]
/// Total time a [`ManualClock`] can be moved forward; further advances are
/// ignored, so that no arithmetic on [`Instant`] or [`SystemTime`] can overflow.
const MANUAL_MAX_ELAPSED: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

#[cfg(any(test, feature = "test-util"))]
/// The wall-clock time a [`ManualClock`] starts at: 2023-11-14T22:13:20Z.
const MANUAL_EPOCH_SECS: u64 = 1_700_000_000;

#[cfg(any(test, feature = "test-util"))]
#[derive(Debug)]
struct ManualState {
    elapsed: Duration,
    slept: Duration,
}

#[cfg(any(test, feature = "test-util"))]
/// A clock that only moves when told to, for tests (cargo feature
/// `test-util`).
///
/// It starts at a fixed wall-clock time (2023-11-14T22:13:20Z, or the one given
/// to [`ManualClock::starting_at`]) and at the [`Instant`] it was created.
/// [`advance`](ManualClock::advance) moves both forward;
/// [`sleep`](Clock::sleep) returns at once after advancing the clock by the
/// requested time and adding it to [`slept`](ManualClock::slept).
///
/// Clones share the same time, so a test keeps one clone and hands another to
/// the client. The total time the clock can move is capped at about a hundred
/// years; advances beyond that are ignored (and still counted as slept).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use registry_client::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let shared: Arc<dyn Clock> = Arc::new(clock.clone());
/// let start = shared.now();
/// shared.sleep(Duration::from_secs(30)); // returns immediately
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(shared.now() - start, Duration::from_secs(35));
/// assert_eq!(clock.slept(), Duration::from_secs(30));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    start: Instant,
    start_system: SystemTime,
    state: Arc<Mutex<ManualState>>,
}

#[cfg(any(test, feature = "test-util"))]
impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("ManualClock")
            .field("elapsed", &state.elapsed)
            .field("slept", &state.slept)
            .finish()
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

#[cfg(any(test, feature = "test-util"))]
impl ManualClock {
    /// A clock at 2023-11-14T22:13:20Z (Unix time 1 700 000 000).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use registry_client::clock::{Clock, ManualClock};
    /// let clock = ManualClock::new();
    /// assert_eq!(clock.system_time(), UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    /// ```
    pub fn new() -> ManualClock {
        ManualClock::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(MANUAL_EPOCH_SECS))
    }

    /// A clock whose wall-clock time starts at `start`.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use registry_client::clock::{Clock, ManualClock};
    /// let clock = ManualClock::starting_at(UNIX_EPOCH + Duration::from_secs(784_111_777));
    /// assert_eq!(httpdate::fmt_http_date(clock.system_time()), "Sun, 06 Nov 1994 08:49:37 GMT");
    /// ```
    pub fn starting_at(start: SystemTime) -> ManualClock {
        ManualClock {
            start: Instant::now(),
            start_system: start,
            state: Arc::new(Mutex::new(ManualState {
                elapsed: Duration::ZERO,
                slept: Duration::ZERO,
            })),
        }
    }

    /// Moves the clock forward by `d`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use registry_client::clock::{Clock, ManualClock};
    /// let clock = ManualClock::new();
    /// let t0 = clock.now();
    /// clock.advance(Duration::from_millis(1500));
    /// assert_eq!(clock.now() - t0, Duration::from_millis(1500));
    /// assert_eq!(clock.slept(), Duration::ZERO);
    /// ```
    pub fn advance(&self, d: Duration) {
        let mut state = self.state.lock();
        state.elapsed = state.elapsed.saturating_add(d).min(MANUAL_MAX_ELAPSED);
    }

    /// Total time passed to [`sleep`](Clock::sleep) so far, over all clones.
    ///
    /// ```
    /// use std::time::Duration;
    /// use registry_client::clock::{Clock, ManualClock};
    /// let clock = ManualClock::new();
    /// clock.sleep(Duration::from_secs(1));
    /// clock.sleep(Duration::from_secs(2));
    /// assert_eq!(clock.slept(), Duration::from_secs(3));
    /// ```
    pub fn slept(&self) -> Duration {
        self.state.lock().slept
    }

    /// Total time the clock has moved since it was created.
    ///
    /// ```
    /// use std::time::Duration;
    /// use registry_client::clock::ManualClock;
    /// let clock = ManualClock::new();
    /// clock.advance(Duration::from_secs(7));
    /// assert_eq!(clock.elapsed(), Duration::from_secs(7));
    /// ```
    pub fn elapsed(&self) -> Duration {
        self.state.lock().elapsed
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn system_time(&self) -> SystemTime {
        self.start_system + self.elapsed()
    }

    fn sleep(&self, d: Duration) {
        let mut state = self.state.lock();
        state.slept = state.slept.saturating_add(d);
        state.elapsed = state.elapsed.saturating_add(d).min(MANUAL_MAX_ELAPSED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new();
        let t0 = clock.now();
        let s0 = clock.system_time();
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_secs(10));
        assert_eq!(clock.now() - t0, Duration::from_secs(10));
        assert_eq!(
            clock.system_time().duration_since(s0).unwrap(),
            Duration::from_secs(10)
        );
        assert_eq!(clock.slept(), Duration::ZERO);
    }

    #[test]
    fn manual_sleep_is_instant_and_recorded_across_clones() {
        let clock = ManualClock::new();
        let other: Arc<dyn Clock> = Arc::new(clock.clone());
        let t0 = clock.now();
        let real = Instant::now();
        other.sleep(Duration::from_secs(3600));
        other.sleep(Duration::from_millis(250));
        assert!(real.elapsed() < Duration::from_secs(5));
        assert_eq!(clock.slept(), Duration::from_millis(3_600_250));
        assert_eq!(clock.now() - t0, Duration::from_millis(3_600_250));
    }

    #[test]
    fn manual_clock_never_overflows() {
        let clock = ManualClock::new();
        let t0 = clock.now();
        clock.advance(Duration::MAX);
        clock.sleep(Duration::MAX);
        assert_eq!(clock.now() - t0, MANUAL_MAX_ELAPSED);
        assert_eq!(clock.slept(), Duration::MAX);
        let _ = clock.system_time();
    }

    #[test]
    fn system_clock_is_monotonic() {
        let c = SystemClock;
        let a = c.now();
        c.sleep(Duration::from_millis(1));
        assert!(c.now() > a);
        assert!(c.system_time() > SystemTime::UNIX_EPOCH);
    }
}
