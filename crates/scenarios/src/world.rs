//! The cucumber World: the state of one scenario.

use crate::steps::Hidden;
use crate::Keys;

/// State of one scenario.
#[derive(Debug, Default, cucumber::World)]
pub struct World {
    /// The LocalStack endpoint.
    pub endpoint: String,
    /// The scenario's own account.
    pub account: String,
    /// The region used for every call.
    pub region: String,
    /// The value written to a secret, to compare with what is read back.
    pub written_value: Option<String>,
    /// The last AWS error code seen.
    pub last_error_code: Option<String>,
    /// The IAM-enforcing gateway's endpoint, for scenarios that go through it.
    pub gateway_endpoint: String,
    /// Secrets created by the scenario: name and the value written (never printed).
    pub secrets: Vec<(String, Hidden)>,
    /// The access under test, as a `sma generate` configuration.
    pub access_config: Option<String>,
    /// The files sma generated for the access.
    pub generated_files: Vec<templates::render::GeneratedFile>,
    /// The outputs of the stack deployed from the generated CloudFormation.
    pub stack_outputs: Vec<(String, String)>,
    /// Customer-managed KMS keys the scenario created: its name for the key, key ARN.
    pub kms_keys: Vec<(String, String)>,
    /// A secret of another account (its full ARN).
    pub foreign_secret_arn: Option<String>,
    /// The IAM user name of the access.
    pub user_name: Option<String>,
    /// The access's own credentials.
    pub access_keys: Option<Keys>,
    /// `sma prove`: the proof of the access this scenario is about.
    pub proof: Option<report::proof::AccessProof>,
    /// `sma prove`: the configuration file and templates directory of the feature.
    pub prove_sources: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// `sma prove`: ESO's provider for the access, authenticated from its manifests.
    pub eso: Option<eso::Provider>,
}
