//! The languages of the proofs, as automata (static-proof.md): the secret ARNs AWS can
//! create for an account, the intended set of an access, the ARN patterns of policies
//! with IAM's per-part matching rules, and condition values.

use iam::view::{Piece, ResourcePattern};
use model::{Access, SecretScope};

use crate::automata::{CharSet, Nfa};

/// Characters of a secret name: ASCII letters, digits and `/_+=.@-` (Secrets Manager
/// user guide, "CreateSecret: Name"), plus `!`, which AWS uses in the names of the
/// secrets its services manage (`rds!db-…`).
pub fn name_chars() -> CharSet {
    alphanumeric().union(CharSet::of("/_+=.@-!"))
}

/// ASCII letters and digits: the six random characters AWS appends to a secret's ARN.
pub fn alphanumeric() -> CharSet {
    CharSet::range('a', 'z')
        .union(CharSet::range('A', 'Z'))
        .union(CharSet::range('0', '9'))
}

/// Every character of the proof's ARN strings (with [`SUFFIX_SEPARATOR`]).
pub fn arn_chars() -> CharSet {
    name_chars()
        .union(CharSet::single(':'))
        .union(CharSet::single(SUFFIX_SEPARATOR))
}

/// The directions of AWS region codes, as the configuration validates them.
use model::values::REGION_DIRECTIONS;

/// Stands for the `-` that separates a secret's name from AWS's six random characters
/// in the proof's strings (not a secret-name character). With it the universe knows
/// where the suffix starts without guessing, which keeps the product small; every
/// policy or intent language reads it as a `-` ([`with_suffix_separator`]), so the
/// proof stays exact, and witnesses print it back as `-`.
pub const SUFFIX_SEPARATOR: char = '#';

/// A language over ARNs, made to read [`SUFFIX_SEPARATOR`] wherever it reads `-`.
pub fn with_suffix_separator(nfa: Nfa) -> Nfa {
    nfa.map_sets(|set| {
        if set.contains('-') {
            set.union(CharSet::single(SUFFIX_SEPARATOR))
        } else {
            set
        }
    })
}

/// Where the secrets of one access live: partition and account (the proof covers every
/// region), and the access's own region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpace {
    /// `aws`, `aws-us-gov`.
    pub partition: String,
    /// The account of the secrets.
    pub account: String,
    /// The access's region.
    pub region: String,
}

impl SecretSpace {
    /// The space of an access.
    pub fn of(access: &Access) -> SecretSpace {
        SecretSpace {
            partition: access.region.partition().as_str().to_owned(),
            account: access.account_id.to_string(),
            region: access.region.to_string(),
        }
    }

    /// `arn:P:secretsmanager:R:A:secret:` for the access's region.
    pub fn secret_prefix(&self) -> String {
        format!(
            "arn:{}:secretsmanager:{}:{}:secret:",
            self.partition, self.region, self.account
        )
    }

    /// Every secret ARN of the account in the access's region:
    /// `prefix NAME # XXXXXX` with NAME of 1 or more name characters (`#` is
    /// [`SUFFIX_SEPARATOR`], standing for the `-` before AWS's suffix).
    pub fn universe_in_region(&self) -> Nfa {
        Nfa::literal(&self.secret_prefix()).then(secret_tail())
    }

    /// Every secret ARN of the account in any region shaped like an AWS region code
    /// (`xx-[gov-]direction-N`): a superset of the real regions, present and future.
    pub fn universe_any_region(&self) -> Nfa {
        Nfa::literal(&format!("arn:{}:secretsmanager:", self.partition))
            .then(region_code())
            .then(Nfa::literal(&format!(":{}:secret:", self.account)))
            .then(secret_tail())
    }

    /// The intended secrets of `scope` (static-proof.md): exact names → name + `-` +
    /// six characters; prefixes → prefix + anything; raw ARN patterns as written; no
    /// scope → every secret of the region; the automatic setup → every secret of the
    /// account in every region.
    pub fn intent(&self, scope: &SecretScope) -> Nfa {
        with_suffix_separator(self.intent_over_arns(scope))
    }

    fn intent_over_arns(&self, scope: &SecretScope) -> Nfa {
        let any = || Nfa::star_of(CharSet::ANY);
        match scope {
            SecretScope::EntireAccount => self.universe_any_region(),
            SecretScope::EntireRegion => Nfa::literal(&self.secret_prefix()).then(any()),
            SecretScope::Selected {
                names,
                prefixes,
                arn_patterns,
            } => {
                let names = names
                    .iter()
                    .map(|n| Nfa::literal(&format!("{n}-")).then(Nfa::repeat(CharSet::ANY, 6)));
                let prefixes = prefixes
                    .iter()
                    .map(|p| Nfa::literal(p.as_str()).then(any()));
                // Validated: this access's partition, region and account, `secret:` and a
                // name glob without colons, so the per-part rules reduce to one glob on
                // the name part.
                let patterns = arn_patterns.iter().map(|p| plain_glob(p.name_pattern()));
                Nfa::literal(&self.secret_prefix())
                    .then(Nfa::any_of(names.chain(prefixes).chain(patterns)))
            }
        }
    }
}

/// Every ARN of the secret a consumer names (ESO's `remoteRef.key`): a name in `region`
/// of the space's account and partition, or a full ARN (its six characters given) or a
/// partial one (any six). Over the proof's strings: [`SUFFIX_SEPARATOR`] before the
/// six characters.
pub fn secret_arns_named(space: &SecretSpace, region: &str, key: &str) -> Nfa {
    let suffix = |six: Nfa| Nfa::class(CharSet::single(SUFFIX_SEPARATOR)).then(six);
    if key.starts_with("arn:") {
        if let Some((base, six)) = key.rsplit_once('-') {
            if six.len() == 6 && six.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Nfa::literal(base).then(suffix(Nfa::literal(six)));
            }
        }
        return Nfa::literal(key).then(suffix(Nfa::repeat(alphanumeric(), 6)));
    }
    let prefix = format!(
        "arn:{}:secretsmanager:{region}:{}:secret:",
        space.partition, space.account
    );
    Nfa::literal(&prefix)
        .then(Nfa::literal(key))
        .then(suffix(Nfa::repeat(alphanumeric(), 6)))
}

/// The ARN a resource pattern names when it has no wildcard or variable (`*` → `None`).
pub fn literal_pattern(pattern: &ResourcePattern) -> Option<String> {
    let ResourcePattern::Parts(parts) = pattern else {
        return None;
    };
    let mut texts = Vec::new();
    for part in parts {
        let mut text = String::new();
        for piece in part {
            match piece {
                Piece::Literal(l) => text.push_str(l),
                _ => return None,
            }
        }
        texts.push(text);
    }
    Some(texts.join(":"))
}

/// A resource pattern as written (`arn:aws:kms:eu-west-3:123456789012:key/*`).
pub fn pattern_text(pattern: &ResourcePattern) -> String {
    let ResourcePattern::Parts(parts) = pattern else {
        return "*".to_owned();
    };
    let part_text = |part: &Vec<Piece>| -> String {
        part.iter()
            .map(|piece| match piece {
                Piece::Literal(l) => l.to_string(),
                Piece::AnyRun => "*".to_owned(),
                Piece::AnyOne => "?".to_owned(),
                Piece::Variable { key, .. } => format!("${{{key}}}"),
            })
            .collect()
    };
    parts.iter().map(part_text).collect::<Vec<_>>().join(":")
}

fn secret_tail() -> Nfa {
    Nfa::class(name_chars())
        .then(Nfa::star_of(name_chars()))
        .then(Nfa::class(CharSet::single(SUFFIX_SEPARATOR)))
        .then(Nfa::repeat(alphanumeric(), 6))
}

fn region_code() -> Nfa {
    let lower = CharSet::range('a', 'z');
    let directions = Nfa::any_of(REGION_DIRECTIONS.iter().map(|d| Nfa::literal(d)));
    Nfa::repeat(lower, 2)
        .then(Nfa::literal("-"))
        .then(Nfa::empty_string().or(Nfa::literal("gov-")))
        .then(directions)
        .then(Nfa::literal("-"))
        .then(Nfa::class(CharSet::range('1', '9')))
}

/// A glob where `*` and `?` are wildcards and everything else literal, over whole
/// strings (no ARN parts).
pub fn plain_glob(text: &str) -> Nfa {
    text.chars().fold(Nfa::empty_string(), |nfa, c| match c {
        '*' => nfa.then(Nfa::star_of(CharSet::ANY)),
        '?' => nfa.then(Nfa::class(CharSet::ANY)),
        c => nfa.then(Nfa::class(CharSet::single(c))),
    })
}

/// One token of a pattern: one character of a set, or a run of any characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    One(CharSet),
    Run,
}

/// Lowers pieces to tokens; `None` when a policy variable makes the pattern depend on
/// the request. `ignore_case`: literal letters match either case.
fn tokens(pieces: &[Piece<'_>], ignore_case: bool) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.extend(text.chars().map(|c| {
                let set = if ignore_case {
                    CharSet::single(c.to_ascii_lowercase())
                        .union(CharSet::single(c.to_ascii_uppercase()))
                } else {
                    CharSet::single(c)
                };
                Token::One(set)
            })),
            Piece::AnyRun => out.push(Token::Run),
            Piece::AnyOne => out.push(Token::One(CharSet::ANY)),
            Piece::Variable { .. } => return None,
        }
    }
    Some(out)
}

/// The language of a condition value (`StringEquals`, `StringLike`, …) over whole
/// strings; `None` when it holds a policy variable.
pub fn value_nfa(pieces: &[Piece<'_>], ignore_case: bool) -> Option<Nfa> {
    let tokens = tokens(pieces, ignore_case)?;
    Some(tokens.iter().fold(Nfa::empty_string(), |nfa, t| match t {
        Token::One(set) => nfa.then(Nfa::class(*set)),
        Token::Run => nfa.then(Nfa::star_of(CharSet::ANY)),
    }))
}

/// Whether a resource pattern holds a policy variable.
pub fn has_variable(pattern: &ResourcePattern<'_>) -> bool {
    match pattern {
        ResourcePattern::Any => false,
        ResourcePattern::Parts(parts) => parts
            .iter()
            .flatten()
            .any(|p| matches!(p, Piece::Variable { .. })),
    }
}

/// The ARNs a Resource pattern matches, with IAM's rules (crates/iam `arn`): the value
/// splits at its first five colons into six parts; each pattern part covers one value
/// part, except that a part ending with `*` may cover several, colons included; `*`
/// and `?` match within what the part covers; case-sensitive. `None` when the pattern
/// holds a policy variable.
pub fn resource_nfa(pattern: &ResourcePattern<'_>) -> Option<Nfa> {
    let parts = match pattern {
        ResourcePattern::Any => return Some(Nfa::star_of(CharSet::ANY)),
        ResourcePattern::Parts(parts) => parts
            .iter()
            .map(|p| tokens(p, false))
            .collect::<Option<Vec<_>>>()?,
    };
    Some(arn_parts_nfa(&parts))
}

/// Number of colons that separate the six parts of an ARN.
const BOUNDARIES: usize = 5;

type PartState = (usize, usize, usize);

/// Builds the per-part NFA lazily: state (part, token, colons) is inside pattern part
/// `part` before token `token`, after `colons` of the value's five part-separating
/// colons.
struct PartsBuilder {
    nfa: Nfa,
    /// The NFA state of each (part, token, colons), `usize::MAX` until made: a dense
    /// table (parts × tokens × six colon counts) rather than a hash map, because this
    /// runs for every pattern of every statement.
    ids: Vec<usize>,
    /// Where each part's rows start in `ids`.
    part_offsets: Vec<usize>,
    work: Vec<PartState>,
}

impl PartsBuilder {
    fn new(parts: &[Vec<Token>]) -> PartsBuilder {
        let mut part_offsets = Vec::with_capacity(parts.len());
        let mut size = 0;
        for tokens in parts {
            part_offsets.push(size);
            size += (tokens.len() + 1) * (BOUNDARIES + 1);
        }
        PartsBuilder {
            nfa: Nfa::default(),
            ids: vec![usize::MAX; size],
            part_offsets,
            work: Vec::new(),
        }
    }

    fn slot(&self, (part, token, colons): PartState) -> usize {
        self.part_offsets[part] + token * (BOUNDARIES + 1) + colons
    }

    fn id(&mut self, key: PartState) -> usize {
        let slot = self.slot(key);
        if self.ids[slot] != usize::MAX {
            return self.ids[slot];
        }
        let id = self.nfa.add_state();
        self.ids[slot] = id;
        self.work.push(key);
        id
    }

    /// An edge on `set` from `here` to `(part, to, colons)`, where a colon below the
    /// fifth is a part boundary of the value: only a part ending with `*` may swallow
    /// it (and then it counts as crossed).
    fn advance(&mut self, here: usize, (part, to, colons): PartState, set: CharSet, spans: bool) {
        let colon = CharSet::single(':');
        let plain = set.minus(colon);
        if !plain.is_empty() {
            let t = self.id((part, to, colons));
            self.nfa.add_edge(here, plain, t);
        }
        if set.contains(':') {
            if colons == BOUNDARIES {
                let t = self.id((part, to, colons));
                self.nfa.add_edge(here, colon, t);
            } else if spans {
                let t = self.id((part, to, colons + 1));
                self.nfa.add_edge(here, colon, t);
            }
        }
    }
}

fn arn_parts_nfa(parts: &[Vec<Token>]) -> Nfa {
    let mut b = PartsBuilder::new(parts);
    let start = b.id((0, 0, 0));
    b.nfa.add_start(start);
    while let Some((part, token, colons)) = b.work.pop() {
        let here = b.ids[b.slot((part, token, colons))];
        let tokens = &parts[part];
        let spans = matches!(tokens.last(), Some(Token::Run));
        match tokens.get(token) {
            Some(Token::One(set)) => b.advance(here, (part, token + 1, colons), *set, spans),
            Some(Token::Run) => {
                b.advance(here, (part, token, colons), CharSet::ANY, spans);
                let next = b.id((part, token + 1, colons));
                b.nfa.add_epsilon(here, next);
            }
            None => {
                if part + 1 < parts.len() && colons < BOUNDARIES {
                    let next = b.id((part + 1, 0, colons + 1));
                    b.nfa.add_edge(here, CharSet::single(':'), next);
                }
                // A value with fewer than six parts ends here too (as in iam).
                if part + 1 == parts.len() {
                    b.nfa.set_accepting(here);
                }
            }
        }
    }
    b.nfa
}

/// Kubernetes service-account subjects: `system:serviceaccount:NAMESPACE:NAME`, the
/// `sub` of every token a cluster's issuer signs for a pod.
pub fn service_account_subjects() -> Nfa {
    let label = CharSet::range('a', 'z')
        .union(CharSet::range('0', '9'))
        .union(CharSet::single('-'));
    let name = label.union(CharSet::single('.'));
    Nfa::literal("system:serviceaccount:")
        .then(Nfa::class(label))
        .then(Nfa::star_of(label))
        .then(Nfa::literal(":"))
        .then(Nfa::class(name))
        .then(Nfa::star_of(name))
}

/// Printable ASCII strings of at least one character (token audiences).
pub fn audiences() -> Nfa {
    let printable = CharSet::range('!', '~');
    Nfa::class(printable).then(Nfa::star_of(printable))
}

/// Printable ASCII: the universe of the trust proofs' alphabets.
pub fn printable() -> CharSet {
    CharSet::range('!', '~')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automata::Alphabet;

    fn parts_of(text: &str) -> ResourcePattern<'_> {
        if text == "*" {
            return ResourcePattern::Any;
        }
        let mut split: Vec<&str> = text.splitn(6, ':').collect();
        let last = split.pop().unwrap_or_default();
        let mut parts: Vec<Vec<Piece<'_>>> = split.into_iter().map(glob_pieces).collect();
        parts.push(glob_pieces(last));
        ResourcePattern::Parts(parts)
    }

    fn glob_pieces(text: &str) -> Vec<Piece<'_>> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if c == '*' || c == '?' {
                if start < i {
                    out.push(Piece::Literal(&text[start..i]));
                }
                out.push(if c == '*' {
                    Piece::AnyRun
                } else {
                    Piece::AnyOne
                });
                start = i + 1;
            }
        }
        if start < text.len() {
            out.push(Piece::Literal(&text[start..]));
        }
        out
    }

    /// The NFA agrees with the iam crate's matcher on ARNs with colons in odd places.
    #[test]
    fn per_part_rules_agree_with_iam() {
        let patterns = [
            "*",
            "arn:aws:secretsmanager:eu-west-3:*",
            "arn:aws:secretsmanager:*:123456789012:secret:a*",
            "arn:aws:secretsmanager:eu-*-3:123456789012:secret:*",
            "arn:aws:*",
            "arn:aws:secretsmanager:eu-west-3:123456789012:secret:a-??????",
            "arn:aws:secretsmanager:eu-west-3",
            "arn:aws:secretsmanager:eu-west-3:123456789012:secret?a*",
            "arn:*:secretsmanager:eu-west-3:123456789012:secret:*b",
        ];
        let values = [
            "arn:aws:secretsmanager:eu-west-3:123456789012:secret:a-AbCdEf",
            "arn:aws:secretsmanager:eu-west-3:123456789012:secret:b:c-AbCdEf",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:ab-AbCdEf",
            "arn:aws:secretsmanager:eu-north-3:123456789012:secret:xb",
            "arn:aws:secretsmanager:eu-west-3:123456789012:secretXa",
            "arn:aws:secretsmanager:eu-west-3",
        ];
        for p in patterns {
            let nfa = resource_nfa(&parts_of(p)).unwrap();
            let alphabet = Alphabet::new(printable(), nfa.char_sets());
            let compiled = nfa.compile(&alphabet);
            for v in values {
                assert_eq!(
                    compiled.accepts(&alphabet, v),
                    iam::matches_pattern(p, v),
                    "pattern {p} value {v}"
                );
            }
        }
    }
}
