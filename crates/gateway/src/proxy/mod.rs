//! The request pipeline: read (bounded) → authenticate → read the operation
//! (`request`) → decide through the service's dispatch (`sts`, `secretsmanager`, the
//! root's requests) → carry out the [`Step`]: relay to LocalStack (`relay`: streaming
//! the answer, capturing credentials, invalidating cached state) or answer (`answer`)
//! → log the decision.

mod answer;
mod relay;
mod request;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, Uri};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use crate::authorize::{Decider, Verdict};
use crate::errors::{AuthFailure, AwsError, Body, Protocol};
use crate::request_id::request_id;
use crate::secretsmanager::SmContext;
use crate::state::Shared;
use crate::step::{After, Relay, Step};
use aws_wire::query::param;
use aws_wire::sigv4::{self, SigV4Auth};
use aws_wire::time::unix_now;
use request::{duplicate_header, operation, protocol_guess, query_params, Operation};

/// One request in flight.
struct Ctx {
    id: String,
    start: Instant,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    source_ip: String,
    protocol: Protocol,
    auth: Option<SigV4Auth>,
}

/// Reads the request (bounded in size and time), then [`process`]es it.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Body>, std::convert::Infallible> {
    let start = Instant::now();
    let id = request_id();
    let (parts, incoming) = req.into_parts();
    let protocol = protocol_guess(&parts.headers, None);
    let body = match tokio::time::timeout(
        std::time::Duration::from_secs(60),
        Limited::new(incoming, shared.max_body).collect(),
    )
    .await
    {
        Ok(Ok(c)) => c.to_bytes(),
        Ok(Err(e)) => {
            let too_big = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let (status, code, msg) = if too_big {
                (
                    413,
                    "RequestEntityTooLargeException",
                    format!(
                        "Request body exceeds the gateway limit of {} bytes",
                        shared.max_body
                    ),
                )
            } else {
                (
                    400,
                    "MalformedHttpRequestException",
                    "The request body could not be read".to_string(),
                )
            };
            return Ok(AwsError::new(status, code, msg).render(&protocol, &id));
        }
        Err(_) => {
            return Ok(AwsError::new(
                408,
                "RequestTimeout",
                "The request body was not received in time",
            )
            .render(&protocol, &id))
        }
    };
    let mut ctx = Ctx {
        id,
        start,
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
        source_ip: peer.ip().to_string(),
        protocol,
        auth: None,
    };
    Ok(process(&shared, &mut ctx).await)
}

/// Authenticates, reads the operation, decides it (through the service's dispatch)
/// and carries out the step.
async fn process(shared: &Shared, ctx: &mut Ctx) -> Response<Body> {
    if ctx.method == Method::GET && ctx.uri.path() == "/_localstack/health" {
        let v = Verdict::allow("localstack:Health", "*", "LocalStack health check");
        let relay = Relay::new("anonymous", v, "localstack", "Health").with_body(Bytes::new());
        return shared.relay(ctx, relay).await;
    }
    if let Some(name) = duplicate_header(&ctx.headers) {
        let msg = format!("the {name} header appears more than once (denied, fail closed)");
        return shared.reject_malformed(ctx, msg);
    }
    let auth = match sigv4::parse(&ctx.uri, &ctx.headers) {
        Ok(a) => a,
        Err(e) => {
            ctx.protocol = protocol_guess(&ctx.headers, None);
            return shared.auth_failure(ctx, AuthFailure::Incomplete(e.to_string()), "unknown");
        }
    };
    ctx.protocol = protocol_guess(&ctx.headers, auth.as_ref());
    ctx.auth = auth;
    let Some(auth) = ctx.auth.clone() else {
        return unsigned(shared, ctx).await;
    };
    let identity = match shared.creds.authenticate(
        &auth,
        &ctx.method,
        &ctx.uri,
        &ctx.headers,
        &ctx.body,
        unix_now(),
    ) {
        Ok(i) => i,
        Err(f) => return shared.auth_failure(ctx, f, &format!("{}:*", auth.service)),
    };
    let service = auth.service.clone();
    let op = match operation(ctx, &service) {
        Ok(op) => op,
        Err(msg) => {
            let err = AwsError::malformed(msg.clone(), &ctx.protocol);
            let v = Verdict::deny(&format!("{service}:*"), "*", msg);
            return shared.reject(ctx, &identity.fallback_arn(), &v, &err);
        }
    };
    let action = format!(
        "{service}:{}",
        if op.name().is_empty() { "*" } else { op.name() }
    );
    let decider = shared.decider(&auth.region, &ctx.source_ip);
    let caller = match decider.caller(&identity, Some(&auth.access_key_id)).await {
        Ok(c) => c,
        Err(e) => return shared.internal_denial(ctx, &identity.fallback_arn(), &action, &e),
    };
    let principal = caller.arn().to_string();
    let non_root_path = ctx.uri.path() != "/";
    if non_root_path && !caller.identity.is_root() {
        let msg = format!("User: {principal} is not authorized to perform: {action} on resource: {} because the sma gateway only relays AWS JSON and query APIs at '/' for non-root principals (denied, fail closed)", ctx.uri.path());
        let v = Verdict::deny(&action, ctx.uri.path(), msg.clone());
        return shared.reject(
            ctx,
            &principal,
            &v,
            &AwsError::access_denied(msg, &ctx.protocol),
        );
    }
    let step = match (service.as_str(), &op) {
        ("secretsmanager", Operation::Json { op, params }) => {
            let sm = SmContext {
                scope: decider,
                caller: &caller,
            };
            sm.dispatch(op, params).await
        }
        ("sts", Operation::Query { op, params }) => decider.dispatch(&caller, op, params).await,
        _ if caller.identity.is_root() => {
            let v = Verdict::allow(&action, "*", "account root user on its own account");
            let after = root_after(&service, &op, caller.account());
            Relay::new(principal, v, service.as_str(), op.name())
                .then(after)
                .into()
        }
        _ => {
            let msg = format!(
                "User: {principal} is not authorized to perform: {action} because the sma gateway does not model {} for non-root principals (only Secrets Manager and STS are modelled; denied, fail closed)",
                if op.name().is_empty() { format!("requests to {service} without an action") } else { format!("the {service} service") }
            );
            Step::Deny {
                verdict: Verdict::deny(&action, "*", msg.clone()),
                error: AwsError::access_denied(msg, &ctx.protocol),
                principal,
            }
        }
    };
    shared.execute(ctx, step).await
}

impl Shared {
    /// What the decisions of a request signed for `region` from `source_ip` read.
    fn decider<'a>(&'a self, region: &'a str, source_ip: &'a str) -> Decider<'a> {
        Decider {
            dir: &self.dir,
            policies: &self.policies,
            issuers: &self.issuers,
            region,
            source_ip,
        }
    }

    /// Carries out what the dispatch decided.
    async fn execute(&self, ctx: &Ctx, step: Step) -> Response<Body> {
        match step {
            Step::Relay(relay) => self.relay(ctx, relay).await,
            Step::Answer {
                principal,
                verdict,
                body,
            } => self.answer_json(ctx, &principal, &verdict, body),
            Step::Deny {
                principal,
                verdict,
                error,
            } => self.reject(ctx, &principal, &verdict, &error),
            Step::Undecided {
                principal,
                action,
                error,
            } => self.internal_denial(ctx, &principal, &action, &error),
        }
    }
}

/// What a root request to IAM changes in the credential store once LocalStack has
/// done it.
fn root_after(service: &str, op: &Operation, account: &str) -> After {
    let Operation::Query { op, params } = op else {
        return After::Nothing;
    };
    if service != "iam" {
        return After::Nothing;
    }
    match op.as_str() {
        "CreateAccessKey" => After::CaptureAccessKey {
            account: account.to_string(),
        },
        "DeleteAccessKey" => param(params, "AccessKeyId")
            .map(|k| After::RemoveKey(k.to_string()))
            .unwrap_or(After::Nothing),
        "UpdateAccessKey" => match (param(params, "AccessKeyId"), param(params, "Status")) {
            (Some(k), Some(s)) => After::SetKeyActive(k.to_string(), s == "Active"),
            _ => After::Nothing,
        },
        "DeleteUser" => param(params, "UserName")
            .map(|u| After::RemoveUser {
                account: account.to_string(),
                user: u.to_string(),
            })
            .unwrap_or(After::Nothing),
        _ => After::Nothing,
    }
}

/// A request without SigV4: only `AssumeRoleWithWebIdentity` (the token is the
/// credential); anything else lacks its authentication token.
async fn unsigned(shared: &Shared, ctx: &mut Ctx) -> Response<Body> {
    let params = if ctx.headers.contains_key("x-amz-target") {
        Ok(Vec::new())
    } else {
        query_params(ctx)
    };
    let params = match params {
        Ok(p) => p,
        Err(msg) => {
            return shared.reject_malformed(ctx, msg);
        }
    };
    match param(&params, "Action") {
        Some("AssumeRoleWithWebIdentity") if ctx.uri.path() == "/" => {
            ctx.protocol = Protocol::Query("sts".into());
            // Unsigned: no signing scope; STS's global endpoint is us-east-1.
            let step = shared
                .decider("us-east-1", &ctx.source_ip)
                .web_identity(&params)
                .await;
            shared.execute(ctx, step).await
        }
        action => {
            let action = action
                .map(|a| format!("unknown:{a}"))
                .unwrap_or_else(|| "unknown".into());
            shared.auth_failure(ctx, AuthFailure::MissingToken, &action)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// A request in flight for unit tests.
    pub(super) fn ctx(path: &str, headers: &[(&str, &str)], body: &'static str) -> Ctx {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Ctx {
            id: "rid".into(),
            start: Instant::now(),
            method: Method::POST,
            uri: path.parse().unwrap(),
            headers: h,
            body: Bytes::from_static(body.as_bytes()),
            source_ip: "127.0.0.1".into(),
            protocol: Protocol::Query("sts".into()),
            auth: None,
        }
    }

    /// Two Content-Type or X-Amz-Target headers are refused before anything else.
    #[tokio::test]
    async fn duplicate_content_type_or_target_is_refused() {
        let shared = crate::state::test_shared().await;
        for (name, a, b) in [
            (
                "content-type",
                "application/x-www-form-urlencoded",
                "text/xml",
            ),
            (
                "x-amz-target",
                "secretsmanager.GetSecretValue",
                "secretsmanager.DeleteSecret",
            ),
        ] {
            let mut c = ctx("/", &[(name, a), (name, b)], "Action=GetCallerIdentity");
            let resp = process(&shared, &mut c).await;
            assert_eq!(resp.status(), 400, "{name}");
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            let body = String::from_utf8_lossy(&body);
            assert!(
                body.contains(&format!("the {name} header appears more than once")),
                "{body}"
            );
        }
    }
}
