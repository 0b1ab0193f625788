//! The real signer as oracle: requests signed by the AWS SDK's `aws-sigv4` crate (the
//! version the SDK itself uses) must verify with our [`aws_wire::sigv4`], in the
//! `Authorization` header and presigned in the query string; the same request with a
//! wrong secret, another body or another method must not.

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_wire::encoding::uri_encode;
use aws_wire::sigv4::{self, AuthLocation, SigV4Error};
use http::{HeaderMap, Method, Uri};
use proptest::prelude::*;

/// One request to sign, as a client would send it.
#[derive(Debug, Clone)]
struct Case {
    method: Method,
    /// Already-encoded path, e.g. `/a%20b/./c`.
    path: String,
    /// Already-encoded query, without `?`.
    query: String,
    /// Extra headers (lowercase names; values may hold runs of spaces).
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    access_key_id: String,
    secret: String,
    session_token: Option<String>,
    region: String,
    service: String,
    time: i64,
    content_sha256_header: bool,
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::DELETE)
    ]
}

/// Raw text with characters that need encoding (space, `/`, `%`, `+`, `=`, `&`, UTF-8).
fn raw_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => proptest::char::range('A', 'Z'),
            1 => proptest::char::range('0', '9'),
            1 => prop::sample::select(vec![' ', '/', '%', '+', '=', '&', '-', '_', '.', '~', '*', 'é', '€']),
        ],
        0..12,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn path() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            8 => raw_text().prop_map(|s| uri_encode(&s, false)),
            1 => Just(".".to_string()),
            1 => Just("..".to_string()),
        ],
        0..5,
    )
    .prop_map(|segments| format!("/{}", segments.join("/")))
}

fn query() -> impl Strategy<Value = String> {
    proptest::collection::vec(("[A-Za-z][A-Za-z0-9.]{0,10}", raw_text()), 0..5).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map(
        "x-amz-meta-[a-z]{1,8}",
        "[ -~&&[^ ]]([ -~]{0,20}[!-~])?",
        0..4,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn case() -> impl Strategy<Value = Case> {
    (
        (method(), path(), query(), headers()),
        proptest::collection::vec(any::<u8>(), 0..64),
        (
            "[A-Z0-9]{16,20}",
            "[!-~]{20,40}",
            proptest::option::of("[A-Za-z0-9+/=]{16,64}"),
        ),
        (
            "[a-z]{2}-[a-z]{4,9}-[1-3]",
            prop::sample::select(vec!["sts", "secretsmanager", "iam", "kms"]),
        ),
        // 2001-09-09 .. 2096-10-02, whole seconds.
        (1_000_000_000i64..4_000_000_000, any::<bool>()),
    )
        .prop_map(
            |(
                (method, path, query, headers),
                body,
                (akid, secret, token),
                (region, service),
                (time, sha_header),
            )| Case {
                method,
                path,
                query,
                headers,
                body,
                access_key_id: akid,
                secret,
                session_token: token,
                region,
                service: service.to_string(),
                time,
                content_sha256_header: sha_header,
            },
        )
}

const HOST: &str = "127.0.0.1:4566";

/// Signs `case` with aws-sigv4 and returns the request as it goes on the wire.
fn sign_with_sdk(case: &Case, location: SignatureLocation) -> (Uri, HeaderMap) {
    let uri = if case.query.is_empty() {
        format!("http://{HOST}{}", case.path)
    } else {
        format!("http://{HOST}{}?{}", case.path, case.query)
    };
    let mut request = http::Request::builder()
        .method(case.method.clone())
        .uri(&uri)
        .header("host", HOST);
    for (k, v) in &case.headers {
        request = request.header(k, v);
    }
    let mut request = request.body(()).expect("a valid test request");
    let identity = Credentials::new(
        &case.access_key_id,
        &case.secret,
        case.session_token.clone(),
        None,
        "oracle",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    if location == SignatureLocation::QueryParams {
        settings.expires_in = Some(Duration::from_secs(300));
    }
    if case.content_sha256_header && location == SignatureLocation::Headers {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&case.region)
        .name(&case.service)
        .time(UNIX_EPOCH + Duration::from_secs(case.time as u64))
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().expect("ascii").to_string(),
            )
        })
        .collect();
    let signable = SignableRequest::new(
        case.method.as_str(),
        uri.clone(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(&case.body),
    )
    .expect("signable request");
    let (instructions, _signature) = sign(signable, &params).expect("the SDK signs").into_parts();
    instructions.apply_to_request_http1x(&mut request);
    let (parts, ()) = request.into_parts();
    (parts.uri, parts.headers)
}

/// Our verification of what arrived.
fn verify(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
) -> Result<sigv4::SigV4Auth, SigV4Error> {
    let auth =
        sigv4::parse(uri, headers)?.ok_or_else(|| SigV4Error::Incomplete("unsigned".into()))?;
    sigv4::verify(&auth, method, uri, headers, body, secret)?;
    Ok(auth)
}

fn check(case: &Case, location: SignatureLocation) -> Result<(), TestCaseError> {
    let (uri, headers) = sign_with_sdk(case, location);
    let auth = verify(&case.method, &uri, &headers, &case.body, &case.secret)
        .map_err(|e| TestCaseError::fail(format!("SDK-signed request refused: {e} ({uri})")))?;
    let expected = match location {
        SignatureLocation::Headers => AuthLocation::Header,
        _ => AuthLocation::Query,
    };
    prop_assert_eq!(auth.location, expected);
    prop_assert_eq!(&auth.access_key_id, &case.access_key_id);
    prop_assert_eq!(&auth.region, &case.region);
    prop_assert_eq!(
        auth.security_token.as_ref().map(aws_wire::Secret::expose),
        case.session_token.as_deref()
    );
    prop_assert!(sigv4::check_time(&auth, case.time).is_ok());

    // The oracle's signature binds the secret, the body and the method.
    let wrong_secret = format!("{}x", case.secret);
    prop_assert_eq!(
        verify(&case.method, &uri, &headers, &case.body, &wrong_secret).err(),
        Some(SigV4Error::Mismatch)
    );
    let mut other_body = case.body.clone();
    other_body.push(b'!');
    prop_assert!(verify(&case.method, &uri, &headers, &other_body, &case.secret).is_err());
    let other_method = if case.method == Method::PATCH {
        Method::GET
    } else {
        Method::PATCH
    };
    prop_assert_eq!(
        verify(&other_method, &uri, &headers, &case.body, &case.secret).err(),
        Some(SigV4Error::Mismatch)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sdk_header_signatures_verify(case in case()) {
        check(&case, SignatureLocation::Headers)?;
    }

    #[test]
    fn sdk_presigned_query_signatures_verify(case in case()) {
        check(&case, SignatureLocation::QueryParams)?;
    }
}

/// A request signed by our signer verifies with our verifier and reads back the same
/// scope; the SDK's signature of the same request is byte-identical to ours.
#[test]
fn our_signer_agrees_with_the_sdk_byte_for_byte() {
    let case = Case {
        method: Method::POST,
        path: "/".into(),
        query: String::new(),
        headers: vec![(
            "x-amz-target".into(),
            "secretsmanager.GetSecretValue".into(),
        )],
        body: br#"{"SecretId":"db"}"#.to_vec(),
        access_key_id: "AKIDEXAMPLE".into(),
        secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: Some("token".into()),
        region: "eu-west-3".into(),
        service: "secretsmanager".into(),
        time: 1_700_000_000,
        content_sha256_header: false,
    };
    let (_, sdk_headers) = sign_with_sdk(&case, SignatureLocation::Headers);
    let uri: Uri = format!("http://{HOST}/").parse().unwrap();
    let mut ours = HeaderMap::new();
    ours.insert("host", HOST.parse().unwrap());
    ours.insert(
        "x-amz-target",
        "secretsmanager.GetSecretValue".parse().unwrap(),
    );
    sigv4::sign_request(
        &Method::POST,
        &uri,
        &mut ours,
        &case.body,
        &sigv4::SigningParams {
            access_key_id: &case.access_key_id,
            secret_access_key: &case.secret,
            session_token: case.session_token.as_deref(),
            region: &case.region,
            service: &case.service,
            time: case.time,
        },
    )
    .unwrap();
    assert_eq!(ours.get("authorization"), sdk_headers.get("authorization"));
}

/// Presigns `GET uri` with the SDK's signer (query parameters, `host` the only header)
/// over `body`, at `time`.
fn sdk_presign_get(
    uri: &str,
    service: &str,
    token: Option<&str>,
    body: SignableBody<'_>,
    time: i64,
) -> Uri {
    let mut request = http::Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header("host", HOST)
        .body(())
        .expect("a valid test request");
    let identity = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        token.map(str::to_string),
        None,
        "oracle",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(900));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(UNIX_EPOCH + Duration::from_secs(time as u64))
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new("GET", uri, [("host", HOST)].into_iter(), body)
        .expect("signable request");
    let (instructions, _) = sign(signable, &params).expect("the SDK signs").into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request.uri().clone()
}

/// A GetCallerIdentity URL presigned by the SDK's signer as SDKs presign STS (GET, the
/// empty body's hash, session token in the query) verifies; the same URL signed with
/// `UNSIGNED-PAYLOAD` verifies only for S3, the one service whose presigned URLs use it.
#[test]
fn sdk_presigned_get_caller_identity_verifies_and_unsigned_payload_is_s3_only() {
    let uri = format!("http://{HOST}/?Action=GetCallerIdentity&Version=2011-06-15");
    let mut headers = HeaderMap::new();
    headers.insert("host", HOST.parse().unwrap());
    let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    let time = 1_767_323_045;
    let signed = sdk_presign_get(&uri, "sts", Some("tok/+="), SignableBody::Bytes(b""), time);
    assert!(signed
        .query()
        .unwrap()
        .contains("X-Amz-Security-Token=tok%2F%2B%3D"));
    let auth = verify(&Method::GET, &signed, &headers, b"", secret).unwrap();
    assert_eq!(auth.location, AuthLocation::Query);
    assert_eq!(
        auth.security_token.as_ref().map(aws_wire::Secret::expose),
        Some("tok/+=")
    );
    sigv4::check_time(&auth, time + 900).unwrap();
    assert!(sigv4::check_time(&auth, time + 901).is_err());

    for (service, accepted) in [("sts", false), ("secretsmanager", false), ("s3", true)] {
        let signed = sdk_presign_get(&uri, service, None, SignableBody::UnsignedPayload, time);
        let r = verify(&Method::GET, &signed, &headers, b"", secret);
        assert_eq!(r.is_ok(), accepted, "{service}: {:?}", r.err());
    }
}
