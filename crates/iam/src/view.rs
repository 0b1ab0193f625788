//! Read-only views of a parsed policy for static analysis (`crates/check` proves
//! policies for every secret name). They expose what the parser compiled — action,
//! resource and condition patterns as pieces, principals — without evaluating
//! anything, so that an analysis reuses this crate's grammar instead of parsing the
//! policy a second time.

use crate::arn::ArnPattern;
use crate::ast::{PrincipalEntry, Statement};
use crate::condition::{Condition, Operator, SetQualifier, Values};
use crate::variables::{Part, Template};
use crate::wildcard::Pattern;

/// One piece of a compiled string pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Literal text (a `${*}`-style escape is already literal here).
    Literal(&'a str),
    /// `*`: any run of characters, possibly empty.
    AnyRun,
    /// `?`: exactly one character.
    AnyOne,
    /// A policy variable `${key}` (key lowercased), with its default if any.
    Variable {
        /// The context key, lowercased.
        key: &'a str,
        /// The default value (`${key, 'default'}`).
        default: Option<&'a str>,
    },
}

/// A compiled Resource / NotResource / `Arn*` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcePattern<'a> {
    /// `"*"`: every resource.
    Any,
    /// The colon-separated parts (1 to 6), each a list of pieces. A part that ends with
    /// [`Piece::AnyRun`] may also cover the following parts of an ARN, colons included
    /// (see [`crate::arn`]).
    Parts(Vec<Vec<Piece<'a>>>),
}

/// The `Resource` or `NotResource` element of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources<'a> {
    /// `NotResource`.
    pub negated: bool,
    /// The patterns, in document order.
    pub patterns: Vec<ResourcePattern<'a>>,
}

/// One `operator: { key: values }` entry of a Condition block.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionView<'a> {
    /// The operator as written (`ForAnyValue:StringLikeIfExists`).
    pub operator_name: &'a str,
    /// The base operator.
    pub operator: Operator,
    /// `ForAllValues:` qualifier.
    pub for_all_values: bool,
    /// `ForAnyValue:` qualifier.
    pub for_any_value: bool,
    /// `…IfExists` suffix.
    pub if_exists: bool,
    /// The key as written.
    pub key: &'a str,
    /// String operators (`String*`): each value as pieces (wildcards only for
    /// `StringLike`/`StringNotLike`; `StringEquals` values are literal).
    pub string_values: Option<Vec<Vec<Piece<'a>>>>,
    /// `Arn*` operators: each value as an ARN pattern.
    pub arn_values: Option<Vec<ResourcePattern<'a>>>,
}

fn pieces(template: &Template) -> Vec<Piece<'_>> {
    template
        .parts()
        .iter()
        .map(|p| match p {
            Part::Lit(l) => Piece::Literal(l),
            Part::Star => Piece::AnyRun,
            Part::One => Piece::AnyOne,
            Part::Var { key, default } => Piece::Variable {
                key,
                default: default.as_deref(),
            },
        })
        .collect()
}

fn resource_pattern(pattern: &ArnPattern) -> ResourcePattern<'_> {
    match pattern {
        ArnPattern::Any => ResourcePattern::Any,
        ArnPattern::Parts(parts) => ResourcePattern::Parts(parts.iter().map(pieces).collect()),
    }
}

fn pattern_text(pattern: &Pattern) -> String {
    match pattern {
        Pattern::Any => "*".to_owned(),
        Pattern::Exact(l) => l.to_string(),
        Pattern::Prefix(p) => format!("{p}*"),
        Pattern::Glob(tokens) => tokens
            .iter()
            .map(|t| match t {
                crate::wildcard::Token::Lit(l) => l.to_string(),
                crate::wildcard::Token::Star => "*".to_owned(),
                crate::wildcard::Token::One => "?".to_owned(),
            })
            .collect(),
    }
}

impl Statement {
    /// Whether the statement's `Action`/`NotAction` covers `action`
    /// (case-insensitive, as AWS).
    pub fn matches_action(&self, action: &str) -> bool {
        self.action.matches(&action.to_ascii_lowercase())
    }

    /// Whether the statement uses `NotAction`.
    pub fn has_not_action(&self) -> bool {
        self.action.negated
    }

    /// The action patterns as written, lowercased (`secretsmanager:get*`).
    pub fn action_patterns(&self) -> Vec<String> {
        self.action.patterns.iter().map(pattern_text).collect()
    }

    /// The `Resource`/`NotResource` element, if any.
    pub fn resources(&self) -> Option<Resources<'_>> {
        self.resource.as_ref().map(|r| Resources {
            negated: r.negated,
            patterns: r.patterns.iter().map(resource_pattern).collect(),
        })
    }

    /// The principals named by `Principal` (or `NotPrincipal`, see
    /// [`Statement::has_not_principal`]).
    pub fn principal_entries(&self) -> &[PrincipalEntry] {
        self.principal
            .as_ref()
            .map(|p| p.entries.as_slice())
            .unwrap_or_default()
    }

    /// The conditions of the statement (all must hold).
    pub fn condition_views(&self) -> Vec<ConditionView<'_>> {
        self.conditions.iter().map(condition_view).collect()
    }
}

fn condition_view(c: &Condition) -> ConditionView<'_> {
    let (string_values, arn_values) = match c.values() {
        Values::Str(ts) => (Some(ts.iter().map(pieces).collect()), None),
        Values::Arn(ps) => (None, Some(ps.iter().map(resource_pattern).collect())),
        _ => (None, None),
    };
    ConditionView {
        operator_name: &c.op_name,
        operator: c.op,
        for_all_values: c.set == SetQualifier::ForAllValues,
        for_any_value: c.set == SetQualifier::ForAnyValue,
        if_exists: c.if_exists,
        key: &c.key_name,
        string_values,
        arn_values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    #[test]
    fn views_expose_what_was_parsed() {
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:Get*"],
            "NotResource":["arn:aws:secretsmanager:eu-west-3:123456789012:secret:a/${aws:username}-??????","*"],
            "Condition":{"StringLike":{"x:sub":"system:*"},"StringEquals":{"x:aud":"a*"}}}]}"#,
        )
        .unwrap();
        let s = &p.statements()[0];
        assert!(s.matches_action("SecretsManager:GetSecretValue"));
        assert!(!s.matches_action("secretsmanager:ListSecrets"));
        assert_eq!(s.action_patterns(), vec!["secretsmanager:get*"]);
        let r = s.resources().unwrap();
        assert!(r.negated);
        assert_eq!(r.patterns[1], ResourcePattern::Any);
        let ResourcePattern::Parts(parts) = &r.patterns[0] else {
            panic!("parts")
        };
        assert_eq!(parts.len(), 6);
        assert_eq!(
            parts[5],
            vec![
                Piece::Literal("secret:a/"),
                Piece::Variable {
                    key: "aws:username",
                    default: None
                },
                Piece::Literal("-"),
                Piece::AnyOne,
                Piece::AnyOne,
                Piece::AnyOne,
                Piece::AnyOne,
                Piece::AnyOne,
                Piece::AnyOne
            ]
        );
        let conditions = s.condition_views();
        let like = conditions.iter().find(|c| c.key == "x:sub").unwrap();
        assert_eq!(
            like.string_values,
            Some(vec![vec![Piece::Literal("system:"), Piece::AnyRun]])
        );
        let equals = conditions.iter().find(|c| c.key == "x:aud").unwrap();
        assert_eq!(equals.string_values, Some(vec![vec![Piece::Literal("a*")]]));
    }
}
