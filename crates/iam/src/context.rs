//! The request context: condition keys and their values.
//!
//! AWS context key *names* are case-insensitive ("aws:SourceIP" ≡ "AWS:SourceIp"),
//! values are not. A key holds one value (single-valued key) or a list (multivalued
//! key such as `aws:TagKeys`).

/// The values of one context key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    /// A single-valued key.
    Single(String),
    /// A multivalued key (may be empty).
    Multi(Vec<String>),
}

impl ContextValue {
    /// The values as a slice (one element for a single-valued key).
    pub fn as_slice(&self) -> &[String] {
        match self {
            ContextValue::Single(s) => std::slice::from_ref(s),
            ContextValue::Multi(v) => v,
        }
    }

    /// The value usable as a policy variable: AWS substitutes only single values.
    pub fn as_variable(&self) -> Option<&str> {
        match self {
            ContextValue::Single(s) => Some(s),
            ContextValue::Multi(v) if v.len() == 1 => Some(&v[0]),
            ContextValue::Multi(_) => None,
        }
    }
}

/// Condition keys of a request, with case-insensitive names.
///
/// Small contexts are the norm, so a vector with linear search beats a hash map
/// and keeps insertion order for stable output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: Vec<(String, ContextValue)>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single-valued key (replacing any previous value).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.set(key, ContextValue::Single(value.into()));
        self
    }

    /// Sets a multivalued key (replacing any previous value).
    pub fn insert_many<I, S>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set(
            key,
            ContextValue::Multi(values.into_iter().map(Into::into).collect()),
        );
        self
    }

    /// Builder form of [`Context::insert`].
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Builder form of [`Context::insert_many`].
    pub fn with_many<I, S>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.insert_many(key, values);
        self
    }

    /// Sets `key` to `value`, replacing any previous value.
    pub fn set(&mut self, key: &str, value: ContextValue) {
        let lower = key.to_lowercase();
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| *k == lower) {
            e.1 = value;
        } else {
            self.entries.push((lower, value));
        }
    }

    /// Sets `key` only if it is absent (used for keys derived from the principal:
    /// caller-supplied keys take precedence).
    pub fn set_default(&mut self, key: &str, value: ContextValue) {
        if self.get(key).is_none() {
            self.set(key, value);
        }
    }

    /// The values of `key` (any case).
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) || !key.is_ascii() {
            let lower = key.to_lowercase();
            return self.get_lower(&lower);
        }
        self.get_lower(key)
    }

    /// Lookup with an already lowercased key (the hot path: policies store
    /// lowercased keys).
    #[inline]
    pub(crate) fn get_lower(&self, lower: &str) -> Option<&ContextValue> {
        self.entries
            .iter()
            .find(|(k, _)| k == lower)
            .map(|(_, v)| v)
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) -> Option<ContextValue> {
        let lower = key.to_lowercase();
        let pos = self.entries.iter().position(|(k, _)| *k == lower)?;
        Some(self.entries.remove(pos).1)
    }

    /// Iterates over (lowercased key, values).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_names_case_sensitive_values() {
        let mut c = Context::new();
        c.insert("aws:SourceIP", "10.0.0.1");
        assert_eq!(
            c.get("AWS:sourceip").unwrap().as_slice(),
            &["10.0.0.1".to_string()]
        );
        c.insert("AWS:SOURCEIP", "10.0.0.2");
        assert_eq!(c.len(), 1);
        assert_eq!(
            c.get("aws:sourceip").unwrap().as_variable(),
            Some("10.0.0.2")
        );
        c.insert_many("aws:TagKeys", ["a", "b"]);
        assert_eq!(c.get("aws:tagkeys").unwrap().as_variable(), None);
        c.set_default("aws:tagkeys", ContextValue::Single("x".into()));
        assert_eq!(c.get("aws:tagkeys").unwrap().as_slice().len(), 2);
        assert!(c.remove("Aws:TagKeys").is_some());
        assert!(c.get("aws:tagkeys").is_none());
    }
}
