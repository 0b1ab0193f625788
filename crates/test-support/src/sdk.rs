//! AWS SDK clients for one endpoint (the gateway or LocalStack) with fixed keys and
//! region, with the SDK's own retries (what an application gets) or none (a test sees
//! the first answer, errors included).

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};

/// Keys: access key id, secret access key, session token.
pub type Creds = (String, String, Option<String>);

/// The root credentials of `account` by LocalStack's convention: the access key id is
/// the account id, the secret is `test`.
pub fn root(account: &str) -> Creds {
    (account.to_string(), "test".to_string(), None)
}

/// Whether a client retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retries {
    /// The SDK's defaults, as an application (ESO, a deployment tool) would have them.
    Sdk,
    /// None: a test sees the first answer.
    Disabled,
}

fn credentials(c: &Creds) -> Credentials {
    Credentials::new(c.0.clone(), c.1.clone(), c.2.clone(), None, "test")
}

/// Builds a client of the SDK crate `$krate` (every service crate has the same shape).
macro_rules! client {
    ($krate:ident, $endpoint:expr, $region:expr, $creds:expr, $retries:expr) => {{
        let mut b = $krate::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new($region.to_string()))
            .endpoint_url($endpoint);
        if $retries == Retries::Disabled {
            b = b.retry_config($krate::config::retry::RetryConfig::disabled());
        }
        if let Some(c) = $creds {
            b = b.credentials_provider(credentials(c));
        }
        $krate::Client::from_conf(b.build())
    }};
}

/// A Secrets Manager client.
pub fn secrets_manager(
    endpoint: &str,
    region: &str,
    c: &Creds,
    retries: Retries,
) -> aws_sdk_secretsmanager::Client {
    client!(aws_sdk_secretsmanager, endpoint, region, Some(c), retries)
}

/// An IAM client.
pub fn iam(endpoint: &str, region: &str, c: &Creds, retries: Retries) -> aws_sdk_iam::Client {
    client!(aws_sdk_iam, endpoint, region, Some(c), retries)
}

/// A CloudFormation client.
pub fn cloudformation(
    endpoint: &str,
    region: &str,
    c: &Creds,
    retries: Retries,
) -> aws_sdk_cloudformation::Client {
    client!(aws_sdk_cloudformation, endpoint, region, Some(c), retries)
}

/// An STS client; without credentials its requests are unsigned (what
/// `AssumeRoleWithWebIdentity` needs: the token is the credential).
pub fn sts(
    endpoint: &str,
    region: &str,
    c: Option<&Creds>,
    retries: Retries,
) -> aws_sdk_sts::Client {
    client!(aws_sdk_sts, endpoint, region, c, retries)
}

/// Creates IAM user `name` with the inline policy `policy` and an access key, through
/// `iam` (signed as the account's root; through the gateway, the key is captured).
/// Returns the user's credentials.
pub async fn user_with_policy(iam: &aws_sdk_iam::Client, name: &str, policy: &str) -> Creds {
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .expect("create user");
    iam.put_user_policy()
        .user_name(name)
        .policy_name("p")
        .policy_document(policy)
        .send()
        .await
        .expect("put policy");
    let created = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .expect("create key");
    let key = created.access_key().expect("key");
    (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
        None,
    )
}
