//! The secrets `sma prove` creates to test a configuration, derived from every
//! access's intent: the intended secrets, and decoys a careless pattern would let
//! through. Each secret carries why it is there; whether an access may read it is
//! [`crate::AccessIntent::expect`]'s answer, never stored here.
//!
//! Per access:
//! - every exact name, and look-alikes of it: extra characters, a child path, the name
//!   followed by `-` and six characters (what a `name-*` pattern would also match);
//! - members of every prefix, nested ones too, and look-alikes: the prefix without its
//!   trailing `/` followed by other characters, the bare prefix, a sibling;
//! - a member of every raw ARN pattern;
//! - the secret the generated example `ExternalSecret` reads;
//! - the same names in another region and in another account;
//! - when the scope holds more than exact names: a secret in it under a
//!   customer-managed key the access does not list, and one under each listed key of
//!   the access's account and region.
//!
//! The secrets of every access are seeded once for the whole cluster, so each access's
//! matrix also covers what every other access may read (cross-access isolation).

use crate::intent::{AccessIntent, Scope};

/// A customer-managed KMS key a seeded secret is encrypted with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeededKey {
    /// The key's ARN (for a listed key, the configuration's; for a decoy key, the ARN
    /// of a key id derived from the label).
    pub arn: String,
    /// A short label for reports.
    pub label: String,
}

/// One secret to create before the matrix runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeededSecret {
    /// Account it lives in.
    pub account: String,
    /// Region it lives in.
    pub region: String,
    /// Its name.
    pub name: String,
    /// The customer-managed key that encrypts it (none: the AWS managed key).
    pub key: Option<SeededKey>,
    /// Why it is seeded.
    pub origin: String,
}

/// Every secret seeded for a cluster, without duplicates (same account, region, name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seeds {
    /// The secrets, sorted by account, region, name.
    pub secrets: Vec<SeededSecret>,
}

impl Seeds {
    /// The seeds of every access of a cluster.
    pub fn of(intents: &[AccessIntent]) -> Seeds {
        let accounts: Vec<&str> = intents.iter().map(|i| i.account.as_str()).collect();
        let mut all: Vec<SeededSecret> = Vec::new();
        for intent in intents {
            for secret in seeds_of_access(intent, &accounts) {
                if !all.iter().any(|s| {
                    s.account == secret.account
                        && s.region == secret.region
                        && s.name == secret.name
                }) {
                    all.push(secret);
                }
            }
        }
        all.sort();
        Seeds { secrets: all }
    }
}

/// A six-character suffix derived from `seed`, in AWS's alphabet for secret ARN
/// suffixes (letters and digits), so decoys are the same from run to run.
fn six_characters(seed: &str) -> String {
    let digest = crate::digest(seed.as_bytes());
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    digest
        .bytes()
        .skip(7)
        .take(6)
        .map(|b| ALPHABET[b as usize % ALPHABET.len()] as char)
        .collect()
}

/// Another region of the same partition, for the "same name elsewhere" decoys.
pub fn other_region(region: &str) -> &'static str {
    let candidates: &[&'static str] = if region.starts_with("us-gov-") {
        &["us-gov-west-1", "us-gov-east-1"]
    } else {
        &["us-east-1", "eu-west-1"]
    };
    candidates
        .iter()
        .copied()
        .find(|r| *r != region)
        .unwrap_or(candidates[0])
}

/// An account that is none of the cluster's accounts, derived from `account`.
pub fn other_account(account: &str, taken: &[&str]) -> String {
    let base: u64 = account.parse().unwrap_or(0);
    (1u64..)
        .map(|k| format!("{:012}", (base + k * 100_000_007) % 1_000_000_000_000))
        .find(|a| !taken.contains(&a.as_str()) && !a.starts_with("0000"))
        .unwrap_or_else(|| "999999999999".into())
}

/// The last path segment-free form of a prefix: `staging/` → `staging`.
fn without_trailing_slash(prefix: &str) -> &str {
    prefix.trim_end_matches('/')
}

fn seeds_of_access(intent: &AccessIntent, accounts: &[&str]) -> Vec<SeededSecret> {
    let access = &intent.access;
    let mut local: Vec<(String, String)> = Vec::new();
    let mut add = |name: String, origin: String| {
        if is_valid_secret_name(&name) && !local.iter().any(|(n, _)| *n == name) {
            local.push((name, origin));
        }
    };
    match &intent.scope {
        Scope::EntireAccount | Scope::EntireRegion => {
            add(
                format!("{access}/any-secret"),
                format!("an arbitrary secret, in the scope of {access}"),
            );
        }
        Scope::Selected {
            names,
            prefixes,
            arn_patterns,
        } => {
            for n in names {
                add(n.clone(), format!("exact name of {access}"));
                add(
                    format!("{n}x"),
                    format!("look-alike of {access}'s name \"{n}\": one more character"),
                );
                add(
                    format!("{n}/child"),
                    format!("look-alike of {access}'s name \"{n}\": a child path"),
                );
                add(
                    format!("{n}-{}", six_characters(&format!("{access}/{n}"))),
                    format!("look-alike of {access}'s name \"{n}\": \"-\" and six characters, as `{n}-*` would match"),
                );
                if n.len() > 1 {
                    let shorter: String = n.chars().take(n.chars().count() - 1).collect();
                    add(
                        shorter,
                        format!("look-alike of {access}'s name \"{n}\": one character less"),
                    );
                }
            }
            for p in prefixes {
                add(
                    format!("{p}member"),
                    format!("member of {access}'s prefix \"{p}\""),
                );
                add(
                    format!("{p}nested/deeper/member"),
                    format!("nested member of {access}'s prefix \"{p}\""),
                );
                let bare = without_trailing_slash(p);
                if bare != p {
                    add(
                        format!("{bare}foo"),
                        format!("look-alike of {access}'s prefix \"{p}\": its \"/\" missing"),
                    );
                    add(
                        bare.to_string(),
                        format!("look-alike of {access}'s prefix \"{p}\": the bare name"),
                    );
                    add(
                        format!("{bare}-legacy/member"),
                        format!("look-alike of {access}'s prefix \"{p}\": a sibling"),
                    );
                } else {
                    add(format!("{p}-legacy"), format!("member of {access}'s prefix \"{p}\" (no trailing \"/\": any continuation)"));
                }
                if bare.len() > 1 {
                    let parent: String = bare.chars().take(bare.chars().count() - 1).collect();
                    add(
                        format!("{parent}/member"),
                        format!("look-alike of {access}'s prefix \"{p}\": one character less"),
                    );
                }
            }
            for pattern in arn_patterns {
                if let Some(name) = member_of_arn_pattern(pattern) {
                    add(name, format!("member of {access}'s ARN pattern"));
                }
            }
        }
    }
    add(
        intent.example_key.clone(),
        format!("read by {access}'s generated example ExternalSecret"),
    );

    let mut out: Vec<SeededSecret> = local
        .iter()
        .map(|(name, origin)| SeededSecret {
            account: intent.account.clone(),
            region: intent.region.clone(),
            name: name.clone(),
            key: None,
            origin: origin.clone(),
        })
        .collect();
    // The same names elsewhere: only those the access may read here are interesting.
    let elsewhere_region = other_region(&intent.region);
    let elsewhere_account = other_account(&intent.account, accounts);
    for (name, _) in local
        .iter()
        .filter(|(n, _)| intent.names(&intent.account, &intent.region, n).is_some())
        .take(3)
    {
        out.push(SeededSecret {
            account: intent.account.clone(),
            region: elsewhere_region.to_string(),
            name: name.clone(),
            key: None,
            origin: format!("an intended name of {access}, in another region"),
        });
        out.push(SeededSecret {
            account: elsewhere_account.clone(),
            region: intent.region.clone(),
            name: name.clone(),
            key: None,
            origin: format!("an intended name of {access}, in another account"),
        });
    }
    // Keys: an intended secret under a key the access does not list, and under each
    // listed key of its account and region. It needs a name in scope that is not
    // seeded already: a prefix member's sibling, or any name for a whole-account scope.
    let in_scope = |n: &str| intent.names(&intent.account, &intent.region, n).is_some();
    if let Some((base, _)) = local
        .iter()
        .find(|(n, _)| in_scope(n) && in_scope(&format!("{n}-under-unlisted-key")))
    {
        let label = format!("{access}-unlisted");
        out.push(SeededSecret {
            account: intent.account.clone(),
            region: intent.region.clone(),
            name: format!("{base}-under-unlisted-key"),
            key: Some(SeededKey {
                arn: key_arn(intent, &decoy_key_id(&label)),
                label,
            }),
            origin: format!("in {access}'s scope, under a customer-managed key it does not list"),
        });
        let own_keys = intent.kms_keys.iter().filter(|k| {
            k.starts_with(&format!(
                "arn:{}:kms:{}:{}:key/",
                intent.partition, intent.region, intent.account
            ))
        });
        for (i, key) in own_keys.enumerate() {
            out.push(SeededSecret {
                account: intent.account.clone(),
                region: intent.region.clone(),
                name: format!("{base}-under-listed-key-{}", i + 1),
                key: Some(SeededKey {
                    arn: key.clone(),
                    label: key.rsplit('/').next().unwrap_or(key).to_string(),
                }),
                origin: format!("in {access}'s scope, under a key it lists"),
            });
        }
    }
    out.retain(|s| is_valid_secret_name(&s.name));
    out
}

/// A key id (UUID-shaped) derived from `label`.
fn decoy_key_id(label: &str) -> String {
    let d = crate::digest(label.as_bytes());
    let h = &d["sha256:".len()..];
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn key_arn(intent: &AccessIntent, id: &str) -> String {
    format!(
        "arn:{}:kms:{}:{}:key/{id}",
        intent.partition, intent.region, intent.account
    )
}

/// A secret name an ARN pattern matches: its resource part after `secret:`, with the
/// `-??????` suffix dropped and other wildcards filled in.
fn member_of_arn_pattern(pattern: &str) -> Option<String> {
    let name = pattern.split_once(":secret:")?.1;
    let name = name.strip_suffix("-??????").unwrap_or(name);
    let name = name
        .strip_suffix('*')
        .map(|n| format!("{n}member"))
        .unwrap_or(name.to_string());
    let name = name.replace('*', "x").replace('?', "q");
    (!name.is_empty()).then_some(name)
}

/// Secrets Manager's rule for names: 1–512 of `A-Za-z0-9/_+=.@-`.
pub fn is_valid_secret_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(yaml: &str) -> Vec<AccessIntent> {
        crate::intent::of_plan(&model::parse(yaml).expect("valid config"))
    }

    const ROLE_ARN: &str = "cluster:\n  name: c\n  cloud: aws\n  account_id: \"123456789012\"\n  region: eu-west-3\n  oidc_issuer: https://oidc.example.com/id/X\naccesses:\n  - name: staging\n    setup: role-arn\n    secrets:\n      names: [app/db]\n      prefixes: [staging/]\n  - name: billing\n    setup: static-credentials\n    secrets:\n      prefixes: [billing]\n";

    #[test]
    fn decoys_cover_look_alikes_and_other_accesses() {
        let intents = plan(ROLE_ARN);
        let seeds = Seeds::of(&intents);
        let names: Vec<&str> = seeds.secrets.iter().map(|s| s.name.as_str()).collect();
        for expected in [
            "app/db",
            "app/dbx",
            "staging/member",
            "stagingfoo",
            "staging",
            "billingmember",
            "billing-legacy",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        let staging = &intents[0];
        let verdict = |name: &str| {
            let s = seeds
                .secrets
                .iter()
                .find(|s| s.name == name && s.region == "eu-west-3" && s.account == "123456789012")
                .unwrap();
            staging.expect(s, "GetSecretValue").allowed
        };
        assert!(verdict("app/db"));
        assert!(verdict("staging/member"));
        assert!(!verdict("stagingfoo"));
        assert!(!verdict("app/dbx"));
        assert!(!verdict("billingmember"), "another access's secret");
        // The same intended name in another region and account is not readable.
        let elsewhere: Vec<_> = seeds
            .secrets
            .iter()
            .filter(|s| {
                s.name == "app/db" && (s.region != "eu-west-3" || s.account != "123456789012")
            })
            .collect();
        assert_eq!(elsewhere.len(), 2);
        assert!(elsewhere
            .iter()
            .all(|s| !staging.expect(s, "GetSecretValue").allowed));
    }

    #[test]
    fn unlisted_key_denies_the_value_not_the_metadata() {
        let intents = plan(ROLE_ARN);
        let seeds = Seeds::of(&intents);
        let under_key = seeds
            .secrets
            .iter()
            .find(|s| s.name.ends_with("-under-unlisted-key") && s.name.starts_with("staging/"))
            .unwrap();
        assert!(!intents[0].expect(under_key, "GetSecretValue").allowed);
        assert!(intents[0].expect(under_key, "DescribeSecret").allowed);
    }

    #[test]
    fn seeds_are_deterministic_and_valid() {
        let a = Seeds::of(&plan(ROLE_ARN));
        let b = Seeds::of(&plan(ROLE_ARN));
        assert_eq!(a, b);
        assert!(a.secrets.iter().all(|s| is_valid_secret_name(&s.name)));
    }
}
