//! Integration tests of `iam` (one binary): AWS's evaluation logic, condition operators and
//! variables, cross-account KMS/STS, web identity, the four setups' policies, and
//! property tests.

mod common;
mod conditions_variables;
mod cross_account_kms_sts;
mod evaluation_logic;
mod for_any_value_if_exists;
mod properties;
mod setups;
mod web_identity;
