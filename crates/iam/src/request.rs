//! A request to authorize: who, what action, on which resource, with which context.

use crate::arn::account_of;
use crate::context::Context;
use crate::principal::Principal;

/// One authorization request.
///
/// The effective context is `context` (caller-supplied keys) over the keys AWS
/// derives from the principal ([`Principal::context`]): caller keys take precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The authenticated caller.
    pub principal: Principal,
    /// `service:Action` (case-insensitive).
    pub action: String,
    /// The resource ARN, or `"*"` for actions without resource-level control.
    pub resource: String,
    /// The account owning the resource; defaults to the account in the resource ARN,
    /// or to the principal's account for `"*"` or an ARN without account.
    pub resource_account: Option<String>,
    /// Caller-supplied condition keys.
    pub context: Context,
}

impl Request {
    /// A request with an empty context.
    ///
    /// ```
    /// let p = iam::Principal::from_arn("arn:aws:iam::123456789012:user/alice").unwrap();
    /// let r = iam::Request::new(p, "secretsmanager:ListSecrets", "*")
    ///     .with_key("aws:SourceIp", "10.0.0.1");
    /// assert_eq!(r.effective_resource_account(), "123456789012");
    /// ```
    pub fn new(
        principal: Principal,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        Request {
            principal,
            action: action.into(),
            resource: resource.into(),
            resource_account: None,
            context: Context::new(),
        }
    }

    /// Sets the account owning the resource.
    pub fn with_resource_account(mut self, account: impl Into<String>) -> Self {
        self.resource_account = Some(account.into());
        self
    }

    /// Replaces the caller-supplied context.
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Adds one single-valued context key.
    pub fn with_key(mut self, key: &str, value: impl Into<String>) -> Self {
        self.context.insert(key, value);
        self
    }

    /// The account owning the resource (explicit, from the ARN, or the caller's).
    pub fn effective_resource_account(&self) -> &str {
        if let Some(a) = &self.resource_account {
            return a;
        }
        match account_of(&self.resource) {
            Some(a) if !a.is_empty() => a,
            _ => self.principal.account(),
        }
    }
}
