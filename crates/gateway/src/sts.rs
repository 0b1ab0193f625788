//! STS: `AssumeRole` (identity policy + trust policy, `sts:ExternalId`,
//! `sts:TagSession`, `sts:SetSourceIdentity`, chaining limits),
//! `AssumeRoleWithWebIdentity` (token checks as AWS does them, then the trust policy
//! with `<issuer>:sub` / `<issuer>:aud`), `GetSessionToken`, `GetCallerIdentity`, and
//! the capture of the credentials LocalStack issues.

use std::sync::Arc;

use crate::authorize::{decide, global_context, AuthzError, Caller, PolicyCache, Verdict};
use crate::credentials::{Identity, Session, SessionKind, WebIdentity};
use crate::directory::Directory;
use crate::errors::{AwsError, Protocol};
use crate::issuers::IssuerRegistry;
use aws_wire::arn;
use aws_wire::jwt::{self, JwtError};
use aws_wire::time::unix_now;

/// Query parameters of a request (ordered, as received).
pub type Params = Vec<(String, String)>;

/// The value of a parameter.
pub fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `Prefix.member.N` values in index order.
pub fn member_list(params: &Params, prefix: &str) -> Vec<String> {
    let mut items: Vec<(u32, String)> = params
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix(prefix)?.strip_prefix(".member.")?;
            Some((rest.parse().ok()?, v.clone()))
        })
        .collect();
    items.sort_by_key(|(i, _)| *i);
    items.into_iter().map(|(_, v)| v).collect()
}

/// `Tags.member.N.Key` / `.Value` pairs in index order.
pub fn tag_list(params: &Params) -> Vec<(String, String)> {
    let mut by_index: std::collections::BTreeMap<u32, (Option<String>, Option<String>)> =
        Default::default();
    for (k, v) in params {
        let Some(rest) = k.strip_prefix("Tags.member.") else {
            continue;
        };
        let Some((i, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(i) = i.parse::<u32>() else { continue };
        let e = by_index.entry(i).or_default();
        match field {
            "Key" => e.0 = Some(v.clone()),
            "Value" => e.1 = Some(v.clone()),
            _ => {}
        }
    }
    by_index
        .into_values()
        .filter_map(|(k, v)| Some((k?, v.unwrap_or_default())))
        .collect()
}

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

/// The condition keys of session tags passed to an `AssumeRole*` call:
/// `aws:RequestTag/<key>`, `aws:TagKeys` and `sts:TransitiveTagKeys`.
fn insert_tag_keys(ctx: &mut iam::Context, tags: &[(String, String)], transitive: &[String]) {
    if !tags.is_empty() {
        for (k, v) in tags {
            ctx.insert(&format!("aws:RequestTag/{k}"), v.as_str());
        }
        ctx.insert_many("aws:TagKeys", tags.iter().map(|(k, _)| k.clone()));
    }
    if !transitive.is_empty() {
        ctx.insert_many("sts:TransitiveTagKeys", transitive.to_vec());
    }
}

fn sts() -> Protocol {
    Protocol::Query("sts".into())
}

/// A session to remember once LocalStack has issued its credentials.
#[derive(Debug, Clone)]
pub struct PendingSession {
    /// The session, with `expires_at` the gateway's own bound.
    pub session: Session,
}

/// What to do with an STS request.
#[derive(Debug)]
pub enum StsPlan {
    /// Relay; remember the issued credentials as `session` when present.
    Forward(Verdict, Option<Box<PendingSession>>),
    /// Answer with this error.
    Deny(Verdict, AwsError),
}

fn parse_duration(params: &Params, default: i64) -> Result<i64, AwsError> {
    match param(params, "DurationSeconds") {
        None => Ok(default),
        Some(s) => {
            let d: i64 = s.parse().map_err(|_| AwsError::validation(format!("Value '{s}' at 'durationSeconds' failed to satisfy constraint: Member must be a number"), &sts()))?;
            if !(900..=129_600).contains(&d) {
                return Err(AwsError::validation(format!("1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"), &sts()));
            }
            Ok(d)
        }
    }
}

/// Everything an STS decision needs.
pub struct StsContext<'a> {
    /// IAM state.
    pub dir: &'a Directory,
    /// Parsed policies.
    pub policies: &'a PolicyCache,
    /// Configured OIDC issuers.
    pub issuers: &'a IssuerRegistry,
    /// Signing region of the request.
    pub region: &'a str,
    /// Client address.
    pub source_ip: &'a str,
}

impl StsContext<'_> {
    /// Plans `AssumeRole` for `caller`.
    pub async fn assume_role(
        &self,
        caller: &Caller,
        params: &Params,
    ) -> Result<StsPlan, AuthzError> {
        let role_arn = param(params, "RoleArn").unwrap_or("");
        let session_name = param(params, "RoleSessionName").unwrap_or("");
        let action = "sts:AssumeRole";
        let deny_with = |v: Verdict| {
            let e = AwsError::access_denied(v.message.clone(), &sts());
            StsPlan::Deny(v, e)
        };
        if role_arn.is_empty() || session_name.is_empty() {
            let v = Verdict::deny(action, role_arn, "RoleArn and RoleSessionName are required");
            return Ok(StsPlan::Deny(
                v,
                AwsError::validation("RoleArn and RoleSessionName are required", &sts()),
            ));
        }
        if caller.identity.is_root() {
            return Ok(deny_with(Verdict::deny(
                action,
                role_arn,
                "Roles may not be assumed by root accounts.",
            )));
        }
        let not_authorized = format!(
            "User: {} is not authorized to perform: {action} on resource: {role_arn}",
            caller.arn()
        );
        let Some(role) = self.dir.role_by_arn(role_arn).await? else {
            return Ok(deny_with(Verdict::deny(action, role_arn, not_authorized)));
        };
        let role_account = arn::account(&role.arn).unwrap_or("").to_string();
        let trust = self.policies.parse("trust policy", &role.trust_policy)?;

        let chained_from = match &caller.identity {
            Identity::Session(s) if matches!(s.kind, SessionKind::AssumedRole { .. }) => {
                Some(s.clone())
            }
            _ => None,
        };
        let request_tags = tag_list(params);
        let transitive_keys = member_list(params, "TransitiveTagKeys");
        let mut ctx = global_context(self.region, self.source_ip);
        if let Some(x) = param(params, "ExternalId") {
            ctx.insert("sts:ExternalId", x);
        }
        ctx.insert("sts:RoleSessionName", session_name);
        if let Some(si) = param(params, "SourceIdentity") {
            ctx.insert("sts:SourceIdentity", si);
        }
        insert_tag_keys(&mut ctx, &request_tags, &transitive_keys);
        let set = caller.policy_set(Some(("trust policy", trust)));
        let mk = |act: &str| {
            iam::Request::new(caller.principal.clone(), act, role.arn.as_str())
                .with_resource_account(role_account.as_str())
                .with_context(ctx.clone())
        };
        let mut verdict = decide(&mk(action), &set);
        if !verdict.allowed {
            return Ok(deny_with(verdict));
        }
        let inherited_transitive: Vec<(String, String)> = chained_from
            .as_ref()
            .map(|s| {
                s.tags
                    .iter()
                    .filter(|(k, _)| {
                        s.transitive_tag_keys
                            .iter()
                            .any(|t| t.eq_ignore_ascii_case(k))
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if !request_tags.is_empty() || !inherited_transitive.is_empty() {
            let t = decide(&mk("sts:TagSession"), &set);
            if !t.allowed {
                return Ok(deny_with(t));
            }
            verdict.statements.extend(t.statements);
        }
        if param(params, "SourceIdentity").is_some() {
            let t = decide(&mk("sts:SetSourceIdentity"), &set);
            if !t.allowed {
                return Ok(deny_with(t));
            }
            verdict.statements.extend(t.statements);
        }
        let duration = match parse_duration(params, 3600) {
            Ok(d) => d,
            Err(e) => {
                return Ok(StsPlan::Deny(
                    Verdict::deny(action, &role.arn, e.message.clone()),
                    e,
                ))
            }
        };
        if chained_from.is_some() && duration > 3600 {
            let msg = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.";
            return Ok(StsPlan::Deny(
                Verdict::deny(action, &role.arn, msg),
                AwsError::validation(msg, &sts()),
            ));
        }
        if duration > role.max_session_duration {
            let msg =
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.";
            return Ok(StsPlan::Deny(
                Verdict::deny(action, &role.arn, msg),
                AwsError::validation(msg, &sts()),
            ));
        }
        let mut tags = inherited_transitive;
        for (k, v) in request_tags {
            tags.retain(|(tk, _)| !tk.eq_ignore_ascii_case(&k));
            tags.push((k, v));
        }
        let mut transitive = transitive_keys;
        if let Some(s) = &chained_from {
            transitive.extend(s.transitive_tag_keys.iter().cloned());
        }
        let now = unix_now();
        let role_name = arn::resource_name(&role.arn, "role")
            .unwrap_or("")
            .to_string();
        let session = Session {
            account: role_account.clone(),
            kind: SessionKind::AssumedRole {
                role_arn: role.arn.clone(),
                assumed_role_arn: format!(
                    "arn:aws:sts::{role_account}:assumed-role/{role_name}/{session_name}"
                ),
                role_name,
                session_name: session_name.to_string(),
                // Pinned to the role read for this decision (LocalStack's answer may
                // carry another id: moto invents one when its lookup misses).
                assumed_role_id: format!("{}:{session_name}", role.role_id),
                chained: chained_from.is_some(),
                web_identity: None,
            },
            session_policy: param(params, "Policy").map(str::to_string),
            session_policy_arns: member_list_arns(params),
            tags,
            transitive_tag_keys: transitive,
            source_identity: param(params, "SourceIdentity")
                .map(str::to_string)
                .or_else(|| {
                    chained_from
                        .as_ref()
                        .and_then(|s| s.source_identity.clone())
                }),
            issued_at: now,
            expires_at: now + duration,
        };
        Ok(StsPlan::Forward(
            verdict,
            Some(Box::new(PendingSession { session })),
        ))
    }

    /// Plans `AssumeRoleWithWebIdentity` (unsigned).
    pub async fn assume_role_with_web_identity(
        &self,
        params: &Params,
    ) -> Result<(StsPlan, String), AuthzError> {
        let action = "sts:AssumeRoleWithWebIdentity";
        let role_arn = param(params, "RoleArn").unwrap_or("");
        let session_name = param(params, "RoleSessionName").unwrap_or("");
        let token = param(params, "WebIdentityToken").unwrap_or("");
        let invalid = |msg: String| {
            let e = AwsError::new(400, "InvalidIdentityToken", msg.clone());
            StsPlan::Deny(Verdict::deny(action, role_arn, msg), e)
        };
        if role_arn.is_empty() || session_name.is_empty() || token.is_empty() {
            let msg = "RoleArn, RoleSessionName and WebIdentityToken are required";
            return Ok((
                StsPlan::Deny(
                    Verdict::deny(action, role_arn, msg),
                    AwsError::validation(msg, &sts()),
                ),
                "anonymous".into(),
            ));
        }
        let Some(role_account) = arn::account(role_arn).filter(|a| arn::is_account_id(a)) else {
            let msg = format!("{role_arn} is invalid");
            return Ok((
                StsPlan::Deny(
                    Verdict::deny(action, role_arn, msg.clone()),
                    AwsError::validation(msg, &sts()),
                ),
                "anonymous".into(),
            ));
        };
        let unverified = match jwt::decode(token) {
            Ok(t) => t,
            Err(JwtError::ForbiddenAlgorithm(a)) => return Ok((invalid(format!("The web identity token uses the signing algorithm '{a}', which is not supported")), "anonymous".into())),
            Err(e) => return Ok((invalid(format!("The ID Token provided is not a valid JWT. ({e})")), "anonymous".into())),
        };
        let Ok(issuer) = unverified.issuer().map(str::to_string) else {
            return Ok((
                invalid("The ID Token provided lacks an 'iss' claim".into()),
                "anonymous".into(),
            ));
        };
        if !issuer.starts_with("https://") || issuer.len() <= "https://".len() {
            return Ok((
                invalid(format!(
                    "No OpenIDConnect provider found in your account for {issuer}"
                )),
                "anonymous".into(),
            ));
        }
        let Some(provider) = self.dir.oidc_provider(role_account, &issuer).await? else {
            return Ok((
                invalid(format!(
                    "No OpenIDConnect provider found in your account for {issuer}"
                )),
                "anonymous".into(),
            ));
        };
        let who = provider.arn.clone();
        let Some(jwks) = self.issuers.get(&issuer) else {
            return Ok((invalid("Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements".into()), who));
        };
        let now = unix_now();
        let token = match jwt::verify(&unverified, &jwks, now) {
            Ok(t) => t,
            Err(e @ JwtError::Expired { .. }) => {
                let msg = e.to_string();
                return Ok((
                    StsPlan::Deny(
                        Verdict::deny(action, role_arn, msg.clone()),
                        AwsError::new(400, "ExpiredTokenException", msg),
                    ),
                    who,
                ));
            }
            Err(JwtError::BadSignature | JwtError::NoMatchingKey(_)) => {
                return Ok((invalid("The web identity token's signature could not be verified with the identity provider's keys".into()), who));
            }
            Err(e) => {
                return Ok((
                    invalid(format!("The ID Token provided is not valid: {e}")),
                    who,
                ))
            }
        };
        let matched_aud = token
            .audiences
            .iter()
            .find(|a| provider.client_ids.iter().any(|c| c == *a))
            .cloned();
        let Some(aud) = matched_aud else {
            return Ok((invalid("Incorrect token audience".into()), who));
        };
        let not_authorized = || {
            let msg = "Not authorized to perform sts:AssumeRoleWithWebIdentity".to_string();
            let e = AwsError::new(403, "AccessDenied", msg.clone());
            (msg, e)
        };
        let Some(role) = self.dir.role_by_arn(role_arn).await? else {
            let (msg, e) = not_authorized();
            return Ok((StsPlan::Deny(Verdict::deny(action, role_arn, msg), e), who));
        };
        let trust = self.policies.parse("trust policy", &role.trust_policy)?;
        let host_path = issuer
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_string();
        let principal = iam::Principal::from_arn(&provider.arn)
            .map_err(|e| AuthzError::Principal(e.to_string()))?;
        let mut ctx = global_context(self.region, self.source_ip);
        ctx.insert(&format!("{host_path}:sub"), token.subject.as_str());
        ctx.insert(
            &format!("{host_path}:aud"),
            token
                .authorized_party
                .clone()
                .unwrap_or_else(|| aud.clone()),
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
        let (session_tags, transitive_keys) = match token_session_tags(&token.claims) {
            Ok(t) => t,
            Err(e) => {
                return Ok((
                    invalid(format!("The ID Token provided is not valid: {e}")),
                    who,
                ))
            }
        };
        insert_tag_keys(&mut ctx, &session_tags, &transitive_keys);
        let mk = |act: &str| {
            iam::Request::new(principal.clone(), act, role.arn.as_str())
                .with_resource_account(role_account)
                .with_context(ctx.clone())
        };
        // Defence in depth: `oidc_provider` looked the issuer up in the role's account
        // only; the engine refuses a provider of any other account with AWS's error.
        if let Some(r) = iam::federated_refusal(&mk(action)) {
            return Ok((invalid(r.message), who));
        }
        let set = iam::PolicySet::new().with_resource_policy("trust policy", trust);
        let mut verdict = decide(&mk(action), &set);
        // Tags in the token need the trust policy to allow sts:TagSession too.
        if verdict.allowed && !session_tags.is_empty() {
            let t = decide(&mk("sts:TagSession"), &set);
            if t.allowed {
                verdict.statements.extend(t.statements);
            } else {
                verdict = t;
            }
        }
        if !verdict.allowed {
            let (msg, e) = not_authorized();
            return Ok((
                StsPlan::Deny(
                    Verdict {
                        message: format!("{msg} ({})", verdict.message),
                        ..verdict
                    },
                    e,
                ),
                who,
            ));
        }
        let duration = match parse_duration(params, 3600) {
            Ok(d) => d,
            Err(e) => {
                return Ok((
                    StsPlan::Deny(Verdict::deny(action, &role.arn, e.message.clone()), e),
                    who,
                ))
            }
        };
        if duration > role.max_session_duration {
            let msg =
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.";
            return Ok((
                StsPlan::Deny(
                    Verdict::deny(action, &role.arn, msg),
                    AwsError::validation(msg, &sts()),
                ),
                who,
            ));
        }
        let role_name = arn::resource_name(&role.arn, "role")
            .unwrap_or("")
            .to_string();
        let session = Session {
            account: role_account.to_string(),
            kind: SessionKind::AssumedRole {
                role_arn: role.arn.clone(),
                assumed_role_arn: format!(
                    "arn:aws:sts::{role_account}:assumed-role/{role_name}/{session_name}"
                ),
                role_name,
                session_name: session_name.to_string(),
                // Pinned to the role read for this decision (LocalStack's answer may
                // carry another id: moto invents one when its lookup misses).
                assumed_role_id: format!("{}:{session_name}", role.role_id),
                chained: false,
                web_identity: Some(WebIdentity {
                    provider_arn: provider.arn.clone(),
                    subject: token.subject.clone(),
                    audience: aud,
                }),
            },
            session_policy: param(params, "Policy").map(str::to_string),
            session_policy_arns: member_list_arns(params),
            tags: session_tags,
            transitive_tag_keys: transitive_keys,
            source_identity: None,
            issued_at: now,
            expires_at: now + duration,
        };
        Ok((
            StsPlan::Forward(verdict, Some(Box::new(PendingSession { session }))),
            who,
        ))
    }

    /// Plans `GetSessionToken`.
    pub fn get_session_token(&self, caller: &Caller, params: &Params) -> StsPlan {
        let action = "sts:GetSessionToken";
        if matches!(caller.identity, Identity::Session(_)) {
            let msg = "Cannot call GetSessionToken with session credentials";
            return StsPlan::Deny(
                Verdict::deny(action, "*", msg),
                AwsError::access_denied(msg, &sts()),
            );
        }
        let (default, max) = if caller.identity.is_root() {
            (3600, 3600)
        } else {
            (43_200, 129_600)
        };
        let duration = match parse_duration(params, default) {
            Ok(d) => d.min(max),
            Err(e) => return StsPlan::Deny(Verdict::deny(action, "*", e.message.clone()), e),
        };
        let now = unix_now();
        let session = Session {
            account: caller.account().to_string(),
            kind: SessionKind::SessionToken {
                base: Box::new(caller.identity.clone()),
            },
            session_policy: None,
            session_policy_arns: vec![],
            tags: vec![],
            transitive_tag_keys: vec![],
            source_identity: None,
            issued_at: now,
            expires_at: now + duration,
        };
        let v = Verdict {
            allowed: true,
            decision: "Allow",
            message: "GetSessionToken needs no permission".into(),
            statements: vec![],
            action: action.into(),
            resource: "*".into(),
        };
        StsPlan::Forward(v, Some(Box::new(PendingSession { session })))
    }
}

fn member_list_arns(params: &Params) -> Vec<String> {
    let mut items: Vec<(u32, String)> = params
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix("PolicyArns.member.")?;
            let (i, field) = rest.split_once('.')?;
            (field == "arn").then(|| Some((i.parse().ok()?, v.clone())))?
        })
        .collect();
    items.sort_by_key(|(i, _)| *i);
    items.into_iter().map(|(_, v)| v).collect()
}

/// Completes a pending session with what LocalStack issued.
pub fn complete_session(
    pending: PendingSession,
    issued: &aws_wire::sts_answer::IssuedCredentials,
) -> Arc<Session> {
    let mut s = pending.session;
    if let Some(exp) = issued.expiration {
        s.expires_at = s.expires_at.min(exp.max(s.issued_at));
    }
    if let SessionKind::AssumedRole {
        assumed_role_id,
        assumed_role_arn,
        ..
    } = &mut s.kind
    {
        if assumed_role_id.is_empty() {
            if let Some(id) = &issued.assumed_role_id {
                *assumed_role_id = id.clone();
            }
        }
        if let Some(arn) = &issued.assumed_role_arn {
            if !arn.is_empty() {
                *assumed_role_arn = arn.clone();
            }
        }
    }
    Arc::new(s)
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

    #[test]
    fn params() {
        let p: Params = vec![
            ("Tags.member.2.Key".into(), "b".into()),
            ("Tags.member.2.Value".into(), "2".into()),
            ("Tags.member.1.Key".into(), "a".into()),
            ("Tags.member.1.Value".into(), "1".into()),
            ("TransitiveTagKeys.member.1".into(), "a".into()),
            (
                "PolicyArns.member.1.arn".into(),
                "arn:aws:iam::aws:policy/X".into(),
            ),
        ];
        assert_eq!(
            tag_list(&p),
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(member_list(&p, "TransitiveTagKeys"), vec!["a".to_string()]);
        assert_eq!(
            member_list_arns(&p),
            vec!["arn:aws:iam::aws:policy/X".to_string()]
        );
    }
}
