//! `AssumeRoleWithWebIdentity`, in AWS's order: the token verified (JWT, issuer, the
//! role account's OIDC provider, the issuer's keys, time claims, audience), then the
//! trust decision (the provider as principal, `<issuer>:sub` / `:aud` / `:amr`, session
//! tags from the token's tags claim and `sts:TagSession`), then the session, built as
//! `AssumeRole`'s.

use std::sync::Arc;

use super::{insert_tag_keys, role_session_duration, StsPlan};
use crate::authorize::{decide, global_context, AuthzError, Decider, Verdict};
use crate::credentials::{Session, WebIdentity};
use crate::directory::{OidcProviderInfo, RoleInfo};
use crate::errors::AwsError;
use aws_wire::arn;
use aws_wire::jwt::{self, JwtError, VerifiedToken};
use aws_wire::query::{param, policy_arns, Params};
use aws_wire::time::unix_now;

const ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// Session tags, in order: `(key, value)`.
pub type SessionTags = Vec<(String, String)>;

/// The claim an OIDC token carries session tags in (IAM User Guide, "Passing session
/// tags using AssumeRoleWithWebIdentity").
pub const SESSION_TAGS_CLAIM: &str = "https://aws.amazon.com/tags";

/// Session tags and transitive tag keys from a verified token's
/// `https://aws.amazon.com/tags` claim: `{"principal_tags": {"Key": ["value"]},
/// "transitive_tag_keys": ["Key"]}`. Anything else in that claim is refused (fail
/// closed) with the reason: a value that is not exactly one string, a transitive key
/// that names no tag, a key repeated regardless of case, and STS's limits (50 tags,
/// keys of 1–128 characters, values of at most 256).
pub fn token_session_tags(
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<(SessionTags, Vec<String>), String> {
    use serde_json::Value;
    let Some(claim) = claims.get(SESSION_TAGS_CLAIM) else {
        return Ok((vec![], vec![]));
    };
    let Value::Object(claim) = claim else {
        return Err(format!("the {SESSION_TAGS_CLAIM} claim must be an object"));
    };
    let mut tags: Vec<(String, String)> = Vec::new();
    match claim.get("principal_tags") {
        None => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let value = match v {
                    Value::Array(a) if a.len() == 1 => a[0].as_str(),
                    _ => None,
                };
                let Some(value) = value else {
                    return Err(format!(
                        "session tag {k} must have exactly one string value, as [\"value\"]"
                    ));
                };
                if k.is_empty() || k.chars().count() > 128 || value.chars().count() > 256 {
                    return Err(format!(
                        "session tag {k}: keys have 1 to 128 characters, values at most 256"
                    ));
                }
                if tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)) {
                    return Err(format!("session tag {k} is repeated (keys ignore case)"));
                }
                tags.push((k.clone(), value.to_string()));
            }
        }
        Some(_) => return Err("principal_tags must be an object".into()),
    }
    if tags.len() > 50 {
        return Err(format!(
            "{} session tags; at most 50 are allowed",
            tags.len()
        ));
    }
    let mut transitive = Vec::new();
    match claim.get("transitive_tag_keys") {
        None => {}
        Some(Value::Array(keys)) => {
            for k in keys {
                let Some(k) = k.as_str() else {
                    return Err("transitive_tag_keys must be a list of strings".into());
                };
                if !tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)) {
                    return Err(format!("transitive tag key {k} is not a session tag"));
                }
                transitive.push(k.to_string());
            }
        }
        Some(_) => return Err("transitive_tag_keys must be a list of strings".into()),
    }
    Ok((tags, transitive))
}

/// A token that passed AWS's checks for a role's account.
struct VerifiedCaller {
    /// The role account's IAM OIDC provider of the token's issuer.
    provider: Arc<OidcProviderInfo>,
    /// The token's `iss`.
    issuer: String,
    /// The verified token.
    token: VerifiedToken,
    /// The token audience that is one of the provider's client ids.
    audience: String,
}

/// The role's trust policy allows the token's principal.
struct Trusted {
    role: Arc<RoleInfo>,
    verdict: Verdict,
    tags: SessionTags,
    transitive_tag_keys: Vec<String>,
}

/// A refusal answered as `InvalidIdentityToken` (400).
fn invalid_token(role_arn: &str, msg: String) -> StsPlan {
    StsPlan::refused(
        ACTION,
        role_arn,
        AwsError::new(400, "InvalidIdentityToken", msg),
    )
}

impl Decider<'_> {
    /// Plans `AssumeRoleWithWebIdentity` (unsigned), with who is logged as asking:
    /// `anonymous` until the token's provider is known, then the provider's ARN.
    pub async fn assume_role_with_web_identity(
        &self,
        params: &Params,
    ) -> Result<(StsPlan, String), AuthzError> {
        let role_arn = param(params, "RoleArn").unwrap_or("");
        let session_name = param(params, "RoleSessionName").unwrap_or("");
        let token = param(params, "WebIdentityToken").unwrap_or("");
        if role_arn.is_empty() || session_name.is_empty() || token.is_empty() {
            let msg = "RoleArn, RoleSessionName and WebIdentityToken are required";
            return Ok((StsPlan::invalid(ACTION, role_arn, msg), "anonymous".into()));
        }
        let Some(role_account) = arn::account(role_arn).filter(|a| arn::is_account_id(a)) else {
            let msg = format!("{role_arn} is invalid");
            return Ok((StsPlan::invalid(ACTION, role_arn, msg), "anonymous".into()));
        };
        let now = unix_now();
        let caller = match self
            .verify_token(role_arn, role_account, token, now)
            .await?
        {
            Ok(c) => c,
            Err(refusal) => return Ok(refusal),
        };
        let who = caller.provider.arn.clone();
        let trusted = match self
            .trust(&caller, role_arn, role_account, session_name)
            .await?
        {
            Ok(t) => t,
            Err(denial) => return Ok((denial, who)),
        };
        let role = &trusted.role;
        let duration = match role_session_duration(params, role, false) {
            Ok(d) => d,
            Err(e) => return Ok((StsPlan::refused(ACTION, &role.arn, e), who)),
        };
        let web_identity = WebIdentity {
            provider_arn: caller.provider.arn.clone(),
            subject: caller.token.subject.clone(),
            audience: caller.audience,
        };
        let session = Session {
            session_policy: param(params, "Policy").map(str::to_string),
            session_policy_arns: policy_arns(params),
            tags: trusted.tags,
            transitive_tag_keys: trusted.transitive_tag_keys,
            ..Session::assumed_role(&role.arn, &role.role_id, session_name, now, now + duration)
                .obtained_by(false, Some(web_identity))
        };
        Ok((
            StsPlan::Forward(trusted.verdict, Some(Box::new(session))),
            who,
        ))
    }

    /// Verifies `token` as AWS does for a role of `role_account`: a JWT with an
    /// allowed algorithm, an `https` issuer with an OIDC provider in that account, the
    /// issuer's keys, valid at `now`, an audience among the provider's client ids. A
    /// refusal carries who is logged as asking.
    async fn verify_token(
        &self,
        role_arn: &str,
        role_account: &str,
        token: &str,
        now: i64,
    ) -> Result<Result<VerifiedCaller, (StsPlan, String)>, AuthzError> {
        let invalid = |msg: String| invalid_token(role_arn, msg);
        let anonymous = |plan: StsPlan| Ok(Err((plan, "anonymous".to_string())));
        let unverified = match jwt::decode(token) {
            Ok(t) => t,
            Err(JwtError::ForbiddenAlgorithm(a)) => {
                return anonymous(invalid(format!(
                "The web identity token uses the signing algorithm '{a}', which is not supported"
            )))
            }
            Err(e) => {
                return anonymous(invalid(format!(
                    "The ID Token provided is not a valid JWT. ({e})"
                )))
            }
        };
        let Ok(issuer) = unverified.issuer().map(str::to_string) else {
            return anonymous(invalid("The ID Token provided lacks an 'iss' claim".into()));
        };
        let no_provider =
            || format!("No OpenIDConnect provider found in your account for {issuer}");
        if !issuer.starts_with("https://") || issuer.len() <= "https://".len() {
            return anonymous(invalid(no_provider()));
        }
        let Some(provider) = self.dir.oidc_provider(role_account, &issuer).await? else {
            return anonymous(invalid(no_provider()));
        };
        let from_provider = |plan: StsPlan| Ok(Err((plan, provider.arn.clone())));
        let Some(jwks) = self.issuers.get(&issuer) else {
            return from_provider(invalid("Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements".into()));
        };
        let token = match jwt::verify(&unverified, &jwks, now) {
            Ok(t) => t,
            Err(e @ JwtError::Expired { .. }) => {
                return from_provider(StsPlan::refused(
                    ACTION,
                    role_arn,
                    AwsError::new(400, "ExpiredTokenException", e.to_string()),
                ));
            }
            Err(JwtError::BadSignature | JwtError::NoMatchingKey(_)) => {
                return from_provider(invalid("The web identity token's signature could not be verified with the identity provider's keys".into()));
            }
            Err(e) => {
                return from_provider(invalid(format!("The ID Token provided is not valid: {e}")))
            }
        };
        let matched_aud = token
            .audiences
            .iter()
            .find(|a| provider.client_ids.iter().any(|c| c == *a))
            .cloned();
        let Some(audience) = matched_aud else {
            return from_provider(invalid("Incorrect token audience".into()));
        };
        Ok(Ok(VerifiedCaller {
            provider,
            issuer,
            token,
            audience,
        }))
    }

    /// Whether the trust policy of `role_arn` lets the verified token's provider in,
    /// with the token's claims and session tags as condition keys (`sts:TagSession`
    /// too when the token carries tags). AWS answers every refusal alike (403).
    async fn trust(
        &self,
        caller: &VerifiedCaller,
        role_arn: &str,
        role_account: &str,
        session_name: &str,
    ) -> Result<Result<Trusted, StsPlan>, AuthzError> {
        let not_authorized = || {
            let msg = "Not authorized to perform sts:AssumeRoleWithWebIdentity";
            AwsError::new(403, "AccessDenied", msg)
        };
        let Some(role) = self.dir.role_by_arn(role_arn).await? else {
            return Ok(Err(StsPlan::refused(ACTION, role_arn, not_authorized())));
        };
        let trust = self.policies.parse("trust policy", &role.trust_policy)?;
        let host_path = caller
            .issuer
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_string();
        let principal = iam::Principal::from_arn(&caller.provider.arn)
            .map_err(|e| AuthzError::Principal(e.to_string()))?;
        let token = &caller.token;
        let mut ctx = global_context(self.region, self.source_ip);
        ctx.insert(&format!("{host_path}:sub"), token.subject.as_str());
        ctx.insert(
            &format!("{host_path}:aud"),
            token
                .authorized_party
                .clone()
                .unwrap_or_else(|| caller.audience.clone()),
        );
        if let Some(amr) = token.claims.get("amr") {
            let values: Vec<String> = match amr {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                serde_json::Value::String(s) => vec![s.clone()],
                _ => vec![],
            };
            ctx.insert_many(&format!("{host_path}:amr"), values);
        }
        ctx.insert("sts:RoleSessionName", session_name);
        let (tags, transitive_tag_keys) = match token_session_tags(&token.claims) {
            Ok(t) => t,
            Err(e) => {
                let msg = format!("The ID Token provided is not valid: {e}");
                return Ok(Err(invalid_token(role_arn, msg)));
            }
        };
        insert_tag_keys(&mut ctx, &tags, &transitive_tag_keys);
        let mk = |act: &str| {
            iam::Request::new(principal.clone(), act, role.arn.as_str())
                .with_resource_account(role_account)
                .with_context(ctx.clone())
        };
        // Defence in depth: `oidc_provider` looked the issuer up in the role's account
        // only; the engine refuses a provider of any other account with AWS's error.
        if let Some(r) = iam::federated_refusal(&mk(ACTION)) {
            return Ok(Err(invalid_token(role_arn, r.message)));
        }
        let set = iam::PolicySet::new().with_resource_policy("trust policy", trust);
        let mut verdict = decide(&mk(ACTION), &set);
        // Tags in the token need the trust policy to allow sts:TagSession too.
        if verdict.allowed() && !tags.is_empty() {
            let t = decide(&mk("sts:TagSession"), &set);
            if t.allowed() {
                verdict.statements.extend(t.statements);
            } else {
                verdict = t;
            }
        }
        if !verdict.allowed() {
            let e = not_authorized();
            let message = format!("{} ({})", e.message, verdict.message);
            return Ok(Err(StsPlan::Deny(Verdict { message, ..verdict }, e)));
        }
        Ok(Ok(Trusted {
            role,
            verdict,
            tags,
            transitive_tag_keys,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(tags: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert(SESSION_TAGS_CLAIM.into(), tags);
        m
    }

    #[test]
    fn session_tags_from_the_token_claim() {
        let (tags, transitive) = token_session_tags(&claims(serde_json::json!({
            "principal_tags": {"team": ["blue"], "env": ["prod"]},
            "transitive_tag_keys": ["team"]})))
        .unwrap();
        assert_eq!(
            tags,
            vec![
                ("env".to_string(), "prod".to_string()),
                ("team".to_string(), "blue".to_string())
            ]
        );
        assert_eq!(transitive, vec!["team".to_string()]);
        assert_eq!(
            token_session_tags(&serde_json::Map::new()).unwrap(),
            (vec![], vec![])
        );
        let too_many: serde_json::Map<String, serde_json::Value> = (0..51)
            .map(|i| (format!("k{i}"), serde_json::json!(["v"])))
            .collect();
        for bad in [
            serde_json::json!(["team"]),
            serde_json::json!({"principal_tags": {"team": "blue"}}),
            serde_json::json!({"principal_tags": {"team": []}}),
            serde_json::json!({"principal_tags": {"team": ["a", "b"]}}),
            serde_json::json!({"principal_tags": {"team": [1]}}),
            serde_json::json!({"principal_tags": {"Team": ["a"], "team": ["b"]}}),
            serde_json::json!({"principal_tags": {"": ["a"]}}),
            serde_json::json!({"principal_tags": {"k": ["x".repeat(257)]}}),
            serde_json::json!({"principal_tags": {"team": ["a"]}, "transitive_tag_keys": ["env"]}),
            serde_json::json!({"principal_tags": {"team": ["a"]}, "transitive_tag_keys": "team"}),
            serde_json::json!({"principal_tags": too_many}),
        ] {
            assert!(token_session_tags(&claims(bad.clone())).is_err(), "{bad}");
        }
    }
}
