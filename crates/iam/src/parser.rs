//! Policy documents: JSON grammar → validated, compiled [`Policy`].
//!
//! Grammar (IAM User Guide, "IAM JSON policy element reference" and "Grammar of the
//! IAM JSON policy language"): top-level `Version`, `Id`, `Statement`; statement
//! `Sid`, `Effect`, `Principal`|`NotPrincipal`, `Action`|`NotAction`,
//! `Resource`|`NotResource`, `Condition`; each element a string or a list. Element
//! names and operator names are case-sensitive, as in AWS. Every error names the
//! offending element, e.g. `Statement[1].Condition.StringLike: ...`.

use crate::arn::{is_account_id, Arn, ArnPattern};
use crate::ast::{
    ActionClause, Effect, Policy, PolicyKind, PrincipalClause, PrincipalEntry, ResourceClause,
    Statement, Version,
};
use crate::condition::Condition;
use crate::web_identity::BuiltInProvider;
use crate::wildcard::Pattern;
use serde_json::{Map, Value};
use std::sync::Arc;
use thiserror::Error;

/// Why a policy document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// The text is not JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// The JSON is not a valid policy; `path` names the element
    /// (`Statement[1].Condition.StringLike`).
    #[error("{path}: {message}")]
    Invalid {
        /// Path of the offending element.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}

impl PolicyError {
    /// The element path (empty for JSON syntax errors).
    pub fn path(&self) -> &str {
        match self {
            PolicyError::Json(_) => "",
            PolicyError::Invalid { path, .. } => path,
        }
    }

    fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        PolicyError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl Policy {
    /// Parses and validates a policy document.
    ///
    /// ```
    /// let p = iam::Policy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#).unwrap();
    /// assert_eq!(p.statements().len(), 1);
    /// let e = iam::Policy::parse(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
    ///   {"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringLike":{"k:x":[]}}}]}"#).unwrap_err();
    /// assert!(e.to_string().starts_with("Statement[1].Condition.StringLike"));
    /// ```
    pub fn parse(json: &str) -> Result<Policy, PolicyError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| PolicyError::Json(e.to_string()))?;
        Policy::from_value(&value)
    }

    /// Validates and compiles an already parsed JSON value.
    pub fn from_value(value: &Value) -> Result<Policy, PolicyError> {
        let obj = value
            .as_object()
            .ok_or_else(|| PolicyError::at("(policy)", "a policy must be a JSON object"))?;
        for key in obj.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                return Err(PolicyError::at(key.clone(), "unknown policy element"));
            }
        }
        let version = match obj.get("Version") {
            None => Version::V2008_10_17,
            Some(Value::String(s)) if s == "2012-10-17" => Version::V2012_10_17,
            Some(Value::String(s)) if s == "2008-10-17" => Version::V2008_10_17,
            Some(other) => {
                return Err(PolicyError::at(
                    "Version",
                    format!("must be \"2012-10-17\" or \"2008-10-17\", found {other}"),
                ))
            }
        };
        let id = match obj.get("Id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(PolicyError::at("Id", "must be a string")),
        };
        let statements: Vec<&Map<String, Value>> = match obj.get("Statement") {
            None => return Err(PolicyError::at("Statement", "missing required element")),
            Some(Value::Object(s)) => vec![s],
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    s.as_object().ok_or_else(|| {
                        PolicyError::at(format!("Statement[{i}]"), "a statement must be an object")
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(PolicyError::at(
                    "Statement",
                    "must be an object or a list of objects",
                ))
            }
        };
        let variables = version == Version::V2012_10_17;
        let mut out = Vec::with_capacity(statements.len());
        for (i, s) in statements.into_iter().enumerate() {
            let stmt = parse_statement(s, i, variables)?;
            if let Some(sid) = &stmt.sid {
                if out
                    .iter()
                    .any(|o: &Statement| o.sid.as_deref() == Some(sid))
                {
                    return Err(PolicyError::at(
                        format!("Statement[{i}].Sid"),
                        format!("duplicate Sid {sid:?}: statement ids must be unique"),
                    ));
                }
            }
            out.push(stmt);
        }
        Ok(Policy {
            version,
            id,
            statements: out,
        })
    }

    /// Checks the rules that depend on where the policy is attached (IAM User Guide,
    /// "IAM JSON policy elements: Principal / NotPrincipal / Resource"):
    /// identity-based policies, boundaries, session policies and SCPs name no
    /// principal; resource-based policies name one in every statement; RCPs name
    /// `"*"`; identity-based policies, boundaries and session policies need a Resource.
    pub fn validate_for(&self, kind: PolicyKind) -> Result<(), PolicyError> {
        for s in &self.statements {
            let at = |e: &str| format!("Statement[{}].{e}", s.index);
            match kind {
                PolicyKind::Identity
                | PolicyKind::PermissionsBoundary
                | PolicyKind::Session
                | PolicyKind::Scp => {
                    if let Some(p) = &s.principal {
                        let e = if p.negated {
                            "NotPrincipal"
                        } else {
                            "Principal"
                        };
                        return Err(PolicyError::at(
                            at(e),
                            format!("a {} must not specify a principal", kind.aws_name()),
                        ));
                    }
                    if kind != PolicyKind::Scp && s.resource.is_none() {
                        return Err(PolicyError::at(
                            at("Resource"),
                            format!(
                                "a {} statement needs Resource or NotResource",
                                kind.aws_name()
                            ),
                        ));
                    }
                }
                PolicyKind::Resource => {
                    if s.principal.is_none() {
                        return Err(PolicyError::at(
                            at("Principal"),
                            "a resource-based policy statement needs Principal or NotPrincipal",
                        ));
                    }
                }
                PolicyKind::Rcp => return self.validate_rcp(),
            }
        }
        Ok(())
    }

    /// Whether the document is AWS's managed `RCPFullAWSAccess`: one statement
    /// allowing every principal every action on every resource, without condition.
    pub fn is_rcp_full_aws_access(&self) -> bool {
        matches!(self.statements.as_slice(), [s] if s.effect == Effect::Allow
            && s.principal_is_wildcard()
            && !s.action.negated
            && s.action.texts.iter().all(|t| &**t == "*")
            && s.resource.as_ref().is_some_and(|r| !r.negated && r.patterns.iter().all(|p| *p == ArnPattern::Any))
            && s.conditions.is_empty())
    }

    /// The rules AWS Organizations applies to a customer-managed RCP (AWS
    /// Organizations User Guide, "RCP syntax",
    /// <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html>,
    /// and "List of AWS services that support RCPs",
    /// <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html#rcp-supported-services>):
    /// `Version` 2012-10-17; `Effect` `Deny` only (`Allow` belongs to the AWS-managed
    /// `RCPFullAWSAccess`, accepted as is); `Principal` `"*"` (no `NotPrincipal`:
    /// narrow with conditions on `aws:PrincipalArn`…); `Action` only (no
    /// `NotAction`), never `"*"` alone, each action of a service RCPs apply to.
    fn validate_rcp(&self) -> Result<(), PolicyError> {
        if self.is_rcp_full_aws_access() {
            return Ok(());
        }
        if self.version != Version::V2012_10_17 {
            return Err(PolicyError::at(
                "Version",
                "a resource control policy must have \"Version\": \"2012-10-17\"",
            ));
        }
        for s in &self.statements {
            let at = |e: &str| format!("Statement[{}].{e}", s.index);
            if s.effect != Effect::Deny {
                return Err(PolicyError::at(
                    at("Effect"),
                    "a resource control policy statement must be \"Deny\" (\"Allow\" is only in the AWS-managed RCPFullAWSAccess)",
                ));
            }
            match &s.principal {
                Some(p) if p.negated => {
                    return Err(PolicyError::at(
                        at("NotPrincipal"),
                        "NotPrincipal is not supported in a resource control policy: use Principal \"*\" with a condition on aws:PrincipalArn or aws:PrincipalAccount",
                    ))
                }
                _ if !s.principal_is_wildcard() => {
                    return Err(PolicyError::at(
                        at("Principal"),
                        "a resource control policy statement must have Principal \"*\" (narrow it with conditions)",
                    ))
                }
                _ => {}
            }
            if s.action.negated {
                return Err(PolicyError::at(
                    at("NotAction"),
                    "NotAction is not supported in a resource control policy: list the denied actions in Action",
                ));
            }
            let n = s.action.texts.len();
            for (i, a) in s.action.texts.iter().enumerate() {
                let path = item_path(&at("Action"), i, n);
                if &**a == "*" {
                    return Err(PolicyError::at(
                        path,
                        format!("\"*\" alone is not allowed in a customer-managed resource control policy: name the service, e.g. \"s3:*\" (services: {})", RCP_SERVICES.join(", ")),
                    ));
                }
                let service = a.split_once(':').map_or(&**a, |(svc, _)| svc);
                if !RCP_SERVICES.contains(&service) {
                    return Err(PolicyError::at(
                        path,
                        format!("{a:?}: resource control policies do not apply to service {service:?}; supported: {}", RCP_SERVICES.join(", ")),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks the rules of a role trust policy: every statement names a principal,
    /// `NotPrincipal` and `Resource` are not allowed.
    pub fn validate_trust_policy(&self) -> Result<(), PolicyError> {
        self.validate_for(PolicyKind::Resource)?;
        for s in &self.statements {
            if s.has_not_principal() {
                return Err(PolicyError::at(
                    format!("Statement[{}].NotPrincipal", s.index),
                    "NotPrincipal is not allowed in a role trust policy",
                ));
            }
            if s.resource.is_some() {
                return Err(PolicyError::at(
                    format!("Statement[{}].Resource", s.index),
                    "a role trust policy must not have Resource or NotResource",
                ));
            }
        }
        Ok(())
    }
}

/// Service prefixes RCPs apply to (AWS Organizations User Guide, "List of AWS
/// services that support RCPs",
/// <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html#rcp-supported-services>):
/// Amazon S3, AWS STS, AWS KMS, Amazon SQS, AWS Secrets Manager (at launch, also
/// listed by AWS Control Tower's "Controls implemented with RCPs"), then Amazon ECR,
/// Amazon OpenSearch Serverless, Amazon Cognito user pools, Amazon CloudWatch Logs
/// and Amazon DynamoDB. Extend it when AWS adds one.
pub const RCP_SERVICES: &[&str] = &[
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "ecr",
    "aoss",
    "cognito-idp",
    "logs",
    "dynamodb",
];

const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn parse_statement(
    s: &Map<String, Value>,
    index: usize,
    variables: bool,
) -> Result<Statement, PolicyError> {
    let base = format!("Statement[{index}]");
    let at = |e: &str| format!("{base}.{e}");
    for key in s.keys() {
        if !STATEMENT_ELEMENTS.contains(&key.as_str()) {
            return Err(PolicyError::at(at(key), "unknown statement element"));
        }
    }
    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(x)) => Some(Arc::<str>::from(x.as_str())),
        Some(_) => return Err(PolicyError::at(at("Sid"), "must be a string")),
    };
    let effect = match s.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(PolicyError::at(
                at("Effect"),
                format!("must be \"Allow\" or \"Deny\", found {other}"),
            ))
        }
        None => return Err(PolicyError::at(at("Effect"), "missing required element")),
    };
    let principal = match (s.get("Principal"), s.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::at(
                base,
                "Principal and NotPrincipal cannot both be present",
            ))
        }
        (Some(p), None) => Some(parse_principal(p, false, &at("Principal"))?),
        (None, Some(p)) => Some(parse_principal(p, true, &at("NotPrincipal"))?),
        (None, None) => None,
    };
    let action = match (s.get("Action"), s.get("NotAction")) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::at(
                base,
                "Action and NotAction cannot both be present",
            ))
        }
        (Some(a), None) => parse_actions(a, false, &at("Action"))?,
        (None, Some(a)) => parse_actions(a, true, &at("NotAction"))?,
        (None, None) => {
            return Err(PolicyError::at(
                at("Action"),
                "missing required element (Action or NotAction)",
            ))
        }
    };
    let resource = match (s.get("Resource"), s.get("NotResource")) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::at(
                base,
                "Resource and NotResource cannot both be present",
            ))
        }
        (Some(r), None) => Some(parse_resources(r, false, &at("Resource"), variables)?),
        (None, Some(r)) => Some(parse_resources(r, true, &at("NotResource"), variables)?),
        (None, None) => None,
    };
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, &at("Condition"), variables)?,
    };
    Ok(Statement {
        sid,
        index,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// A string or a non-empty list of strings.
fn strings<'a>(v: &'a Value, path: &str) -> Result<Vec<&'a str>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s]),
        Value::Array(list) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_str()
                    .ok_or_else(|| PolicyError::at(format!("{path}[{i}]"), "must be a string"))
            })
            .collect(),
        Value::Array(_) => Err(PolicyError::at(path, "must not be an empty list")),
        _ => Err(PolicyError::at(
            path,
            "must be a string or a list of strings",
        )),
    }
}

fn item_path(path: &str, i: usize, n: usize) -> String {
    if n == 1 {
        path.to_string()
    } else {
        format!("{path}[{i}]")
    }
}

fn parse_actions(v: &Value, negated: bool, path: &str) -> Result<ActionClause, PolicyError> {
    let list = strings(v, path)?;
    let n = list.len();
    let mut patterns = Vec::with_capacity(n);
    let mut texts = Vec::with_capacity(n);
    for (i, a) in list.into_iter().enumerate() {
        let valid = a == "*"
            || a.split_once(':').is_some_and(|(svc, name)| {
                !svc.is_empty() && !name.is_empty() && !a.chars().any(char::is_whitespace)
            });
        if !valid {
            return Err(PolicyError::at(
                item_path(path, i, n),
                format!("{a:?}: an action must be \"*\" or \"service:action\" (actions must be prefaced by a vendor)"),
            ));
        }
        let lower = a.to_lowercase();
        patterns.push(Pattern::new(&lower));
        texts.push(lower.into_boxed_str());
    }
    Ok(ActionClause {
        negated,
        patterns,
        texts,
    })
}

fn parse_resources(
    v: &Value,
    negated: bool,
    path: &str,
    variables: bool,
) -> Result<ResourceClause, PolicyError> {
    let list = strings(v, path)?;
    let n = list.len();
    let mut patterns = Vec::with_capacity(n);
    for (i, r) in list.into_iter().enumerate() {
        let p = item_path(path, i, n);
        if r != "*" && !r.starts_with("arn:") {
            return Err(PolicyError::at(
                p,
                format!("{r:?}: a resource must be \"*\" or an ARN (arn:partition:service:region:account:resource)"),
            ));
        }
        let pat = ArnPattern::parse(r, variables).map_err(|m| PolicyError::at(&p, m))?;
        if pat.service_has_wildcard() {
            return Err(PolicyError::at(
                p,
                format!("{r:?}: wildcards are not allowed in the service part of an ARN"),
            ));
        }
        patterns.push(pat);
    }
    Ok(ResourceClause { negated, patterns })
}

fn parse_principal(v: &Value, negated: bool, path: &str) -> Result<PrincipalClause, PolicyError> {
    let entries = match v {
        Value::String(s) if s == "*" => vec![PrincipalEntry::Any],
        Value::String(s) => {
            return Err(PolicyError::at(
                path,
                format!("{s:?}: a principal must be \"*\" or an object such as {{\"AWS\": ...}}"),
            ))
        }
        Value::Object(map) if !map.is_empty() => {
            let mut entries = Vec::new();
            for (kind, vals) in map {
                let kpath = format!("{path}.{kind}");
                let list = strings(vals, &kpath)?;
                let n = list.len();
                for (i, p) in list.into_iter().enumerate() {
                    entries.push(principal_entry(kind, p, &item_path(&kpath, i, n))?);
                }
            }
            entries
        }
        Value::Object(_) => return Err(PolicyError::at(path, "must not be empty")),
        _ => return Err(PolicyError::at(path, "must be \"*\" or an object")),
    };
    Ok(PrincipalClause { negated, entries })
}

fn principal_entry(kind: &str, p: &str, path: &str) -> Result<PrincipalEntry, PolicyError> {
    let wildcard = p.contains('*') || p.contains('?');
    if wildcard && !(kind == "AWS" && p == "*") {
        return Err(PolicyError::at(
            path,
            format!("{p:?}: wildcards are not allowed in a principal, except \"*\" alone"),
        ));
    }
    if p.is_empty() {
        return Err(PolicyError::at(path, "must not be empty"));
    }
    Ok(match kind {
        "AWS" => {
            if p == "*" {
                PrincipalEntry::Any
            } else if is_account_id(p) {
                PrincipalEntry::Account(p.into())
            } else {
                let arn = Arn::parse(p).map_err(|e| PolicyError::at(path, e.to_string()))?;
                if !matches!(arn.service.as_str(), "iam" | "sts") || !arn.region.is_empty() {
                    return Err(PolicyError::at(
                        path,
                        format!("{p:?}: an AWS principal must be an account id or an IAM/STS ARN"),
                    ));
                }
                if !is_account_id(&arn.account) {
                    return Err(PolicyError::at(
                        path,
                        format!("{p:?}: the account part must be a 12-digit account id"),
                    ));
                }
                if arn.service == "iam" && arn.resource == "root" {
                    // `arn:aws:iam::A:root` means the whole account, like "A".
                    PrincipalEntry::Account(arn.account.into())
                } else {
                    PrincipalEntry::Arn(p.into())
                }
            }
        }
        "Federated" => {
            // An IAM OIDC/SAML provider ARN or a built-in web identity provider
            // (IAM User Guide, "AWS JSON policy elements: Principal", federated
            // user principals).
            let provider_arn = Arn::parse(p).is_ok_and(|a| {
                a.service == "iam"
                    && is_account_id(&a.account)
                    && a.region.is_empty()
                    && ["oidc-provider/", "saml-provider/"]
                        .iter()
                        .any(|k| a.resource.len() > k.len() && a.resource.starts_with(k))
            });
            if !provider_arn && BuiltInProvider::from_name(p).is_none() {
                return Err(PolicyError::at(
                    path,
                    format!("{p:?}: a federated principal must be an IAM identity provider ARN (arn:aws:iam::ACCOUNT:oidc-provider/HOST or saml-provider/NAME) or one of {}", BuiltInProvider::ALL.map(BuiltInProvider::name).join(", ")),
                ));
            }
            PrincipalEntry::Federated(p.into())
        }
        "Service" => PrincipalEntry::Service(p.into()),
        "CanonicalUser" => PrincipalEntry::CanonicalUser(p.into()),
        _ => {
            return Err(PolicyError::at(
                path,
                "unknown principal type (expected AWS, Federated, Service or CanonicalUser)",
            ))
        }
    })
}

fn parse_conditions(v: &Value, path: &str, variables: bool) -> Result<Vec<Condition>, PolicyError> {
    let ops = v
        .as_object()
        .ok_or_else(|| PolicyError::at(path, "must be an object"))?;
    let mut out = Vec::new();
    for (op, keys) in ops {
        let op_path = format!("{path}.{op}");
        let keys = keys.as_object().ok_or_else(|| {
            PolicyError::at(
                &op_path,
                "must be an object mapping condition keys to values",
            )
        })?;
        if keys.is_empty() {
            return Err(PolicyError::at(
                &op_path,
                "must name at least one condition key",
            ));
        }
        for (key, vals) in keys {
            let key_path = format!("{op_path}.{key}");
            if !key
                .split_once(':')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
            {
                return Err(PolicyError::at(
                    &key_path,
                    "a condition key must be prefaced by a vendor (e.g. aws:SourceIp)",
                ));
            }
            let values = condition_values(vals, &key_path)?;
            let cond = Condition::compile(op, key, &values, variables)
                .map_err(|m| PolicyError::at(&op_path, m))?;
            out.push(cond);
        }
    }
    Ok(out)
}

/// Condition values: strings, numbers and booleans (AWS accepts all three), alone
/// or in a non-empty list.
fn condition_values(v: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    match v {
        Value::Array(list) if list.is_empty() => {
            Err(PolicyError::at(path, "must have at least one value"))
        }
        Value::Array(list) => list
            .iter()
            .enumerate()
            .map(|(i, x)| {
                scalar(x).ok_or_else(|| {
                    PolicyError::at(
                        format!("{path}[{i}]"),
                        "must be a string, a number or a boolean",
                    )
                })
            })
            .collect(),
        _ => scalar(v).map(|s| vec![s]).ok_or_else(|| {
            PolicyError::at(
                path,
                "must be a string, a number, a boolean or a list of them",
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        Policy::parse(json).unwrap_err().to_string()
    }

    #[test]
    fn minimal_and_lists() {
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:GetObject","s3:Put*"],"Resource":["arn:aws:s3:::b/*","*"]}]}"#,
        )
        .unwrap();
        assert_eq!(p.version(), Version::V2012_10_17);
        assert_eq!(p.id(), Some("x"));
        let s = &p.statements()[0];
        assert_eq!(s.sid(), Some("A"));
        assert_eq!(s.effect(), Effect::Allow);
        assert_eq!(s.label(), "statement \"A\"");
        let p = Policy::parse(
            r#"{"Statement":{"Effect":"Deny","NotAction":"iam:*","NotResource":"*"}}"#,
        )
        .unwrap();
        assert_eq!(p.version(), Version::V2008_10_17);
        assert_eq!(p.statements()[0].label(), "statement #0");
    }

    #[test]
    fn errors_name_the_element() {
        assert!(err("{").starts_with("invalid JSON"));
        assert_eq!(err("[]"), "(policy): a policy must be a JSON object");
        assert!(err(r#"{"Version":"2012-10-18","Statement":[]}"#).starts_with("Version:"));
        assert!(err(r#"{"Statment":[]}"#).starts_with("Statment: unknown"));
        assert!(err(r#"{"Version":"2012-10-17"}"#).starts_with("Statement: missing"));
        let base = r#""Effect":"Allow","Action":"s3:*","Resource":"*""#;
        let two = |second: &str| {
            err(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{{base}}},{{{second}}}]}}"#
            ))
        };
        assert!(two(r#""Effect":"allow","Action":"s3:*","Resource":"*""#)
            .starts_with("Statement[1].Effect:"));
        assert!(
            two(r#""Effect":"Allow","Resource":"*""#).starts_with("Statement[1].Action: missing")
        );
        assert!(
            two(r#""Effect":"Allow","Action":"GetObject","Resource":"*""#)
                .starts_with("Statement[1].Action:")
        );
        assert!(
            two(r#""Effect":"Allow","Action":["s3:a",3],"Resource":"*""#)
                .starts_with("Statement[1].Action[1]:")
        );
        assert!(two(r#""Effect":"Allow","Action":[],"Resource":"*""#)
            .starts_with("Statement[1].Action: must not be an empty list"));
        assert!(
            two(r#""Effect":"Allow","Action":"s3:*","Resource":"bucket""#)
                .starts_with("Statement[1].Resource:")
        );
        assert!(
            two(r#""Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s*:::b""#)
                .contains("service part")
        );
        assert!(two(r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringLike":{"s3:prefix":[]}}"#)
            .starts_with("Statement[1].Condition.StringLike.s3:prefix:"));
        assert!(two(r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringLikes":{"s3:prefix":"a"}}"#)
            .starts_with("Statement[1].Condition.StringLikes: unknown condition operator"));
        assert!(two(r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}"#)
            .starts_with("Statement[1].Condition.NumericLessThan: invalid value"));
        assert!(two(r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringLike":{"prefix":"a"}}"#)
            .starts_with("Statement[1].Condition.StringLike.prefix:"));
        assert!(
            two(r#""Effect":"Allow","Action":"s3:*","Action2":"s3:*","Resource":"*""#)
                .starts_with("Statement[1].Action2:")
        );
        assert!(
            two(r#""Effect":"Allow","Action":"s3:*","NotAction":"s3:*","Resource":"*""#)
                .starts_with("Statement[1]: Action and NotAction")
        );
        assert!(two(
            r#""Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::${aws:username""#
        )
        .starts_with("Statement[1].Resource: unterminated"));
    }

    #[test]
    fn duplicate_sid() {
        let e = err(
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
        );
        assert!(e.starts_with("Statement[1].Sid: duplicate"), "{e}");
    }

    #[test]
    fn principals() {
        let p = |pr: &str| {
            Policy::parse(&format!(
                r#"{{"Statement":{{"Effect":"Allow","Principal":{pr},"Action":"s3:*","Resource":"*"}}}}"#
            ))
        };
        assert!(p(r#""*""#).unwrap().statements()[0].principal_is_wildcard());
        assert!(p(r#"{"AWS":"*"}"#).unwrap().statements()[0].principal_is_wildcard());
        let acct = p(r#"{"AWS":["123456789012","arn:aws:iam::123456789012:root"]}"#).unwrap();
        assert_eq!(
            acct.statements()[0].principal.as_ref().unwrap().entries,
            vec![
                PrincipalEntry::Account("123456789012".into()),
                PrincipalEntry::Account("123456789012".into())
            ]
        );
        assert!(p(r#"{"AWS":"arn:aws:iam::123456789012:role/R"}"#).is_ok());
        assert!(p(r#"{"AWS":"arn:aws:sts::123456789012:assumed-role/R/s"}"#).is_ok());
        assert!(p(r#"{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-3.amazonaws.com/id/ABC"}"#).is_ok());
        assert!(p(r#"{"Service":"ec2.amazonaws.com"}"#).is_ok());
        // Federated: a provider ARN or a built-in web identity provider.
        assert!(p(r#"{"Federated":"arn:aws:iam::123456789012:saml-provider/corp"}"#).is_ok());
        for b in [
            "accounts.google.com",
            "cognito-identity.amazonaws.com",
            "www.amazon.com",
            "graph.facebook.com",
        ] {
            assert!(p(&format!(r#"{{"Federated":"{b}"}}"#)).is_ok(), "{b}");
        }
        for bad in [
            "oidc.example.com",
            "arn:aws:iam::123456789012:role/r",
            "arn:aws:iam::123456789012:oidc-provider/",
            "Accounts.Google.com",
        ] {
            let e = p(&format!(r#"{{"Federated":"{bad}"}}"#))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("Statement[0].Principal.Federated: ")
                    && e.contains("accounts.google.com"),
                "{e}"
            );
        }
        let e = p(r#"{"AWS":"arn:aws:iam::123456789012:user/*"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("Statement[0].Principal.AWS: ") && e.contains("wildcards"),
            "{e}"
        );
        let e = p(r#"{"AWS":["123456789012","arn:aws:iam::12345:user/x"]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("Statement[0].Principal.AWS[1]"), "{e}");
        assert!(p(r#""arn:aws:iam::123456789012:root""#).is_err());
        assert!(p(r#"{"Group":"x"}"#).is_err());
        assert!(p(r#"{}"#).is_err());
        assert!(p(r#"{"Service":"*"}"#).is_err());
    }

    #[test]
    fn kind_validation() {
        let with_principal = Policy::parse(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
        )
        .unwrap();
        let e = with_principal
            .validate_for(PolicyKind::Identity)
            .unwrap_err();
        assert_eq!(e.path(), "Statement[0].Principal");
        assert!(with_principal.validate_for(PolicyKind::Resource).is_ok());
        // An Allow without Version is not a customer RCP (see `rcp_syntax`).
        assert!(with_principal.validate_for(PolicyKind::Rcp).is_err());
        assert!(with_principal.validate_trust_policy().is_err());
        let identity =
            Policy::parse(r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#)
                .unwrap();
        assert!(identity.validate_for(PolicyKind::Identity).is_ok());
        assert!(identity.validate_for(PolicyKind::Resource).is_err());
        let no_res = Policy::parse(r#"{"Statement":{"Effect":"Allow","Action":"s3:*"}}"#).unwrap();
        assert!(no_res.validate_for(PolicyKind::Identity).is_err());
        assert!(no_res.validate_for(PolicyKind::Scp).is_ok());
        let trust = Policy::parse(r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}"#).unwrap();
        assert!(trust.validate_trust_policy().is_ok());
        let not_p = Policy::parse(r#"{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}"#).unwrap();
        assert!(not_p.validate_trust_policy().is_err());
    }

    #[test]
    fn rcp_syntax() {
        // AWS Organizations User Guide, "RCP syntax":
        // https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html
        let rcp = |stmt: &str| {
            Policy::parse(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}},{stmt}]}}"#
            ))
            .unwrap()
            .validate_for(PolicyKind::Rcp)
        };
        let err = |stmt: &str| rcp(stmt).unwrap_err().to_string();
        // A data-perimeter deny: accepted.
        assert!(rcp(r#"{"Sid":"Perimeter","Effect":"Deny","Principal":"*","Action":["secretsmanager:GetSecretValue","kms:Decrypt","sts:AssumeRole"],"NotResource":"arn:aws:s3:::public/*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-123"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}"#).is_ok());
        assert!(rcp(r#"{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"SecretsManager:*","Resource":"*"}"#).is_ok());
        // Effect Allow: only the managed RCPFullAWSAccess.
        let e = err(r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}"#);
        assert!(
            e.starts_with("Statement[1].Effect: ") && e.contains("RCPFullAWSAccess"),
            "{e}"
        );
        let full = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#).unwrap();
        assert!(full.is_rcp_full_aws_access());
        assert!(full.validate_for(PolicyKind::Rcp).is_ok());
        // The same Allow with a condition is not the managed policy.
        let almost = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#).unwrap();
        assert!(!almost.is_rcp_full_aws_access());
        assert_eq!(
            almost.validate_for(PolicyKind::Rcp).unwrap_err().path(),
            "Statement[0].Effect"
        );
        // NotAction, NotPrincipal, a named principal, no principal.
        assert!(err(
            r#"{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"*"}"#
        )
        .starts_with("Statement[1].NotAction: NotAction is not supported"));
        assert!(err(r#"{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"s3:*","Resource":"*"}"#)
            .starts_with("Statement[1].NotPrincipal: NotPrincipal is not supported"));
        assert!(err(
            r#"{"Effect":"Deny","Principal":{"AWS":"123456789012"},"Action":"s3:*","Resource":"*"}"#
        )
        .starts_with("Statement[1].Principal: "));
        assert!(err(r#"{"Effect":"Deny","Action":"s3:*","Resource":"*"}"#)
            .starts_with("Statement[1].Principal: "));
        // Bare "*" action, unsupported services (also hidden in a list).
        let e = err(r#"{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}"#);
        assert!(
            e.starts_with("Statement[1].Action: \"*\" alone is not allowed"),
            "{e}"
        );
        let e = err(
            r#"{"Effect":"Deny","Principal":"*","Action":["s3:GetObject","ec2:RunInstances"],"Resource":"*"}"#,
        );
        assert!(
            e.starts_with("Statement[1].Action[1]: ") && e.contains("\"ec2\""),
            "{e}"
        );
        assert!(
            err(r#"{"Effect":"Deny","Principal":"*","Action":"s*:GetObject","Resource":"*"}"#)
                .starts_with("Statement[1].Action: ")
        );
        // Version 2012-10-17 is required.
        let old = Policy::parse(
            r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
        )
        .unwrap();
        assert_eq!(
            old.validate_for(PolicyKind::Rcp).unwrap_err().path(),
            "Version"
        );
    }

    #[test]
    fn condition_value_kinds() {
        let p = Policy::parse(
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":true}}}}"#,
        );
        assert!(p.is_ok());
        let e = err(
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":null}}}}"#,
        );
        assert!(
            e.starts_with("Statement[0].Condition.Bool.aws:SecureTransport:"),
            "{e}"
        );
    }
}
