//! Amazon Resource Names: parsing and wildcard matching.
//!
//! An ARN is `arn:partition:service:region:account:resource`; the resource part may
//! itself contain colons. Matching (Resource element, `ArnLike`/`ArnEquals`) is
//! case-sensitive and done per colon-separated part: `*` and `?` match within one
//! part, except that a `*` ending a part may run on across the following parts
//! (`arn:aws:secretsmanager:eu-west-3:*` covers every secret there).

use crate::variables::{Template, TemplateError, Vars};
use thiserror::Error;

/// Why a string is not a valid ARN.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ArnError {
    /// The text does not start with `arn:` or has fewer than six parts.
    #[error("{0:?} is not an ARN (expected arn:partition:service:region:account:resource)")]
    Malformed(String),
    /// The account part is not a 12-digit account id where one is required.
    #[error("{0:?}: the account part must be a 12-digit AWS account id")]
    BadAccount(String),
}

/// A parsed ARN (borrowing nothing: owned parts).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    /// `aws`, `aws-cn`, `aws-us-gov`, …
    pub partition: String,
    /// Service namespace (`iam`, `sts`, `secretsmanager`, …).
    pub service: String,
    /// Region, empty for global services.
    pub region: String,
    /// Account id, empty for some resources (S3 buckets).
    pub account: String,
    /// Resource part (`secret:name-AbCdEf`, `role/path/name`), may contain colons.
    pub resource: String,
}

impl Arn {
    /// Parses `text` into its six parts.
    pub fn parse(text: &str) -> Result<Arn, ArnError> {
        let (parts, n) = split6(text);
        if n < 6 || parts[0] != "arn" || parts[1].is_empty() || parts[2].is_empty() {
            return Err(ArnError::Malformed(text.to_string()));
        }
        Ok(Arn {
            partition: parts[1].to_string(),
            service: parts[2].to_string(),
            region: parts[3].to_string(),
            account: parts[4].to_string(),
            resource: parts[5].to_string(),
        })
    }
}

impl std::fmt::Display for Arn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// Whether `s` is a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account part of an ARN, if `text` is an ARN.
pub fn account_of(text: &str) -> Option<&str> {
    let (parts, n) = split6(text);
    (n == 6 && parts[0] == "arn").then_some(parts[4])
}

/// Splits on the first five colons: up to six parts, the last keeps its colons.
/// Returns the parts and how many there are.
#[inline]
pub(crate) fn split6(text: &str) -> ([&str; 6], usize) {
    let mut parts = [""; 6];
    let mut n = 0;
    let mut rest = text;
    while n < 5 {
        match rest.find(':') {
            Some(i) => {
                parts[n] = &rest[..i];
                rest = &rest[i + 1..];
                n += 1;
            }
            None => break,
        }
    }
    parts[n] = rest;
    (parts, n + 1)
}

/// Like [`split6`] for a policy string, but never splits inside `${...}`
/// (variable names such as `${aws:username}` contain colons).
fn split6_template(text: &str, variables: bool) -> Vec<&str> {
    if !variables || !text.contains("${") {
        let (p, n) = split6(text);
        return p[..n].to_vec();
    }
    let mut out = Vec::with_capacity(6);
    let bytes = text.as_bytes();
    let (mut start, mut depth, mut i) = (0, false, 0);
    while i < bytes.len() && out.len() < 5 {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth = true;
                i += 1;
            }
            b'}' => depth = false,
            b':' if !depth => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&text[start..]);
    out
}

/// A compiled ARN pattern (Resource element entry or `Arn*` condition value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArnPattern {
    /// `*`.
    Any,
    /// Per-part templates (1 to 6 of them).
    Parts(Vec<Template>),
}

impl ArnPattern {
    /// Compiles `text`; `variables` enables `${...}` (policy version 2012-10-17).
    pub(crate) fn parse(text: &str, variables: bool) -> Result<ArnPattern, TemplateError> {
        if text == "*" {
            return Ok(ArnPattern::Any);
        }
        let parts = split6_template(text, variables)
            .into_iter()
            .map(|p| Template::parse(p, true, variables))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ArnPattern::Parts(parts))
    }

    /// Whether the service part (third) holds a wildcard.
    pub(crate) fn service_has_wildcard(&self) -> bool {
        match self {
            ArnPattern::Any => false,
            ArnPattern::Parts(p) => p.len() >= 3 && p[2].has_wildcard(),
        }
    }

    /// Matches `value`; `None` when a policy variable has no value.
    pub(crate) fn matches<V: Vars + ?Sized>(&self, value: &str, vars: &V) -> Option<bool> {
        let parts = match self {
            ArnPattern::Any => return Some(true),
            ArnPattern::Parts(p) => p,
        };
        let (vparts, nv) = split6(value);
        if parts.len() > nv {
            return Some(false);
        }
        let mut unresolved = false;
        if match_parts(parts, &vparts[..nv], value, vars, &mut unresolved) {
            Some(true)
        } else if unresolved {
            None // some path could not be decided: a variable has no value
        } else {
            Some(false)
        }
    }
}

/// Matches pattern parts against value parts. Each pattern part covers one value
/// part, except that a part ending with `*` may also cover the following value
/// parts, colons included (spec: "a `*` that is the last character of a segment may
/// expand beyond the colon boundaries"). At most 6 × 6 combinations.
fn match_parts<V: Vars + ?Sized>(
    parts: &[Template],
    vparts: &[&str],
    value: &str,
    vars: &V,
    unresolved: &mut bool,
) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return vparts.is_empty();
    };
    if vparts.len() < parts.len() {
        return false;
    }
    let start = vparts[0].as_ptr() as usize - value.as_ptr() as usize;
    // Without a trailing star a part covers exactly one value part; with one, it may
    // cover as many as leave one value part for each remaining pattern part.
    let max = if first.ends_with_star() {
        vparts.len() - rest.len()
    } else {
        1
    };
    for n in 1..=max {
        let last = vparts[n - 1];
        let end = last.as_ptr() as usize - value.as_ptr() as usize + last.len();
        match first.matches(&value[start..end], false, vars) {
            None => *unresolved = true,
            Some(true) if match_parts(rest, &vparts[n..], value, vars, unresolved) => return true,
            Some(_) => {}
        }
    }
    false
}

/// Whether `arn` matches the ARN pattern `pattern` with the Resource-element and
/// `ArnLike` rules (case-sensitive, `*`/`?` within each part, a `*` ending a part
/// may cross part boundaries). Policy variables are not expanded: `${...}` is literal.
///
/// ```
/// use iam::arn::matches_pattern;
/// let secret = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:staging/db-AbCdEf";
/// assert!(matches_pattern("arn:aws:secretsmanager:eu-west-3:123456789012:secret:staging/*", secret));
/// assert!(matches_pattern("arn:aws:secretsmanager:eu-west-3:*", secret));
/// assert!(!matches_pattern("arn:aws:secretsmanager:*:123456789012:secret:prod/*", secret));
/// ```
pub fn matches_pattern(pattern: &str, arn: &str) -> bool {
    match ArnPattern::parse(pattern, false) {
        Ok(p) => p.matches(arn, &NoVars).unwrap_or(false),
        Err(_) => false,
    }
}

/// A variable source with no variables.
pub(crate) struct NoVars;
impl Vars for NoVars {
    fn var(&self, _: &str) -> Option<&str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variables::tests::Map;

    const S: &str = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:staging/db-AbCdEf";

    #[test]
    fn parse_and_display() {
        let a = Arn::parse(S).unwrap();
        assert_eq!(a.service, "secretsmanager");
        assert_eq!(a.account, "123456789012");
        assert_eq!(a.resource, "secret:staging/db-AbCdEf");
        assert_eq!(a.to_string(), S);
        assert!(Arn::parse("arn:aws:s3:::bucket/key:with:colons").is_ok());
        assert!(Arn::parse("not-an-arn").is_err());
        assert!(Arn::parse("arn:aws:s3").is_err());
        assert_eq!(account_of(S), Some("123456789012"));
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901a"));
    }

    #[test]
    fn per_part_wildcards() {
        assert!(matches_pattern("*", S));
        assert!(matches_pattern(
            "arn:aws:secretsmanager:*:123456789012:secret:*",
            S
        ));
        assert!(matches_pattern(
            "arn:aws:secretsmanager:eu-west-?:123456789012:secret:staging/db-??????",
            S
        ));
        // `*` inside the resource part crosses `/`.
        assert!(matches_pattern(
            "arn:aws:secretsmanager:eu-west-3:123456789012:secret:*db*",
            S
        ));
        // A `*` in a non-final part does not cross a colon.
        assert!(!matches_pattern(
            "arn:aws:secretsmanager:eu-*-3:123456789012",
            S
        ));
        // A final `*` crosses the remaining colons.
        assert!(matches_pattern("arn:aws:secretsmanager:eu-west-3:*", S));
        assert!(matches_pattern("arn:aws:*", S));
        assert!(!matches_pattern("arn:aws:secretsmanager:eu-west-3", S));
        // Case-sensitive.
        assert!(!matches_pattern(
            "arn:aws:secretsmanager:eu-west-3:123456789012:secret:Staging/*",
            S
        ));
        // `staging*` also matches staging-legacy: the pitfall the report warns about.
        assert!(matches_pattern(
            "arn:aws:secretsmanager:eu-west-3:123456789012:secret:staging*",
            "arn:aws:secretsmanager:eu-west-3:123456789012:secret:staging-legacy-AbCdEf"
        ));
        // Colons inside the resource part.
        assert!(matches_pattern(
            "arn:aws:logs:us-east-1:123456789012:log-group:my-group:*",
            "arn:aws:logs:us-east-1:123456789012:log-group:my-group:log-stream:x"
        ));
    }

    #[test]
    fn variables_in_parts() {
        let p = ArnPattern::parse("arn:aws:iam::123456789012:user/${aws:username}", true).unwrap();
        let vars = Map(vec![("aws:username", "alice")]);
        assert_eq!(
            p.matches("arn:aws:iam::123456789012:user/alice", &vars),
            Some(true)
        );
        assert_eq!(
            p.matches("arn:aws:iam::123456789012:user/bob", &vars),
            Some(false)
        );
        assert_eq!(
            p.matches("arn:aws:iam::123456789012:user/alice", &NoVars),
            None
        );
    }
}
