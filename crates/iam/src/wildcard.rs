//! Wildcard (`*`, `?`) patterns, compiled once at parse time.
//!
//! IAM uses the same two wildcards everywhere (Action, Resource, `StringLike`,
//! `ArnLike`): `*` matches any run of characters (possibly empty), `?` exactly one
//! character. Patterns are split into tokens at parse time so that matching never
//! allocates.

/// One token of a compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// Literal text that must appear as is.
    Lit(Box<str>),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
}

/// Splits `text` into wildcard tokens (`*` and `?` are wildcards, everything else literal).
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut lit = String::new();
    for c in text.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    out.push(Token::Lit(std::mem::take(&mut lit).into_boxed_str()));
                }
                // Consecutive stars are equivalent to one; keeping one makes matching linear.
                if c == '*' {
                    if out.last() != Some(&Token::Star) {
                        out.push(Token::Star);
                    }
                } else {
                    out.push(Token::One);
                }
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Token::Lit(lit.into_boxed_str()));
    }
    out
}

/// Whether `lit` is a prefix of `text` (ASCII case-insensitively when `ci`).
#[inline]
fn starts_with(text: &str, lit: &str, ci: bool) -> bool {
    if ci {
        text.len() >= lit.len()
            && text.is_char_boundary(lit.len())
            && text.as_bytes()[..lit.len()].eq_ignore_ascii_case(lit.as_bytes())
    } else {
        text.starts_with(lit)
    }
}

/// Length in bytes of the first character of `s` (which must not be empty).
#[inline]
fn first_char_len(s: &str) -> usize {
    s.chars().next().map_or(1, char::len_utf8)
}

/// A token source for [`match_tokens`]: lets callers substitute policy variables
/// lazily without building a new token list.
pub(crate) trait TokenSource {
    /// Number of tokens.
    fn len(&self) -> usize;
    /// The token at `i`, as a wildcard or a literal string.
    fn get(&self, i: usize) -> Tok<'_>;
}

/// A borrowed token.
#[derive(Clone, Copy)]
pub(crate) enum Tok<'a> {
    Lit(&'a str),
    Star,
    One,
}

impl TokenSource for [Token] {
    fn len(&self) -> usize {
        <[Token]>::len(self)
    }
    fn get(&self, i: usize) -> Tok<'_> {
        match &self[i] {
            Token::Lit(s) => Tok::Lit(s),
            Token::Star => Tok::Star,
            Token::One => Tok::One,
        }
    }
}

/// Matches `text` against a token sequence. Greedy with single backtrack point
/// (the classic linear-time glob algorithm): correct because a later `*` can
/// absorb anything an earlier `*` would have.
pub(crate) fn match_tokens<S: TokenSource + ?Sized>(tokens: &S, text: &str, ci: bool) -> bool {
    let n = tokens.len();
    let (mut ti, mut si) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None; // (token after star, text position)
    loop {
        if ti < n {
            match tokens.get(ti) {
                Tok::Star => {
                    ti += 1;
                    if ti == n {
                        return true; // trailing star eats the rest
                    }
                    backtrack = Some((ti, si));
                    continue;
                }
                Tok::One => {
                    if si < text.len() {
                        si += first_char_len(&text[si..]);
                        ti += 1;
                        continue;
                    }
                }
                Tok::Lit(lit) => {
                    if starts_with(&text[si..], lit, ci) {
                        si += lit.len();
                        ti += 1;
                        continue;
                    }
                }
            }
        } else if si == text.len() {
            return true;
        }
        // Mismatch: let the last star absorb one more character.
        match backtrack {
            Some((bt, bs)) if bs < text.len() => {
                let ns = bs + first_char_len(&text[bs..]);
                backtrack = Some((bt, ns));
                ti = bt;
                si = ns;
            }
            _ => return false,
        }
    }
}

/// A compiled wildcard pattern with fast paths for the common shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// `*`: matches everything.
    Any,
    /// No wildcard: whole-string equality.
    Exact(Box<str>),
    /// `prefix*`: the most common shape (`secretsmanager:*`, `arn:...:secret:staging/*`).
    Prefix(Box<str>),
    /// Anything else.
    Glob(Vec<Token>),
}

impl Pattern {
    /// Compiles `text`; `*` and `?` are wildcards.
    pub(crate) fn new(text: &str) -> Self {
        let tokens = tokenize(text);
        match tokens.as_slice() {
            [Token::Star] => Pattern::Any,
            [] => Pattern::Exact("".into()),
            [Token::Lit(l)] => Pattern::Exact(l.clone()),
            [Token::Lit(l), Token::Star] => Pattern::Prefix(l.clone()),
            _ => Pattern::Glob(tokens),
        }
    }

    /// Matches `text`, ASCII case-insensitively when `ci` (the pattern must then be lowercase).
    #[inline]
    pub(crate) fn matches(&self, text: &str, ci: bool) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(l) => {
                if ci {
                    l.len() == text.len() && l.as_bytes().eq_ignore_ascii_case(text.as_bytes())
                } else {
                    **l == *text
                }
            }
            Pattern::Prefix(p) => starts_with(text, p, ci),
            Pattern::Glob(t) => match_tokens(t.as_slice(), text, ci),
        }
    }
}

/// Matches `text` against the wildcard pattern `pattern` (`*`, `?`), case-sensitively.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    Pattern::new(pattern).matches(text, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "abc"));
        assert!(wildcard_match("a*c", "abc"));
        assert!(wildcard_match("a*c", "ac"));
        assert!(!wildcard_match("a*c", "ab"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("prod/db-??????", "prod/db-a1B2c3"));
        assert!(!wildcard_match("prod/db-??????", "prod/db-a1B2c3d"));
        assert!(wildcard_match("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!wildcard_match("*a*b*c*", "xxaxxcxxbxx"));
        assert!(wildcard_match("a**b", "ab"));
        assert!(wildcard_match("é?", "éé"));
        assert!(!wildcard_match("abc", "ABC"));
    }

    #[test]
    fn case_insensitive() {
        let p = Pattern::new("secretsmanager:get*");
        assert!(p.matches("SecretsManager:GetSecretValue", true));
        assert!(!p.matches("SecretsManager:GetSecretValue", false));
        let p = Pattern::new("s?:*value");
        assert!(p.matches("SM:GetSecretVALUE", true));
    }

    #[test]
    fn backtracking() {
        assert!(wildcard_match("*aab", "aaaab"));
        assert!(wildcard_match("a*?b", "axb"));
        assert!(!wildcard_match("a*?b", "ab"));
        assert!(wildcard_match("*?", "x"));
        assert!(!wildcard_match("*?", ""));
    }
}
