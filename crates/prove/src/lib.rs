//! What `sma prove` expects of a platform team's configuration, derived from the
//! configuration alone: never from the generated policies, so that a generator bug
//! cannot make its own proof pass (no circular proof).
//!
//! - [`intent`]: each access's intent (which secrets, which identity may use it).
//! - [`seed`]: the secrets seeded to test the intent, intended ones and decoys, each
//!   with the reason it is there and whether the access may read it.
//! - [`identity`]: the callers that must not get the access's credentials.
//! - [`feature`]: the Gherkin feature of an access, in the platform team's words.
//!
//! Pure: no I/O, no AWS. The step library (`scenarios`) runs the features.

#![warn(missing_docs)]

pub mod feature;
pub mod identity;
pub mod intent;
pub mod seed;

pub use intent::{AccessIntent, Expected};
pub use seed::{SeededSecret, Seeds};

/// The four secret-scoped read actions of the access matrix, in its column order.
pub const MATRIX_ACTIONS: [&str; 4] = [
    "GetSecretValue",
    "DescribeSecret",
    "GetResourcePolicy",
    "ListSecretVersionIds",
];

/// A short lowercase hex SHA-256 digest of `bytes`, `sha256:` prefixed.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
