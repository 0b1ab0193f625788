//! Test OIDC issuers: stand-ins for an EKS (or GKE) cluster's service-account token
//! issuer. Each holds an ES256 key pair, hands its key set to the gateway (never
//! fetched over the network, as the gateway requires) and signs tokens: projected
//! service-account tokens as the Kubernetes TokenRequest API would for ESO, or any
//! header and claims (forged tokens for the gateway's security tests).

use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use aws_wire::encoding::base64url_encode;
use aws_wire::jwt::Jwks;
use serde_json::{json, Value};

/// The `kid` of every test issuer's one key.
pub const KEY_ID: &str = "sma-test";

/// An OIDC issuer with one signing key.
pub struct TestIssuer {
    /// `iss` of its tokens (`https://…`).
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

    /// One issuer shared by the whole process (the hand-written scenarios of a run all
    /// use it; their gateway trusts it).
    pub fn of_run() -> &'static TestIssuer {
        static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
        ISSUER.get_or_init(|| TestIssuer::new(&TestIssuer::random_eks_url()))
    }

    /// The issuer URL without `https://`, as IAM names providers and condition keys.
    pub fn host_path(&self) -> &str {
        self.url.trim_start_matches("https://")
    }

    /// The key set as JSON (a JWKS document).
    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    /// The key set, as the gateway takes it.
    pub fn jwks(&self) -> Jwks {
        Jwks::parse(&self.jwks_json).expect("the issuer's own key set parses")
    }

    /// Signs `header` and `claims` as they are (a JWS in compact form).
    pub fn sign_raw(&self, header: &Value, claims: &Value) -> String {
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

    /// A token for `sub` with the one audience `aud`, valid from ten seconds ago until
    /// `exp_in` seconds from now (negative: expired).
    pub fn token(&self, sub: &str, aud: &str, exp_in: i64) -> String {
        let now = aws_wire::time::unix_now();
        self.sign_raw(
            &json!({"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}),
            &json!({"iss": self.url, "sub": sub, "aud": aud, "iat": now - 10, "nbf": now - 10, "exp": now + exp_in}),
        )
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
        self.sign_raw(&header, &claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_with_the_issuers_key_set_and_no_other() {
        let issuer = TestIssuer::new("oidc.example/id/1");
        assert_eq!(issuer.url, "https://oidc.example/id/1");
        let now = aws_wire::time::unix_now();
        let token = issuer.service_account_token("eso", "reader", "sts.amazonaws.com");
        let verified =
            aws_wire::jwt::verify(&aws_wire::jwt::decode(&token).unwrap(), &issuer.jwks(), now)
                .expect("verifies with its own key set");
        assert_eq!(verified.subject, "system:serviceaccount:eso:reader");
        assert_eq!(verified.audiences, vec!["sts.amazonaws.com".to_string()]);
        let other = TestIssuer::new("https://oidc.example/id/2");
        assert!(
            aws_wire::jwt::verify(&aws_wire::jwt::decode(&token).unwrap(), &other.jwks(), now)
                .is_err()
        );
        let expired = issuer.token("sub", "aud", -1);
        assert!(aws_wire::jwt::verify(
            &aws_wire::jwt::decode(&expired).unwrap(),
            &issuer.jwks(),
            now
        )
        .is_err());
    }
}
