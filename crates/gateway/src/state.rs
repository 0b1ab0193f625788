//! The state every connection shares, and the registration and invalidation operations
//! that both the library handle ([`crate::GatewayHandle`]) and the admin API
//! (`/_sma/*`) call, so the two cannot drift.
//!
//! Replacement is the caller's choice ([`Replace`]): the in-process handle may replace a
//! key or an issuer's key set, the unauthenticated admin API never does.

use aws_wire::jwt::Jwks;
use aws_wire::{time, Secret};

use crate::authorize::PolicyCache;
use crate::credentials::{CredentialStore, Session};
use crate::decision_log::DecisionLog;
use crate::directory::Directory;
use crate::issuers::IssuerRegistry;
use crate::upstream::Upstream;

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) creds: CredentialStore,
    pub(crate) issuers: IssuerRegistry,
    pub(crate) dir: Directory,
    pub(crate) upstream: Upstream,
    pub(crate) log: DecisionLog,
    pub(crate) policies: PolicyCache,
    pub(crate) max_body: usize,
    pub(crate) admin_api: bool,
}

/// Whether a registration may replace what the gateway already knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replace {
    /// Replace (the in-process handle).
    Allowed,
    /// Keep what is known and report the conflict (the admin API: a caller could
    /// otherwise swap a user's secret or an issuer's keys for its own).
    Refused,
}

/// An IAM user's access key to register.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct KeyRegistration {
    /// Access key id.
    pub(crate) access_key_id: String,
    /// Secret access key.
    #[serde(deserialize_with = "secret")]
    pub(crate) secret_access_key: Secret,
    /// Account of the user.
    pub(crate) account_id: String,
    /// User name.
    pub(crate) user_name: String,
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    <String as serde::Deserialize>::deserialize(d).map(Secret::from)
}

/// Role-session credentials issued outside the gateway, to register.
#[derive(Debug, Clone)]
pub(crate) struct RoleSessionRegistration<'a> {
    /// The role's ARN.
    pub(crate) role_arn: &'a str,
    /// The session name.
    pub(crate) session_name: &'a str,
    /// Access key id.
    pub(crate) access_key_id: &'a str,
    /// Secret access key.
    pub(crate) secret_access_key: Secret,
    /// Session token.
    pub(crate) session_token: Secret,
    /// Expiry, Unix seconds.
    pub(crate) expires_at: i64,
}

impl Shared {
    /// Registers an IAM user's key; returns whether it was stored (with
    /// [`Replace::Refused`], a known key id or a root key id is not). Cached state is
    /// invalidated when it was.
    pub(crate) fn register_user_key(&self, key: KeyRegistration, replace: Replace) -> bool {
        let stored = match replace {
            Replace::Allowed => {
                self.creds.insert_user_key(
                    &key.access_key_id,
                    key.secret_access_key,
                    &key.account_id,
                    &key.user_name,
                );
                true
            }
            Replace::Refused => self.creds.insert_user_key_if_absent(
                &key.access_key_id,
                key.secret_access_key,
                &key.account_id,
                &key.user_name,
            ),
        };
        if stored {
            self.dir.invalidate();
        }
        stored
    }

    /// Registers role-session credentials, pinned to the role's current unique id (a
    /// role recreated later under the same name gets nothing from them). Fails when the
    /// role cannot be read.
    pub(crate) async fn register_role_session(
        &self,
        r: RoleSessionRegistration<'_>,
    ) -> Result<(), String> {
        let role = self
            .dir
            .role_by_arn(r.role_arn)
            .await
            .map_err(|e| format!("reading role {}: {e}", r.role_arn))?
            .ok_or_else(|| format!("role {} does not exist", r.role_arn))?;
        let session = Session::assumed_role(
            r.role_arn,
            &role.role_id,
            r.session_name,
            time::unix_now(),
            r.expires_at,
        );
        self.creds.insert_session(
            r.access_key_id,
            r.secret_access_key,
            r.session_token,
            session,
        );
        Ok(())
    }

    /// Forgets a key; requests signed with it fail at once. Returns whether it was
    /// known.
    pub(crate) fn remove_key(&self, access_key_id: &str) -> bool {
        self.creds.remove_key(access_key_id)
    }

    /// Sets an OIDC issuer's key set; returns whether it was set (with
    /// [`Replace::Refused`], an issuer that has one keeps it).
    pub(crate) fn register_issuer(&self, issuer: &str, jwks: Jwks, replace: Replace) -> bool {
        match replace {
            Replace::Allowed => {
                self.issuers.insert(issuer, jwks);
                true
            }
            Replace::Refused => self.issuers.insert_if_absent(issuer, jwks),
        }
    }

    /// Forgets cached IAM/secret/key state: the next request reads LocalStack again.
    pub(crate) fn invalidate_cache(&self) {
        self.dir.invalidate();
    }
}

/// State for unit tests: an upstream that is never contacted.
#[cfg(test)]
pub(crate) async fn test_shared() -> Shared {
    let upstream = Upstream::new(
        "http://127.0.0.1:4566",
        "test",
        std::time::Duration::from_secs(1),
    )
    .unwrap();
    Shared {
        creds: CredentialStore::new(crate::RootCredentials::default()),
        issuers: IssuerRegistry::new(),
        dir: Directory::new(upstream.clone(), Some(std::time::Duration::ZERO)),
        upstream,
        log: DecisionLog::open(None).await.unwrap(),
        policies: PolicyCache::default(),
        max_body: 1024,
        admin_api: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_registrations_never_show_their_secret() {
        let key: KeyRegistration = serde_json::from_str(
            r#"{"access_key_id":"AKIAEXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG","account_id":"123456789012","user_name":"ci"}"#,
        )
        .unwrap();
        assert_eq!(key.secret_access_key.expose(), "wJalrXUtnFEMI/K7MDENG");
        let shown = format!("{key:?}");
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(shown.contains("secret_access_key: Secret(***)"), "{shown}");
    }
}
