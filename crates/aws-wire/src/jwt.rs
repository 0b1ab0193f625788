//! OIDC web-identity tokens (JWS compact JWTs): parsing, signature verification against
//! a configured JWKS per issuer (never fetched from the network), time claims.
//!
//! Accepted algorithms: RS256/384/512, PS256/384/512 (RSA ≥ 2048 bits), ES256, ES384.
//! `none`, every HMAC algorithm and anything else are refused whatever the key set
//! holds; symmetric (`oct`) keys in a JWKS are never used. The key must match the
//! algorithm's family and curve, and a key's own `alg`/`use` must agree.

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::encoding::base64url_decode;

/// Longest token accepted (AWS's `WebIdentityToken` limit).
pub const MAX_TOKEN_LEN: usize = 20_000;
/// Clock leeway for `nbf` and `iat`.
pub const LEEWAY_SECS: i64 = 60;

/// Why a token or key set was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// Not a well-formed JWS compact JWT.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// `alg` is not on the allow-list.
    #[error("unsupported or forbidden signing algorithm '{0}'")]
    ForbiddenAlgorithm(String),
    /// No key set is configured for the token's issuer.
    #[error("no signing keys configured for issuer '{0}'")]
    UnknownIssuer(String),
    /// No key of the set fits the token's header.
    #[error("no matching signing key (kid {0:?})")]
    NoMatchingKey(Option<String>),
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// `exp` has passed.
    #[error(
        "Token expired: current date/time {now} must be before the expiration date/time {exp}"
    )]
    Expired {
        /// Now (Unix seconds).
        now: i64,
        /// The token's `exp`.
        exp: i64,
    },
    /// `nbf` or `iat` lies in the future.
    #[error("token is not valid yet")]
    NotYetValid,
    /// A required claim is missing or has the wrong type.
    #[error("missing or invalid claim '{0}'")]
    Claim(&'static str),
    /// A JWKS document could not be read.
    #[error("invalid JWKS: {0}")]
    Jwks(String),
}

/// Allowed JWS algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 SHA-512.
    Rs512,
    /// RSASSA-PSS SHA-256.
    Ps256,
    /// RSASSA-PSS SHA-384.
    Ps384,
    /// RSASSA-PSS SHA-512.
    Ps512,
    /// ECDSA P-256 SHA-256.
    Es256,
    /// ECDSA P-384 SHA-384.
    Es384,
}

impl Alg {
    /// Parses an allowed `alg` value; everything else (`none`, `HS*`, …) is refused.
    pub fn parse(s: &str) -> Result<Self, JwtError> {
        Ok(match s {
            "RS256" => Alg::Rs256,
            "RS384" => Alg::Rs384,
            "RS512" => Alg::Rs512,
            "PS256" => Alg::Ps256,
            "PS384" => Alg::Ps384,
            "PS512" => Alg::Ps512,
            "ES256" => Alg::Es256,
            "ES384" => Alg::Es384,
            other => {
                return Err(JwtError::ForbiddenAlgorithm(
                    other.chars().take(32).collect(),
                ))
            }
        })
    }

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Rs384 => "RS384",
            Alg::Rs512 => "RS512",
            Alg::Ps256 => "PS256",
            Alg::Ps384 => "PS384",
            Alg::Ps512 => "PS512",
            Alg::Es256 => "ES256",
            Alg::Es384 => "ES384",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyMaterial {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// Uncompressed SEC1 point.
    Ec {
        curve: &'static str,
        point: Vec<u8>,
    },
}

/// One usable public key of a JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    /// `kid`, if any.
    pub kid: Option<String>,
    /// `alg` pinned by the key, if any.
    pub alg: Option<String>,
    material: KeyMaterial,
}

/// A JSON Web Key Set: the usable signature keys (RSA and EC P-256/P-384).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jwks {
    /// The usable keys.
    pub keys: Vec<Jwk>,
}

fn strip_leading_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let n = v.iter().take_while(|&&b| b == 0).count();
    v.drain(..n.min(v.len().saturating_sub(1)));
    v
}

impl Jwks {
    /// Parses a JWKS document (`{"keys": [...]}`). Keys that cannot sign with an allowed
    /// algorithm (`oct`, `OKP`, encryption keys, unknown curves) are skipped; a
    /// malformed supported key is an error.
    pub fn parse(json: &str) -> Result<Self, JwtError> {
        let v: Value = serde_json::from_str(json).map_err(|e| JwtError::Jwks(e.to_string()))?;
        let keys = v
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| JwtError::Jwks("expected an object with a \"keys\" array".into()))?;
        let mut out = Vec::new();
        for k in keys {
            let obj = k
                .as_object()
                .ok_or_else(|| JwtError::Jwks("a key is not an object".into()))?;
            let s = |name: &str| obj.get(name).and_then(Value::as_str);
            if let Some(u) = s("use") {
                if u != "sig" {
                    continue;
                }
            }
            let b64 = |name: &str| -> Result<Vec<u8>, JwtError> {
                base64url_decode(
                    s(name).ok_or_else(|| JwtError::Jwks(format!("key lacks '{name}'")))?,
                )
                .map_err(|_| JwtError::Jwks(format!("'{name}' is not base64url")))
            };
            let material = match s("kty") {
                Some("RSA") => KeyMaterial::Rsa {
                    n: strip_leading_zeros(b64("n")?),
                    e: strip_leading_zeros(b64("e")?),
                },
                Some("EC") => {
                    let (curve, len) = match s("crv") {
                        Some("P-256") => ("P-256", 32),
                        Some("P-384") => ("P-384", 48),
                        _ => continue,
                    };
                    let (x, y) = (b64("x")?, b64("y")?);
                    if x.len() != len || y.len() != len {
                        return Err(JwtError::Jwks(
                            "EC coordinates have the wrong length".into(),
                        ));
                    }
                    let mut point = vec![4u8];
                    point.extend_from_slice(&x);
                    point.extend_from_slice(&y);
                    KeyMaterial::Ec { curve, point }
                }
                _ => continue,
            };
            out.push(Jwk {
                kid: s("kid").map(str::to_string),
                alg: s("alg").map(str::to_string),
                material,
            });
        }
        Ok(Jwks { keys: out })
    }

    fn verify(
        &self,
        alg: Alg,
        kid: Option<&str>,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), JwtError> {
        let mut candidates = 0;
        for key in &self.keys {
            if let (Some(want), Some(have)) = (kid, key.kid.as_deref()) {
                if want != have {
                    continue;
                }
            } else if kid.is_some() && key.kid.is_none() {
                // A token naming a key id only matches keys with that id.
                continue;
            }
            if let Some(pinned) = &key.alg {
                if pinned != alg.name() {
                    continue;
                }
            }
            let ok = match (&key.material, alg) {
                (
                    KeyMaterial::Rsa { n, e },
                    Alg::Rs256 | Alg::Rs384 | Alg::Rs512 | Alg::Ps256 | Alg::Ps384 | Alg::Ps512,
                ) => {
                    let params: &signature::RsaParameters = match alg {
                        Alg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                        Alg::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                        Alg::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                        Alg::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
                        Alg::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
                        _ => &signature::RSA_PSS_2048_8192_SHA512,
                    };
                    candidates += 1;
                    RsaPublicKeyComponents {
                        n: n.as_slice(),
                        e: e.as_slice(),
                    }
                    .verify(params, message, sig)
                    .is_ok()
                }
                (
                    KeyMaterial::Ec {
                        curve: "P-256",
                        point,
                    },
                    Alg::Es256,
                ) => {
                    candidates += 1;
                    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                        .verify(message, sig)
                        .is_ok()
                }
                (
                    KeyMaterial::Ec {
                        curve: "P-384",
                        point,
                    },
                    Alg::Es384,
                ) => {
                    candidates += 1;
                    UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                        .verify(message, sig)
                        .is_ok()
                }
                _ => false,
            };
            if ok {
                return Ok(());
            }
        }
        if candidates == 0 {
            Err(JwtError::NoMatchingKey(kid.map(str::to_string)))
        } else {
            Err(JwtError::BadSignature)
        }
    }
}

/// A token split and decoded but not yet verified.
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    /// The algorithm named in the header (already allow-listed).
    pub alg: Alg,
    /// `kid` from the header.
    pub kid: Option<String>,
    /// The claims.
    pub claims: Map<String, Value>,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

impl UnverifiedToken {
    /// The `iss` claim.
    pub fn issuer(&self) -> Result<&str, JwtError> {
        self.claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(JwtError::Claim("iss"))
    }
}

/// Splits and decodes a token; checks shape and the algorithm allow-list only.
pub fn decode(token: &str) -> Result<UnverifiedToken, JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed("token too long".into()));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(JwtError::Malformed(format!(
            "expected 3 dot-separated parts, found {}",
            parts.len()
        )));
    }
    if parts.iter().any(|p| p.is_empty()) {
        return Err(JwtError::Malformed(
            "empty part (unsigned tokens are refused)".into(),
        ));
    }
    let obj = |part: &str, what: &str| -> Result<Map<String, Value>, JwtError> {
        let raw = base64url_decode(part)
            .map_err(|_| JwtError::Malformed(format!("{what} is not base64url")))?;
        match serde_json::from_slice::<Value>(&raw) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(JwtError::Malformed(format!("{what} is not a JSON object"))),
        }
    };
    let header = obj(parts[0], "header")?;
    let alg = Alg::parse(
        header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| JwtError::Malformed("header lacks 'alg'".into()))?,
    )?;
    if header.contains_key("crit") {
        return Err(JwtError::Malformed(
            "critical header parameters are not supported".into(),
        ));
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(JwtError::Malformed("'kid' is not a string".into())),
    };
    let claims = obj(parts[1], "payload")?;
    let signature = base64url_decode(parts[2])
        .map_err(|_| JwtError::Malformed("signature is not base64url".into()))?;
    Ok(UnverifiedToken {
        alg,
        kid,
        claims,
        signing_input: format!("{}.{}", parts[0], parts[1]).into_bytes(),
        signature,
    })
}

/// A token whose signature and time claims were verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `aud` (a string or a list in the token).
    pub audiences: Vec<String>,
    /// `azp`, if any.
    pub authorized_party: Option<String>,
    /// `exp`.
    pub expires_at: i64,
    /// All claims.
    pub claims: Map<String, Value>,
}

fn int_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or(JwtError::Claim(name)),
    }
}

/// Verifies the signature with `jwks`, then `exp` (required), `nbf`, `iat`, and the
/// presence of `iss`, `sub`, `aud`.
pub fn verify(token: &UnverifiedToken, jwks: &Jwks, now: i64) -> Result<VerifiedToken, JwtError> {
    jwks.verify(
        token.alg,
        token.kid.as_deref(),
        &token.signing_input,
        &token.signature,
    )?;
    let c = &token.claims;
    let exp = int_claim(c, "exp")?.ok_or(JwtError::Claim("exp"))?;
    if now >= exp {
        return Err(JwtError::Expired { now, exp });
    }
    if let Some(nbf) = int_claim(c, "nbf")? {
        if nbf > now + LEEWAY_SECS {
            return Err(JwtError::NotYetValid);
        }
    }
    if let Some(iat) = int_claim(c, "iat")? {
        if iat > now + LEEWAY_SECS {
            return Err(JwtError::NotYetValid);
        }
    }
    let issuer = token.issuer()?.to_string();
    let subject = c
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(JwtError::Claim("sub"))?
        .to_string();
    let audiences = match c.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or(JwtError::Claim("aud")))
            .collect::<Result<_, _>>()?,
        _ => return Err(JwtError::Claim("aud")),
    };
    let authorized_party = match c.get("azp") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(JwtError::Claim("azp")),
    };
    Ok(VerifiedToken {
        issuer,
        subject,
        audiences,
        authorized_party,
        expires_at: exp,
        claims: c.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::base64url_encode;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

    fn es256_pair() -> (EcdsaKeyPair, String) {
        let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let pk = kp.public_key().as_ref().to_vec();
        let jwks = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
            "x": base64url_encode(&pk[1..33]), "y": base64url_encode(&pk[33..65])}]});
        (kp, jwks.to_string())
    }

    fn sign_es256(kp: &EcdsaKeyPair, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            base64url_encode(header.to_string().as_bytes()),
            base64url_encode(claims.to_string().as_bytes())
        );
        let sig = kp.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", base64url_encode(sig.as_ref()))
    }

    #[test]
    fn es256_accept_and_reject() {
        let (kp, jwks) = es256_pair();
        let jwks = Jwks::parse(&jwks).unwrap();
        let now = 1_700_000_000;
        let claims = serde_json::json!({"iss": "https://issuer", "sub": "system:serviceaccount:ns:sa", "aud": "sts.amazonaws.com", "exp": now + 600, "iat": now});
        let t = sign_es256(
            &kp,
            &serde_json::json!({"alg": "ES256", "kid": "k1"}),
            &claims,
        );
        let v = verify(&decode(&t).unwrap(), &jwks, now).unwrap();
        assert_eq!(v.subject, "system:serviceaccount:ns:sa");
        assert_eq!(v.audiences, vec!["sts.amazonaws.com".to_string()]);
        // Expired.
        assert!(matches!(
            verify(&decode(&t).unwrap(), &jwks, now + 600),
            Err(JwtError::Expired { .. })
        ));
        // Unknown kid.
        let t2 = sign_es256(
            &kp,
            &serde_json::json!({"alg": "ES256", "kid": "other"}),
            &claims,
        );
        assert!(matches!(
            verify(&decode(&t2).unwrap(), &jwks, now),
            Err(JwtError::NoMatchingKey(_))
        ));
        // Tampered payload.
        let parts: Vec<&str> = t.split('.').collect();
        let forged_claims = serde_json::json!({"iss": "https://issuer", "sub": "system:serviceaccount:ns:admin", "aud": "sts.amazonaws.com", "exp": now + 600});
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            base64url_encode(forged_claims.to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(
            verify(&decode(&forged).unwrap(), &jwks, now),
            Err(JwtError::BadSignature)
        );
        // alg none and HMAC are refused before any key is looked at.
        for alg in ["none", "HS256", "HS512", "EdDSA", "ES512", "RS1"] {
            let h = base64url_encode(serde_json::json!({"alg": alg}).to_string().as_bytes());
            let tok = format!("{h}.{}.c2ln", parts[1]);
            assert!(
                matches!(decode(&tok), Err(JwtError::ForbiddenAlgorithm(_))),
                "{alg}"
            );
        }
        let unsigned = format!("{}.{}.", base64url_encode(br#"{"alg":"none"}"#), parts[1]);
        assert!(decode(&unsigned).is_err());
    }

    #[test]
    fn malformed_tokens() {
        for t in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "!!.b.c",
            "e30.e30.c2ln",
            "W10.e30.c2ln",
            "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln",
        ] {
            assert!(decode(t).is_err(), "{t}");
        }
        assert!(decode(&"a".repeat(MAX_TOKEN_LEN + 1)).is_err());
    }

    #[test]
    fn jwks_parsing() {
        assert!(Jwks::parse("{}").is_err());
        assert!(Jwks::parse("not json").is_err());
        let j = Jwks::parse(
            r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"OKP","crv":"Ed25519","x":"AA"}]}"#,
        )
        .unwrap();
        assert!(j.keys.is_empty());
        assert!(Jwks::parse(r#"{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}"#).is_err());
        assert!(Jwks::parse(r#"{"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]}"#).is_err());
    }
}
