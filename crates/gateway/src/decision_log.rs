//! The decision log: one JSON object per line for every request the gateway decided
//! (time, principal, action, resource, decision, deciding statements, latency). The
//! compliance report reads it. Secrets, tokens and secret values are never written.
//!
//! Writing is asynchronous (a channel to a writer task) so a slow disk never slows the
//! request path; the last entries are also kept in memory for tests and the admin API.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// How many entries are kept in memory (a large proof decides tens of thousands of
/// calls, and its report names the deciding statement of each; ~40 MB at most).
pub const MEMORY_ENTRIES: usize = 100_000;

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// RFC 3339 time with milliseconds.
    pub time: String,
    /// The request id returned to the client (`x-amzn-RequestId` of denials).
    pub request_id: String,
    /// The caller's ARN (`anonymous` for unsigned requests; the web-identity provider
    /// ARN for `AssumeRoleWithWebIdentity`; the claimed access key for failed
    /// authentication).
    pub principal: String,
    /// `service:Action`.
    pub action: String,
    /// Resource ARN or `*`.
    pub resource: String,
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny` or `AuthenticationFailed`.
    pub decision: String,
    /// The AWS error code answered, if denied.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_code: Option<String>,
    /// Why (denial message or reasons of the policy engine).
    pub reason: String,
    /// Statements that decided (`statement "Sid" of the identity-based policy "name"`).
    pub deciding_statements: Vec<String>,
    /// HTTP status answered to the client.
    pub status: u16,
    /// Time from receiving the request to answering its head, microseconds.
    pub latency_us: u64,
}

/// Where decisions go.
#[derive(Debug)]
pub struct DecisionLog {
    tx: Option<mpsc::UnboundedSender<String>>,
    memory: Mutex<VecDeque<DecisionRecord>>,
}

impl DecisionLog {
    /// A log kept in memory and, when `path` is set, appended to that file.
    pub async fn open(path: Option<PathBuf>) -> std::io::Result<Self> {
        let tx = match path {
            None => None,
            Some(p) => {
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    tokio::fs::create_dir_all(dir).await?;
                }
                let mut file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&p)
                    .await?;
                let (tx, mut rx) = mpsc::unbounded_channel::<String>();
                tokio::spawn(async move {
                    while let Some(first) = rx.recv().await {
                        let mut buf = first;
                        while let Ok(more) = rx.try_recv() {
                            buf.push_str(&more);
                            if buf.len() > 1 << 20 {
                                break;
                            }
                        }
                        if file.write_all(buf.as_bytes()).await.is_err() {
                            break;
                        }
                        let _ = file.flush().await;
                    }
                });
                Some(tx)
            }
        };
        Ok(Self {
            tx,
            memory: Mutex::new(VecDeque::new()),
        })
    }

    /// Records one decision.
    pub fn record(&self, rec: DecisionRecord) {
        if let Some(tx) = &self.tx {
            if let Ok(mut line) = serde_json::to_string(&rec) {
                line.push('\n');
                let _ = tx.send(line);
            }
        }
        if let Ok(mut m) = self.memory.lock() {
            if m.len() >= MEMORY_ENTRIES {
                m.pop_front();
            }
            m.push_back(rec);
        }
    }

    /// The decisions kept in memory, oldest first.
    pub fn recent(&self) -> Vec<DecisionRecord> {
        self.recent_matching(|_| true)
    }

    /// The entries kept in memory for which `wanted` holds, oldest first.
    pub fn recent_matching(&self, wanted: impl Fn(&DecisionRecord) -> bool) -> Vec<DecisionRecord> {
        self.memory
            .lock()
            .map(|m| m.iter().filter(|d| wanted(d)).cloned().collect())
            .unwrap_or_default()
    }
}
