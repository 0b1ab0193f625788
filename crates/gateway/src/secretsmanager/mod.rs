//! Authorization of Secrets Manager actions (reads and writes), with `kms:Decrypt` on
//! customer-managed keys, per-secret results for `BatchGetSecretValue`, and the
//! all-or-nothing `ListSecrets` check, and what the pipeline does with each request
//! ([`SmContext::dispatch`]). `BatchGetSecretValue` is in `batch`.

mod batch;

pub(crate) use batch::add_batch_errors;

use std::sync::Arc;

use bytes::Bytes;

use serde_json::{json, Map, Value};

use crate::authorize::{decide, global_context, AuthzError, Caller, Decider, Verdict};
use crate::directory::SecretInfo;
use crate::errors::{AwsError, Protocol};
use crate::step::{After, Relay, Step};
use aws_wire::arn;

/// Actions whose resource is one secret named by `SecretId`.
pub const SECRET_ACTIONS: &[&str] = &[
    "DescribeSecret",
    "GetSecretValue",
    "GetResourcePolicy",
    "ListSecretVersionIds",
    "PutSecretValue",
    "UpdateSecret",
    "DeleteSecret",
    "RestoreSecret",
    "RotateSecret",
    "CancelRotateSecret",
    "TagResource",
    "UntagResource",
    "PutResourcePolicy",
    "DeleteResourcePolicy",
    "UpdateSecretVersionStage",
    "ReplicateSecretToRegions",
    "RemoveRegionsFromReplication",
    "StopReplicationToReplica",
];

/// Actions without resource-level control (`Resource: "*"`).
pub const STAR_ACTIONS: &[&str] = &["ListSecrets", "GetRandomPassword"];

/// Actions that never change state (the directory cache survives them).
pub const READ_ONLY_ACTIONS: &[&str] = &[
    "DescribeSecret",
    "GetSecretValue",
    "GetResourcePolicy",
    "ListSecretVersionIds",
    "ListSecrets",
    "GetRandomPassword",
    "BatchGetSecretValue",
    "ValidateResourcePolicy",
];

/// Parameters with which an action acts on a resource other than the secret, needing a
/// permission the gateway does not check (Lambda invoke for the rotation function, KMS
/// use of a new key, `ReplicateSecretToRegions` for replicas). Relaying them unchecked
/// would let a caller borrow LocalStack's authority, so they are denied for every
/// principal but the account root. `KmsKeyId` on `CreateSecret` is denied too: checking
/// it means evaluating the key policy for `kms:GenerateDataKey` with Secrets Manager's
/// encryption context, which the gateway does not model (root can create such secrets).
pub const UNMODELLED_PARAMS: &[(&str, &str)] = &[
    ("RotateSecret", "RotationLambdaARN"),
    ("CreateSecret", "AddReplicaRegions"),
    ("CreateSecret", "ForceOverwriteReplicaSecret"),
    ("CreateSecret", "KmsKeyId"),
    ("UpdateSecret", "KmsKeyId"),
];

/// The `Tags` of a request as `(key, value)` pairs: `None` when absent, an error when
/// they are not a list of `{"Key": string, "Value": string}` (never relay tags whose
/// keys were not seen by the policy check).
fn request_tags(params: &Map<String, Value>) -> Result<Option<Vec<(String, String)>>, String> {
    let Some(tags) = params.get("Tags") else {
        return Ok(None);
    };
    let Value::Array(tags) = tags else {
        return Err("Tags must be a list".into());
    };
    let mut out = Vec::new();
    for t in tags {
        match (
            t.get("Key").and_then(Value::as_str),
            t.get("Value").and_then(Value::as_str),
        ) {
            (Some(k), Some(v)) if t.as_object().is_some_and(|o| o.len() == 2) => {
                out.push((k.to_string(), v.to_string()))
            }
            _ => return Err("each Tags entry must be {\"Key\": string, \"Value\": string}".into()),
        }
    }
    Ok(Some(out))
}

/// The `TagKeys` of `UntagResource`: an error when not a list of strings.
fn untag_keys(params: &Map<String, Value>) -> Result<Vec<String>, String> {
    match params.get("TagKeys") {
        None => Ok(Vec::new()),
        Some(Value::Array(keys)) => keys
            .iter()
            .map(|k| k.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| "TagKeys must be a list of strings".to_string()),
        Some(_) => Err("TagKeys must be a list of strings".into()),
    }
}

/// AWS's message when the caller may not decrypt with the secret's key.
pub const KMS_DENIED: &str = "Access to KMS is not allowed";

/// What to do with a Secrets Manager request.
#[derive(Debug)]
pub enum SmPlan {
    /// Relay unchanged.
    Forward(Verdict),
    /// `BatchGetSecretValue` by ids: relay the allowed ids (if any) and add `Errors`.
    BatchByIds {
        /// The decision on the batch itself.
        verdict: Verdict,
        /// Body with only the allowed ids; `None` when no id is allowed.
        body: Option<Value>,
        /// `Errors` entries for the denied ids.
        errors: Vec<Value>,
    },
    /// `BatchGetSecretValue` by filters: relay, then drop the denied secrets.
    BatchFiltered(Verdict),
    /// Deny with this verdict; `kms` is set when the denial is the key's.
    Deny(Verdict),
}

impl SmPlan {
    /// Relay when `verdict` allows, deny otherwise.
    fn relay_if_allowed(verdict: Verdict) -> Self {
        if verdict.allowed() {
            SmPlan::Forward(verdict)
        } else {
            SmPlan::Deny(verdict)
        }
    }
}

/// Inputs of one Secrets Manager decision: the request's [`Decider`] and its caller.
pub struct SmContext<'a> {
    /// State, policies and the request's origin.
    pub scope: Decider<'a>,
    /// The caller.
    pub caller: &'a Caller,
}

fn secret_arn_guess(region: &str, account: &str, secret_id: &str) -> String {
    if secret_id.starts_with("arn:") {
        secret_id.to_string()
    } else {
        format!("arn:aws:secretsmanager:{region}:{account}:secret:{secret_id}")
    }
}

impl SmContext<'_> {
    fn where_is(&self, secret_id: &str) -> (String, String) {
        if secret_id.starts_with("arn:") {
            (
                arn::account(secret_id)
                    .unwrap_or(self.caller.account())
                    .to_string(),
                arn::region(secret_id)
                    .unwrap_or(self.scope.region)
                    .to_string(),
            )
        } else {
            (
                self.caller.account().to_string(),
                self.scope.region.to_string(),
            )
        }
    }

    fn request(
        &self,
        action: &str,
        resource: &str,
        account: &str,
        extra: &[(String, String)],
        info: Option<&SecretInfo>,
    ) -> iam::Request {
        let mut ctx = global_context(self.scope.region, self.scope.source_ip);
        if resource != "*" {
            ctx.insert("secretsmanager:SecretId", resource);
            ctx.insert("aws:ResourceAccount", account);
        }
        if let Some(info) = info {
            for (k, v) in &info.tags {
                ctx.insert(&format!("aws:ResourceTag/{k}"), v.as_str());
                ctx.insert(&format!("secretsmanager:ResourceTag/{k}"), v.as_str());
            }
            if let Some(r) = &info.primary_region {
                ctx.insert("secretsmanager:SecretPrimaryRegion", r.as_str());
            }
            if let Some(l) = &info.rotation_lambda_arn {
                ctx.insert("secretsmanager:resource/AllowRotationLambdaArn", l.as_str());
            }
        }
        for (k, v) in extra {
            ctx.insert(k, v.as_str());
        }
        let mut req = iam::Request::new(
            self.caller.principal.clone(),
            format!("secretsmanager:{action}"),
            resource,
        )
        .with_context(ctx);
        if resource == "*" || !resource.starts_with("arn:") {
            req = req.with_resource_account(account);
        }
        req
    }

    /// Decides an action without resource-level control.
    pub fn star(&self, action: &str) -> Verdict {
        let req = self.request(action, "*", self.caller.account(), &[], None);
        decide(&req, &self.caller.policy_set(None))
    }

    /// Decides an action on one secret; for `GetSecretValue` also `kms:Decrypt` on a
    /// customer-managed key.
    pub async fn on_secret(
        &self,
        action: &str,
        secret_id: &str,
        extra: &[(String, String)],
    ) -> Result<Verdict, AuthzError> {
        self.on_secret_with(action, secret_id, extra, None).await
    }

    /// [`Self::on_secret`] with `aws:TagKeys` (multi-valued) in the context.
    async fn on_secret_with(
        &self,
        action: &str,
        secret_id: &str,
        extra: &[(String, String)],
        tag_keys: Option<Vec<String>>,
    ) -> Result<Verdict, AuthzError> {
        let (account, region) = self.where_is(secret_id);
        // LocalStack acts in the ARN's region, but conditions on aws:RequestedRegion see
        // the signing region: AWS refuses such a request, and so does the gateway.
        if secret_id.starts_with("arn:") && arn::region(secret_id) != Some(self.scope.region) {
            return Ok(Verdict::deny(
                &format!("secretsmanager:{action}"),
                secret_id,
                format!(
                    "User: {} is not authorized to perform: secretsmanager:{action} on resource: {secret_id} because the secret's ARN names another region than the request's region {} (denied, fail closed)",
                    self.caller.arn(),
                    self.scope.region
                ),
            ));
        }
        let info = self.scope.dir.secret(&account, &region, secret_id).await?;
        let resource = info
            .as_ref()
            .map(|i| i.arn.clone())
            .unwrap_or_else(|| secret_arn_guess(&region, &account, secret_id));
        let policy = match info.as_ref().and_then(|i| i.resource_policy.as_ref()) {
            Some(doc) => Some((
                "secret resource policy",
                self.scope.policies.parse("secret resource policy", doc)?,
            )),
            None => None,
        };
        let mut req = self.request(action, &resource, &account, extra, info.as_deref());
        if let Some(keys) = tag_keys {
            req.context.insert_many("aws:TagKeys", keys);
        }
        let verdict = decide(&req, &self.caller.policy_set(policy));
        if !verdict.allowed() || action != "GetSecretValue" {
            return Ok(verdict);
        }
        match info {
            Some(info) => self.kms_decrypt(verdict, &info, &account, &region).await,
            None => Ok(verdict),
        }
    }

    async fn kms_decrypt(
        &self,
        verdict: Verdict,
        info: &Arc<SecretInfo>,
        account: &str,
        region: &str,
    ) -> Result<Verdict, AuthzError> {
        let Some(key_id) = info.kms_key_id.as_deref() else {
            return Ok(verdict); // the AWS managed key aws/secretsmanager
        };
        if key_id == "alias/aws/secretsmanager" || key_id.ends_with(":alias/aws/secretsmanager") {
            return Ok(verdict);
        }
        let (key_account, key_region) = if key_id.starts_with("arn:") {
            (
                arn::account(key_id).unwrap_or(account).to_string(),
                arn::region(key_id).unwrap_or(region).to_string(),
            )
        } else {
            (account.to_string(), region.to_string())
        };
        let deny = |msg: String| Verdict::deny("kms:Decrypt", key_id, msg);
        let Some(key) = self
            .scope
            .dir
            .kms_key(&key_account, &key_region, key_id)
            .await?
        else {
            return Ok(deny(format!(
                "{KMS_DENIED}: the secret's KMS key {key_id} does not exist"
            )));
        };
        if key.manager == "AWS" {
            return Ok(verdict);
        }
        let Some(doc) = key.policy.as_deref() else {
            return Ok(deny(format!(
                "{KMS_DENIED}: key {} has no key policy",
                key.arn
            )));
        };
        let policy = self.scope.policies.parse("key policy", doc)?;
        let mut ctx = global_context(self.scope.region, self.scope.source_ip);
        ctx.insert(
            "kms:ViaService",
            format!("secretsmanager.{region}.amazonaws.com"),
        );
        ctx.insert("kms:CallerAccount", self.caller.account());
        ctx.insert("kms:EncryptionContext:SecretARN", info.arn.as_str());
        ctx.insert_many(
            "kms:EncryptionContextKeys",
            ["SecretARN", "SecretVersionId"],
        );
        let req = iam::Request::new(
            self.caller.principal.clone(),
            "kms:Decrypt",
            key.arn.as_str(),
        )
        .with_context(ctx);
        let kms = decide(&req, &self.caller.policy_set(Some(("key policy", policy))));
        if kms.allowed() {
            let mut v = verdict;
            v.statements.extend(kms.statements);
            Ok(v)
        } else {
            Ok(Verdict {
                message: format!("{KMS_DENIED} ({})", kms.message),
                ..kms
            })
        }
    }

    /// Plans a Secrets Manager request.
    pub async fn plan(
        &self,
        action: &str,
        params: &Map<String, Value>,
    ) -> Result<SmPlan, AuthzError> {
        let s = |k: &str| params.get(k).and_then(Value::as_str);
        if action == "BatchGetSecretValue" {
            return self.batch(params).await;
        }
        let deny = |msg: String| {
            Ok(SmPlan::Deny(Verdict::deny(
                &format!("secretsmanager:{action}"),
                "*",
                msg,
            )))
        };
        if !self.caller.identity.is_root() {
            if let Some((_, p)) = UNMODELLED_PARAMS
                .iter()
                .find(|(a, p)| *a == action && params.contains_key(*p))
            {
                return deny(format!("User: {} is not authorized to perform: secretsmanager:{action} with the parameter {p} because the sma gateway does not model the permissions that parameter needs on other resources (denied, fail closed)", self.caller.arn()));
            }
        }
        let tags = match request_tags(params) {
            Ok(t) => t,
            Err(e) => return deny(format!("User: {} is not authorized to perform: secretsmanager:{action} because the request's tags cannot be checked: {e} (denied, fail closed)", self.caller.arn())),
        };
        if STAR_ACTIONS.contains(&action)
            || (action == "ValidateResourcePolicy" && s("SecretId").is_none())
        {
            let v = self.star(action);
            return Ok(SmPlan::relay_if_allowed(v));
        }
        if action == "CreateSecret" {
            let name = s("Name").unwrap_or("");
            let resource = format!(
                "arn:aws:secretsmanager:{}:{}:secret:{name}-??????",
                self.scope.region,
                self.caller.account()
            );
            let mut extra = vec![("secretsmanager:Name".to_string(), name.to_string())];
            if let Some(k) = s("KmsKeyId") {
                extra.push(("secretsmanager:KmsKeyId".into(), k.into()));
            }
            if let Some(d) = s("Description") {
                extra.push(("secretsmanager:Description".into(), d.into()));
            }
            let mut req = self.request(action, &resource, self.caller.account(), &extra, None);
            if let Some(tags) = &tags {
                for (k, v) in tags {
                    req.context
                        .insert(&format!("aws:RequestTag/{k}"), v.as_str());
                }
                req.context
                    .insert_many("aws:TagKeys", tags.iter().map(|(k, _)| k.clone()));
            }
            let v = decide(&req, &self.caller.policy_set(None));
            return Ok(SmPlan::relay_if_allowed(v));
        }
        if SECRET_ACTIONS.contains(&action) || action == "ValidateResourcePolicy" {
            let Some(secret_id) = s("SecretId") else {
                return Ok(SmPlan::Deny(Verdict::deny(&format!("secretsmanager:{action}"), "*", "SecretId is required; the gateway does not relay requests it cannot attribute to a resource")));
            };
            let mut extra = Vec::new();
            if action == "GetSecretValue" {
                if let Some(v) = s("VersionId") {
                    extra.push(("secretsmanager:VersionId".to_string(), v.to_string()));
                }
                extra.push((
                    "secretsmanager:VersionStage".to_string(),
                    s("VersionStage").unwrap_or("AWSCURRENT").to_string(),
                ));
            }
            // aws:TagKeys lists the keys being added (TagResource) or removed
            // (UntagResource), so policies can restrict which tags a caller may touch.
            let mut tag_keys = None;
            if action == "TagResource" {
                let tags = tags.unwrap_or_default();
                for (k, v) in &tags {
                    extra.push((format!("aws:RequestTag/{k}"), v.clone()));
                }
                tag_keys = Some(tags.into_iter().map(|(k, _)| k).collect());
            }
            if action == "UntagResource" {
                match untag_keys(params) {
                    Ok(keys) => tag_keys = Some(keys),
                    Err(e) => return deny(format!("User: {} is not authorized to perform: secretsmanager:{action} because the request's tag keys cannot be checked: {e} (denied, fail closed)", self.caller.arn())),
                }
            }
            let v = self
                .on_secret_with(action, secret_id, &extra, tag_keys)
                .await?;
            return Ok(SmPlan::relay_if_allowed(v));
        }
        Ok(SmPlan::Deny(Verdict::deny(
            &format!("secretsmanager:{action}"),
            "*",
            format!("User: {} is not authorized to perform: secretsmanager:{action} because the sma gateway does not model this Secrets Manager action (denied, fail closed)", self.caller.arn()),
        )))
    }

    /// What the pipeline does with the Secrets Manager action `op`: relay it (the
    /// allowed ids only for a `BatchGetSecretValue` by ids, whose denied ids become
    /// `Errors`; a batch by filters filtered on the way back), answer an all-denied
    /// batch without LocalStack, or deny it.
    pub(crate) async fn dispatch(&self, op: &str, params: &Map<String, Value>) -> Step {
        let principal = self.caller.arn().to_string();
        let plan = match self.plan(op, params).await {
            Ok(p) => p,
            Err(error) => {
                return Step::Undecided {
                    principal,
                    action: format!("secretsmanager:{op}"),
                    error,
                }
            }
        };
        let relay = |verdict| Relay::new(principal.clone(), verdict, "secretsmanager", op);
        match plan {
            SmPlan::Deny(verdict) => Step::Deny {
                error: AwsError::access_denied(verdict.message.clone(), &Protocol::Json),
                principal,
                verdict,
            },
            SmPlan::Forward(verdict) => relay(verdict).into(),
            SmPlan::BatchByIds {
                verdict,
                body: Some(body),
                errors,
            } => {
                let after = if errors.is_empty() {
                    After::Nothing
                } else {
                    After::BatchErrors(errors)
                };
                relay(verdict)
                    .with_body(Bytes::from(body.to_string()))
                    .then(after)
                    .into()
            }
            SmPlan::BatchByIds {
                verdict,
                body: None,
                errors,
            } => Step::Answer {
                principal,
                verdict,
                body: json!({"SecretValues": [], "Errors": errors}),
            },
            SmPlan::BatchFiltered(verdict) => {
                let after =
                    After::BatchFilter(Box::new(self.caller.clone()), self.scope.region.into());
                relay(verdict).then(after).into()
            }
        }
    }
}
