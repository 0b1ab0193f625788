//! Forged and malformed requests: every one is denied, nothing reaches LocalStack, and
//! the gateway keeps serving.

use crate::common::*;
use aws_wire::encoding::base64url_encode;
use aws_wire::sigv4::{presign_uri, sign_request, SigningParams};
use aws_wire::time::{format_amz_date, unix_now};
use http::{HeaderMap, Method, Uri};
use serde_json::json;

struct Case {
    name: &'static str,
    method: &'static str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Expected error code in the body (`None`: any denial).
    code: Option<&'static str>,
}

fn signed_json(
    ep: &str,
    akid: &str,
    secret: &str,
    token: Option<&str>,
    target: &str,
    body: &str,
    time: i64,
) -> (Vec<(String, String)>, Vec<u8>) {
    let uri: Uri = format!("{ep}/").parse().unwrap();
    let mut h = HeaderMap::new();
    h.insert(
        "content-type",
        "application/x-amz-json-1.1".parse().unwrap(),
    );
    h.insert("x-amz-target", target.parse().unwrap());
    sign_request(
        &Method::POST,
        &uri,
        &mut h,
        body.as_bytes(),
        &SigningParams {
            access_key_id: akid,
            secret_access_key: secret,
            session_token: token,
            region: REGION,
            service: "secretsmanager",
            time,
        },
    )
    .expect("signing a test request");
    (
        h.iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect(),
        body.as_bytes().to_vec(),
    )
}

fn signed_query(
    ep: &str,
    akid: &str,
    secret: &str,
    body: &str,
    service: &str,
) -> Vec<(String, String)> {
    let uri: Uri = format!("{ep}/").parse().unwrap();
    let mut h = HeaderMap::new();
    h.insert(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8"
            .parse()
            .unwrap(),
    );
    sign_request(
        &Method::POST,
        &uri,
        &mut h,
        body.as_bytes(),
        &SigningParams {
            access_key_id: akid,
            secret_access_key: secret,
            session_token: None,
            region: "us-east-1",
            service,
            time: unix_now(),
        },
    )
    .expect("signing a test request");
    h.iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
        .collect()
}

fn set(h: &mut Vec<(String, String)>, name: &str, value: &str) {
    h.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    h.push((name.to_string(), value.to_string()));
}

fn get(h: &[(String, String)], name: &str) -> String {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_malformed_requests_are_all_denied() {
    let ls = localstack().await;
    let issuer = Issuer::new(&format!("https://oidc.example.test/id/{}", account()));
    let unconfigured = Issuer::new(&format!("https://oidc.unconfigured.test/id/{}", account()));
    let mut config = gateway::Config::new(&ls, "127.0.0.1:0".parse().unwrap());
    config.max_body_bytes = 64 * 1024;
    let gw = gateway_with(config.with_oidc_issuer(&issuer.url, issuer.jwks())).await;
    let ep = gw.endpoint();
    let acct = account();
    let victim = secret(&ep, &acct, "victim/db", "v").await;
    let u = user_with_policy(
        &ep,
        &acct,
        "mallory",
        &allow(&["secretsmanager:*", "sts:*"], &["*"]),
    )
    .await;
    let (akid, sk) = (u.0.clone(), u.1.clone());
    oidc_provider(&ep, &acct, &issuer, &["sts.amazonaws.com"]).await;
    oidc_provider(&ep, &acct, &unconfigured, &["sts.amazonaws.com"]).await;
    let host = issuer.url.trim_start_matches("https://").to_string();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws:iam::{acct}:oidc-provider/{host}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {format!("{host}:sub"): "system:serviceaccount:eso:eso"}}}]});
    let role_arn = role(
        &ep,
        &acct,
        "eso",
        &trust,
        &allow(&["secretsmanager:*"], &["*"]),
    )
    .await;
    // Keys for the deleted-key and session cases.
    gw.handle()
        .register_user_key(&acct, "mallory", "AKIADELETED0001", "deleted-secret");
    gw.handle().remove_key("AKIADELETED0001");
    gw.handle()
        .register_role_session(
            &role_arn,
            "old",
            "ASIAEXPIRED0001",
            "expired-secret",
            "expired-token",
            unix_now() - 10,
        )
        .await
        .expect("role exists");
    gw.handle()
        .register_role_session(
            &role_arn,
            "live",
            "ASIALIVE00000001",
            "live-secret",
            "live-token",
            unix_now() + 3600,
        )
        .await
        .expect("role exists");

    let del = format!(r#"{{"SecretId":"{victim}","ForceDeleteWithoutRecovery":true}}"#);
    let target = "secretsmanager.DeleteSecret";
    let now = unix_now();
    let sj = |akid: &str, sk: &str, token: Option<&str>, time: i64| {
        signed_json(&ep, akid, sk, token, target, &del, time)
    };
    let mut cases: Vec<Case> = Vec::new();
    let mut json_case = |name: &'static str,
                         headers: Vec<(String, String)>,
                         body: Vec<u8>,
                         code: Option<&'static str>| {
        cases.push(Case {
            name,
            method: "POST",
            url: format!("{ep}/"),
            headers,
            body,
            code,
        });
    };

    // --- SigV4, JSON protocol (a DeleteSecret the key would be allowed to do) ---
    let (h, b) = sj(&akid, "wrong-secret", None, now);
    json_case("wrong secret", h, b, Some("InvalidSignatureException"));
    let (h, _) = sj(&akid, &sk, None, now);
    json_case(
        "body tampered after signing",
        h,
        del.replace("victim/db", "victim/xx")
            .replace(&victim, "victim/db")
            .into_bytes(),
        Some("InvalidSignatureException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    h.retain(|(k, _)| k != "x-amz-target");
    h.push((
        "x-amz-target".into(),
        "secretsmanager.PutSecretValue".into(),
    ));
    json_case(
        "target header tampered after signing",
        h,
        b,
        Some("InvalidSignatureException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    let auth = get(&h, "authorization");
    let last = auth.chars().last().unwrap();
    let flipped = format!(
        "{}{}",
        &auth[..auth.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    set(&mut h, "authorization", &flipped);
    json_case(
        "one signature digit flipped",
        h,
        b,
        Some("InvalidSignatureException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    let up = get(&h, "authorization");
    let i = up.find("Signature=").unwrap() + 10;
    set(
        &mut h,
        "authorization",
        &format!("{}{}", &up[..i], up[i..].to_uppercase()),
    );
    json_case(
        "signature in uppercase hex",
        h,
        b,
        Some("IncompleteSignatureException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    let a = get(&h, "authorization");
    set(&mut h, "authorization", &a[..a.len() - 2]);
    json_case(
        "signature truncated",
        h,
        b,
        Some("IncompleteSignatureException"),
    );
    let (h, b) = sj(&akid, &sk, None, now - 20 * 60);
    json_case(
        "stale date (20 minutes old)",
        h,
        b,
        Some("InvalidSignatureException"),
    );
    let (h, b) = sj(&akid, &sk, None, now + 20 * 60);
    json_case(
        "date 20 minutes in the future",
        h,
        b,
        Some("InvalidSignatureException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    set(&mut h, "x-amz-date", &format_amz_date(now - 86_400));
    json_case(
        "scope date differs from x-amz-date",
        h,
        b,
        Some("IncompleteSignatureException"),
    );
    let (h, b) = sj("AKIAUNKNOWN000001", "x", None, now);
    json_case(
        "unknown access key",
        h,
        b,
        Some("UnrecognizedClientException"),
    );
    let (h, b) = sj("AKIADELETED0001", "deleted-secret", None, now);
    json_case(
        "deleted access key",
        h,
        b,
        Some("UnrecognizedClientException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    h.retain(|(k, _)| k != "x-amz-date");
    json_case(
        "missing x-amz-date",
        h,
        b,
        Some("IncompleteSignatureException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    let a = get(&h, "authorization").replace("host;", "");
    set(&mut h, "authorization", &a);
    json_case("host not signed", h, b, None);
    let (mut h, b) = sj(&akid, &sk, None, now);
    let a = get(&h, "authorization").replace(
        "SignedHeaders=content-type;host;",
        "SignedHeaders=host;content-type;",
    );
    set(&mut h, "authorization", &a);
    json_case(
        "signed headers unsorted",
        h,
        b,
        Some("IncompleteSignatureException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    let a = get(&h, "authorization").replace("/aws4_request", "");
    set(&mut h, "authorization", &a);
    json_case(
        "credential scope without terminator",
        h,
        b,
        Some("IncompleteSignatureException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    let a = get(&h, "authorization").replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1");
    set(&mut h, "authorization", &a);
    json_case(
        "wrong algorithm",
        h,
        b,
        Some("IncompleteSignatureException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    set(&mut h, "authorization", &format!("AWS {akid}:c2lnbmF0dXJl"));
    json_case(
        "signature version 2",
        h,
        b,
        Some("IncompleteSignatureException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    set(&mut h, "authorization", "Bearer eyJhbGciOiJub25lIn0.e30.");
    json_case("bearer token", h, b, Some("IncompleteSignatureException"));
    let (mut h, b) = sj(&akid, &sk, None, now);
    let a = get(&h, "authorization");
    h.push(("authorization".into(), a));
    json_case(
        "duplicate Authorization header",
        h,
        b,
        Some("IncompleteSignatureException"),
    );
    let (h, b) = sj(&akid, &sk, None, now);
    cases.push(Case {
        name: "header and query authentication together",
        method: "POST",
        url: format!("{ep}/?X-Amz-Signature=00&X-Amz-Algorithm=AWS4-HMAC-SHA256"),
        headers: h,
        body: b,
        code: Some("IncompleteSignatureException"),
    });
    let mut json_case = |name: &'static str,
                         headers: Vec<(String, String)>,
                         body: Vec<u8>,
                         code: Option<&'static str>| {
        cases.push(Case {
            name,
            method: "POST",
            url: format!("{ep}/"),
            headers,
            body,
            code,
        });
    };
    let (mut h, b) = sj(&akid, &sk, None, now);
    h.push(("x-amz-content-sha256".into(), "0".repeat(64)));
    json_case(
        "x-amz-content-sha256 does not match the body",
        h,
        b,
        Some("InvalidSignatureException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    let a = get(&h, "authorization").replace("x-amz-target", "x-amz-target;x-forged");
    set(&mut h, "authorization", &a);
    json_case(
        "signed header absent from the request",
        h,
        b,
        Some("InvalidSignatureException"),
    );
    let (h, b) = sj("ASIALIVE00000001", "live-secret", Some("wrong-token"), now);
    json_case(
        "session key with a wrong token",
        h,
        b,
        Some("UnrecognizedClientException"),
    );
    let (h, b) = sj("ASIALIVE00000001", "live-secret", None, now);
    json_case(
        "session key without its token",
        h,
        b,
        Some("UnrecognizedClientException"),
    );
    let (h, b) = sj(&akid, &sk, Some("a-token"), now);
    json_case(
        "long-term key with a session token",
        h,
        b,
        Some("UnrecognizedClientException"),
    );
    let (h, b) = sj(
        "ASIAEXPIRED0001",
        "expired-secret",
        Some("expired-token"),
        now,
    );
    json_case("expired session", h, b, Some("ExpiredTokenException"));
    json_case(
        "no authentication at all",
        vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("x-amz-target".into(), target.into()),
        ],
        del.clone().into_bytes(),
        Some("MissingAuthenticationTokenException"),
    );
    let (h, b) = signed_json(
        &ep,
        &akid,
        &sk,
        None,
        "TrentService.ScheduleKeyDeletion",
        r#"{"KeyId":"x"}"#,
        now,
    );
    json_case(
        "KMS target signed for secretsmanager",
        h,
        b,
        Some("SerializationException"),
    );
    let (h, b) = signed_json(&ep, &akid, &sk, None, target, "{not json", now);
    json_case("malformed JSON body", h, b, Some("SerializationException"));
    let (h, b) = signed_json(&ep, &akid, &sk, None, target, "[1,2]", now);
    json_case(
        "JSON body that is not an object",
        h,
        b,
        Some("SerializationException"),
    );
    let (h, b) = signed_json(&ep, &akid, &sk, None, "secretsmanager", "{}", now);
    json_case(
        "X-Amz-Target without operation",
        h,
        b,
        Some("SerializationException"),
    );
    let big = format!(
        r#"{{"SecretId":"{victim}","Pad":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let (h, b) = signed_json(&ep, &akid, &sk, None, target, &big, now);
    json_case(
        "body above the limit",
        h,
        b,
        Some("RequestEntityTooLargeException"),
    );
    let (mut h, b) = sj(&akid, &sk, None, now);
    set(&mut h, "x-amz-date", "2024-01-01T00:00:00Z");
    json_case(
        "x-amz-date in the wrong format",
        h,
        b,
        Some("IncompleteSignatureException"),
    );

    // --- Query protocol and presigned URLs ---
    let dup = "Action=GetCallerIdentity&Version=2011-06-15&Action=AssumeRole";
    cases.push(Case {
        name: "duplicated Action parameter",
        method: "POST",
        url: format!("{ep}/"),
        headers: signed_query(&ep, &akid, &sk, dup, "sts"),
        body: dup.into(),
        code: Some("MalformedInput"),
    });
    let bad = "Action=GetCallerIdentity&Version=%zz";
    cases.push(Case {
        name: "bad percent-encoding in the form",
        method: "POST",
        url: format!("{ep}/"),
        headers: signed_query(&ep, &akid, &sk, bad, "sts"),
        body: bad.into(),
        code: Some("MalformedInput"),
    });
    let xml_body = "<GetCallerIdentity><Version>2011-06-15</Version></GetCallerIdentity>";
    let mut xh = signed_query(&ep, &akid, &sk, xml_body, "iam");
    set(&mut xh, "content-type", "text/xml");
    // The signature covers content-type, so re-sign with text/xml.
    let uri: Uri = format!("{ep}/").parse().unwrap();
    let mut hm = HeaderMap::new();
    hm.insert("content-type", "text/xml".parse().unwrap());
    sign_request(
        &Method::POST,
        &uri,
        &mut hm,
        xml_body.as_bytes(),
        &SigningParams {
            access_key_id: &akid,
            secret_access_key: &sk,
            session_token: None,
            region: "us-east-1",
            service: "iam",
            time: now,
        },
    )
    .expect("signing a test request");
    let xh: Vec<(String, String)> = hm
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
        .collect();
    cases.push(Case {
        name: "XML body instead of a form (no action)",
        method: "POST",
        url: format!("{ep}/"),
        headers: xh,
        body: xml_body.into(),
        code: Some("MalformedInput"),
    });
    let q = "Action=ListUsers&Version=2010-05-08";
    cases.push(Case {
        name: "IAM call from a non-root user (unmodelled)",
        method: "POST",
        url: format!("{ep}/"),
        headers: signed_query(&ep, &akid, &sk, q, "iam"),
        body: q.into(),
        code: Some("AccessDenied"),
    });
    let uri: Uri = format!("{ep}/?Action=GetCallerIdentity&Version=2011-06-15")
        .parse()
        .unwrap();
    let p = |time| SigningParams {
        access_key_id: &akid,
        secret_access_key: &sk,
        session_token: None,
        region: "us-east-1",
        service: "sts",
        time,
    };
    // Outside S3, X-Amz-Expires is not honoured: STS's fixed 15-minute window is.
    let expired = presign_uri(&Method::GET, &uri, 3600, &p(now - 16 * 60))
        .expect("presigning")
        .to_string();
    cases.push(Case {
        name: "presigned STS URL past its 15-minute window (an hour asked)",
        method: "GET",
        url: expired,
        headers: vec![],
        body: vec![],
        code: Some("SignatureDoesNotMatch"),
    });
    let good = presign_uri(&Method::GET, &uri, 60, &p(now))
        .expect("presigning")
        .to_string();
    cases.push(Case {
        name: "presigned URL with X-Amz-Expires above 7 days",
        method: "GET",
        url: good.replace("X-Amz-Expires=60", "X-Amz-Expires=604801"),
        headers: vec![],
        body: vec![],
        code: Some("IncompleteSignature"),
    });
    let no_sig = good.split("&X-Amz-Signature=").next().unwrap().to_string();
    cases.push(Case {
        name: "presigned URL without signature",
        method: "GET",
        url: no_sig,
        headers: vec![],
        body: vec![],
        code: Some("IncompleteSignature"),
    });
    cases.push(Case {
        name: "presigned URL with a duplicated credential",
        method: "GET",
        url: format!("{good}&X-Amz-Credential=x"),
        headers: vec![],
        body: vec![],
        code: Some("IncompleteSignature"),
    });
    cases.push(Case {
        name: "presigned URL with an extra parameter",
        method: "GET",
        url: good.replace("Version=2011-06-15", "Version=2011-06-15&Extra=1"),
        headers: vec![],
        body: vec![],
        code: Some("SignatureDoesNotMatch"),
    });
    let internal: Uri = format!("{ep}/_localstack/state/reset").parse().unwrap();
    let mut hm = HeaderMap::new();
    sign_request(
        &Method::POST,
        &internal,
        &mut hm,
        b"",
        &SigningParams {
            access_key_id: &akid,
            secret_access_key: &sk,
            session_token: None,
            region: REGION,
            service: "secretsmanager",
            time: now,
        },
    )
    .expect("signing a test request");
    let ih: Vec<(String, String)> = hm
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
        .collect();
    cases.push(Case {
        name: "correctly signed request to a LocalStack internal path",
        method: "POST",
        url: internal.to_string(),
        headers: ih,
        body: vec![],
        code: Some("AccessDenied"),
    });
    cases.push(Case {
        name: "unsigned GetSecretValue",
        method: "POST",
        url: format!("{ep}/"),
        headers: vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            (
                "x-amz-target".into(),
                "secretsmanager.GetSecretValue".into(),
            ),
        ],
        body: format!(r#"{{"SecretId":"{victim}"}}"#).into_bytes(),
        code: Some("MissingAuthenticationTokenException"),
    });

    // --- Web identity tokens ---
    let now = unix_now();
    let claims = |sub: &str, aud: &str, iss: &str, exp: i64| json!({"iss": iss, "sub": sub, "aud": aud, "exp": exp, "iat": now - 5});
    let good_claims = claims(
        "system:serviceaccount:eso:eso",
        "sts.amazonaws.com",
        &issuer.url,
        now + 600,
    );
    let b64 = |v: &serde_json::Value| base64url_encode(v.to_string().as_bytes());
    let hmac_with_public_key = {
        let input = format!(
            "{}.{}",
            b64(&json!({"alg": "HS256", "kid": KEY_ID})),
            b64(&good_claims)
        );
        let tag = aws_wire::crypto::hmac_sha256(issuer.jwks_json().as_bytes(), input.as_bytes());
        format!("{input}.{}", base64url_encode(&tag))
    };
    let valid = issuer.sign_raw(&json!({"alg": "ES256", "kid": KEY_ID}), &good_claims);
    let vparts: Vec<&str> = valid.split('.').collect();
    let tokens: Vec<(&'static str, String, &'static str)> = vec![
        ("alg none", format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&good_claims)), "InvalidIdentityToken"),
        ("alg none with a signature", format!("{}.{}.c2ln", b64(&json!({"alg": "none"})), b64(&good_claims)), "InvalidIdentityToken"),
        ("HS256 signed with the public JWKS", hmac_with_public_key, "InvalidIdentityToken"),
        ("token for another audience", issuer.token("system:serviceaccount:eso:eso", "not-sts", 600), "InvalidIdentityToken"),
        ("token from an issuer without an IAM provider", Issuer::new("https://evil.example/id/1").token("system:serviceaccount:eso:eso", "sts.amazonaws.com", 600), "InvalidIdentityToken"),
        ("issuer with provider but no configured keys", unconfigured.token("system:serviceaccount:eso:eso", "sts.amazonaws.com", 600), "InvalidIdentityToken"),
        ("token for another subject", issuer.token("system:serviceaccount:kube-system:admin", "sts.amazonaws.com", 600), "AccessDenied"),
        ("expired token", issuer.token("system:serviceaccount:eso:eso", "sts.amazonaws.com", -1), "ExpiredTokenException"),
        ("token not yet valid (nbf)", issuer.sign_raw(&json!({"alg": "ES256", "kid": KEY_ID}), &json!({"iss": issuer.url, "sub": "system:serviceaccount:eso:eso", "aud": "sts.amazonaws.com", "exp": now + 600, "nbf": now + 3600})), "InvalidIdentityToken"),
        ("token without exp", issuer.sign_raw(&json!({"alg": "ES256", "kid": KEY_ID}), &json!({"iss": issuer.url, "sub": "system:serviceaccount:eso:eso", "aud": "sts.amazonaws.com"})), "InvalidIdentityToken"),
        ("two-part JWT", format!("{}.{}", vparts[0], vparts[1]), "InvalidIdentityToken"),
        ("garbage base64", "!!!.@@@.###".to_string(), "InvalidIdentityToken"),
        ("payload not JSON", format!("{}.{}.{}", vparts[0], base64url_encode(b"not json"), vparts[2]), "InvalidIdentityToken"),
        ("signature stripped", format!("{}.{}.", vparts[0], vparts[1]), "InvalidIdentityToken"),
        ("claims swapped under a valid signature", format!("{}.{}.{}", vparts[0], b64(&claims("system:serviceaccount:kube-system:admin", "sts.amazonaws.com", &issuer.url, now + 600)), vparts[2]), "InvalidIdentityToken"),
        ("unknown kid", issuer.sign_raw(&json!({"alg": "ES256", "kid": "nope"}), &good_claims), "InvalidIdentityToken"),
        ("signed by another key", Issuer::new(&issuer.url).token("system:serviceaccount:eso:eso", "sts.amazonaws.com", 600), "InvalidIdentityToken"),
        ("critical header", issuer.sign_raw(&json!({"alg": "ES256", "kid": KEY_ID, "crit": ["exp"]}), &good_claims), "InvalidIdentityToken"),
        ("RS256 header over an EC key", format!("{}.{}.{}", b64(&json!({"alg": "RS256", "kid": KEY_ID})), vparts[1], vparts[2]), "InvalidIdentityToken"),
        ("http issuer", issuer.sign_raw(&json!({"alg": "ES256", "kid": KEY_ID}), &claims("system:serviceaccount:eso:eso", "sts.amazonaws.com", &issuer.url.replace("https://", "http://"), now + 600)), "InvalidIdentityToken"),
        ("token header is not JSON", format!("{}.{}.{}", base64url_encode(b"{alg"), vparts[1], vparts[2]), "InvalidIdentityToken"),
        ("oversized token", "a".repeat(25_000), "InvalidIdentityToken"),
    ];
    for (name, token, code) in tokens {
        let body = form(&[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "s"),
            ("WebIdentityToken", &token),
        ]);
        cases.push(Case {
            name,
            method: "POST",
            url: format!("{ep}/"),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: body.into_bytes(),
            code: Some(code),
        });
    }
    let body = form(&[
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", &role_arn),
        ("RoleSessionName", "s"),
    ]);
    cases.push(Case {
        name: "web identity without a token",
        method: "POST",
        url: format!("{ep}/"),
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: body.into_bytes(),
        code: Some("ValidationError"),
    });
    let other_role = format!("arn:aws:iam::{}:role/eso", account());
    let body = form(&[
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", &other_role),
        ("RoleSessionName", "s"),
        ("WebIdentityToken", &valid),
    ]);
    cases.push(Case {
        name: "valid token for a role in an account without the provider",
        method: "POST",
        url: format!("{ep}/"),
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: body.into_bytes(),
        code: Some("InvalidIdentityToken"),
    });
    let body = form(&[
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", &role_arn),
        ("RoleSessionName", "s"),
    ]);
    cases.push(Case {
        name: "unsigned AssumeRole",
        method: "POST",
        url: format!("{ep}/"),
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: body.into_bytes(),
        code: Some("MissingAuthenticationToken"),
    });

    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let total = cases.len();
    eprintln!("{total} forged or malformed requests");
    for c in cases {
        let headers: Vec<(&str, &str)> = c
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, body) = raw(c.method, &c.url, &headers, &c.body).await;
        if std::env::var_os("SMA_SECURITY_VERBOSE").is_some() {
            eprintln!(
                "{:<60} {status} {}",
                c.name,
                body.chars()
                    .filter(|c| *c != '\n')
                    .take(150)
                    .collect::<String>()
            );
        }
        assert!(
            status >= 400,
            "case '{}' was not denied: {status} {body}",
            c.name
        );
        if let Some(code) = c.code {
            assert!(
                body.contains(code),
                "case '{}': expected {code}, got {status} {body}",
                c.name
            );
        }
    }
    // Still serving, and nothing forged reached LocalStack: the victim secret exists.
    let (status, _) = raw("GET", &format!("{ep}/_sma/health"), &[], b"").await;
    assert_eq!(status, 200);
    sm(&ep, &root(&acct))
        .describe_secret()
        .secret_id(&victim)
        .send()
        .await
        .expect("victim secret untouched");
    // And a genuine request with the same key still works.
    sm(&ep, &u)
        .get_secret_value()
        .secret_id(&victim)
        .send()
        .await
        .expect("genuine request allowed");
    let denials = gw
        .handle()
        .decisions()
        .iter()
        .filter(|d| d.decision != "Allow")
        .count();
    assert!(
        denials >= total - 3,
        "{denials} denials logged for {total} cases"
    );
    gw.shutdown().await;
}

/// A secretsmanager JSON request signed by `c` in `REGION`: `(status, body)`.
async fn sm_raw(ep: &str, c: &Creds, op: &str, body: &serde_json::Value) -> (u16, String) {
    let (h, b) = signed_json(
        ep,
        &c.0,
        &c.1,
        c.2.as_deref(),
        &format!("secretsmanager.{op}"),
        &body.to_string(),
        unix_now(),
    );
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    raw("POST", &format!("{ep}/"), &h, &b).await
}

/// F4: `aws:TagKeys` is set for TagResource and UntagResource, and tags the gateway
/// cannot read are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_keys_are_checked_on_tag_and_untag() {
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let acct = account();
    let arn = secret(&ep, &acct, "tagged/db", "v").await;
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["secretsmanager:TagResource", "secretsmanager:UntagResource"],
         "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}}]});
    let u = user_with_policy(&ep, &acct, "tagger", &policy).await;
    let tag = |k: &str| json!({"SecretId": arn, "Tags": [{"Key": k, "Value": "x"}]});
    let untag = |k: &str| json!({"SecretId": arn, "TagKeys": [k]});
    let (s, b) = sm_raw(&ep, &u, "TagResource", &tag("team")).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = sm_raw(&ep, &u, "TagResource", &tag("owner")).await;
    assert!(s == 400 && b.contains("AccessDeniedException"), "{s} {b}");
    let (s, b) = sm_raw(&ep, &u, "UntagResource", &untag("owner")).await;
    assert!(s == 400 && b.contains("AccessDeniedException"), "{s} {b}");
    let (s, b) = sm_raw(&ep, &u, "UntagResource", &untag("team")).await;
    assert_eq!(s, 200, "{b}");
    for bad in [
        json!({"SecretId": arn, "Tags": [{"Key": "owner", "Value": 5}]}),
        json!({"SecretId": arn, "Tags": [{"Key": "owner"}]}),
        json!({"SecretId": arn, "Tags": ["owner"]}),
        json!({"SecretId": arn, "Tags": {"Key": "owner", "Value": "x"}}),
    ] {
        let (s, b) = sm_raw(&ep, &u, "TagResource", &bad).await;
        assert!(
            s == 400 && b.contains("AccessDeniedException") && b.contains("tags cannot be checked"),
            "{bad}: {s} {b}"
        );
    }
    let (s, b) = sm_raw(
        &ep,
        &u,
        "UntagResource",
        &json!({"SecretId": arn, "TagKeys": [1]}),
    )
    .await;
    assert!(s == 400 && b.contains("AccessDeniedException"), "{s} {b}");
    let tags = sm(&ep, &root(&acct))
        .describe_secret()
        .secret_id(&arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap_or_default();
    assert!(tags.is_empty(), "{tags:?}");
    gw.shutdown().await;
}

/// F5: parameters that act on another resource (rotation Lambda, KMS key, replicas) are
/// denied for non-root callers, even with `secretsmanager:*`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_acting_on_other_resources_are_denied() {
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let acct = account();
    let arn = secret(&ep, &acct, "param/db", "v").await;
    let u = user_with_policy(&ep, &acct, "admin", &allow(&["secretsmanager:*"], &["*"])).await;
    let lambda = format!("arn:aws:lambda:{REGION}:{acct}:function:rotator");
    let key = format!("arn:aws:kms:{REGION}:{acct}:key/00000000-0000-0000-0000-000000000000");
    let cases = [
        (
            "RotateSecret",
            "RotationLambdaARN",
            json!({"SecretId": arn, "RotationLambdaARN": lambda}),
        ),
        (
            "UpdateSecret",
            "KmsKeyId",
            json!({"SecretId": arn, "KmsKeyId": key}),
        ),
        (
            "CreateSecret",
            "KmsKeyId",
            json!({"Name": "param/new1", "SecretString": "v", "KmsKeyId": key}),
        ),
        (
            "CreateSecret",
            "AddReplicaRegions",
            json!({"Name": "param/new2", "SecretString": "v", "AddReplicaRegions": [{"Region": "us-west-2"}]}),
        ),
        (
            "CreateSecret",
            "ForceOverwriteReplicaSecret",
            json!({"Name": "param/new3", "SecretString": "v", "ForceOverwriteReplicaSecret": true}),
        ),
    ];
    for (op, param, body) in cases {
        let (s, b) = sm_raw(&ep, &u, op, &body).await;
        assert!(
            s == 400
                && b.contains("AccessDeniedException")
                && b.contains(&format!("parameter {param}"))
                && b.contains("does not model"),
            "{op} with {param}: {s} {b}"
        );
    }
    // Without those parameters the same actions are allowed.
    let (s, b) = sm_raw(
        &ep,
        &u,
        "UpdateSecret",
        &json!({"SecretId": arn, "Description": "d", "ClientRequestToken": "7d3f1c1e-5b0a-4c2e-9a51-0d6d3a8f2b11"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = sm_raw(
        &ep,
        &u,
        "CreateSecret",
        &json!({"Name": "param/plain", "SecretString": "v", "ClientRequestToken": "1b2c3d4e-5b0a-4c2e-9a51-0d6d3a8f2b12"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    gw.shutdown().await;
}

/// F6: a SecretId ARN in another region than the signing region is refused (LocalStack
/// would act in the ARN's region, out of reach of `aws:RequestedRegion` conditions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_arn_in_another_region_is_denied() {
    use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let acct = account();
    let other = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-west-2"))
            .endpoint_url(&ep)
            .credentials_provider(Credentials::new(&acct, "test", None, None, "t"))
            .build(),
    );
    let far = other
        .create_secret()
        .name("far/db")
        .secret_string("far-value")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    assert!(far.contains(":us-west-2:"), "{far}");
    let near = secret(&ep, &acct, "near/db", "near-value").await;
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": REGION}}}]});
    let u = user_with_policy(&ep, &acct, "regional", &policy).await;
    let (s, b) = sm_raw(&ep, &u, "GetSecretValue", &json!({"SecretId": far})).await;
    assert!(
        s == 400 && b.contains("AccessDeniedException") && b.contains("another region"),
        "{s} {b}"
    );
    assert!(!b.contains("far-value"));
    let (s, b) = sm_raw(
        &ep,
        &u,
        "BatchGetSecretValue",
        &json!({"SecretIdList": [far, near]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    let values = v["SecretValues"].as_array().unwrap();
    assert_eq!(values.len(), 1, "{b}");
    assert_eq!(values[0]["SecretString"], "near-value");
    let errors = v["Errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["SecretId"] == far.as_str() && e["ErrorCode"] == "AccessDeniedException"),
        "{b}"
    );
    assert!(!b.contains("far-value"));
    // The same-region ARN still works.
    let (s, b) = sm_raw(&ep, &u, "GetSecretValue", &json!({"SecretId": near})).await;
    assert_eq!(s, 200, "{b}");
    gw.shutdown().await;
}

/// F7: a root-signed query-protocol request whose body is not a form is refused
/// instead of being relayed with parameters the gateway never read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_protocol_body_that_is_not_a_form_is_denied() {
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let acct = account();
    let body = "<DeleteUser><UserName>x</UserName></DeleteUser>";
    let uri: Uri = format!("{ep}/?Action=GetCallerIdentity&Version=2011-06-15")
        .parse()
        .unwrap();
    let mut hm = HeaderMap::new();
    hm.insert("content-type", "text/xml".parse().unwrap());
    sign_request(
        &Method::POST,
        &uri,
        &mut hm,
        body.as_bytes(),
        &SigningParams {
            access_key_id: &acct,
            secret_access_key: "test",
            session_token: None,
            region: "us-east-1",
            service: "sts",
            time: unix_now(),
        },
    )
    .expect("signing a test request");
    let h: Vec<(&str, &str)> = hm
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
        .collect();
    let (s, b) = raw("POST", &uri.to_string(), &h, body.as_bytes()).await;
    assert!(
        s == 400 && b.contains("MalformedInput") && b.contains("x-www-form-urlencoded"),
        "{s} {b}"
    );
    gw.shutdown().await;
}

/// Issue 15 item 2: STS looks a web identity token's issuer up among the OIDC
/// providers of the role's account only (STS API Reference,
/// "AssumeRoleWithWebIdentity", InvalidIdentityToken "No OpenIDConnect provider
/// found in your account for <issuer>":
/// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html).
/// A provider registered only in another account, even one the role's trust policy
/// names, is refused with that error and no credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_identity_issuer_registered_only_in_another_account_is_refused() {
    let ls = localstack().await;
    let issuer = Issuer::new(&format!("https://oidc.foreign.test/id/{}", account()));
    let gw = gateway_trusting(&ls, &issuer).await;
    let ep = gw.endpoint();
    let (role_account, provider_account) = (account(), account());
    oidc_provider(&ep, &provider_account, &issuer, &["sts.amazonaws.com"]).await;
    let host = issuer.url.trim_start_matches("https://").to_string();
    let trust_naming = |acct: &str| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::{acct}:oidc-provider/{host}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {format!("{host}:sub"): "system:serviceaccount:eso:eso"}}}]})
    };
    let read = allow(&["secretsmanager:*"], &["*"]);
    // One role trusts the other account's provider, one its own account's (absent).
    let foreign_trust = role(
        &ep,
        &role_account,
        "trusts-foreign",
        &trust_naming(&provider_account),
        &read,
    )
    .await;
    let own_trust = role(
        &ep,
        &role_account,
        "trusts-own",
        &trust_naming(&role_account),
        &read,
    )
    .await;
    let token = issuer.token("system:serviceaccount:eso:eso", "sts.amazonaws.com", 600);
    let assume = |role_arn: String| {
        let token = token.clone();
        let ep = ep.clone();
        async move {
            let body = form(&[
                ("Action", "AssumeRoleWithWebIdentity"),
                ("Version", "2011-06-15"),
                ("RoleArn", &role_arn),
                ("RoleSessionName", "s"),
                ("WebIdentityToken", &token),
            ]);
            raw(
                "POST",
                &format!("{ep}/"),
                &[("content-type", "application/x-www-form-urlencoded")],
                body.as_bytes(),
            )
            .await
        }
    };
    let expected = format!(
        "No OpenIDConnect provider found in your account for {}",
        issuer.url
    );
    for role_arn in [foreign_trust, own_trust.clone()] {
        let (status, body) = assume(role_arn.clone()).await;
        assert_eq!(status, 400, "{role_arn}: {body}");
        assert!(body.contains("InvalidIdentityToken"), "{role_arn}: {body}");
        assert!(body.contains(&expected), "{role_arn}: {body}");
        assert!(!body.contains("SecretAccessKey"), "{role_arn}: {body}");
    }
    // Control: once the role's own account registers the issuer, the same token
    // assumes the role that trusts that account's provider.
    oidc_provider(&ep, &role_account, &issuer, &["sts.amazonaws.com"]).await;
    let (status, body) = assume(own_trust).await;
    assert_eq!(status, 200, "{body}");
    // (The answer holds credentials: never print it.)
    assert!(
        body.contains("AssumeRoleWithWebIdentityResult"),
        "no AssumeRoleWithWebIdentityResult in the answer"
    );
    gw.shutdown().await;
}
