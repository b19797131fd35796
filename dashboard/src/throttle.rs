//! Login throttling and the queue for password hashing.
//!
//! argon2id is slow on purpose (about 20 ms of a core and 19 MiB per check). Run on the async
//! workers, a burst of logins would stall ingest, acks and commands; so every hash and check
//! runs on tokio's blocking pool, at most [`HASHING_PERMITS`] at a time, and a login waits at
//! most [`LoginLimits::queue_wait`] for its turn before it is told to come back later.
//!
//! Before any hashing, a login is throttled per client address and per account name (GCRA
//! from the `governor` crate): password guessing from one place, or against one account from
//! many places, slows to a few tries a minute, and the answer is a 429 with `Retry-After`.
//! The client address is the TCP peer: behind a reverse proxy that is the proxy's address, so
//! all clients then share the per-address limit (the per-account limit still holds), unless
//! the proxy is listed in `trusted_proxies`: only then is its `X-Forwarded-For` read (any
//! client can send that header, so from anyone else it is ignored).
//!
//! Invariant: memory is bounded whatever the input. Each limiter keeps at most
//! [`MAX_TRACKED_KEYS`] keys; when full it first forgets keys that are back to a fresh state,
//! and if it is still full it refuses logins until keys expire (failing closed: a flood of
//! addresses must not buy unlimited guesses).

use crate::error::{ServiceError, ServiceResult};
use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// Password hashes and checks that may run at once. One: a check takes a core for ~20 ms and
/// 19 MiB, and the dashboard's small server (2 cores) must keep a core for ingest, acks and
/// commands however many logins arrive; a handful of operators never notice the queue.
pub(crate) const HASHING_PERMITS: usize = 1;

/// Keys (addresses or account names) each limiter remembers at most: ~65,000 entries of under
/// 200 bytes each bound the throttle's memory to a few MiB under any flood of names or
/// addresses, while far more clients than a county's operators fit.
pub(crate) const MAX_TRACKED_KEYS: usize = 1 << 16;

/// Tries from one address before throttling starts: a person who mistypes a few times, or a
/// few operators behind one village router, is never slowed.
const ADDRESS_BURST: u32 = 10;
/// Then one try per this long per address: 10 a minute, so a guessing script gets ~14,000
/// tries a day against passwords of at least 12 characters.
const ADDRESS_EVERY: Duration = Duration::from_secs(6);
/// Tries per account name before throttling starts (from any address).
const ACCOUNT_BURST: u32 = 5;
/// Then one try per this long per account: guessing one account from many addresses gets 5 a
/// minute, while its owner waits at most this long after an attacker's burst.
const ACCOUNT_EVERY: Duration = Duration::from_secs(12);
/// How long a login waits for a hashing permit before it is told to retry: longer than any
/// honest queue (a few logins at once), short enough that a flood gets answers, not timeouts.
const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// IPv6 addresses are throttled per /64: one home or server usually holds a whole /64, so a
/// per-address key would let one machine change its address for every try.
const IPV6_PREFIX_BITS: u32 = 64;

/// How hard logins are throttled and queued. [`Default`] is what `bygd serve` uses; tests
/// and benchmarks set other values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLimits {
    /// Tries from one client address before throttling starts.
    pub address_burst: u32,
    /// Then one try per this long per address.
    pub address_every: Duration,
    /// Tries per account name before throttling starts.
    pub account_burst: u32,
    /// Then one try per this long per account.
    pub account_every: Duration,
    /// How long a login waits for a hashing permit before it is refused with a retry time.
    pub queue_wait: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            address_burst: ADDRESS_BURST,
            address_every: ADDRESS_EVERY,
            account_burst: ACCOUNT_BURST,
            account_every: ACCOUNT_EVERY,
            queue_wait: QUEUE_WAIT,
            trusted_proxies: Vec::new(),
        }
    }
}

impl LoginLimits {
    /// No throttling at all (the queue for hashing stays): for benchmarks that push logins
    /// through to the hashing on purpose.
    #[must_use]
    pub fn unthrottled() -> Self {
        Self {
            address_burst: u32::MAX,
            address_every: Duration::from_nanos(1),
            account_burst: u32::MAX,
            account_every: Duration::from_nanos(1),
            ..Self::default()
        }
    }
}

type Keyed<K> = RateLimiter<K, HashMapStateStore<K>, DefaultClock>;

/// One keyed limiter with its memory bound.
struct Limiter<K: Hash + Eq + Clone> {
    limiter: Keyed<K>,
    clock: DefaultClock,
    every: Duration,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(burst: u32, every: Duration) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(every.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let clock = DefaultClock::default();
        Self {
            limiter: RateLimiter::new(quota, HashMapStateStore::default(), clock.clone()),
            clock,
            every,
        }
    }

    /// `Ok` if `key` may try now, else how long until it may.
    fn check(&self, key: &K) -> Result<(), Duration> {
        if self.limiter.len() >= MAX_TRACKED_KEYS {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
            if self.limiter.len() >= MAX_TRACKED_KEYS {
                return Err(self.every);
            }
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    fn len(&self) -> usize {
        self.limiter.len()
    }
}

/// The throttle and the hashing queue, shared by every login of one dashboard.
pub(crate) struct LoginGuard {
    by_address: Limiter<IpAddr>,
    by_account: Limiter<String>,
    hashing: tokio::sync::Semaphore,
    queue_wait: Duration,
    trusted_proxies: Vec<IpAddr>,
}

impl std::fmt::Debug for LoginGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginGuard")
            .field("addresses", &self.by_address.len())
            .field("accounts", &self.by_account.len())
            .finish_non_exhaustive()
    }
}

/// The key an address is throttled under: IPv4 as is (also when mapped into IPv6), IPv6 by
/// its /64.
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mask = u128::MAX << (128 - IPV6_PREFIX_BITS);
                IpAddr::V6((u128::from(v6) & mask).into())
            }
        },
    }
}

/// Whole seconds to wait, rounded up and at least one (what `Retry-After` carries).
fn retry_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

impl LoginGuard {
    pub(crate) fn new(limits: &LoginLimits) -> Self {
        Self {
            by_address: Limiter::new(limits.address_burst, limits.address_every),
            by_account: Limiter::new(limits.account_burst, limits.account_every),
            hashing: tokio::sync::Semaphore::new(HASHING_PERMITS),
            queue_wait: limits.queue_wait,
            trusted_proxies: limits.trusted_proxies.clone(),
        }
    }

    /// The client behind a request from `peer` (the TCP peer) with these `X-Forwarded-For`
    /// header values: the peer itself, unless it is a trusted proxy; then the nearest address
    /// in the header that is not a trusted proxy (proxies append, so the right end is the
    /// one the trusted proxy wrote). A header that does not parse is ignored.
    pub(crate) fn client<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl Iterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let hops: Option<Vec<IpAddr>> = forwarded_for
            .flat_map(|v| v.split(','))
            .map(|a| a.trim().parse().ok())
            .collect();
        let Some(hops) = hops else {
            tracing::warn!(proxy = %peer, "X-Forwarded-For from a trusted proxy does not parse; throttling by the proxy's address");
            return Some(peer);
        };
        Some(
            hops.into_iter()
                .rev()
                .find(|a| !self.trusted_proxies.contains(a))
                .unwrap_or(peer),
        )
    }

    /// Counts a login try by `account` from `client` (when known); refuses it if either has
    /// used up its tries. Logged, without the password (which never comes here).
    pub(crate) fn check(&self, account: &str, client: Option<IpAddr>) -> ServiceResult<()> {
        if let Some(client) = client {
            if let Err(wait) = self.by_address.check(&address_key(client)) {
                tracing::warn!(client = %client, retry_after_s = retry_seconds(wait), "login throttled: too many tries from this address");
                return Err(ServiceError::Throttled {
                    message: format!(
                        "too many login attempts from your address; try again in {} s",
                        retry_seconds(wait)
                    ),
                    retry_after: retry_seconds(wait),
                });
            }
        }
        // Names are at most 64 bytes when valid; longer ones are throttled under their first
        // 64 bytes, so a key never holds more than that.
        let key: String = account.chars().take(64).collect();
        if let Err(wait) = self.by_account.check(&key) {
            // A hash, not the name: after a few tries people type their password into the
            // name field, and a name nobody has is not an account to show.
            tracing::warn!(account_sha256 = %name_digest(&key), client = ?client, retry_after_s = retry_seconds(wait), "login throttled: too many tries for this account");
            return Err(ServiceError::Throttled {
                message: format!(
                    "too many login attempts for this account; try again in {} s",
                    retry_seconds(wait)
                ),
                retry_after: retry_seconds(wait),
            });
        }
        Ok(())
    }

    /// Runs `work` (a password hash or check) on the blocking pool once a hashing permit is
    /// free, so the async workers never run it and at most [`HASHING_PERMITS`] run at once.
    pub(crate) async fn hashing<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> ServiceResult<T> {
        let permit = match tokio::time::timeout(self.queue_wait, self.hashing.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(closed)) => {
                return Err(ServiceError::Internal(format!(
                    "the hashing queue: {closed}"
                )))
            }
            Err(_) => {
                tracing::warn!(
                    waited_s = self.queue_wait.as_secs(),
                    "login refused: the password hashing queue is full"
                );
                return Err(ServiceError::Throttled {
                    message: "too many logins at once; try again in a few seconds".to_owned(),
                    retry_after: retry_seconds(self.queue_wait),
                });
            }
        };
        let result = tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")));
        drop(permit);
        result
    }

    /// Holds every hashing permit (tests show that hashing waits for one).
    #[cfg(test)]
    pub(crate) async fn hold_all_permits(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.hashing
            .acquire_many(u32::try_from(HASHING_PERMITS).unwrap_or(u32::MAX))
            .await
            .unwrap()
    }
}

/// The first 8 bytes of SHA-256 of a login name, in hex: enough for an operator to tell that
/// the same name was tried again (hash a known name to compare), without logging what was
/// typed.
fn name_digest(name: &str) -> String {
    use sha2::Digest as _;
    hex::encode(&sha2::Sha256::digest(name.as_bytes())[..8])
}

#[cfg(test)]
mod digest_tests {
    use super::name_digest;

    #[test]
    fn a_throttled_name_is_logged_as_a_digest_never_as_typed() {
        let digest = name_digest("correct horse battery staple");
        assert_eq!(digest.len(), 16);
        assert!(!digest.contains("horse"));
        assert_eq!(digest, name_digest("correct horse battery staple"));
        assert_ne!(digest, name_digest("anna"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(burst: u32) -> LoginLimits {
        LoginLimits {
            address_burst: burst,
            address_every: Duration::from_secs(3600),
            account_burst: burst,
            account_every: Duration::from_secs(3600),
            queue_wait: Duration::from_secs(60),
            trusted_proxies: Vec::new(),
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let open = LoginGuard::new(&limits(1));
        let spoofed = ["203.0.113.9"];
        assert_eq!(
            open.client(Some(ip("192.0.2.1")), spoofed.into_iter()),
            Some(ip("192.0.2.1")),
            "a header from an untrusted peer was believed"
        );
        let behind = LoginGuard::new(&LoginLimits {
            trusted_proxies: vec![ip("127.0.0.1"), ip("10.0.0.2")],
            ..limits(1)
        });
        let proxy = Some(ip("127.0.0.1"));
        // The client may prepend anything; the proxies' own entries are skipped.
        let chain = ["198.51.100.7, 203.0.113.9", "10.0.0.2"];
        assert_eq!(
            behind.client(proxy, chain.into_iter()),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(behind.client(proxy, [].into_iter()), proxy);
        assert_eq!(behind.client(proxy, ["not an address"].into_iter()), proxy);
        assert_eq!(
            behind.client(Some(ip("192.0.2.1")), chain.into_iter()),
            Some(ip("192.0.2.1"))
        );
        assert_eq!(behind.client(None, chain.into_iter()), None);
    }

    #[test]
    fn an_address_gets_its_burst_then_a_retry_time() {
        let guard = LoginGuard::new(&limits(3));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..3 {
            guard
                .check(&format!("name{i}"), Some(a))
                .expect("within the burst");
        }
        match guard.check("name9", Some(a)) {
            Err(ServiceError::Throttled { retry_after, .. }) => {
                assert!((3000..=3600).contains(&retry_after), "{retry_after}");
            }
            other => panic!("not throttled: {other:?}"),
        }
        // Another address and another account still get in.
        guard
            .check("name9", Some("192.0.2.2".parse().unwrap()))
            .unwrap();
    }

    #[test]
    fn an_account_is_throttled_from_every_address() {
        let guard = LoginGuard::new(&limits(2));
        guard
            .check("anna", Some("192.0.2.1".parse().unwrap()))
            .unwrap();
        guard
            .check("anna", Some("192.0.2.2".parse().unwrap()))
            .unwrap();
        let third = guard.check("anna", Some("192.0.2.3".parse().unwrap()));
        assert!(
            matches!(third, Err(ServiceError::Throttled { .. })),
            "{third:?}"
        );
        guard
            .check("bo", Some("192.0.2.3".parse().unwrap()))
            .unwrap();
    }

    #[test]
    fn ipv6_addresses_share_a_limit_per_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_flood_of_names_keeps_memory_bounded() {
        let guard = LoginGuard::new(&limits(1));
        for i in 0..MAX_TRACKED_KEYS + 100 {
            let _ = guard.check(&format!("n{i}"), None);
        }
        assert!(guard.by_account.len() <= MAX_TRACKED_KEYS);
        // While full of live keys, new tries are refused rather than let through unthrottled.
        assert!(matches!(
            guard.check("someone-new", None),
            Err(ServiceError::Throttled { .. })
        ));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        assert_eq!(retry_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_seconds(Duration::from_secs(12)), 12);
        assert_eq!(retry_seconds(Duration::ZERO), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn hashing_runs_off_the_async_thread_and_waits_for_a_permit() {
        let guard = std::sync::Arc::new(LoginGuard::new(&limits(1)));
        let here = std::thread::current().id();
        let there = guard.hashing(|| std::thread::current().id()).await.unwrap();
        assert_ne!(here, there, "the hash ran on the async worker's thread");

        let held = guard.hold_all_permits().await;
        let waiting = {
            let guard = guard.clone();
            tokio::spawn(async move { guard.hashing(|| 7).await })
        };
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert!(!waiting.is_finished(), "hashing ran without a permit");
        drop(held);
        assert_eq!(waiting.await.unwrap().unwrap(), 7);
    }

    #[tokio::test]
    async fn a_full_hashing_queue_answers_with_a_retry_time() {
        let guard = LoginGuard::new(&LoginLimits {
            queue_wait: Duration::from_millis(20),
            ..limits(1)
        });
        let _held = guard.hold_all_permits().await;
        match guard.hashing(|| ()).await {
            Err(ServiceError::Throttled { retry_after, .. }) => assert_eq!(retry_after, 1),
            other => panic!("{other:?}"),
        }
    }
}
