//! The check crate's integration tests, one binary (`tests/it`): proofs on hand-written
//! policies, the broken cases, the examples, the property against brute force, ESO,
//! baseline, usage and SARIF.

mod baseline;
mod broken;
mod common;
mod eso;
mod examples;
mod properties;
mod sarif;
mod scope;
mod trust;
mod usage;
mod web_identity;
