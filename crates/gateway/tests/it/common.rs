//! Shared test support: a LocalStack endpoint, a gateway in front of it, SDK clients,
//! root helpers and an OIDC issuer that signs tokens.

use std::time::Duration;

use aws_wire::encoding::encode_form;
use gateway::Upstream;
use gateway::{Config, Gateway, RunningGateway};
use serde_json::{json, Value};
pub use test_support::oidc::{TestIssuer as Issuer, KEY_ID};
pub use test_support::sdk::{self, root, Creds, Retries};

pub const REGION: &str = "eu-west-3";

/// The LocalStack endpoint shared by the test process.
pub async fn localstack() -> String {
    tokio::task::spawn_blocking(localstack::test_endpoint)
        .await
        .expect("localstack endpoint")
}

/// A fresh 12-digit account id (isolation between tests sharing one LocalStack).
pub fn account() -> String {
    test_support::fresh_account_id()
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
            .with_oidc_issuer(&issuer.url, issuer.jwks()),
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

/// A Secrets Manager client in [`REGION`].
pub fn sm(endpoint: &str, c: &Creds) -> aws_sdk_secretsmanager::Client {
    sdk::secrets_manager(endpoint, REGION, c, Retries::Disabled)
}

/// An IAM client (IAM is global: `us-east-1`).
pub fn iam(endpoint: &str, c: &Creds) -> aws_sdk_iam::Client {
    sdk::iam(endpoint, "us-east-1", c, Retries::Disabled)
}

/// A CloudFormation client in [`REGION`].
pub fn cloudformation(endpoint: &str, c: &Creds) -> aws_sdk_cloudformation::Client {
    sdk::cloudformation(endpoint, REGION, c, Retries::Disabled)
}

/// An STS client in [`REGION`] (unsigned without credentials).
pub fn sts(endpoint: &str, c: Option<&Creds>) -> aws_sdk_sts::Client {
    sdk::sts(endpoint, REGION, c, Retries::Disabled)
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
    sdk::user_with_policy(&iam(gw, &root(account)), name, &policy.to_string()).await
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
