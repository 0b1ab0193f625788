//! Waivers: accepted findings, each with a reason and an expiry date. A waived finding
//! stays in every output, marked waived; a waiver past its date does not apply and is
//! itself a finding (`waiver-expired`).
//!
//! ```yaml
//! waivers:
//!   - rule: scope-broader          # a rule id (see `sma check --help`)
//!     access: all-secrets          # the access name
//!     reason: deliberate, see ADR-12
//!     expires: 2027-06-30          # YYYY-MM-DD, last day it holds
//! ```

use serde::Deserialize;

use crate::error::CheckError;
use crate::findings::{AppliedWaiver, Finding, Rule};

/// A waivers file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiversFile {
    /// The waivers.
    #[serde(default)]
    pub waivers: Vec<WaiverEntry>,
}

/// One waiver as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiverEntry {
    /// The rule id.
    pub rule: String,
    /// The access.
    pub access: String,
    /// Why the finding is accepted (required, non-empty).
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
}

/// A validated waiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// The rule.
    pub rule: Rule,
    /// The access.
    pub access: String,
    /// Why.
    pub reason: String,
    /// Expiry date as (year, month, day).
    pub expires: (i32, u32, u32),
    expires_text: String,
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Option<(i32, u32, u32)> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// The civil date of a Unix day number (days since 1970-01-01), by Howard Hinnant's
/// `civil_from_days` algorithm.
pub fn date_from_unix_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// Parses and validates a waivers file's text; `path` names it in errors.
pub fn parse_waivers(path: &str, text: &str) -> Result<Vec<Waiver>, CheckError> {
    let invalid = |message: String| CheckError::Waivers {
        path: path.to_owned(),
        message,
    };
    let file: WaiversFile = serde_norway::from_str(text).map_err(|e| invalid(e.to_string()))?;
    // Every problem of the file at once, as for a configuration.
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for (i, w) in file.waivers.into_iter().enumerate() {
        let rule = Rule::from_id(&w.rule);
        match rule {
            None => problems.push(format!(
                "waivers[{i}].rule: unknown rule `{}`. Fix: use one of {}",
                w.rule,
                crate::findings::ALL_RULES.map(Rule::id).join(", ")
            )),
            Some(Rule::WaiverExpired) => problems.push(format!(
                "waivers[{i}].rule: an expired waiver cannot be waived. Fix: renew or remove it"
            )),
            Some(_) => {}
        }
        if w.reason.trim().is_empty() {
            problems.push(format!(
                "waivers[{i}].reason: empty. Fix: say why the finding is accepted"
            ));
        }
        let expires = parse_date(&w.expires);
        if expires.is_none() {
            problems.push(format!(
                "waivers[{i}].expires: `{}` is not a date. Fix: write YYYY-MM-DD, quoted",
                w.expires
            ));
        }
        if let (Some(rule), Some(expires)) = (rule, expires) {
            out.push(Waiver {
                rule,
                access: w.access,
                reason: w.reason,
                expires,
                expires_text: w.expires,
            });
        }
    }
    if !problems.is_empty() {
        return Err(invalid(problems.join("\n  ")));
    }
    Ok(out)
}

/// Marks the findings each waiver covers (rule and access equal) as waived when it has
/// not expired on `today`; every expired waiver becomes a `waiver-expired` finding.
pub fn apply_waivers(findings: &mut Vec<Finding>, waivers: &[Waiver], today: (i32, u32, u32)) {
    let mut expired = Vec::new();
    for waiver in waivers {
        if waiver.expires < today {
            expired.push(Finding::new(
                Rule::WaiverExpired,
                &waiver.access,
                format!(
                    "the waiver of `{}` for access `{}` expired on {} (reason given: {}); the findings it covered count again. Fix: fix them, or renew the waiver with a new date",
                    waiver.rule.id(),
                    waiver.access,
                    waiver.expires_text,
                    waiver.reason
                ),
            ));
            continue;
        }
        for finding in findings.iter_mut() {
            if finding.rule == waiver.rule && finding.access == waiver.access {
                finding.waiver = Some(AppliedWaiver {
                    reason: waiver.reason.clone(),
                    expires: waiver.expires_text.clone(),
                });
            }
        }
    }
    findings.extend(expired);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date_from_unix_days(0), (1970, 1, 1));
        assert_eq!(date_from_unix_days(20_454), (2026, 1, 1));
        assert_eq!(parse_date("2026-12-03"), Some((2026, 12, 3)));
        assert_eq!(parse_date("2026-13-03"), None);
        assert_eq!(parse_date("26-12-03"), None);
    }

    #[test]
    fn waived_and_expired() {
        let waivers = parse_waivers(
            "w.yaml",
            "waivers:\n  - {rule: scope-broader, access: a, reason: ok, expires: '2026-12-31'}\n  - {rule: lint-arn-wildcard, access: a, reason: old, expires: '2020-01-01'}\n",
        )
        .unwrap();
        let mut findings = vec![
            Finding::new(Rule::ScopeBroader, "a", "x"),
            Finding::new(Rule::ScopeBroader, "b", "x"),
            Finding::new(Rule::LintArnWildcard, "a", "x"),
        ];
        apply_waivers(&mut findings, &waivers, (2026, 12, 3));
        assert!(!findings[0].is_open());
        assert!(findings[1].is_open());
        assert!(findings[2].is_open());
        assert_eq!(findings[3].rule, Rule::WaiverExpired);
        let e = parse_waivers(
            "w.yaml",
            "waivers:\n  - {rule: nope, access: a, reason: x, expires: '2026-01-01'}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("waivers[0].rule"), "{e}");
        let e = parse_waivers(
            "w.yaml",
            "waivers:\n  - {rule: nope, access: a, reason: x, expires: '2026-01-01'}\n  - {rule: scope-broader, access: a, reason: ' ', expires: 'soon'}\n",
        )
        .unwrap_err()
        .to_string();
        for field in ["waivers[0].rule", "waivers[1].reason", "waivers[1].expires"] {
            assert!(e.contains(field), "every problem at once: {e}");
        }
    }
}
