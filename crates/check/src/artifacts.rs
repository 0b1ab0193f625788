//! The policies inside an access's artifacts: the IAM policy JSON and the CloudFormation
//! template (identity policies and the role's trust policy), parsed with the `iam`
//! crate, with the line of each statement for reports.
//!
//! CloudFormation intrinsics inside policy documents are resolved the way
//! CloudFormation would for this access: `!Sub`/`Fn::Sub` and `!Ref`/`Ref` of the pseudo
//! parameters (`AWS::Partition`, `AWS::AccountId`, `AWS::Region`, `AWS::URLSuffix`) and
//! of template parameters with a default. Anything else (`!GetAtt`, a parameter without
//! default, another function) is an error naming the file and the value: the proof
//! never guesses a value.

use std::collections::BTreeMap;

use serde_norway::Value as Yaml;

use crate::error::CheckError;
use crate::findings::Location;

/// What a policy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyRole {
    /// Attached to the access's identity (role or user).
    Identity,
    /// The role's trust policy (`AssumeRolePolicyDocument`).
    Trust,
}

/// One parsed policy of an artifact.
#[derive(Debug, Clone)]
pub struct PolicyDoc {
    /// The file (relative path).
    pub file: String,
    /// Where in the file (`iam-policy.json`, `SecretsManagerReadPolicy.PolicyDocument`).
    pub label: String,
    /// Identity or trust.
    pub role: PolicyRole,
    /// The parsed policy.
    pub policy: iam::Policy,
    /// 1-based line of each statement, in statement order.
    pub statement_lines: Vec<usize>,
}

impl PolicyDoc {
    /// `file (label) statement "Sid"` for messages.
    pub fn describe_statement(&self, index: usize) -> String {
        let statement = &self.policy.statements()[index];
        if self.label == self.file {
            format!("{} {}", self.file, statement.label())
        } else {
            format!("{} ({}) {}", self.file, self.label, statement.label())
        }
    }

    /// The location of statement `index`.
    pub fn location(&self, index: usize) -> Location {
        Location {
            file: self.file.clone(),
            line: self.statement_lines.get(index).copied().unwrap_or(1),
        }
    }
}

/// Values CloudFormation substitutes for pseudo parameters.
#[derive(Debug, Clone)]
pub struct StackContext {
    /// `AWS::Partition`.
    pub partition: String,
    /// `AWS::AccountId`: the account the stack is deployed in (the identity's).
    pub account_id: String,
    /// `AWS::Region`.
    pub region: String,
}

/// Parses an IAM policy JSON file.
pub fn policy_json(file: &str, text: &str) -> Result<PolicyDoc, CheckError> {
    let policy = iam::Policy::parse(text).map_err(|e| CheckError::Policy {
        file: file.to_owned(),
        label: file.to_owned(),
        message: e.to_string(),
    })?;
    let statement_lines = statement_lines(text, 0, &policy);
    Ok(PolicyDoc {
        file: file.to_owned(),
        label: file.to_owned(),
        role: PolicyRole::Identity,
        policy,
        statement_lines,
    })
}

/// The policies of a CloudFormation template: each `AWS::IAM::Role`'s trust policy
/// and inline policies, each `AWS::IAM::User`'s inline policies, and each
/// `AWS::IAM::ManagedPolicy`/`AWS::IAM::Policy` document. Every identity policy of the
/// template is taken as attached to the access's identity (sma's templates create one).
pub fn cloudformation(
    file: &str,
    text: &str,
    stack: &StackContext,
) -> Result<Vec<PolicyDoc>, CheckError> {
    let invalid = |message: String| CheckError::Template {
        file: file.to_owned(),
        message,
    };
    let root: Yaml = serde_norway::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let parameters = parameter_defaults(&root);
    let resources = root
        .get("Resources")
        .and_then(Yaml::as_mapping)
        .ok_or_else(|| invalid("no Resources section".to_owned()))?;
    let mut docs = Vec::new();
    for (name, resource) in resources {
        let name = name.as_str().unwrap_or_default();
        let kind = resource
            .get("Type")
            .and_then(Yaml::as_str)
            .unwrap_or_default();
        let properties = resource.get("Properties");
        let property = |key: &str| properties.and_then(|p| p.get(key));
        let mut found: Vec<(String, PolicyRole, &Yaml)> = Vec::new();
        match kind {
            "AWS::IAM::Role" | "AWS::IAM::User" => {
                if let Some(trust) = property("AssumeRolePolicyDocument") {
                    found.push((
                        format!("{name}.AssumeRolePolicyDocument"),
                        PolicyRole::Trust,
                        trust,
                    ));
                }
                if let Some(list) = property("Policies").and_then(Yaml::as_sequence) {
                    for (i, p) in list.iter().enumerate() {
                        if let Some(doc) = p.get("PolicyDocument") {
                            found.push((
                                format!("{name}.Policies[{i}]"),
                                PolicyRole::Identity,
                                doc,
                            ));
                        }
                    }
                }
                if property("ManagedPolicyArns").is_some()
                    || property("PermissionsBoundary").is_some()
                {
                    return Err(invalid(format!(
                        "{name} attaches ManagedPolicyArns or a PermissionsBoundary by ARN; their documents are not in the template, so the proof cannot cover them. Fix: inline them as AWS::IAM::ManagedPolicy resources"
                    )));
                }
            }
            "AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy" => {
                if let Some(doc) = property("PolicyDocument") {
                    found.push((format!("{name}.PolicyDocument"), PolicyRole::Identity, doc));
                }
            }
            _ => {}
        }
        let anchor =
            find_line(text, 0, |l| l.trim_start().starts_with(&format!("{name}:"))).unwrap_or(0);
        for (label, role, doc) in found {
            let resolved =
                resolve(doc, &parameters, stack).map_err(|m| invalid(format!("{label}: {m}")))?;
            let json = to_json(&resolved).map_err(|m| invalid(format!("{label}: {m}")))?;
            let policy = iam::Policy::from_value(&json).map_err(|e| CheckError::Policy {
                file: file.to_owned(),
                label: label.clone(),
                message: e.to_string(),
            })?;
            let statement_lines = statement_lines(text, anchor, &policy);
            docs.push(PolicyDoc {
                file: file.to_owned(),
                label,
                role,
                policy,
                statement_lines,
            });
        }
    }
    Ok(docs)
}

fn parameter_defaults(root: &Yaml) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(params) = root.get("Parameters").and_then(Yaml::as_mapping) {
        for (name, param) in params {
            let default = param.get("Default").and_then(|d| match d {
                Yaml::String(s) => Some(s.clone()),
                Yaml::Number(n) => Some(n.to_string()),
                Yaml::Bool(b) => Some(b.to_string()),
                _ => None,
            });
            if let (Some(name), Some(default)) = (name.as_str(), default) {
                out.insert(name.to_owned(), default);
            }
        }
    }
    out
}

fn reference(
    name: &str,
    parameters: &BTreeMap<String, String>,
    stack: &StackContext,
) -> Result<String, String> {
    match name {
        "AWS::Partition" => Ok(stack.partition.clone()),
        "AWS::AccountId" => Ok(stack.account_id.clone()),
        "AWS::Region" => Ok(stack.region.clone()),
        "AWS::URLSuffix" => Ok("amazonaws.com".to_owned()),
        _ => parameters.get(name).cloned().ok_or_else(|| {
            format!("cannot resolve `{name}`: not a pseudo parameter or a parameter with a Default. Fix: give the parameter a Default or write the value out")
        }),
    }
}

fn substitute(
    template: &str,
    parameters: &BTreeMap<String, String>,
    stack: &StackContext,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated ${{ in !Sub {template:?}"))?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else if name.contains('.') {
            return Err(format!(
                "cannot resolve `${{{name}}}` (an attribute, known only after deployment). Fix: write the value out"
            ));
        } else {
            out.push_str(&reference(name, parameters, stack)?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve(
    value: &Yaml,
    parameters: &BTreeMap<String, String>,
    stack: &StackContext,
) -> Result<Yaml, String> {
    let function = |tag: &str, arg: &Yaml| -> Result<Yaml, String> {
        match (tag, arg) {
            ("Sub", Yaml::String(s)) => Ok(Yaml::String(substitute(s, parameters, stack)?)),
            ("Ref", Yaml::String(s)) => Ok(Yaml::String(reference(s, parameters, stack)?)),
            _ => Err(format!(
                "cannot resolve the intrinsic function {tag} here (only !Sub of a string and !Ref of parameters). Fix: write the value out"
            )),
        }
    };
    match value {
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            function(tag.trim_start_matches('!'), &tagged.value)
        }
        Yaml::Mapping(map) => {
            if map.len() == 1 {
                if let Some((Yaml::String(key), arg)) = map.iter().next() {
                    if let Some(name) = key.strip_prefix("Fn::") {
                        return function(name, arg);
                    }
                    if key == "Ref" {
                        return function("Ref", arg);
                    }
                }
            }
            let mut out = serde_norway::Mapping::new();
            for (k, v) in map {
                out.insert(k.clone(), resolve(v, parameters, stack)?);
            }
            Ok(Yaml::Mapping(out))
        }
        Yaml::Sequence(list) => Ok(Yaml::Sequence(
            list.iter()
                .map(|v| resolve(v, parameters, stack))
                .collect::<Result<_, _>>()?,
        )),
        other => Ok(other.clone()),
    }
}

fn to_json(value: &Yaml) -> Result<serde_json::Value, String> {
    Ok(match value {
        Yaml::Null => serde_json::Value::Null,
        Yaml::Bool(b) => serde_json::Value::Bool(*b),
        Yaml::Number(n) => {
            serde_json::from_str(&n.to_string()).map_err(|e| format!("number {n}: {e}"))?
        }
        Yaml::String(s) => serde_json::Value::String(s.clone()),
        Yaml::Sequence(list) => {
            serde_json::Value::Array(list.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Yaml::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = k
                    .as_str()
                    .ok_or_else(|| "a policy key is not a string".to_owned())?;
                out.insert(key.to_owned(), to_json(v)?);
            }
            serde_json::Value::Object(out)
        }
        Yaml::Tagged(t) => return Err(format!("unresolved tag {}", t.tag)),
    })
}

fn find_line(text: &str, from: usize, test: impl Fn(&str) -> bool) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from)
        .find(|(_, l)| test(l))
        .map(|(i, _)| i)
}

/// The 1-based line of each statement, found after line `anchor` (0-based): the line
/// holding its `Sid`, or for a statement without one the n-th `Effect` line.
fn statement_lines(text: &str, anchor: usize, policy: &iam::Policy) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut effect_from = anchor;
    for statement in policy.statements() {
        let by_sid = statement.sid().and_then(|sid| {
            find_line(text, anchor, |l| {
                l.contains("Sid")
                    && (l.contains(&format!("\"{sid}\""))
                        || l.trim_end().ends_with(&format!(" {sid}")))
            })
        });
        let effect = find_line(text, effect_from, |l| l.contains("Effect"));
        if let Some(e) = effect {
            effect_from = e + 1;
        }
        let line = by_sid.or(effect).unwrap_or(anchor);
        lines.push(line + 1);
    }
    lines
}
