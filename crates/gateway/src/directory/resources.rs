//! Secrets Manager and KMS reads: a secret (ARN, tags, KMS key, resource policy,
//! replication, rotation) and a KMS key (manager, key policy).

use std::sync::Arc;

use serde_json::{json, Value};

use super::{Directory, KeyInfo, SecretInfo};
use crate::upstream::UpstreamError;

impl Directory {
    /// A secret by id (name, full or partial ARN) in `account`/`region`.
    pub async fn secret(
        &self,
        account: &str,
        region: &str,
        secret_id: &str,
    ) -> Result<Option<Arc<SecretInfo>>, UpstreamError> {
        let key = (
            account.to_string(),
            region.to_string(),
            secret_id.to_string(),
        );
        self.cached(&self.secrets, key, || async {
            let d = match self
                .upstream
                .json(
                    account,
                    region,
                    "secretsmanager",
                    "secretsmanager.DescribeSecret",
                    &json!({"SecretId": secret_id}),
                )
                .await
            {
                Err(e) if e.is_code("ResourceNotFoundException") => return Ok(None),
                r => r?,
            };
            let s = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
            let arn =
                s("ARN").ok_or_else(|| UpstreamError::Parse("DescribeSecret lacks ARN".into()))?;
            let tags = d
                .get("Tags")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|t| {
                            Some((
                                t.get("Key")?.as_str()?.to_string(),
                                t.get("Value")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_string(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let p = self
                .upstream
                .json(
                    account,
                    region,
                    "secretsmanager",
                    "secretsmanager.GetResourcePolicy",
                    &json!({"SecretId": arn}),
                )
                .await?;
            let resource_policy = p
                .get("ResourcePolicy")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string);
            Ok(Some(Arc::new(SecretInfo {
                name: s("Name").unwrap_or_default(),
                kms_key_id: s("KmsKeyId").filter(|k| !k.is_empty()),
                tags,
                resource_policy,
                primary_region: s("PrimaryRegion"),
                rotation_lambda_arn: s("RotationLambdaARN"),
                arn,
            })))
        })
        .await
    }

    /// A KMS key by id, ARN or alias, in `account`/`region`.
    pub async fn kms_key(
        &self,
        account: &str,
        region: &str,
        key_id: &str,
    ) -> Result<Option<Arc<KeyInfo>>, UpstreamError> {
        let key = (account.to_string(), region.to_string(), key_id.to_string());
        self.cached(&self.keys, key, || async {
            let d = match self
                .upstream
                .json(
                    account,
                    region,
                    "kms",
                    "TrentService.DescribeKey",
                    &json!({"KeyId": key_id}),
                )
                .await
            {
                Err(e) if e.is_code("NotFoundException") => return Ok(None),
                r => r?,
            };
            let meta = d
                .get("KeyMetadata")
                .ok_or_else(|| UpstreamError::Parse("DescribeKey lacks KeyMetadata".into()))?;
            let arn = meta
                .get("Arn")
                .and_then(Value::as_str)
                .ok_or_else(|| UpstreamError::Parse("DescribeKey lacks Arn".into()))?
                .to_string();
            let manager = meta
                .get("KeyManager")
                .and_then(Value::as_str)
                .unwrap_or("CUSTOMER")
                .to_string();
            let key_id = meta
                .get("KeyId")
                .and_then(Value::as_str)
                .unwrap_or(key_id)
                .to_string();
            let policy = match self
                .upstream
                .json(
                    account,
                    region,
                    "kms",
                    "TrentService.GetKeyPolicy",
                    &json!({"KeyId": key_id, "PolicyName": "default"}),
                )
                .await
            {
                Ok(p) => p.get("Policy").and_then(Value::as_str).map(str::to_string),
                Err(e) if e.is_code("NotFoundException") => None,
                Err(e) => return Err(e),
            };
            Ok(Some(Arc::new(KeyInfo {
                arn,
                manager,
                policy,
            })))
        })
        .await
    }
}
