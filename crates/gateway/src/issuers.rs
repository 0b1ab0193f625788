//! The OIDC issuers the gateway trusts: a key set per issuer URL, replaceable while
//! the gateway runs (`/_sma/oidc-issuers`, [`crate::GatewayHandle`]).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aws_wire::jwt::Jwks;

/// Key sets per issuer URL (exact, case-sensitive match on `iss`).
#[derive(Debug, Default)]
pub struct IssuerRegistry {
    issuers: RwLock<HashMap<String, Arc<Jwks>>>,
}

impl IssuerRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or replaces) the key set of `issuer`.
    pub fn insert(&self, issuer: &str, jwks: Jwks) {
        if let Ok(mut m) = self.issuers.write() {
            m.insert(issuer.to_string(), Arc::new(jwks));
        }
    }

    /// Sets the key set of `issuer` unless it already has one; returns whether it was set.
    pub fn insert_if_absent(&self, issuer: &str, jwks: Jwks) -> bool {
        match self.issuers.write() {
            Ok(mut m) if !m.contains_key(issuer) => {
                m.insert(issuer.to_string(), Arc::new(jwks));
                true
            }
            _ => false,
        }
    }

    /// The key set of `issuer`.
    pub fn get(&self, issuer: &str) -> Option<Arc<Jwks>> {
        self.issuers.read().ok()?.get(issuer).cloned()
    }
}
