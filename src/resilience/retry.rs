//! Whether to try a request again, and when.
//!
//! [`verdict`] is the one place that decides whether an attempt's outcome
//! is worth another attempt (a retryable status, or a failure of the
//! exchange that sending again may fix) and whether it counts against the
//! host's breaker; [`RetryPolicy`] says how many more attempts to make and
//! how long to sleep before each, honouring a server's `Retry-After`
//! ([`parse_retry_after`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::http::failure::is_transient;
use crate::http::Response;
use crate::Error;

/// What to make of one attempt's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Another attempt may succeed.
    pub retry: bool,
    /// The host failed (no answer, or a 5xx): the breaker counts it. A 429
    /// or a 4xx is an answer from a live host and does not count.
    pub host_failed: bool,
    /// The server's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
}

/// Judges one attempt's outcome; `now` is for a `Retry-After` date.
pub(crate) fn verdict(outcome: &Result<Response, Error>, now: SystemTime) -> Verdict {
    match outcome {
        Ok(resp) => Verdict {
            retry: retryable_status(resp.status),
            host_failed: (500..600).contains(&resp.status),
            retry_after: resp
                .header("retry-after")
                .and_then(|v| parse_retry_after(v, now)),
        },
        Err(e) => Verdict {
            retry: is_transient(e),
            host_failed: matches!(e, Error::Connection { .. } | Error::Timeout { .. }),
            retry_after: None,
        },
    }
}

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
    /// The un-jittered delay before the first retry; doubles for each retry.
    pub base_delay: Duration,
    /// No delay, backoff or `Retry-After`, is ever longer than this.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Exponential backoff with "equal jitter" before retry number `retry`
    /// (0 for the first retry): with `d = min(base_delay × 2^retry,
    /// max_delay)`, a uniformly random duration in `[d/2, d]`.
    ///
    /// Never overflows: a huge `retry` or huge durations just give `max_delay`
    /// as the upper bound.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let d = if self.base_delay.is_zero() {
            Duration::ZERO
        } else {
            1u32.checked_shl(retry)
                .and_then(|factor| self.base_delay.checked_mul(factor))
                .unwrap_or(Duration::MAX)
        }
        .min(self.max_delay);
        equal_jitter(d, random_u128())
    }

    /// The time to sleep before retry number `retry` (0 for the first
    /// retry): the server's `Retry-After` when it sent one, as given, else
    /// [`backoff`](Self::backoff); either way at most `max_delay`.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) => d.min(self.max_delay),
            None => self.backoff(retry),
        }
    }
}

/// A value in `[d/2, d]` chosen by `random`.
fn equal_jitter(d: Duration, random: u128) -> Duration {
    let total = d.as_nanos();
    let half = total / 2;
    // total <= Duration::MAX in nanoseconds (< 2^94), so span + 1 cannot overflow.
    let span = total - half;
    let nanos = half + random % (span + 1);
    from_nanos_u128(nanos)
}

fn from_nanos_u128(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    // The remainder is below 10^9, so it fits a u32.
    Duration::new(secs, (nanos % NANOS_PER_SEC) as u32)
}

/// SplitMix64's finaliser: a bijective scramble of 64 bits.
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 128 random-enough bits for jitter: SplitMix64 over a global counter mixed
/// with the time of day, so concurrent callers (and processes) diverge.
/// Not for anything that needs to be unpredictable.
fn random_u128() -> u128 {
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
    static STATE: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let seed = STATE.fetch_add(GOLDEN.wrapping_mul(2), Ordering::Relaxed) ^ splitmix64(now);
    let hi = splitmix64(seed);
    let lo = splitmix64(seed.wrapping_add(GOLDEN));
    (u128::from(hi) << 64) | u128::from(lo)
}

/// Parses a `Retry-After` header value (RFC 9110 §10.2.3) into the time to
/// wait from `now`.
///
/// Accepts delta-seconds (ASCII digits only; values too large for a `u64`
/// saturate) and an HTTP-date (IMF-fixdate, or the obsolete RFC 850 and
/// asctime forms). A date in the past gives [`Duration::ZERO`]; anything else
/// gives `None`. Surrounding whitespace is ignored.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether an HTTP status is worth another attempt: 408, 429, 500, 502, 503
/// and 504.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base_ms: u64, max_ms: u64) -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(base_ms),
            max_delay: Duration::from_millis(max_ms),
        }
    }

    #[test]
    fn backoff_grows_within_jitter_bounds() {
        let p = policy(100, 60_000);
        for retry in 0..8u32 {
            let d = Duration::from_millis(100 << retry);
            for _ in 0..200 {
                let b = p.backoff(retry);
                assert!(
                    b >= d / 2 && b <= d,
                    "retry {retry}: {b:?} not in [{:?}, {d:?}]",
                    d / 2
                );
            }
        }
    }

    #[test]
    fn backoff_is_capped() {
        let p = policy(100, 1_000);
        for retry in [4, 5, 10, 31, 32, 33, 64, 1000, u32::MAX] {
            for _ in 0..50 {
                let b = p.backoff(retry);
                assert!(
                    b >= Duration::from_millis(500) && b <= Duration::from_secs(1),
                    "{b:?}"
                );
            }
        }
    }

    #[test]
    fn backoff_never_overflows() {
        let p = RetryPolicy {
            max_retries: u32::MAX,
            base_delay: Duration::MAX,
            max_delay: Duration::MAX,
        };
        for retry in [0, 1, 63, 64, u32::MAX] {
            let b = p.backoff(retry);
            assert!(b >= Duration::MAX / 2, "{b:?}");
        }
        let zero = RetryPolicy {
            max_retries: 3,
            base_delay: Duration::ZERO,
            max_delay: Duration::MAX,
        };
        assert_eq!(zero.backoff(u32::MAX), Duration::ZERO);
    }

    #[test]
    fn backoff_is_jittered() {
        let p = policy(1_000, 60_000);
        let samples: std::collections::HashSet<Duration> = (0..64).map(|_| p.backoff(3)).collect();
        assert!(samples.len() > 32, "only {} distinct delays", samples.len());
    }

    #[test]
    fn splitmix64_is_the_reference_finaliser() {
        // The first output of SplitMix64 seeded with 0 (Vigna's reference
        // implementation): the finaliser applied to the golden gamma.
        assert_eq!(splitmix64(0x9E37_79B9_7F4A_7C15), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(0x3C6E_F372_FE94_F82A), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn equal_jitter_covers_both_ends() {
        let d = Duration::from_millis(1000);
        assert_eq!(equal_jitter(d, 0), Duration::from_millis(500));
        let span = d.as_nanos() - d.as_nanos() / 2;
        assert_eq!(equal_jitter(d, span), d);
        assert_eq!(equal_jitter(d, span + 1), Duration::from_millis(500));
        let huge = equal_jitter(Duration::MAX, u128::MAX);
        assert!(huge >= Duration::MAX / 2 && huge <= Duration::MAX);
        assert_eq!(equal_jitter(Duration::ZERO, u128::MAX), Duration::ZERO);
        assert_eq!(
            equal_jitter(Duration::from_nanos(1), 1),
            Duration::from_nanos(1)
        );
    }

    #[test]
    fn retry_after_wins_unjittered_but_capped() {
        let p = policy(100, 10_000);
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(p.delay(7, Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3600))),
            Duration::from_secs(10)
        );
        let b = p.delay(2, None);
        assert!(
            b >= Duration::from_millis(200) && b <= Duration::from_millis(400),
            "{b:?}"
        );
    }

    #[test]
    fn retry_after_delta_seconds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0\t", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("007", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("99999999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn retry_after_http_date() {
        // Sun, 06 Nov 1994 08:49:37 GMT
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let now = date - Duration::from_secs(90);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(90))
        );
        // The obsolete forms.
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:37 1994", now),
            Some(Duration::from_secs(90))
        );
        // In the past.
        let later = date + Duration::from_secs(5);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", later),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_garbage() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for bad in [
            "",
            "  ",
            "-5",
            "+5",
            "1.5",
            "5s",
            "0x10",
            "soon",
            "١٢",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Nov 1994",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [
            200, 201, 301, 400, 401, 403, 404, 405, 409, 416, 501, 505, 599,
        ] {
            assert!(!retryable_status(s), "{s}");
        }
    }
}
