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
//! The admin API can be disabled with [`crate::Config::admin_api`].

use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::credentials::{is_account_id, KeySource};
use crate::errors::{full_body, Body};
use crate::jwt::Jwks;
use crate::proxy::Shared;

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

/// A key registration.
#[derive(Debug, Deserialize)]
pub struct KeyRegistration {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Account of the user.
    pub account_id: String,
    /// User name.
    pub user_name: String,
}

/// An issuer registration.
#[derive(Debug, Deserialize)]
pub struct IssuerRegistration {
    /// Issuer URL (`iss`).
    pub issuer: String,
    /// JWKS document (object or string).
    pub jwks: Value,
}

pub(crate) async fn handle(
    shared: &Shared,
    method: &Method,
    path: &str,
    body: Incoming,
) -> Response<Body> {
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
            shared.creds.insert_user_key(
                &r.access_key_id,
                &r.secret_access_key,
                &r.account_id,
                &r.user_name,
                KeySource::Registered,
            );
            shared.dir.invalidate();
            reply(StatusCode::OK, json!({"registered": r.access_key_id}))
        }
        ("DELETE", p) if p.starts_with("/_sma/keys/") => {
            let id = &p["/_sma/keys/".len()..];
            let removed = shared.creds.remove_key(id);
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
                    crate::proxy::register_issuer(shared, &r.issuer, j);
                    reply(StatusCode::OK, json!({"issuer": r.issuer}))
                }
                Err(e) => bad(e.to_string()),
            }
        }
        ("POST", "/_sma/cache/invalidate") => {
            shared.dir.invalidate();
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
