//! ARNs and account ids: the few parts of an ARN the gateway and the domain read.
//!
//! An ARN is `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, where the resource may
//! itself contain `:` and `/` (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html>).
//! These helpers only split; they never guess a missing part.

/// Whether `s` is a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account segment of an ARN (`None` when absent or empty).
pub fn account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The region segment of an ARN (`None` when absent or empty, as for IAM).
pub fn region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// The name of a `KIND/[PATH/]NAME` resource: the last path segment after `kind/`
/// (`role` of `arn:aws:iam::1:role/path/eso` is `eso`). `None` when the ARN is of
/// another kind or the name is empty.
pub fn resource_name<'a>(arn: &'a str, kind: &str) -> Option<&'a str> {
    arn.splitn(6, ':')
        .nth(5)?
        .strip_prefix(kind)?
        .strip_prefix('/')?
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_arns() {
        let role = "arn:aws:iam::111122223333:role/path/eso";
        assert_eq!(account(role), Some("111122223333"));
        assert_eq!(region(role), None);
        assert_eq!(resource_name(role, "role"), Some("eso"));
        assert_eq!(resource_name(role, "user"), None);
        assert_eq!(resource_name("arn:aws:iam::1:role/", "role"), None);
        assert_eq!(resource_name("arn:aws:iam::1:roles/x", "role"), None);
        let secret = "arn:aws:secretsmanager:eu-west-3:111122223333:secret:db/pw-AbCdEf";
        assert_eq!(region(secret), Some("eu-west-3"));
        assert_eq!(account(secret), Some("111122223333"));
        assert_eq!(account("not an arn"), None);
        assert_eq!(account("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(is_account_id("111122223333"));
        assert!(!is_account_id("11112222333"));
        assert!(!is_account_id("1111-2222-3333"));
        assert!(!is_account_id("11112222333a"));
        assert!(!is_account_id("١١١١٢٢٢٢٣٣٣٣"));
    }
}
