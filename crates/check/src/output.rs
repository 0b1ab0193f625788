//! Renders a [`Report`]: human text, JSON, SARIF 2.1.0 (GitHub code scanning) and JUnit
//! XML. A waived finding appears in every format, marked waived (SARIF: a suppression
//! with its justification).

use serde_json::{json, Value};

use crate::findings::{Finding, Report, Rule, ALL_RULES};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human text.
    Text,
    /// The report as JSON.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML.
    Junit,
}

/// Renders `report`; file paths in locations are prefixed with `prefix` (e.g. the
/// directory where the generated files are committed), when given.
pub fn render(report: &Report, format: Format, prefix: Option<&str>) -> String {
    match format {
        Format::Text => text(report, prefix),
        Format::Json => json_report(report),
        Format::Sarif => {
            serde_json::to_string_pretty(&sarif(report, prefix)).unwrap_or_default() + "\n"
        }
        Format::Junit => junit(report, prefix),
    }
}

fn path(file: &str, prefix: Option<&str>) -> String {
    match prefix {
        Some(p) if !p.is_empty() => format!("{}/{file}", p.trim_end_matches('/')),
        _ => file.to_owned(),
    }
}

fn text(report: &Report, prefix: Option<&str>) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let state = if f.is_open() { "FINDING" } else { "WAIVED" };
        out.push_str(&format!(
            "{state} [{}] access `{}`: {}\n",
            f.rule.id(),
            f.access,
            f.message
        ));
        if let Some(example) = &f.counterexample {
            out.push_str(&format!("    counterexample: {example}\n"));
        }
        if let Some(statement) = &f.statement {
            match &f.location {
                Some(l) => out.push_str(&format!(
                    "    at {}:{} ({statement})\n",
                    path(&l.file, prefix),
                    l.line
                )),
                None => out.push_str(&format!("    statement: {statement}\n")),
            }
        }
        if let Some(w) = &f.waiver {
            out.push_str(&format!("    waived until {}: {}\n", w.expires, w.reason));
        }
    }
    for what in &report.not_checked {
        out.push_str(&format!("NOT CHECKED {what}\n"));
    }
    let open = report.open_findings().count();
    let waived = report.findings.len() - open;
    // A clean verdict says nothing of what was not checked: the summary says so too.
    let unchecked = match report.not_checked.len() {
        0 => String::new(),
        n => format!(" ({n} check(s) NOT CHECKED, listed above)"),
    };
    out.push_str(&format!(
        "sma check: {} access(es), {open} finding(s), {waived} waived: {}{unchecked}\n",
        report.accesses.len(),
        if open == 0 { "clean" } else { "NOT clean" }
    ));
    out
}

fn json_report(report: &Report) -> String {
    let open = report.open_findings().count();
    let value = json!({
        "clean": open == 0,
        "open_findings": open,
        "accesses": report.accesses,
        "findings": report.findings,
        "not_checked": report.not_checked,
        "not_applicable": report.not_applicable,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

fn level(rule: Rule) -> &'static str {
    match rule.family() {
        "lint" => "warning",
        _ => "error",
    }
}

/// The SARIF 2.1.0 log of `report`: one run, the rule table with stable ids, one
/// result per finding with its location (file and line of the statement).
pub fn sarif(report: &Report, prefix: Option<&str>) -> Value {
    let rules: Vec<Value> = ALL_RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id(),
                "name": r.id(),
                "shortDescription": { "text": r.description() },
                "fullDescription": { "text": r.description() },
                "defaultConfiguration": { "level": level(*r) },
                "properties": { "tags": ["security", r.family()] }
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| sarif_result(f, prefix))
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "sma check",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "results": results,
            // What the run could not check, as notes of the tool's execution.
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": report.not_checked.iter().map(|what| json!({
                    "level": "note",
                    "message": { "text": format!("not checked: {what}") }
                })).collect::<Vec<_>>()
            }]
        }]
    })
}

fn sarif_result(f: &Finding, prefix: Option<&str>) -> Value {
    let rule_index = ALL_RULES.iter().position(|r| *r == f.rule).unwrap_or(0);
    let mut message = format!("access `{}`: {}", f.access, f.message);
    if let Some(example) = &f.counterexample {
        message.push_str(&format!(" Counterexample: {example}."));
    }
    let mut result = json!({
        "ruleId": f.rule.id(),
        "ruleIndex": rule_index,
        "level": level(f.rule),
        "message": { "text": message },
        "partialFingerprints": {
            "smaFinding/v1": format!("{}/{}/{}", f.rule.id(), f.access, f.statement.clone().unwrap_or_default())
        },
        "properties": {
            "access": f.access,
            "actions": f.actions,
            "counterexample": f.counterexample,
        }
    });
    if let Some(l) = &f.location {
        result["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": { "uri": path(&l.file, prefix) },
                "region": { "startLine": l.line }
            }
        }]);
    }
    if let Some(w) = &f.waiver {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("{} (waiver expires {})", w.reason, w.expires)
        }]);
    }
    result
}

fn xml(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            c if c.is_control() && c != '\n' => " ".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// JUnit: one test case per access and proof family (scope, trust, lint), failing when
/// it has an open finding; waived findings are listed in `system-out`.
fn junit(report: &Report, prefix: Option<&str>) -> String {
    let families = [
        "scope", "trust", "eso", "lint", "baseline", "usage", "waiver",
    ];
    let mut cases = String::new();
    let mut failures = 0;
    let mut tests = 0;
    let skipped = report.not_checked.len();
    for access in &report.accesses {
        for family in families {
            let of: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| &f.access == access && f.rule.family() == family)
                .collect();
            let applies = !report
                .not_applicable
                .iter()
                .any(|n| &n.access == access && n.family == family);
            if (matches!(family, "waiver" | "baseline" | "usage") || !applies) && of.is_empty() {
                continue;
            }
            tests += 1;
            cases.push_str(&format!(
                "    <testcase classname=\"sma.check.{}\" name=\"{}\">\n",
                xml(access),
                family
            ));
            if let Some(skipped) = report
                .not_checked
                .iter()
                .find(|n| &n.access == access && n.family == family)
            {
                cases.push_str(&format!(
                    "      <skipped message=\"{}\"/>\n",
                    xml(&skipped.reason)
                ));
            }
            let open: Vec<&&Finding> = of.iter().filter(|f| f.is_open()).collect();
            if !open.is_empty() {
                failures += 1;
                let body: Vec<String> = open.iter().map(|f| finding_line(f, prefix)).collect();
                cases.push_str(&format!(
                    "      <failure message=\"{} finding(s)\" type=\"{}\">{}</failure>\n",
                    open.len(),
                    xml(open[0].rule.id()),
                    xml(&body.join("\n"))
                ));
            }
            let waived: Vec<String> = of
                .iter()
                .filter(|f| !f.is_open())
                .map(|f| format!("WAIVED {}", finding_line(f, prefix)))
                .collect();
            if !waived.is_empty() {
                cases.push_str(&format!(
                    "      <system-out>{}</system-out>\n",
                    xml(&waived.join("\n"))
                ));
            }
            cases.push_str("    </testcase>\n");
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"sma check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n{cases}  </testsuite>\n</testsuites>\n"
    )
}

fn finding_line(f: &Finding, prefix: Option<&str>) -> String {
    let mut line = format!("[{}] {}", f.rule.id(), f.message);
    if let Some(example) = &f.counterexample {
        line.push_str(&format!(" (counterexample: {example})"));
    }
    if let Some(l) = &f.location {
        line.push_str(&format!(" at {}:{}", path(&l.file, prefix), l.line));
    }
    if let Some(w) = &f.waiver {
        line.push_str(&format!(" waived until {}: {}", w.expires, w.reason));
    }
    line
}
