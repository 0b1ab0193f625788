//! The gateway's own endpoints under `/_sma/` (loopback only, never relayed):
//!
//! | method | path | body | effect |
//! |---|---|---|---|
//! | GET | `/_sma/health` | — | `{"status":"ok","upstream":URL}` |
//! | POST | `/_sma/keys` | `{"access_key_id","secret_access_key","account_id","user_name"}` | register an IAM user's key (e.g. made by a CloudFormation stack) |
//! | DELETE | `/_sma/keys/{access_key_id}` | — | forget a key |
//! | POST | `/_sma/oidc-issuers` | `{"issuer": URL, "jwks": {...}}` | set an issuer's key set |
//! | POST | `/_sma/cache/invalidate` | — | forget cached IAM/secret state |
//! | GET | `/_sma/decisions` | — | the decisions kept in memory (JSON array) |
//!
//! The admin API can be disabled with [`crate::Config::admin_api`]. It has no
//! authentication of its own, so every endpoint but health answers only loopback peers
//! (403 otherwise), and it never replaces state: registering a key id the gateway
//! already knows, or an issuer that already has a key set, is refused with 409 (a
//! caller could otherwise swap a user's secret or an issuer's keys for its own). The
//! library handle ([`crate::GatewayHandle`]), used in-process, may still replace both.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde::Deserialize;
use serde_json::{json, Value};

use aws_wire::arn::is_account_id;
use aws_wire::jwt::Jwks;

use crate::errors::{full_body, Body};
use crate::state::{KeyRegistration, Replace, Shared};

const MAX_ADMIN_BODY: usize = 1024 * 1024;

fn reply(status: StatusCode, v: Value) -> Response<Body> {
    let mut r = Response::new(full_body(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn bad(msg: impl Into<String>) -> Response<Body> {
    reply(StatusCode::BAD_REQUEST, json!({"error": msg.into()}))
}

/// An issuer registration.
#[derive(Debug, Deserialize)]
struct IssuerRegistration {
    /// Issuer URL (`iss`).
    issuer: String,
    /// JWKS document (object or string).
    jwks: Value,
}

fn conflict(msg: impl Into<String>) -> Response<Body> {
    reply(StatusCode::CONFLICT, json!({"error": msg.into()}))
}

pub(crate) async fn handle<B>(
    shared: &Shared,
    method: &Method,
    path: &str,
    peer: SocketAddr,
    body: B,
) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if path == "/_sma/health" && method == Method::GET {
        return reply(
            StatusCode::OK,
            json!({"status": "ok", "upstream": shared.upstream.endpoint()}),
        );
    }
    if !shared.admin_api {
        return reply(
            StatusCode::NOT_FOUND,
            json!({"error": "admin API disabled"}),
        );
    }
    // No credentials protect these endpoints: only processes on this host may use them.
    if !peer.ip().is_loopback() {
        return reply(
            StatusCode::FORBIDDEN,
            json!({"error": format!("the admin API answers loopback clients only; {} is not loopback", peer.ip())}),
        );
    }
    let bytes = match Limited::new(body, MAX_ADMIN_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return bad("body too large or unreadable"),
    };
    match (method.as_str(), path) {
        ("POST", "/_sma/keys") => {
            let r: KeyRegistration = match serde_json::from_slice(&bytes) {
                Ok(r) => r,
                Err(e) => return bad(format!("invalid key registration: {e}")),
            };
            if !is_account_id(&r.account_id)
                || r.access_key_id.is_empty()
                || !r.access_key_id.bytes().all(|b| b.is_ascii_alphanumeric())
                || r.user_name.is_empty()
            {
                return bad(
                    "account_id must be 12 digits, access_key_id alphanumeric, user_name non-empty",
                );
            }
            let id = r.access_key_id.clone();
            if !shared.register_user_key(r, Replace::Refused) {
                return conflict(format!(
                    "access key {id} is already known to the gateway; it is not replaced (DELETE /_sma/keys/{id} first)"
                ));
            }
            reply(StatusCode::OK, json!({"registered": id}))
        }
        ("DELETE", p) if p.starts_with("/_sma/keys/") => {
            let id = &p["/_sma/keys/".len()..];
            let removed = shared.remove_key(id);
            reply(
                if removed {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                },
                json!({"removed": removed}),
            )
        }
        ("POST", "/_sma/oidc-issuers") => {
            let r: IssuerRegistration = match serde_json::from_slice(&bytes) {
                Ok(r) => r,
                Err(e) => return bad(format!("invalid issuer registration: {e}")),
            };
            let text = match &r.jwks {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            match Jwks::parse(&text) {
                Ok(j) => {
                    if shared.register_issuer(&r.issuer, j, Replace::Refused) {
                        reply(StatusCode::OK, json!({"issuer": r.issuer}))
                    } else {
                        conflict(format!(
                            "issuer {} already has a key set; it is not replaced through the admin API",
                            r.issuer
                        ))
                    }
                }
                Err(e) => bad(e.to_string()),
            }
        }
        ("POST", "/_sma/cache/invalidate") => {
            shared.invalidate_cache();
            reply(
                StatusCode::OK,
                json!({"generation": shared.dir.generation()}),
            )
        }
        ("GET", "/_sma/decisions") => reply(
            StatusCode::OK,
            serde_json::to_value(shared.log.recent()).unwrap_or(Value::Null),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({"error": format!("no admin endpoint {method} {path}")}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    const JWKS_A: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}"#;

    async fn call(
        shared: &Shared,
        method: Method,
        path: &str,
        peer: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let r = handle(
            shared,
            &method,
            path,
            peer.parse().unwrap(),
            Full::new(Bytes::from(body.to_string())),
        )
        .await;
        let status = r.status();
        let b = r.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&b).unwrap())
    }

    fn key(secret: &str) -> Value {
        json!({"access_key_id": "AKIAVICTIM000001", "secret_access_key": secret,
               "account_id": "123456789012", "user_name": "victim"})
    }

    /// F2: no admin endpoint but health answers a non-loopback peer.
    #[tokio::test]
    async fn admin_api_answers_loopback_peers_only() {
        let shared = crate::state::test_shared().await;
        let remote = "192.0.2.7:5000";
        let (s, _) = call(&shared, Method::GET, "/_sma/health", remote, json!({})).await;
        assert_eq!(s, StatusCode::OK);
        for (m, p, b) in [
            (Method::POST, "/_sma/keys", key("attacker")),
            (
                Method::POST,
                "/_sma/oidc-issuers",
                json!({"issuer": "https://i.test", "jwks": JWKS_A}),
            ),
            (Method::DELETE, "/_sma/keys/AKIAVICTIM000001", json!({})),
            (Method::GET, "/_sma/decisions", json!({})),
            (Method::POST, "/_sma/cache/invalidate", json!({})),
        ] {
            let (s, v) = call(&shared, m, p, remote, b).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{p}: {v}");
            assert!(v["error"].as_str().unwrap().contains("loopback"), "{v}");
        }
        assert!(shared.creds.identity_of("AKIAVICTIM000001").is_none());
        assert!(shared.issuers.get("https://i.test").is_none());
        let (s, _) = call(&shared, Method::POST, "/_sma/keys", "[::1]:5000", key("s")).await;
        assert_eq!(s, StatusCode::OK);
    }

    /// F2: the admin API never replaces a known key or an issuer's key set; the
    /// in-process handle still can.
    #[tokio::test]
    async fn admin_api_refuses_to_overwrite_keys_and_issuers() {
        let shared = std::sync::Arc::new(crate::state::test_shared().await);
        let lo = "127.0.0.1:5000";
        let (s, _) = call(&shared, Method::POST, "/_sma/keys", lo, key("genuine")).await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = call(&shared, Method::POST, "/_sma/keys", lo, key("attacker")).await;
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
        assert!(v["error"].as_str().unwrap().contains("already known"));
        // A root key id (12 digits, or LocalStack's `test`) cannot be shadowed either.
        for id in ["123456789012", "test"] {
            let mut k = key("attacker");
            k["access_key_id"] = json!(id);
            let (s, v) = call(&shared, Method::POST, "/_sma/keys", lo, k).await;
            assert_eq!(s, StatusCode::CONFLICT, "{id}: {v}");
        }
        let reg = |jwks: &str| json!({"issuer": "https://i.test", "jwks": jwks});
        let (s, _) = call(&shared, Method::POST, "/_sma/oidc-issuers", lo, reg(JWKS_A)).await;
        assert_eq!(s, StatusCode::OK);
        let other = JWKS_A.replace(r#""kid":"a""#, r#""kid":"evil""#);
        let (s, v) = call(&shared, Method::POST, "/_sma/oidc-issuers", lo, reg(&other)).await;
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
        let kid = |shared: &Shared| format!("{:?}", shared.issuers.get("https://i.test").unwrap());
        assert!(kid(&shared).contains("\"a\""), "{}", kid(&shared));
        // Deleting first makes a new registration possible.
        let (s, _) = call(
            &shared,
            Method::DELETE,
            "/_sma/keys/AKIAVICTIM000001",
            lo,
            json!({}),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = call(&shared, Method::POST, "/_sma/keys", lo, key("rotated")).await;
        assert_eq!(s, StatusCode::OK);
        // The library handle (in-process) still replaces, as before.
        let h = crate::GatewayHandle {
            shared: shared.clone(),
        };
        h.register_user_key("123456789012", "victim", "AKIAVICTIM000001", "again");
        h.register_oidc_issuer("https://i.test", Jwks::parse(&other).unwrap());
        assert!(kid(&shared).contains("evil"), "{}", kid(&shared));
    }
}
