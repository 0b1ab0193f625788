//! The report of `sma prove`: for each access of a configuration, its intent, the
//! digests of the files it was proven from, the access matrix (every seeded secret ×
//! the four read actions, expected against observed, with the deciding statement), the
//! identity probes, and a verdict. Rendered as JSON (`report.json`, the input of
//! `sma report merge`), Markdown, a self-contained HTML page with one coloured grid per
//! access, and JUnit XML. Nothing in it can hold a secret value or key.

use crate::{html, md};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What a call did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum Observed {
    /// It succeeded.
    Allowed,
    /// AWS answered with an error code.
    Denied {
        /// The code (`AccessDeniedException`, …).
        code: String,
    },
    /// It could not be made (no credentials, a tool error).
    Error {
        /// Why.
        message: String,
    },
}

impl Observed {
    /// Whether the call succeeded.
    pub fn allowed(&self) -> bool {
        matches!(self, Observed::Allowed)
    }
}

/// One cell: an action on a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// The action (`GetSecretValue`…).
    pub action: String,
    /// Whether the intent allows it.
    pub expected: bool,
    /// What happened.
    pub observed: Observed,
    /// The gateway's deciding statements, or its reason for a denial.
    #[serde(default)]
    pub decided_by: String,
}

/// How a cell compares with the intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Agreement {
    /// Allowed although the intent denies it: a leak.
    Leak,
    /// Denied or failed although the intent allows it.
    Broken,
    /// As intended, allowed.
    Allowed,
    /// As intended, denied.
    Denied,
}

impl Cell {
    /// How the cell compares with the intent.
    pub fn agreement(&self) -> Agreement {
        match (self.expected, self.observed.allowed()) {
            (false, true) => Agreement::Leak,
            (true, false) => Agreement::Broken,
            (true, true) => Agreement::Allowed,
            (false, false) => Agreement::Denied,
        }
    }
}

/// One row of the access matrix: a seeded secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixRow {
    /// The secret's name.
    pub secret: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// The customer-managed key encrypting it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Why it was seeded and what the intent says of it.
    pub why: String,
    /// One cell per action.
    pub cells: Vec<Cell>,
}

impl MatrixRow {
    /// The worst agreement of the row.
    pub fn agreement(&self) -> Agreement {
        self.cells
            .iter()
            .map(Cell::agreement)
            .min()
            .unwrap_or(Agreement::Denied)
    }
}

/// One identity probe: a caller that must not get the access's credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeRow {
    /// Who tried, in words (a service account and its token, a deactivated key…).
    pub caller: String,
    /// Why it must fail.
    pub why: String,
    /// What happened.
    pub observed: Observed,
}

/// A generated file and its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Path relative to the templates directory.
    pub path: String,
    /// `sha256:…`.
    pub digest: String,
}

/// The verdict on one access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every scenario passed: reads exactly what is intended.
    Proven,
    /// Something not intended was readable, or a probe got credentials.
    Leaks,
    /// An intended read failed, or the access could not be deployed or used.
    Broken,
}

impl Verdict {
    /// As shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Proven => "proven",
            Verdict::Leaks => "LEAKS",
            Verdict::Broken => "BROKEN",
        }
    }
}

/// The proof of one access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessProof {
    /// The access's name.
    pub access: String,
    /// Its setup.
    pub setup: String,
    /// Account of its secrets.
    pub account: String,
    /// Region of its store.
    pub region: String,
    /// The intent, in words.
    pub intent: Vec<String>,
    /// Digests of the generated files it was proven from.
    pub files: Vec<FileDigest>,
    /// The access matrix.
    pub matrix: Vec<MatrixRow>,
    /// The `ListSecrets` cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_secrets: Option<Cell>,
    /// Identity probes.
    pub probes: Vec<ProbeRow>,
    /// Failures of its scenarios (deployment, authentication, a mismatch), in words.
    pub failures: Vec<String>,
    /// The static verdict of `sma check`, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_verdict: Option<String>,
}

impl AccessProof {
    /// Cells that leak, cells that are broken.
    pub fn mismatches(&self) -> (usize, usize) {
        let cells = self
            .matrix
            .iter()
            .flat_map(|r| &r.cells)
            .chain(&self.list_secrets);
        let (mut leaks, mut broken) = (0, 0);
        for c in cells {
            match c.agreement() {
                Agreement::Leak => leaks += 1,
                Agreement::Broken => broken += 1,
                _ => {}
            }
        }
        leaks += self.probes.iter().filter(|p| p.observed.allowed()).count();
        (leaks, broken)
    }

    /// The verdict.
    pub fn verdict(&self) -> Verdict {
        let (leaks, broken) = self.mismatches();
        if leaks > 0 {
            Verdict::Leaks
        } else if broken > 0 || !self.failures.is_empty() || self.matrix.is_empty() {
            Verdict::Broken
        } else {
            Verdict::Proven
        }
    }
}

/// The whole proof of a configuration (or of a shard of its accesses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofReport {
    /// When it was made (RFC 3339).
    pub generated_at: String,
    /// The configuration file's name.
    pub config: String,
    /// Its digest.
    pub config_digest: String,
    /// The shards merged into this report (`1/1` when unsharded).
    pub shards: Vec<String>,
    /// One proof per access, in configuration order.
    pub accesses: Vec<AccessProof>,
}

/// Why reports cannot be merged or read.
#[derive(Debug, thiserror::Error)]
pub enum ProofReportError {
    /// A report file is not a proof report.
    #[error("{path}: not a `sma prove` report.json: {message}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Reports of different configurations.
    #[error(
        "{path} proves {found}, the others {expected}: only shards of one configuration merge"
    )]
    OtherConfiguration {
        /// The file.
        path: String,
        /// Its config digest.
        found: String,
        /// The first report's.
        expected: String,
    },
    /// An access appears in two shards.
    #[error("access \"{0}\" appears in two shards")]
    Duplicate(String),
    /// The shards given are not the whole configuration: some `K/N` is missing,
    /// given twice, or the shards were cut into different numbers of parts.
    #[error("{0}: a merged report must hold every shard 1/N … N/N of one split, each once (run `sma prove --shard K/N` for the missing ones, or merge all the shards' report.json files)")]
    IncompleteShards(String),
    /// Writing failed.
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
}

/// Checks that `shards` (`K/N` each) are exactly 1/N … N/N of one split, and returns
/// them in order.
fn whole_split(shards: &[String]) -> Result<Vec<String>, ProofReportError> {
    let incomplete = |why: String| ProofReportError::IncompleteShards(why);
    let mut parsed = Vec::new();
    for shard in shards {
        let parts = shard
            .split_once('/')
            .and_then(|(k, n)| Some((k.parse::<u32>().ok()?, n.parse::<u32>().ok()?)))
            .filter(|&(k, n)| k >= 1 && k <= n);
        match parts {
            Some(p) => parsed.push(p),
            None => return Err(incomplete(format!("shard \"{shard}\" is not K/N"))),
        }
    }
    let Some(&(_, total)) = parsed.first() else {
        return Err(incomplete("no shard".into()));
    };
    if let Some((_, other)) = parsed.iter().find(|(_, n)| *n != total) {
        return Err(incomplete(format!(
            "shards of a split in {total} and of a split in {other} parts"
        )));
    }
    parsed.sort();
    if let Some(w) = parsed.windows(2).find(|w| w[0] == w[1]) {
        return Err(incomplete(format!("shard {}/{total} given twice", w[0].0)));
    }
    let missing: Vec<String> = (1..=total)
        .filter(|k| !parsed.iter().any(|(pk, _)| pk == k))
        .map(|k| format!("{k}/{total}"))
        .collect();
    if !missing.is_empty() {
        return Err(incomplete(format!(
            "missing shard(s) {}",
            missing.join(", ")
        )));
    }
    Ok(parsed.iter().map(|(k, n)| format!("{k}/{n}")).collect())
}

impl ProofReport {
    /// Whether every access is proven.
    pub fn passed(&self) -> bool {
        self.accesses.iter().all(|a| a.verdict() == Verdict::Proven)
    }

    /// Reads a `report.json`.
    pub fn read(path: &Path) -> Result<ProofReport, ProofReportError> {
        let unreadable = |message: String| ProofReportError::Unreadable {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))
    }

    /// Merges the shards of one configuration into its whole proof, accesses sorted by
    /// name. Refuses anything but every shard 1/N … N/N of one split, each once: a
    /// merged report stands for the whole configuration, so a missing shard must not
    /// read as proven.
    pub fn merge(parts: Vec<(String, ProofReport)>) -> Result<ProofReport, ProofReportError> {
        let mut merged: Option<ProofReport> = None;
        for (path, part) in parts {
            match &mut merged {
                None => merged = Some(part),
                Some(m) => {
                    if m.config_digest != part.config_digest {
                        return Err(ProofReportError::OtherConfiguration {
                            path,
                            found: part.config_digest,
                            expected: m.config_digest.clone(),
                        });
                    }
                    for a in part.accesses {
                        if m.accesses.iter().any(|x| x.access == a.access) {
                            return Err(ProofReportError::Duplicate(a.access));
                        }
                        m.accesses.push(a);
                    }
                    m.shards.extend(part.shards);
                    if part.generated_at > m.generated_at {
                        m.generated_at = part.generated_at;
                    }
                }
            }
        }
        let mut merged = merged.ok_or_else(|| ProofReportError::Unreadable {
            path: "(none)".into(),
            message: "no report to merge".into(),
        })?;
        merged.accesses.sort_by(|a, b| a.access.cmp(&b.access));
        merged.shards = whole_split(&merged.shards)?;
        Ok(merged)
    }

    /// JSON: the report, with the overall verdict first (`passed`, `verdict`) so a CI
    /// job need not recompute it (both are ignored when the file is read back).
    pub fn to_json(&self) -> String {
        /// The report with its verdict first.
        #[derive(Serialize)]
        struct WithVerdict<'a> {
            passed: bool,
            verdict: &'static str,
            #[serde(flatten)]
            report: &'a ProofReport,
        }
        let passed = self.passed();
        let with_verdict = WithVerdict {
            passed,
            verdict: if passed { "proven" } else { "NOT proven" },
            report: self,
        };
        serde_json::to_string_pretty(&with_verdict)
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Markdown: a summary table, then per access its mismatches and its matrix.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "# sma prove: {}\n\nConfiguration digest `{}`, generated {}, shards {}.\n\n| access | setup | verdict | leaks | broken | secrets × actions |\n|---|---|---|---|---|---|\n",
            md(&self.config), self.config_digest, self.generated_at, self.shards.join(", ")
        );
        for a in &self.accesses {
            let (leaks, broken) = a.mismatches();
            let _ = writeln!(
                out,
                "| {} | {} | **{}** | {leaks} | {broken} | {} × 4 |",
                md(&a.access),
                a.setup,
                a.verdict().as_str(),
                a.matrix.len()
            );
        }
        for a in &self.accesses {
            let _ = write!(
                out,
                "\n## {} ({}): {}\n\n",
                md(&a.access),
                a.setup,
                a.verdict().as_str()
            );
            for line in &a.intent {
                let _ = writeln!(out, "- {}", md(line));
            }
            if let Some(v) = &a.static_verdict {
                let _ = writeln!(out, "- {}", md(v));
            }
            for f in &a.failures {
                let _ = writeln!(out, "\n> **Failure:** {}", md(f));
            }
            if let Some(c) = &a.list_secrets {
                let _ = writeln!(
                    out,
                    "- ListSecrets: **{}** (intent: {})",
                    cell_word(c),
                    if c.expected { "allowed" } else { "denied" }
                );
            }
            out.push_str("\n| secret | account | region | GetSecretValue | DescribeSecret | GetResourcePolicy | ListSecretVersionIds | why |\n|---|---|---|---|---|---|---|---|\n");
            let mut rows: Vec<&MatrixRow> = a.matrix.iter().collect();
            rows.sort_by_key(|r| r.agreement());
            for r in rows {
                let cells: Vec<String> = r.cells.iter().map(cell_word).collect();
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    md(&r.secret),
                    r.account,
                    r.region,
                    cells.join(" | "),
                    md(&r.why)
                );
            }
            if !a.probes.is_empty() {
                out.push_str("\n| caller | must fail because | observed |\n|---|---|---|\n");
                for p in &a.probes {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} |",
                        md(&p.caller),
                        md(&p.why),
                        observed_word(&p.observed)
                    );
                }
            }
            if !a.files.is_empty() {
                out.push_str("\nProven from:\n");
                for f in &a.files {
                    let _ = writeln!(out, "- `{}` {}", md(&f.path), f.digest);
                }
            }
        }
        out
    }

    /// A self-contained HTML page: one coloured grid per access (mismatched rows
    /// first), details on demand.
    pub fn to_html(&self) -> String {
        let mut out = String::from(HTML_HEAD);
        let _ = write!(
            out,
            "<h1>sma prove: {}</h1>\n<p class=\"meta\">Configuration digest <code>{}</code> · generated {} · shards {}</p>\n",
            html(&self.config), html(&self.config_digest), html(&self.generated_at), html(&self.shards.join(", "))
        );
        out.push_str("<p class=\"legend\"><span class=\"c ok-allow\">allowed as intended</span> <span class=\"c ok-deny\">denied as intended</span> <span class=\"c leak\">LEAK: allowed, not intended</span> <span class=\"c broken\">BROKEN: intended, denied</span></p>\n");
        out.push_str("<table class=\"summary\"><tr><th>access</th><th>setup</th><th>verdict</th><th>leaks</th><th>broken</th><th>secrets</th></tr>\n");
        for a in &self.accesses {
            let (leaks, broken) = a.mismatches();
            let v = a.verdict();
            let _ = writeln!(
                out,
                "<tr><td><a href=\"#access-{id}\">{name}</a></td><td>{}</td><td class=\"verdict {cls}\">{}</td><td>{leaks}</td><td>{broken}</td><td>{}</td></tr>",
                html(&a.setup), v.as_str(), a.matrix.len(),
                id = html(&a.access), name = html(&a.access), cls = verdict_class(v)
            );
        }
        out.push_str("</table>\n");
        for a in &self.accesses {
            let v = a.verdict();
            let _ = write!(
                out,
                "<section class=\"access\" id=\"access-{}\"><h2>{} <small>{}</small> <span class=\"verdict {}\">{}</span></h2>\n<ul class=\"intent\">",
                html(&a.access), html(&a.access), html(&a.setup), verdict_class(v), v.as_str()
            );
            for line in &a.intent {
                let _ = write!(out, "<li>{}</li>", html(line));
            }
            if let Some(v) = &a.static_verdict {
                let _ = write!(out, "<li class=\"static\">{}</li>", html(v));
            }
            out.push_str("</ul>\n");
            for f in &a.failures {
                let _ = writeln!(out, "<p class=\"failure\">{}</p>", html(f));
            }
            let mut rows: Vec<&MatrixRow> = a.matrix.iter().collect();
            rows.sort_by_key(|r| r.agreement());
            // At a glance: mismatches and what the access reads; the decoys denied as
            // intended are one click away.
            let (shown, decoys): (Vec<&MatrixRow>, Vec<&MatrixRow>) = rows
                .into_iter()
                .partition(|r| r.agreement() != Agreement::Denied);
            grid(&mut out, &shown);
            let _ = writeln!(
                out,
                "<details><summary>{} other secrets denied as intended (look-alikes, other regions, accounts, accesses, keys)</summary>",
                decoys.len()
            );
            grid(&mut out, &decoys);
            out.push_str("</details>\n");

            if let Some(c) = &a.list_secrets {
                let _ = writeln!(
                    out,
                    "<p>ListSecrets: <span class=\"c {}\">{}</span></p>",
                    agreement_class(c.agreement()),
                    cell_word(c)
                );
            }
            if !a.probes.is_empty() {
                out.push_str("<details open><summary>Identity probes</summary><table class=\"probes\"><tr><th>caller</th><th>must fail because</th><th>observed</th></tr>\n");
                for p in &a.probes {
                    let cls = if p.observed.allowed() {
                        "leak"
                    } else {
                        "ok-deny"
                    };
                    let _ = writeln!(
                        out,
                        "<tr><td>{}</td><td>{}</td><td class=\"c {cls}\">{}</td></tr>",
                        html(&p.caller),
                        html(&p.why),
                        html(&observed_word(&p.observed))
                    );
                }
                out.push_str("</table></details>\n");
            }
            out.push_str("<details><summary>Deciding statements and files</summary><ul>");
            for r in &a.matrix {
                for c in r.cells.iter().filter(|c| !c.decided_by.is_empty()) {
                    let _ = write!(
                        out,
                        "<li><code>{}</code> {}: {}</li>",
                        html(&r.secret),
                        html(&c.action),
                        html(&c.decided_by)
                    );
                }
            }
            for f in &a.files {
                let _ = write!(
                    out,
                    "<li><code>{}</code> {}</li>",
                    html(&f.path),
                    html(&f.digest)
                );
            }
            out.push_str("</ul></details></section>\n");
        }
        // Lets a headless browser check the layout: no horizontal scrolling.
        out.push_str("<script>document.body.dataset.layout = document.documentElement.scrollWidth > window.innerWidth ? 'overflows' : 'fits';</script>\n");
        out.push_str("</body></html>\n");
        out
    }

    /// JUnit XML: one test suite per access, one test case per matrix row and probe.
    pub fn to_junit(&self) -> String {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sma prove\">\n",
        );
        for a in &self.accesses {
            let list_failed = a
                .list_secrets
                .as_ref()
                .is_some_and(|c| c.agreement() <= Agreement::Broken);
            let cases = a.matrix.len() + a.probes.len() + 1 + usize::from(a.list_secrets.is_some());
            let failures = a
                .matrix
                .iter()
                .filter(|r| r.agreement() <= Agreement::Broken)
                .count()
                + a.probes.iter().filter(|p| p.observed.allowed()).count()
                + usize::from(!a.failures.is_empty())
                + usize::from(list_failed);
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{cases}\" failures=\"{failures}\">",
                html(&a.access)
            );
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"deployed and authenticated\">",
                html(&a.access)
            );
            if !a.failures.is_empty() {
                let _ = write!(
                    out,
                    "<failure message=\"{}\"/>",
                    html(&a.failures.join("; "))
                );
            }
            out.push_str("</testcase>\n");
            if let Some(c) = &a.list_secrets {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}\" name=\"ListSecrets\">",
                    html(&a.access)
                );
                if list_failed {
                    let _ = write!(
                        out,
                        "<failure message=\"ListSecrets: expected {}, {}\"/>",
                        if c.expected { "allowed" } else { "denied" },
                        html(&observed_word(&c.observed))
                    );
                }
                out.push_str("</testcase>\n");
            }
            for r in &a.matrix {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{} ({} {})\">",
                    html(&a.access),
                    html(&r.secret),
                    r.account,
                    r.region
                );
                if r.agreement() <= Agreement::Broken {
                    let bad: Vec<String> = r
                        .cells
                        .iter()
                        .filter(|c| c.agreement() <= Agreement::Broken)
                        .map(|c| {
                            format!(
                                "{}: expected {}, {}",
                                c.action,
                                if c.expected { "allowed" } else { "denied" },
                                observed_word(&c.observed)
                            )
                        })
                        .collect();
                    let _ = write!(out, "<failure message=\"{}\"/>", html(&bad.join("; ")));
                }
                out.push_str("</testcase>\n");
            }
            for p in &a.probes {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{}\">",
                    html(&a.access),
                    html(&p.caller)
                );
                if p.observed.allowed() {
                    let _ = write!(
                        out,
                        "<failure message=\"got the access's credentials: {}\"/>",
                        html(&p.why)
                    );
                }
                out.push_str("</testcase>\n");
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// Writes `report.json`, `report.md`, `report.html` and `junit.xml` into `dir`, each
    /// through a temporary file renamed into place.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, ProofReportError> {
        std::fs::create_dir_all(dir)?;
        let mut written = Vec::new();
        for (name, text) in [
            ("report.json", self.to_json()),
            ("report.md", self.to_markdown()),
            ("report.html", self.to_html()),
            ("junit.xml", self.to_junit()),
        ] {
            let path = dir.join(name);
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, &path)?;
            written.push(path);
        }
        Ok(written)
    }
}

/// One grid: a row per secret, a coloured cell per action.
fn grid(out: &mut String, rows: &[&MatrixRow]) {
    out.push_str("<table class=\"grid\"><colgroup><col class=\"name\"><col><col><col><col><col class=\"why\"></colgroup>\n<tr><th>secret</th><th>Get<wbr>Secret<wbr>Value</th><th>Describe<wbr>Secret</th><th>Get<wbr>Resource<wbr>Policy</th><th>List<wbr>Secret<wbr>Version<wbr>Ids</th><th>why</th></tr>\n");
    for r in rows {
        let place = format!("{} · {}", r.account, r.region);
        let _ = write!(
            out,
            "<tr class=\"row-{}\"><td class=\"name\">{}<br><small>{}{}</small></td>",
            agreement_class(r.agreement()),
            html(&r.secret),
            html(&place),
            r.key
                .as_deref()
                .map(|k| format!(" · key {}", html(k)))
                .unwrap_or_default()
        );
        for c in &r.cells {
            let _ = write!(
                out,
                "<td class=\"c {}\" title=\"{}\">{}</td>",
                agreement_class(c.agreement()),
                html(&format!(
                    "{}: expected {}, {}. {}",
                    c.action,
                    if c.expected { "allowed" } else { "denied" },
                    observed_word(&c.observed),
                    c.decided_by
                )),
                cell_word(c)
            );
        }
        let _ = writeln!(out, "<td class=\"why\">{}</td></tr>", html(&r.why));
    }
    out.push_str("</table>\n");
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Proven => "proven",
        Verdict::Leaks => "leak",
        Verdict::Broken => "broken",
    }
}

fn agreement_class(a: Agreement) -> &'static str {
    match a {
        Agreement::Leak => "leak",
        Agreement::Broken => "broken",
        Agreement::Allowed => "ok-allow",
        Agreement::Denied => "ok-deny",
    }
}

fn cell_word(c: &Cell) -> String {
    match c.agreement() {
        Agreement::Leak => "LEAK".into(),
        Agreement::Broken => "BROKEN".into(),
        Agreement::Allowed => "allow".into(),
        Agreement::Denied => "deny".into(),
    }
}

fn observed_word(o: &Observed) -> String {
    match o {
        Observed::Allowed => "allowed".into(),
        Observed::Denied { code } => format!("denied ({code})"),
        Observed::Error { message } => format!("error: {message}"),
    }
}

const HTML_HEAD: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sma prove report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;padding:1em 2em;max-width:1360px;color:#1d2125}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
small{color:#555;font-weight:normal}code{font-size:.9em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #d0d4d9;padding:3px 6px;text-align:left;vertical-align:top}
table.grid{table-layout:fixed;width:100%}table.grid th{font-size:.85em}
table.grid col.name{width:26%}table.grid col.why{width:34%}
td.name,td.why{overflow-wrap:anywhere;word-break:break-word}
.c{text-align:center;font-weight:600;font-size:.85em;padding:2px 6px;border-radius:3px}
.ok-allow{background:#cdeccf;color:#17461b}.ok-deny{background:#e9ecef;color:#495057}
.leak{background:#d62728;color:#fff}.broken{background:#ff9f1c;color:#000}
.verdict{padding:2px 8px;border-radius:3px;font-weight:700}
.verdict.proven{background:#2e7d32;color:#fff}.verdict.leak{background:#d62728;color:#fff}.verdict.broken{background:#ff9f1c}
.failure{background:#fff3cd;border-left:4px solid #ff9f1c;padding:.5em}
.legend .c{display:inline-block;margin-right:.5em}
</style></head><body>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(action: &str, expected: bool, allowed: bool) -> Cell {
        Cell {
            action: action.into(),
            expected,
            observed: if allowed {
                Observed::Allowed
            } else {
                Observed::Denied {
                    code: "AccessDeniedException".into(),
                }
            },
            decided_by: String::new(),
        }
    }

    fn access(name: &str, leak: bool) -> AccessProof {
        AccessProof {
            access: name.into(),
            setup: "role-arn".into(),
            account: "123456789012".into(),
            region: "eu-west-3".into(),
            intent: vec!["secrets under \"staging/\"".into()],
            files: vec![],
            matrix: vec![
                MatrixRow {
                    secret: "staging/a".into(),
                    account: "123456789012".into(),
                    region: "eu-west-3".into(),
                    key: None,
                    why: "member".into(),
                    cells: vec![cell("GetSecretValue", true, true)],
                },
                MatrixRow {
                    secret: "stagingfoo<b>".into(),
                    account: "123456789012".into(),
                    region: "eu-west-3".into(),
                    key: None,
                    why: "look-alike".into(),
                    cells: vec![cell("GetSecretValue", false, leak)],
                },
            ],
            list_secrets: None,
            probes: vec![],
            failures: vec![],
            static_verdict: None,
        }
    }

    fn report(accesses: Vec<AccessProof>, shard: &str) -> ProofReport {
        ProofReport {
            generated_at: "2026-12-03T00:00:00Z".into(),
            config: "c.yaml".into(),
            config_digest: "sha256:1".into(),
            shards: vec![shard.into()],
            accesses,
        }
    }

    #[test]
    fn a_refused_list_secrets_fails_every_format() {
        let mut a = access("a", false);
        a.list_secrets = Some(cell("ListSecrets", true, false));
        let r = report(vec![a], "1/1");
        assert_eq!(r.accesses[0].verdict(), Verdict::Broken);
        let junit = r.to_junit();
        assert!(
            junit.contains(
                "name=\"ListSecrets\"><failure message=\"ListSecrets: expected allowed, denied"
            ),
            "{junit}"
        );
        assert!(junit.contains("failures=\"1\""), "{junit}");
        assert!(r
            .to_markdown()
            .contains("- ListSecrets: **BROKEN** (intent: allowed)"));
        let json = r.to_json();
        assert!(
            json.starts_with("{\n  \"passed\": false,\n  \"verdict\": \"NOT proven\""),
            "{json}"
        );
        let back: ProofReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r, "the verdict fields are ignored when read back");
    }

    #[test]
    fn verdicts_follow_the_cells() {
        assert_eq!(access("a", false).verdict(), Verdict::Proven);
        assert_eq!(access("a", true).verdict(), Verdict::Leaks);
        let mut broken = access("a", false);
        broken.matrix[0].cells[0].observed = Observed::Denied {
            code: "AccessDeniedException".into(),
        };
        assert_eq!(broken.verdict(), Verdict::Broken);
    }

    #[test]
    fn renderings_escape_and_put_mismatches_first() {
        let r = report(vec![access("a", true)], "1/1");
        let page = r.to_html();
        assert!(page.contains("stagingfoo&lt;b&gt;"));
        assert!(!page.contains("stagingfoo<b>"));
        assert!(
            page.find("stagingfoo").unwrap() < page.find("staging/a").unwrap(),
            "the leak comes first"
        );
        assert!(r.to_junit().contains("<failure"));
        assert!(r.to_markdown().contains("**LEAKS**"));
    }

    #[test]
    fn shards_merge_into_the_unsharded_report() {
        let whole = report(vec![access("a", false), access("b", true)], "1/1");
        let merged = ProofReport::merge(vec![
            ("2.json".into(), report(vec![access("b", true)], "2/2")),
            ("1.json".into(), report(vec![access("a", false)], "1/2")),
        ])
        .unwrap();
        assert_eq!(merged.accesses, whole.accesses);
        assert_eq!(merged.shards, vec!["1/2".to_string(), "2/2".to_string()]);
        let mut other = report(vec![access("c", false)], "1/1");
        other.config_digest = "sha256:2".into();
        assert!(
            ProofReport::merge(vec![("x".into(), whole.clone()), ("y".into(), other)]).is_err()
        );
        assert!(
            ProofReport::merge(vec![("x".into(), whole.clone()), ("y".into(), whole)]).is_err()
        );
    }

    #[test]
    fn a_merge_without_every_shard_is_refused() {
        let shard = |name: &str, k: &str| report(vec![access(name, false)], k);
        let merge = |parts: Vec<ProofReport>| {
            ProofReport::merge(
                parts
                    .into_iter()
                    .map(|p| ("r.json".to_string(), p))
                    .collect(),
            )
        };
        let err = merge(vec![shard("a", "1/2")]).unwrap_err().to_string();
        assert!(err.contains("missing shard(s) 2/2"), "{err}");
        let err = merge(vec![shard("a", "1/3"), shard("b", "3/3")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing shard(s) 2/3"), "{err}");
        let err = merge(vec![shard("a", "1/2"), shard("b", "1/2")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("given twice"), "{err}");
        let err = merge(vec![shard("a", "1/2"), shard("b", "2/3")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("split in 2 and of a split in 3"), "{err}");
        assert!(merge(vec![shard("a", "0/2")]).is_err());
        let shards: Vec<String> = (1..=10).map(|k| format!("{k}/10")).collect();
        let parts = shards
            .iter()
            .enumerate()
            .map(|(i, k)| shard(&format!("a{i}"), k))
            .collect();
        assert_eq!(merge(parts).unwrap().shards, shards, "in numeric order");
    }
}
