//! What a service's dispatch (`sts`, `secretsmanager`, the root's requests) tells the
//! pipeline to do with a request: relay it to LocalStack and then work on the answer,
//! answer it without LocalStack, deny it, or deny it because no decision could be made.
//! Services decide; only `proxy` speaks HTTP, so services never depend on the pipeline.

use bytes::Bytes;
use serde_json::Value;

use crate::authorize::{AuthzError, Caller, Verdict};
use crate::credentials::Session;
use crate::errors::AwsError;

/// The next step of a request.
pub(crate) enum Step {
    /// Relay to LocalStack.
    Relay(Relay),
    /// Answer HTTP 200 with this JSON body (AWS JSON protocol) without LocalStack.
    Answer {
        /// Who asked (an ARN, or `anonymous`).
        principal: String,
        /// The decision logged.
        verdict: Verdict,
        /// The answer.
        body: Value,
    },
    /// Answer with AWS's error.
    Deny {
        /// Who asked.
        principal: String,
        /// The decision logged.
        verdict: Verdict,
        /// The error answered.
        error: AwsError,
    },
    /// No decision could be made: denied, fail closed (or an authentication failure
    /// when the credentials no longer stand for anyone).
    Undecided {
        /// Who asked.
        principal: String,
        /// `service:Action`.
        action: String,
        /// Why.
        error: AuthzError,
    },
}

/// A request to relay: who, the decision, the body LocalStack gets, what the answer
/// needs, and the operation (whether it can change cached state).
pub(crate) struct Relay {
    /// Who asked.
    pub(crate) principal: String,
    /// The decision logged.
    pub(crate) verdict: Verdict,
    /// The body LocalStack gets; `None`: the caller's.
    pub(crate) body: Option<Bytes>,
    /// Work on LocalStack's answer.
    pub(crate) after: After,
    /// The signed service (`sts`, `iam`, ...; `localstack` for its health check).
    pub(crate) service: String,
    /// The operation (`""` when the request names none).
    pub(crate) op: String,
}

impl Relay {
    /// Relays the caller's body unchanged, nothing to do with the answer.
    pub(crate) fn new(
        principal: impl Into<String>,
        verdict: Verdict,
        service: impl Into<String>,
        op: impl Into<String>,
    ) -> Self {
        Relay {
            principal: principal.into(),
            verdict,
            body: None,
            after: After::Nothing,
            service: service.into(),
            op: op.into(),
        }
    }

    /// Relays `body` instead of the caller's.
    pub(crate) fn with_body(mut self, body: Bytes) -> Self {
        self.body = Some(body);
        self
    }

    /// Does `after` with a successful answer.
    pub(crate) fn then(mut self, after: After) -> Self {
        self.after = after;
        self
    }
}

impl From<Relay> for Step {
    fn from(relay: Relay) -> Self {
        Step::Relay(relay)
    }
}

/// Work to do with a successful answer of LocalStack.
pub(crate) enum After {
    /// Stream the answer through.
    Nothing,
    /// Remember the issued credentials as this session.
    Session(Box<Session>),
    /// Remember the access key a root `CreateAccessKey` made in `account`.
    CaptureAccessKey {
        /// The account.
        account: String,
    },
    /// Forget a deleted access key.
    RemoveKey(String),
    /// Activate or deactivate an access key.
    SetKeyActive(String, bool),
    /// Forget a deleted user's keys.
    RemoveUser {
        /// The user's account.
        account: String,
        /// The user's name.
        user: String,
    },
    /// Add these entries to `BatchGetSecretValue`'s `Errors` (the denied ids).
    BatchErrors(Vec<Value>),
    /// Drop the secrets `caller` may not read (in the region) from a
    /// `BatchGetSecretValue` by filters.
    BatchFilter(Box<Caller>, String),
}
