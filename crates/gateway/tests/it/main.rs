//! The gateway's integration tests, one binary: the AWS SDK for Rust (and forged raw
//! requests) → gateway → LocalStack (`SMA_LOCALSTACK_ENDPOINT`, else one started for
//! this binary).
//!
//! - `integration`: what each kind of principal may and may not do, end to end.
//! - `security`: forged, tampered, replayed and malformed requests, each refused with
//!   AWS's error (fail closed).
//! - `common`: the gateway, accounts, SDK clients and root helpers they share.

mod common;
mod integration;
mod security;
