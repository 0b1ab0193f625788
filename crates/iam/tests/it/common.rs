//! Helpers shared by the integration tests.

use iam::{authorize, Decision, DecisionKind, Policy, PolicySet, Principal, Request};

pub const A: &str = "111122223333";
pub const B: &str = "444455556666";

/// Parses a policy, panicking with the error (tests only).
pub fn pol(json: &str) -> Policy {
    Policy::parse(json).unwrap_or_else(|e| panic!("{e}\n{json}"))
}

/// One-statement identity policy.
pub fn allow(action: &str, resource: &str) -> Policy {
    pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
    ))
}

/// One-statement identity deny.
pub fn deny(action: &str, resource: &str) -> Policy {
    pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Deny","Effect":"Deny","Action":"{action}","Resource":"{resource}"}}]}}"#
    ))
}

/// A resource policy allowing `principal` (a JSON value) to do `action` on `resource`.
pub fn rp(principal: &str, action: &str, resource: &str) -> Policy {
    pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Grant","Effect":"Allow","Principal":{principal},"Action":"{action}","Resource":"{resource}"}}]}}"#
    ))
}

pub fn principal(arn: &str) -> Principal {
    Principal::from_arn(arn).unwrap()
}

pub fn user(account: &str, name: &str) -> Principal {
    principal(&format!("arn:aws:iam::{account}:user/{name}"))
}

pub fn session(account: &str, role: &str, name: &str) -> Principal {
    principal(&format!(
        "arn:aws:sts::{account}:assumed-role/{role}/{name}"
    ))
}

pub fn secret(account: &str, name: &str) -> String {
    format!("arn:aws:secretsmanager:eu-west-3:{account}:secret:{name}")
}

pub fn decide(p: &Principal, action: &str, resource: &str, set: &PolicySet) -> Decision {
    let d = authorize(&Request::new(p.clone(), action, resource), set);
    // The fast path must agree with the explained one.
    assert_eq!(
        iam::authorize_kind(&Request::new(p.clone(), action, resource), set),
        d.kind
    );
    d
}

pub fn kind(p: &Principal, action: &str, resource: &str, set: &PolicySet) -> DecisionKind {
    decide(p, action, resource, set).kind
}

pub fn req_kind(r: &Request, set: &PolicySet) -> DecisionKind {
    let d = authorize(r, set);
    assert_eq!(iam::authorize_kind(r, set), d.kind);
    d.kind
}
