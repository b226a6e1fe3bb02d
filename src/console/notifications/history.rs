//! The notification history on disk: one small JSON file per server and
//! user, written atomically by one writer task so the loop never waits on it.
//! Only the runtime calls this; the state machine asks through effects.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::KEEP;

/// Bumped when the file's shape changes incompatibly; an unknown version
/// reads as an empty history rather than as garbage.
const VERSION: u32 = 1;

/// What is kept of the centre: its notifications and how many are unread.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedHistory {
    pub version: u32,
    /// The newest `unread` items were not yet seen.
    pub unread: usize,
    /// Newest first.
    pub items: Vec<SavedNotification>,
}

/// One notification as stored: what it said and what it points at, never
/// the lead itself (it would go stale, and it is not ours to keep).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedNotification {
    pub at: DateTime<Utc>,
    pub kind: SavedKind,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SavedKind {
    Success,
    Info,
    Error,
}

/// Where one console profile keeps its history: `<data dir>/notifications/
/// <server>/<user id>.json`, so two servers, or two people on one machine,
/// never see each other's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryStore {
    dir: PathBuf,
}

impl HistoryStore {
    /// `profile` names the server: its URL, or `embedded` for the in-process
    /// platform (whose port changes every run).
    pub fn new(data_dir: &Path, profile: &str) -> Self {
        Self {
            dir: data_dir.join("notifications").join(file_name(profile)),
        }
    }

    pub fn path(&self, user: Uuid) -> PathBuf {
        self.dir.join(format!("{user}.json"))
    }

    /// The saved history, or an empty one when there is none or it cannot be
    /// read: a bad file must never keep the console from starting.
    pub fn load(&self, user: Uuid) -> SavedHistory {
        let path = self.path(user);
        match read(&path) {
            Ok(Some(h)) => h,
            Ok(None) => SavedHistory::default(),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = format!("{e:#}"),
                    "notification history unreadable; starting empty");
                SavedHistory::default()
            }
        }
    }

    pub fn save(&self, user: Uuid, history: &SavedHistory) -> anyhow::Result<()> {
        write(&self.path(user), history)
    }
}

/// A profile as one safe path component: `https://sb.example.com:8443/`
/// becomes `https_sb.example.com_8443`.
fn file_name(profile: &str) -> String {
    let mut out = String::new();
    for c in profile.trim().chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out
        .trim_matches(['_', '.'])
        .chars()
        .take(100)
        .collect::<String>();
    if out.is_empty() {
        "default".into()
    } else {
        out
    }
}

fn read(path: &Path) -> anyhow::Result<Option<SavedHistory>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut h: SavedHistory = serde_json::from_str(&text).context("not a notification history")?;
    anyhow::ensure!(h.version == VERSION, "unknown version {}", h.version);
    h.items.truncate(KEEP);
    h.unread = h.unread.min(h.items.len());
    Ok(Some(h))
}

/// Temp file then rename, readable only by its owner: it names leads.
fn write(path: &Path, history: &SavedHistory) -> anyhow::Result<()> {
    let history = SavedHistory {
        version: VERSION,
        ..history.clone()
    };
    let text = serde_json::to_vec(&history).context("cannot encode the notification history")?;
    crate::credentials::write_private(path, &text)
}

/// The queue of snapshots to write, and the task writing them in order.
#[derive(Debug)]
pub struct HistoryWriter {
    tx: mpsc::UnboundedSender<(Uuid, SavedHistory)>,
    task: tokio::task::JoinHandle<()>,
}

impl HistoryWriter {
    pub fn spawn(store: HistoryStore) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(write_in_order(store, rx));
        Self { tx, task }
    }

    pub fn save(&self, user: Uuid, history: SavedHistory) {
        // The task ends only when this writer is finished.
        let _ = self.tx.send((user, history));
    }

    /// Writes what is queued, waiting at most `limit`: at quit.
    pub async fn finish(self, limit: std::time::Duration) {
        drop(self.tx);
        if tokio::time::timeout(limit, self.task).await.is_err() {
            tracing::warn!("the notification history was not written in time");
        }
    }
}

/// Writes snapshots one at a time; of several queued only the newest is
/// written (each is the whole history).
async fn write_in_order(
    store: HistoryStore,
    mut rx: mpsc::UnboundedReceiver<(Uuid, SavedHistory)>,
) {
    while let Some(mut job) = rx.recv().await {
        while let Ok(newer) = rx.try_recv() {
            job = newer;
        }
        let store = store.clone();
        let (user, history) = job;
        let path = store.path(user);
        match tokio::task::spawn_blocking(move || store.save(user, &history)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(path = %path.display(), error = format!("{e:#}"),
                "cannot save the notification history"),
            Err(e) => tracing::error!(error = %e, "the notification history writer failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_become_one_path_component() {
        assert_eq!(
            file_name("https://SB.example.com:8443/"),
            "https_sb.example.com_8443"
        );
        assert_eq!(file_name("embedded"), "embedded");
        assert_eq!(file_name("../../etc"), "etc");
        assert_eq!(file_name(""), "default");
    }

    #[test]
    fn an_unknown_version_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = HistoryStore::new(dir.path(), "embedded");
        let user = Uuid::from_u128(1);
        std::fs::create_dir_all(store.path(user).parent().unwrap()).unwrap();
        std::fs::write(store.path(user), r#"{"version":99,"unread":0,"items":[]}"#).unwrap();
        assert_eq!(store.load(user), SavedHistory::default());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = HistoryStore::new(dir.path(), "http://127.0.0.1:7070");
        let user = Uuid::from_u128(1);
        store.save(user, &SavedHistory::default()).unwrap();
        let mode = std::fs::metadata(store.path(user))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
