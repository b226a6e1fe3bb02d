//! Session tokens kept on disk for the console, readable only by their owner:
//! the embedded platform's local session, and one session per context (a
//! named server, as kubectl's contexts) in the credentials file.

use std::collections::BTreeMap;
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

/// The credentials file in the config dir: every context's session (named
/// `session.toml` since it held the one remote session).
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

/// The context of the embedded platform: always there, never in the file.
pub const LOCAL: &str = "local";

/// One server and, while signed in, its session token.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct ContextEntry {
    pub server: String,
    /// `None` after `logout`: the context stays, to sign in again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl std::fmt::Debug for ContextEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextEntry")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The credentials file: the contexts, the current one and the tenant last
/// worked on in each (`local` included).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Credentials {
    /// `None` (or `local`): the embedded platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub last_tenant: BTreeMap<String, String>,
    /// What the console shows in each context, for its next run.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub views: BTreeMap<String, ContextView>,
    pub contexts: BTreeMap<String, ContextEntry>,
}

/// A context's console view between runs: the tenants used most recently
/// (most recent first) and the Leads list's scope and search.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextView {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_tenants: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub leads_scope: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub leads_search: String,
}

/// The file as read: today's contexts, or the single session of releases
/// before them (`server` and `token` at the top).
#[derive(Deserialize)]
struct CredentialsFile {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    last_tenant: BTreeMap<String, String>,
    #[serde(default)]
    views: BTreeMap<String, ContextView>,
    #[serde(default)]
    contexts: BTreeMap<String, ContextEntry>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

/// What a name given for a context must look like.
pub fn check_name(name: &str) -> Result<(), String> {
    if name == LOCAL {
        return Err(format!(
            "{LOCAL:?} is the embedded platform's context; choose another name"
        ));
    }
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a context name: use 1 to 64 letters, digits, '.', '-', '_' or ':'"
        ))
    }
}

/// Two spellings of one server (a trailing slash, the case of the host).
pub fn same_server(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

impl Credentials {
    /// Reads the file (none yet: no context). A file of a release before
    /// contexts becomes one context named after its server's host, current;
    /// the next write keeps it in this form.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let file: CredentialsFile = toml::from_str(&text)
            .with_context(|| format!("cannot read the credentials file {}", path.display()))?;
        let mut creds = Credentials {
            current: file.current,
            last_tenant: file.last_tenant,
            views: file.views,
            contexts: file.contexts,
        };
        if let (Some(server), Some(token)) = (file.server, file.token) {
            if creds.by_server(&server).is_none() {
                let name = creds.name_for(&server);
                creds.contexts.insert(
                    name.clone(),
                    ContextEntry {
                        server,
                        token: Some(token),
                    },
                );
                creds.current.get_or_insert(name);
            }
        }
        Ok(creds)
    }

    /// Writes atomically, readable only by its owner.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = toml::to_string(self).context("cannot encode the credentials")?;
        write_private(path, text.as_bytes())
    }

    /// Reads, changes and writes the file back; nothing is written when
    /// `change` fails.
    pub fn update<T>(
        path: &Path,
        change: impl FnOnce(&mut Credentials) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut creds = Self::load(path)?;
        let out = change(&mut creds)?;
        creds.save(path)?;
        Ok(out)
    }

    /// The current context's name: `local` when none is chosen.
    pub fn current_name(&self) -> &str {
        self.current.as_deref().unwrap_or(LOCAL)
    }

    pub fn get(&self, name: &str) -> Option<&ContextEntry> {
        self.contexts.get(name)
    }

    /// The context of `server`, if one has it.
    pub fn by_server(&self, server: &str) -> Option<&str> {
        self.contexts
            .iter()
            .find(|(_, c)| same_server(&c.server, server))
            .map(|(n, _)| n.as_str())
    }

    /// Every context's name, `local` first.
    pub fn names(&self) -> Vec<String> {
        std::iter::once(LOCAL.to_string())
            .chain(self.contexts.keys().cloned())
            .collect()
    }

    /// Whether `name` is a context (`local` always is).
    pub fn has(&self, name: &str) -> bool {
        name == LOCAL || self.contexts.contains_key(name)
    }

    /// The name a new context of `server` gets: its host, or host:port
    /// when another server has the host, or a numbered one after that.
    pub fn name_for(&self, server: &str) -> String {
        let parsed = reqwest::Url::parse(server).ok();
        let host = parsed
            .as_ref()
            .and_then(|u| u.host_str())
            .map(|h| h.trim_matches(['[', ']']).replace(['[', ']'], ""))
            .filter(|h| check_name(h).is_ok())
            .unwrap_or_else(|| "server".to_string());
        let mut candidates = vec![host.clone()];
        if let Some(port) = parsed.as_ref().and_then(|u| u.port_or_known_default()) {
            candidates.push(format!("{host}:{port}"));
        }
        let free = |n: &String| check_name(n).is_ok() && !self.has(n);
        if let Some(n) = candidates.iter().find(|n| free(n)) {
            return n.clone();
        }
        (2..)
            .map(|i| format!("{host}-{i}"))
            .find(|n| free(n))
            .unwrap_or(host)
    }

    /// Adds or refreshes `name` with a new session, and makes it current.
    pub fn sign_in(&mut self, name: &str, server: &str, token: String) {
        self.contexts.insert(
            name.to_string(),
            ContextEntry {
                server: server.to_string(),
                token: Some(token),
            },
        );
        self.current = Some(name.to_string());
    }

    pub fn use_context(&mut self, name: &str) -> anyhow::Result<()> {
        self.require(name)?;
        self.current = (name != LOCAL).then(|| name.to_string());
        Ok(())
    }

    pub fn rename(&mut self, old: &str, new: &str) -> anyhow::Result<()> {
        if old == LOCAL {
            anyhow::bail!("the {LOCAL:?} context (the embedded platform) cannot be renamed");
        }
        self.require(old)?;
        check_name(new).map_err(anyhow::Error::msg)?;
        if self.has(new) {
            anyhow::bail!("there is already a context named {new:?}");
        }
        if let Some(entry) = self.contexts.remove(old) {
            self.contexts.insert(new.to_string(), entry);
        }
        if let Some(t) = self.last_tenant.remove(old) {
            self.last_tenant.insert(new.to_string(), t);
        }
        if let Some(v) = self.views.remove(old) {
            self.views.insert(new.to_string(), v);
        }
        if self.current.as_deref() == Some(old) {
            self.current = Some(new.to_string());
        }
        Ok(())
    }

    /// Forgets a context; the current one falls back to `local`.
    pub fn remove(&mut self, name: &str) -> anyhow::Result<ContextEntry> {
        if name == LOCAL {
            anyhow::bail!("the {LOCAL:?} context (the embedded platform) cannot be removed");
        }
        let entry = self
            .contexts
            .remove(name)
            .ok_or_else(|| self.unknown(name))?;
        self.last_tenant.remove(name);
        self.views.remove(name);
        if self.current.as_deref() == Some(name) {
            self.current = None;
        }
        Ok(entry)
    }

    fn require(&self, name: &str) -> anyhow::Result<()> {
        if self.has(name) {
            Ok(())
        } else {
            Err(self.unknown(name))
        }
    }

    /// "no context named x (contexts: local, prod, staging)".
    pub fn unknown(&self, name: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "no context named {name:?} (contexts: {}); add one with `switchboard login --server \
             URL --context {name}`",
            self.names().join(", ")
        )
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

    #[test]
    fn a_single_session_file_of_the_last_release_becomes_a_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = remote_path(dir.path());
        std::fs::write(
            &path,
            "server = \"https://staging.example.com:8443/\"\ntoken = \"sbt_old\"\n",
        )
        .unwrap();
        let creds = Credentials::load(&path).unwrap();
        assert_eq!(creds.current_name(), "staging.example.com");
        let c = creds.get("staging.example.com").unwrap();
        assert_eq!(c.server, "https://staging.example.com:8443/");
        assert_eq!(c.token.as_deref(), Some("sbt_old"));
        // Written back in the new form, it reads the same.
        creds.save(&path).unwrap();
        assert!(!std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("server"));
        assert_eq!(Credentials::load(&path).unwrap(), creds);
    }

    #[test]
    fn a_contexts_view_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = remote_path(dir.path());
        let mut c = Credentials::default();
        c.views.insert(
            "local".into(),
            ContextView {
                recent_tenants: vec!["acme".into()],
                leads_scope: "stage won".into(),
                leads_search: String::new(),
            },
        );
        c.save(&path).unwrap();
        assert_eq!(Credentials::load(&path).unwrap(), c);
    }

    #[test]
    fn contexts_are_named_renamed_and_removed() {
        let mut c = Credentials::default();
        let a = c.name_for("http://127.0.0.1:4000");
        assert_eq!(a, "127.0.0.1");
        c.sign_in(&a, "http://127.0.0.1:4000", "sbt_a".into());
        assert_eq!(c.name_for("http://127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(c.by_server("HTTP://127.0.0.1:4000/"), Some("127.0.0.1"));
        assert!(check_name("local").is_err());
        assert!(check_name("has space").is_err());
        c.rename("127.0.0.1", "staging").unwrap();
        assert_eq!(c.current_name(), "staging");
        assert!(c.rename("staging", "local").is_err());
        assert!(c.rename("local", "x").is_err());
        c.use_context("local").unwrap();
        assert_eq!(c.current, None);
        assert!(c.use_context("nope").is_err());
        c.use_context("staging").unwrap();
        c.last_tenant.insert("staging".into(), "acme".into());
        let view = ContextView {
            recent_tenants: vec!["acme".into(), "beta".into()],
            leads_scope: "all overdue".into(),
            leads_search: "roof".into(),
        };
        c.views.insert("staging".into(), view.clone());
        c.rename("staging", "stage2").unwrap();
        assert_eq!(
            c.views.get("stage2"),
            Some(&view),
            "the view follows a rename"
        );
        c.remove("stage2").unwrap();
        assert_eq!(c.current_name(), "local");
        assert!(c.last_tenant.is_empty());
        assert!(c.views.is_empty(), "and goes with the context");
        assert!(c.remove("local").is_err());
    }
}
