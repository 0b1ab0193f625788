//! Shared test support: a LocalStack endpoint, a gateway in front of it, SDK clients,
//! root helpers and an OIDC issuer that signs tokens.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_wire::encoding::{base64url_encode, encode_form};
use gateway::Upstream;
use gateway::{Config, Gateway, Jwks, RunningGateway};
use serde_json::{json, Value};

pub const REGION: &str = "eu-west-3";

/// The LocalStack endpoint shared by the test process.
pub async fn localstack() -> String {
    tokio::task::spawn_blocking(localstack::test_endpoint)
        .await
        .expect("localstack endpoint")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh 12-digit account id (isolation between tests sharing one LocalStack).
pub fn account() -> String {
    let mut b = [0u8; 8];
    aws_lc_rs::rand::fill(&mut b).expect("system random generator");
    let n = u64::from_le_bytes(b) % 900_000_000_000
        + 100_000_000_000
        + COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{:012}", n % 1_000_000_000_000)
}

/// A gateway in front of `ls` with default settings.
pub async fn gateway(ls: &str) -> RunningGateway {
    gateway_with(Config::new(ls, "127.0.0.1:0".parse().unwrap())).await
}

/// A gateway with a custom configuration.
pub async fn gateway_with(config: Config) -> RunningGateway {
    Gateway::start(config).await.expect("gateway starts")
}

/// The usual starting point: a gateway, a fresh account with the secret `app/db`
/// (value `s1`), and a user `user` whose inline policy allows `actions` on every
/// resource.
pub struct OneSecret {
    /// LocalStack's endpoint (for changes made behind the gateway).
    pub ls: String,
    /// The gateway.
    pub gw: RunningGateway,
    /// The gateway's endpoint.
    pub ep: String,
    /// The account.
    pub acct: String,
    /// The user's credentials.
    pub user: Creds,
}

impl OneSecret {
    pub async fn new(config: Option<Config>, user: &str, actions: &[&str]) -> Self {
        let ls = localstack().await;
        let gw = match config {
            Some(c) => gateway_with(c).await,
            None => gateway(&ls).await,
        };
        let ep = gw.endpoint();
        let acct = account();
        secret(&ep, &acct, "app/db", "s1").await;
        let user = user_with_policy(&ep, &acct, user, &allow(actions, &["*"])).await;
        Self {
            ls,
            gw,
            ep,
            acct,
            user,
        }
    }
}

/// A gateway that trusts `issuer`'s key set.
pub async fn gateway_trusting(ls: &str, issuer: &Issuer) -> RunningGateway {
    gateway_with(
        Config::new(ls, "127.0.0.1:0".parse().unwrap())
            .with_oidc_issuer(&issuer.url, issuer.jwks.clone()),
    )
    .await
}

/// The credentials STS issued.
pub fn issued(c: &aws_sdk_sts::types::Credentials) -> Creds {
    (
        c.access_key_id().to_string(),
        c.secret_access_key().to_string(),
        Some(c.session_token().to_string()),
    )
}

/// Root credentials of `account` (LocalStack convention).
pub fn root(account: &str) -> (String, String, Option<String>) {
    (account.to_string(), "test".to_string(), None)
}

pub type Creds = (String, String, Option<String>);

fn creds(c: &Creds) -> Credentials {
    Credentials::new(c.0.clone(), c.1.clone(), c.2.clone(), None, "test")
}

pub fn sm(endpoint: &str, c: &Creds) -> aws_sdk_secretsmanager::Client {
    let conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(creds(c))
        .retry_config(aws_sdk_secretsmanager::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(conf)
}

pub fn iam(endpoint: &str, c: &Creds) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds(c))
        .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

pub fn cloudformation(endpoint: &str, c: &Creds) -> aws_sdk_cloudformation::Client {
    let conf = aws_sdk_cloudformation::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(creds(c))
        .retry_config(aws_sdk_cloudformation::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_cloudformation::Client::from_conf(conf)
}

pub fn sts(endpoint: &str, c: Option<&Creds>) -> aws_sdk_sts::Client {
    let mut b = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled());
    if let Some(c) = c {
        b = b.credentials_provider(creds(c));
    }
    aws_sdk_sts::Client::from_conf(b.build())
}

/// `(code, message)` of an SDK error.
pub fn err_of<E: aws_sdk_secretsmanager::error::ProvideErrorMetadata>(e: &E) -> (String, String) {
    (
        e.code().unwrap_or("").to_string(),
        e.message().unwrap_or("").to_string(),
    )
}

/// Creates a user with an inline policy and an access key (through the gateway, so the
/// key is captured). Returns the user's credentials.
pub async fn user_with_policy(gw: &str, account: &str, name: &str, policy: &Value) -> Creds {
    let iam = iam(gw, &root(account));
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .expect("create user");
    iam.put_user_policy()
        .user_name(name)
        .policy_name("p")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("put policy");
    let k = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .expect("create key");
    let k = k.access_key().expect("key");
    (
        k.access_key_id().to_string(),
        k.secret_access_key().to_string(),
        None,
    )
}

/// Creates a secret as root; returns its ARN.
pub async fn secret(gw: &str, account: &str, name: &str, value: &str) -> String {
    let sm = sm(gw, &root(account));
    sm.create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret")
        .arn()
        .unwrap()
        .to_string()
}

/// Creates a secret encrypted with `kms_key_id` as root; returns its ARN.
pub async fn secret_with_key(
    gw: &str,
    account: &str,
    name: &str,
    value: &str,
    kms_key_id: &str,
) -> String {
    let sm = sm(gw, &root(account));
    sm.create_secret()
        .name(name)
        .secret_string(value)
        .kms_key_id(kms_key_id)
        .send()
        .await
        .expect("create secret")
        .arn()
        .unwrap()
        .to_string()
}

/// Creates a customer-managed KMS key with `policy` directly on LocalStack; returns
/// its ARN.
pub async fn kms_key(ls: &str, account: &str, policy: &Value) -> String {
    let up = Upstream::new(ls, "test", Duration::from_secs(30)).unwrap();
    let v = up
        .json(
            account,
            REGION,
            "kms",
            "TrentService.CreateKey",
            &json!({"Policy": policy.to_string(), "Description": "test"}),
        )
        .await
        .expect("create key");
    v["KeyMetadata"]["Arn"].as_str().unwrap().to_string()
}

pub fn allow(actions: &[&str], resources: &[&str]) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]})
}

/// A test OIDC issuer (ES256).
pub struct Issuer {
    pub url: String,
    key: EcdsaKeyPair,
    pub jwks: Jwks,
    pub jwks_json: String,
}

impl Issuer {
    pub fn new(url: &str) -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let pk = key.public_key().as_ref().to_vec();
        let jwks_json = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
            "x": base64url_encode(&pk[1..33]), "y": base64url_encode(&pk[33..65])}]})
        .to_string();
        Issuer {
            url: url.to_string(),
            jwks: Jwks::parse(&jwks_json).unwrap(),
            jwks_json,
            key,
        }
    }

    /// Signs arbitrary header and claims.
    pub fn sign_raw(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            base64url_encode(header.to_string().as_bytes()),
            base64url_encode(claims.to_string().as_bytes())
        );
        let sig = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", base64url_encode(sig.as_ref()))
    }

    /// A service-account token.
    pub fn token(&self, sub: &str, aud: &str, exp_in: i64) -> String {
        let now = aws_wire::time::unix_now();
        self.sign_raw(
            &json!({"alg": "ES256", "kid": "k1", "typ": "JWT"}),
            &json!({"iss": self.url, "sub": sub, "aud": aud, "iat": now - 10, "nbf": now - 10, "exp": now + exp_in}),
        )
    }
}

/// Registers the issuer as an IAM OIDC provider of `account` (through the gateway as root).
pub async fn oidc_provider(gw: &str, account: &str, issuer: &Issuer, client_ids: &[&str]) {
    let iam = iam(gw, &root(account));
    let mut b = iam
        .create_open_id_connect_provider()
        .url(&issuer.url)
        .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280");
    for c in client_ids {
        b = b.client_id_list(*c);
    }
    b.send().await.expect("create oidc provider");
}

/// A role with a trust policy and an inline policy; returns its ARN.
pub async fn role(gw: &str, account: &str, name: &str, trust: &Value, policy: &Value) -> String {
    let iam = iam(gw, &root(account));
    let r = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("create role");
    iam.put_role_policy()
        .role_name(name)
        .policy_name("p")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("put role policy");
    r.role().unwrap().arn().to_string()
}

/// A raw HTTP exchange (for forged requests).
pub async fn raw(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    use http_body_util::BodyExt;
    let client: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let mut req = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(http_body_util::Full::new(bytes::Bytes::copy_from_slice(
            body,
        )))
        .unwrap();
    let resp = client.request(req).await.expect("gateway answers");
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).to_string())
}

/// A form body for the query protocol.
pub fn form(pairs: &[(&str, &str)]) -> String {
    encode_form(pairs)
}
