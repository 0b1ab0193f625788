//! Every generated ESO manifest validates against the `openAPIV3Schema` of the served
//! `v1` version of ESO's CRDs (vendored in `tests/eso-crds/`, see its README), and the
//! validator is shown to reject broken manifests.
//!
//! The validator is a small structural OpenAPI v3 checker, written for the keywords
//! these CRDs use. It fails closed: an unknown schema keyword, or a CEL rule
//! (`x-kubernetes-validations`) on a node the manifest reaches, is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;
use sha2::{Digest, Sha256};

const CRD_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/eso-crds");

/// The schema of one served CRD version.
struct CrdVersion {
    kind: String,
    namespaced: bool,
    schema: Value,
}

/// The CRDs by `apiVersion` and `kind`.
struct Crds {
    versions: BTreeMap<(String, String), CrdVersion>,
}

fn check_provenance() {
    let provenance = std::fs::read_to_string(Path::new(CRD_DIR).join("PROVENANCE.txt")).unwrap();
    let mut checked = 0;
    for line in provenance.lines() {
        let mut parts = line.split_whitespace();
        let (Some(sum), Some(file), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if sum.len() != 64 {
            continue;
        }
        let bytes = std::fs::read(Path::new(CRD_DIR).join(file)).unwrap();
        let actual: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            actual, sum,
            "{file} differs from the vendored upstream file"
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "PROVENANCE.txt should list the three CRDs");
}

fn load_crds() -> Crds {
    check_provenance();
    let mut versions = BTreeMap::new();
    for file in [
        "external-secrets.io_secretstores.yaml",
        "external-secrets.io_clustersecretstores.yaml",
        "external-secrets.io_externalsecrets.yaml",
    ] {
        let text = std::fs::read_to_string(Path::new(CRD_DIR).join(file)).unwrap();
        let crd: Value = serde_norway::from_str(&text).unwrap();
        let group = crd["spec"]["group"].as_str().unwrap();
        let kind = crd["spec"]["names"]["kind"].as_str().unwrap().to_owned();
        let namespaced = crd["spec"]["scope"] == "Namespaced";
        for version in crd["spec"]["versions"].as_array().unwrap() {
            if version["served"] != true {
                continue;
            }
            let api_version = format!("{group}/{}", version["name"].as_str().unwrap());
            versions.insert(
                (api_version, kind.clone()),
                CrdVersion {
                    kind: kind.clone(),
                    namespaced,
                    schema: version["schema"]["openAPIV3Schema"].clone(),
                },
            );
        }
    }
    Crds { versions }
}

const IGNORED_KEYWORDS: &[&str] = &[
    "description",
    "default",
    "example",
    "format",
    "x-kubernetes-map-type",
    "title",
];
const CHECKED_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "nullable",
    "anyOf",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-list-type",
    "x-kubernetes-validations",
];

struct Validator {
    regexes: BTreeMap<String, Regex>,
    errors: Vec<String>,
}

impl Validator {
    fn new() -> Self {
        Self {
            regexes: BTreeMap::new(),
            errors: Vec::new(),
        }
    }

    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(format!("{path}: {}", message.into()));
    }

    fn regex(&mut self, pattern: &str) -> Regex {
        self.regexes
            .entry(pattern.to_owned())
            .or_insert_with(|| Regex::new(pattern).expect("CRD pattern compiles"))
            .clone()
    }

    fn validate(&mut self, schema: &Value, value: &Value, path: &str) {
        let schema = schema.as_object().expect("schema is an object");
        for keyword in schema.keys() {
            if !IGNORED_KEYWORDS.contains(&keyword.as_str())
                && !CHECKED_KEYWORDS.contains(&keyword.as_str())
            {
                self.error(
                    path,
                    format!("schema keyword `{keyword}` is not supported by this validator"),
                );
            }
        }
        if let Some(rules) = schema.get("x-kubernetes-validations") {
            self.error(
                path,
                format!("CEL rules are not evaluated here; check by hand: {rules}"),
            );
        }
        if value.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
            return;
        }
        if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
            if !(value.is_string() || value.is_i64() || value.is_u64()) {
                self.error(
                    path,
                    format!("expected an integer or a string, got {value}"),
                );
            }
            return;
        }
        if let Some(any_of) = schema.get("anyOf").and_then(Value::as_array) {
            let passes = any_of.iter().any(|sub| {
                let mut probe = Validator::new();
                probe.validate(sub, value, path);
                probe.errors.is_empty()
            });
            if !passes {
                self.error(path, format!("{value} matches none of anyOf"));
            }
        }
        if let Some(kind) = schema.get("type").and_then(Value::as_str) {
            let ok = match kind {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                other => {
                    self.error(path, format!("unsupported type `{other}`"));
                    return;
                }
            };
            if !ok {
                self.error(path, format!("expected {kind}, got {value}"));
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                self.error(
                    path,
                    format!("{value} is not one of {}", Value::Array(allowed.clone())),
                );
            }
        }
        if let Some(text) = value.as_str() {
            let length = text.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
                if length < min {
                    self.error(path, format!("shorter than {min}"));
                }
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
                if length > max {
                    self.error(path, format!("longer than {max}"));
                }
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
                if !self.regex(pattern).is_match(text) {
                    self.error(path, format!("{text:?} does not match {pattern}"));
                }
            }
        }
        if let Some(number) = value.as_f64() {
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
                if number < min {
                    self.error(path, format!("below the minimum {min}"));
                }
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
                if number > max {
                    self.error(path, format!("above the maximum {max}"));
                }
            }
        }
        if let Some(items) = value.as_array() {
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
                if (items.len() as u64) < min {
                    self.error(path, format!("fewer than {min} items"));
                }
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
                if items.len() as u64 > max {
                    self.error(path, format!("more than {max} items"));
                }
            }
            match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
                None | Some("atomic") => {}
                Some("set") => {
                    for (i, item) in items.iter().enumerate() {
                        if items[..i].contains(item) {
                            self.error(path, format!("duplicate item {item} in a set"));
                        }
                    }
                }
                Some(other) => self.error(path, format!("list type `{other}` is not supported")),
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.validate(item_schema, item, &format!("{path}[{i}]"));
                }
            }
        }
        if let Some(object) = value.as_object() {
            let count = object.len() as u64;
            if let Some(min) = schema.get("minProperties").and_then(Value::as_u64) {
                if count < min {
                    self.error(path, format!("fewer than {min} properties"));
                }
            }
            if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64) {
                if count > max {
                    self.error(path, format!("more than {max} properties"));
                }
            }
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let required = required.as_str().unwrap();
                if !object.contains_key(required) {
                    self.error(path, format!("required field `{required}` is missing"));
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            let preserve =
                schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
            for (key, child) in object {
                let child_path = format!("{path}.{key}");
                if let Some(child_schema) = properties.and_then(|p| p.get(key)) {
                    self.validate(child_schema, child, &child_path);
                } else {
                    match schema.get("additionalProperties") {
                        Some(Value::Bool(true)) => {}
                        Some(Value::Object(_)) => {
                            let additional = schema["additionalProperties"].clone();
                            self.validate(&additional, child, &child_path);
                        }
                        _ if preserve => {}
                        // kubectl's default strict field validation rejects unknown fields.
                        _ => self.error(&child_path, "unknown field"),
                    }
                }
            }
        }
    }
}

fn is_dns_label(value: &str) -> bool {
    Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
        .unwrap()
        .is_match(value)
        && value.len() <= 63
}

fn is_dns_subdomain(value: &str) -> bool {
    value.len() <= 253 && value.split('.').all(is_dns_label)
}

/// Validates one manifest: ESO kinds against their CRD, core kinds against the few
/// rules that matter here. Returns every error.
fn validate_manifest(crds: &Crds, manifest: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let api_version = manifest["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let kind = manifest["kind"].as_str().unwrap_or_default().to_owned();
    let metadata = &manifest["metadata"];
    let name = metadata["name"].as_str().unwrap_or_default();
    if !is_dns_subdomain(name) {
        errors.push(format!(
            "metadata.name {name:?} is not a DNS-1123 subdomain"
        ));
    }
    let namespace = metadata.get("namespace").and_then(Value::as_str);
    if let Some(ns) = namespace {
        if !is_dns_label(ns) {
            errors.push(format!("metadata.namespace {ns:?} is not a DNS-1123 label"));
        }
    }
    if let Some(annotations) = metadata.get("annotations") {
        if !annotations
            .as_object()
            .is_some_and(|a| a.values().all(Value::is_string))
        {
            errors.push("metadata.annotations must map strings to strings".to_owned());
        }
    }
    match (api_version.as_str(), kind.as_str()) {
        ("v1", "ServiceAccount") => {
            if namespace.is_none() {
                errors.push("a ServiceAccount needs metadata.namespace".to_owned());
            }
        }
        ("v1", "Secret") => {
            if namespace.is_none() {
                errors.push("a Secret needs metadata.namespace".to_owned());
            }
            let key = Regex::new(r"^[-._a-zA-Z0-9]+$").unwrap();
            for field in ["data", "stringData"] {
                if let Some(map) = manifest.get(field) {
                    match map.as_object() {
                        Some(map) => {
                            for (k, v) in map {
                                if !key.is_match(k) || !v.is_string() {
                                    errors.push(format!("{field}.{k} is not a valid Secret entry"));
                                }
                            }
                        }
                        None => errors.push(format!("{field} must be a map")),
                    }
                }
            }
        }
        _ => match crds.versions.get(&(api_version.clone(), kind.clone())) {
            None => errors.push(format!("no served CRD version for {api_version} {kind}")),
            Some(crd) => {
                if crd.namespaced != namespace.is_some() {
                    errors.push(format!(
                        "{} is {}: metadata.namespace must be {}",
                        crd.kind,
                        if crd.namespaced {
                            "namespaced"
                        } else {
                            "cluster-scoped"
                        },
                        if crd.namespaced { "set" } else { "absent" }
                    ));
                }
                let mut validator = Validator::new();
                // metadata is validated above, as the API server does it.
                let mut body = manifest.clone();
                body["metadata"] = Value::Object(Default::default());
                validator.validate(&crd.schema, &body, &kind);
                errors.extend(validator.errors);
            }
        },
    }
    errors
}

fn manifest(yaml: &str) -> Value {
    serde_norway::from_str(yaml).expect("manifest is YAML")
}

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn generated_manifests(config: &str) -> Vec<(PathBuf, Value)> {
    let plan = model::parse(config).expect("valid configuration");
    let templates = templates::Templates::embedded().unwrap();
    templates::render_plan(&plan, &templates)
        .unwrap()
        .into_iter()
        .filter(|f| f.kind == templates::ArtifactKind::KubernetesManifest)
        .map(|f| (f.path, manifest(&f.contents)))
        .collect()
}

/// Configurations covering every store kind × auth combination.
fn matrix_configs() -> Vec<String> {
    let mut configs = Vec::new();
    for store_kind in ["SecretStore", "ClusterSecretStore"] {
        for allowed in ["", ", allowed_namespaces: [team-a, team-b]"] {
            if store_kind == "SecretStore" && !allowed.is_empty() {
                continue;
            }
            configs.push(format!(
                r#"
cluster: {{name: c1, cloud: aws, account_id: "123456789012", region: eu-west-3, oidc_issuer: "oidc.eks.eu-west-3.amazonaws.com/id/ABC"}}
accesses:
  - name: irsa
    setup: role-arn
    secrets: {{prefixes: [app/]}}
    eso: {{store_kind: {store_kind}, namespace: eso, service_account: eso-sa{allowed}}}
  - name: static
    setup: static-credentials
    region: us-east-1
    eso: {{store_kind: {store_kind}, namespace: eso{allowed}}}
"#
            ));
        }
    }
    configs.push(
        r#"
cluster: {name: g1, cloud: gcp, project_id: my-project-1}
accesses:
  - {name: cross, setup: static-credentials, account_id: "123456789012", region: eu-west-1}
"#
        .to_owned(),
    );
    configs
}

#[test]
fn every_generated_eso_manifest_validates_against_the_crds() {
    let crds = load_crds();
    let mut checked = 0;
    let mut eso_checked = 0;
    let mut failures = Vec::new();
    let mut sources: Vec<(String, String)> = matrix_configs()
        .into_iter()
        .enumerate()
        .map(|(i, c)| (format!("matrix[{i}]"), c))
        .collect();
    for config in templates::examples::example_configs(&examples_dir()).unwrap() {
        sources.push((
            config.display().to_string(),
            std::fs::read_to_string(&config).unwrap(),
        ));
    }
    for (source, config) in sources {
        for (path, manifest) in generated_manifests(&config) {
            let errors = validate_manifest(&crds, &manifest);
            checked += 1;
            if manifest["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("external-secrets.io/"))
            {
                eso_checked += 1;
            }
            if !errors.is_empty() {
                failures.push(format!(
                    "{source} {}:\n    {}",
                    path.display(),
                    errors.join("\n    ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "invalid manifests:\n{}",
        failures.join("\n")
    );
    assert!(
        eso_checked >= 20,
        "only {eso_checked} ESO manifests checked (of {checked})"
    );
}

#[test]
fn checked_in_golden_manifests_validate_too() {
    let crds = load_crds();
    let mut count = 0;
    for config in templates::examples::example_configs(&examples_dir()).unwrap() {
        let out = templates::examples::output_dir_for(&config);
        for access in std::fs::read_dir(&out).unwrap() {
            let eso = access.unwrap().path().join("eso");
            if !eso.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&eso).unwrap() {
                let file = file.unwrap().path();
                let errors =
                    validate_manifest(&crds, &manifest(&std::fs::read_to_string(&file).unwrap()));
                assert!(errors.is_empty(), "{}: {errors:?}", file.display());
                count += 1;
            }
        }
    }
    assert!(count >= 10, "only {count} golden manifests found");
}

const GOOD_STORE: &str = r#"
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: good}
spec:
  provider:
    aws:
      service: SecretsManager
      region: eu-west-3
      auth: {jwt: {serviceAccountRef: {name: external-secrets, namespace: external-secrets}}}
"#;

#[test]
fn the_validator_accepts_a_known_good_store() {
    let crds = load_crds();
    assert_eq!(
        validate_manifest(&crds, &manifest(GOOD_STORE)),
        Vec::<String>::new()
    );
}

#[test]
fn the_validator_rejects_broken_manifests() {
    let crds = load_crds();
    let cases: &[(&str, &str, &str)] = &[
        ("misspelt field", "region: eu-west-3", "regoin: eu-west-3"),
        (
            "unknown enum value",
            "service: SecretsManager",
            "service: SecretManager",
        ),
        ("missing required field", "      region: eu-west-3\n", ""),
        ("wrong type", "region: eu-west-3", "region: [eu-west-3]"),
        (
            "pattern violation",
            "name: external-secrets, namespace",
            "name: External_Secrets, namespace",
        ),
        (
            "namespace pattern violation",
            "namespace: external-secrets}",
            "namespace: External.Secrets}",
        ),
        (
            "namespace on a cluster-scoped store",
            "metadata: {name: good}",
            "metadata: {name: good, namespace: x}",
        ),
        (
            "served:false version",
            "external-secrets.io/v1",
            "external-secrets.io/v1beta1",
        ),
        (
            "unknown kind",
            "kind: ClusterSecretStore",
            "kind: ClusterSecretStores",
        ),
        (
            "bad object name",
            "metadata: {name: good}",
            "metadata: {name: Good}",
        ),
        ("unknown auth method", "auth: {jwt:", "auth: {oidc:"),
    ];
    for (what, from, to) in cases {
        assert!(GOOD_STORE.contains(from), "{what}: case does not apply");
        let broken = GOOD_STORE.replacen(from, to, 1);
        let errors = validate_manifest(&crds, &manifest(&broken));
        assert!(
            !errors.is_empty(),
            "{what}: the validator accepted\n{broken}"
        );
    }
    let external_secret = r#"
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: x, namespace: default}
spec:
  secretStoreRef: {kind: ClusterSecretStore, name: good}
  target: {name: x, creationPolicy: Owner}
  data:
    - secretKey: value
      remoteRef: {key: a}
"#;
    assert_eq!(
        validate_manifest(&crds, &manifest(external_secret)),
        Vec::<String>::new()
    );
    for (what, from, to) in [
        (
            "missing remoteRef.key",
            "remoteRef: {key: a}",
            "remoteRef: {property: a}",
        ),
        ("bad secretKey", "secretKey: value", "secretKey: \"va lue\""),
        ("bad store kind", "kind: ClusterSecretStore", "kind: Store"),
        (
            "bad creationPolicy",
            "creationPolicy: Owner",
            "creationPolicy: Mine",
        ),
        (
            "namespaced kind without namespace",
            "{name: x, namespace: default}",
            "{name: x}",
        ),
    ] {
        let broken = external_secret.replacen(from, to, 1);
        assert_ne!(broken, external_secret, "{what}: case does not apply");
        assert!(
            !validate_manifest(&crds, &manifest(&broken)).is_empty(),
            "{what}: accepted"
        );
    }
}

#[test]
fn the_validator_refuses_to_skip_cel_rules() {
    let crds = load_crds();
    let with_cel = GOOD_STORE.replace(
        "region: eu-west-3",
        "region: eu-west-3\n      customSessionTags: {team: a}",
    );
    let errors = validate_manifest(&crds, &manifest(&with_cel));
    assert!(errors.iter().any(|e| e.contains("CEL")), "{errors:?}");
}
