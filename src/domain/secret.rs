//! Credentials: API keys (`Server-Key`, `App-Key`) and bearer tokens.
//!
//! Secrets are random, shown once, and stored only as SHA-256 digests; comparisons of digests
//! are constant-time. SHA-256 without a salt is enough here because every secret carries 256
//! bits of entropy from the OS generator: there is no dictionary to attack.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// Which header a key is for: the Server API or the client SDKs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `Server-Key`, used by the customer's backend.
    Server,
    /// `App-Key`, compiled into the customer's apps.
    App,
}

impl KeyKind {
    /// The name stored in the database and printed by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Server => "server",
            KeyKind::App => "app",
        }
    }

    fn id_prefix(self) -> &'static str {
        match self {
            KeyKind::Server => "sk",
            KeyKind::App => "ak",
        }
    }
}

/// A SHA-256 digest of a secret, the only form in which secrets are stored.
pub type SecretHash = [u8; 32];

/// Hashes a secret for storage or comparison.
pub fn hash_secret(secret: &str) -> SecretHash {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares two digests in time independent of where they differ.
pub fn digests_equal(a: &SecretHash, b: &SecretHash) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `N` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    bytes
}

/// Bytes of operating-system randomness each thread draws at once for [`pooled_random_bytes`].
const POOL_BYTES: usize = 4096;

thread_local! {
    /// This thread's unused randomness, consumed from the end.
    static POOL: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `N` random bytes from the operating system, served from a per-thread pool that is refilled
/// 4 KiB at a time. For identifiers drawn on every write (a system message's `localID` and
/// its codec digit run on the single SQLite writer), where one system call per draw cost more
/// than the draw. Secrets use [`random_bytes`], so that their bytes never wait in memory.
pub fn pooled_random_bytes<const N: usize>() -> [u8; N] {
    const { assert!(N <= POOL_BYTES) };
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < N {
            pool.resize(POOL_BYTES, 0);
            getrandom::fill(&mut pool)
                .expect("the operating system's random source is unavailable");
        }
        let mut bytes = [0u8; N];
        let rest = pool.len() - N;
        bytes.copy_from_slice(&pool[rest..]);
        pool.truncate(rest);
        bytes
    })
}

/// `N` random bytes from the operating system, URL-safe Base64 without padding.
pub fn random_token<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// A freshly generated key: its public ID and its secret, to be shown once.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Public identifier, the part before `:`.
    pub id: String,
    /// The secret, the part after `:`.
    pub secret: String,
}

impl NewKey {
    /// Generates an ID (`sk_…` / `ak_…`) and a 256-bit secret.
    pub fn generate(kind: KeyKind) -> Self {
        Self {
            id: format!("{}_{}", kind.id_prefix(), random_token::<12>()),
            secret: random_token::<32>(),
        }
    }

    /// The ready value of the header: Base64 of `ID:SECRET`.
    pub fn header_value(&self) -> String {
        STANDARD.encode(format!("{}:{}", self.id, self.secret))
    }
}

/// Why a key header could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHeaderError {
    /// Not Base64, not UTF-8, or without an `ID:SECRET` separator.
    Malformed,
}

/// Splits a `Server-Key` / `App-Key` header value into its key ID and secret.
pub fn parse_key_header(value: &str) -> Result<(String, String), KeyHeaderError> {
    let raw = STANDARD
        .decode(value.trim())
        .map_err(|_| KeyHeaderError::Malformed)?;
    let text = String::from_utf8(raw).map_err(|_| KeyHeaderError::Malformed)?;
    let (id, secret) = text.split_once(':').ok_or(KeyHeaderError::Malformed)?;
    if id.is_empty() || secret.is_empty() {
        return Err(KeyHeaderError::Malformed);
    }
    Ok((id.to_owned(), secret.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_parses_back_from_its_header() {
        let key = NewKey::generate(KeyKind::Server);
        let (id, secret) = parse_key_header(&key.header_value()).unwrap();
        assert_eq!((id, secret), (key.id.clone(), key.secret.clone()));
        assert!(key.id.starts_with("sk_"));
    }

    #[test]
    fn pooled_draws_never_repeat_across_refills() {
        // 500 draws of 48 bytes use the pool up almost six times over.
        let draws: Vec<[u8; 48]> = (0..500).map(|_| pooled_random_bytes::<48>()).collect();
        let distinct: std::collections::HashSet<_> = draws.iter().collect();
        assert_eq!(distinct.len(), draws.len());
        assert!(draws.iter().all(|d| d.iter().any(|b| *b != 0)));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for bad in [
            "",
            "***",
            &STANDARD.encode("no-colon"),
            &STANDARD.encode(":x"),
        ] {
            assert_eq!(
                parse_key_header(bad),
                Err(KeyHeaderError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn digest_comparison_detects_any_difference() {
        let a = hash_secret("a");
        assert!(digests_equal(&a, &hash_secret("a")));
        assert!(!digests_equal(&a, &hash_secret("b")));
    }
}
