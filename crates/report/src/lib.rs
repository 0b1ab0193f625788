//! Compliance reports of a scenario run, for reviewers: for every scenario (one access
//! of one setup, proven on LocalStack behind the IAM-enforcing gateway), whether it
//! passed and every authorization decision the gateway made for the access's
//! principals: who, what action, on which resource, allowed or denied, and which policy
//! statements decided. Rendered as JSON (for tools), Markdown and HTML (for people).
//!
//! Inputs are data, not this crate's types: scenario outcomes from the runner, and
//! decisions as the gateway's decision log writes them (JSON Lines; unknown fields are
//! ignored). Nothing here can print a secret: decisions carry no values or keys.

pub mod proof;

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One authorization decision of the gateway (a line of its decision log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// RFC 3339 time.
    pub time: String,
    /// The caller's ARN.
    pub principal: String,
    /// `service:Action`.
    pub action: String,
    /// Resource ARN or `*`.
    pub resource: String,
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny` or `AuthenticationFailed`.
    pub decision: String,
    /// The AWS error code answered, if denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Statements that decided.
    #[serde(default)]
    pub deciding_statements: Vec<String>,
    /// The denial message or the engine's reasons.
    #[serde(default)]
    pub reason: String,
}

impl Decision {
    /// Reads one decision-log line.
    pub fn from_json_line(line: &str) -> Result<Decision, serde_json::Error> {
        serde_json::from_str(line)
    }

    /// Whether the request was allowed.
    pub fn allowed(&self) -> bool {
        self.decision == "Allow"
    }

    /// Whether this decision concerns `account` on behalf of someone other than its
    /// root user (the root seeds the scenario's state; the access's own principals,
    /// including the web-identity provider for role assumptions, are what the report
    /// is about).
    pub fn is_for_access_of(&self, account: &str) -> bool {
        let in_account = |arn: &str| arn.split(':').nth(4) == Some(account);
        in_account(&self.principal) && !self.principal.ends_with(":root")
    }
}

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// Every step passed.
    Passed,
    /// A step or hook failed.
    Failed {
        /// What failed.
        reason: String,
    },
    /// A step had no definition or was skipped.
    Skipped,
}

/// One scenario and the decisions made for its access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// Feature name.
    pub feature: String,
    /// Scenario name.
    pub scenario: String,
    /// Tags of the feature and the scenario (`@role-arn`…), without `@`.
    pub tags: Vec<String>,
    /// The scenario's AWS account.
    pub account: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Decisions for the access's principals, in order.
    pub decisions: Vec<Decision>,
}

/// Counts over a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Scenarios.
    pub scenarios: usize,
    /// Passed scenarios.
    pub passed: usize,
    /// Failed scenarios.
    pub failed: usize,
    /// Skipped scenarios.
    pub skipped: usize,
    /// Allowed requests.
    pub allowed: usize,
    /// Denied requests.
    pub denied: usize,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// When the run ended (RFC 3339).
    pub generated_at: String,
    /// Scenarios, in the order they finished.
    pub scenarios: Vec<ScenarioReport>,
}

impl Report {
    /// The counts.
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            scenarios: self.scenarios.len(),
            ..Totals::default()
        };
        for s in &self.scenarios {
            match s.outcome {
                Outcome::Passed => t.passed += 1,
                Outcome::Failed { .. } => t.failed += 1,
                Outcome::Skipped => t.skipped += 1,
            }
            let allowed = s.decisions.iter().filter(|d| d.allowed()).count();
            t.allowed += allowed;
            t.denied += s.decisions.len() - allowed;
        }
        t
    }

    /// Scenarios sorted by feature then scenario name (stable output whatever the
    /// order in which concurrent scenarios finished).
    fn sorted(&self) -> Vec<&ScenarioReport> {
        let mut v: Vec<&ScenarioReport> = self.scenarios.iter().collect();
        v.sort_by(|a, b| (&a.feature, &a.scenario).cmp(&(&b.feature, &b.scenario)));
        v
    }

    /// The report as pretty JSON, with the totals.
    pub fn to_json(&self) -> String {
        let value = serde_json::json!({
            "generated_at": self.generated_at,
            "totals": self.totals(),
            "scenarios": self.sorted(),
        });
        serde_json::to_string_pretty(&value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The report as Markdown.
    pub fn to_markdown(&self) -> String {
        let md_row = |cells: &[String]| {
            let escaped: Vec<String> = cells.iter().map(|c| md(c)).collect();
            format!("| {} |", escaped.join(" | "))
        };
        let md_header =
            |names: &[&str]| format!("| {} |\n|{}", names.join(" | "), "---|".repeat(names.len()));
        let mut out = String::new();
        let _ = writeln!(out, "# sma compliance report\n");
        let _ = writeln!(out, "Generated {}.\n", md(&self.generated_at));
        let _ = writeln!(
            out,
            "{}\n{}\n",
            md_header(&TOTALS_HEADER),
            md_row(&totals_cells(&self.totals()))
        );
        for s in self.sorted() {
            let _ = writeln!(
                out,
                "## {} — {}\n\n{}\n",
                md(&s.feature),
                md(&s.scenario),
                md(&scenario_line(s))
            );
            if s.decisions.is_empty() {
                let _ = writeln!(out, "{NO_DECISIONS}\n");
                continue;
            }
            let _ = writeln!(out, "{}", md_header(&DECISION_HEADER));
            for d in &s.decisions {
                let _ = writeln!(out, "{}", md_row(&decision_cells(d)));
            }
            out.push('\n');
        }
        out
    }

    /// The report as a self-contained HTML page.
    pub fn to_html(&self) -> String {
        let header = |names: &[&str]| {
            let cells: String = names.iter().map(|n| format!("<th>{n}</th>")).collect();
            format!("<tr>{cells}</tr>")
        };
        let mut out = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sma compliance report</title>\n\
             <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}\
             td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}\
             .allow{color:#176f2c}.deny{color:#a3211f}.failed{color:#a3211f;font-weight:bold}</style></head><body>\n",
        );
        let _ = writeln!(
            out,
            "<h1>sma compliance report</h1>\n<p>Generated {}.</p>",
            html(&self.generated_at)
        );
        let totals: String = totals_cells(&self.totals())
            .iter()
            .map(|c| format!("<td>{}</td>", html(c)))
            .collect();
        let _ = writeln!(
            out,
            "<table>{}<tr>{totals}</tr></table>",
            header(&TOTALS_HEADER)
        );
        for s in self.sorted() {
            let class = if matches!(s.outcome, Outcome::Failed { .. }) {
                " class=\"failed\""
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "<h2>{} — {}</h2>\n<p{class}>{}</p>",
                html(&s.feature),
                html(&s.scenario),
                html(&scenario_line(s))
            );
            if s.decisions.is_empty() {
                let _ = writeln!(out, "<p>{NO_DECISIONS}</p>");
                continue;
            }
            let _ = writeln!(out, "<table>{}", header(&DECISION_HEADER));
            for d in &s.decisions {
                let class = if d.allowed() { "allow" } else { "deny" };
                let cells: String = decision_cells(d)
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        // The decision column is coloured.
                        let class = if i == 3 {
                            format!(" class=\"{class}\"")
                        } else {
                            String::new()
                        };
                        format!("<td{class}>{}</td>", html(c))
                    })
                    .collect();
                let _ = writeln!(out, "<tr>{cells}</tr>");
            }
            out.push_str("</table>\n");
        }
        out.push_str("</body></html>\n");
        out
    }

    /// Writes `<stem>.json`, `<stem>.md` and `<stem>.html` into `dir`, each through a
    /// temporary file renamed into place (a reader never sees half a report).
    pub fn write(&self, dir: &Path, stem: &str) -> std::io::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut written = Vec::new();
        for (ext, text) in [
            ("json", self.to_json()),
            ("md", self.to_markdown()),
            ("html", self.to_html()),
        ] {
            let path = dir.join(format!("{stem}.{ext}"));
            let tmp = dir.join(format!(".{stem}.{ext}.tmp"));
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, &path)?;
            written.push(path);
        }
        Ok(written)
    }
}

const TOTALS_HEADER: [&str; 6] = [
    "scenarios",
    "passed",
    "failed",
    "skipped",
    "requests allowed",
    "requests denied",
];
const DECISION_HEADER: [&str; 5] = ["principal", "action", "resource", "decision", "why"];
const NO_DECISIONS: &str = "No request of the access reached the gateway.";

fn totals_cells(t: &Totals) -> [String; 6] {
    [
        t.scenarios,
        t.passed,
        t.failed,
        t.skipped,
        t.allowed,
        t.denied,
    ]
    .map(|n| n.to_string())
}

/// The line under a scenario's heading (unescaped).
fn scenario_line(s: &ScenarioReport) -> String {
    format!(
        "{} · tags: {} · account {}",
        outcome_text(&s.outcome),
        s.tags.join(", "),
        s.account.as_deref().unwrap_or("-")
    )
}

/// A decision's table cells (unescaped), in [`DECISION_HEADER`] order.
fn decision_cells(d: &Decision) -> [String; 5] {
    [
        d.principal.clone(),
        d.action.clone(),
        d.resource.clone(),
        decision_text(d),
        why(d),
    ]
}

fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Passed => "PASSED".into(),
        Outcome::Failed { reason } => format!("FAILED: {reason}"),
        Outcome::Skipped => "SKIPPED".into(),
    }
}

fn decision_text(d: &Decision) -> String {
    match &d.error_code {
        Some(code) if !d.allowed() => format!("{} ({code})", d.decision),
        _ => d.decision.clone(),
    }
}

fn why(d: &Decision) -> String {
    if d.deciding_statements.is_empty() {
        d.reason.clone()
    } else {
        d.deciding_statements.join("; ")
    }
}

/// Markdown table cell text: pipes escaped, line breaks flattened.
pub(crate) fn md(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// HTML text: the five special characters escaped.
pub(crate) fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(principal: &str, resource: &str, decision: &str) -> Decision {
        Decision {
            time: "2026-11-27T20:00:00.000Z".into(),
            principal: principal.into(),
            action: "secretsmanager:GetSecretValue".into(),
            resource: resource.into(),
            decision: decision.into(),
            error_code: (decision != "Allow").then(|| "AccessDeniedException".into()),
            deciding_statements: if decision == "Allow" {
                vec!["statement \"ReadScopedSecrets\" of the identity-based policy \"p\"".into()]
            } else {
                vec![]
            },
            reason: "no identity-based policy allows the action".into(),
        }
    }

    fn sample() -> Report {
        let role = "arn:aws:sts::111122223333:assumed-role/eso/s";
        Report {
            generated_at: "2026-11-27T20:00:01Z".into(),
            scenarios: vec![
                ScenarioReport {
                    feature: "Role ARN".into(),
                    scenario: "prefix <staging/> | pipes".into(),
                    tags: vec!["role-arn".into()],
                    account: Some("111122223333".into()),
                    outcome: Outcome::Passed,
                    decisions: vec![
                        decision(role, "arn:aws:secretsmanager:eu-west-3:111122223333:secret:staging/db-AbCdEf", "Allow"),
                        decision(role, "arn:aws:secretsmanager:eu-west-3:111122223333:secret:prod/db-AbCdEf", "ImplicitDeny"),
                    ],
                },
                ScenarioReport {
                    feature: "Automatic".into(),
                    scenario: "all".into(),
                    tags: vec!["automatic".into()],
                    account: None,
                    outcome: Outcome::Failed {
                        reason: "step 3 failed".into(),
                    },
                    decisions: vec![],
                },
            ],
        }
    }

    #[test]
    fn totals_count_outcomes_and_decisions() {
        let t = sample().totals();
        assert_eq!(
            t,
            Totals {
                scenarios: 2,
                passed: 1,
                failed: 1,
                skipped: 0,
                allowed: 1,
                denied: 1
            }
        );
    }

    #[test]
    fn decisions_are_read_from_log_lines_and_filtered_by_account() {
        let line = r#"{"time":"t","request_id":"r","principal":"arn:aws:iam::111122223333:user/eso","action":"secretsmanager:GetSecretValue","resource":"*","decision":"ImplicitDeny","error_code":"AccessDeniedException","reason":"x","deciding_statements":[],"status":400,"latency_us":5}"#;
        let d = Decision::from_json_line(line).unwrap();
        assert!(!d.allowed());
        assert!(d.is_for_access_of("111122223333"));
        assert!(!d.is_for_access_of("444455556666"));
        let root = Decision {
            principal: "arn:aws:iam::111122223333:root".into(),
            ..d
        };
        assert!(!root.is_for_access_of("111122223333"));
        assert!(Decision::from_json_line("{not json").is_err());
    }

    #[test]
    fn renderings_escape_what_they_print() {
        let r = sample();
        let html = r.to_html();
        assert!(html.contains("prefix &lt;staging/&gt; | pipes"));
        assert!(!html.contains("<staging/>"));
        assert!(html.contains("class=\"deny\">ImplicitDeny (AccessDeniedException)"));
        let md = r.to_markdown();
        assert!(md.contains("prefix <staging/> \\| pipes"));
        assert!(md.contains("| 2 | 1 | 1 | 0 | 1 | 1 |"));
        assert!(md.contains("FAILED: step 3 failed"));
        // Sorted by feature: Automatic before Role ARN.
        assert!(md.find("## Automatic").unwrap() < md.find("## Role ARN").unwrap());
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["totals"]["denied"], 1);
        assert_eq!(json["scenarios"][1]["outcome"]["status"], "passed");
    }

    #[test]
    fn write_puts_three_files_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let files = sample().write(dir.path(), "compliance").unwrap();
        assert_eq!(files.len(), 3);
        for f in &files {
            assert!(std::fs::metadata(f).unwrap().len() > 100, "{}", f.display());
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
