//! Property: on random small pattern sets the scope proof agrees with brute-force
//! enumeration of every secret over a bounded alphabet and length. The enumeration is
//! the oracle (iam's own wildcard matcher, Allow minus Deny); the proof must find a
//! leak whenever the oracle does (never a false pass), no longer than the oracle's
//! shortest, and every counterexample it reports must be a real leak.

use crate::common::*;
use check::Rule;
use proptest::prelude::*;

/// Name characters of the oracle: the pattern literals plus one letter no pattern
/// names (it stands for every other name character).
const NAME_CHARS: [char; 5] = ['a', 'b', '/', '-', 'x'];
/// Suffix characters: a letter patterns name and one they do not.
const SUFFIX_CHARS: [char; 2] = ['a', 'x'];
const MAX_NAME: usize = 3;

fn glob() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("a"),
            Just("b"),
            Just("/"),
            Just("-"),
            Just("*"),
            Just("?")
        ],
        0..5,
    )
    .prop_map(|parts| parts.concat())
}

fn literal() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("/")], 1..3)
        .prop_map(|p| p.concat())
}

fn all_names() -> Vec<String> {
    let mut names = vec![String::new()];
    let mut out = Vec::new();
    for _ in 0..MAX_NAME {
        names = names
            .iter()
            .flat_map(|n| NAME_CHARS.iter().map(move |c| format!("{n}{c}")))
            .collect();
        out.extend(names.iter().cloned());
    }
    out
}

fn all_suffixes() -> Vec<String> {
    (0..1 << 6)
        .map(|bits: u32| {
            (0..6)
                .map(|i| SUFFIX_CHARS[((bits >> i) & 1) as usize])
                .collect()
        })
        .collect()
}

#[derive(Debug, Clone)]
struct Case {
    allows: Vec<String>,
    denies: Vec<String>,
    names: Vec<String>,
    prefixes: Vec<String>,
}

impl Case {
    fn allowed(&self, tail: &str) -> bool {
        self.allows.iter().any(|g| iam::wildcard_match(g, tail))
            && !self.denies.iter().any(|g| iam::wildcard_match(g, tail))
    }
    fn intended(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
            || self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(glob(), 1..3),
        proptest::collection::vec(glob(), 0..2),
        proptest::collection::vec(literal(), 0..2),
        proptest::collection::vec(literal(), 0..2),
    )
        .prop_map(|(allows, denies, names, prefixes)| Case {
            allows,
            denies,
            names,
            prefixes,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn proof_agrees_with_brute_force(case in case()) {
        let mut statements = vec![read("Allow", "A", "Resource", &case.allows.iter().map(|g| format!("{PREFIX}{g}")).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>(), "")];
        if !case.denies.is_empty() {
            let denies: Vec<String> = case.denies.iter().map(|g| format!("{PREFIX}{g}")).collect();
            statements.push(read("Deny", "D", "Resource", &denies.iter().map(String::as_str).collect::<Vec<_>>(), ""));
        }
        let doc = policy(&statements);
        let names: Vec<&str> = case.names.iter().map(String::as_str).collect();
        let prefixes: Vec<&str> = case.prefixes.iter().map(String::as_str).collect();
        let findings = prove(&scope(&names, &prefixes), &doc);

        let suffixes = all_suffixes();
        let mut shortest_leak: Option<usize> = None;
        let mut shortest_gap: Option<usize> = None;
        for name in all_names() {
            for suffix in &suffixes {
                let tail = format!("{name}-{suffix}");
                let allowed = case.allowed(&tail);
                let intended = case.intended(&name);
                if allowed && !intended && shortest_leak.is_none_or(|l| name.len() < l) {
                    shortest_leak = Some(name.len());
                }
                if intended && !allowed && shortest_gap.is_none_or(|l| name.len() < l) {
                    shortest_gap = Some(name.len());
                }
            }
        }
        let broader = findings.iter().find(|f| f.rule == Rule::ScopeBroader);
        let narrower = findings.iter().find(|f| f.rule == Rule::ScopeNarrower);
        if let Some(len) = shortest_leak {
            let f = broader.expect("the oracle found a leak the proof missed");
            prop_assert!(f.counterexample.as_ref().unwrap().len() <= len);
        }
        if let Some(len) = shortest_gap {
            let f = narrower.expect("the oracle found an unreadable intended secret the proof missed");
            prop_assert!(f.counterexample.as_ref().unwrap().len() <= len);
        }
        // Every counterexample the proof reports is real.
        for f in [broader, narrower].into_iter().flatten() {
            let arn = witness_arn(f);
            let tail = arn.strip_prefix(PREFIX).unwrap();
            let name = &tail[..tail.len() - 7];
            prop_assert_eq!(name, f.counterexample.as_deref().unwrap());
            let broader = f.rule == Rule::ScopeBroader;
            prop_assert_eq!(case.allowed(tail), broader, "{}", arn);
            prop_assert_eq!(case.intended(name), !broader, "{}", arn);
        }
        prop_assert!(!findings.iter().any(|f| f.rule == Rule::ScopeUnproven));
    }
}
