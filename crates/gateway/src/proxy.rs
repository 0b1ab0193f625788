//! The request pipeline: read (bounded) → authenticate → parse the operation →
//! authorize → relay to LocalStack (streaming the answer) → capture credentials /
//! invalidate cached state → log the decision.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::{Map, Value};

use crate::authorize::{AuthzError, Caller, Resolver, Verdict};
use crate::decision_log::DecisionRecord;
use crate::directory::Changed;
use crate::errors::{full_body, AuthFailure, AwsError, Body, Protocol};
use crate::request_id::request_id;
use crate::secretsmanager::{SmContext, SmPlan, READ_ONLY_ACTIONS as SM_READ_ONLY};
use crate::state::Shared;
use crate::sts::{self, PendingSession, StsContext, StsPlan};
use crate::upstream::{Upstream, MAX_UPSTREAM_BODY};
use aws_wire::encoding::{parse_form, percent_decode};
use aws_wire::sigv4::{self, AuthLocation, SigV4Auth, PRESIGN_PARAMS};
use aws_wire::time::{format_rfc3339_millis, unix_now, unix_now_millis};
use aws_wire::Secret;

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

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

/// What the caller asked for.
enum Operation {
    /// JSON protocol: target operation and JSON object.
    Json {
        op: String,
        params: Map<String, Value>,
    },
    /// Query protocol: action and parameters.
    Query { op: String, params: sts::Params },
    /// Something else (REST API, internal endpoint, no action).
    Other,
}

impl Operation {
    fn name(&self) -> &str {
        match self {
            Operation::Json { op, .. } | Operation::Query { op, .. } => op,
            Operation::Other => "",
        }
    }
}

/// Work to do with the relayed answer.
enum After {
    Nothing,
    Session(Box<PendingSession>),
    CaptureAccessKey { account: String },
    RemoveKey(String),
    SetKeyActive(String, bool),
    RemoveUser { account: String, user: String },
    BatchErrors(Vec<Value>),
    BatchFilter(Box<Caller>, String),
}

/// Whether relaying `op` leaves every state the directory caches unchanged. Anything
/// else invalidates what its service may change ([`Changed::by_service`]) before its
/// answer reaches the caller. CloudFormation is
/// never read-only: a stack changes IAM and secrets *after* CreateStack/UpdateStack
/// have answered, and the deployment tool's DescribeStacks polls are the gateway's
/// only sign that those changes have landed. Unknown services count as writes.
fn is_read_only(service: &str, op: &str) -> bool {
    match service {
        "secretsmanager" => SM_READ_ONLY.contains(&op),
        "sts" => true,
        "iam" | "kms" => {
            ["Get", "List", "Describe", "Generate", "Simulate"]
                .iter()
                .any(|p| op.starts_with(p))
                || matches!(op, "Decrypt" | "Encrypt" | "ReEncrypt" | "Sign" | "Verify")
        }
        _ => false,
    }
}

fn strip_hop_by_hop(h: &mut HeaderMap) {
    for name in HOP_BY_HOP {
        h.remove(name);
    }
    h.remove("transfer-encoding");
}

/// LocalStack routes by more than the signed service: a `Host` such as
/// `<id>.lambda-url.<region>.localhost.localstack.cloud` or an `x-localstack-*` header
/// sends the request to another service than the one the gateway authorized. The
/// signature has already been verified against the client's `Host`, so the relayed
/// request may (and must) name LocalStack itself and carry no LocalStack routing hints.
fn pin_upstream_routing(h: &mut HeaderMap, upstream: &Upstream) -> Result<(), String> {
    let localstack: Vec<_> = h
        .keys()
        .filter(|k| k.as_str().starts_with("x-localstack"))
        .cloned()
        .collect();
    for k in localstack {
        h.remove(k);
    }
    h.insert(
        http::header::HOST,
        HeaderValue::from_str(upstream.authority().as_str()).map_err(|e| e.to_string())?,
    );
    Ok(())
}

/// Headers that decide how the body is read and which operation runs: a second copy
/// could be read differently by LocalStack than by the gateway, so it is refused.
const SINGLE_VALUED: [&str; 2] = ["content-type", "x-amz-target"];

fn duplicate_header(h: &HeaderMap) -> Option<&'static str> {
    SINGLE_VALUED
        .into_iter()
        .find(|name| h.get_all(*name).iter().count() > 1)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn protocol_guess(headers: &HeaderMap, auth: Option<&SigV4Auth>) -> Protocol {
    if headers.contains_key("x-amz-target") {
        return Protocol::Json;
    }
    match auth.map(|a| a.service.as_str()) {
        Some("secretsmanager" | "kms") => Protocol::Json,
        Some(s) => Protocol::Query(s.to_string()),
        None => Protocol::Query("sts".into()),
    }
}

impl Shared {
    fn record(
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
            decision: verdict.decision.to_string(),
            error_code: error_code.map(str::to_string),
            reason: verdict.message.clone(),
            deciding_statements: verdict.statements.clone(),
            status,
            latency_us: ctx.start.elapsed().as_micros() as u64,
        });
    }

    /// Denies a request that could not be read (before anyone is authenticated).
    fn reject_malformed(&self, ctx: &Ctx, msg: String) -> Response<Body> {
        let verdict = Verdict::deny("unknown", "*", msg.clone());
        self.reject(
            ctx,
            "anonymous",
            &verdict,
            &AwsError::malformed(msg, &ctx.protocol),
        )
    }

    fn reject(
        &self,
        ctx: &Ctx,
        principal: &str,
        verdict: &Verdict,
        err: &AwsError,
    ) -> Response<Body> {
        self.record(ctx, principal, verdict, Some(&err.code), err.status);
        err.render(&ctx.protocol, &ctx.id)
    }

    fn auth_failure(&self, ctx: &Ctx, failure: AuthFailure, action: &str) -> Response<Body> {
        let err = AwsError::auth(&failure, &ctx.protocol);
        let principal = ctx
            .auth
            .as_ref()
            .map(|a| format!("accesskey:{}", a.access_key_id))
            .unwrap_or_else(|| "anonymous".into());
        let v = Verdict {
            allowed: false,
            decision: "AuthenticationFailed",
            message: err.message.clone(),
            statements: vec![],
            action: action.to_string(),
            resource: "*".into(),
        };
        self.reject(ctx, &principal, &v, &err)
    }

    fn internal_denial(
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

    /// Builds the request relayed to LocalStack: same method, path, headers and body;
    /// presigned authentication moved into headers so LocalStack sees the caller's
    /// access key (its account scoping reads only the `Authorization` header).
    fn upstream_request(&self, ctx: &Ctx, body: Bytes) -> Result<Request<Body>, String> {
        let mut headers = ctx.headers.clone();
        strip_hop_by_hop(&mut headers);
        headers.remove("content-length");
        pin_upstream_routing(&mut headers, &self.upstream)?;
        let mut path_and_query = ctx.uri.path().to_string();
        let mut query = ctx.uri.query().map(str::to_string);
        if let Some(a) = ctx
            .auth
            .as_ref()
            .filter(|a| a.location == AuthLocation::Query)
        {
            let kept: Vec<&str> = ctx
                .uri
                .query()
                .unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .filter(|p| {
                    let name = p.split('=').next().unwrap_or("");
                    let name = percent_decode(name).unwrap_or_default();
                    !PRESIGN_PARAMS.contains(&name.as_str())
                })
                .collect();
            query = (!kept.is_empty()).then(|| kept.join("&"));
            let value = format!(
                "{} Credential={}, SignedHeaders={}, Signature={}",
                sigv4::ALGORITHM,
                a.credential,
                a.signed_headers.join(";"),
                a.signature_hex()
            );
            headers.insert(
                "authorization",
                HeaderValue::from_str(&value).map_err(|e| e.to_string())?,
            );
            headers.insert(
                "x-amz-date",
                HeaderValue::from_str(&a.amz_date).map_err(|e| e.to_string())?,
            );
            if let Some(t) = &a.security_token {
                headers.insert(
                    "x-amz-security-token",
                    HeaderValue::from_str(t.expose()).map_err(|e| e.to_string())?,
                );
            }
        }
        if let Some(q) = query {
            path_and_query.push('?');
            path_and_query.push_str(&q);
        }
        let uri = self
            .upstream
            .uri_for(&path_and_query)
            .map_err(|e| e.to_string())?;
        let mut req = Request::builder()
            .method(ctx.method.clone())
            .uri(uri)
            .body(full_body(body))
            .map_err(|e| e.to_string())?;
        *req.headers_mut() = headers;
        Ok(req)
    }

    #[allow(clippy::too_many_arguments)]
    async fn relay(
        &self,
        ctx: &Ctx,
        body: Bytes,
        principal: &str,
        verdict: &Verdict,
        after: After,
        service: &str,
        op: &str,
    ) -> Response<Body> {
        let req = match self.upstream_request(ctx, body) {
            Ok(r) => r,
            Err(e) => {
                return self.internal_denial(
                    ctx,
                    principal,
                    &verdict.action,
                    &AuthzError::Principal(format!("request could not be relayed: {e}")),
                )
            }
        };
        let resp = match self.upstream.send(req).await {
            Ok(r) => r,
            Err(e) => {
                let err = AwsError::new(
                    503,
                    if matches!(ctx.protocol, Protocol::Json) {
                        "ServiceUnavailableException"
                    } else {
                        "ServiceUnavailable"
                    },
                    format!("LocalStack did not answer: {e}"),
                );
                return self.reject(ctx, principal, verdict, &err);
            }
        };
        if !is_read_only(service, op) {
            self.dir.invalidate_after(Changed::by_service(service));
        }
        let (mut parts, incoming) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        let status = parts.status.as_u16();
        let response = match after {
            After::Nothing => Response::from_parts(parts, incoming.boxed()),
            after => {
                let bytes = match Limited::new(incoming, MAX_UPSTREAM_BODY).collect().await {
                    Ok(c) => c.to_bytes(),
                    Err(e) => {
                        let err = AwsError::new(
                            503,
                            "ServiceUnavailable",
                            format!("LocalStack's answer could not be read: {e}"),
                        );
                        return self.reject(ctx, principal, verdict, &err);
                    }
                };
                let ok = parts.status.is_success();
                let bytes = if ok {
                    self.after(ctx, after, bytes).await
                } else {
                    bytes
                };
                parts.headers.remove("content-length");
                parts.headers.remove("content-encoding");
                Response::from_parts(parts, full_body(bytes))
            }
        };
        self.record(ctx, principal, verdict, None, status);
        response
    }

    async fn after(&self, ctx: &Ctx, after: After, bytes: Bytes) -> Bytes {
        match after {
            After::Nothing => bytes,
            After::Session(pending) => {
                if let Some(issued) = aws_wire::sts_answer::parse_issued(&bytes) {
                    let session = sts::complete_session(*pending, &issued);
                    self.creds.insert_session(
                        &issued.access_key_id,
                        issued.secret_access_key.clone(),
                        issued.session_token.clone(),
                        (*session).clone(),
                    );
                }
                bytes
            }
            After::CaptureAccessKey { account } => {
                if let Ok(root) = aws_wire::xml::parse(&bytes) {
                    if let Some(k) = root.find("AccessKey") {
                        if let (Some(u), Some(id), Some(secret)) = (
                            k.text_at(&["UserName"]),
                            k.text_at(&["AccessKeyId"]),
                            k.text_at(&["SecretAccessKey"]),
                        ) {
                            self.creds.insert_user_key(
                                id.trim(),
                                Secret::new(secret.trim()),
                                &account,
                                u.trim(),
                            );
                        }
                    }
                }
                bytes
            }
            After::RemoveKey(k) => {
                self.creds.remove_key(&k);
                bytes
            }
            After::SetKeyActive(k, a) => {
                self.creds.set_active(&k, a);
                bytes
            }
            After::RemoveUser { account, user } => {
                self.creds.remove_user(&account, &user);
                bytes
            }
            After::BatchErrors(errors) => {
                let mut v: Value = serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| serde_json::json!({"SecretValues": []}));
                if let Some(obj) = v.as_object_mut() {
                    let mut all = obj
                        .get("Errors")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    all.extend(errors);
                    obj.insert("Errors".into(), Value::Array(all));
                }
                Bytes::from(v.to_string())
            }
            After::BatchFilter(caller, region) => {
                let v: Value = match serde_json::from_slice(&bytes) {
                    Ok(v) => v,
                    Err(_) => return Bytes::from_static(br#"{"SecretValues":[],"Errors":[]}"#),
                };
                let sm = SmContext {
                    dir: &self.dir,
                    policies: &self.policies,
                    caller: &caller,
                    region: &region,
                    source_ip: &ctx.source_ip,
                };
                match sm.filter_batch_response(v).await {
                    Ok(v) => Bytes::from(v.to_string()),
                    // Fail closed: nothing is returned when the filter cannot decide.
                    Err(e) => Bytes::from(serde_json::json!({"SecretValues": [], "Errors": [{"ErrorCode": "AccessDeniedException", "Message": e.to_string()}]}).to_string()),
                }
            }
        }
    }
}

fn query_params(ctx: &Ctx) -> Result<sts::Params, String> {
    let mut params = Vec::new();
    for (k, v) in
        parse_form(ctx.uri.query().unwrap_or("")).map_err(|e| format!("query string: {e}"))?
    {
        if !PRESIGN_PARAMS.contains(&k.as_str()) {
            params.push((k, v));
        }
    }
    if !ctx.body.is_empty() && !is_form(&ctx.headers) && ctx.uri.path() == "/" {
        // A query-protocol body (no X-Amz-Target, path '/') the gateway cannot read as a
        // form could still carry parameters LocalStack acts on: never relay what was not
        // seen. (Other paths are REST APIs, relayed for the account root only.)
        return Err("a query-protocol request body must be application/x-www-form-urlencoded (denied, fail closed)".into());
    }
    if is_form(&ctx.headers) && !ctx.body.is_empty() {
        let body =
            std::str::from_utf8(&ctx.body).map_err(|_| "form body is not UTF-8".to_string())?;
        params.extend(parse_form(body).map_err(|e| format!("form body: {e}"))?);
    }
    let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err("a parameter appears more than once".into());
    }
    Ok(params)
}

fn operation(ctx: &Ctx, service: &str) -> Result<Operation, String> {
    if let Some(target) = ctx.headers.get("x-amz-target") {
        let target = target.to_str().map_err(|_| "X-Amz-Target is not ASCII")?;
        let (prefix, op) = target
            .split_once('.')
            .ok_or("X-Amz-Target must be Service.Operation")?;
        let expected = match service {
            "secretsmanager" => "secretsmanager",
            "kms" => "TrentService",
            _ => prefix,
        };
        if prefix != expected {
            return Err(format!(
                "X-Amz-Target {target} does not belong to the signed service {service}"
            ));
        }
        let params = if ctx.body.is_empty() {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(&ctx.body) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err("the JSON body must be an object".into()),
                Err(e) => return Err(format!("the JSON body does not parse: {e}")),
            }
        };
        return Ok(Operation::Json {
            op: op.to_string(),
            params,
        });
    }
    let params = query_params(ctx)?;
    match sts::param(&params, "Action") {
        Some(a) if !a.is_empty() => Ok(Operation::Query {
            op: a.to_string(),
            params,
        }),
        _ => Ok(Operation::Other),
    }
}

pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Body>, std::convert::Infallible> {
    let start = Instant::now();
    let id = request_id();
    let (parts, incoming) = req.into_parts();
    let path = parts.uri.path().to_string();
    if path.starts_with("/_sma/") {
        return Ok(crate::admin::handle(&shared, &parts.method, &path, peer, incoming).await);
    }
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

async fn process(shared: &Shared, ctx: &mut Ctx) -> Response<Body> {
    if ctx.method == Method::GET && ctx.uri.path() == "/_localstack/health" {
        let v = Verdict {
            allowed: true,
            decision: "Allow",
            message: "LocalStack health check".into(),
            statements: vec![],
            action: "localstack:Health".into(),
            resource: "*".into(),
        };
        return shared
            .relay(
                ctx,
                Bytes::new(),
                "anonymous",
                &v,
                After::Nothing,
                "localstack",
                "Health",
            )
            .await;
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
    let resolver = Resolver {
        dir: &shared.dir,
        policies: &shared.policies,
    };
    let caller = match resolver.caller(&identity, Some(&auth.access_key_id)).await {
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
    match (service.as_str(), &op) {
        ("secretsmanager", Operation::Json { op, params }) => {
            secrets_manager(shared, ctx, &caller, &auth, op, params).await
        }
        ("sts", Operation::Query { op, params }) => {
            security_token(shared, ctx, &caller, op, params).await
        }
        _ if caller.identity.is_root() => {
            let v = Verdict {
                allowed: true,
                decision: "Allow",
                message: "account root user on its own account".into(),
                statements: vec![],
                action: action.clone(),
                resource: "*".into(),
            };
            let after = root_after(&service, &op, caller.account());
            let body = ctx.body.clone();
            let name = op.name().to_string();
            shared
                .relay(ctx, body, &principal, &v, after, &service, &name)
                .await
        }
        _ => {
            let msg = format!(
                "User: {principal} is not authorized to perform: {action} because the sma gateway does not model {} for non-root principals (only Secrets Manager and STS are modelled; denied, fail closed)",
                if op.name().is_empty() { format!("requests to {service} without an action") } else { format!("the {service} service") }
            );
            let v = Verdict::deny(&action, "*", msg.clone());
            shared.reject(
                ctx,
                &principal,
                &v,
                &AwsError::access_denied(msg, &ctx.protocol),
            )
        }
    }
}

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
        "DeleteAccessKey" => sts::param(params, "AccessKeyId")
            .map(|k| After::RemoveKey(k.to_string()))
            .unwrap_or(After::Nothing),
        "UpdateAccessKey" => match (
            sts::param(params, "AccessKeyId"),
            sts::param(params, "Status"),
        ) {
            (Some(k), Some(s)) => After::SetKeyActive(k.to_string(), s == "Active"),
            _ => After::Nothing,
        },
        "DeleteUser" => sts::param(params, "UserName")
            .map(|u| After::RemoveUser {
                account: account.to_string(),
                user: u.to_string(),
            })
            .unwrap_or(After::Nothing),
        _ => After::Nothing,
    }
}

async fn secrets_manager(
    shared: &Shared,
    ctx: &Ctx,
    caller: &Caller,
    auth: &SigV4Auth,
    op: &str,
    params: &Map<String, Value>,
) -> Response<Body> {
    let principal = caller.arn().to_string();
    let sm = SmContext {
        dir: &shared.dir,
        policies: &shared.policies,
        caller,
        region: &auth.region,
        source_ip: &ctx.source_ip,
    };
    let action = format!("secretsmanager:{op}");
    let plan = match sm.plan(op, params).await {
        Ok(p) => p,
        Err(e) => return shared.internal_denial(ctx, &principal, &action, &e),
    };
    let deny = |v: &Verdict| {
        shared.reject(
            ctx,
            &principal,
            v,
            &AwsError::access_denied(v.message.clone(), &ctx.protocol),
        )
    };
    match plan {
        SmPlan::Deny(v) => deny(&v),
        SmPlan::Forward(v) => {
            shared
                .relay(
                    ctx,
                    ctx.body.clone(),
                    &principal,
                    &v,
                    After::Nothing,
                    "secretsmanager",
                    op,
                )
                .await
        }
        SmPlan::BatchByIds {
            verdict,
            body: Some(body),
            errors,
        } => {
            let after = if errors.is_empty() {
                After::Nothing
            } else {
                After::BatchErrors(errors)
            };
            shared
                .relay(
                    ctx,
                    Bytes::from(body.to_string()),
                    &principal,
                    &verdict,
                    after,
                    "secretsmanager",
                    op,
                )
                .await
        }
        SmPlan::BatchByIds {
            verdict,
            body: None,
            errors,
        } => {
            shared.record(ctx, &principal, &verdict, None, 200);
            let mut resp = Response::new(full_body(
                serde_json::json!({"SecretValues": [], "Errors": errors}).to_string(),
            ));
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
        SmPlan::BatchFiltered(v) => {
            let after = After::BatchFilter(Box::new(caller.clone()), auth.region.clone());
            shared
                .relay(
                    ctx,
                    ctx.body.clone(),
                    &principal,
                    &v,
                    after,
                    "secretsmanager",
                    op,
                )
                .await
        }
    }
}

fn sts_context<'a>(shared: &'a Shared, ctx: &'a Ctx) -> StsContext<'a> {
    let region = ctx
        .auth
        .as_ref()
        .map(|a| a.region.as_str())
        .unwrap_or("us-east-1");
    StsContext {
        dir: &shared.dir,
        policies: &shared.policies,
        issuers: &shared.issuers,
        region,
        source_ip: &ctx.source_ip,
    }
}

async fn security_token(
    shared: &Shared,
    ctx: &Ctx,
    caller: &Caller,
    op: &str,
    params: &sts::Params,
) -> Response<Body> {
    let principal = caller.arn().to_string();
    let action = format!("sts:{op}");
    let s = sts_context(shared, ctx);
    let plan = match op {
        "GetCallerIdentity" => {
            let v = Verdict {
                allowed: true,
                decision: "Allow",
                message: "GetCallerIdentity needs no permission".into(),
                statements: vec![],
                action,
                resource: "*".into(),
            };
            return shared
                .relay(
                    ctx,
                    ctx.body.clone(),
                    &principal,
                    &v,
                    After::Nothing,
                    "sts",
                    op,
                )
                .await;
        }
        "AssumeRole" => match s.assume_role(caller, params).await {
            Ok(p) => p,
            Err(e) => return shared.internal_denial(ctx, &principal, &action, &e),
        },
        "AssumeRoleWithWebIdentity" => return web_identity(shared, ctx, params).await,
        "GetSessionToken" => s.get_session_token(caller, params),
        _ if caller.identity.is_root() => {
            let v = Verdict {
                allowed: true,
                decision: "Allow",
                message: "account root user on its own account".into(),
                statements: vec![],
                action,
                resource: "*".into(),
            };
            return shared
                .relay(
                    ctx,
                    ctx.body.clone(),
                    &principal,
                    &v,
                    After::Nothing,
                    "sts",
                    op,
                )
                .await;
        }
        _ => {
            let msg = format!("User: {principal} is not authorized to perform: {action} because the sma gateway does not model this STS action (denied, fail closed)");
            StsPlan::Deny(
                Verdict::deny(&action, "*", msg.clone()),
                AwsError::access_denied(msg, &ctx.protocol),
            )
        }
    };
    match plan {
        StsPlan::Deny(v, e) => shared.reject(ctx, &principal, &v, &e),
        StsPlan::Forward(v, pending) => {
            let after = pending.map(After::Session).unwrap_or(After::Nothing);
            shared
                .relay(ctx, ctx.body.clone(), &principal, &v, after, "sts", op)
                .await
        }
    }
}

async fn web_identity(shared: &Shared, ctx: &Ctx, params: &sts::Params) -> Response<Body> {
    let s = sts_context(shared, ctx);
    match s.assume_role_with_web_identity(params).await {
        Err(e) => shared.internal_denial(ctx, "anonymous", "sts:AssumeRoleWithWebIdentity", &e),
        Ok((StsPlan::Deny(v, e), who)) => shared.reject(ctx, &who, &v, &e),
        Ok((StsPlan::Forward(v, pending), who)) => {
            let after = pending.map(After::Session).unwrap_or(After::Nothing);
            shared
                .relay(
                    ctx,
                    ctx.body.clone(),
                    &who,
                    &v,
                    after,
                    "sts",
                    "AssumeRoleWithWebIdentity",
                )
                .await
        }
    }
}

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
    match sts::param(&params, "Action") {
        Some("AssumeRoleWithWebIdentity") if ctx.uri.path() == "/" => {
            ctx.protocol = Protocol::Query("sts".into());
            web_identity(shared, ctx, &params).await
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

    #[test]
    fn only_reads_keep_the_cache() {
        for (service, op) in [
            ("secretsmanager", "GetSecretValue"),
            ("secretsmanager", "ListSecrets"),
            ("iam", "GetRolePolicy"),
            ("kms", "Decrypt"),
            ("sts", "AssumeRole"),
        ] {
            assert!(is_read_only(service, op), "{service}:{op}");
        }
        for (service, op) in [
            ("secretsmanager", "PutResourcePolicy"),
            ("iam", "PutRolePolicy"),
            ("iam", "DeleteRole"),
            ("kms", "PutKeyPolicy"),
            ("cloudformation", "DescribeStacks"),
            ("cloudformation", "CreateStack"),
            ("s3", "GetObject"),
        ] {
            assert!(!is_read_only(service, op), "{service}:{op}");
        }
    }

    fn ctx(path: &str, headers: &[(&str, &str)], body: &'static str) -> Ctx {
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

    /// F1: LocalStack routes by `Host` and `x-localstack-*`; the relayed request must
    /// name LocalStack itself and carry no routing hint from the client.
    #[tokio::test]
    async fn relayed_request_names_upstream_host_and_drops_localstack_headers() {
        let shared = crate::state::test_shared().await;
        let c = ctx(
            "/",
            &[
                (
                    "host",
                    "abc123.lambda-url.us-east-1.localhost.localstack.cloud",
                ),
                ("x-localstack-target", "lambda"),
                ("X-LocalStack-Edge", "1"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            "Action=GetCallerIdentity&Version=2011-06-15",
        );
        let req = shared.upstream_request(&c, c.body.clone()).unwrap();
        let hosts: Vec<_> = req.headers().get_all("host").iter().collect();
        assert_eq!(hosts, vec!["127.0.0.1:4566"]);
        assert!(
            req.headers()
                .keys()
                .all(|k| !k.as_str().starts_with("x-localstack")),
            "{:?}",
            req.headers()
        );
        assert_eq!(
            req.headers().get("content-type").unwrap(),
            "application/x-www-form-urlencoded"
        );
    }

    /// F7: a query-protocol body that is not a form is refused, not relayed unseen.
    #[test]
    fn query_body_that_is_not_a_form_is_refused() {
        let xml = "<Action>DeleteUser</Action>";
        for ct in [
            None,
            Some("text/xml"),
            Some("application/json"),
            Some("application/x-www-form-urlencoded-not"),
        ] {
            let headers: Vec<(&str, &str)> = ct.map(|c| ("content-type", c)).into_iter().collect();
            let c = ctx("/?Action=GetCallerIdentity", &headers, xml);
            let e = query_params(&c).unwrap_err();
            assert!(e.contains("x-www-form-urlencoded"), "{ct:?}: {e}");
        }
        let c = ctx(
            "/",
            &[(
                "content-type",
                "Application/X-WWW-Form-Urlencoded; charset=utf-8",
            )],
            "Action=GetCallerIdentity",
        );
        assert_eq!(
            sts::param(&query_params(&c).unwrap(), "Action"),
            Some("GetCallerIdentity")
        );
        // An empty body needs no content type (GET with a query string).
        assert!(query_params(&ctx("/?Action=GetCallerIdentity", &[], "")).is_ok());
    }

    /// F7: two Content-Type or X-Amz-Target headers are refused before anything else.
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
