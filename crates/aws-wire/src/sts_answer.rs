//! The credentials in an STS answer (`AssumeRole*`, `GetSessionToken`): the query
//! protocol's XML read into typed values, secrets wrapped in [`Secret`].

use crate::time::parse_rfc3339;
use crate::{xml, Secret};

/// Credentials read from an STS answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Session token.
    pub session_token: Secret,
    /// `Expiration`, Unix seconds.
    pub expiration: Option<i64>,
    /// `AssumedRoleUser/Arn`, if any.
    pub assumed_role_arn: Option<String>,
    /// `AssumedRoleUser/AssumedRoleId`, if any.
    pub assumed_role_id: Option<String>,
}

/// Reads the credentials of an `AssumeRole*` / `GetSessionToken` answer; `None` when
/// the body is not such an answer.
pub fn parse_issued(body: &[u8]) -> Option<IssuedCredentials> {
    let root = xml::parse(body).ok()?;
    let c = root.find("Credentials")?;
    let t = |n: &str| c.text_at(&[n]).map(|s| s.trim().to_string());
    let aru = root.find("AssumedRoleUser");
    Some(IssuedCredentials {
        access_key_id: t("AccessKeyId")?,
        secret_access_key: Secret::new(t("SecretAccessKey")?),
        session_token: Secret::new(t("SessionToken")?),
        expiration: t("Expiration").and_then(|e| parse_rfc3339(&e)),
        assumed_role_arn: aru
            .and_then(|a| a.text_at(&["Arn"]))
            .map(|s| s.trim().to_string()),
        assumed_role_id: aru
            .and_then(|a| a.text_at(&["AssumedRoleId"]))
            .map(|s| s.trim().to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued() {
        let body = br#"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>LSIA1</AccessKeyId><SecretAccessKey>the-secret-key</SecretAccessKey><SessionToken>the-session-token</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA1:s</AssumedRoleId><Arn>arn:aws:sts::111122223333:assumed-role/r/s</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>"#;
        let c = parse_issued(body).unwrap();
        assert_eq!(c.access_key_id, "LSIA1");
        assert_eq!(c.secret_access_key.expose(), "the-secret-key");
        assert_eq!(c.session_token.expose(), "the-session-token");
        assert_eq!(c.expiration, Some(1_893_456_000));
        assert_eq!(
            c.assumed_role_arn.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/r/s")
        );
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("the-secret-key") && !shown.contains("the-session-token"),
            "{shown}"
        );
        assert!(parse_issued(b"<x/>").is_none());
    }
}
