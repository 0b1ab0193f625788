//! The scope proof (static-proof.md): for each secret read action, the secret ARNs the
//! identity policies allow — Allow statements minus Deny statements, with `*`/`?`,
//! `NotResource`, IAM's per-part ARN rules and the `-XXXXXX` suffix AWS appends — are
//! compared with the intended set, as automata, over every possible secret name.
//!
//! Broader than the intent gives the shortest secret name outside it and the statement
//! that grants it; narrower gives an intended secret that is unreadable. A statement
//! with a Condition, or a Resource with a policy variable, depends on the request: the
//! proof is then run with such statements at their widest and at their narrowest, and
//! a result that depends on them is a `scope-unproven` finding ("holds only if …"),
//! never a pass.
//!
//! `secretsmanager:BatchGetSecretValue` has no resource type of its own: AWS requires
//! `GetSecretValue` on each secret it returns, so its reach is the `GetSecretValue`
//! proof (Secrets Manager API reference, BatchGetSecretValue, "Required permissions":
//! <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html>).
//! `ListSecrets` only works on `*` and returns metadata, not values (see `lint`).

use std::collections::BTreeMap;

use iam::Effect;
use model::SecretScope;

use crate::artifacts::PolicyDoc;
use crate::automata::{
    shortest_witness, shortest_witnesses, Alphabet, CompiledNfa, Formula, Nfa, Witness,
};
use crate::error::CheckError;
use crate::findings::{Finding, Location, Rule};
use crate::languages::{
    arn_chars, has_variable, resource_nfa, with_suffix_separator, SecretSpace, SUFFIX_SEPARATOR,
};

/// The Secrets Manager actions that read one secret, granted by sma's setups.
pub const SCOPED_READ_ACTIONS: [&str; 4] = [
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:ListSecretVersionIds",
];

/// Bound on explored product states per search (far above what globs need).
const MAX_STATES: usize = 200_000;

/// Longest secret name AWS accepts.
const MAX_NAME_LEN: usize = 512;

/// One statement that applies to the actions of a group.
struct StatementLanguage<'a> {
    doc: &'a PolicyDoc,
    index: usize,
    effect: Effect,
    negated: bool,
    /// `None`: a policy variable in a pattern makes the language depend on the request.
    component: Option<usize>,
    /// Conditions (or variables) the proof cannot decide.
    uncertain: bool,
}

/// Which reading of the undecidable statements a search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Conditional Allows apply, conditional Denies do not: the most that is allowed.
    Widest,
    /// Conditional Allows do not apply, conditional Denies do: the least.
    Narrowest,
}

const TRUE: fn() -> Formula = || Formula::All(Vec::new());
const FALSE: fn() -> Formula = || Formula::AnyOf(Vec::new());

impl StatementLanguage<'_> {
    /// Whether the statement covers an ARN, as a formula (constants for variables).
    fn covers(&self, reading: Reading) -> Formula {
        match self.component {
            Some(c) if self.negated => Formula::Component(c).negate(),
            Some(c) => Formula::Component(c),
            // Unknown resource: assume the worst for this reading.
            None => match (self.effect, reading) {
                (Effect::Allow, Reading::Widest) | (Effect::Deny, Reading::Narrowest) => TRUE(),
                _ => FALSE(),
            },
        }
    }

    /// Whether the statement takes part in `reading`.
    fn applies(&self, reading: Reading) -> bool {
        !self.uncertain
            || matches!(
                (self.effect, reading),
                (Effect::Allow, Reading::Widest) | (Effect::Deny, Reading::Narrowest)
            )
    }

    fn covers_witness(&self, witness: &Witness) -> bool {
        match self.component {
            Some(c) => witness.accepted_by[c] != self.negated,
            None => true,
        }
    }
}

/// What an access should read, for messages.
pub fn describe_intent(scope: &SecretScope) -> String {
    match scope {
        SecretScope::EntireAccount => "every secret of the account, in every region".to_owned(),
        SecretScope::EntireRegion => {
            "every secret of the account in the access's region".to_owned()
        }
        SecretScope::Selected {
            names,
            prefixes,
            arn_patterns,
        } => {
            let mut parts = Vec::new();
            if !names.is_empty() {
                let list: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
                parts.push(format!("names {}", list.join(", ")));
            }
            if !prefixes.is_empty() {
                let list: Vec<&str> = prefixes.iter().map(|n| n.as_str()).collect();
                parts.push(format!("prefixes {}", list.join(", ")));
            }
            if !arn_patterns.is_empty() {
                let list: Vec<&str> = arn_patterns.iter().map(|n| n.as_str()).collect();
                parts.push(format!("ARN patterns {}", list.join(", ")));
            }
            parts.join("; ")
        }
    }
}

/// The region and name of a secret ARN (`arn:P:secretsmanager:R:A:secret:NAME-XXXXXX`).
fn region_and_name(arn: &str) -> (String, String) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let region = parts.get(3).copied().unwrap_or_default().to_owned();
    let resource = parts.get(5).copied().unwrap_or_default();
    let name = resource.strip_prefix("secret:").unwrap_or(resource);
    let name = &name[..name.len().saturating_sub(7)];
    (region, name.to_owned())
}

/// Proves the identity policies `docs` of access `access` against `scope`, for every
/// action of [`SCOPED_READ_ACTIONS`]. Actions whose statements are the same are proved
/// once and reported together.
pub fn prove_scope(
    access: &str,
    space: &SecretSpace,
    scope: &SecretScope,
    docs: &[&PolicyDoc],
) -> Result<Vec<Finding>, CheckError> {
    let mut groups: BTreeMap<Vec<(usize, usize)>, Vec<&str>> = BTreeMap::new();
    for action in SCOPED_READ_ACTIONS {
        let mut key = Vec::new();
        for (d, doc) in docs.iter().enumerate() {
            for (s, statement) in doc.policy.statements().iter().enumerate() {
                if statement.resources().is_some() && statement.matches_action(action) {
                    key.push((d, s));
                }
            }
        }
        groups.entry(key).or_default().push(action);
    }
    let mut findings = Vec::new();
    for (key, actions) in groups {
        findings.extend(prove_group(access, space, scope, docs, &key, &actions)?);
    }
    Ok(findings)
}

/// The languages of the statements `key` (document, statement) of `docs`, each
/// pattern set pushed onto `nfas` as one component.
fn statement_languages<'a>(
    docs: &[&'a PolicyDoc],
    key: &[(usize, usize)],
    nfas: &mut Vec<Nfa>,
) -> Vec<StatementLanguage<'a>> {
    let mut statements = Vec::new();
    for &(d, s) in key {
        let doc = docs[d];
        let statement = &doc.policy.statements()[s];
        let Some(resources) = statement.resources() else {
            continue;
        };
        let variable = resources.patterns.iter().any(has_variable);
        let component = if variable {
            None
        } else {
            let nfa = with_suffix_separator(Nfa::any_of(
                resources.patterns.iter().filter_map(resource_nfa),
            ));
            nfas.push(nfa);
            Some(nfas.len() - 1)
        };
        statements.push(StatementLanguage {
            doc,
            index: s,
            effect: statement.effect(),
            negated: resources.negated,
            component,
            uncertain: variable || statement.has_conditions(),
        });
    }
    statements
}

/// What the statements allow in `reading`: some Allow covers, no Deny does.
fn allowed_formula(statements: &[StatementLanguage], reading: Reading) -> Formula {
    let allows = statements
        .iter()
        .filter(|s| s.effect == Effect::Allow && s.applies(reading))
        .map(|s| s.covers(reading))
        .collect();
    let denies = statements
        .iter()
        .filter(|s| s.effect == Effect::Deny && s.applies(reading))
        .map(|s| s.covers(reading))
        .collect();
    Formula::All(vec![
        Formula::AnyOf(allows),
        Formula::AnyOf(denies).negate(),
    ])
}

/// Whether one action reaches every ARN a consumer needs (ESO's reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedVerdict {
    /// Every needed ARN is allowed, whatever the conditions say.
    Granted,
    /// A needed ARN is not allowed even at the widest reading of the conditions.
    Missing {
        /// The shortest such ARN.
        example: String,
        /// The Deny statement that refuses it, with its location, if one does.
        denied_by: Option<(String, Location)>,
    },
    /// Allowed only if conditions or policy variables the proof cannot decide hold.
    Unproven {
        /// The shortest ARN that depends on them.
        example: String,
        /// The statements with those conditions.
        statements: String,
    },
}

/// Proves that `action` is allowed by the identity policies `docs` on every ARN of
/// `needed` (a language over the proof's ARN strings, [`SUFFIX_SEPARATOR`] before
/// AWS's six characters): the inclusion `needed ⊆ allowed`, for every string.
pub fn prove_needed(
    access: &str,
    docs: &[&PolicyDoc],
    action: &str,
    needed: Nfa,
) -> Result<NeedVerdict, CheckError> {
    let mut key = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        for (s, statement) in doc.policy.statements().iter().enumerate() {
            if statement.resources().is_some() && statement.matches_action(action) {
                key.push((d, s));
            }
        }
    }
    let mut nfas = vec![needed];
    let statements = statement_languages(docs, &key, &mut nfas);
    let alphabet = Alphabet::new(
        arn_chars(),
        nfas.iter().flat_map(|n| n.char_sets().collect::<Vec<_>>()),
    );
    let compiled: Vec<CompiledNfa> = nfas.iter().map(|n| n.compile(&alphabet)).collect();
    let components: Vec<&CompiledNfa> = compiled.iter().collect();
    let search = |reading: Reading| {
        let formula = Formula::All(vec![
            Formula::Component(0),
            allowed_formula(&statements, reading).negate(),
        ]);
        shortest_witness(&alphabet, &components, &formula, MAX_STATES)
            .map(|w| {
                w.map(|mut w| {
                    w.text = w.text.replace(SUFFIX_SEPARATOR, "-");
                    w
                })
            })
            .map_err(|e| CheckError::ProofTooLarge {
                access: access.to_owned(),
                message: format!("proof that {action} reaches what ESO reads: {e}"),
            })
    };
    let Some(narrowest) = search(Reading::Narrowest)? else {
        return Ok(NeedVerdict::Granted);
    };
    if !statements.iter().any(|s| s.uncertain) {
        let denied_by = statements
            .iter()
            .find(|s| s.effect == Effect::Deny && s.covers_witness(&narrowest))
            .map(|s| (s.doc.describe_statement(s.index), s.doc.location(s.index)));
        return Ok(NeedVerdict::Missing {
            example: narrowest.text,
            denied_by,
        });
    }
    match search(Reading::Widest)? {
        Some(widest) => {
            let denied_by = statements
                .iter()
                .find(|s| {
                    s.effect == Effect::Deny
                        && s.applies(Reading::Widest)
                        && s.covers_witness(&widest)
                })
                .map(|s| (s.doc.describe_statement(s.index), s.doc.location(s.index)));
            Ok(NeedVerdict::Missing {
                example: widest.text,
                denied_by,
            })
        }
        None => Ok(NeedVerdict::Unproven {
            example: narrowest.text,
            statements: statements
                .iter()
                .filter(|s| s.uncertain)
                .map(|s| s.doc.describe_statement(s.index))
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

/// A secret that one action reaches under the new policies and did not under the old.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReach {
    /// The shortest such secret name (with ` in region R` outside the access's region).
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The new Allow statement that grants it, with its location.
    pub granted_by: Option<(String, Location)>,
    /// Whether conditions or variables decide it (new read at its widest, old at its
    /// narrowest): then the access is new only if they allow it.
    pub conditional: bool,
}

/// The smallest secret of the account (any region) that `action` reaches under
/// `new_docs` and not under `old_docs`, for every string: `None` proves no new access.
/// Undecidable statements are read against the change (the new at their widest, the
/// old at their narrowest), so a `None` holds whatever they say.
pub fn new_reach(
    access: &str,
    space: &SecretSpace,
    new_docs: &[&PolicyDoc],
    old_docs: &[&PolicyDoc],
    action: &str,
) -> Result<Option<NewReach>, CheckError> {
    let key_of = |docs: &[&PolicyDoc]| {
        let mut key = Vec::new();
        for (d, doc) in docs.iter().enumerate() {
            for (s, statement) in doc.policy.statements().iter().enumerate() {
                if statement.resources().is_some() && statement.matches_action(action) {
                    key.push((d, s));
                }
            }
        }
        key
    };
    let mut nfas = vec![space.universe_any_region(), space.universe_in_region()];
    let new = statement_languages(new_docs, &key_of(new_docs), &mut nfas);
    let old = statement_languages(old_docs, &key_of(old_docs), &mut nfas);
    let alphabet = Alphabet::new(
        arn_chars(),
        nfas.iter().flat_map(|n| n.char_sets().collect::<Vec<_>>()),
    );
    let compiled: Vec<CompiledNfa> = nfas.iter().map(|n| n.compile(&alphabet)).collect();
    let components: Vec<&CompiledNfa> = compiled.iter().collect();
    let search = |universe: usize| {
        let formula = Formula::All(vec![
            Formula::Component(universe),
            allowed_formula(&new, Reading::Widest),
            allowed_formula(&old, Reading::Narrowest).negate(),
        ]);
        shortest_witness(&alphabet, &components, &formula, MAX_STATES).map_err(|e| {
            CheckError::ProofTooLarge {
                access: access.to_owned(),
                message: format!("new-access proof of {action}: {e}"),
            }
        })
    };
    let Some(mut witness) = search(0)? else {
        return Ok(None);
    };
    let mut text = witness.text.replace(SUFFIX_SEPARATOR, "-");
    if region_and_name(&text).0 != space.region {
        if let Some(nearer) = search(1)? {
            witness = nearer;
            text = witness.text.replace(SUFFIX_SEPARATOR, "-");
        }
    }
    let (region, name) = region_and_name(&text);
    let granting = new.iter().find(|s| {
        s.effect == Effect::Allow && s.applies(Reading::Widest) && s.covers_witness(&witness)
    });
    let name = if region == space.region {
        name
    } else {
        format!("{name} in region {region}")
    };
    Ok(Some(NewReach {
        name,
        arn: text,
        granted_by: granting.map(|s| (s.doc.describe_statement(s.index), s.doc.location(s.index))),
        conditional: new.iter().chain(&old).any(|s| s.uncertain),
    }))
}

fn prove_group(
    access: &str,
    space: &SecretSpace,
    scope: &SecretScope,
    docs: &[&PolicyDoc],
    key: &[(usize, usize)],
    actions: &[&str],
) -> Result<Vec<Finding>, CheckError> {
    const IN_REGION: usize = 0;
    const ANY_REGION: usize = 1;
    const INTENT: usize = 2;
    let mut nfas: Vec<Nfa> = vec![
        space.universe_in_region(),
        space.universe_any_region(),
        space.intent(scope),
    ];
    let statements = statement_languages(docs, key, &mut nfas);
    let alphabet = Alphabet::new(
        arn_chars(),
        nfas.iter().flat_map(|n| n.char_sets().collect::<Vec<_>>()),
    );
    let compiled: Vec<CompiledNfa> = nfas.iter().map(|n| n.compile(&alphabet)).collect();
    let components: Vec<&CompiledNfa> = compiled.iter().collect();
    let allowed = |reading: Reading| allowed_formula(&statements, reading);
    let search_all = |formulas: &[Formula]| -> Result<Vec<Option<Witness>>, CheckError> {
        let found =
            shortest_witnesses(&alphabet, &components, formulas, MAX_STATES).map_err(|e| {
                CheckError::ProofTooLarge {
                    access: access.to_owned(),
                    message: format!("scope proof of {}: {e}", actions.join(", ")),
                }
            })?;
        // Names longer than AWS allows cannot exist: beyond them the language is empty.
        Ok(found
            .into_iter()
            .map(|found| {
                found
                    .map(|mut w| {
                        w.text = w.text.replace(SUFFIX_SEPARATOR, "-");
                        w
                    })
                    .filter(|w| region_and_name(&w.text).1.len() <= MAX_NAME_LEN)
            })
            .collect())
    };
    let search = |formula: Formula| -> Result<Option<Witness>, CheckError> {
        Ok(search_all(std::slice::from_ref(&formula))?.pop().flatten())
    };
    let uncertain = statements.iter().any(|s| s.uncertain);
    let readings: &[Reading] = if uncertain {
        &[Reading::Narrowest, Reading::Widest]
    } else {
        &[Reading::Narrowest]
    };
    let action_names: Vec<String> = actions.iter().map(|a| a.to_string()).collect();
    let short_actions = actions
        .iter()
        .map(|a| a.trim_start_matches("secretsmanager:"))
        .collect::<Vec<_>>()
        .join(", ");
    let intent_text = describe_intent(scope);
    let uncertain_labels = || {
        statements
            .iter()
            .filter(|s| s.uncertain)
            .map(|s| s.doc.describe_statement(s.index))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut findings = Vec::new();

    // Both questions for every reading, in one exploration of the product: broader
    // (something allowed outside the intent) and narrower (something intended and not
    // allowed), over every region.
    let broader = |reading| {
        Formula::All(vec![
            Formula::Component(ANY_REGION),
            allowed(reading),
            Formula::Component(INTENT).negate(),
        ])
    };
    let narrower = |reading| {
        Formula::All(vec![
            Formula::Component(ANY_REGION),
            Formula::Component(INTENT),
            allowed(reading).negate(),
        ])
    };
    let formulas: Vec<Formula> = readings
        .iter()
        .map(|&r| broader(r))
        .chain(readings.iter().map(|&r| narrower(r)))
        .collect();
    let mut witnesses = search_all(&formulas)?;
    let narrower_witnesses = witnesses.split_off(readings.len());
    let broader_witnesses = witnesses;

    // Broader: a counterexample in the access's own region is preferred, so that it
    // reads next to the intended ones.
    for (&reading, found) in readings.iter().zip(broader_witnesses) {
        // The search over every region proves emptiness; when it finds a secret in
        // another region, a second search looks for one next to the intended secrets.
        {
            let Some(mut witness) = found else {
                continue;
            };
            if region_and_name(&witness.text).0 != space.region {
                let in_region = Formula::All(vec![
                    Formula::Component(IN_REGION),
                    allowed(reading),
                    Formula::Component(INTENT).negate(),
                ]);
                if let Some(nearer) = search(in_region)? {
                    witness = nearer;
                }
            }
            let (region, name) = region_and_name(&witness.text);
            let granting = statements.iter().find(|s| {
                s.effect == Effect::Allow && s.applies(reading) && s.covers_witness(&witness)
            });
            let where_ = if region == space.region {
                String::new()
            } else {
                format!(" in region {region}")
            };
            let (rule, message) = if reading == Reading::Narrowest {
                (
                    Rule::ScopeBroader,
                    format!(
                        "{short_actions} allowed on secret `{name}`{where_}, outside the intent ({intent_text}); it is the shortest such name (ARN {})",
                        witness.text
                    ),
                )
            } else {
                (
                    Rule::ScopeUnproven,
                    format!(
                        "nothing outside the intent ({intent_text}) is readable by {short_actions} only if the conditions or policy variables of {} exclude secret `{name}`{where_} (ARN {})",
                        uncertain_labels(),
                        witness.text
                    ),
                )
            };
            let mut finding = Finding::new(rule, access, message)
                .with_counterexample(if where_.is_empty() {
                    name
                } else {
                    format!("{name}{where_}")
                })
                .at(
                    granting.map(|s| s.doc.describe_statement(s.index)),
                    granting.map(|s| s.doc.location(s.index)),
                );
            finding.actions = action_names.clone();
            findings.push(finding);
            break;
        }
    }

    // Narrower: an intended secret that is not allowed even at the widest reading.
    for (&reading, found) in readings.iter().zip(narrower_witnesses).rev() {
        let Some(witness) = found else {
            continue;
        };
        let (region, name) = region_and_name(&witness.text);
        let denying = statements
            .iter()
            .find(|s| s.effect == Effect::Deny && s.applies(reading) && s.covers_witness(&witness));
        let why = match denying {
            Some(s) => format!("denied by {}", s.doc.describe_statement(s.index)),
            None => "no Allow statement grants it".to_owned(),
        };
        let where_ = if region == space.region {
            String::new()
        } else {
            format!(" in region {region}")
        };
        let (rule, message) = if reading == Reading::Widest || !uncertain {
            (
                Rule::ScopeNarrower,
                format!(
                    "{short_actions}: the intended secret `{name}`{where_} is not readable ({why}); intent: {intent_text} (ARN {})",
                    witness.text
                ),
            )
        } else {
            (
                Rule::ScopeUnproven,
                format!(
                    "the intended secrets are readable by {short_actions} only if the conditions or policy variables of {} hold for secret `{name}`{where_}",
                    uncertain_labels()
                ),
            )
        };
        let mut finding = Finding::new(rule, access, message)
            .with_counterexample(if where_.is_empty() {
                name
            } else {
                format!("{name}{where_}")
            })
            .at(
                denying.map(|s| s.doc.describe_statement(s.index)),
                // Without a Deny, point at where the grant is missing: the first
                // statement for these actions, else the policy's first statement.
                denying
                    .or(statements.first())
                    .map(|s| s.doc.location(s.index))
                    .or_else(|| docs.first().map(|d| d.location(0))),
            );
        finding.actions = action_names.clone();
        findings.push(finding);
        break;
    }
    Ok(findings)
}
