//! The caller of a request and the context keys AWS derives from it
//! (IAM User Guide, "AWS global condition context keys": `aws:PrincipalArn`,
//! `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid`, `aws:username`,
//! `aws:PrincipalTag/*`, `aws:SourceIdentity`).

use crate::arn::{is_account_id, Arn};
use crate::context::{Context, ContextValue};
use crate::web_identity::{oidc_condition_keys, BuiltInProvider, WebIdentityClaims};
use thiserror::Error;

/// Why a principal ARN was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PrincipalError {
    /// Not an ARN at all.
    #[error("invalid principal: {0}")]
    Arn(#[from] crate::arn::ArnError),
    /// An ARN that does not denote a caller.
    #[error("unsupported principal {0:?}: expected arn:aws:iam::ACCOUNT:user/NAME, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, arn:aws:iam::ACCOUNT:root or an OIDC/SAML provider ARN")]
    Unsupported(String),
    /// The role ARN given for a session does not belong to it.
    #[error("role ARN {role:?} does not match the session {session:?} (same account and role name required)")]
    RoleMismatch {
        /// The role ARN given.
        role: String,
        /// The session ARN.
        session: String,
    },
}

/// What kind of caller a [`Principal`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An IAM user.
    User {
        /// The user name (last path element).
        name: String,
    },
    /// A role session (`assumed-role`).
    RoleSession {
        /// The role name.
        role_name: String,
        /// The session name.
        session_name: String,
    },
    /// The account root user.
    Root,
    /// A federated (web identity or SAML) caller, identified by its provider: an
    /// IAM OIDC/SAML provider ARN, or a built-in web identity provider
    /// ([`BuiltInProvider`], no account).
    Federated,
    /// An AWS service principal (`ec2.amazonaws.com`).
    Service,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    kind: PrincipalKind,
    /// The caller's ARN (session ARN for a role session, provider ARN when federated,
    /// service name for a service).
    arn: String,
    partition: String,
    account: String,
    /// For a role session: the role ARN (with its path when known).
    role_arn: Option<String>,
    /// `arn:PARTITION:iam::ACCOUNT:root`.
    root_arn: String,
    /// Keys AWS sets for this principal (lowercased names).
    derived: Context,
    tags: Vec<(String, String)>,
    unique_id: Option<String>,
    source_identity: Option<String>,
    /// Condition keys from a web identity token (`<provider>:sub`, …).
    token_keys: Context,
}

impl Principal {
    /// Builds a principal from its ARN: an IAM user (`arn:aws:iam::A:user/path/U`),
    /// a role session (`arn:aws:sts::A:assumed-role/R/S`), the root user
    /// (`arn:aws:iam::A:root`) or a federated identity provider
    /// (`arn:aws:iam::A:oidc-provider/HOST/PATH`, `…:saml-provider/NAME`).
    ///
    /// ```
    /// let p = iam::Principal::from_arn("arn:aws:sts::123456789012:assumed-role/eso/s1").unwrap();
    /// assert_eq!(p.role_arn(), Some("arn:aws:iam::123456789012:role/eso"));
    /// let p = p.with_role_arn("arn:aws:iam::123456789012:role/platform/eso").unwrap();
    /// assert_eq!(p.role_arn(), Some("arn:aws:iam::123456789012:role/platform/eso"));
    /// ```
    pub fn from_arn(arn: &str) -> Result<Principal, PrincipalError> {
        let parsed = Arn::parse(arn)?;
        if !is_account_id(&parsed.account) || !parsed.region.is_empty() {
            return Err(PrincipalError::Unsupported(arn.to_string()));
        }
        let unsupported = || PrincipalError::Unsupported(arn.to_string());
        let (kind, role_arn) = match (parsed.service.as_str(), parsed.resource.as_str()) {
            ("iam", "root") => (PrincipalKind::Root, None),
            ("iam", r) if r.starts_with("user/") => {
                let name = r.rsplit('/').next().filter(|n| !n.is_empty());
                let name = name.ok_or_else(unsupported)?;
                (
                    PrincipalKind::User {
                        name: name.to_string(),
                    },
                    None,
                )
            }
            ("iam", r) if r.starts_with("oidc-provider/") || r.starts_with("saml-provider/") => {
                (PrincipalKind::Federated, None)
            }
            ("sts", r) if r.starts_with("assumed-role/") => {
                let mut it = r["assumed-role/".len()..].splitn(2, '/');
                let role = it
                    .next()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(unsupported)?;
                let session = it
                    .next()
                    .filter(|s| !s.is_empty() && !s.contains('/'))
                    .ok_or_else(unsupported)?;
                (
                    PrincipalKind::RoleSession {
                        role_name: role.to_string(),
                        session_name: session.to_string(),
                    },
                    Some(format!(
                        "arn:{}:iam::{}:role/{role}",
                        parsed.partition, parsed.account
                    )),
                )
            }
            _ => return Err(unsupported()),
        };
        let mut p = Principal {
            kind,
            arn: arn.to_string(),
            root_arn: format!("arn:{}:iam::{}:root", parsed.partition, parsed.account),
            partition: parsed.partition,
            account: parsed.account,
            role_arn,
            derived: Context::new(),
            tags: Vec::new(),
            unique_id: None,
            source_identity: None,
            token_keys: Context::new(),
        };
        p.derive();
        Ok(p)
    }

    /// A caller federated through a built-in web identity provider
    /// (`accounts.google.com`, `cognito-identity.amazonaws.com`, `www.amazon.com`,
    /// `graph.facebook.com`), with the condition keys AWS derives from its token
    /// (see [`crate::web_identity`]). It has no account: a trust policy names it as
    /// `{"Federated": "accounts.google.com"}`.
    ///
    /// ```
    /// use iam::web_identity::{BuiltInProvider, WebIdentityClaims};
    /// let claims = WebIdentityClaims { subject: "1134".into(), audiences: vec!["sts.amazonaws.com".into()],
    ///     authorized_party: Some("1134".into()), amr: vec![] };
    /// let p = iam::Principal::web_identity(BuiltInProvider::Google, &claims);
    /// assert_eq!(p.arn(), "accounts.google.com");
    /// assert!(p.context().get("accounts.google.com:oaud").is_some());
    /// ```
    pub fn web_identity(provider: BuiltInProvider, claims: &WebIdentityClaims) -> Principal {
        Principal::without_account(
            PrincipalKind::Federated,
            provider.name(),
            provider.condition_keys(claims),
        )
    }

    /// A caller that belongs to no account (a service, a built-in web identity
    /// provider), named `name`.
    fn without_account(kind: PrincipalKind, name: &str, token_keys: Context) -> Principal {
        let mut p = Principal {
            kind,
            arn: name.to_string(),
            partition: "aws".into(),
            account: String::new(),
            role_arn: None,
            root_arn: String::new(),
            derived: Context::new(),
            tags: Vec::new(),
            unique_id: None,
            source_identity: None,
            token_keys,
        };
        p.derive();
        p
    }

    /// Builds a principal from a built-in web identity provider name (without
    /// token keys) or, otherwise, from an ARN ([`Principal::from_arn`]).
    pub fn parse(text: &str) -> Result<Principal, PrincipalError> {
        match BuiltInProvider::from_name(text) {
            Some(b) => Ok(Principal::web_identity(b, &WebIdentityClaims::default())),
            None => Principal::from_arn(text),
        }
    }

    /// Sets the condition keys of a web identity token for an OIDC provider
    /// (`HOST/PATH:sub`, `:aud`, `:amr`) or a built-in provider.
    pub fn with_web_identity_claims(
        mut self,
        claims: &WebIdentityClaims,
    ) -> Result<Principal, PrincipalError> {
        self.token_keys = if let Some(b) = self.built_in_provider() {
            b.condition_keys(claims)
        } else if let Some(host_path) = self.oidc_host_path() {
            oidc_condition_keys(host_path, claims)
        } else {
            return Err(PrincipalError::Unsupported(format!(
                "{} (only a web identity provider has token claims)",
                self.arn
            )));
        };
        self.derive();
        Ok(self)
    }

    /// The built-in web identity provider this caller came through, if any.
    pub fn built_in_provider(&self) -> Option<BuiltInProvider> {
        (self.kind == PrincipalKind::Federated)
            .then(|| BuiltInProvider::from_name(&self.arn))
            .flatten()
    }

    /// For an IAM OIDC provider (`arn:aws:iam::A:oidc-provider/HOST/PATH`): the
    /// issuer's `HOST/PATH`, which prefixes its condition keys.
    pub fn oidc_host_path(&self) -> Option<&str> {
        if self.kind != PrincipalKind::Federated {
            return None;
        }
        self.arn
            .split_once(":oidc-provider/")
            .map(|(_, host_path)| host_path)
            .filter(|h| !h.is_empty())
    }

    /// An AWS service principal such as `ec2.amazonaws.com` (no account).
    pub fn service(name: &str) -> Principal {
        Principal::without_account(PrincipalKind::Service, name, Context::new())
    }

    /// Sets the role ARN of a role session, with its path
    /// (`arn:aws:iam::A:role/path/R`): policies naming the role must use the path.
    pub fn with_role_arn(mut self, role_arn: &str) -> Result<Principal, PrincipalError> {
        let PrincipalKind::RoleSession { role_name, .. } = &self.kind else {
            return Err(PrincipalError::Unsupported(format!(
                "{} (only a role session has a role ARN)",
                self.arn
            )));
        };
        let mismatch = || PrincipalError::RoleMismatch {
            role: role_arn.to_string(),
            session: self.arn.clone(),
        };
        let parsed = Arn::parse(role_arn).map_err(|_| mismatch())?;
        let ok = parsed.service == "iam"
            && parsed.account == self.account
            && parsed.partition == self.partition
            && parsed.resource.starts_with("role/")
            && parsed.resource.rsplit('/').next() == Some(role_name.as_str());
        if !ok {
            return Err(mismatch());
        }
        self.role_arn = Some(role_arn.to_string());
        self.derive();
        Ok(self)
    }

    /// Adds a principal tag (`aws:PrincipalTag/KEY`): user tags, or role tags plus
    /// session tags for a role session.
    pub fn with_tag(mut self, key: &str, value: &str) -> Principal {
        self.tags.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.tags.push((key.to_string(), value.to_string()));
        self.derive();
        self
    }

    /// Sets the unique id (`AIDA…` for a user, `AROA…` role id for a session),
    /// which makes `aws:userid` available (`AIDA…`, or `AROA…:SESSION`).
    pub fn with_unique_id(mut self, id: &str) -> Principal {
        self.unique_id = Some(id.to_string());
        self.derive();
        self
    }

    /// Sets `aws:SourceIdentity` (role sessions created with a source identity).
    pub fn with_source_identity(mut self, id: &str) -> Principal {
        self.source_identity = Some(id.to_string());
        self.derive();
        self
    }

    /// What kind of caller this is.
    pub fn kind(&self) -> &PrincipalKind {
        &self.kind
    }

    /// The caller's ARN as given (session ARN for a role session).
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The caller's account id (empty for a service principal or a built-in web
    /// identity provider; the provider's account for an IAM OIDC/SAML provider).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The role ARN of a role session.
    pub fn role_arn(&self) -> Option<&str> {
        self.role_arn.as_deref()
    }

    /// Whether the caller is the account root user.
    pub fn is_root(&self) -> bool {
        self.kind == PrincipalKind::Root
    }

    /// Whether the caller is a federated identity provider (web identity / SAML).
    pub fn is_federated(&self) -> bool {
        self.kind == PrincipalKind::Federated
    }

    /// The principal tags.
    pub fn tags(&self) -> &[(String, String)] {
        &self.tags
    }

    /// The context keys AWS sets for this principal.
    pub fn context(&self) -> &Context {
        &self.derived
    }

    /// `arn:PARTITION:iam::ACCOUNT:root`.
    pub fn root_arn(&self) -> &str {
        &self.root_arn
    }

    /// Recomputes the derived context keys.
    fn derive(&mut self) {
        let mut c = Context::new();
        let single = |s: &str| ContextValue::Single(s.to_string());
        match &self.kind {
            PrincipalKind::User { name } => {
                c.set("aws:PrincipalArn", single(&self.arn));
                c.set("aws:PrincipalAccount", single(&self.account));
                c.set("aws:PrincipalType", single("User"));
                c.set("aws:username", single(name));
                if let Some(id) = &self.unique_id {
                    c.set("aws:userid", single(id));
                }
            }
            PrincipalKind::RoleSession { session_name, .. } => {
                // aws:PrincipalArn is the role ARN, not the session ARN.
                if let Some(r) = &self.role_arn {
                    c.set("aws:PrincipalArn", single(r));
                }
                c.set("aws:PrincipalAccount", single(&self.account));
                c.set("aws:PrincipalType", single("AssumedRole"));
                if let Some(id) = &self.unique_id {
                    c.set("aws:userid", single(&format!("{id}:{session_name}")));
                }
            }
            PrincipalKind::Root => {
                c.set("aws:PrincipalArn", single(&self.root_arn));
                c.set("aws:PrincipalAccount", single(&self.account));
                c.set("aws:PrincipalType", single("Account"));
                c.set("aws:userid", single(&self.account));
            }
            PrincipalKind::Federated => {
                c.set("aws:FederatedProvider", single(&self.arn));
            }
            PrincipalKind::Service => {
                c.set("aws:PrincipalServiceName", single(&self.arn));
                c.set("aws:PrincipalIsAWSService", single("true"));
            }
        }
        if self.kind != PrincipalKind::Service && self.kind != PrincipalKind::Federated {
            c.set("aws:PrincipalIsAWSService", single("false"));
        }
        if let Some(s) = &self.source_identity {
            c.set("aws:SourceIdentity", single(s));
        }
        for (k, v) in &self.tags {
            c.set(&format!("aws:PrincipalTag/{k}"), single(v));
        }
        for (k, v) in self.token_keys.iter() {
            c.set(k, v.clone());
        }
        self.derived = c;
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(p: &'a Principal, k: &str) -> Option<&'a str> {
        p.context().get(k).and_then(|v| v.as_variable())
    }

    #[test]
    fn user() {
        let p = Principal::from_arn("arn:aws:iam::123456789012:user/division/alice")
            .unwrap()
            .with_unique_id("AIDAEXAMPLE")
            .with_tag("team", "blue");
        assert_eq!(
            p.kind(),
            &PrincipalKind::User {
                name: "alice".into()
            }
        );
        assert_eq!(get(&p, "aws:username"), Some("alice"));
        assert_eq!(get(&p, "aws:userid"), Some("AIDAEXAMPLE"));
        assert_eq!(
            get(&p, "aws:PrincipalArn"),
            Some("arn:aws:iam::123456789012:user/division/alice")
        );
        assert_eq!(get(&p, "aws:principalaccount"), Some("123456789012"));
        assert_eq!(get(&p, "aws:PrincipalTag/Team"), Some("blue"));
        assert_eq!(get(&p, "aws:PrincipalType"), Some("User"));
    }

    #[test]
    fn role_session() {
        let p = Principal::from_arn("arn:aws:sts::123456789012:assumed-role/eso/sess")
            .unwrap()
            .with_unique_id("AROAEXAMPLE")
            .with_role_arn("arn:aws:iam::123456789012:role/k8s/eso")
            .unwrap();
        assert_eq!(
            get(&p, "aws:PrincipalArn"),
            Some("arn:aws:iam::123456789012:role/k8s/eso")
        );
        assert_eq!(get(&p, "aws:userid"), Some("AROAEXAMPLE:sess"));
        assert_eq!(get(&p, "aws:username"), None);
        assert_eq!(get(&p, "aws:PrincipalType"), Some("AssumedRole"));
        assert!(p
            .clone()
            .with_role_arn("arn:aws:iam::123456789012:role/other")
            .is_err());
        assert!(p
            .with_role_arn("arn:aws:iam::210987654321:role/eso")
            .is_err());
    }

    #[test]
    fn root_and_federated_and_errors() {
        let r = Principal::from_arn("arn:aws:iam::123456789012:root").unwrap();
        assert!(r.is_root());
        assert_eq!(get(&r, "aws:userid"), Some("123456789012"));
        let f = Principal::from_arn(
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-3.amazonaws.com/id/ABC",
        )
        .unwrap();
        assert!(f.is_federated());
        assert!(Principal::from_arn("arn:aws:iam::123456789012:role/r").is_err());
        assert!(Principal::from_arn("arn:aws:sts::123456789012:assumed-role/r").is_err());
        assert!(Principal::from_arn("arn:aws:iam::12345:user/u").is_err());
        assert!(Principal::from_arn("alice").is_err());
        assert!(r.with_role_arn("arn:aws:iam::123456789012:role/x").is_err());
    }
}
