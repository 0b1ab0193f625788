//! Test OIDC issuers: stand-ins for an EKS (or GKE) cluster's service-account token
//! issuer, ES256 keys the gateway trusts, signing the service-account tokens ESO sends.
//! Written once in `test-support` (the gateway's tests use the same issuer).

pub use test_support::oidc::TestIssuer;
