//! Condition operators: compilation of policy values and evaluation against the
//! request context (IAM User Guide, "IAM JSON policy elements: Condition operators",
//! "Single-valued vs. multivalued context keys").
//!
//! Rules implemented (spec `iam-evaluation.md`, "Conditions"):
//! - values of one key OR together; negated operators (`StringNotEquals`, …) are the
//!   negation of the positive one, i.e. the request value matches *none* (NOR);
//! - a missing key makes a positive operator false, a negated one true, `…IfExists`
//!   true; `Null` tests presence; an empty multivalued key counts as missing;
//! - `ForAllValues:` is true for a missing or empty key and requires every request
//!   value to satisfy the operator; `ForAnyValue:` is false for a missing or empty
//!   key and requires at least one;
//! - **`ForAnyValue:<op>IfExists` with the key missing or empty is false**, like
//!   `ForAnyValue:<op>`: the `IfExists` suffix does not rescue a set operator that
//!   has no request value to satisfy it. This is AWS's observed behaviour (issue 15:
//!   `ForAnyValue:StringEqualsIfExists` on `aws:TagKeys` denies `sqs:ListQueues`,
//!   reported on AWS re:Post; the IAM Collective's operator reference,
//!   <https://iam.cloudcopilot.io/resources/operators/ForAnyValue:StringNotEqualsIfExists>,
//!   "Any operator starting with ForAnyValue will ignore IfExists", with a missing
//!   or empty `aws:TagKeys` making an Allow not apply). It follows the set
//!   operator's own rule in the IAM User Guide ("Single-valued vs. multivalued
//!   context keys",
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>:
//!   `ForAnyValue` needs at least one request value that matches). The generic
//!   `IfExists` sentence of "IAM JSON policy elements: Condition operators"
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists>:
//!   "If the policy key is not present in the request context, the condition
//!   evaluates to true") reads the other way; we follow the observed behaviour,
//!   which is also the stricter one for an Allow. `ForAllValues:<op>IfExists` stays
//!   true for a missing or empty key (as `ForAllValues:` alone);
//! - without a set qualifier a multivalued key behaves like `ForAnyValue` for a
//!   positive operator and as its negation for a negated one;
//! - a policy variable without value (and without default) makes that policy value
//!   match nothing: positive operators are then false, negated ones true.
//!
//! `ArnLike`/`ArnEquals` with the bare value `"*"` (issue 15, item 5): `*` in an ARN
//! pattern matches any run of characters, and a `*` ending a part may span colons
//! (IAM User Guide, "Amazon Resource Name (ARN) condition operators",
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN>),
//! so `"*"` alone matches every value of a present key, even one that is not an
//! ARN; a missing key stays false (`ArnNotLike` `"*"`: true only when missing).
//! It is thus a presence test, like `StringLike` `"*"`.
//!
//! Failing closed: typed policy values (numbers, dates, IPs, booleans, base64) are
//! checked at parse time, so an unparsable one is a validation error. A request value
//! that cannot be parsed for its operator gives an "unknown" result: an `Allow` statement
//! with such a condition does not apply, a `Deny` statement does (see
//! [`crate::evaluator`]). AWS itself never sends such values for its own keys.

use crate::arn::ArnPattern;
use crate::variables::{Template, Vars};
use aws_wire::time::{days_from_civil, days_in_month};
use std::net::IpAddr;

/// Three-valued result of a condition: an error is "unknown", resolved
/// pessimistically by the caller (never an Allow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri {
    True,
    False,
    Error,
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Error => Tri::Error,
        }
    }
}

/// Reads context values: the evaluator merges caller keys and principal keys.
pub(crate) trait Lookup: Vars {
    /// All values of the (lowercased) key.
    fn values(&self, lower_key: &str) -> Option<&[String]>;
}

/// The base condition operators (without `ForAllValues:`/`ForAnyValue:`/`IfExists`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl Operator {
    /// Parses a base operator name (case-sensitive, as AWS).
    pub fn from_name(name: &str) -> Option<Operator> {
        use Operator::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "BinaryEquals" => BinaryEquals,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Null" => Null,
            _ => return None,
        })
    }

    /// Whether the operator is the negation of a positive one.
    pub fn is_negated(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Whether policy variables are allowed in this operator's values.
    pub fn allows_variables(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringEquals
                | StringNotEquals
                | StringEqualsIgnoreCase
                | StringNotEqualsIgnoreCase
                | StringLike
                | StringNotLike
                | ArnEquals
                | ArnLike
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// `ForAllValues:` / `ForAnyValue:` qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetQualifier {
    None,
    ForAllValues,
    ForAnyValue,
}

/// Comparison for numbers and dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn test<T: PartialOrd>(self, request: &T, policy: &T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

/// A point in time: seconds since the Unix epoch and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timestamp(i64, u32);

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cidr {
    V4(u32, u8),
    V6(u128, u8),
}

/// Compiled policy values, typed per operator family.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    Str(Vec<Template>),
    Arn(Vec<ArnPattern>),
    Num(Vec<f64>),
    Date(Vec<Timestamp>),
    Bool(Vec<bool>),
    Ip(Vec<Cidr>),
    Bin(Vec<Vec<u8>>),
    Null(Vec<bool>),
}

/// One `operator: { key: values }` entry of a Condition block, compiled.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub(crate) op: Operator,
    pub(crate) set: SetQualifier,
    pub(crate) if_exists: bool,
    /// Lowercased key (context keys are case-insensitive).
    pub(crate) key: Box<str>,
    /// As written in the policy, for explanations.
    pub(crate) op_name: Box<str>,
    pub(crate) key_name: Box<str>,
    cmp: Cmp,
    values: Values,
}

impl Condition {
    /// Compiles one condition. `op_name` is the full operator as written
    /// (`ForAnyValue:StringLikeIfExists`), `values` the policy values as strings.
    /// Errors are messages relative to the operator (the parser adds the path).
    pub(crate) fn compile(
        op_name: &str,
        key: &str,
        values: &[String],
        variables: bool,
    ) -> Result<Condition, String> {
        let (set, base) = if let Some(rest) = op_name.strip_prefix("ForAllValues:") {
            (SetQualifier::ForAllValues, rest)
        } else if let Some(rest) = op_name.strip_prefix("ForAnyValue:") {
            (SetQualifier::ForAnyValue, rest)
        } else {
            (SetQualifier::None, op_name)
        };
        let (op, if_exists) = match Operator::from_name(base) {
            Some(op) => (op, false),
            None => match base.strip_suffix("IfExists").and_then(Operator::from_name) {
                Some(Operator::Null) => {
                    return Err("the Null operator cannot take the IfExists suffix".into())
                }
                Some(op) => (op, true),
                None => return Err(format!("unknown condition operator {op_name:?}")),
            },
        };
        if op == Operator::Null && set != SetQualifier::None {
            return Err("the Null operator cannot take a set qualifier".into());
        }
        if values.is_empty() {
            return Err(format!("no value for key {key:?}"));
        }
        let vars = variables && op.allows_variables();
        use Operator::*;
        let cmp = match op {
            NumericLessThan | DateLessThan => Cmp::Lt,
            NumericLessThanEquals | DateLessThanEquals => Cmp::Le,
            NumericGreaterThan | DateGreaterThan => Cmp::Gt,
            NumericGreaterThanEquals | DateGreaterThanEquals => Cmp::Ge,
            _ => Cmp::Eq,
        };
        let each = |f: &dyn Fn(&str) -> Option<()>| -> Result<(), String> {
            for v in values {
                f(v).ok_or_else(|| format!("invalid value {v:?} for {base}"))?;
            }
            Ok(())
        };
        let values = match op {
            StringEquals | StringNotEquals | StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                Values::Str(
                    values
                        .iter()
                        .map(|v| Template::parse(v, false, vars))
                        .collect::<Result<_, _>>()?,
                )
            }
            StringLike | StringNotLike => Values::Str(
                values
                    .iter()
                    .map(|v| Template::parse(v, true, vars))
                    .collect::<Result<_, _>>()?,
            ),
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Values::Arn(
                values
                    .iter()
                    .map(|v| ArnPattern::parse(v, vars))
                    .collect::<Result<_, _>>()?,
            ),
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => {
                each(&|v| parse_number(v).map(|_| ()))?;
                Values::Num(values.iter().filter_map(|v| parse_number(v)).collect())
            }
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => {
                each(&|v| parse_date(v).map(|_| ()))?;
                Values::Date(values.iter().filter_map(|v| parse_date(v)).collect())
            }
            Bool => {
                each(&|v| parse_bool(v).map(|_| ()))?;
                Values::Bool(values.iter().filter_map(|v| parse_bool(v)).collect())
            }
            Null => {
                each(&|v| parse_bool(v).map(|_| ()))?;
                Values::Null(values.iter().filter_map(|v| parse_bool(v)).collect())
            }
            BinaryEquals => {
                each(&|v| base64_decode(v).map(|_| ()))?;
                Values::Bin(values.iter().filter_map(|v| base64_decode(v)).collect())
            }
            IpAddress | NotIpAddress => {
                each(&|v| parse_cidr(v).map(|_| ()))?;
                Values::Ip(values.iter().filter_map(|v| parse_cidr(v)).collect())
            }
        };
        Ok(Condition {
            op,
            set,
            if_exists,
            key: key.to_lowercase().into_boxed_str(),
            op_name: op_name.into(),
            key_name: key.into(),
            cmp,
            values,
        })
    }

    /// The compiled policy values (read by [`crate::view`]).
    pub(crate) fn values(&self) -> &Values {
        &self.values
    }

    /// Evaluates the condition against the request context.
    pub(crate) fn eval<L: Lookup + ?Sized>(&self, ctx: &L) -> Tri {
        let request = ctx.values(&self.key).filter(|v| !v.is_empty());
        if let Values::Null(expected) = &self.values {
            // "Null": true ⇔ the key is absent. Several values OR together.
            let absent = request.is_none();
            return tri(expected.contains(&absent));
        }
        let negated = self.op.is_negated();
        let Some(request) = request else {
            return match self.set {
                SetQualifier::ForAllValues => Tri::True,
                // No request value can satisfy "any"; IfExists does not change that
                // (module docs: AWS's observed behaviour, issue 15).
                SetQualifier::ForAnyValue => Tri::False,
                SetQualifier::None if self.if_exists => Tri::True,
                SetQualifier::None => tri(negated),
            };
        };
        match self.set {
            SetQualifier::None => {
                let any = or_all(request.iter().map(|rv| self.positive(rv, ctx)));
                if negated {
                    any.not()
                } else {
                    any
                }
            }
            SetQualifier::ForAnyValue => or_all(request.iter().map(|rv| self.single(rv, ctx))),
            SetQualifier::ForAllValues => and_all(request.iter().map(|rv| self.single(rv, ctx))),
        }
    }

    /// The operator (negation included) applied to one request value.
    fn single<L: Lookup + ?Sized>(&self, rv: &str, ctx: &L) -> Tri {
        let p = self.positive(rv, ctx);
        if self.op.is_negated() {
            p.not()
        } else {
            p
        }
    }

    /// Whether one request value matches any policy value under the positive form
    /// of the operator.
    fn positive<L: Lookup + ?Sized>(&self, rv: &str, ctx: &L) -> Tri {
        use Operator::*;
        match &self.values {
            Values::Str(ts) => {
                let ci = matches!(self.op, StringEqualsIgnoreCase | StringNotEqualsIgnoreCase);
                // An unresolved variable (None) matches nothing.
                tri(ts.iter().any(|t| t.matches(rv, ci, ctx) == Some(true)))
            }
            Values::Arn(ps) => tri(ps.iter().any(|p| p.matches(rv, ctx) == Some(true))),
            Values::Num(ns) => match parse_number(rv) {
                Some(r) => tri(ns.iter().any(|n| self.cmp.test(&r, n))),
                None => Tri::Error,
            },
            Values::Date(ds) => match parse_date(rv) {
                Some(r) => tri(ds.iter().any(|d| self.cmp.test(&r, d))),
                None => Tri::Error,
            },
            Values::Bool(bs) => match parse_bool(rv) {
                Some(r) => tri(bs.contains(&r)),
                None => Tri::Error,
            },
            Values::Bin(bs) => match base64_decode(rv) {
                Some(r) => tri(bs.contains(&r)),
                None => Tri::Error,
            },
            Values::Ip(cs) => match parse_ip(rv) {
                Some(ip) => tri(cs.iter().any(|c| c.contains(ip))),
                None => Tri::Error,
            },
            Values::Null(_) => Tri::Error, // handled in eval
        }
    }
}

fn tri(b: bool) -> Tri {
    if b {
        Tri::True
    } else {
        Tri::False
    }
}

/// Kleene OR: true wins, then error.
fn or_all(it: impl Iterator<Item = Tri>) -> Tri {
    let mut acc = Tri::False;
    for t in it {
        match t {
            Tri::True => return Tri::True,
            Tri::Error => acc = Tri::Error,
            Tri::False => {}
        }
    }
    acc
}

/// Kleene AND: false wins, then error.
pub(crate) fn and_all(it: impl Iterator<Item = Tri>) -> Tri {
    let mut acc = Tri::True;
    for t in it {
        match t {
            Tri::False => return Tri::False,
            Tri::Error => acc = Tri::Error,
            Tri::True => {}
        }
    }
    acc
}

/// Parses a decimal number (integer or fraction, optional exponent).
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None; // rejects "inf", "NaN", hex, …
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// `true`/`false`, case-insensitive.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Parses a date: epoch seconds (all digits, optional fraction) or one of the W3C
/// ISO 8601 profiles: `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.s+]]TZD` with TZD `Z`,
/// `+hh:mm` or `-hh:mm` (a missing TZD is read as UTC), also `YYYY` and `YYYY-MM`
/// when they cannot be epoch values (they contain `-`). All-digit strings are epoch
/// seconds, as AWS reads `aws:EpochTime`-style values.
pub(crate) fn parse_date(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some((secs, nanos)) = parse_epoch(s) {
        return Some(Timestamp(secs, nanos));
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then(|| {
            part.iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
        })
    };
    let year = num(0, 4)?;
    let mut month = 1;
    let mut day = 1;
    let mut pos = 4;
    if b.get(pos) == Some(&b'-') {
        month = num(5, 2)?;
        pos = 7;
        if b.get(pos) == Some(&b'-') {
            day = num(8, 2)?;
            pos = 10;
        }
    }
    let (Ok(month), Ok(day)) = (u32::try_from(month), u32::try_from(day)) else {
        return None;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut nanos = 0u32;
    if pos == b.len() {
        return (pos >= 7).then_some(Timestamp(secs, 0)); // bare "YYYY" is epoch-only
    }
    if b[pos] != b'T' || pos != 10 {
        return None;
    }
    let hour = num(11, 2)?;
    if b.get(13) != Some(&b':') {
        return None;
    }
    let minute = num(14, 2)?;
    pos = 16;
    let mut second = 0;
    if b.get(pos) == Some(&b':') {
        second = num(17, 2)?;
        pos = 19;
        if b.get(pos) == Some(&b'.') {
            pos += 1;
            let start = pos;
            while pos < b.len() && b[pos].is_ascii_digit() {
                pos += 1;
            }
            if pos == start {
                return None;
            }
            let frac = &s[start..pos.min(start + 9)];
            nanos = frac.parse::<u32>().ok()? * 10u32.pow(9 - frac.len() as u32);
        }
    }
    if hour > 24 || minute > 59 || second > 60 || (hour == 24 && (minute, second) != (0, 0)) {
        return None;
    }
    secs += hour * 3600 + minute * 60 + second;
    match &s[pos..] {
        "" | "Z" | "z" => {}
        tz => {
            let sign = match tz.as_bytes()[0] {
                b'+' => -1,
                b'-' => 1,
                _ => return None,
            };
            let tzb = &tz.as_bytes()[1..];
            let digits = |i: usize| -> Option<i64> {
                let p = tzb.get(i..i + 2)?;
                p.iter()
                    .all(u8::is_ascii_digit)
                    .then(|| i64::from(p[0] - b'0') * 10 + i64::from(p[1] - b'0'))
            };
            let (h, m) = match tzb.len() {
                5 if tzb[2] == b':' => (digits(0)?, digits(3)?),
                4 => (digits(0)?, digits(2)?),
                2 => (digits(0)?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            secs += sign * (h * 3600 + m * 60);
        }
    }
    Some(Timestamp(secs, nanos))
}

fn parse_epoch(s: &str) -> Option<(i64, u32)> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if int.is_empty() || int.len() > 15 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let nanos = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            let f = &f[..f.len().min(9)];
            f.parse::<u32>().ok()? * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
    };
    Some((secs, nanos))
}

/// Parses a CIDR block or a single address (IPv4 `/32`, IPv6 `/128`).
pub(crate) fn parse_cidr(s: &str) -> Option<Cidr> {
    let s = s.trim();
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 3 {
                return None;
            }
            (a, Some(p.parse::<u8>().ok()?))
        }
        None => (s, None),
    };
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let p = prefix.unwrap_or(32);
            (p <= 32).then(|| Cidr::V4(u32::from(v4) & mask32(p), p))
        }
        IpAddr::V6(v6) => {
            let p = prefix.unwrap_or(128);
            (p <= 128).then(|| Cidr::V6(u128::from(v6) & mask128(p), p))
        }
    }
}

fn mask32(p: u8) -> u32 {
    if p == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(p))
    }
}

fn mask128(p: u8) -> u128 {
    if p == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(p))
    }
}

/// Parses a request IP address (IPv4-mapped IPv6 addresses count as IPv4).
fn parse_ip(s: &str) -> Option<IpAddr> {
    match s.trim().parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)),
        v4 => Some(v4),
    }
}

impl Cidr {
    fn contains(&self, ip: IpAddr) -> bool {
        match (*self, ip) {
            (Cidr::V4(net, p), IpAddr::V4(a)) => u32::from(a) & mask32(p) == net,
            (Cidr::V6(net, p), IpAddr::V6(a)) => u128::from(a) & mask128(p) == net,
            _ => false,
        }
    }
}

/// Decodes standard base64, padding optional, surrounding whitespace ignored (policy
/// and request values of the `Binary*` operators).
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    aws_wire::encoding::base64_decode_padding_optional(s.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;

    struct Ctx(Context);
    impl Vars for Ctx {
        fn var(&self, k: &str) -> Option<&str> {
            self.0.get_lower(k).and_then(|v| v.as_variable())
        }
    }
    impl Lookup for Ctx {
        fn values(&self, k: &str) -> Option<&[String]> {
            self.0.get_lower(k).map(|v| v.as_slice())
        }
    }

    fn c(op: &str, key: &str, vals: &[&str]) -> Condition {
        let v: Vec<String> = vals.iter().map(|s| s.to_string()).collect();
        Condition::compile(op, key, &v, true).unwrap()
    }

    fn ev(op: &str, key: &str, vals: &[&str], ctx: &Context) -> Tri {
        c(op, key, vals).eval(&Ctx(ctx.clone()))
    }

    #[test]
    fn string_family() {
        let ctx = Context::new().with("aws:username", "johndoe");
        assert_eq!(
            ev("StringEquals", "aws:username", &["johndoe"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("StringEquals", "AWS:UserName", &["JohnDoe"], &ctx),
            Tri::False
        );
        assert_eq!(
            ev("StringEqualsIgnoreCase", "aws:username", &["JohnDoe"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("StringNotEquals", "aws:username", &["a", "b"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("StringNotEquals", "aws:username", &["a", "johndoe"], &ctx),
            Tri::False
        );
        assert_eq!(
            ev(
                "StringNotEqualsIgnoreCase",
                "aws:username",
                &["JOHNDOE"],
                &ctx
            ),
            Tri::False
        );
        assert_eq!(
            ev("StringLike", "aws:username", &["john*"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("StringLike", "aws:username", &["j?hndoe"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("StringNotLike", "aws:username", &["john*"], &ctx),
            Tri::False
        );
        // In StringEquals, `*` is a literal character.
        assert_eq!(
            ev("StringEquals", "aws:username", &["john*"], &ctx),
            Tri::False
        );
    }

    #[test]
    fn missing_key_rules() {
        let ctx = Context::new();
        assert_eq!(ev("StringEquals", "k:x", &["a"], &ctx), Tri::False);
        assert_eq!(ev("StringNotEquals", "k:x", &["a"], &ctx), Tri::True);
        assert_eq!(ev("StringEqualsIfExists", "k:x", &["a"], &ctx), Tri::True);
        assert_eq!(
            ev("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("Bool", "aws:SecureTransport", &["true"], &ctx),
            Tri::False
        );
        assert_eq!(
            ev("ForAllValues:StringEquals", "aws:TagKeys", &["a"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("ForAnyValue:StringEquals", "aws:TagKeys", &["a"], &ctx),
            Tri::False
        );
        assert_eq!(ev("Null", "k:x", &["true"], &ctx), Tri::True);
        assert_eq!(ev("Null", "k:x", &["false"], &ctx), Tri::False);
        let empty = Context::new().with_many("aws:TagKeys", Vec::<String>::new());
        assert_eq!(
            ev("ForAllValues:StringEquals", "aws:TagKeys", &["a"], &empty),
            Tri::True
        );
        assert_eq!(
            ev("ForAnyValue:StringEquals", "aws:TagKeys", &["a"], &empty),
            Tri::False
        );
        assert_eq!(ev("Null", "aws:TagKeys", &["true"], &empty), Tri::True);
    }

    #[test]
    fn for_any_value_if_exists_needs_a_value() {
        // Module docs, issue 15: IfExists does not rescue ForAnyValue on a missing or
        // empty key (https://iam.cloudcopilot.io/resources/operators/ForAnyValue:StringNotEqualsIfExists).
        let missing = Context::new();
        let empty = Context::new().with_many("aws:TagKeys", Vec::<String>::new());
        for ctx in [&missing, &empty] {
            for op in [
                "ForAnyValue:StringNotEqualsIfExists",
                "ForAnyValue:StringEqualsIfExists",
                "ForAnyValue:StringLikeIfExists",
                "ForAnyValue:StringNotLikeIfExists",
            ] {
                assert_eq!(ev(op, "aws:TagKeys", &["temp*"], ctx), Tri::False, "{op}");
            }
            // ForAllValues…IfExists is unchanged: vacuously true.
            assert_eq!(
                ev(
                    "ForAllValues:StringEqualsIfExists",
                    "aws:TagKeys",
                    &["a"],
                    ctx
                ),
                Tri::True
            );
            // Without a set qualifier IfExists still makes a missing key true.
            assert_eq!(
                ev("StringNotEqualsIfExists", "aws:TagKeys", &["a"], ctx),
                Tri::True
            );
        }
        // With values present, IfExists changes nothing.
        let tags = Context::new().with_many("aws:TagKeys", ["temp1", "owner"]);
        assert_eq!(
            ev(
                "ForAnyValue:StringNotEqualsIfExists",
                "aws:TagKeys",
                &["temp1"],
                &tags
            ),
            Tri::True
        );
        assert_eq!(
            ev(
                "ForAnyValue:StringEqualsIfExists",
                "aws:TagKeys",
                &["x"],
                &tags
            ),
            Tri::False
        );
    }

    #[test]
    fn present_key_rules() {
        let ctx = Context::new().with("aws:SourceIp", "10.1.2.3");
        assert_eq!(
            ev("StringEqualsIfExists", "aws:sourceip", &["x"], &ctx),
            Tri::False
        );
        assert_eq!(ev("Null", "aws:sourceip", &["false"], &ctx), Tri::True);
        assert_eq!(ev("Null", "aws:sourceip", &["true"], &ctx), Tri::False);
        assert_eq!(
            ev("IpAddress", "aws:SourceIp", &["10.0.0.0/8"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("IpAddress", "aws:SourceIp", &["10.1.2.3"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev(
                "IpAddress",
                "aws:SourceIp",
                &["192.168.0.0/16", "10.1.0.0/16"],
                &ctx
            ),
            Tri::True
        );
        assert_eq!(
            ev("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"], &ctx),
            Tri::False
        );
        assert_eq!(
            ev("IpAddress", "aws:SourceIp", &["2001:db8::/32"], &ctx),
            Tri::False
        );
        let v6 = Context::new().with("aws:SourceIp", "2001:DB8:1234::1");
        assert_eq!(
            ev("IpAddress", "aws:SourceIp", &["2001:db8::/32"], &v6),
            Tri::True
        );
        assert_eq!(
            ev("IpAddress", "aws:SourceIp", &["2001:db9::/32"], &v6),
            Tri::False
        );
        let mapped = Context::new().with("aws:SourceIp", "::ffff:10.1.2.3");
        assert_eq!(
            ev("IpAddress", "aws:SourceIp", &["10.0.0.0/8"], &mapped),
            Tri::True
        );
        assert_eq!(
            ev("IpAddress", "aws:SourceIp", &["0.0.0.0/0"], &ctx),
            Tri::True
        );
    }

    #[test]
    fn multivalued() {
        // IAM User Guide, "Single-valued vs. multivalued context keys".
        let ctx = Context::new().with_many("aws:TagKeys", ["CostCenter", "Owner"]);
        let all = |vals: &[&str]| ev("ForAllValues:StringEquals", "aws:TagKeys", vals, &ctx);
        assert_eq!(all(&["CostCenter", "Owner", "Project"]), Tri::True);
        assert_eq!(all(&["CostCenter"]), Tri::False);
        let any = |vals: &[&str]| ev("ForAnyValue:StringEquals", "aws:TagKeys", vals, &ctx);
        assert_eq!(any(&["Owner"]), Tri::True);
        assert_eq!(any(&["Project"]), Tri::False);
        // Negated with qualifiers.
        assert_eq!(
            ev(
                "ForAllValues:StringNotEquals",
                "aws:TagKeys",
                &["Owner"],
                &ctx
            ),
            Tri::False
        );
        assert_eq!(
            ev(
                "ForAnyValue:StringNotEquals",
                "aws:TagKeys",
                &["Owner"],
                &ctx
            ),
            Tri::True
        );
        assert_eq!(
            ev(
                "ForAllValues:StringNotEquals",
                "aws:TagKeys",
                &["Project"],
                &ctx
            ),
            Tri::True
        );
        // No qualifier: positive behaves as "any", negated as "none".
        assert_eq!(
            ev("StringEquals", "aws:TagKeys", &["Owner"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("StringNotEquals", "aws:TagKeys", &["Owner"], &ctx),
            Tri::False
        );
        assert_eq!(
            ev(
                "ForAllValues:StringLike",
                "aws:TagKeys",
                &["Cost*", "Own*"],
                &ctx
            ),
            Tri::True
        );
    }

    #[test]
    fn numeric_date_bool_binary() {
        let ctx = Context::new()
            .with("s3:max-keys", "10")
            .with("aws:CurrentTime", "2020-04-01T12:00:00Z")
            .with("aws:EpochTime", "1585742400")
            .with("aws:SecureTransport", "TRUE")
            .with("k:bin", "QmluYXJ5VmFsdWU=")
            .with("k:bad", "ten");
        assert_eq!(
            ev("NumericLessThanEquals", "s3:max-keys", &["10"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("NumericLessThan", "s3:max-keys", &["10"], &ctx),
            Tri::False
        );
        assert_eq!(
            ev("NumericGreaterThan", "s3:max-keys", &["9.5"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("NumericNotEquals", "s3:max-keys", &["10"], &ctx),
            Tri::False
        );
        assert_eq!(
            ev("NumericEquals", "s3:max-keys", &["10.0"], &ctx),
            Tri::True
        );
        assert_eq!(ev("NumericEquals", "k:bad", &["10"], &ctx), Tri::Error);
        assert_eq!(ev("NumericNotEquals", "k:bad", &["10"], &ctx), Tri::Error);
        assert_eq!(
            ev(
                "DateGreaterThan",
                "aws:CurrentTime",
                &["2020-01-01T00:00:00Z"],
                &ctx
            ),
            Tri::True
        );
        assert_eq!(
            ev("DateLessThan", "aws:CurrentTime", &["2020-04-01"], &ctx),
            Tri::False
        );
        assert_eq!(
            ev("DateEquals", "aws:CurrentTime", &["1585742400"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev(
                "DateEquals",
                "aws:EpochTime",
                &["2020-04-01T14:00:00+02:00"],
                &ctx
            ),
            Tri::True
        );
        assert_eq!(
            ev(
                "DateEquals",
                "aws:EpochTime",
                &["2020-04-01T12:00:00.000Z"],
                &ctx
            ),
            Tri::True
        );
        assert_eq!(
            ev("Bool", "aws:SecureTransport", &["true"], &ctx),
            Tri::True
        );
        assert_eq!(
            ev("Bool", "aws:SecureTransport", &["false"], &ctx),
            Tri::False
        );
        assert_eq!(
            ev("BinaryEquals", "k:bin", &["QmluYXJ5VmFsdWU="], &ctx),
            Tri::True
        );
        assert_eq!(ev("BinaryEquals", "k:bin", &["QmluYXJ5"], &ctx), Tri::False);
        assert_eq!(ev("Bool", "k:bad", &["true"], &ctx), Tri::Error);
    }

    #[test]
    fn invalid_policy_values_are_errors() {
        let bad =
            |op: &str, v: &str| Condition::compile(op, "k:x", &[v.to_string()], true).is_err();
        assert!(bad("NumericEquals", "ten"));
        assert!(bad("NumericEquals", "NaN"));
        assert!(bad("DateEquals", "yesterday"));
        assert!(bad("DateEquals", "2020-02-30"));
        assert!(bad("IpAddress", "10.0.0.0/33"));
        assert!(bad("IpAddress", "10.0.0"));
        assert!(bad("Bool", "yes"));
        assert!(bad("Null", "maybe"));
        assert!(bad("BinaryEquals", "!!"));
        assert!(bad("StringEqual", "a"));
        assert!(bad("NullIfExists", "true"));
        assert!(bad("ForAnyValue:Null", "true"));
        assert!(bad("stringequals", "a"));
        assert!(bad("ForSomeValues:StringEquals", "a"));
        assert!(Condition::compile("StringEquals", "k:x", &[], true).is_err());
        // Variables are not allowed in numeric values: the text is not a number.
        assert!(bad("NumericEquals", "${aws:username}"));
    }

    #[test]
    fn variables_in_conditions() {
        let ctx = Context::new()
            .with("aws:username", "alice")
            .with("s3:prefix", "home/alice/x");
        assert_eq!(
            ev("StringLike", "s3:prefix", &["home/${aws:username}/*"], &ctx),
            Tri::True
        );
        // Missing variable: positive false, negated true.
        let no_user = Context::new().with("s3:prefix", "home/alice/x");
        assert_eq!(
            ev(
                "StringLike",
                "s3:prefix",
                &["home/${aws:username}/*"],
                &no_user
            ),
            Tri::False
        );
        assert_eq!(
            ev(
                "StringNotLike",
                "s3:prefix",
                &["home/${aws:username}/*"],
                &no_user
            ),
            Tri::True
        );
        assert_eq!(
            ev(
                "StringEquals",
                "s3:prefix",
                &["${aws:username}", "home/alice/x"],
                &no_user
            ),
            Tri::True
        );
        assert_eq!(
            ev(
                "StringLike",
                "s3:prefix",
                &["home/${aws:username, 'alice'}/*"],
                &no_user
            ),
            Tri::True
        );
        let arn = Context::new()
            .with("aws:username", "alice")
            .with("aws:SourceArn", "arn:aws:iam::123456789012:user/alice");
        assert_eq!(
            ev(
                "ArnLike",
                "aws:SourceArn",
                &["arn:aws:iam::*:user/${aws:username}"],
                &arn
            ),
            Tri::True
        );
        assert_eq!(
            ev(
                "ArnEquals",
                "aws:SourceArn",
                &["arn:aws:iam::123456789012:user/*"],
                &arn
            ),
            Tri::True
        );
        assert_eq!(
            ev(
                "ArnNotLike",
                "aws:SourceArn",
                &["arn:aws:iam::123456789012:user/*"],
                &arn
            ),
            Tri::False
        );
    }

    #[test]
    fn dates_parse() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(Timestamp(0, 0)));
        assert_eq!(parse_date("1970-01-02"), Some(Timestamp(86400, 0)));
        assert_eq!(
            parse_date("2000-03-01T00:00Z"),
            Some(Timestamp(951_868_800, 0))
        );
        assert_eq!(
            parse_date("1970-01-01T01:00:00+01:00"),
            Some(Timestamp(0, 0))
        );
        assert_eq!(
            parse_date("1970-01-01T00:00:00.5Z"),
            Some(Timestamp(0, 500_000_000))
        );
        assert_eq!(parse_date("2024-02-29"), parse_date("1709164800"));
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("2020-01-01T25:00:00Z").is_none());
        assert!(parse_date("2020-01-01X").is_none());
        assert_eq!(
            parse_date("2020-01").unwrap(),
            parse_date("2020-01-01").unwrap()
        );
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode("TWFu").unwrap(), b"Man");
        assert_eq!(base64_decode("TWE=").unwrap(), b"Ma");
        assert_eq!(base64_decode("TQ==").unwrap(), b"M");
        assert_eq!(base64_decode("TQ").unwrap(), b"M");
        assert!(base64_decode("T").is_none());
        assert!(base64_decode("T$==").is_none());
    }
}
