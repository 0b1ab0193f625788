//! Loading the templates (embedded, optionally overridden from a directory) and
//! rendering a plan into files held in memory.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use model::Plan;
use serde::Serialize;
use tera::{Tera, Value};

use crate::context::{
    AccessContext, IndexContext, CLOUDFORMATION_FILE, CREDENTIALS_SECRET_FILE,
    EXTERNAL_SECRET_FILE, POLICY_FILE, README_FILE, SECRET_STORE_FILE, SERVICE_ACCOUNT_FILE,
};

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template override directory could not be read.
    #[error("cannot read template {path}: {source}. Fix: check --templates points at a directory of readable .tera files")]
    ReadOverride {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The override directory has a file that is not one of our templates.
    #[error("{path} is not a template sma uses. Fix: name overrides like the embedded templates: {known}")]
    UnknownOverride {
        /// The file.
        path: PathBuf,
        /// The known template names.
        known: String,
    },
    /// A template failed to parse or render.
    #[error("template {template}: {message}")]
    Template {
        /// Template name.
        template: String,
        /// Tera's message with its causes.
        message: String,
    },
    /// A template produced text that is not valid in its format.
    #[error("template {template} produced invalid {format} for {file}: {message}. Fix: correct the template (every value must go through the `json` or `yaml_str` filter)")]
    InvalidOutput {
        /// Template name.
        template: String,
        /// Output file.
        file: String,
        /// `JSON` or `YAML`.
        format: &'static str,
        /// Parser message.
        message: String,
    },
}

/// What a generated file is, for tools that post-process (cfn-lint, schema checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArtifactKind {
    /// An IAM identity policy (JSON).
    IamPolicy,
    /// A CloudFormation template (YAML).
    CloudFormation,
    /// A Kubernetes manifest (YAML).
    KubernetesManifest,
    /// Documentation (Markdown).
    Readme,
    /// Evidence `sma prove` writes beside the templates: its Gherkin features and the
    /// copy of the configuration they prove.
    Evidence,
}

/// One generated file, held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the output directory (`staging-secrets/iam-policy.json`).
    pub path: PathBuf,
    /// What it is.
    pub kind: ArtifactKind,
    /// The text.
    pub contents: String,
}

/// The embedded templates: (name, text). Names are paths under `templates/`.
pub const EMBEDDED_TEMPLATES: &[(&str, &str)] = &[
    (
        "iam-policy.json.tera",
        include_str!("../../../templates/iam-policy.json.tera"),
    ),
    (
        "cloudformation/irsa-role.yaml.tera",
        include_str!("../../../templates/cloudformation/irsa-role.yaml.tera"),
    ),
    (
        "cloudformation/static-user.yaml.tera",
        include_str!("../../../templates/cloudformation/static-user.yaml.tera"),
    ),
    (
        "eso/service-account.yaml.tera",
        include_str!("../../../templates/eso/service-account.yaml.tera"),
    ),
    (
        "eso/secret-store.yaml.tera",
        include_str!("../../../templates/eso/secret-store.yaml.tera"),
    ),
    (
        "eso/credentials-secret.skeleton.yaml.tera",
        include_str!("../../../templates/eso/credentials-secret.skeleton.yaml.tera"),
    ),
    (
        "eso/external-secret.yaml.tera",
        include_str!("../../../templates/eso/external-secret.yaml.tera"),
    ),
    (
        "access-readme.md.tera",
        include_str!("../../../templates/access-readme.md.tera"),
    ),
    (
        "index.md.tera",
        include_str!("../../../templates/index.md.tera"),
    ),
];

/// A set of templates ready to render.
pub struct Templates {
    tera: Tera,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

fn tera_message(error: &tera::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `json` filter: the value as compact JSON (a string becomes a quoted, escaped JSON
/// string, which is also a valid double-quoted YAML scalar).
fn json_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    serde_json::to_string(value)
        .map(Value::String)
        .map_err(|e| tera::Error::msg(format!("json filter: {e}")))
}

/// `yaml_str` filter: a string as a double-quoted YAML scalar with every special
/// character escaped; anything else is an error (so a template cannot emit a bare
/// structure where a scalar is expected).
fn yaml_str_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    match value {
        Value::String(text) => Ok(Value::String(yaml_quote(text))),
        other => Err(tera::Error::msg(format!(
            "yaml_str filter expects a string, got {other}"
        ))),
    }
}

/// `comment` filter: a string for a `#` comment line or Markdown text; a string with a
/// line break or control character is an error (it could end the comment).
fn comment_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    match value {
        Value::String(text)
            if !text
                .chars()
                .any(|c| c.is_control() || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')) =>
        {
            Ok(Value::String(text.clone()))
        }
        other => Err(tera::Error::msg(format!(
            "comment filter expects a single-line string, got {other}"
        ))),
    }
}

/// Quotes `text` as a YAML double-quoted scalar. JSON string escaping is a subset of
/// YAML's double-quoted escapes; we additionally escape the characters YAML treats as
/// line breaks (NEL, LS, PS) and other non-printables.
pub fn yaml_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Templates {
    /// The templates embedded in the binary.
    pub fn embedded() -> Result<Self, RenderError> {
        Self::from_sources(
            EMBEDDED_TEMPLATES
                .iter()
                .map(|(name, text)| (name.to_string(), text.to_string()))
                .collect(),
        )
    }

    /// The embedded templates, each replaced by the file of the same relative path in
    /// `dir` when there is one (`dir/eso/secret-store.yaml.tera` …). Any other file
    /// ending in `.tera` in `dir` is an error, so a misspelt override is never ignored.
    pub fn with_overrides(dir: &Path) -> Result<Self, RenderError> {
        let mut sources: BTreeMap<String, String> = EMBEDDED_TEMPLATES
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        let mut found = Vec::new();
        collect_tera_files(dir, dir, &mut found)?;
        for (name, path) in found {
            if !sources.contains_key(&name) {
                return Err(RenderError::UnknownOverride {
                    path,
                    known: EMBEDDED_TEMPLATES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|source| RenderError::ReadOverride { path, source })?;
            sources.insert(name, text);
        }
        Self::from_sources(sources.into_iter().collect())
    }

    fn from_sources(sources: Vec<(String, String)>) -> Result<Self, RenderError> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![]);
        tera.register_filter("json", json_filter);
        tera.register_filter("yaml_str", yaml_str_filter);
        tera.register_filter("comment", comment_filter);
        for (name, text) in &sources {
            tera.add_raw_template(name, text)
                .map_err(|e| RenderError::Template {
                    template: name.clone(),
                    message: tera_message(&e),
                })?;
        }
        Ok(Self { tera })
    }

    fn render(&self, template: &str, context: &impl Serialize) -> Result<String, RenderError> {
        let context =
            tera::Context::from_serialize(context).map_err(|e| RenderError::Template {
                template: template.to_owned(),
                message: tera_message(&e),
            })?;
        self.tera
            .render(template, &context)
            .map_err(|e| RenderError::Template {
                template: template.to_owned(),
                message: tera_message(&e),
            })
    }
}

fn collect_tera_files(
    root: &Path,
    dir: &Path,
    found: &mut Vec<(String, PathBuf)>,
) -> Result<(), RenderError> {
    let entries = std::fs::read_dir(dir).map_err(|source| RenderError::ReadOverride {
        path: dir.to_owned(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| RenderError::ReadOverride {
            path: dir.to_owned(),
            source,
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_tera_files(root, &path, found)?;
        } else if path.extension().is_some_and(|e| e == "tera") {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            found.push((name, path));
        }
    }
    Ok(())
}

/// Checks that rendered text parses in its format.
fn check_output(template: &str, file: &str, text: &str) -> Result<(), RenderError> {
    let invalid = |format, message: String| RenderError::InvalidOutput {
        template: template.to_owned(),
        file: file.to_owned(),
        format,
        message,
    };
    if file.ends_with(".json") {
        serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| invalid("JSON", e.to_string()))?;
    } else if file.ends_with(".yaml") {
        let value = serde_norway::from_str::<serde_norway::Value>(text)
            .map_err(|e| invalid("YAML", e.to_string()))?;
        if !value.is_mapping() {
            return Err(invalid("YAML", "the document is not a mapping".to_owned()));
        }
    }
    Ok(())
}

/// Renders every file of `plan`: one directory per access plus a top-level `README.md`.
/// Files are returned sorted by path.
pub fn render_plan(plan: &Plan, templates: &Templates) -> Result<Vec<GeneratedFile>, RenderError> {
    let mut files = Vec::new();
    let mut contexts = Vec::new();
    for access in &plan.accesses {
        let context = AccessContext::new(plan, access);
        let cloudformation_template = if context.irsa {
            "cloudformation/irsa-role.yaml.tera"
        } else {
            "cloudformation/static-user.yaml.tera"
        };
        let mut outputs = vec![
            ("iam-policy.json.tera", POLICY_FILE, ArtifactKind::IamPolicy),
            (
                cloudformation_template,
                CLOUDFORMATION_FILE,
                ArtifactKind::CloudFormation,
            ),
            (
                "eso/secret-store.yaml.tera",
                SECRET_STORE_FILE,
                ArtifactKind::KubernetesManifest,
            ),
            (
                "eso/external-secret.yaml.tera",
                EXTERNAL_SECRET_FILE,
                ArtifactKind::KubernetesManifest,
            ),
            ("access-readme.md.tera", README_FILE, ArtifactKind::Readme),
        ];
        if context.irsa {
            outputs.push((
                "eso/service-account.yaml.tera",
                SERVICE_ACCOUNT_FILE,
                ArtifactKind::KubernetesManifest,
            ));
        } else {
            outputs.push((
                "eso/credentials-secret.skeleton.yaml.tera",
                CREDENTIALS_SECRET_FILE,
                ArtifactKind::KubernetesManifest,
            ));
        }
        for (template, file, kind) in outputs {
            let contents = templates.render(template, &context)?;
            let path = format!("{}/{file}", context.name);
            check_output(template, &path, &contents)?;
            files.push(GeneratedFile {
                path: PathBuf::from(path),
                kind,
                contents,
            });
        }
        contexts.push(context);
    }
    let index = IndexContext {
        cluster: crate::context::ClusterContext::new(plan),
        accesses: contexts,
    };
    files.push(GeneratedFile {
        path: PathBuf::from(README_FILE),
        kind: ArtifactKind::Readme,
        contents: templates.render("index.md.tera", &index)?,
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_quote_escapes_everything_dangerous() {
        let nasty = "a\"b\\c\nd: e\u{2028}{{ x }}\u{0}";
        let quoted = yaml_quote(nasty);
        let parsed: String = serde_norway::from_str(&quoted).unwrap();
        assert_eq!(parsed, nasty);
        assert!(!quoted.contains('\n'));
    }
}
