//! Relaying to LocalStack: the relayed request (hop-by-hop headers dropped, routing
//! pinned to LocalStack, presigned authentication moved into headers), the answer
//! streamed back or read for the work it needs ([`After`]), and the cache
//! invalidation of anything that is not a pure read.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Limited};

use super::Ctx;
use crate::authorize::AuthzError;
use crate::directory::Changed;
use crate::errors::{full_body, AwsError, Body, Protocol};
use crate::secretsmanager::{self, SmContext, READ_ONLY_ACTIONS as SM_READ_ONLY};
use crate::state::Shared;
use crate::step::{After, Relay};
use crate::sts;
use crate::upstream::{Upstream, MAX_UPSTREAM_BODY};
use aws_wire::encoding::percent_decode;
use aws_wire::sigv4::{self, AuthLocation, PRESIGN_PARAMS};
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
impl Shared {
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

    /// Relays the request, answers with LocalStack's answer (after the work it needs)
    /// and records the decision.
    pub(super) async fn relay(&self, ctx: &Ctx, relay: Relay) -> Response<Body> {
        let Relay {
            principal,
            verdict,
            body,
            after,
            service,
            op,
        } = relay;
        let (principal, verdict) = (principal.as_str(), &verdict);
        let (service, op) = (service.as_str(), op.as_str());
        let body = body.unwrap_or_else(|| ctx.body.clone());
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
            After::BatchErrors(errors) => secretsmanager::add_batch_errors(&bytes, errors),
            After::BatchFilter(caller, region) => {
                let sm = SmContext {
                    scope: self.decider(&region, &ctx.source_ip),
                    caller: &caller,
                };
                sm.filter_batch_answer(&bytes).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::ctx;
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

    /// LocalStack routes by `Host` and `x-localstack-*`; the relayed request must
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
}
