//! Rate limits per app key, per user and per socket, so that one customer backend, one user
//! or one socket cannot take the single SQLite writer (or the database pool) from everyone.
//!
//! Each is a GCRA limiter (`governor`): a steady rate with bursts of twice it. A refusal is an
//! envelope with HTTP 200, body status 429 and code `42901`, which both SDKs hand to the
//! call's `onError` (they ignore any HTTP status but 200, and treat body status 401 as a
//! session problem, so neither is used). Token refreshes and the socket's token check are not
//! limited: both SDKs end the session or retry every second when those fail.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::envelope::ApiError;
use crate::config::Limits;
use crate::domain::{AppId, UserId};
use crate::metrics::{LimitLabels, metrics};

/// The limiters of one server.
pub struct RateLimits {
    server_keys: Option<DefaultKeyedRateLimiter<AppId>>,
    app_keys: Option<DefaultKeyedRateLimiter<AppId>>,
    users: Option<DefaultKeyedRateLimiter<UserId>>,
    socket: Option<(Quota, u32)>,
    per_key: u32,
    per_user: u32,
}

/// A rate of `per_second` with bursts of twice it; `None` for `0` (no limit).
fn quota(per_second: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
    Some(Quota::per_second(rate).allow_burst(burst))
}

fn refused(limit: &'static str, rate: u32, per: &str) -> ApiError {
    metrics()
        .rate_limited
        .get_or_create(&LimitLabels { limit })
        .inc();
    ApiError::RateLimited(format!(
        "Too many requests: at most {rate} a second {per}; try again shortly"
    ))
}

impl RateLimits {
    /// The limiters `limits` configure.
    pub fn new(limits: &Limits) -> Self {
        Self {
            server_keys: quota(limits.rate_per_key).map(RateLimiter::keyed),
            app_keys: quota(limits.rate_per_key).map(RateLimiter::keyed),
            users: quota(limits.rate_per_user).map(RateLimiter::keyed),
            socket: quota(limits.rate_per_socket).map(|q| (q, limits.rate_per_socket)),
            per_key: limits.rate_per_key,
            per_user: limits.rate_per_user,
        }
    }

    /// A Server API request of `app`.
    pub fn server_key(&self, app: AppId) -> Result<(), ApiError> {
        match &self.server_keys {
            Some(limiter) if limiter.check_key(&app).is_err() => {
                Err(refused("server_key", self.per_key, "per Server-Key"))
            }
            _ => Ok(()),
        }
    }

    /// A client request or socket frame of `user`, of `app`.
    pub fn client(&self, app: AppId, user: UserId) -> Result<(), ApiError> {
        if let Some(limiter) = &self.app_keys
            && limiter.check_key(&app).is_err()
        {
            return Err(refused("app_key", self.per_key, "per App-Key"));
        }
        match &self.users {
            Some(limiter) if limiter.check_key(&user).is_err() => {
                Err(refused("user", self.per_user, "per user"))
            }
            _ => Ok(()),
        }
    }

    /// A limiter for one socket's frames, if they are limited.
    pub fn socket(&self) -> Option<SocketRate> {
        self.socket.map(|(quota, rate)| SocketRate {
            limiter: RateLimiter::direct(quota),
            rate,
        })
    }

    /// Forgets the keys that have been quiet long enough to be back at a full burst, so the
    /// limiters hold only recent callers.
    pub fn forget_quiet(&self) {
        if let Some(l) = &self.server_keys {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.app_keys {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.users {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// One socket's frame limiter.
pub struct SocketRate {
    limiter: DefaultDirectRateLimiter,
    rate: u32,
}

impl SocketRate {
    /// One frame from the socket.
    pub fn check(&self) -> Result<(), ApiError> {
        match self.limiter.check() {
            Ok(()) => Ok(()),
            Err(_) => Err(refused("socket", self.rate, "per socket")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_within_its_rate_is_never_refused() {
        let limits = Limits {
            rate_per_socket: 1_000,
            ..Limits::default()
        };
        let rates = RateLimits::new(&limits);
        let socket = rates.socket().unwrap();
        // A burst of twice the rate passes at once.
        for i in 0..2_000 {
            assert!(socket.check().is_ok(), "frame {i} of the burst");
        }
        assert!(socket.check().is_err(), "past the burst");
    }
}
