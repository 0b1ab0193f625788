//! AWS Signature Version 4: parsing, exact verification and signing.
//!
//! Verification rebuilds the canonical request from what arrived (method, the path
//! normalised and encoded as non-S3 services do, the sorted canonical query, the signed
//! headers with trimmed values, the SHA-256 of the received body), derives the signing
//! key from the secret and compares signatures in constant time. Anything that does not
//! parse is an error: nothing is guessed.

use http::{HeaderMap, Method, Uri};
use thiserror::Error;

use crate::crypto::{ct_eq, hmac_sha256, sha256_hex};
use crate::encoding::{hex_decode_lower, hex_encode, percent_decode_bytes, uri_encode};
use crate::time::{format_amz_date, parse_amz_date};
use crate::Secret;

/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Allowed clock skew between the request's date and the gateway's clock (AWS: 15 min).
pub const MAX_SKEW_SECS: i64 = 15 * 60;
/// Longest validity of a presigned request (AWS: 7 days).
pub const MAX_PRESIGN_EXPIRES: i64 = 7 * 24 * 3600;
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The query parameters that carry a presigned request's authentication.
pub const PRESIGN_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// Where the signature was carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthLocation {
    /// `Authorization` header.
    Header,
    /// Query string (a presigned URL).
    Query,
}

/// The parsed SigV4 authentication of one request.
#[derive(Clone)]
pub struct SigV4Auth {
    /// Header or query.
    pub location: AuthLocation,
    /// Access key id from the credential scope.
    pub access_key_id: String,
    /// The raw `Credential` value (`AKID/date/region/service/aws4_request`).
    pub credential: String,
    /// Scope date `YYYYMMDD`.
    pub scope_date: String,
    /// Scope region.
    pub region: String,
    /// Scope service (signing name), e.g. `secretsmanager`, `sts`.
    pub service: String,
    /// Signed header names, lowercase, sorted.
    pub signed_headers: Vec<String>,
    /// The request date as sent (`YYYYMMDDTHHMMSSZ`).
    pub amz_date: String,
    /// The request date, Unix seconds.
    pub request_time: i64,
    /// `X-Amz-Expires` of a presigned request.
    pub expires: Option<i64>,
    /// The session token sent with the request, if any.
    pub security_token: Option<Secret>,
    signature: Vec<u8>,
}

impl std::fmt::Debug for SigV4Auth {
    // The signature stays out: it authenticates this very request for 15 minutes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigV4Auth")
            .field("location", &self.location)
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("amz_date", &self.amz_date)
            .field("expires", &self.expires)
            .field("security_token", &self.security_token)
            .finish_non_exhaustive()
    }
}

impl SigV4Auth {
    /// The signature as lowercase hex.
    pub fn signature_hex(&self) -> String {
        hex_encode(&self.signature)
    }
}

/// Why a request's SigV4 authentication failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SigV4Error {
    /// Required parts are missing or malformed (AWS: `IncompleteSignature`).
    #[error("{0}")]
    Incomplete(String),
    /// The signature does not match the request.
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    Mismatch,
    /// The request date is outside the allowed window.
    #[error("{0}")]
    Expired(String),
}

fn incomplete(msg: impl Into<String>) -> SigV4Error {
    SigV4Error::Incomplete(msg.into())
}

/// Splits a raw query string into raw (still encoded) `(name, value)` segments.
fn raw_query_pairs(query: &str) -> Vec<(&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect()
}

fn single_header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, SigV4Error> {
    let mut it = headers.get_all(name).iter();
    let Some(first) = it.next() else {
        return Ok(None);
    };
    if it.next().is_some() {
        return Err(incomplete(format!(
            "Multiple {name} headers are not allowed."
        )));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| incomplete(format!("The {name} header is not valid ASCII.")))
}

/// Parses the SigV4 authentication of a request. `Ok(None)` means unsigned (no
/// `Authorization` header and no `X-Amz-*` query authentication).
pub fn parse(uri: &Uri, headers: &HeaderMap) -> Result<Option<SigV4Auth>, SigV4Error> {
    let header = single_header(headers, "authorization")?;
    let mut query_auth: Vec<(String, String)> = Vec::new();
    for (k, v) in raw_query_pairs(uri.query().unwrap_or("")) {
        let name = percent_decode_bytes(k).map_err(|_| incomplete("Malformed query string."))?;
        let name = String::from_utf8(name).map_err(|_| incomplete("Malformed query string."))?;
        if let Some(p) = PRESIGN_PARAMS
            .iter()
            .find(|p| p.eq_ignore_ascii_case(&name))
        {
            if *p != name {
                return Err(incomplete(format!(
                    "Unexpected casing of query parameter {name}."
                )));
            }
            if query_auth.iter().any(|(n, _)| n == p) {
                return Err(incomplete(format!("Duplicate query parameter {name}.")));
            }
            let value = String::from_utf8(
                percent_decode_bytes(v).map_err(|_| incomplete("Malformed query string."))?,
            )
            .map_err(|_| incomplete("Malformed query string."))?;
            query_auth.push((name, value));
        }
    }
    let has_query_auth = query_auth
        .iter()
        .any(|(n, _)| n != "X-Amz-Security-Token" && n != "X-Amz-Date");
    match (header, has_query_auth) {
        (Some(_), true) => Err(incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        )),
        (Some(h), false) => parse_header(h, headers).map(Some),
        (None, true) => parse_query(&query_auth).map(Some),
        (None, false) => Ok(None),
    }
}

fn parse_header(value: &str, headers: &HeaderMap) -> Result<SigV4Auth, SigV4Error> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            incomplete(format!(
                "Authorization header must use the {ALGORITHM} algorithm: '{}'",
                value.split(' ').next().unwrap_or("")
            ))
        })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        let (k, v) = part.split_once('=').ok_or_else(|| {
            incomplete(format!(
                "Authorization header requires 'key=value' components: '{part}'"
            ))
        })?;
        let slot = match k {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => {
                return Err(incomplete(format!(
                    "Authorization header has an unknown component '{k}'."
                )))
            }
        };
        if slot.is_some() {
            return Err(incomplete(format!("Authorization header repeats '{k}'.")));
        }
        *slot = Some(v);
    }
    let credential = credential
        .ok_or_else(|| incomplete("Authorization header requires 'Credential' parameter."))?;
    let signed = signed
        .ok_or_else(|| incomplete("Authorization header requires 'SignedHeaders' parameter."))?;
    let signature = signature
        .ok_or_else(|| incomplete("Authorization header requires 'Signature' parameter."))?;
    let amz_date = single_header(headers, "x-amz-date")?.ok_or_else(|| {
        incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    })?;
    let token = single_header(headers, "x-amz-security-token")?.map(Secret::from);
    let auth = build(
        AuthLocation::Header,
        credential,
        signed,
        signature,
        amz_date,
        None,
        token,
    )?;
    if !auth.signed_headers.iter().any(|h| h == "x-amz-date") {
        return Err(incomplete("The x-amz-date header must be signed."));
    }
    Ok(auth)
}

fn parse_query(params: &[(String, String)]) -> Result<SigV4Auth, SigV4Error> {
    let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let missing = || {
        incomplete("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
    };
    let algorithm = get("X-Amz-Algorithm").ok_or_else(missing)?;
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "X-Amz-Algorithm only supports \"{ALGORITHM}\""
        )));
    }
    let credential = get("X-Amz-Credential").ok_or_else(missing)?;
    let signed = get("X-Amz-SignedHeaders").ok_or_else(missing)?;
    let signature = get("X-Amz-Signature").ok_or_else(missing)?;
    let amz_date = get("X-Amz-Date").ok_or_else(missing)?;
    let expires_raw = get("X-Amz-Expires").ok_or_else(missing)?;
    if expires_raw.is_empty()
        || expires_raw.len() > 7
        || !expires_raw.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(incomplete("X-Amz-Expires must be a number of seconds."));
    }
    let expires: i64 = expires_raw.parse().map_err(|_| missing())?;
    if !(1..=MAX_PRESIGN_EXPIRES).contains(&expires) {
        return Err(incomplete(
            "X-Amz-Expires must be between 1 and 604800 seconds.",
        ));
    }
    let token = get("X-Amz-Security-Token").map(Secret::from);
    build(
        AuthLocation::Query,
        credential,
        signed,
        signature,
        amz_date,
        Some(expires),
        token,
    )
}

fn build(
    location: AuthLocation,
    credential: &str,
    signed: &str,
    signature: &str,
    amz_date: &str,
    expires: Option<i64>,
    security_token: Option<Secret>,
) -> Result<SigV4Auth, SigV4Error> {
    let parts: Vec<&str> = credential.split('/').collect();
    if parts.len() != 5 || parts[4] != "aws4_request" {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid region, service and terminated with 'aws4_request': '{credential}'"
        )));
    }
    let (akid, date, region, service) = (parts[0], parts[1], parts[2], parts[3]);
    if akid.is_empty() || akid.len() > 128 || !akid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(incomplete("Credential has an invalid access key id."));
    }
    let valid_name = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !valid_name(region) || !valid_name(service) {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid region and service: '{credential}'"
        )));
    }
    let request_time = parse_amz_date(amz_date).ok_or_else(|| {
        incomplete(format!("Invalid X-Amz-Date '{amz_date}': expected the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'."))
    })?;
    if date.len() != 8 || date != &amz_date[..8] {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid date: '{date}' does not match the request date {}.",
            &amz_date[..8]
        )));
    }
    let signed_headers: Vec<String> = signed.split(';').map(str::to_string).collect();
    let well_formed = signed_headers.iter().all(|h| {
        !h.is_empty()
            && h.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.'
            })
    });
    let sorted = signed_headers.windows(2).all(|w| w[0] < w[1]);
    if !well_formed || !sorted {
        return Err(incomplete(
            "SignedHeaders must be lowercase header names, sorted and unique, separated by ';'.",
        ));
    }
    if !signed_headers.iter().any(|h| h == "host") {
        return Err(incomplete("The host header must be signed."));
    }
    if signature.len() != 64 {
        return Err(incomplete("Signature must be 64 lowercase hex characters."));
    }
    let signature = hex_decode_lower(signature)
        .map_err(|_| incomplete("Signature must be 64 lowercase hex characters."))?;
    Ok(SigV4Auth {
        location,
        access_key_id: akid.to_string(),
        credential: credential.to_string(),
        scope_date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
        amz_date: amz_date.to_string(),
        request_time,
        expires,
        security_token,
        signature,
    })
}

/// Whether a presigned request of `service` follows S3's rules: bound by
/// `X-Amz-Expires` alone, payload `UNSIGNED-PAYLOAD` allowed. Only S3
/// honours `X-Amz-Expires` for its full range: every other service keeps the fixed
/// 15-minute window of header signatures (AWS SDK for Go maintainers, "the expire
/// parameter only will be used for Amazon S3 presigned API requests. All other AWS
/// services will use a fixed request signature expiration of about 15 minutes",
/// <https://github.com/aws/aws-sdk-go/pull/2224>; S3's rule:
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>).
fn s3_presign_rules(service: &str) -> bool {
    service == "s3"
}

/// Checks the request date against `now`: within 15 minutes for header signatures.
/// A presigned request may not be dated more than 15 minutes ahead either; for S3 it
/// expires `X-Amz-Expires` seconds after its date, for every other service 15 minutes
/// after it whatever `X-Amz-Expires` says (AWS's fixed window there).
pub fn check_time(auth: &SigV4Auth, now: i64) -> Result<(), SigV4Error> {
    let t = auth.request_time;
    if t > now + MAX_SKEW_SECS {
        return Err(SigV4Error::Expired(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            auth.amz_date,
            format_amz_date(now + MAX_SKEW_SECS),
            format_amz_date(now)
        )));
    }
    let fifteen_minutes_past = t < now - MAX_SKEW_SECS;
    let expired_15_min = || {
        SigV4Error::Expired(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            auth.amz_date,
            format_amz_date(now - MAX_SKEW_SECS),
            format_amz_date(now)
        ))
    };
    // Only S3 honours `X-Amz-Expires`; every other service keeps its fixed 15-minute
    // window whatever the URL asks (aws-iam-authenticator's 60-second EKS tokens are
    // accepted by STS for 15 minutes).
    match auth.expires {
        Some(exp) if s3_presign_rules(&auth.service) => {
            if now > t + exp {
                Err(SigV4Error::Expired(format!(
                    "Signature expired: {} is now earlier than {} ({} - {exp} sec.)",
                    auth.amz_date,
                    format_amz_date(now - exp),
                    format_amz_date(now)
                )))
            } else {
                Ok(())
            }
        }
        _ if fifteen_minutes_past => Err(expired_15_min()),
        _ => Ok(()),
    }
}

/// The canonical URI of every service but S3: the path normalised ("Remove redundant
/// and relative path components", <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>:
/// empty and `.` segments dropped, `..` removes the segment before it, a trailing `/`
/// kept), then AWS URI encoding of the (already encoded) path. This is what the AWS
/// SDK signs (checked against `aws-sigv4` in `tests/it/sigv4_oracle.rs`).
pub fn canonical_uri(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    let mut normalised = format!("/{}", kept.join("/"));
    let trailing_slash = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    if trailing_slash && !normalised.ends_with('/') {
        normalised.push('/');
    }
    uri_encode(&normalised, true)
}

/// The canonical query string: every parameter decoded then AWS-encoded, sorted by name
/// then value; `X-Amz-Signature` left out when `skip_signature`.
pub fn canonical_query(query: &str, skip_signature: bool) -> Result<String, SigV4Error> {
    let mut pairs = Vec::new();
    for (k, v) in raw_query_pairs(query) {
        let k = percent_decode_bytes(k).map_err(|_| incomplete("Malformed query string."))?;
        let v = percent_decode_bytes(v).map_err(|_| incomplete("Malformed query string."))?;
        if skip_signature && k == b"X-Amz-Signature" {
            continue;
        }
        // Non-UTF-8 bytes are encoded byte-wise, as AWS does.
        let enc = |b: &[u8]| {
            let mut s = String::new();
            for &c in b {
                if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                    s.push(c as char);
                } else {
                    s.push_str(&format!("%{c:02X}"));
                }
            }
            s
        };
        pairs.push((enc(&k), enc(&v)));
    }
    pairs.sort();
    Ok(pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&"))
}

/// The canonical headers block (`name:value\n` per signed header; values trimmed, inner
/// runs of spaces collapsed, repeated headers joined by `,`).
pub fn canonical_headers(headers: &HeaderMap, signed: &[String]) -> Result<String, SigV4Error> {
    let mut out = String::new();
    for name in signed {
        let mut values = Vec::new();
        for v in headers.get_all(name.as_str()) {
            let v = v
                .to_str()
                .map_err(|_| incomplete(format!("Header {name} is not valid ASCII.")))?;
            values.push(v.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        if values.is_empty() {
            // A signed header that is absent cannot have been signed as sent.
            return Err(SigV4Error::Mismatch);
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// The full canonical request.
pub fn canonical_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    signed: &[String],
    payload_hash: &str,
    skip_signature_param: bool,
) -> Result<String, SigV4Error> {
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.as_str(),
        canonical_uri(uri.path()),
        canonical_query(uri.query().unwrap_or(""), skip_signature_param)?,
        canonical_headers(headers, signed)?,
        signed.join(";"),
        payload_hash
    ))
}

/// The SigV4 signing key for `(secret, date, region, service)`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

fn signature_for(
    secret: &str,
    auth_date: &str,
    scope_date: &str,
    region: &str,
    service: &str,
    canonical: &str,
) -> [u8; 32] {
    let scope = format!("{scope_date}/{region}/{service}/aws4_request");
    let sts = string_to_sign(auth_date, &scope, canonical);
    hmac_sha256(
        &signing_key(secret, scope_date, region, service),
        sts.as_bytes(),
    )
}

/// Verifies the signature of a request against `secret`. The payload hash is always the
/// SHA-256 of the body actually received; an `x-amz-content-sha256` header must agree
/// with it. Only a presigned S3 request with an empty body may have been signed with
/// `UNSIGNED-PAYLOAD` (S3's rule for presigned URLs); other services hash the body of
/// a presigned request like any other (STS expects the empty body's hash for a
/// presigned GET: its own "Canonical String ... should have been" answer quoted in
/// <https://github.com/boto/boto3/issues/756>, and botocore's `SigV4QueryAuth`).
pub fn verify(
    auth: &SigV4Auth,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
) -> Result<(), SigV4Error> {
    let body_hash = sha256_hex(body);
    if let Some(claimed) = single_header(headers, "x-amz-content-sha256")? {
        if claimed != body_hash && !(claimed == UNSIGNED_PAYLOAD && body.is_empty()) {
            return Err(SigV4Error::Mismatch);
        }
    }
    let skip = auth.location == AuthLocation::Query;
    let mut candidates = vec![body_hash];
    if skip && body.is_empty() && s3_presign_rules(&auth.service) {
        candidates.push(UNSIGNED_PAYLOAD.to_string());
    }
    if auth.location == AuthLocation::Header {
        if let Some(claimed) = single_header(headers, "x-amz-content-sha256")? {
            if claimed == UNSIGNED_PAYLOAD {
                candidates = vec![UNSIGNED_PAYLOAD.to_string()];
            }
        }
    }
    let mut ok = false;
    for hash in &candidates {
        let canonical = canonical_request(method, uri, headers, &auth.signed_headers, hash, skip)?;
        let expected = signature_for(
            secret,
            &auth.amz_date,
            &auth.scope_date,
            &auth.region,
            &auth.service,
            &canonical,
        );
        // Evaluate every candidate (no early exit on success) and compare in constant time.
        ok |= ct_eq(&expected, &auth.signature);
    }
    if ok {
        Ok(())
    } else {
        Err(SigV4Error::Mismatch)
    }
}

/// Credentials and scope for signing a request (clients, tests, the gateway's own calls
/// to LocalStack).
#[derive(Clone)]
pub struct SigningParams<'a> {
    /// Access key id.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret_access_key: &'a str,
    /// Session token, sent as `x-amz-security-token`.
    pub session_token: Option<&'a str>,
    /// Region of the scope.
    pub region: &'a str,
    /// Service (signing name) of the scope.
    pub service: &'a str,
    /// Request time, Unix seconds.
    pub time: i64,
}

/// Signs a request in the `Authorization` header. Adds `host` (from the URI when
/// absent), `x-amz-date` and `x-amz-security-token`; signs every header present except
/// `authorization`, `user-agent` and `content-length`. Fails when a header value or the
/// session token is not visible ASCII (nothing is signed then).
pub fn sign_request(
    method: &Method,
    uri: &Uri,
    headers: &mut HeaderMap,
    body: &[u8],
    p: &SigningParams<'_>,
) -> Result<(), SigV4Error> {
    let amz_date = format_amz_date(p.time);
    if !headers.contains_key("host") {
        if let Some(a) = uri.authority() {
            headers.insert("host", header_value(a.as_str())?);
        }
    }
    headers.remove("authorization");
    headers.insert("x-amz-date", header_value(&amz_date)?);
    if let Some(t) = p.session_token {
        headers.insert("x-amz-security-token", header_value(t)?);
    }
    let mut signed: Vec<String> = headers
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| {
            !matches!(
                k.as_str(),
                "authorization" | "user-agent" | "content-length"
            )
        })
        .collect();
    signed.sort();
    signed.dedup();
    let canonical = canonical_request(method, uri, headers, &signed, &sha256_hex(body), false)?;
    let date = scope_date_of(&amz_date);
    let sig = signature_for(
        p.secret_access_key,
        &amz_date,
        date,
        p.region,
        p.service,
        &canonical,
    );
    let value = format!(
        "{ALGORITHM} Credential={}/{date}/{}/{}/aws4_request, SignedHeaders={}, Signature={}",
        p.access_key_id,
        p.region,
        p.service,
        signed.join(";"),
        hex_encode(&sig)
    );
    headers.insert("authorization", header_value(&value)?);
    Ok(())
}

/// A header value, or an error naming why it cannot be one.
fn header_value(s: &str) -> Result<http::HeaderValue, SigV4Error> {
    http::HeaderValue::from_str(s)
        .map_err(|_| incomplete("A value to sign is not a valid header value (visible ASCII)."))
}

/// The `YYYYMMDD` of an amz date (the whole string when shorter, which
/// [`format_amz_date`] never produces).
fn scope_date_of(amz_date: &str) -> &str {
    amz_date.get(..8).unwrap_or(amz_date)
}

/// Builds a presigned URI (query-string authentication) for a request with an empty body
/// whose only signed header is `host`, as AWS SDKs presign: the payload hash is
/// `UNSIGNED-PAYLOAD` for S3 and the empty body's SHA-256 for every other service. Fails
/// when `uri` is not absolute (scheme and authority) or the result is not a valid URI.
pub fn presign_uri(
    method: &Method,
    uri: &Uri,
    expires: i64,
    p: &SigningParams<'_>,
) -> Result<Uri, SigV4Error> {
    let authority = uri
        .authority()
        .ok_or_else(|| incomplete("A presigned URI needs an absolute URI."))?;
    let amz_date = format_amz_date(p.time);
    let date = scope_date_of(&amz_date);
    let credential = format!(
        "{}/{date}/{}/{}/aws4_request",
        p.access_key_id, p.region, p.service
    );
    let mut query = uri.query().map(str::to_string).unwrap_or_default();
    let mut add = |k: &str, v: &str| {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&format!(
            "{}={}",
            uri_encode(k, false),
            uri_encode(v, false)
        ));
    };
    add("X-Amz-Algorithm", ALGORITHM);
    add("X-Amz-Credential", &credential);
    add("X-Amz-Date", &amz_date);
    add("X-Amz-Expires", &expires.to_string());
    add("X-Amz-SignedHeaders", "host");
    if let Some(t) = p.session_token {
        add("X-Amz-Security-Token", t);
    }
    let invalid = |_| incomplete("The presigned URI is not a valid URI.");
    let unsigned: Uri = format!(
        "{}://{}{}?{}",
        uri.scheme_str().unwrap_or("http"),
        authority.as_str(),
        uri.path(),
        query
    )
    .parse()
    .map_err(invalid)?;
    let mut headers = HeaderMap::new();
    headers.insert("host", header_value(authority.as_str())?);
    let canonical = canonical_request(
        method,
        &unsigned,
        &headers,
        &["host".to_string()],
        &if s3_presign_rules(p.service) {
            UNSIGNED_PAYLOAD.to_string()
        } else {
            sha256_hex(b"")
        },
        true,
    )?;
    let sig = signature_for(
        p.secret_access_key,
        &amz_date,
        date,
        p.region,
        p.service,
        &canonical,
    );
    format!("{unsigned}&X-Amz-Signature={}", hex_encode(&sig))
        .parse()
        .map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of AWS's "Create a canonical request" documentation (IAM ListUsers).
    #[test]
    fn aws_documentation_example() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let k = signing_key(secret, "20150830", "us-east-1", "iam");
        assert_eq!(
            hex_encode(&k),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        let uri: Uri = "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"
            .parse()
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let signed: Vec<String> = ["content-type", "host", "x-amz-date"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let canonical = canonical_request(
            &Method::GET,
            &uri,
            &headers,
            &signed,
            &sha256_hex(b""),
            false,
        )
        .unwrap();
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        let sig = signature_for(
            secret,
            "20150830T123600Z",
            "20150830",
            "us-east-1",
            "iam",
            &canonical,
        );
        assert_eq!(
            hex_encode(&sig),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
        headers.insert(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature={}", hex_encode(&sig))
                .parse()
                .unwrap(),
        );
        let auth = parse(&uri, &headers).unwrap().unwrap();
        assert_eq!(auth.access_key_id, "AKIDEXAMPLE");
        verify(&auth, &Method::GET, &uri, &headers, b"", secret).unwrap();
        assert_eq!(
            verify(&auth, &Method::GET, &uri, &headers, b"x", secret),
            Err(SigV4Error::Mismatch)
        );
        assert_eq!(
            verify(&auth, &Method::POST, &uri, &headers, b"", secret),
            Err(SigV4Error::Mismatch)
        );
        assert_eq!(
            verify(&auth, &Method::GET, &uri, &headers, b"", "other"),
            Err(SigV4Error::Mismatch)
        );
        let now = parse_amz_date("20150830T123600Z").unwrap();
        check_time(&auth, now).unwrap();
        check_time(&auth, now + 900).unwrap();
        assert!(check_time(&auth, now + 901).is_err());
        assert!(check_time(&auth, now - 901).is_err());
    }

    #[test]
    fn sign_then_verify_round_trip() {
        let uri: Uri = "http://127.0.0.1:4566/".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            "application/x-amz-json-1.1".parse().unwrap(),
        );
        headers.insert(
            "x-amz-target",
            "secretsmanager.GetSecretValue".parse().unwrap(),
        );
        let body = br#"{"SecretId":"a"}"#;
        let p = SigningParams {
            access_key_id: "AKIA1",
            secret_access_key: "s3cr3t",
            session_token: Some("tok"),
            region: "eu-west-3",
            service: "secretsmanager",
            time: 1_700_000_000,
        };
        sign_request(&Method::POST, &uri, &mut headers, body, &p).unwrap();
        let auth = parse(&uri, &headers).unwrap().unwrap();
        assert_eq!(
            auth.security_token.as_ref().map(Secret::expose),
            Some("tok")
        );
        assert!(!format!("{auth:?}").contains("tok\""), "{auth:?}");
        verify(&auth, &Method::POST, &uri, &headers, body, "s3cr3t").unwrap();
        assert!(verify(
            &auth,
            &Method::POST,
            &uri,
            &headers,
            br#"{"SecretId":"b"}"#,
            "s3cr3t"
        )
        .is_err());
        let mut h2 = headers.clone();
        h2.insert(
            "x-amz-target",
            "secretsmanager.DeleteSecret".parse().unwrap(),
        );
        assert!(verify(&auth, &Method::POST, &uri, &h2, body, "s3cr3t").is_err());
    }

    #[test]
    fn presigned_round_trip() {
        let uri: Uri = "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15"
            .parse()
            .unwrap();
        let p = SigningParams {
            access_key_id: "AKIA1",
            secret_access_key: "s3cr3t",
            session_token: None,
            region: "us-east-1",
            service: "sts",
            time: 1_700_000_000,
        };
        let signed = presign_uri(&Method::GET, &uri, 60, &p).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:4566".parse().unwrap());
        let auth = parse(&signed, &headers).unwrap().unwrap();
        assert_eq!(auth.location, AuthLocation::Query);
        verify(&auth, &Method::GET, &signed, &headers, b"", "s3cr3t").unwrap();
        check_time(&auth, 1_700_000_030).unwrap();
        // STS ignores X-Amz-Expires=60: its fixed 15-minute window applies.
        check_time(&auth, 1_700_000_061).unwrap();
        check_time(&auth, 1_700_000_000 + 15 * 60).unwrap();
        assert!(check_time(&auth, 1_700_000_000 + 15 * 60 + 1).is_err());
        let tampered: Uri = signed
            .to_string()
            .replace("GetCallerIdentity", "GetSessionToken")
            .parse()
            .unwrap();
        let auth2 = parse(&tampered, &headers).unwrap().unwrap();
        assert!(verify(&auth2, &Method::GET, &tampered, &headers, b"", "s3cr3t").is_err());
    }

    #[test]
    fn canonical_uri_normalises() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/a/./b/../c"), "/a/c");
        assert_eq!(canonical_uri("/a b"), "/a%20b");
        assert_eq!(canonical_uri("/a%20b"), "/a%2520b");
        assert_eq!(canonical_uri("/.."), "/");
        assert_eq!(canonical_uri("//"), "/");
        assert_eq!(canonical_uri("/a//b/"), "/a/b/");
        assert_eq!(canonical_uri("/a/b/.."), "/a/");
        assert_eq!(canonical_uri("a"), "/a");
    }

    #[test]
    fn malformed_headers_are_rejected() {
        let uri: Uri = "http://h/".parse().unwrap();
        let cases = [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA1 Credential=a/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
            "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date",
            "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/iam, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000",
            "AWS4-HMAC-SHA256 Credential=a/20150831/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000",
            "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/iam/aws4_request, SignedHeaders=x-amz-date;host, Signature=0000000000000000000000000000000000000000000000000000000000000000",
            "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/iam/aws4_request, SignedHeaders=x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000",
            "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=ZZ00000000000000000000000000000000000000000000000000000000000000",
            "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/iam/aws4_request, Credential=a/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000",
            "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000",
            "AWS AKID:sig",
            "Bearer x",
        ];
        for c in cases {
            let mut headers = HeaderMap::new();
            headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
            headers.insert("authorization", c.parse().unwrap());
            assert!(parse(&uri, &headers).is_err(), "{c}");
        }
        // Header and query authentication together.
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert("authorization", "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000".parse().unwrap());
        let uri: Uri = "http://h/?X-Amz-Signature=00".parse().unwrap();
        assert!(parse(&uri, &headers).is_err());
        // Unsigned.
        assert!(parse(&"http://h/".parse().unwrap(), &HeaderMap::new())
            .unwrap()
            .is_none());
    }
}
