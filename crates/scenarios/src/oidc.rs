//! Test OIDC issuers: stand-ins for an EKS (or GKE) cluster's service-account token
//! issuer. Each holds an ES256 key pair, publishes its key set to the gateway (never
//! fetched over the network, as the gateway requires) and signs projected
//! service-account tokens as the Kubernetes TokenRequest API would for ESO.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use aws_wire::encoding::base64url_encode;
use serde_json::json;
use std::sync::OnceLock;

/// An OIDC issuer with one signing key.
pub struct TestIssuer {
    /// `iss` of its tokens: an EKS-shaped issuer URL unique to this run.
    pub url: String,
    key: EcdsaKeyPair,
    jwks_json: String,
}

impl std::fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIssuer")
            .field("url", &self.url)
            .finish()
    }
}

const KEY_ID: &str = "sma-scenarios";

impl TestIssuer {
    /// An issuer with a fresh ES256 key whose tokens carry `url` as `iss` (`https://`
    /// added when missing).
    pub fn new(url: &str) -> TestIssuer {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .expect("generate an ES256 key");
        // Uncompressed point: 0x04 || x || y.
        let point = key.public_key().as_ref().to_vec();
        let jwks_json = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": KEY_ID,
            "use": "sig", "alg": "ES256",
            "x": base64url_encode(&point[1..33]), "y": base64url_encode(&point[33..65])}]})
        .to_string();
        let url = if url.starts_with("https://") {
            url.to_string()
        } else {
            format!("https://{url}")
        };
        TestIssuer {
            url,
            key,
            jwks_json,
        }
    }

    /// An EKS-shaped issuer URL unique to this process.
    pub fn random_eks_url() -> String {
        let mut raw = [0u8; 16];
        aws_lc_rs::rand::fill(&mut raw).expect("random issuer id");
        let id: String = raw.iter().map(|b| format!("{b:02X}")).collect();
        format!("https://oidc.eks.eu-west-3.amazonaws.com/id/{id}")
    }

    /// The issuer shared by every hand-written scenario of the run (the gateway trusts
    /// it).
    pub fn of_run() -> &'static TestIssuer {
        static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
        ISSUER.get_or_init(|| TestIssuer::new(&TestIssuer::random_eks_url()))
    }

    /// The issuer URL without `https://`, as IAM names providers and condition keys.
    pub fn host_path(&self) -> &str {
        self.url.trim_start_matches("https://")
    }

    /// The key set, as the gateway takes it.
    pub fn jwks(&self) -> gateway::Jwks {
        gateway::Jwks::parse(&self.jwks_json).expect("the issuer's own key set parses")
    }

    /// A token for the service account `namespace/name` with audience `audience`,
    /// valid for ten minutes.
    pub fn service_account_token(&self, namespace: &str, name: &str, audience: &str) -> String {
        self.token_valid_for(namespace, name, &[audience], 600)
    }

    /// A token for `namespace/name` with `audiences`, valid from now for `seconds`
    /// (negative: expired that long ago, issued ten minutes before).
    pub fn token_valid_for(
        &self,
        namespace: &str,
        name: &str,
        audiences: &[&str],
        seconds: i64,
    ) -> String {
        let now = aws_wire::time::unix_now();
        let issued = if seconds < 0 {
            now + seconds - 600
        } else {
            now
        };
        let header = json!({"alg": "ES256", "kid": KEY_ID, "typ": "JWT"});
        let claims = json!({
            "iss": self.url,
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
            "aud": audiences,
            "iat": issued, "nbf": issued, "exp": now + seconds,
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name}},
        });
        let signing_input = format!(
            "{}.{}",
            base64url_encode(header.to_string().as_bytes()),
            base64url_encode(claims.to_string().as_bytes())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .expect("sign the token");
        format!("{signing_input}.{}", base64url_encode(signature.as_ref()))
    }
}
