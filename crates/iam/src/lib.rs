//! AWS IAM policy language and evaluation, as AWS does it. Pure: no I/O, no async.
//!
//! Pipeline (cedar-policy style): [`parser`] (JSON → validated [`Policy`]) →
//! [`ast`] (compiled form) → [`wildcard`], [`arn`], [`variables`], [`condition`]
//! (matching) → [`evaluator`] (one policy, one request) → [`decision`] (the
//! authorizer across policy types, with explanations) → [`simulate`] (JSON Lines).
//! [`web_identity`] holds the web identity providers (IAM OIDC providers and the
//! built-in `accounts.google.com`, Cognito, Login with Amazon, Facebook) and the
//! condition keys AWS derives from their tokens.
//!
//! ```
//! use iam::{authorize, DecisionKind, Policy, PolicySet, Principal, Request};
//! let policy = Policy::parse(r#"{"Version":"2012-10-17","Statement":[
//!   {"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"}]}"#).unwrap();
//! let set = PolicySet::new().with_identity_policy("list", policy);
//! let caller = Principal::from_arn("arn:aws:sts::123456789012:assumed-role/eso/s").unwrap();
//! let d = authorize(&Request::new(caller, "secretsmanager:ListSecrets", "*"), &set);
//! assert_eq!(d.kind, DecisionKind::Allow);
//! ```
//!
//! Security code fails closed: an unknown operator or element is a parse error, a
//! typed policy value that does not parse is a parse error, and anything that cannot
//! be evaluated at request time never produces an Allow (see [`evaluator`]).
#![warn(missing_docs)]

pub mod arn;
pub mod ast;
pub mod condition;
pub mod context;
pub mod decision;
pub mod evaluator;
pub mod parser;
pub mod principal;
pub mod request;
pub mod simulate;
pub mod variables;
pub mod view;
pub mod web_identity;
pub mod wildcard;

pub use arn::{matches_pattern, Arn, ArnError};
pub use ast::{Effect, Policy, PolicyKind, Statement, Version};
pub use context::{Context, ContextValue};
pub use decision::{
    authorize, authorize_kind, federated_refusal, DecidingStatement, Decision, DecisionKind,
    NamedPolicy, PolicySet, Refusal,
};
pub use parser::PolicyError;
pub use principal::{Principal, PrincipalError, PrincipalKind};
pub use request::Request;
pub use web_identity::{BuiltInProvider, WebIdentityClaims};
pub use wildcard::wildcard_match;
