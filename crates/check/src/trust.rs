//! The trust proof for IRSA and `web-identity` roles (static-proof.md, "Trust policies"): only the
//! cluster's OIDC provider, `:sub` exactly the store's service account, `:aud` exactly
//! `sts.amazonaws.com`. Each Allow statement of the trust policy is proved on its own
//! (the trusted tokens are the union over statements, so a leak of one is a leak):
//! the accepted `sub` and `aud` values are languages built from the statement's
//! conditions on `<issuer>:sub` / `<issuer>:aud`, compared with the one intended value;
//! a leak is shown as the claims of a token that would get in.
//!
//! Conditions on other keys, operators the languages do not model and Deny statements
//! can only narrow what a statement admits; when a leak exists and such a restriction
//! is present, the result is `trust-unproven` ("holds only if …"), never a pass.

use iam::ast::PrincipalEntry;
use iam::condition::Operator;
use iam::view::ConditionView;
use iam::Effect;

use crate::artifacts::PolicyDoc;
use crate::automata::{shortest_witness, Alphabet, Formula, Nfa};
use crate::error::CheckError;
use crate::findings::{Finding, Rule};
use crate::languages::{audiences, printable, service_account_subjects, value_nfa};

/// What the role must trust.
#[derive(Debug, Clone)]
pub struct TrustIntent {
    /// `arn:P:iam::A:oidc-provider/<issuer host/path>`.
    pub provider_arn: String,
    /// The issuer without `https://` (the prefix of the condition keys).
    pub issuer_host_path: String,
    /// `system:serviceaccount:<ns>:<name>`.
    pub subject: String,
    /// The audience ESO requests (`sts.amazonaws.com`).
    pub audience: String,
}

/// A token that would get in when nothing else is known: any service account.
const EXAMPLE_SUBJECT: &str = "system:serviceaccount:default:anything";
/// A token minted for another audience: the API server's default audience.
const EXAMPLE_AUDIENCE: &str = "https://kubernetes.default.svc";

const WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
const OTHER_ASSUME: [&str; 2] = ["sts:AssumeRole", "sts:AssumeRoleWithSAML"];

/// The accepted values of one claim in one statement.
struct ClaimLanguage {
    /// Intersection of the conditions on the claim (`None`: no condition, anything).
    parts: Vec<(Nfa, bool)>,
    /// A condition on the claim that the language does not model.
    unmodelled: Vec<String>,
}

fn claim_language(conditions: &[ConditionView<'_>], key: &str) -> ClaimLanguage {
    let mut parts = Vec::new();
    let mut unmodelled = Vec::new();
    for c in conditions
        .iter()
        .filter(|c| c.key.eq_ignore_ascii_case(key))
    {
        let ignore_case = matches!(
            c.operator,
            Operator::StringEqualsIgnoreCase | Operator::StringNotEqualsIgnoreCase
        );
        let modelled = matches!(
            c.operator,
            Operator::StringEquals
                | Operator::StringNotEquals
                | Operator::StringEqualsIgnoreCase
                | Operator::StringNotEqualsIgnoreCase
                | Operator::StringLike
                | Operator::StringNotLike
        );
        let values = c
            .string_values
            .as_ref()
            .filter(|_| modelled)
            .and_then(|vs| {
                vs.iter()
                    .map(|v| value_nfa(v, ignore_case))
                    .collect::<Option<Vec<_>>>()
            });
        match values {
            // The claim is single-valued and always present in a service-account token:
            // set qualifiers and IfExists reduce to the base operator.
            Some(values) => parts.push((Nfa::any_of(values), c.operator.is_negated())),
            None => unmodelled.push(format!("{} on {}", c.operator_name, c.key)),
        }
    }
    ClaimLanguage { parts, unmodelled }
}

/// The shortest value of `universe` accepted by `claim` and different from `intended`;
/// `preferred` first when it qualifies (a friendlier example).
fn leak(
    universe: Nfa,
    claim: &ClaimLanguage,
    intended: &str,
    preferred: &str,
) -> Result<Option<String>, String> {
    let mut nfas = vec![universe, Nfa::literal(intended)];
    for (nfa, _) in &claim.parts {
        nfas.push(nfa.clone());
    }
    let alphabet = Alphabet::new(
        printable(),
        nfas.iter().flat_map(|n| n.char_sets().collect::<Vec<_>>()),
    );
    let compiled: Vec<_> = nfas.iter().map(|n| n.compile(&alphabet)).collect();
    let mut terms = vec![Formula::Component(0), Formula::Component(1).negate()];
    for (i, (_, negated)) in claim.parts.iter().enumerate() {
        let c = Formula::Component(i + 2);
        terms.push(if *negated { c.negate() } else { c });
    }
    let formula = Formula::All(terms);
    let accepts = |text: &str| formula.eval(&|i| compiled[i].accepts(&alphabet, text));
    if accepts(preferred) {
        return Ok(Some(preferred.to_owned()));
    }
    let refs: Vec<_> = compiled.iter().collect();
    shortest_witness(&alphabet, &refs, &formula, 100_000)
        .map(|w| w.map(|w| w.text))
        .map_err(|e| e.to_string())
}

/// Whether `claim` accepts `value`.
fn admits(claim: &ClaimLanguage, value: &str) -> bool {
    claim.parts.iter().all(|(nfa, negated)| {
        let alphabet = Alphabet::new(printable(), nfa.char_sets());
        nfa.compile(&alphabet).accepts(&alphabet, value) != *negated
    })
}

/// Proves the trust policy `doc` of access `access` against `intent`.
pub fn prove_trust(
    access: &str,
    intent: &TrustIntent,
    doc: &PolicyDoc,
) -> Result<Vec<Finding>, CheckError> {
    let mut findings = Vec::new();
    let statements = doc.policy.statements();
    let has_deny = statements.iter().any(|s| s.effect() == Effect::Deny);
    let sub_key = format!("{}:sub", intent.issuer_host_path);
    let aud_key = format!("{}:aud", intent.issuer_host_path);
    let mut eso_admitted = false;
    let too_large = |e: String| CheckError::ProofTooLarge {
        access: access.to_owned(),
        message: format!("trust proof: {e}"),
    };
    for (index, statement) in statements.iter().enumerate() {
        if statement.effect() != Effect::Allow {
            continue;
        }
        let at = |f: Finding| {
            f.at(
                Some(doc.describe_statement(index)),
                Some(doc.location(index)),
            )
        };
        let conditions = statement.condition_views();
        let other_keys: Vec<String> = conditions
            .iter()
            .filter(|c| {
                !c.key.eq_ignore_ascii_case(&sub_key) && !c.key.eq_ignore_ascii_case(&aud_key)
            })
            .map(|c| format!("{} on {}", c.operator_name, c.key))
            .collect();
        let entries = statement.principal_entries();
        // A leak found here is certain unless something we do not model may exclude it.
        let unproven_because = |extra: &[String]| -> Option<String> {
            let mut reasons: Vec<String> = other_keys.iter().chain(extra).cloned().collect();
            if statement.has_not_principal() {
                reasons.push("NotPrincipal".to_owned());
            }
            if has_deny {
                reasons.push("a Deny statement of the trust policy".to_owned());
            }
            (!reasons.is_empty()).then(|| reasons.join(", "))
        };
        let report = |rule: Rule, message: String, example: String, extra: &[String]| {
            match unproven_because(extra) {
                None => at(Finding::new(rule, access, message).with_counterexample(example)),
                Some(reasons) => at(Finding::new(
                    Rule::TrustUnproven,
                    access,
                    format!("{message} — unless {reasons} rejects it (not decided by the proof)"),
                )
                .with_counterexample(example)),
            }
        };
        for action in OTHER_ASSUME {
            if !statement.matches_action(action) {
                continue;
            }
            for entry in entries {
                let who = match entry {
                    PrincipalEntry::Any => Some("any principal of any AWS account (e.g. arn:aws:iam::999999999999:role/anyone)".to_owned()),
                    PrincipalEntry::Account(a) => Some(format!("any principal of account {a} allowed by its own policies")),
                    PrincipalEntry::Arn(a) => Some(a.to_string()),
                    PrincipalEntry::Service(s) => Some(format!("the service {s}")),
                    PrincipalEntry::Federated(f) => Some(format!("federated users of {f}")),
                    PrincipalEntry::CanonicalUser(_) => None,
                };
                if let Some(who) = who {
                    findings.push(report(
                        Rule::TrustPrincipal,
                        format!("{action} lets {who} assume the role; ESO only needs {WEB_IDENTITY} from the cluster's issuer"),
                        who,
                        &[],
                    ));
                }
            }
        }
        if !statement.matches_action(WEB_IDENTITY) {
            continue;
        }
        let mut trusts_issuer = false;
        for entry in entries {
            match entry {
                PrincipalEntry::Federated(f) if **f == *intent.provider_arn => trusts_issuer = true,
                PrincipalEntry::Any => {
                    trusts_issuer = true;
                    findings.push(report(
                        Rule::TrustProvider,
                        format!("{WEB_IDENTITY} from Principal \"*\": tokens of every OIDC provider of the account are trusted, not only {}", intent.provider_arn),
                        "a token of any other OIDC provider of the account".to_owned(),
                        &[],
                    ));
                }
                PrincipalEntry::Federated(f) => findings.push(report(
                    Rule::TrustProvider,
                    format!(
                        "{WEB_IDENTITY} trusts tokens of {f}, not the cluster's issuer {}",
                        intent.provider_arn
                    ),
                    format!("a token signed by {f}"),
                    &[],
                )),
                _ => {}
            }
        }
        if !trusts_issuer {
            continue;
        }
        let sub = claim_language(&conditions, &sub_key);
        let aud = claim_language(&conditions, &aud_key);
        let sub_ok = admits(&sub, &intent.subject);
        let aud_ok = admits(&aud, &intent.audience);
        if sub_ok && aud_ok && other_keys.is_empty() {
            eso_admitted = true;
        }
        let sub_leak = leak(
            service_account_subjects(),
            &sub,
            &intent.subject,
            EXAMPLE_SUBJECT,
        )
        .map_err(too_large)?;
        let aud_leak =
            leak(audiences(), &aud, &intent.audience, EXAMPLE_AUDIENCE).map_err(too_large)?;
        // A leak needs the other claim to be satisfiable too.
        let aud_any = if aud_ok {
            Some(intent.audience.clone())
        } else {
            aud_leak.clone()
        };
        let sub_any = if sub_ok {
            Some(intent.subject.clone())
        } else {
            sub_leak.clone()
        };
        if let (Some(bad_sub), Some(aud_value)) = (&sub_leak, &aud_any) {
            let what = if sub.parts.is_empty() {
                format!("no condition on `{sub_key}`: every service account of the cluster can assume the role")
            } else {
                format!(
                    "the conditions on `{sub_key}` admit service accounts other than {}",
                    intent.subject
                )
            };
            findings.push(report(
                Rule::TrustSubject,
                what,
                format!("sub={bad_sub}, aud={aud_value}"),
                &sub.unmodelled,
            ));
        }
        if let (Some(bad_aud), Some(sub_value)) = (&aud_leak, &sub_any) {
            let what = if aud.parts.is_empty() {
                format!("no condition on `{aud_key}`: a token minted for any audience is accepted")
            } else {
                format!(
                    "the conditions on `{aud_key}` admit audiences other than {}",
                    intent.audience
                )
            };
            findings.push(report(
                Rule::TrustAudience,
                what,
                format!("sub={sub_value}, aud={bad_aud}"),
                &aud.unmodelled,
            ));
        }
    }
    if !eso_admitted {
        findings.push(
            Finding::new(
                Rule::TrustNarrower,
                access,
                format!(
                    "no Allow statement without undecided conditions trusts ESO's token (provider {}, sub={}, aud={}): AssumeRoleWithWebIdentity would be denied",
                    intent.provider_arn, intent.subject, intent.audience
                ),
            )
            .with_counterexample(format!("sub={}, aud={}", intent.subject, intent.audience))
            .at(Some(doc.label.clone()), Some(doc.location(0))),
        );
    }
    Ok(findings)
}
