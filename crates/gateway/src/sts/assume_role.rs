//! `AssumeRole`: the caller's identity policies and the role's trust policy
//! (`sts:ExternalId`, `sts:RoleSessionName`, `sts:SourceIdentity`, session tags), then
//! `sts:TagSession` and `sts:SetSourceIdentity` when asked for, the chaining limits,
//! and the session (transitive tags and source identity carried along a chain).

use super::{insert_tag_keys, role_session_duration, sts, StsPlan};
use crate::authorize::{decide, global_context, AuthzError, Caller, Decider, Verdict};
use crate::credentials::{Identity, Session, SessionKind};
use crate::errors::AwsError;
use aws_wire::arn;
use aws_wire::query::{member_list, param, policy_arns, tag_list, Params};
use aws_wire::time::unix_now;

impl Decider<'_> {
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
            return Ok(StsPlan::invalid(
                action,
                role_arn,
                "RoleArn and RoleSessionName are required",
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
        if !verdict.allowed() {
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
            if !t.allowed() {
                return Ok(deny_with(t));
            }
            verdict.statements.extend(t.statements);
        }
        if param(params, "SourceIdentity").is_some() {
            let t = decide(&mk("sts:SetSourceIdentity"), &set);
            if !t.allowed() {
                return Ok(deny_with(t));
            }
            verdict.statements.extend(t.statements);
        }
        let duration = match role_session_duration(params, &role, chained_from.is_some()) {
            Ok(d) => d,
            Err(e) => return Ok(StsPlan::refused(action, &role.arn, e)),
        };
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
        let session = Session {
            session_policy: param(params, "Policy").map(str::to_string),
            session_policy_arns: policy_arns(params),
            tags,
            transitive_tag_keys: transitive,
            source_identity: param(params, "SourceIdentity")
                .map(str::to_string)
                .or_else(|| {
                    chained_from
                        .as_ref()
                        .and_then(|s| s.source_identity.clone())
                }),
            ..Session::assumed_role(&role.arn, &role.role_id, session_name, now, now + duration)
                .obtained_by(chained_from.is_some(), None)
        };
        Ok(StsPlan::Forward(verdict, Some(Box::new(session))))
    }
}
