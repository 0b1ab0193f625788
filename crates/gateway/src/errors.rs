//! AWS error responses, rendered per protocol so that SDKs raise the error types they
//! would raise against AWS.
//!
//! - JSON protocol (Secrets Manager, KMS): HTTP 400, `application/x-amz-json-1.1`,
//!   `{"__type": CODE, "Message": MESSAGE}`.
//! - Query protocol (STS, IAM, CloudFormation): XML
//!   `ErrorResponse/Error/{Type, Code, Message}` + `RequestId`.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};

use aws_wire::xml::escape;

/// The body type of every response the gateway produces or relays.
pub type Body = http_body_util::combinators::BoxBody<Bytes, hyper::Error>;

/// A complete in-memory body.
pub fn full_body(data: impl Into<Bytes>) -> Body {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed()
}

/// The wire protocol of the service a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-amz-json-1.x` with `X-Amz-Target`.
    Json,
    /// `Action=...&Version=...` form parameters, XML answers. Carries the service's
    /// signing name to pick the XML namespace.
    Query(String),
}

impl Protocol {
    fn namespace(service: &str) -> &'static str {
        match service {
            "sts" => "https://sts.amazonaws.com/doc/2011-06-15/",
            "iam" => "https://iam.amazonaws.com/doc/2010-05-08/",
            "cloudformation" => "http://cloudformation.amazonaws.com/doc/2010-05-15/",
            _ => "https://sts.amazonaws.com/doc/2011-06-15/",
        }
    }
}

/// Why authentication failed (rendered with per-protocol codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credentials on a request that needs them.
    MissingToken,
    /// The signature parts are missing or malformed.
    Incomplete(String),
    /// Unknown, deleted or inactive access key.
    UnknownKey,
    /// Session token missing or not the one issued with the key.
    InvalidToken,
    /// The signature does not match.
    BadSignature,
    /// The request date is outside the allowed window.
    SignatureExpired(String),
    /// The session credentials have expired.
    ExpiredToken,
}

const INVALID_TOKEN_MSG: &str = "The security token included in the request is invalid.";
const EXPIRED_TOKEN_MSG: &str = "The security token included in the request is expired";
const BAD_SIGNATURE_MSG: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// An AWS error: status, code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// HTTP status.
    pub status: u16,
    /// AWS error code (`__type` / `Code`).
    pub code: String,
    /// Human-readable message.
    pub message: String,
}

impl AwsError {
    /// A new error.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// The authentication error AWS returns for `failure` in `protocol`.
    pub fn auth(failure: &AuthFailure, protocol: &Protocol) -> Self {
        let json = matches!(protocol, Protocol::Json);
        match (failure, json) {
            (AuthFailure::MissingToken, true) => Self::new(
                400,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
            (AuthFailure::MissingToken, false) => Self::new(
                403,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            ),
            (AuthFailure::Incomplete(m), true) => {
                Self::new(400, "IncompleteSignatureException", m.clone())
            }
            (AuthFailure::Incomplete(m), false) => Self::new(400, "IncompleteSignature", m.clone()),
            (AuthFailure::UnknownKey | AuthFailure::InvalidToken, true) => {
                Self::new(400, "UnrecognizedClientException", INVALID_TOKEN_MSG)
            }
            (AuthFailure::UnknownKey | AuthFailure::InvalidToken, false) => {
                Self::new(403, "InvalidClientTokenId", INVALID_TOKEN_MSG)
            }
            (AuthFailure::BadSignature, true) => {
                Self::new(400, "InvalidSignatureException", BAD_SIGNATURE_MSG)
            }
            (AuthFailure::BadSignature, false) => {
                Self::new(403, "SignatureDoesNotMatch", BAD_SIGNATURE_MSG)
            }
            (AuthFailure::SignatureExpired(m), true) => {
                Self::new(400, "InvalidSignatureException", m.clone())
            }
            (AuthFailure::SignatureExpired(m), false) => {
                Self::new(403, "SignatureDoesNotMatch", m.clone())
            }
            (AuthFailure::ExpiredToken, true) => {
                Self::new(400, "ExpiredTokenException", EXPIRED_TOKEN_MSG)
            }
            (AuthFailure::ExpiredToken, false) => Self::new(403, "ExpiredToken", EXPIRED_TOKEN_MSG),
        }
    }

    /// An access denial (`AccessDeniedException` / `AccessDenied`).
    pub fn access_denied(message: impl Into<String>, protocol: &Protocol) -> Self {
        match protocol {
            Protocol::Json => Self::new(400, "AccessDeniedException", message),
            Protocol::Query(_) => Self::new(403, "AccessDenied", message),
        }
    }

    /// A request the gateway cannot read (`SerializationException` / `MalformedInput`).
    pub fn malformed(message: impl Into<String>, protocol: &Protocol) -> Self {
        match protocol {
            Protocol::Json => Self::new(400, "SerializationException", message),
            Protocol::Query(_) => Self::new(400, "MalformedInput", message),
        }
    }

    /// A request parameter that violates a constraint (`ValidationException` /
    /// `ValidationError`).
    pub fn validation(message: impl Into<String>, protocol: &Protocol) -> Self {
        match protocol {
            Protocol::Json => Self::new(400, "ValidationException", message),
            Protocol::Query(_) => Self::new(400, "ValidationError", message),
        }
    }

    /// Renders the error for `protocol`.
    pub fn render(&self, protocol: &Protocol, request_id: &str) -> Response<Body> {
        let (content_type, body) = match protocol {
            Protocol::Json => (
                "application/x-amz-json-1.1",
                serde_json::json!({"__type": self.code, "Message": self.message}).to_string(),
            ),
            Protocol::Query(service) => (
                "text/xml",
                format!(
                    "<ErrorResponse xmlns=\"{}\">\n  <Error>\n    <Type>{}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
                    Protocol::namespace(service),
                    if self.status >= 500 { "Receiver" } else { "Sender" },
                    escape(&self.code),
                    escape(&self.message),
                    escape(request_id)
                ),
            ),
        };
        let mut resp = Response::new(full_body(body));
        *resp.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let h = resp.headers_mut();
        h.insert("content-type", http::HeaderValue::from_static(content_type));
        if let Ok(v) = http::HeaderValue::from_str(request_id) {
            h.insert("x-amzn-requestid", v);
        }
        if matches!(protocol, Protocol::Json) {
            if let Ok(v) = http::HeaderValue::from_str(&self.code) {
                h.insert("x-amzn-errortype", v);
            }
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_both_protocols() {
        let e = AwsError::auth(&AuthFailure::BadSignature, &Protocol::Query("sts".into()));
        let r = e.render(&Protocol::Query("sts".into()), "rid");
        assert_eq!(r.status(), 403);
        let body = r.into_body().collect().await.unwrap().to_bytes();
        let root = aws_wire::xml::parse(&body).unwrap();
        assert_eq!(
            root.text_at(&["Error", "Code"]),
            Some("SignatureDoesNotMatch")
        );
        let e = AwsError::access_denied("x", &Protocol::Json);
        let r = e.render(&Protocol::Json, "rid");
        assert_eq!(r.status(), 400);
        let body = r.into_body().collect().await.unwrap().to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["__type"], "AccessDeniedException");
    }
}
