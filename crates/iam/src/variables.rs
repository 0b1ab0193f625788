//! Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, `${*}`)
//! and the string templates that contain them.
//!
//! Variables are only recognised in policies with `Version: 2012-10-17`; in older
//! policies `${...}` is literal text (IAM User Guide, "IAM policy elements: Version").
//! `${*}`, `${?}` and `${$}` stand for the literal characters, which is how a policy
//! matches a real `*` or `?` inside `StringLike` or a Resource. A substituted value is
//! literal too: a tag value `a*` never acts as a wildcard (failing closed).

use crate::wildcard::{match_tokens, tokenize, Pattern, Tok, Token, TokenSource};

/// Something that can resolve a (lowercased) context key to a single value.
pub(crate) trait Vars {
    /// The single value of `lower_key`, if present and single-valued.
    fn var(&self, lower_key: &str) -> Option<&str>;
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Literal text.
    Lit(Box<str>),
    /// `*` wildcard.
    Star,
    /// `?` wildcard.
    One,
    /// `${key}` or `${key, 'default'}`; the key is stored lowercased.
    Var {
        key: Box<str>,
        default: Option<Box<str>>,
    },
}

/// A compiled string from a policy: literal text, wildcards and variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    /// Fast path when there is no variable.
    fixed: Option<Pattern>,
    parts: Vec<Part>,
}

/// Error text for a malformed `${...}`.
pub(crate) type TemplateError = String;

impl Template {
    /// Compiles `text`. `wildcards`: whether `*`/`?` are wildcards (StringLike,
    /// Resource, Arn*) or literal (StringEquals). `variables`: whether `${...}`
    /// is a variable (policy version 2012-10-17).
    pub(crate) fn parse(
        text: &str,
        wildcards: bool,
        variables: bool,
    ) -> Result<Template, TemplateError> {
        let mut parts: Vec<Part> = Vec::new();
        let mut lit = String::new();
        let push_text = |parts: &mut Vec<Part>, lit: &mut String, s: &str| {
            if wildcards {
                for t in tokenize(s) {
                    match t {
                        Token::Lit(l) => lit.push_str(&l),
                        Token::Star => {
                            flush(parts, lit);
                            parts.push(Part::Star)
                        }
                        Token::One => {
                            flush(parts, lit);
                            parts.push(Part::One)
                        }
                    }
                }
            } else {
                lit.push_str(s);
            }
        };
        let mut rest = text;
        while !rest.is_empty() {
            let Some(start) = rest.find("${").filter(|_| variables) else {
                push_text(&mut parts, &mut lit, rest);
                break;
            };
            push_text(&mut parts, &mut lit, &rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(format!("unterminated policy variable in {text:?}"));
            };
            let inner = &after[..end];
            match inner {
                "*" | "?" | "$" => lit.push_str(inner),
                _ => {
                    let (key, default) = parse_var(inner)
                        .ok_or_else(|| format!("malformed policy variable ${{{inner}}}"))?;
                    flush(&mut parts, &mut lit);
                    parts.push(Part::Var {
                        key: key.to_lowercase().into_boxed_str(),
                        default: default.map(Into::into),
                    });
                }
            }
            rest = &after[end + 1..];
        }
        flush(&mut parts, &mut lit);
        let has_vars = parts.iter().any(|p| matches!(p, Part::Var { .. }));
        let fixed = (!has_vars).then(|| match parts.as_slice() {
            [] => Pattern::Exact("".into()),
            [Part::Star] => Pattern::Any,
            [Part::Lit(l)] => Pattern::Exact(l.clone()),
            [Part::Lit(l), Part::Star] => Pattern::Prefix(l.clone()),
            _ => Pattern::Glob(
                parts
                    .iter()
                    .map(|p| match p {
                        Part::Lit(l) => Token::Lit(l.clone()),
                        Part::Star => Token::Star,
                        _ => Token::One,
                    })
                    .collect(),
            ),
        });
        Ok(Template { fixed, parts })
    }

    /// The pieces of the template, in order (read by [`crate::view`]).
    pub(crate) fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Whether the template ends with a `*` wildcard.
    pub(crate) fn ends_with_star(&self) -> bool {
        matches!(self.parts.last(), Some(Part::Star))
    }

    /// Whether the template contains a wildcard.
    pub(crate) fn has_wildcard(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Star | Part::One))
    }

    /// Matches `text`. `None` when a variable has no value and no default: the
    /// caller decides what that means (Resource: no match; conditions: see
    /// [`crate::condition`]). `ci`: ASCII/Unicode case-insensitive comparison.
    pub(crate) fn matches<V: Vars + ?Sized>(&self, text: &str, ci: bool, vars: &V) -> Option<bool> {
        if let Some(p) = &self.fixed {
            if ci && !(text.is_ascii() && self.parts_ascii()) {
                return self.slow_ci(text, vars);
            }
            return Some(p.matches(text, ci));
        }
        // Every variable must resolve before matching starts.
        for p in &self.parts {
            if let Part::Var { key, default } = p {
                if vars.var(key).is_none() && default.is_none() {
                    return None;
                }
            }
        }
        if ci && !text.is_ascii() {
            return self.slow_ci(text, vars);
        }
        Some(match_tokens(
            &Resolved {
                parts: &self.parts,
                vars,
            },
            text,
            ci,
        ))
    }

    fn parts_ascii(&self) -> bool {
        self.parts.iter().all(|p| match p {
            Part::Lit(l) => l.is_ascii(),
            _ => true,
        })
    }

    /// Unicode case-insensitive match: lowercase both sides (allocates; rare).
    fn slow_ci<V: Vars + ?Sized>(&self, text: &str, vars: &V) -> Option<bool> {
        let mut tokens = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            tokens.push(match p {
                Part::Lit(l) => Token::Lit(l.to_lowercase().into()),
                Part::Star => Token::Star,
                Part::One => Token::One,
                Part::Var { key, default } => {
                    let v = vars.var(key).or(default.as_deref())?;
                    Token::Lit(v.to_lowercase().into())
                }
            });
        }
        Some(match_tokens(tokens.as_slice(), &text.to_lowercase(), false))
    }
}

fn flush(parts: &mut Vec<Part>, lit: &mut String) {
    if !lit.is_empty() {
        parts.push(Part::Lit(std::mem::take(lit).into_boxed_str()));
    }
}

/// Parses `key` or `key, 'default'` (spaces around the comma allowed).
fn parse_var(inner: &str) -> Option<(&str, Option<&str>)> {
    let (key, default) = match inner.find(',') {
        None => (inner.trim(), None),
        Some(i) => {
            let d = inner[i + 1..].trim();
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (inner[..i].trim(), Some(d))
        }
    };
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| !c.is_whitespace() && !matches!(c, '$' | '{' | '}' | '\'' | ','));
    valid.then_some((key, default))
}

/// Parts with variables substituted lazily (no allocation).
struct Resolved<'a, V: ?Sized> {
    parts: &'a [Part],
    vars: &'a V,
}

impl<V: Vars + ?Sized> TokenSource for Resolved<'_, V> {
    fn len(&self) -> usize {
        self.parts.len()
    }
    fn get(&self, i: usize) -> Tok<'_> {
        match &self.parts[i] {
            Part::Lit(l) => Tok::Lit(l),
            Part::Star => Tok::Star,
            Part::One => Tok::One,
            Part::Var { key, default } => {
                Tok::Lit(self.vars.var(key).or(default.as_deref()).unwrap_or(""))
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) struct Map(pub Vec<(&'static str, &'static str)>);
    impl Vars for Map {
        fn var(&self, k: &str) -> Option<&str> {
            self.0.iter().find(|(kk, _)| *kk == k).map(|(_, v)| *v)
        }
    }

    fn t(s: &str, wild: bool) -> Template {
        Template::parse(s, wild, true).unwrap()
    }

    #[test]
    fn variables_substitute() {
        let vars = Map(vec![("aws:username", "alice")]);
        let tpl = t("home/${aws:username}/*", true);
        assert_eq!(tpl.matches("home/alice/x", false, &vars), Some(true));
        assert_eq!(tpl.matches("home/bob/x", false, &vars), Some(false));
        // Key names are case-insensitive.
        let tpl = t("${AWS:UserName}", false);
        assert_eq!(tpl.matches("alice", false, &vars), Some(true));
    }

    #[test]
    fn missing_variable_is_none_and_default_applies() {
        let vars = Map(vec![]);
        assert_eq!(t("${aws:username}", false).matches("", false, &vars), None);
        let tpl = t("${aws:PrincipalTag/team, 'none'}", false);
        assert_eq!(tpl.matches("none", false, &vars), Some(true));
        let tpl = t("${aws:PrincipalTag/team,'x y'}-*", true);
        assert_eq!(tpl.matches("x y-1", false, &vars), Some(true));
    }

    #[test]
    fn special_characters_are_literal() {
        let vars = Map(vec![]);
        let tpl = t("a${*}b${?}c${$}", true);
        assert_eq!(tpl.matches("a*b?c$", false, &vars), Some(true));
        assert_eq!(tpl.matches("axb?c$", false, &vars), Some(false));
        assert!(!tpl.has_wildcard());
    }

    #[test]
    fn old_version_is_literal() {
        let vars = Map(vec![("aws:username", "alice")]);
        let tpl = Template::parse("${aws:username}", false, false).unwrap();
        assert_eq!(tpl.matches("${aws:username}", false, &vars), Some(true));
        assert_eq!(tpl.matches("alice", false, &vars), Some(false));
    }

    #[test]
    fn substituted_value_is_literal() {
        let vars = Map(vec![("aws:principaltag/p", "a*")]);
        let tpl = t("${aws:PrincipalTag/p}", true);
        assert_eq!(tpl.matches("a*", false, &vars), Some(true));
        assert_eq!(tpl.matches("abc", false, &vars), Some(false));
    }

    #[test]
    fn malformed() {
        assert!(Template::parse("${aws:username", false, true).is_err());
        assert!(Template::parse("${}", false, true).is_err());
        assert!(Template::parse("${a, b}", false, true).is_err());
    }

    #[test]
    fn ignore_case_unicode() {
        let vars = Map(vec![("k", "ÉTÉ")]);
        let tpl = t("${k}", false);
        assert_eq!(tpl.matches("été", true, &vars), Some(true));
        assert_eq!(t("Été", false).matches("éTÉ", true, &vars), Some(true));
    }
}
