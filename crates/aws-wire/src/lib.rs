//! The wire formats the `sma` gateway speaks, pure and synchronous.
//!
//! Everything here turns bytes into values or values into bytes: AWS Signature
//! Version 4 ([`sigv4`]: parse, verify, sign), OIDC web-identity tokens ([`jwt`]: JWS
//! compact tokens and JWKS), hashing ([`crypto`]), strict encodings ([`encoding`]: hex,
//! base64, URI and form encodings), AWS's date formats ([`time`]), ARNs and account ids
//! ([`arn`]), the query protocol's parameters ([`query`]) and XML ([`xml`]), STS
//! answers ([`sts_answer`]), and the [`Secret`] type whose `Debug` never shows its value.
//!
//! Invariants: no I/O (the only impure calls read the system clock,
//! [`time::unix_now`]), no async, no shared state, and no panic on any input: anything
//! malformed is an error. The [`fuzzing`] entry point feeds arbitrary bytes to every
//! parser (cargo-fuzz target `gateway_parsers` and a deterministic test).
//!
//! Without the default `crypto` feature the crate has no dependency but `thiserror`
//! (encodings, time, ARNs, XML, secrets): what `iam` and `model` use.
#![warn(missing_docs)]

pub mod arn;
#[cfg(feature = "crypto")]
pub mod crypto;
pub mod encoding;
#[cfg(feature = "crypto")]
pub mod fuzzing;
#[cfg(feature = "crypto")]
pub mod jwt;
pub mod query;
mod secret;
#[cfg(feature = "crypto")]
pub mod sigv4;
pub mod sts_answer;
pub mod time;
pub mod xml;

pub use secret::Secret;
