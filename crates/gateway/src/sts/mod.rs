//! STS: which action a query-protocol request asks for and what the pipeline does
//! with it (`dispatch`): `AssumeRole` (`assume_role`),
//! `AssumeRoleWithWebIdentity` (`web_identity`: token verification, trust decision,
//! session), `GetSessionToken`, `GetCallerIdentity`, and the completion of a session
//! with the credentials LocalStack issues. Role sessions of both `AssumeRole*` calls
//! are built by [`Session::assumed_role`] with [`role_session_duration`].

mod assume_role;
mod web_identity;

use std::sync::Arc;

use crate::authorize::{Caller, Decider, Verdict};
use crate::credentials::{Identity, Session, SessionKind};
use crate::directory::RoleInfo;
use crate::errors::{AwsError, Protocol};
use crate::step::{After, Relay, Step};
use aws_wire::query::{param, Params};
use aws_wire::time::unix_now;

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

/// What to do with an STS request.
#[derive(Debug)]
pub enum StsPlan {
    /// Relay; remember the issued credentials as this session when present (its
    /// `expires_at` the gateway's own bound, completed by [`complete_session`]).
    Forward(Verdict, Option<Box<Session>>),
    /// Answer with this error.
    Deny(Verdict, AwsError),
}

impl StsPlan {
    /// A denial of `action` on `resource` outside the policy engine, answered with
    /// `error` (whose message is logged).
    fn refused(action: &str, resource: &str, error: AwsError) -> Self {
        StsPlan::Deny(
            Verdict::deny(action, resource, error.message.clone()),
            error,
        )
    }

    /// A denial answered as STS's `ValidationError` (a parameter out of bounds).
    fn invalid(action: &str, resource: &str, message: impl Into<String>) -> Self {
        Self::refused(action, resource, AwsError::validation(message, &sts()))
    }

    /// The pipeline's step for this plan of `op` by `principal`.
    fn into_step(self, principal: String, op: &str) -> Step {
        match self {
            StsPlan::Deny(verdict, error) => Step::Deny {
                principal,
                verdict,
                error,
            },
            StsPlan::Forward(verdict, pending) => {
                let after = pending.map(After::Session).unwrap_or(After::Nothing);
                Relay::new(principal, verdict, "sts", op).then(after).into()
            }
        }
    }
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

/// The lifetime of a session of `role` asked for by `params` (`DurationSeconds`, one
/// hour by default): at most one hour when `chained`, at most the role's
/// `MaxSessionDuration`; STS's validation error otherwise.
fn role_session_duration(params: &Params, role: &RoleInfo, chained: bool) -> Result<i64, AwsError> {
    let duration = parse_duration(params, 3600)?;
    let limit = if chained && duration > 3600 {
        "the 1 hour session limit for roles assumed by role chaining"
    } else if duration > role.max_session_duration {
        "the MaxSessionDuration set for this role"
    } else {
        return Ok(duration);
    };
    let msg = format!("The requested DurationSeconds exceeds {limit}.");
    Err(AwsError::validation(msg, &sts()))
}

/// STS's dispatch: a [`Decider`] is everything an STS decision needs.
impl Decider<'_> {
    /// What to do with the STS action `op` signed by `caller`: actions that need no
    /// permission are relayed, `AssumeRole*` and `GetSessionToken` are planned, any
    /// other action is the account root's only (denied for anyone else: unmodelled).
    pub(crate) async fn dispatch(&self, caller: &Caller, op: &str, params: &Params) -> Step {
        let principal = caller.arn().to_string();
        let action = format!("sts:{op}");
        let plan = match op {
            "GetCallerIdentity" => StsPlan::Forward(
                Verdict::allow(&action, "*", "GetCallerIdentity needs no permission"),
                None,
            ),
            "AssumeRole" => match self.assume_role(caller, params).await {
                Ok(p) => p,
                Err(error) => {
                    return Step::Undecided {
                        principal,
                        action,
                        error,
                    }
                }
            },
            "AssumeRoleWithWebIdentity" => return self.web_identity(params).await,
            "GetSessionToken" => self.get_session_token(caller, params),
            _ if caller.identity.is_root() => StsPlan::Forward(
                Verdict::allow(&action, "*", "account root user on its own account"),
                None,
            ),
            _ => {
                let msg = format!("User: {principal} is not authorized to perform: {action} because the sma gateway does not model this STS action (denied, fail closed)");
                StsPlan::refused(&action, "*", AwsError::access_denied(msg, &sts()))
            }
        };
        plan.into_step(principal, op)
    }

    /// What to do with `AssumeRoleWithWebIdentity` (signed or not: the token is the
    /// credential).
    pub(crate) async fn web_identity(&self, params: &Params) -> Step {
        match self.assume_role_with_web_identity(params).await {
            Err(error) => Step::Undecided {
                principal: "anonymous".into(),
                action: "sts:AssumeRoleWithWebIdentity".into(),
                error,
            },
            Ok((plan, who)) => plan.into_step(who, "AssumeRoleWithWebIdentity"),
        }
    }

    /// Plans `GetSessionToken`.
    pub fn get_session_token(&self, caller: &Caller, params: &Params) -> StsPlan {
        let action = "sts:GetSessionToken";
        if matches!(caller.identity, Identity::Session(_)) {
            let msg = "Cannot call GetSessionToken with session credentials";
            return StsPlan::refused(action, "*", AwsError::access_denied(msg, &sts()));
        }
        let (default, max) = if caller.identity.is_root() {
            (3600, 3600)
        } else {
            (43_200, 129_600)
        };
        let duration = match parse_duration(params, default) {
            Ok(d) => d.min(max),
            Err(e) => return StsPlan::refused(action, "*", e),
        };
        let now = unix_now();
        let session = Session::session_token(caller.identity.clone(), now, now + duration);
        let v = Verdict::allow(action, "*", "GetSessionToken needs no permission");
        StsPlan::Forward(v, Some(Box::new(session)))
    }
}

/// Completes a session planned before relaying with what LocalStack issued.
pub fn complete_session(
    mut s: Session,
    issued: &aws_wire::sts_answer::IssuedCredentials,
) -> Arc<Session> {
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

    #[test]
    fn role_sessions_last_an_hour_by_default_at_most_the_role_maximum_and_one_hour_chained() {
        let role = RoleInfo {
            arn: "arn:aws:iam::111122223333:role/r".into(),
            role_id: "AROAEXAMPLE".into(),
            tags: vec![],
            boundary: None,
            trust_policy: String::new(),
            max_session_duration: 7200,
            policies: vec![],
        };
        let asked = |d: &str| -> Params { vec![("DurationSeconds".into(), d.into())] };
        assert_eq!(role_session_duration(&vec![], &role, false), Ok(3600));
        assert_eq!(
            role_session_duration(&asked("7200"), &role, false),
            Ok(7200)
        );
        assert_eq!(role_session_duration(&asked("3600"), &role, true), Ok(3600));
        for (params, chained, limit) in [
            (
                asked("7201"),
                false,
                "the MaxSessionDuration set for this role",
            ),
            (
                asked("3601"),
                true,
                "the 1 hour session limit for roles assumed by role chaining",
            ),
        ] {
            let e = role_session_duration(&params, &role, chained).unwrap_err();
            assert_eq!(e.code, "ValidationError");
            assert_eq!(
                e.message,
                format!("The requested DurationSeconds exceeds {limit}.")
            );
        }
        let e = role_session_duration(&asked("899"), &role, false).unwrap_err();
        assert!(
            e.message.contains("greater than or equal to 900"),
            "{}",
            e.message
        );
    }
}
