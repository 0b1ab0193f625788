//! IAM reads: users, roles (with trust policy, boundary, inline, attached and group
//! policies), managed policy documents and OIDC providers.

use std::sync::Arc;

use super::{
    decode_policy_document, members, tags_of, Directory, NamedPolicy, OidcProviderInfo, RoleInfo,
    UserInfo,
};
use crate::upstream::UpstreamError;
use aws_wire::arn;
use aws_wire::xml::Element;

/// The IAM API's names for one kind of principal.
struct PrincipalKind {
    /// `user` or `role` (inline policy sources, `inline:user/…`).
    kind: &'static str,
    get: &'static str,
    element: &'static str,
    id: &'static str,
    list_tags: &'static str,
    param: &'static str,
    attached: &'static str,
}

const USER: PrincipalKind = PrincipalKind {
    kind: "user",
    get: "GetUser",
    element: "User",
    id: "UserId",
    list_tags: "ListUserTags",
    param: "UserName",
    attached: "ListAttachedUserPolicies",
};

const ROLE: PrincipalKind = PrincipalKind {
    kind: "role",
    get: "GetRole",
    element: "Role",
    id: "RoleId",
    list_tags: "ListRoleTags",
    param: "RoleName",
    attached: "ListAttachedRolePolicies",
};

/// What users and roles share.
struct Principal {
    /// The `User` or `Role` element (for what only one kind has).
    element: Element,
    arn: String,
    id: String,
    tags: Vec<(String, String)>,
    boundary: Option<NamedPolicy>,
    policies: Vec<NamedPolicy>,
}

impl Directory {
    /// Calls the IAM query API as root of `account`.
    async fn iam(
        &self,
        account: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Element, UpstreamError> {
        let mut p = vec![("Action", action), ("Version", "2010-05-08")];
        p.extend_from_slice(params);
        self.upstream.query(account, "iam", &p).await
    }

    /// Every `member` of `list` across the pages of an IAM list call.
    async fn paged(
        &self,
        account: &str,
        action: &str,
        params: &[(&str, &str)],
        list: &str,
    ) -> Result<Vec<Element>, UpstreamError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..100 {
            let mut p: Vec<(&str, &str)> = params.to_vec();
            if let Some(m) = &marker {
                p.push(("Marker", m));
            }
            let root = self.iam(account, action, &p).await?;
            out.extend(members(&root, list).into_iter().cloned());
            let truncated = root
                .find("IsTruncated")
                .map(|e| e.text.trim() == "true")
                .unwrap_or(false);
            marker = root
                .find("Marker")
                .map(|e| e.text.trim().to_string())
                .filter(|m| !m.is_empty());
            if !truncated || marker.is_none() {
                return Ok(out);
            }
        }
        Err(UpstreamError::Parse(format!(
            "too many pages listing {list}"
        )))
    }

    /// An IAM read of one entity: `None` when IAM answers `NoSuchEntity`.
    async fn iam_entity(
        &self,
        account: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Option<Element>, UpstreamError> {
        match self.iam(account, action, params).await {
            Err(e) if e.is_code("NoSuchEntity") => Ok(None),
            r => r.map(Some),
        }
    }

    /// A managed policy's default version document (read as root of `account`).
    pub async fn managed_policy(
        &self,
        account: &str,
        arn: &str,
    ) -> Result<Option<Arc<String>>, UpstreamError> {
        let key = (account.to_string(), arn.to_string());
        self.cached(&self.managed, key, || async {
            let Some(root) = self
                .iam_entity(account, "GetPolicy", &[("PolicyArn", arn)])
                .await?
            else {
                return Ok(None);
            };
            let version = root
                .find("DefaultVersionId")
                .map(|e| e.text.trim().to_string())
                .ok_or_else(|| UpstreamError::Parse("GetPolicy lacks DefaultVersionId".into()))?;
            let v = self
                .iam(
                    account,
                    "GetPolicyVersion",
                    &[("PolicyArn", arn), ("VersionId", &version)],
                )
                .await?;
            let doc = v
                .find("Document")
                .map(|e| decode_policy_document(&e.text))
                .ok_or_else(|| UpstreamError::Parse("GetPolicyVersion lacks Document".into()))?;
            Ok(Some(Arc::new(doc)))
        })
        .await
    }

    async fn attached(
        &self,
        account: &str,
        action: &str,
        entity_param: &str,
        entity: &str,
    ) -> Result<Vec<NamedPolicy>, UpstreamError> {
        let mut out = Vec::new();
        for m in self
            .paged(
                account,
                action,
                &[(entity_param, entity)],
                "AttachedPolicies",
            )
            .await?
        {
            let Some(arn) = m.text_at(&["PolicyArn"]) else {
                continue;
            };
            let doc = self
                .managed_policy(account, arn)
                .await?
                .ok_or_else(|| UpstreamError::Parse(format!("attached policy {arn} not found")))?;
            out.push(NamedPolicy {
                source: arn.to_string(),
                document: doc.as_ref().clone(),
            });
        }
        Ok(out)
    }

    async fn inline(
        &self,
        account: &str,
        kind: &str,
        entity_param: &str,
        entity: &str,
    ) -> Result<Vec<NamedPolicy>, UpstreamError> {
        let (list, get) = match kind {
            "user" => ("ListUserPolicies", "GetUserPolicy"),
            "role" => ("ListRolePolicies", "GetRolePolicy"),
            _ => ("ListGroupPolicies", "GetGroupPolicy"),
        };
        let mut out = Vec::new();
        for m in self
            .paged(account, list, &[(entity_param, entity)], "PolicyNames")
            .await?
        {
            let name = m.text.trim().to_string();
            let root = self
                .iam(
                    account,
                    get,
                    &[(entity_param, entity), ("PolicyName", &name)],
                )
                .await?;
            let doc = root
                .find("PolicyDocument")
                .map(|e| decode_policy_document(&e.text))
                .ok_or_else(|| UpstreamError::Parse(format!("{get} lacks PolicyDocument")))?;
            out.push(NamedPolicy {
                source: format!("inline:{kind}/{entity}/{name}"),
                document: doc,
            });
        }
        Ok(out)
    }

    async fn boundary(
        &self,
        account: &str,
        entity: &Element,
    ) -> Result<Option<NamedPolicy>, UpstreamError> {
        let Some(arn) = entity
            .path(&["PermissionsBoundary", "PermissionsBoundaryArn"])
            .map(|e| e.text.trim().to_string())
        else {
            return Ok(None);
        };
        if arn.is_empty() {
            return Ok(None);
        }
        // A boundary naming a missing policy allows nothing (fail closed).
        let doc = self
            .managed_policy(account, &arn)
            .await?
            .map(|d| d.as_ref().clone())
            .unwrap_or_else(|| r#"{"Version":"2012-10-17","Statement":[]}"#.to_string());
        Ok(Some(NamedPolicy {
            source: arn,
            document: doc,
        }))
    }

    /// What users and roles share, read with `kind`'s API: ARN, unique id, tags,
    /// permissions boundary, inline and attached policies.
    async fn principal(
        &self,
        account: &str,
        kind: &PrincipalKind,
        name: &str,
    ) -> Result<Option<Principal>, UpstreamError> {
        let by_name = [(kind.param, name)];
        let Some(root) = self.iam_entity(account, kind.get, &by_name).await? else {
            return Ok(None);
        };
        let element = root
            .find(kind.element)
            .ok_or_else(|| UpstreamError::Parse(format!("{} lacks {}", kind.get, kind.element)))?
            .clone();
        let arn = element.text_at(&["Arn"]).unwrap_or("").trim().to_string();
        let id = element.text_at(&[kind.id]).unwrap_or("").trim().to_string();
        let tags = match element.child("Tags") {
            Some(t) => tags_of(Some(t)),
            None => tags_of(
                self.iam(account, kind.list_tags, &by_name)
                    .await?
                    .find("Tags"),
            ),
        };
        let boundary = self.boundary(account, &element).await?;
        let mut policies = self.inline(account, kind.kind, kind.param, name).await?;
        policies.extend(
            self.attached(account, kind.attached, kind.param, name)
                .await?,
        );
        Ok(Some(Principal {
            element,
            arn,
            id,
            tags,
            boundary,
            policies,
        }))
    }

    /// An IAM user with everything that decides its permissions.
    pub async fn user(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<Arc<UserInfo>>, UpstreamError> {
        let key = (account.to_string(), name.to_string());
        self.cached(&self.users, key, || async {
            let Some(Principal {
                arn,
                id: user_id,
                tags,
                boundary,
                mut policies,
                ..
            }) = self.principal(account, &USER, name).await?
            else {
                return Ok(None);
            };
            for g in self
                .paged(
                    account,
                    "ListGroupsForUser",
                    &[("UserName", name)],
                    "Groups",
                )
                .await?
            {
                let Some(group) = g.text_at(&["GroupName"]).map(|s| s.trim().to_string()) else {
                    continue;
                };
                policies.extend(self.inline(account, "group", "GroupName", &group).await?);
                policies.extend(
                    self.attached(account, "ListAttachedGroupPolicies", "GroupName", &group)
                        .await?,
                );
            }
            let access_keys = self
                .paged(
                    account,
                    "ListAccessKeys",
                    &[("UserName", name)],
                    "AccessKeyMetadata",
                )
                .await?
                .iter()
                .filter_map(|m| {
                    Some((
                        m.text_at(&["AccessKeyId"])?.trim().to_string(),
                        m.text_at(&["Status"])
                            .map(|s| s.trim() == "Active")
                            .unwrap_or(false),
                    ))
                })
                .collect();
            Ok(Some(Arc::new(UserInfo {
                arn,
                user_id,
                tags,
                boundary,
                policies,
                access_keys,
            })))
        })
        .await
    }

    /// An IAM role with its trust policy, boundary and policies.
    pub async fn role(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<Arc<RoleInfo>>, UpstreamError> {
        let key = (account.to_string(), name.to_string());
        self.cached(&self.roles, key, || async {
            let Some(p) = self.principal(account, &ROLE, name).await? else {
                return Ok(None);
            };
            let trust_policy = p
                .element
                .text_at(&["AssumeRolePolicyDocument"])
                .map(decode_policy_document)
                .unwrap_or_default();
            let max_session_duration = p
                .element
                .text_at(&["MaxSessionDuration"])
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(3600);
            Ok(Some(Arc::new(RoleInfo {
                arn: p.arn,
                role_id: p.id,
                tags: p.tags,
                boundary: p.boundary,
                trust_policy,
                max_session_duration,
                policies: p.policies,
            })))
        })
        .await
    }

    /// A role by ARN (`arn:aws:iam::ACCT:role/PATH/NAME`).
    pub async fn role_by_arn(&self, arn: &str) -> Result<Option<Arc<RoleInfo>>, UpstreamError> {
        let (Some(account), Some(name)) = (arn::account(arn), arn::resource_name(arn, "role"))
        else {
            return Ok(None);
        };
        let role = self.role(account, name).await?;
        // The path must match too: a role ARN with a wrong path names no role.
        Ok(role.filter(|r| r.arn == arn))
    }

    /// An OIDC provider of `account` for an issuer URL (`https://host/path`).
    pub async fn oidc_provider(
        &self,
        account: &str,
        issuer: &str,
    ) -> Result<Option<Arc<OidcProviderInfo>>, UpstreamError> {
        let host_path = issuer
            .strip_prefix("https://")
            .unwrap_or(issuer)
            .trim_end_matches('/');
        let arn = format!("arn:aws:iam::{account}:oidc-provider/{host_path}");
        let key = (account.to_string(), arn.clone());
        self.cached(&self.providers, key, || async {
            let Some(root) = self
                .iam_entity(
                    account,
                    "GetOpenIDConnectProvider",
                    &[("OpenIDConnectProviderArn", &arn)],
                )
                .await?
            else {
                return Ok(None);
            };
            let client_ids = members(&root, "ClientIDList")
                .iter()
                .map(|m| m.text.trim().to_string())
                .collect();
            Ok(Some(Arc::new(OidcProviderInfo {
                arn: arn.clone(),
                client_ids,
            })))
        })
        .await
    }
}
