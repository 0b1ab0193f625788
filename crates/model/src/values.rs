//! Validated values: each type can only hold a well-formed value, and every accepted
//! value uses a small character set that needs no escaping in YAML, JSON, Markdown or
//! CloudFormation (no quotes, colons where not expected, newlines, `$`, `{`, `}` …).
//! Renderers still escape (defence in depth), but nothing unsafe gets this far.

use aws_wire::arn::is_account_id;
use std::fmt;

/// Why a raw string was rejected: what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

impl Rejection {
    fn new(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// Shows a user value in an error message without letting it break the message:
/// control characters are escaped and long values are cut.
pub(crate) fn shown(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(80)
        .collect::<String>()
        .escape_debug()
        .to_string();
    if value.chars().count() > 80 {
        out.push('…');
    }
    format!("\"{out}\"")
}

fn first_bad_char(value: &str, allowed: impl Fn(char) -> bool) -> Option<char> {
    value.chars().find(|c| !allowed(*c))
}

fn describe_char(c: char) -> String {
    match c {
        '\n' => "a newline".to_owned(),
        '\r' => "a carriage return".to_owned(),
        '\t' => "a tab".to_owned(),
        ' ' => "a space".to_owned(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("`{c}`"),
    }
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_newtype!(
    /// A 12-digit AWS account id, e.g. `123456789012`.
    AccountId
);

impl AccountId {
    /// Validates an account id.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        if is_account_id(value) {
            return Ok(Self(value.to_owned()));
        }
        let digits = value.trim().replace(['-', ' '], "");
        let fix = if is_account_id(&digits) {
            format!("write it as 12 digits without separators: \"{digits}\"")
        } else {
            "use the 12-digit account id shown by `aws sts get-caller-identity`, in quotes (\"123456789012\")"
                .to_owned()
        };
        Err(Rejection::new(
            format!(
                "{} is not an AWS account id (exactly 12 digits)",
                shown(value)
            ),
            fix,
        ))
    }
}

/// The AWS partitions this generator supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Partition {
    /// Commercial regions (`arn:aws:…`).
    Aws,
    /// AWS GovCloud (US) (`arn:aws-us-gov:…`).
    AwsUsGov,
}

impl Partition {
    /// The partition as written in ARNs.
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }

    /// The DNS suffix of service endpoints in this partition.
    pub fn dns_suffix(self) -> &'static str {
        "amazonaws.com"
    }
}

string_newtype!(
    /// An AWS region code such as `eu-west-3`, in a supported partition.
    Region
);

/// The directions of AWS region codes (`eu-west-3`, `ap-southeast-2`, `us-gov-east-1`).
pub const REGION_DIRECTIONS: &[&str] = &[
    "east",
    "west",
    "north",
    "south",
    "central",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
];

impl Region {
    /// Validates a region code: `<area>-[gov-]<direction>-<digit>`, lowercase.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        let fix = "use a region code such as eu-west-3 or us-east-1 (`aws ec2 describe-regions`)";
        let lower = value.to_ascii_lowercase();
        if lower != value && Self::parse(&lower).is_ok() {
            return Err(Rejection::new(
                format!("{} must be lowercase", shown(value)),
                format!("write \"{lower}\""),
            ));
        }
        let parts: Vec<&str> = value.split('-').collect();
        let shape_ok = match parts.as_slice() {
            [area, direction, number] | [area, "gov", direction, number] => {
                area.len() == 2
                    && area.bytes().all(|b| b.is_ascii_lowercase())
                    && REGION_DIRECTIONS.contains(direction)
                    && number.len() == 1
                    && number.bytes().all(|b| (b'1'..=b'9').contains(&b))
            }
            _ => false,
        };
        if !shape_ok {
            // An availability zone (eu-west-3a) is a frequent slip.
            if let Some(stripped) = value.strip_suffix(|c: char| c.is_ascii_lowercase()) {
                if Self::parse(stripped).is_ok() {
                    return Err(Rejection::new(
                        format!("{} is an availability zone, not a region", shown(value)),
                        format!("write the region \"{stripped}\""),
                    ));
                }
            }
            return Err(Rejection::new(
                format!("{} is not an AWS region code", shown(value)),
                fix,
            ));
        }
        if parts[0] == "cn" || value.starts_with("us-iso") {
            return Err(Rejection::new(
                format!(
                    "{} is in a partition this generator does not support (only aws and aws-us-gov)",
                    shown(value)
                ),
                "use a commercial or GovCloud region",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The partition of the region.
    pub fn partition(&self) -> Partition {
        if self.0.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else {
            Partition::Aws
        }
    }
}

string_newtype!(
    /// The OIDC issuer URL of an EKS cluster, normalised to `https://host/path` (no
    /// trailing slash, no port, no query).
    OidcIssuer
);

impl OidcIssuer {
    /// Validates an issuer; `https://` may be omitted and is added.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        let fix = "copy it from `aws eks describe-cluster --name CLUSTER --query cluster.identity.oidc.issuer --output text`, e.g. https://oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
        if value.starts_with("http://") {
            return Err(Rejection::new(
                format!("{} uses http; IAM only trusts https issuers", shown(value)),
                fix,
            ));
        }
        let rest = value.strip_prefix("https://").unwrap_or(value);
        if rest.contains("://") {
            return Err(Rejection::new(
                format!("{} is not an https URL", shown(value)),
                fix,
            ));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if let Some(c) = rest.chars().find(|c| matches!(c, '?' | '#')) {
            return Err(Rejection::new(
                format!(
                    "{} contains `{c}`: an issuer URL has no query or fragment",
                    shown(value)
                ),
                fix,
            ));
        }
        let (host, path) = match rest.split_once('/') {
            Some((host, path)) => (host, Some(path)),
            None => (rest, None),
        };
        if host.contains(':') {
            return Err(Rejection::new(
                format!(
                    "{} contains a port; IAM OIDC provider URLs cannot have one",
                    shown(value)
                ),
                fix,
            ));
        }
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host.contains('.')
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !host_ok {
            return Err(Rejection::new(
                format!(
                    "{} does not have a valid lowercase DNS host name",
                    shown(value)
                ),
                fix,
            ));
        }
        if let Some(path) = path {
            let segment_ok = |s: &str| {
                !s.is_empty()
                    && s.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
                    })
            };
            if !path.split('/').all(segment_ok) {
                return Err(Rejection::new(
                    format!(
                        "{} has a path with characters outside A-Z a-z 0-9 - _ . ~ or empty segments",
                        shown(value)
                    ),
                    fix,
                ));
            }
        }
        let normalised = format!("https://{rest}");
        if normalised.len() > 255 {
            return Err(Rejection::new(
                format!("{} is longer than 255 characters", shown(value)),
                fix,
            ));
        }
        Ok(Self(normalised))
    }

    /// The issuer without `https://`, as IAM writes it in OIDC provider ARNs and
    /// condition keys (`oidc.eks.eu-west-3.amazonaws.com/id/XXXX`).
    pub fn host_and_path(&self) -> &str {
        self.0.strip_prefix("https://").unwrap_or(&self.0)
    }
}

/// Whether `value` is a DNS-1123 label (Kubernetes namespaces, our access names).
pub(crate) fn is_dns_label(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
}

/// Whether `value` is a DNS-1123 subdomain (most Kubernetes object names).
pub(crate) fn is_dns_subdomain(value: &str) -> bool {
    !value.is_empty() && value.len() <= 253 && value.split('.').all(is_dns_label)
}

fn kube_fix(value: &str, max: usize) -> String {
    let suggestion: String = value
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .chars()
        .take(max)
        .collect();
    let suggestion = suggestion.trim_end_matches('-');
    if suggestion.is_empty() {
        format!("use lowercase letters, digits and `-`, starting and ending with a letter or digit, at most {max} characters")
    } else {
        format!("use lowercase letters, digits and `-`, starting and ending with a letter or digit, at most {max} characters, e.g. \"{suggestion}\"")
    }
}

string_newtype!(
    /// A Kubernetes DNS-1123 label: lowercase letters, digits and `-`, at most 63
    /// characters (namespace names; our access names, which also name the ESO store).
    KubeLabel
);

impl KubeLabel {
    /// Validates a DNS-1123 label.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        if is_dns_label(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(Rejection::new(
                format!(
                    "{} is not a valid Kubernetes name (DNS-1123 label)",
                    shown(value)
                ),
                kube_fix(value, 63),
            ))
        }
    }
}

string_newtype!(
    /// A Kubernetes DNS-1123 subdomain: labels joined by `.`, at most 253 characters
    /// (ServiceAccount and Secret names).
    KubeName
);

impl KubeName {
    /// Validates a DNS-1123 subdomain.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        if is_dns_subdomain(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(Rejection::new(
                format!(
                    "{} is not a valid Kubernetes object name (DNS-1123 subdomain)",
                    shown(value)
                ),
                kube_fix(value, 253),
            ))
        }
    }
}

string_newtype!(
    /// An IAM role or user name: 1 to 64 of `A-Z a-z 0-9 + = , . @ _ -`.
    IamName
);

impl IamName {
    /// Validates an IAM role or user name.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
        if value.is_empty() {
            return Err(Rejection::new(
                "is empty",
                "give a name of 1 to 64 characters",
            ));
        }
        if let Some(c) = first_bad_char(value, allowed) {
            return Err(Rejection::new(
                format!(
                    "{} contains {}, not allowed in IAM names",
                    shown(value),
                    describe_char(c)
                ),
                "use only letters, digits and + = , . @ _ -",
            ));
        }
        if value.len() > 64 {
            return Err(Rejection::new(
                format!(
                    "{} is {} characters long; IAM names are at most 64",
                    shown(value),
                    value.len()
                ),
                "choose a shorter name",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

fn secret_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-!".contains(c)
}

string_newtype!(
    /// An exact Secrets Manager secret name (1 to 512 of `A-Z a-z 0-9 / _ + = . @ - !`;
    /// `!` appears in names of secrets that AWS services manage, e.g. `rds!db-…`).
    SecretName
);

impl SecretName {
    /// Validates a secret name.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        check_secret_text(value, "secret name")?;
        Ok(Self(value.to_owned()))
    }

    /// Whether the name ends with `-` and six characters, which AWS advises against:
    /// the name then looks like an ARN suffix.
    pub fn looks_like_arn_suffix(&self) -> bool {
        let bytes = self.0.as_bytes();
        bytes.len() > 7
            && bytes[bytes.len() - 7] == b'-'
            && bytes[bytes.len() - 6..]
                .iter()
                .all(u8::is_ascii_alphanumeric)
    }
}

fn check_secret_text(value: &str, what: &str) -> Result<(), Rejection> {
    if value.is_empty() {
        return Err(Rejection::new(
            format!("is an empty {what}"),
            "remove the empty entry",
        ));
    }
    if let Some(c) = first_bad_char(value, secret_name_char) {
        let fix = if c == '*' || c == '?' {
            "wildcards are added for you: list the exact name under `names`, a prefix under `prefixes`, or write a full ARN pattern under `arn_patterns`"
        } else {
            "Secrets Manager names only use letters, digits and / _ + = . @ - (and ! for service-managed secrets)"
        };
        return Err(Rejection::new(
            format!("{} contains {}", shown(value), describe_char(c)),
            fix,
        ));
    }
    if value.len() > 512 {
        return Err(Rejection::new(
            format!(
                "the {what} is {} characters long (at most 512)",
                value.len()
            ),
            "shorten it",
        ));
    }
    Ok(())
}

string_newtype!(
    /// A secret-name prefix: every secret whose name starts with it.
    SecretPrefix
);

impl SecretPrefix {
    /// Validates a prefix.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        check_secret_text(value, "prefix")?;
        Ok(Self(value.to_owned()))
    }

    /// Whether the prefix ends at a path or word boundary (`/`, `-`, `_`, `.`), which
    /// makes it less likely to catch unrelated names.
    pub fn ends_at_boundary(&self) -> bool {
        self.0.ends_with(['/', '-', '_', '.'])
    }
}

/// The parts of an ARN: `arn:partition:service:region:account:resource`.
struct ArnParts<'a> {
    partition: &'a str,
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn split_arn(value: &str) -> Option<ArnParts<'_>> {
    let mut parts = value.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    Some(ArnParts {
        partition: parts.next()?,
        service: parts.next()?,
        region: parts.next()?,
        account: parts.next()?,
        resource: parts.next()?,
    })
}

string_newtype!(
    /// A raw Secrets Manager ARN pattern,
    /// `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-PATTERN`, whose partition,
    /// region and account equal the access's (no wildcard there) and whose name part may
    /// use `*` and `?`.
    SecretArnPattern
);

impl SecretArnPattern {
    /// Validates a pattern for an access in `region` and `account`.
    pub fn parse(value: &str, region: &Region, account: &AccountId) -> Result<Self, Rejection> {
        let example = format!(
            "arn:{}:secretsmanager:{region}:{account}:secret:staging/db-??????",
            region.partition().as_str()
        );
        let Some(parts) = split_arn(value) else {
            return Err(Rejection::new(
                format!(
                    "{} is not an ARN (arn:partition:service:region:account:resource)",
                    shown(value)
                ),
                format!(
                    "write a full secret ARN pattern such as {example}, or use `names`/`prefixes`"
                ),
            ));
        };
        if parts.service != "secretsmanager" {
            return Err(Rejection::new(
                format!(
                    "{} is not a Secrets Manager ARN (service `{}`)",
                    shown(value),
                    parts.service
                ),
                format!("use an ARN such as {example}; KMS keys go under `kms_key_arns`"),
            ));
        }
        if parts.partition != region.partition().as_str()
            || parts.region != region.as_str()
            || parts.account != account.as_str()
        {
            return Err(Rejection::new(
                format!(
                    "{} does not target this access's partition, region and account ({}, {region}, {account}); wildcards are not allowed there",
                    shown(value),
                    region.partition().as_str()
                ),
                format!("write arn:{}:secretsmanager:{region}:{account}:secret:…, or change the access's region/account_id", region.partition().as_str()),
            ));
        }
        let Some(name_pattern) = parts.resource.strip_prefix("secret:") else {
            return Err(Rejection::new(
                format!("{} does not have the resource type `secret:`", shown(value)),
                format!("use an ARN such as {example}"),
            ));
        };
        if name_pattern.is_empty() {
            return Err(Rejection::new(
                format!("{} has an empty secret name pattern", shown(value)),
                format!("use an ARN such as {example}"),
            ));
        }
        let allowed = |c: char| secret_name_char(c) || c == '*' || c == '?';
        if let Some(c) = first_bad_char(name_pattern, allowed) {
            return Err(Rejection::new(
                format!(
                    "{} contains {} in its name pattern",
                    shown(value),
                    describe_char(c)
                ),
                "use only letters, digits, / _ + = . @ - ! and the wildcards * and ?",
            ));
        }
        if value.len() > 2048 {
            return Err(Rejection::new(
                "the ARN pattern is longer than 2048 characters",
                "shorten it",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The name part after `secret:`.
    pub fn name_pattern(&self) -> &str {
        self.0
            .split_once(":secret:")
            .map(|(_, name)| name)
            .unwrap_or_default()
    }
}

string_newtype!(
    /// A KMS key ARN, `arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID`, in the access's
    /// region (Secrets Manager only uses keys of its own region).
    KmsKeyArn
);

fn is_key_id(id: &str) -> bool {
    let uuid = || {
        let groups: Vec<&str> = id.split('-').collect();
        groups.len() == 5
            && groups
                .iter()
                .zip([8, 4, 4, 4, 12])
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let multi_region = || {
        id.strip_prefix("mrk-")
            .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    uuid() || multi_region()
}

impl KmsKeyArn {
    /// Validates a key ARN for an access in `region`.
    pub fn parse(value: &str, region: &Region) -> Result<Self, Rejection> {
        let example = format!(
            "arn:{}:kms:{region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            region.partition().as_str()
        );
        let fix = format!("use the key ARN (not an alias), e.g. {example}: `aws kms describe-key --key-id alias/NAME --query KeyMetadata.Arn`");
        let Some(parts) = split_arn(value) else {
            return Err(Rejection::new(
                format!("{} is not a KMS key ARN", shown(value)),
                fix,
            ));
        };
        if parts.service != "kms" || parts.partition != region.partition().as_str() {
            return Err(Rejection::new(
                format!(
                    "{} is not a KMS key ARN of partition {}",
                    shown(value),
                    region.partition().as_str()
                ),
                fix,
            ));
        }
        if parts.resource.starts_with("alias/") {
            return Err(Rejection::new(
                format!(
                    "{} is an alias ARN; IAM authorizes kms:Decrypt on the key ARN only",
                    shown(value)
                ),
                fix,
            ));
        }
        if AccountId::parse(parts.account).is_err()
            || !parts.resource.strip_prefix("key/").is_some_and(is_key_id)
        {
            return Err(Rejection::new(
                format!(
                    "{} is not a KMS key ARN (account of 12 digits, `key/` and a key id)",
                    shown(value)
                ),
                fix,
            ));
        }
        if parts.region != region.as_str() {
            return Err(Rejection::new(
                format!(
                    "{} is in region `{}` but the secrets are in {region}; Secrets Manager only decrypts with a key of its own region",
                    shown(value),
                    parts.region
                ),
                format!("use the key (or multi-Region replica) in {region}"),
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype!(
    /// A GCP project id: 6 to 30 of lowercase letters, digits and `-`, starting with a
    /// letter, not ending with `-`.
    GcpProjectId
);

impl GcpProjectId {
    /// Validates a project id.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        let ok = (6..=30).contains(&value.len())
            && value.starts_with(|c: char| c.is_ascii_lowercase())
            && !value.ends_with('-')
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(Rejection::new(
                format!("{} is not a GCP project id", shown(value)),
                "use the project id (6 to 30 lowercase letters, digits or -, starting with a letter), as shown by `gcloud projects list`",
            ))
        }
    }
}

string_newtype!(
    /// A cluster name: 1 to 100 of letters, digits, `-` and `_`, starting with a letter
    /// or digit (the EKS rule; GKE names are a subset).
    ClusterName
);

impl ClusterName {
    /// Validates a cluster name.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        let ok = (1..=100).contains(&value.len())
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(Rejection::new(
                format!("{} is not a valid cluster name", shown(value)),
                "use the cluster's name: letters, digits, - and _, starting with a letter or digit, at most 100 characters",
            ))
        }
    }
}

string_newtype!(
    /// A GCP region such as `europe-west1` (only descriptive here).
    GcpRegion
);

impl GcpRegion {
    /// Validates a GCP region code.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        let ok = value.split_once('-').is_some_and(|(area, rest)| {
            !area.is_empty()
                && area.bytes().all(|b| b.is_ascii_lowercase())
                && rest.ends_with(|c: char| c.is_ascii_digit())
                && rest.starts_with(|c: char| c.is_ascii_lowercase())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if ok && value.len() <= 40 {
            Ok(Self(value.to_owned()))
        } else {
            Err(Rejection::new(
                format!("{} is not a GCP region code", shown(value)),
                "use a GCP region such as europe-west1 (the AWS region of the secrets goes in each access's `region`)",
            ))
        }
    }
}

string_newtype!(
    /// A GKE cluster's location: a region (`europe-west1`, regional cluster) or a zone
    /// (`europe-west1-b`, zonal cluster).
    GcpLocation
);

impl GcpLocation {
    /// Validates a GKE location.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        let region = match value.rsplit_once('-') {
            Some((region, zone))
                if zone.len() == 1 && zone.bytes().all(|b| b.is_ascii_lowercase()) =>
            {
                region
            }
            _ => value,
        };
        if GcpRegion::parse(region).is_ok() {
            Ok(Self(value.to_owned()))
        } else {
            Err(Rejection::new(
                format!("{} is not a GCP region or zone", shown(value)),
                "use the cluster's location as `gcloud container clusters list` shows it: a region such as europe-west1 or a zone such as europe-west1-b",
            ))
        }
    }
}

/// The OIDC issuer of the GKE cluster `cluster` in `project` at `location`
/// (`https://container.googleapis.com/v1/projects/<project>/locations/<location>/clusters/<cluster>`).
pub fn gke_issuer(
    project: &GcpProjectId,
    location: &GcpLocation,
    cluster: &ClusterName,
) -> Result<OidcIssuer, Rejection> {
    OidcIssuer::parse(&format!(
        "https://container.googleapis.com/v1/projects/{project}/locations/{location}/clusters/{cluster}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gke_locations_and_issuer() {
        for ok in ["europe-west1", "europe-west1-b", "us-central1-a"] {
            assert!(GcpLocation::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "europe",
            "europe-west1-bb",
            "Europe-west1",
            "europe-west1/x",
        ] {
            assert!(GcpLocation::parse(bad).is_err(), "{bad}");
        }
        let issuer = gke_issuer(
            &GcpProjectId::parse("my-project").unwrap(),
            &GcpLocation::parse("europe-west1").unwrap(),
            &ClusterName::parse("prod").unwrap(),
        )
        .unwrap();
        assert_eq!(
            issuer.as_str(),
            "https://container.googleapis.com/v1/projects/my-project/locations/europe-west1/clusters/prod"
        );
    }

    #[test]
    fn regions() {
        for ok in [
            "eu-west-3",
            "us-east-1",
            "ap-southeast-4",
            "us-gov-west-1",
            "il-central-1",
            "ca-west-1",
        ] {
            assert!(Region::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "eu-west-33",
            "EU-WEST-3",
            "eu-west-3a",
            "europe-west1",
            "",
            "eu-west",
            "cn-north-1",
            "us-iso-east-1",
            "eu-west-0",
        ] {
            assert!(Region::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Region::parse("us-gov-east-1").unwrap().partition(),
            Partition::AwsUsGov
        );
    }

    #[test]
    fn issuers() {
        let issuer = OidcIssuer::parse("oidc.eks.eu-west-3.amazonaws.com/id/ABC123/").unwrap();
        assert_eq!(
            issuer.as_str(),
            "https://oidc.eks.eu-west-3.amazonaws.com/id/ABC123"
        );
        assert_eq!(
            issuer.host_and_path(),
            "oidc.eks.eu-west-3.amazonaws.com/id/ABC123"
        );
        for bad in [
            "http://oidc.example.com",
            "https://oidc.example.com:443/id/x",
            "https://oidc.example.com/id/x?a=b",
            "https://",
            "https://Oidc.example.com",
            "https://oidc.example.com/id/${aws:username}",
            "https://oidc.example.com//x",
        ] {
            assert!(OidcIssuer::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kms_keys() {
        let region = Region::parse("eu-west-3").unwrap();
        assert!(KmsKeyArn::parse(
            "arn:aws:kms:eu-west-3:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            &region
        )
        .is_ok());
        assert!(KmsKeyArn::parse(
            "arn:aws:kms:eu-west-3:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
            &region
        )
        .is_ok());
        assert!(KmsKeyArn::parse("arn:aws:kms:eu-west-3:123456789012:alias/foo", &region).is_err());
        assert!(KmsKeyArn::parse(
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            &region
        )
        .is_err());
    }

    #[test]
    fn secret_names() {
        assert!(SecretName::parse("rds!db-1234").is_ok());
        assert!(SecretName::parse("a\"b").is_err());
        assert!(SecretName::parse("staging/*").is_err());
        assert!(SecretName::parse("db-abcdef")
            .unwrap()
            .looks_like_arn_suffix());
        assert!(!SecretName::parse("staging/db")
            .unwrap()
            .looks_like_arn_suffix());
    }

    #[test]
    fn names() {
        assert!(KubeLabel::parse("staging-secrets").is_ok());
        assert!(KubeLabel::parse("Staging").is_err());
        assert!(KubeName::parse("a.b-c").is_ok());
        assert!(IamName::parse(&"a".repeat(65)).is_err());
        assert!(IamName::parse("role name").is_err());
    }
}
