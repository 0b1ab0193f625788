//! Web identity federation (`sts:AssumeRoleWithWebIdentity`): the identity
//! providers a trust policy can name and the condition keys AWS derives from the
//! token (IAM User Guide, "Available keys for AWS web identity federation",
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif>,
//! and "Create a role for web identity or OpenID Connect federation",
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html>).
//!
//! Two kinds of provider:
//! - an IAM OIDC provider of the role's account, named in a trust policy by its ARN
//!   `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`, keys `HOST/PATH:sub`,
//!   `HOST/PATH:aud` (the `azp` claim when present, else the audience), `HOST/PATH:amr`;
//! - a built-in provider, named by its host and registered in no account:
//!   `accounts.google.com` (`:aud` = `azp` when present else `aud`, `:oaud` = `aud`,
//!   `:sub`), `cognito-identity.amazonaws.com` (`:aud` = identity pool id, `:sub` =
//!   identity id, `:amr` multivalued), `www.amazon.com` (`:app_id`, `:user_id`),
//!   `graph.facebook.com` (`:app_id`, `:id`). GKE workloads reach AWS with
//!   Google-signed ID tokens through `accounts.google.com` this way.

use crate::context::Context;

/// A built-in web identity provider (no IAM OIDC provider object behind it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltInProvider {
    /// Google (`accounts.google.com`).
    Google,
    /// Amazon Cognito identity pools (`cognito-identity.amazonaws.com`).
    Cognito,
    /// Login with Amazon (`www.amazon.com`).
    LoginWithAmazon,
    /// Facebook (`graph.facebook.com`).
    Facebook,
}

impl BuiltInProvider {
    /// Every built-in provider.
    pub const ALL: [BuiltInProvider; 4] = [
        BuiltInProvider::Google,
        BuiltInProvider::Cognito,
        BuiltInProvider::LoginWithAmazon,
        BuiltInProvider::Facebook,
    ];

    /// The name a trust policy uses (`"Federated": "accounts.google.com"`), which is
    /// also the prefix of its condition keys.
    pub fn name(self) -> &'static str {
        match self {
            BuiltInProvider::Google => "accounts.google.com",
            BuiltInProvider::Cognito => "cognito-identity.amazonaws.com",
            BuiltInProvider::LoginWithAmazon => "www.amazon.com",
            BuiltInProvider::Facebook => "graph.facebook.com",
        }
    }

    /// The provider named `name` exactly (AWS spells them in lowercase).
    pub fn from_name(name: &str) -> Option<BuiltInProvider> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The condition keys AWS sets for a token of this provider.
    pub fn condition_keys(self, claims: &WebIdentityClaims) -> Context {
        let n = self.name();
        let mut c = Context::new();
        match self {
            BuiltInProvider::Google => {
                set_sub(&mut c, &format!("{n}:sub"), claims);
                set_aud(&mut c, &format!("{n}:aud"), claims);
                if let Some(aud) = claims.audiences.first() {
                    c.insert(&format!("{n}:oaud"), aud.as_str());
                }
            }
            BuiltInProvider::Cognito => {
                set_sub(&mut c, &format!("{n}:sub"), claims);
                set_aud(&mut c, &format!("{n}:aud"), claims);
                set_amr(&mut c, &format!("{n}:amr"), claims);
            }
            BuiltInProvider::LoginWithAmazon => {
                set_aud(&mut c, &format!("{n}:app_id"), claims);
                set_sub(&mut c, &format!("{n}:user_id"), claims);
            }
            BuiltInProvider::Facebook => {
                set_aud(&mut c, &format!("{n}:app_id"), claims);
                set_sub(&mut c, &format!("{n}:id"), claims);
            }
        }
        c
    }
}

/// The condition keys AWS sets for a token of the IAM OIDC provider whose URL is
/// `https://HOST_PATH`: `HOST_PATH:sub`, `HOST_PATH:aud`, `HOST_PATH:amr`.
pub fn oidc_condition_keys(host_path: &str, claims: &WebIdentityClaims) -> Context {
    let mut c = Context::new();
    set_sub(&mut c, &format!("{host_path}:sub"), claims);
    set_aud(&mut c, &format!("{host_path}:aud"), claims);
    set_amr(&mut c, &format!("{host_path}:amr"), claims);
    c
}

/// What AWS reads from a verified web identity token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebIdentityClaims {
    /// The end user or workload (`sub`; the user id for Login with Amazon and
    /// Facebook).
    pub subject: String,
    /// The audiences (`aud`; the app id for Login with Amazon and Facebook, the
    /// identity pool id for Cognito). The first is the one AWS matched.
    pub audiences: Vec<String>,
    /// The authorized party (`azp`), when the token has one.
    pub authorized_party: Option<String>,
    /// The authentication methods (`amr`), multivalued.
    pub amr: Vec<String>,
}

fn set_sub(c: &mut Context, key: &str, claims: &WebIdentityClaims) {
    if !claims.subject.is_empty() {
        c.insert(key, claims.subject.as_str());
    }
}

/// `aud` keys hold `azp` when the token names an authorized party.
fn set_aud(c: &mut Context, key: &str, claims: &WebIdentityClaims) {
    if let Some(v) = claims
        .authorized_party
        .as_ref()
        .or(claims.audiences.first())
    {
        c.insert(key, v.as_str());
    }
}

fn set_amr(c: &mut Context, key: &str, claims: &WebIdentityClaims) {
    if !claims.amr.is_empty() {
        c.insert_many(key, claims.amr.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(c: &'a Context, k: &str) -> Option<&'a [String]> {
        c.get(k).map(|v| v.as_slice())
    }

    #[test]
    fn names_round_trip() {
        for p in BuiltInProvider::ALL {
            assert_eq!(BuiltInProvider::from_name(p.name()), Some(p));
        }
        assert_eq!(BuiltInProvider::from_name("Accounts.Google.com"), None);
        assert_eq!(BuiltInProvider::from_name("oidc.example.com"), None);
    }

    #[test]
    fn google_keys_follow_azp() {
        // "Available keys for AWS web identity federation": with azp set, :aud is
        // azp and :oaud the token's audience (a GCP service account's ID token).
        let claims = WebIdentityClaims {
            subject: "113475438248934895348".into(),
            audiences: vec!["sts.amazonaws.com".into()],
            authorized_party: Some("113475438248934895348".into()),
            amr: vec![],
        };
        let c = BuiltInProvider::Google.condition_keys(&claims);
        assert_eq!(
            get(&c, "accounts.google.com:aud"),
            Some(&["113475438248934895348".to_string()][..])
        );
        assert_eq!(
            get(&c, "accounts.google.com:oaud"),
            Some(&["sts.amazonaws.com".to_string()][..])
        );
        assert_eq!(
            get(&c, "accounts.google.com:sub"),
            Some(&["113475438248934895348".to_string()][..])
        );
        assert_eq!(get(&c, "accounts.google.com:amr"), None);
    }

    #[test]
    fn other_providers_keys() {
        let claims = WebIdentityClaims {
            subject: "u-1".into(),
            audiences: vec!["app-1".into()],
            authorized_party: None,
            amr: vec!["authenticated".into(), "accounts.google.com".into()],
        };
        let c = BuiltInProvider::Cognito.condition_keys(&claims);
        assert_eq!(
            c.get("cognito-identity.amazonaws.com:amr")
                .unwrap()
                .as_slice()
                .len(),
            2
        );
        assert!(c.get("cognito-identity.amazonaws.com:aud").is_some());
        let c = BuiltInProvider::LoginWithAmazon.condition_keys(&claims);
        assert!(
            c.get("www.amazon.com:app_id").is_some() && c.get("www.amazon.com:user_id").is_some()
        );
        let c = BuiltInProvider::Facebook.condition_keys(&claims);
        assert!(
            c.get("graph.facebook.com:app_id").is_some()
                && c.get("graph.facebook.com:id").is_some()
        );
        let c = oidc_condition_keys("oidc.example.com/id/1", &claims);
        assert_eq!(
            c.get("oidc.example.com/id/1:aud")
                .and_then(|v| v.as_variable()),
            Some("app-1")
        );
        assert!(c.get("oidc.example.com/id/1:amr").is_some());
    }
}
