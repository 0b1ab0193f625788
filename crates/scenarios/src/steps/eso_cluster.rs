//! The Kubernetes side ESO sees, for the hand-written features and `sma prove` alike:
//! service-account tokens from a test issuer, and Secrets filled from the generated
//! skeletons with an access key (as the generated README tells a platform team to).

use super::Hidden;
use crate::oidc::TestIssuer;
use crate::Keys;

/// Kubernetes Secrets' values: (namespace, name, key) → value.
pub type KubeSecrets = Vec<((String, String, String), Hidden)>;

/// A cluster whose tokens come from `issuer` (for any service account the manifests
/// name) and whose Secrets are `kube_secrets`.
pub struct TestCluster<'a> {
    /// The cluster's OIDC issuer.
    pub issuer: &'a TestIssuer,
    /// The Secrets ESO may read credentials from.
    pub kube_secrets: &'a [((String, String, String), Hidden)],
}

impl eso::Cluster for TestCluster<'_> {
    fn token(&self, request: &eso::TokenRequest) -> Result<String, String> {
        let audiences: Vec<&str> = request.audiences.iter().map(String::as_str).collect();
        Ok(self.issuer.token_valid_for(
            &request.namespace,
            &request.service_account,
            &audiences,
            3600,
        ))
    }

    fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Option<String> {
        self.kube_secrets
            .iter()
            .find(|((n, s, k), _)| n == namespace && s == name && k == key)
            .map(|(_, v)| v.0.clone())
    }
}

/// The generated Secret skeletons filled with `key`: each skeleton key named for an
/// access key id or a secret access key gets that value.
pub fn kube_secrets_for_key(manifests: &eso::Manifests, key: &Keys) -> KubeSecrets {
    let mut filled = Vec::new();
    for secret in &manifests.secrets {
        for k in &secret.keys {
            let value = match k.as_str() {
                model::plan::ACCESS_KEY_ID_KEY => key.access_key_id.clone(),
                model::plan::SECRET_ACCESS_KEY_KEY => key.secret_access_key.clone(),
                _ => continue,
            };
            filled.push((
                (secret.namespace.clone(), secret.name.clone(), k.clone()),
                Hidden(value),
            ));
        }
    }
    filled
}

/// The ESO manifests among `files` (name, YAML text), in the order given.
pub fn manifests_of<'a>(
    files: impl IntoIterator<Item = (String, &'a str)>,
) -> Result<eso::Manifests, String> {
    let mut manifests = eso::Manifests::default();
    for (name, text) in files {
        manifests.add_yaml(&name, text).map_err(|e| e.to_string())?;
    }
    Ok(manifests)
}

/// ESO authenticating for the first ExternalSecret of `manifests` (the example one
/// `sma generate` writes) against `endpoint`, in a cluster of `issuer` and
/// `kube_secrets`.
pub async fn connect_first(
    endpoint: &str,
    manifests: &eso::Manifests,
    issuer: &TestIssuer,
    kube_secrets: &[((String, String, String), Hidden)],
) -> Result<eso::Provider, String> {
    let external_secret = manifests
        .external_secrets
        .first()
        .ok_or("the generated manifests have no ExternalSecret")?;
    let cluster = TestCluster {
        issuer,
        kube_secrets,
    };
    eso::Provider::connect(endpoint, manifests, external_secret, &cluster)
        .await
        .map_err(|e| e.to_string())
}
