//! Writing an export: readable only by its owner (0600), never through a
//! symbolic link, never over an existing file unless the user said so.
//! Runs in the request task, off the UI loop.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// Why an export was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportRefused {
    /// A file is there: the user decides whether to replace it.
    Exists,
    /// Nothing will be written there (a link, a directory, an I/O error).
    Cannot(String),
}

/// Checks `path` before the leads are fetched, so a refusal costs nothing.
pub fn preflight(path: &Path, replace: bool) -> Result<(), ExportRefused> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(cannot(path, &e)),
        // A toast has four lines: the file's name and why, briefly.
        Ok(m) if m.file_type().is_symlink() => Err(ExportRefused::Cannot(format!(
            "{} is a symbolic link, which an export never follows; choose another name",
            name(path)
        ))),
        Ok(m) if !m.is_file() => Err(ExportRefused::Cannot(format!(
            "{} is not a regular file; choose another name",
            name(path)
        ))),
        Ok(_) if replace => Ok(()),
        Ok(_) => Err(ExportRefused::Exists),
    }
}

/// Writes `bytes` to `path` with mode 0600. A new file is created only if
/// nothing is there (`O_CREAT|O_EXCL`, which does not follow a link even
/// to a missing target); a replacement is written beside it and renamed
/// over it, which replaces the directory entry and never writes through a
/// link that appeared since the preflight.
pub fn write(path: &Path, bytes: &[u8], replace: bool) -> Result<(), ExportRefused> {
    preflight(path, replace)?;
    if !replace {
        let mut file = match create_private(path) {
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(ExportRefused::Exists),
            other => other.map_err(|e| cannot(path, &e))?,
        };
        return fill(&mut file, bytes).map_err(|e| {
            let _ = std::fs::remove_file(path);
            cannot(path, &e)
        });
    }
    let tmp = beside(path);
    let written = create_private(&tmp)
        .and_then(|mut file| fill(&mut file, bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        cannot(path, &e)
    })
}

fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    // The umask may have taken bits away, never added them; make it exact.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

fn fill(file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    file.write_all(bytes)?;
    file.sync_all()
}

/// A name in the same directory (so the rename stays on one file system)
/// that nothing else uses.
fn beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    let unique = uuid::Uuid::new_v4().simple().to_string();
    path.with_file_name(format!(".{name}.{}.tmp", &unique[..12]))
}

fn cannot(path: &Path, e: &std::io::Error) -> ExportRefused {
    ExportRefused::Cannot(format!("cannot write {}: {e}", name(path)))
}

fn name(path: &Path) -> String {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).map_or(0, |m| m.permissions().mode() & 0o777)
    }

    #[test]
    fn a_new_export_is_private_and_an_existing_file_needs_a_yes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leads.csv");
        write(&path, b"a,b\n", false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        assert_eq!(write(&path, b"new\n", false), Err(ExportRefused::Exists));
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
        write(&path, b"new\n", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new\n");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        // Nothing is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_that_was_world_readable_is_private_after() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leads.csv");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&path, b"new", true).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_never_written_through_even_when_replacing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("victim");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("leads.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        for replace in [false, true] {
            let err = write(&link, b"leads", replace).unwrap_err();
            assert!(
                matches!(&err, ExportRefused::Cannot(m) if m.contains("symbolic link")),
                "{err:?}"
            );
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        // A dangling link is not followed to create its target either.
        let dangling = dir.path().join("dangling.csv");
        std::os::unix::fs::symlink(dir.path().join("made-through-link"), &dangling).unwrap();
        assert!(write(&dangling, b"leads", false).is_err());
        assert!(!dir.path().join("made-through-link").exists());
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write(dir.path(), b"x", true).unwrap_err();
        assert!(matches!(err, ExportRefused::Cannot(_)), "{err:?}");
    }
}
