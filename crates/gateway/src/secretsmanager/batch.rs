//! `BatchGetSecretValue`: by ids, each id decided as `GetSecretValue` (the denied ones
//! answered as `Errors`, the allowed ones relayed); by filters, relayed and then each
//! returned secret decided, the denied ones dropped from the answer (fail closed).

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::{SmContext, SmPlan};
use crate::authorize::{AuthzError, Verdict};

/// `BatchGetSecretValue`'s answer with `errors` (the denied ids) added to its `Errors`.
pub(crate) fn add_batch_errors(answer: &[u8], errors: Vec<Value>) -> Bytes {
    let mut v: Value =
        serde_json::from_slice(answer).unwrap_or_else(|_| serde_json::json!({"SecretValues": []}));
    if let Some(obj) = v.as_object_mut() {
        let mut all = obj
            .get("Errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        all.extend(errors);
        obj.insert("Errors".into(), Value::Array(all));
    }
    Bytes::from(v.to_string())
}

impl SmContext<'_> {
    pub(super) async fn batch(&self, params: &Map<String, Value>) -> Result<SmPlan, AuthzError> {
        let v = self.star("BatchGetSecretValue");
        if !v.allowed() {
            return Ok(SmPlan::Deny(v));
        }
        let has_filters = params
            .get("Filters")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if has_filters {
            let l = self.star("ListSecrets");
            if !l.allowed() {
                return Ok(SmPlan::Deny(l));
            }
        }
        match params.get("SecretIdList") {
            Some(Value::Array(ids)) => {
                let mut allowed = Vec::new();
                let mut errors = Vec::new();
                for id in ids {
                    let Some(id) = id.as_str() else {
                        return Ok(SmPlan::Deny(Verdict::deny(
                            "secretsmanager:BatchGetSecretValue",
                            "*",
                            "SecretIdList must hold strings",
                        )));
                    };
                    let g = self
                        .on_secret(
                            "GetSecretValue",
                            id,
                            &[("secretsmanager:VersionStage".into(), "AWSCURRENT".into())],
                        )
                        .await?;
                    if g.allowed() {
                        allowed.push(Value::String(id.to_string()));
                    } else {
                        errors.push(json!({"SecretId": id, "ErrorCode": "AccessDeniedException", "Message": g.message}));
                    }
                }
                let body = if allowed.is_empty() {
                    None
                } else {
                    let mut p = params.clone();
                    p.insert("SecretIdList".into(), Value::Array(allowed));
                    Some(Value::Object(p))
                };
                Ok(SmPlan::BatchByIds {
                    verdict: v,
                    body,
                    errors,
                })
            }
            Some(_) => Ok(SmPlan::Deny(Verdict::deny(
                "secretsmanager:BatchGetSecretValue",
                "*",
                "SecretIdList must be a list",
            ))),
            None => Ok(SmPlan::BatchFiltered(v)),
        }
    }

    /// A filtered `BatchGetSecretValue` answer without the secrets the caller may not
    /// read; nothing at all when the answer does not parse or the filter cannot decide
    /// (fail closed).
    pub(crate) async fn filter_batch_answer(&self, answer: &[u8]) -> Bytes {
        let v: Value = match serde_json::from_slice(answer) {
            Ok(v) => v,
            Err(_) => return Bytes::from_static(br#"{"SecretValues":[],"Errors":[]}"#),
        };
        match self.filter_batch_response(v).await {
            Ok(v) => Bytes::from(v.to_string()),
            Err(e) => Bytes::from(serde_json::json!({"SecretValues": [], "Errors": [{"ErrorCode": "AccessDeniedException", "Message": e.to_string()}]}).to_string()),
        }
    }

    /// Drops from a filtered `BatchGetSecretValue` answer the secrets the caller may not
    /// read, adding an `Errors` entry for each.
    pub async fn filter_batch_response(&self, mut body: Value) -> Result<Value, AuthzError> {
        let values = body
            .get("SecretValues")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut kept = Vec::new();
        let mut errors: Vec<Value> = body
            .get("Errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for sv in values {
            let Some(arn) = sv.get("ARN").and_then(Value::as_str) else {
                continue; // cannot attribute: drop (fail closed)
            };
            let g = self
                .on_secret(
                    "GetSecretValue",
                    arn,
                    &[("secretsmanager:VersionStage".into(), "AWSCURRENT".into())],
                )
                .await?;
            if g.allowed() {
                kept.push(sv);
            } else {
                errors.push(json!({"SecretId": arn, "ErrorCode": "AccessDeniedException", "Message": g.message}));
            }
        }
        if let Some(obj) = body.as_object_mut() {
            obj.insert("SecretValues".into(), Value::Array(kept));
            obj.insert("Errors".into(), Value::Array(errors));
        }
        Ok(body)
    }
}
