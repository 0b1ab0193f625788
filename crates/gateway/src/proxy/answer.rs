//! Answers that end a request without LocalStack, each with its decision record:
//! malformed requests, authentication failures, denials (fail closed when no decision
//! could be made) and JSON answers the gateway writes itself.

use http::{HeaderValue, Response, StatusCode};
use serde_json::Value;

use super::Ctx;
use crate::authorize::{AuthzError, Outcome, Verdict};
use crate::decision_log::DecisionRecord;
use crate::errors::{full_body, AuthFailure, AwsError, Body};
use crate::state::Shared;
use aws_wire::time::{format_rfc3339_millis, unix_now_millis};

impl Shared {
    /// Logs the decision on the request.
    pub(super) fn record(
        &self,
        ctx: &Ctx,
        principal: &str,
        verdict: &Verdict,
        error_code: Option<&str>,
        status: u16,
    ) {
        self.log.record(DecisionRecord {
            time: format_rfc3339_millis(unix_now_millis()),
            request_id: ctx.id.clone(),
            principal: principal.to_string(),
            action: verdict.action.clone(),
            resource: verdict.resource.clone(),
            decision: verdict.outcome.as_str().to_string(),
            error_code: error_code.map(str::to_string),
            reason: verdict.message.clone(),
            deciding_statements: verdict.statements.clone(),
            status,
            latency_us: ctx.start.elapsed().as_micros() as u64,
        });
    }

    /// Denies a request that could not be read (before anyone is authenticated).
    pub(super) fn reject_malformed(&self, ctx: &Ctx, msg: String) -> Response<Body> {
        let verdict = Verdict::deny("unknown", "*", msg.clone());
        self.reject(
            ctx,
            "anonymous",
            &verdict,
            &AwsError::malformed(msg, &ctx.protocol),
        )
    }

    /// Answers AWS's error and logs the decision.
    pub(super) fn reject(
        &self,
        ctx: &Ctx,
        principal: &str,
        verdict: &Verdict,
        err: &AwsError,
    ) -> Response<Body> {
        self.record(ctx, principal, verdict, Some(&err.code), err.status);
        err.render(&ctx.protocol, &ctx.id)
    }

    /// Answers an authentication failure as AWS does for the protocol.
    pub(super) fn auth_failure(
        &self,
        ctx: &Ctx,
        failure: AuthFailure,
        action: &str,
    ) -> Response<Body> {
        let err = AwsError::auth(&failure, &ctx.protocol);
        let principal = ctx
            .auth
            .as_ref()
            .map(|a| format!("accesskey:{}", a.access_key_id))
            .unwrap_or_else(|| "anonymous".into());
        let v = Verdict::outside_engine(
            Outcome::AuthenticationFailed,
            action,
            "*",
            err.message.clone(),
        );
        self.reject(ctx, &principal, &v, &err)
    }

    /// Denies what could not be decided (fail closed), or answers an authentication
    /// failure when the credentials no longer stand for anyone.
    pub(super) fn internal_denial(
        &self,
        ctx: &Ctx,
        principal: &str,
        action: &str,
        e: &AuthzError,
    ) -> Response<Body> {
        if let AuthzError::Credentials(f) = e {
            return self.auth_failure(ctx, f.clone(), action);
        }
        let msg = format!("User: {principal} is not authorized to perform: {action} because the gateway could not decide ({e}); denied, fail closed");
        let v = Verdict::deny(action, "*", msg.clone());
        self.reject(
            ctx,
            principal,
            &v,
            &AwsError::access_denied(msg, &ctx.protocol),
        )
    }

    /// Answers HTTP 200 with `body` in the AWS JSON protocol, without LocalStack.
    pub(super) fn answer_json(
        &self,
        ctx: &Ctx,
        principal: &str,
        verdict: &Verdict,
        body: Value,
    ) -> Response<Body> {
        self.record(ctx, principal, verdict, None, 200);
        let mut resp = Response::new(full_body(body.to_string()));
        resp.headers_mut().insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        if let Ok(v) = HeaderValue::from_str(&ctx.id) {
            resp.headers_mut().insert("x-amzn-requestid", v);
        }
        *resp.status_mut() = StatusCode::OK;
        resp
    }
}
