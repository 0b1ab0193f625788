//! `sma check` timing: one access (generation + proofs) and a generated config of 100
//! accesses (targets: ≤ 10 ms per access, ≤ 200 ms for 100 accesses including
//! generation).

use criterion::{criterion_group, criterion_main, Criterion};

/// A cluster of `accesses` accesses; `raw` is the name glob of each one's raw ARN
/// pattern (`{i}` replaced by the access number).
fn config(accesses: usize, raw: &str) -> String {
    let mut text = String::from(
        "cluster:\n  name: bench\n  cloud: aws\n  account_id: \"123456789012\"\n  region: eu-west-3\n  oidc_issuer: https://oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLE\naccesses:\n",
    );
    for i in 0..accesses {
        // One role-arn access (the vendor's rule), the others static users; names,
        // prefixes and a raw pattern in each, like the examples.
        let setup = if i == 0 {
            "role-arn"
        } else {
            "static-credentials"
        };
        text.push_str(&format!(
            "  - name: access-{i}\n    setup: {setup}\n    secrets:\n      names: [team-{i}/db, team-{i}/api-key]\n      prefixes: [team-{i}/app/, shared-{i}]\n      arn_patterns: [\"arn:aws:secretsmanager:eu-west-3:123456789012:secret:{}\"]\n    kms_key_arns: [\"arn:aws:kms:eu-west-3:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"]\n",
            raw.replace("{i}", &i.to_string())
        ));
    }
    text
}

fn bench(c: &mut Criterion) {
    let templates = templates::Templates::embedded().unwrap();
    // Raw patterns like the examples' (`shared/tls-??????`), and the costly shape: a
    // `*` followed by AWS's suffix (`*-??????`), whose automaton tracks the last seven
    // characters.
    let one = model::parse(&config(1, "legacy-{i}/tls-??????")).unwrap();
    let star_suffix = model::parse(&config(2, "legacy-{i}/*-??????")).unwrap();
    let hundred = model::parse(&config(100, "legacy-{i}/tls-??????")).unwrap();
    let automatic = model::parse(
        "cluster:\n  name: b\n  cloud: aws\n  account_id: \"123456789012\"\n  region: eu-west-3\n  oidc_issuer: https://oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLE\naccesses:\n  - name: all\n    setup: automatic\n",
    )
    .unwrap();
    for (name, plan) in [
        ("check_one_role_arn_access", &one),
        ("check_one_automatic_access", &automatic),
        ("check_two_accesses_with_star_suffix_patterns", &star_suffix),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                let report = check::generate_and_check(plan, &templates).unwrap();
                assert!(report.is_clean());
            })
        });
    }
    let mut group = c.benchmark_group("check_100_accesses");
    group.sample_size(10);
    group.bench_function("generate_and_check", |b| {
        b.iter(|| {
            let report = check::generate_and_check(&hundred, &templates).unwrap();
            assert!(report.is_clean());
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
