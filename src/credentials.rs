//! Session tokens kept on disk for the console, readable only by their owner.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct SavedSession {
    pub server: String,
    pub token: String,
}

impl std::fmt::Debug for SavedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedSession")
            .field("server", &self.server)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The remote session file in the config dir.
pub fn remote_path(config_dir: &Path) -> PathBuf {
    config_dir.join("session.toml")
}

/// The embedded platform's local-admin session, in the data dir beside its database.
pub fn local_path(data_dir: &Path) -> PathBuf {
    data_dir.join("local-session.toml")
}

pub fn load(path: &Path) -> anyhow::Result<Option<SavedSession>> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .map(Some)
            .with_context(|| format!("cannot read the session file {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes atomically (temp file + rename) with mode 0600 from the start.
pub fn save(path: &Path, session: &SavedSession) -> anyhow::Result<()> {
    let text = toml::to_string(session).context("cannot encode the session")?;
    write_private(path, text.as_bytes())
}

/// Writes `bytes` to `path` through a temp file and a rename, so a reader
/// sees the old file or the new one, never half of one; readable only by
/// its owner from the start. Creates the directory.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("the path has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub fn remove(path: &Path) -> anyhow::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_sessions_are_private_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = remote_path(dir.path());
        let s = SavedSession {
            server: "http://x".into(),
            token: "sbt_abc".into(),
        };
        save(&path, &s).unwrap();
        assert_eq!(load(&path).unwrap(), Some(s));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(remove(&path).unwrap());
        assert_eq!(load(&path).unwrap(), None);
    }
}
