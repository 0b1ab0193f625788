//! The step library of the Gherkin features, and the runner that runs them: the
//! workspace's hand-written `features/` (`tests/features/main.rs`) and the features
//! `sma prove` writes for a platform team's configuration (`steps::prove`).
//!
//! - [`world`]: the state of one scenario; [`steps`]: the step definitions, one module
//!   per area (registered by cucumber's attribute macros at link time: rustc keeps the
//!   `#[used]` registrations of a linked rlib, so they reach any binary using
//!   [`runner`]);
//! - [`oidc`]: test OIDC issuers signing service-account tokens the gateway trusts;
//! - [`runner`]: runs a features directory on one LocalStack behind the run's gateway
//!   and collects outcomes and proofs;
//! - here: AWS clients pointed at the endpoint under test, isolated accounts.

#![warn(missing_docs)]

pub mod oidc;
pub mod runner;
pub mod steps;
pub mod world;

pub use world::World;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_secretsmanager::config::Credentials;

/// The region every scenario uses unless it says otherwise.
pub const DEFAULT_REGION: &str = "eu-west-3";

/// Static credentials for an AWS SDK client.
#[derive(Clone)]
pub struct Keys {
    /// Access key id (for LocalStack's root convention: the 12-digit account id).
    pub access_key_id: String,
    /// Secret access key. Never printed: `Debug` hides it.
    pub secret_access_key: String,
    /// Session token for temporary credentials.
    pub session_token: Option<String>,
}

impl From<&eso::Credentials> for Keys {
    /// The credentials ESO obtained for its store.
    fn from(c: &eso::Credentials) -> Self {
        Keys {
            access_key_id: c.access_key_id.clone(),
            secret_access_key: c.secret_access_key.clone(),
            session_token: c.session_token.clone(),
        }
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Keys {
    /// The root credentials of `account` by LocalStack's convention: the access key id
    /// is the account id, the secret is `test`.
    pub fn root_of(account: &str) -> Keys {
        Keys {
            access_key_id: account.to_string(),
            secret_access_key: "test".to_string(),
            session_token: None,
        }
    }
}

/// A fresh 12-digit account id, so that scenarios sharing one LocalStack never see
/// each other's state.
pub use test_support::fresh_account_id;

/// A random printable value for a secret, so real-looking values never sit in
/// feature files, logs or reports.
pub fn random_secret_value() -> String {
    let account = fresh_account_id();
    format!("v-{}-{}", &account[1..], std::process::id())
}

/// An SDK config for `endpoint` with fixed keys and region.
pub async fn sdk_config(endpoint: &str, region: &str, keys: &Keys) -> aws_config::SdkConfig {
    let credentials = Credentials::new(
        keys.access_key_id.clone(),
        keys.secret_access_key.clone(),
        keys.session_token.clone(),
        None,
        "sma-scenario",
    );
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(credentials)
        .load()
        .await
}

/// A Secrets Manager client for `endpoint` with the given keys.
pub async fn secrets_manager(
    endpoint: &str,
    region: &str,
    keys: &Keys,
) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&sdk_config(endpoint, region, keys).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_print_their_secret() {
        let keys = Keys {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("token-secret".into()),
        };
        let shown = format!("{keys:?}");
        assert!(shown.contains("AKIAEXAMPLE"));
        assert!(!shown.contains("very-secret"));
        assert!(!shown.contains("token-secret"));
    }
}
