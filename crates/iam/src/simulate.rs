//! `sma simulate`: JSON Lines in, one JSON line out per case.
//!
//! Input line: `{"id": str, "principal": str, "role_arn"?: str, "action": str,
//! "resource": str, "resource_account"?: str, "context"?: {key: str | [str]},
//! "identity_policies"?: [policy], "resource_policy"?: policy,
//! "permissions_boundary"?: policy, "session_policy"?: policy, "scps"?: [[policy]],
//! "rcps"?: [[policy]]}`; extra optional inputs: `"principal_tags": {key: str}`,
//! `"unique_id": str` (user id or role id, for `aws:userid`), `"web_identity": {"sub":
//! str, "aud": str | [str], "azp"?: str, "amr"?: [str]}` (the token of a web identity
//! caller: an OIDC provider ARN or a built-in provider such as `accounts.google.com`
//! as `principal`; sets the provider's condition keys). A policy is a JSON object or
//! a string holding one.
//!
//! Output line: `{"id", "decision": "Allow"|"ExplicitDeny"|"ImplicitDeny",
//! "reasons": [str], "statements": [...], "policy_kind"?: str, "error_code"?: str,
//! "message"?: str}` (`error_code` when AWS refuses a federated caller before any
//! policy, e.g. `InvalidIdentityToken`) or
//! `{"id", "error": str}`. A bad line never stops the others.

use crate::ast::{Policy, PolicyKind};
use crate::context::Context;
use crate::decision::{authorize, NamedPolicy, PolicySet};
use crate::principal::Principal;
use crate::request::Request;
use crate::web_identity::WebIdentityClaims;
use serde_json::{json, Map, Value};
use std::io::{self, BufRead, Write};

const FIELDS: &[&str] = &[
    "id",
    "principal",
    "role_arn",
    "action",
    "resource",
    "resource_account",
    "context",
    "identity_policies",
    "resource_policy",
    "permissions_boundary",
    "session_policy",
    "scps",
    "rcps",
    "principal_tags",
    "unique_id",
    "web_identity",
];

/// Reads cases from `input` (JSON Lines; blank lines are skipped) and writes one
/// JSON line per case to `output`. Returns an error only when reading or writing
/// fails; invalid cases produce `{"id", "error"}` lines.
pub fn run<R: BufRead, W: Write>(mut input: R, mut output: W) -> io::Result<()> {
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let line = String::from_utf8_lossy(&buf);
        if line.trim().is_empty() {
            continue;
        }
        let out = simulate_line(&line, line_no);
        serde_json::to_writer(&mut output, &out)?;
        output.write_all(b"\n")?;
    }
    output.flush()
}

/// Simulates one input line and returns the output object.
pub fn simulate_line(line: &str, line_no: usize) -> Value {
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return json!({"id": "", "error": format!("line {line_no}: invalid JSON: {e}")}),
    };
    let Some(obj) = value.as_object() else {
        return json!({"id": "", "error": format!("line {line_no}: a case must be a JSON object")});
    };
    let id = match obj.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return json!({"id": "", "error": format!("line {line_no}: missing or invalid \"id\" (a string)")})
        }
    };
    match simulate_case(obj) {
        Ok(mut out) => {
            out.insert("id".into(), Value::String(id));
            // Keep "id" first for readability.
            let mut ordered = Map::new();
            ordered.insert("id".into(), out.remove("id").unwrap_or_default());
            ordered.extend(out);
            Value::Object(ordered)
        }
        Err(e) => json!({"id": id, "error": e}),
    }
}

fn string_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{key}: must be a string")),
    }
}

fn required<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    string_field(obj, key)?.ok_or_else(|| format!("{key}: missing required field"))
}

fn policy(v: &Value, path: &str, kind: PolicyKind, trust: bool) -> Result<NamedPolicy, String> {
    let p = match v {
        Value::String(s) => Policy::parse(s),
        other => Policy::from_value(other),
    }
    .map_err(|e| format!("{path}: {e}"))?;
    if trust {
        p.validate_trust_policy()
    } else {
        p.validate_for(kind)
    }
    .map_err(|e| format!("{path}: {e}"))?;
    Ok(NamedPolicy::new(path, p))
}

fn list<'a>(v: Option<&'a Value>, path: &str) -> Result<&'a [Value], String> {
    match v {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("{path}: must be a list")),
    }
}

fn levels(
    v: Option<&Value>,
    path: &str,
    kind: PolicyKind,
) -> Result<Vec<Vec<NamedPolicy>>, String> {
    list(v, path)?
        .iter()
        .enumerate()
        .map(|(l, level)| {
            let lp = format!("{path}[{l}]");
            list(Some(level), &lp)?
                .iter()
                .enumerate()
                .map(|(i, p)| policy(p, &format!("{lp}[{i}]"), kind, false))
                .collect()
        })
        .collect()
}

/// The `web_identity` field: a token's claims.
fn claims(v: &Value) -> Result<WebIdentityClaims, String> {
    let obj = v
        .as_object()
        .ok_or("web_identity: must be an object {\"sub\", \"aud\", \"azp\"?, \"amr\"?}")?;
    if let Some(k) = obj
        .keys()
        .find(|k| !["sub", "aud", "azp", "amr"].contains(&k.as_str()))
    {
        return Err(format!(
            "web_identity.{k}: unknown claim (expected sub, aud, azp, amr)"
        ));
    }
    let strings = |key: &str| -> Result<Vec<String>, String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| format!("web_identity.{key}: values must be strings")),
            Some(_) => Err(format!(
                "web_identity.{key}: must be a string or a list of strings"
            )),
        }
    };
    let single = |key: &str| -> Result<Option<String>, String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("web_identity.{key}: must be a string")),
        }
    };
    Ok(WebIdentityClaims {
        subject: single("sub")?.unwrap_or_default(),
        audiences: strings("aud")?,
        authorized_party: single("azp")?,
        amr: strings("amr")?,
    })
}

fn simulate_case(obj: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!("{k}: unknown field"));
    }
    let mut principal =
        Principal::parse(required(obj, "principal")?).map_err(|e| format!("principal: {e}"))?;
    if let Some(v) = obj.get("web_identity").filter(|v| !v.is_null()) {
        principal = principal
            .with_web_identity_claims(&claims(v)?)
            .map_err(|e| format!("web_identity: {e}"))?;
    }
    if let Some(r) = string_field(obj, "role_arn")? {
        principal = principal
            .with_role_arn(r)
            .map_err(|e| format!("role_arn: {e}"))?;
    }
    if let Some(id) = string_field(obj, "unique_id")? {
        principal = principal.with_unique_id(id);
    }
    match obj.get("principal_tags") {
        None | Some(Value::Null) => {}
        Some(Value::Object(tags)) => {
            for (k, v) in tags {
                let v = v
                    .as_str()
                    .ok_or_else(|| format!("principal_tags.{k}: must be a string"))?;
                principal = principal.with_tag(k, v);
            }
        }
        Some(_) => return Err("principal_tags: must be an object".into()),
    }
    let action = required(obj, "action")?;
    if action != "*" && !action.contains(':') {
        return Err(format!("action: {action:?} is not service:Action"));
    }
    let resource = required(obj, "resource")?;
    let mut req = Request::new(principal, action, resource);
    if let Some(a) = string_field(obj, "resource_account")? {
        req = req.with_resource_account(a);
    }
    match obj.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(ctx)) => {
            let mut c = Context::new();
            for (k, v) in ctx {
                let scalar = |x: &Value| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                };
                match v {
                    Value::Array(items) => {
                        let vals = items
                            .iter()
                            .map(scalar)
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| format!("context.{k}: values must be strings"))?;
                        c.insert_many(k, vals);
                    }
                    other => {
                        let s = scalar(other).ok_or_else(|| {
                            format!("context.{k}: must be a string or a list of strings")
                        })?;
                        c.insert(k, s);
                    }
                }
            }
            req = req.with_context(c);
        }
        Some(_) => return Err("context: must be an object".into()),
    }
    let trust = action.to_ascii_lowercase().starts_with("sts:assumerole");
    let mut set = PolicySet::new();
    for (i, p) in list(obj.get("identity_policies"), "identity_policies")?
        .iter()
        .enumerate()
    {
        set.identity_policies.push(policy(
            p,
            &format!("identity_policies[{i}]"),
            PolicyKind::Identity,
            false,
        )?);
    }
    let single =
        |key: &str, kind: PolicyKind, trust: bool| -> Result<Option<NamedPolicy>, String> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => policy(v, key, kind, trust).map(Some),
            }
        };
    set.resource_policy = single("resource_policy", PolicyKind::Resource, trust)?;
    set.permissions_boundary = single(
        "permissions_boundary",
        PolicyKind::PermissionsBoundary,
        false,
    )?;
    set.session_policy = single("session_policy", PolicyKind::Session, false)?;
    set.scps = levels(obj.get("scps"), "scps", PolicyKind::Scp)?;
    set.rcps = levels(obj.get("rcps"), "rcps", PolicyKind::Rcp)?;

    let d = authorize(&req, &set);
    let mut out = Map::new();
    out.insert("decision".into(), Value::String(d.kind.as_str().into()));
    out.insert(
        "reasons".into(),
        Value::Array(d.reasons.iter().cloned().map(Value::String).collect()),
    );
    out.insert(
        "statements".into(),
        Value::Array(
            d.statements
                .iter()
                .map(|s| {
                    json!({
                        "policy_kind": s.policy_kind.as_str(),
                        "policy": &*s.policy_name,
                        "level": s.level,
                        "sid": s.sid.as_deref(),
                        "index": s.index,
                        "effect": s.effect.to_string(),
                    })
                })
                .collect(),
        ),
    );
    if let Some(k) = d.deny_policy_kind {
        out.insert("policy_kind".into(), Value::String(k.as_str().into()));
    }
    if let Some(r) = &d.refusal {
        out.insert("error_code".into(), Value::String(r.code.into()));
    }
    if let Some(m) = d.access_denied_message(&req) {
        out.insert("message".into(), Value::String(m));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_str(input: &str) -> Vec<Value> {
        let mut out = Vec::new();
        run(input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn one_bad_line_never_stops_the_others() {
        let input = concat!(
            r#"{"id":"ok","principal":"arn:aws:iam::123456789012:user/u","action":"secretsmanager:ListSecrets","resource":"*","identity_policies":[{"Version":"2012-10-17","Statement":[{"Sid":"List","Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"}]}]}"#,
            "\n\nnot json\n",
            r#"{"id":"bad-policy","principal":"arn:aws:iam::123456789012:user/u","action":"s3:GetObject","resource":"*","identity_policies":[{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringLikes":{"a:b":"c"}}}]}]}"#,
            "\n",
            r#"{"id":"no-principal","action":"s3:GetObject","resource":"*"}"#,
            "\n",
            r#"{"id":"deny","principal":"arn:aws:iam::123456789012:user/u","action":"s3:GetObject","resource":"*"}"#,
        );
        let out = run_str(input);
        assert_eq!(out.len(), 5);
        assert_eq!(out[0]["id"], "ok");
        assert_eq!(out[0]["decision"], "Allow");
        assert!(out[0]["reasons"][1].as_str().unwrap().contains("\"List\""));
        assert!(out[1]["error"].as_str().unwrap().contains("line 3"));
        assert_eq!(out[2]["id"], "bad-policy");
        assert!(out[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("identity_policies[0]: Statement[1].Condition.StringLikes"));
        assert!(out[3]["error"].as_str().unwrap().starts_with("principal:"));
        assert_eq!(out[4]["decision"], "ImplicitDeny");
        assert!(out[4]["message"]
            .as_str()
            .unwrap()
            .ends_with("because no identity-based policy allows the s3:GetObject action"));
    }

    #[test]
    fn policies_as_strings_and_context_lists() {
        let input = r#"{"id":"t","principal":"arn:aws:iam::123456789012:user/u","action":"iam:TagUser","resource":"*","context":{"aws:TagKeys":["a","b"]},"identity_policies":["{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iam:*\",\"Resource\":\"*\",\"Condition\":{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"a\",\"b\",\"c\"]}}}}"]}"#;
        let out = run_str(input);
        assert_eq!(out[0]["decision"], "Allow", "{}", out[0]);
    }

    #[test]
    fn rcps_follow_organizations_syntax() {
        // AWS Organizations "RCP syntax": a customer RCP only denies; the managed
        // RCPFullAWSAccess is accepted.
        // https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html
        let case = |rcp: &str| {
            format!(
                r#"{{"id":"r","principal":"arn:aws:iam::123456789012:user/u","action":"secretsmanager:ListSecrets","resource":"*","identity_policies":[{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}}}}],"rcps":[[{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}}},{rcp}]]}}"#
            )
        };
        let out = run_str(&case(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"123456789012"}}}}"#,
        ));
        assert_eq!(out[0]["decision"], "Allow", "{}", out[0]);
        let out = run_str(&case(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:*","Resource":"*"}}"#,
        ));
        let e = out[0]["error"].as_str().unwrap();
        assert!(e.starts_with("rcps[0][1]: Statement[0].Effect: "), "{e}");
    }

    #[test]
    fn identity_policy_with_principal_is_an_error() {
        let input = r#"{"id":"x","principal":"arn:aws:iam::123456789012:user/u","action":"s3:GetObject","resource":"*","identity_policies":[{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}]}"#;
        let out = run_str(input);
        assert!(out[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("identity_policies[0]: Statement[0].Principal"));
    }
}
