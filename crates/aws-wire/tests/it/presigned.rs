//! Presigned (query-string) SigV4 against fixed references: AWS's documented presigned
//! URL example, URLs presigned by botocore (the signer of boto3 and the AWS CLI), and
//! the time and payload rules of presigned requests outside S3.

use aws_wire::crypto::sha256_hex;
use aws_wire::sigv4::{self, SigV4Auth, SigV4Error, SigningParams};
use aws_wire::time::parse_amz_date;
use http::{HeaderMap, Method, Uri};

fn headers_with_host(host: &str, extra: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("host", host.parse().expect("a test host"));
    for (k, v) in extra {
        h.insert(
            http::HeaderName::from_bytes(k.as_bytes()).expect("a test header name"),
            v.parse().expect("a test header value"),
        );
    }
    h
}

fn parsed(uri: &Uri, headers: &HeaderMap) -> SigV4Auth {
    sigv4::parse(uri, headers)
        .expect("the presigned URL parses")
        .expect("the URL carries query authentication")
}

/// AWS's worked example of a presigned URL ("Authenticating Requests: Using Query
/// Parameters (AWS Signature Version 4)", GET Object `examplebucket/test.txt`,
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>):
/// its canonical request hash, signature and URL are reproduced, and the URL verifies.
#[test]
fn aws_documented_presigned_url_example() {
    const URL: &str = "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let time = parse_amz_date("20130524T000000Z").unwrap();
    let ours = sigv4::presign_uri(
        &Method::GET,
        &"https://examplebucket.s3.amazonaws.com/test.txt"
            .parse()
            .unwrap(),
        86400,
        &SigningParams {
            access_key_id: "AKIAIOSFODNN7EXAMPLE",
            secret_access_key: SECRET,
            session_token: None,
            region: "us-east-1",
            service: "s3",
            time,
        },
    )
    .unwrap();
    assert_eq!(ours.to_string(), URL);

    let uri: Uri = URL.parse().unwrap();
    let headers = headers_with_host("examplebucket.s3.amazonaws.com", &[]);
    let auth = parsed(&uri, &headers);
    let canonical = sigv4::canonical_request(
        &Method::GET,
        &uri,
        &headers,
        &auth.signed_headers,
        "UNSIGNED-PAYLOAD",
        true,
    )
    .unwrap();
    assert_eq!(
        sha256_hex(canonical.as_bytes()),
        "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"
    );
    sigv4::verify(&auth, &Method::GET, &uri, &headers, b"", SECRET).unwrap();
    assert_eq!(
        sigv4::verify(&auth, &Method::GET, &uri, &headers, b"", "other"),
        Err(SigV4Error::Mismatch)
    );
    let other_host = headers_with_host("otherbucket.s3.amazonaws.com", &[]);
    assert_eq!(
        sigv4::verify(&auth, &Method::GET, &uri, &other_host, b"", SECRET),
        Err(SigV4Error::Mismatch)
    );
    // S3 honours X-Amz-Expires over its whole range: valid for a day, not a second more.
    sigv4::check_time(&auth, time + 86400).unwrap();
    assert!(matches!(
        sigv4::check_time(&auth, time + 86401),
        Err(SigV4Error::Expired(_))
    ));
}

const BOTO_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const BOTO_HOST: &str = "127.0.0.1:4566";

/// URLs presigned by botocore 1.43.11 for `sts.generate_presigned_url("get_caller_identity",
/// ...)` with endpoint `http://127.0.0.1:4566`, region us-east-1, access key
/// `AKIDEXAMPLE` / [`BOTO_SECRET`], at 2026-01-02T03:04:05Z (botocore's
/// `get_current_datetime` patched). `HttpMethod='GET'` signs GET; without it botocore
/// signs the operation's method, POST, even though the body moved into the query.
const BOTO_GET: &str = "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260102%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20260102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=bb27d24d1833c27f335813bb5e20cd4c6c85b5b8a90bdb438d0e930aade0cf46";
const BOTO_DEFAULT_POST: &str = "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260102%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20260102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=93879a15159fc9dc243912e30d96827e7ff43e39d24bae6c8da285d2b286ffb4";
/// With session token `FwoGZXIvYXdzEJr//////////wEaDM+token/with=chars`, 900 seconds.
const BOTO_GET_SESSION: &str = "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260102%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20260102T030405Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Security-Token=FwoGZXIvYXdzEJr%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDM%2Btoken%2Fwith%3Dchars&X-Amz-Signature=eb230150b543e49f22370b6d489e473b40bcd633c919a276e5cbc461d72fd267";
/// EKS-style token URL: the `x-k8s-aws-id: my-cluster` header signed too (as
/// aws-iam-authenticator clients do).
const BOTO_GET_EKS: &str = "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260102%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20260102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=0cd0d9876625e6a11b3b556021d96be6b8fac56cf6322b6afff6e28cf7cf3751";

fn verify_boto(url: &str, method: Method, extra: &[(&str, &str)]) -> Result<SigV4Auth, SigV4Error> {
    let uri: Uri = url.parse().unwrap();
    let headers = headers_with_host(BOTO_HOST, extra);
    let auth = parsed(&uri, &headers);
    sigv4::verify(&auth, &method, &uri, &headers, b"", BOTO_SECRET).map(|()| auth)
}

#[test]
fn botocore_presigned_get_caller_identity_verifies() {
    let auth = verify_boto(BOTO_GET, Method::GET, &[]).unwrap();
    assert_eq!(auth.access_key_id, "AKIDEXAMPLE");
    assert_eq!(auth.service, "sts");
    assert!(auth.security_token.is_none());

    let auth = verify_boto(BOTO_GET_SESSION, Method::GET, &[]).unwrap();
    assert_eq!(
        auth.security_token.as_ref().map(aws_wire::Secret::expose),
        Some("FwoGZXIvYXdzEJr//////////wEaDM+token/with=chars")
    );

    verify_boto(BOTO_GET_EKS, Method::GET, &[("x-k8s-aws-id", "my-cluster")]).unwrap();
    assert_eq!(
        verify_boto(BOTO_GET_EKS, Method::GET, &[("x-k8s-aws-id", "other")]).err(),
        Some(SigV4Error::Mismatch)
    );
    assert_eq!(
        verify_boto(BOTO_GET_EKS, Method::GET, &[]).err(),
        Some(SigV4Error::Mismatch)
    );

    // Another Host than the one signed (the gateway is reached at what the client
    // signed, never at LocalStack's address).
    let uri: Uri = BOTO_GET.parse().unwrap();
    let elsewhere = headers_with_host("localhost:4566", &[]);
    let auth = parsed(&uri, &elsewhere);
    assert_eq!(
        sigv4::verify(&auth, &Method::GET, &uri, &elsewhere, b"", BOTO_SECRET),
        Err(SigV4Error::Mismatch)
    );
}

/// botocore's default presigned URL for a query-protocol operation is signed for POST:
/// it verifies as POST and, as on AWS, not as a plain GET.
#[test]
fn botocore_default_presign_is_a_post_signature() {
    verify_boto(BOTO_DEFAULT_POST, Method::POST, &[]).unwrap();
    assert_eq!(
        verify_boto(BOTO_DEFAULT_POST, Method::GET, &[]).err(),
        Some(SigV4Error::Mismatch)
    );
}

/// Outside S3 a presigned request lives 15 minutes after its date, whatever
/// `X-Amz-Expires` says, shorter or longer (STS accepts aws-iam-authenticator's
/// 60-second EKS tokens for 15 minutes).
#[test]
fn presigned_sts_requests_expire_as_on_aws() {
    let date = parse_amz_date("20260102T030405Z").unwrap();
    let short = verify_boto(BOTO_GET, Method::GET, &[]).unwrap();
    assert_eq!(short.expires, Some(60));
    sigv4::check_time(&short, date + 61).unwrap();
    sigv4::check_time(&short, date + 900).unwrap();
    let e = sigv4::check_time(&short, date + 901).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Signature expired: 20260102T030405Z is now earlier than"),
        "{e}"
    );
    let session = verify_boto(BOTO_GET_SESSION, Method::GET, &[]).unwrap();
    sigv4::check_time(&session, date + 900).unwrap();
    assert!(sigv4::check_time(&session, date + 901).is_err());
    // Dated more than 15 minutes ahead.
    assert!(sigv4::check_time(&session, date - 901).is_err());
    sigv4::check_time(&session, date - 900).unwrap();

    let uri: Uri = "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15"
        .parse()
        .unwrap();
    let params = |service| SigningParams {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: BOTO_SECRET,
        session_token: None,
        region: "us-east-1",
        service,
        time: date,
    };
    let headers = headers_with_host(BOTO_HOST, &[]);
    for (service, valid_for) in [("sts", 900), ("secretsmanager", 900), ("s3", 3600)] {
        let url = sigv4::presign_uri(&Method::GET, &uri, 3600, &params(service)).unwrap();
        let auth = parsed(&url, &headers);
        sigv4::verify(&auth, &Method::GET, &url, &headers, b"", BOTO_SECRET).unwrap();
        sigv4::check_time(&auth, date + valid_for).unwrap();
        let e = sigv4::check_time(&auth, date + valid_for + 1).unwrap_err();
        assert!(matches!(e, SigV4Error::Expired(_)), "{service}: {e}");
    }
}

/// X-Amz-Expires must be a whole number of seconds from 1 to 604800 (7 days).
#[test]
fn x_amz_expires_bounds() {
    let headers = headers_with_host(BOTO_HOST, &[]);
    for (value, ok) in [
        ("1", true),
        ("604800", true),
        ("0", false),
        ("604801", false),
        ("-1", false),
        ("1.5", false),
        ("", false),
        ("99999999999", false),
    ] {
        let url = BOTO_GET.replace("X-Amz-Expires=60", &format!("X-Amz-Expires={value}"));
        let uri: Uri = url.parse().unwrap();
        let r = sigv4::parse(&uri, &headers);
        assert_eq!(r.is_ok(), ok, "X-Amz-Expires={value}: {r:?}");
        if let Err(e) = r {
            assert!(e.to_string().contains("X-Amz-Expires"), "{e}");
        }
    }
}
