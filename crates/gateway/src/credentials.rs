//! Who signed a request: the credential store and SigV4 authentication.
//!
//! Keys come from four places: the root convention of LocalStack (access key `test` or a
//! 12-digit account id, one shared secret; configurable), access keys whose secrets
//! passed through the gateway in `CreateAccessKey` answers, STS sessions whose secrets
//! and tokens passed through in `AssumeRole*`/`GetSessionToken` answers, and keys
//! registered through the admin API (keys a CloudFormation stack made inside
//! LocalStack). Secrets and tokens never appear in `Debug` output or logs.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use http::{HeaderMap, Method, Uri};

use aws_wire::arn;
use aws_wire::crypto::ct_eq;
use aws_wire::sigv4::{self, SigV4Auth, SigV4Error};
use aws_wire::Secret;

use crate::errors::AuthFailure;

/// How root credentials are recognised (LocalStack's convention by default).
#[derive(Debug, Clone)]
pub struct RootCredentials {
    /// Secret accepted for every root access key (LocalStack: `test`).
    pub secret: Secret,
    /// Access key ids naming a fixed account (LocalStack: `test` → `000000000000`).
    pub named_keys: Vec<(String, String)>,
    /// Whether a 12-digit access key id is the root of that account.
    pub account_id_keys: bool,
}

impl Default for RootCredentials {
    fn default() -> Self {
        Self {
            secret: Secret::new("test"),
            named_keys: vec![("test".into(), "000000000000".into())],
            account_id_keys: true,
        }
    }
}

/// A web-identity session's origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentity {
    /// The OIDC provider ARN.
    pub provider_arn: String,
    /// The token's `sub`.
    pub subject: String,
    /// The audience that matched a client id.
    pub audience: String,
}

/// What a session stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionKind {
    /// A role session (`AssumeRole`, `AssumeRoleWithWebIdentity`).
    AssumedRole {
        /// `arn:aws:iam::ACCT:role/PATH/NAME` as given in the request.
        role_arn: String,
        /// Role name.
        role_name: String,
        /// Session name.
        session_name: String,
        /// `arn:aws:sts::ACCT:assumed-role/NAME/SESSION`.
        assumed_role_arn: String,
        /// `AROA…:SESSION` as LocalStack answered.
        assumed_role_id: String,
        /// Whether the session was obtained with role-session credentials (chaining).
        chained: bool,
        /// Present for web-identity sessions.
        web_identity: Option<WebIdentity>,
    },
    /// A `GetSessionToken` session: the same principal as the long-term key.
    SessionToken {
        /// The principal behind the session.
        base: Box<Identity>,
    },
}

/// A temporary-credential session remembered by the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Account of the session's principal.
    pub account: String,
    /// Role session or session token.
    pub kind: SessionKind,
    /// Inline session policy (`Policy`), if any.
    pub session_policy: Option<String>,
    /// Managed session policies (`PolicyArns`).
    pub session_policy_arns: Vec<String>,
    /// Session tags (transitive tags of a chained session included).
    pub tags: Vec<(String, String)>,
    /// Keys of transitive session tags.
    pub transitive_tag_keys: Vec<String>,
    /// `SourceIdentity`, if set.
    pub source_identity: Option<String>,
    /// When the credentials were issued (Unix seconds).
    pub issued_at: i64,
    /// When the credentials expire (Unix seconds).
    pub expires_at: i64,
}

impl Session {
    /// A session of the role `role_arn` (whose unique id, as read for the decision, is
    /// `role_id`) named `session_name`: `arn:aws:sts::ACCT:assumed-role/NAME/SESSION`,
    /// not chained, no web identity, no session policy, tags or source identity. The
    /// one constructor of role sessions (`AssumeRole`, `AssumeRoleWithWebIdentity`,
    /// sessions registered through the handle).
    pub fn assumed_role(
        role_arn: &str,
        role_id: &str,
        session_name: &str,
        issued_at: i64,
        expires_at: i64,
    ) -> Self {
        let account = arn::account(role_arn).unwrap_or("").to_string();
        let role_name = arn::resource_name(role_arn, "role")
            .unwrap_or("")
            .to_string();
        Session::plain(
            SessionKind::AssumedRole {
                role_arn: role_arn.to_string(),
                assumed_role_arn: format!(
                    "arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"
                ),
                role_name,
                session_name: session_name.to_string(),
                // Pinned to the role read for this decision (LocalStack's answer may
                // carry another id: moto invents one when its lookup misses).
                assumed_role_id: format!("{role_id}:{session_name}"),
                chained: false,
                web_identity: None,
            },
            account,
            issued_at,
            expires_at,
        )
    }

    /// A `GetSessionToken` session of `base` (the same principal as its long-term key).
    pub fn session_token(base: Identity, issued_at: i64, expires_at: i64) -> Self {
        let account = base.account().to_string();
        Session::plain(
            SessionKind::SessionToken {
                base: Box::new(base),
            },
            account,
            issued_at,
            expires_at,
        )
    }

    /// A session of `kind` without session policy, tags or source identity.
    fn plain(kind: SessionKind, account: String, issued_at: i64, expires_at: i64) -> Self {
        Session {
            kind,
            account,
            session_policy: None,
            session_policy_arns: vec![],
            tags: vec![],
            transitive_tag_keys: vec![],
            source_identity: None,
            issued_at,
            expires_at,
        }
    }

    /// This role session marked as obtained by chaining (`chained`) or with a web
    /// identity token (`web_identity`).
    pub fn obtained_by(mut self, chained: bool, web_identity: Option<WebIdentity>) -> Self {
        if let SessionKind::AssumedRole {
            chained: c,
            web_identity: w,
            ..
        } = &mut self.kind
        {
            *c = chained;
            *w = web_identity;
        }
        self
    }

    /// The session's ARN as AWS reports it for the caller.
    pub fn arn(&self) -> String {
        match &self.kind {
            SessionKind::AssumedRole {
                assumed_role_arn, ..
            } => assumed_role_arn.clone(),
            SessionKind::SessionToken { base } => base.fallback_arn(),
        }
    }

    /// Whether this session has a session policy (inline or managed).
    pub fn has_session_policy(&self) -> bool {
        self.session_policy.is_some() || !self.session_policy_arns.is_empty()
    }
}

/// The authenticated principal of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The account root user.
    Root {
        /// Account id.
        account: String,
    },
    /// An IAM user's long-term key.
    User {
        /// Account id.
        account: String,
        /// User name.
        name: String,
    },
    /// Temporary credentials.
    Session(Arc<Session>),
}

impl Identity {
    /// The principal's account.
    pub fn account(&self) -> &str {
        match self {
            Identity::Root { account } | Identity::User { account, .. } => account,
            Identity::Session(s) => &s.account,
        }
    }

    /// Whether the principal is (or acts as) the account root user.
    pub fn is_root(&self) -> bool {
        match self {
            Identity::Root { .. } => true,
            Identity::Session(s) => {
                matches!(&s.kind, SessionKind::SessionToken { base } if base.is_root())
            }
            Identity::User { .. } => false,
        }
    }

    /// An ARN computable without LocalStack (a user's path is assumed `/`; the
    /// authorizer uses the real ARN read from IAM).
    pub fn fallback_arn(&self) -> String {
        match self {
            Identity::Root { account } => format!("arn:aws:iam::{account}:root"),
            Identity::User { account, name } => format!("arn:aws:iam::{account}:user/{name}"),
            Identity::Session(s) => s.arn(),
        }
    }
}

struct StoredKey {
    secret: Secret,
    session_token: Option<Secret>,
    identity: Identity,
    active: bool,
}

impl StoredKey {
    /// An active access key of IAM user `user` in `account`.
    fn user(secret: Secret, account: &str, user: &str) -> Self {
        StoredKey {
            secret,
            session_token: None,
            identity: Identity::User {
                account: account.to_string(),
                name: user.to_string(),
            },
            active: true,
        }
    }
}

/// Known access keys. Cheap to share (`Arc`), safe to use from many tasks.
pub struct CredentialStore {
    root: RootCredentials,
    keys: RwLock<HashMap<String, StoredKey>>,
}

impl std::fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.keys.read().map(|k| k.len()).unwrap_or(0);
        f.debug_struct("CredentialStore")
            .field("root", &self.root)
            .field("keys", &n)
            .finish()
    }
}

impl CredentialStore {
    /// A store with the given root convention and no other key.
    pub fn new(root: RootCredentials) -> Self {
        Self {
            root,
            keys: RwLock::new(HashMap::new()),
        }
    }

    fn root_account(&self, akid: &str) -> Option<String> {
        if let Some((_, acct)) = self.root.named_keys.iter().find(|(k, _)| k == akid) {
            return Some(acct.clone());
        }
        (self.root.account_id_keys && aws_wire::arn::is_account_id(akid)).then(|| akid.to_string())
    }

    /// Authenticates a signed request: known key, exact signature, date window, session
    /// token, session expiry — in that order.
    #[allow(clippy::too_many_arguments)]
    pub fn authenticate(
        &self,
        auth: &SigV4Auth,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<Identity, AuthFailure> {
        let (secret, token, identity, active) = {
            let keys = self.keys.read().map_err(|_| AuthFailure::UnknownKey)?;
            match keys.get(&auth.access_key_id) {
                Some(k) => (
                    k.secret.clone(),
                    k.session_token.clone(),
                    k.identity.clone(),
                    k.active,
                ),
                None => match self.root_account(&auth.access_key_id) {
                    Some(account) => (
                        self.root.secret.clone(),
                        None,
                        Identity::Root { account },
                        true,
                    ),
                    None => return Err(AuthFailure::UnknownKey),
                },
            }
        };
        if !active {
            return Err(AuthFailure::UnknownKey);
        }
        sigv4::verify(auth, method, uri, headers, body, secret.expose()).map_err(|e| match e {
            SigV4Error::Incomplete(m) => AuthFailure::Incomplete(m),
            SigV4Error::Mismatch => AuthFailure::BadSignature,
            SigV4Error::Expired(m) => AuthFailure::SignatureExpired(m),
        })?;
        sigv4::check_time(auth, now).map_err(|e| AuthFailure::SignatureExpired(e.to_string()))?;
        match (&token, &auth.security_token) {
            (Some(expected), Some(given)) => {
                if !ct_eq(expected.expose().as_bytes(), given.expose().as_bytes()) {
                    return Err(AuthFailure::InvalidToken);
                }
            }
            (Some(_), None) | (None, Some(_)) => return Err(AuthFailure::InvalidToken),
            (None, None) => {}
        }
        if let Identity::Session(s) = &identity {
            if now >= s.expires_at {
                return Err(AuthFailure::ExpiredToken);
            }
        }
        Ok(identity)
    }

    /// Remembers an IAM user's access key.
    pub fn insert_user_key(&self, access_key_id: &str, secret: Secret, account: &str, user: &str) {
        if let Ok(mut keys) = self.keys.write() {
            keys.insert(
                access_key_id.to_string(),
                StoredKey::user(secret, account, user),
            );
        }
    }

    /// Remembers an IAM user's access key unless the id is already known (a stored key
    /// or a root key id); returns whether it was stored. Check and insert happen under
    /// one lock, so two registrations cannot both succeed.
    pub fn insert_user_key_if_absent(
        &self,
        access_key_id: &str,
        secret: Secret,
        account: &str,
        user: &str,
    ) -> bool {
        if self.root_account(access_key_id).is_some() {
            return false;
        }
        let Ok(mut keys) = self.keys.write() else {
            return false;
        };
        if keys.contains_key(access_key_id) {
            return false;
        }
        keys.insert(
            access_key_id.to_string(),
            StoredKey::user(secret, account, user),
        );
        true
    }

    /// Remembers a session's credentials.
    pub fn insert_session(
        &self,
        access_key_id: &str,
        secret: Secret,
        token: Secret,
        session: Session,
    ) {
        if let Ok(mut keys) = self.keys.write() {
            keys.insert(
                access_key_id.to_string(),
                StoredKey {
                    secret,
                    session_token: Some(token),
                    identity: Identity::Session(Arc::new(session)),
                    active: true,
                },
            );
        }
    }

    /// Forgets a key; it stops working at once. Returns whether it was known.
    pub fn remove_key(&self, access_key_id: &str) -> bool {
        self.keys
            .write()
            .map(|mut k| k.remove(access_key_id).is_some())
            .unwrap_or(false)
    }

    /// Marks a key active or inactive (`UpdateAccessKey`).
    pub fn set_active(&self, access_key_id: &str, active: bool) {
        if let Ok(mut keys) = self.keys.write() {
            if let Some(k) = keys.get_mut(access_key_id) {
                k.active = active;
            }
        }
    }

    /// Forgets every long-term key of a user (`DeleteUser`).
    pub fn remove_user(&self, account: &str, user: &str) {
        if let Ok(mut keys) = self.keys.write() {
            keys.retain(|_, k| !matches!(&k.identity, Identity::User { account: a, name } if a == account && name == user));
        }
    }

    /// The identity a key stands for, if known (no authentication).
    #[cfg(test)]
    pub fn identity_of(&self, access_key_id: &str) -> Option<Identity> {
        if let Some(k) = self.keys.read().ok()?.get(access_key_id) {
            return Some(k.identity.clone());
        }
        self.root_account(access_key_id)
            .map(|account| Identity::Root { account })
    }

    /// Drops sessions that expired more than an hour ago (bounded memory).
    pub fn purge_expired(&self, now: i64) {
        if let Ok(mut keys) = self.keys.write() {
            keys.retain(
                |_, k| !matches!(&k.identity, Identity::Session(s) if s.expires_at + 3600 < now),
            );
        }
    }

    /// Whether no non-root key is stored.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.keys.read().map(|k| k.is_empty()).unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_wire::sigv4::{sign_request, SigningParams};

    fn signed(akid: &str, secret: &str, token: Option<&str>, time: i64) -> (Uri, HeaderMap) {
        let uri: Uri = "http://127.0.0.1/".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", "127.0.0.1".parse().unwrap());
        sign_request(
            &Method::POST,
            &uri,
            &mut h,
            b"{}",
            &SigningParams {
                access_key_id: akid,
                secret_access_key: secret,
                session_token: token,
                region: "us-east-1",
                service: "secretsmanager",
                time,
            },
        )
        .unwrap();
        (uri, h)
    }

    fn auth(
        store: &CredentialStore,
        akid: &str,
        secret: &str,
        token: Option<&str>,
        now: i64,
    ) -> Result<Identity, AuthFailure> {
        let (uri, h) = signed(akid, secret, token, now);
        let a = sigv4::parse(&uri, &h).unwrap().unwrap();
        store.authenticate(&a, &Method::POST, &uri, &h, b"{}", now)
    }

    #[test]
    fn root_user_session_lifecycle() {
        let store = CredentialStore::new(RootCredentials::default());
        let now = 1_700_000_000;
        assert_eq!(
            auth(&store, "test", "test", None, now),
            Ok(Identity::Root {
                account: "000000000000".into()
            })
        );
        assert_eq!(
            auth(&store, "111122223333", "test", None, now),
            Ok(Identity::Root {
                account: "111122223333".into()
            })
        );
        assert_eq!(
            auth(&store, "111122223333", "nope", None, now),
            Err(AuthFailure::BadSignature)
        );
        assert_eq!(
            auth(&store, "AKIAUNKNOWN", "x", None, now),
            Err(AuthFailure::UnknownKey)
        );
        assert_eq!(
            auth(&store, "test", "test", Some("tok"), now),
            Err(AuthFailure::InvalidToken)
        );

        store.insert_user_key("AKIAUSER", "usersecret".into(), "111122223333", "alice");
        assert!(matches!(
            auth(&store, "AKIAUSER", "usersecret", None, now),
            Ok(Identity::User { .. })
        ));
        store.set_active("AKIAUSER", false);
        assert_eq!(
            auth(&store, "AKIAUSER", "usersecret", None, now),
            Err(AuthFailure::UnknownKey)
        );
        store.set_active("AKIAUSER", true);
        assert!(store.remove_key("AKIAUSER"));
        assert_eq!(
            auth(&store, "AKIAUSER", "usersecret", None, now),
            Err(AuthFailure::UnknownKey)
        );

        let alice = Identity::User {
            account: "111122223333".into(),
            name: "alice".into(),
        };
        let session = Session::session_token(alice, now, now + 100);
        store.insert_session("ASIA1", "sess".into(), "token-1".into(), session);
        assert!(matches!(
            auth(&store, "ASIA1", "sess", Some("token-1"), now),
            Ok(Identity::Session(_))
        ));
        assert_eq!(
            auth(&store, "ASIA1", "sess", Some("token-2"), now),
            Err(AuthFailure::InvalidToken)
        );
        assert_eq!(
            auth(&store, "ASIA1", "sess", None, now),
            Err(AuthFailure::InvalidToken)
        );
        assert_eq!(
            auth(&store, "ASIA1", "sess", Some("token-1"), now + 100),
            Err(AuthFailure::ExpiredToken)
        );
        store.purge_expired(now + 10_000);
        assert!(store.is_empty());
    }

    #[test]
    fn stale_request_is_expired() {
        let store = CredentialStore::new(RootCredentials::default());
        let (uri, h) = signed("test", "test", None, 1_700_000_000);
        let a = sigv4::parse(&uri, &h).unwrap().unwrap();
        assert!(matches!(
            store.authenticate(&a, &Method::POST, &uri, &h, b"{}", 1_700_000_000 + 901),
            Err(AuthFailure::SignatureExpired(_))
        ));
    }
}
