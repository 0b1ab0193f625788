//! What tests against the gateway share, written once: the test OIDC issuer
//! ([`oidc::TestIssuer`], ES256), fresh account ids ([`fresh_account_id`]) and AWS SDK
//! clients for an endpoint ([`sdk`]). Used by the gateway's tests and bench (as a
//! dev-dependency) and by `scenarios` (whose steps `sma prove` runs, so there it is a
//! normal dependency).

pub mod oidc;
pub mod sdk;

/// A fresh 12-digit account id, so that tests and scenarios sharing one LocalStack
/// never see each other's state (LocalStack scopes state by the account of the access
/// key). Never `000000000000` (LocalStack's default account): always `1` then 11 digits.
pub fn fresh_account_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mixed = nanos.wrapping_mul(6364136223846793005).wrapping_add(
        COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(1442695040888963407),
    ) ^ u64::from(std::process::id());
    format!("1{:011}", mixed % 100_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits_distinct_and_never_localstacks_default() {
        let ids: std::collections::BTreeSet<String> =
            (0..1000).map(|_| fresh_account_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            assert_eq!(id.len(), 12, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
            assert!(id.starts_with('1'), "{id}");
        }
    }
}
