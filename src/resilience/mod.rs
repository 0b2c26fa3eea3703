//! The middle layer: retries and the circuit breaker around the HTTP layer.
//!
//! [`Resilient::send`] makes attempts through [`Http`] until one gives an
//! answer worth keeping: every attempt first asks the host's breaker
//! (`breaker.rs`), and [`retry::verdict`] alone decides whether an outcome
//! is worth another attempt and whether it counts against the host. A
//! request whose body is a one-shot stream is never sent twice.
//!
//! What comes back is either an error of the exchange (with the attempts
//! made) or a response of any status: a 503 that outlived the retries is
//! handed up like a 200, with `attempts` and `retry_after` filled in, and the
//! layer that knows what was asked turns it into an error.

pub(crate) mod breaker;
pub(crate) mod retry;

use std::sync::Arc;

use url::Url;

use crate::clock::Clock;
use crate::config::Config;
use crate::http::{limits, Http, Request, Response};
use crate::{Error, Result};

use self::breaker::Breakers;
use self::retry::RetryPolicy;

pub(crate) struct Resilient {
    http: Http,
    policy: RetryPolicy,
    breakers: Breakers,
    clock: Arc<dyn Clock>,
}

impl Resilient {
    pub(crate) fn new(config: &Config) -> Resilient {
        Resilient {
            http: Http::new(config),
            policy: RetryPolicy {
                max_retries: config.max_retries,
                base_delay: config.retry_delay,
                max_delay: config.max_retry_delay,
            },
            breakers: Breakers::new(
                config.failure_threshold,
                config.cooldown,
                config.clock.clone(),
            ),
            clock: config.clock.clone(),
        }
    }

    /// The clock of the retry sleeps (and of everything else in a client).
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Sends `req` until an attempt gives a keepable answer, the retries run
    /// out or the host's breaker opens.
    pub(crate) fn send(&self, req: &mut Request) -> Result<Response> {
        let host = host_key(&req.url);
        let breaker = self.breakers.for_host(&host);
        let mut attempts: u32 = 0;
        loop {
            let permit = match breaker.allow() {
                Ok(permit) => permit,
                Err(retry_in) => return Err(Error::circuit_open(host, retry_in)),
            };
            attempts = attempts.saturating_add(1);
            let outcome = self.http.send(req);
            let verdict = retry::verdict(&outcome, self.clock.system_time());
            if verdict.host_failed {
                permit.record_failure();
            } else {
                permit.record_success();
            }
            let again =
                verdict.retry && attempts <= self.policy.max_retries && req.body.is_replayable();
            if again {
                if let Some(retry_in) = breaker.open_for() {
                    // This failure opened the breaker: waiting would only
                    // lead to a refusal.
                    return Err(Error::circuit_open(host, retry_in));
                }
                if let Ok(mut resp) = outcome {
                    // Read (it is small) so the connection can be reused.
                    let _ = resp.prefix(limits::ERROR_BODY);
                }
                self.clock
                    .sleep(self.policy.delay(attempts - 1, verdict.retry_after));
                continue;
            }
            return match outcome {
                Ok(mut resp) => {
                    resp.attempts = attempts;
                    resp.retry_after = verdict.retry_after;
                    Ok(resp)
                }
                Err(mut e) => {
                    e.set_attempts(attempts);
                    Err(e)
                }
            };
        }
    }
}

/// The breaker's key: one breaker per `host:port`.
fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}
