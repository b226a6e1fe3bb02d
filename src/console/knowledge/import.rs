//! `:knowledge import PATH`: which files become documents (`.md`,
//! `.markdown`, `.txt`; a directory's own, not its subdirectories', sorted),
//! their titles (the first `# ` heading, else the file name) and why a file
//! is skipped. Blocking file I/O: the request task runs it, never the loop.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::domain::knowledge::{KnowledgeFormat, MAX_BODY_CHARS, MAX_TITLE_CHARS};
use crate::domain::NewKnowledgeDocument;

/// Extensions a document is read from.
pub const EXTENSIONS: [&str; 3] = ["md", "markdown", "txt"];

/// Skipped files a report names; the rest are counted (a toast is short).
const SHOWN_REASONS: usize = 3;

/// A file that did not become a document, and why ("is not .md/.txt").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

impl Skipped {
    pub fn new(file: &str, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.file, self.reason)
    }
}

/// A file read and ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportFile {
    pub name: String,
    pub document: NewKnowledgeDocument,
}

/// What reading the path found: the documents to create, the files skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportPlan {
    pub files: Vec<ImportFile>,
    pub skipped: Vec<Skipped>,
}

/// What an import did: the titles created, the files skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportOutcome {
    pub created: Vec<String>,
    pub skipped: Vec<Skipped>,
}

impl ImportOutcome {
    /// "Imported 3 documents; skipped 1: notes.pdf is not .md/.txt".
    pub fn summary(&self) -> String {
        let n = self.created.len();
        let mut out = format!("Imported {n} document{}", if n == 1 { "" } else { "s" });
        if !self.skipped.is_empty() {
            let mut why: Vec<String> = self
                .skipped
                .iter()
                .take(SHOWN_REASONS)
                .map(Skipped::to_string)
                .collect();
            if self.skipped.len() > SHOWN_REASONS {
                why.push(format!("and {} more", self.skipped.len() - SHOWN_REASONS));
            }
            out.push_str(&format!(
                "; skipped {}: {}",
                self.skipped.len(),
                why.join("; ")
            ));
        }
        out
    }
}

/// `~` and `~/…` are the home directory.
pub fn expand_home(path: &str) -> PathBuf {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    match path.strip_prefix('~') {
        Some("") => home().unwrap_or_else(|| PathBuf::from(path)),
        Some(rest) if rest.starts_with('/') => match home() {
            Some(h) => h.join(rest.trim_start_matches('/')),
            None => PathBuf::from(path),
        },
        _ => PathBuf::from(path),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn readable_kind(path: &Path) -> Option<KnowledgeFormat> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "md" | "markdown" => Some(KnowledgeFormat::Markdown),
        "txt" => Some(KnowledgeFormat::Text),
        _ => None,
    }
}

/// The first `# ` heading, else the file name without its extension.
pub fn title_of(name: &str, text: &str, format: KnowledgeFormat) -> String {
    let heading = (format == KnowledgeFormat::Markdown)
        .then(|| {
            text.lines()
                .find_map(|l| l.trim_start().strip_prefix("# "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
        })
        .flatten();
    let title = match heading {
        Some(h) => h.to_string(),
        None => Path::new(name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.to_string()),
    };
    title.chars().take(MAX_TITLE_CHARS).collect()
}

/// Reads one file into a document, or says why not.
fn read_one(path: &Path) -> Result<ImportFile, Skipped> {
    let name = file_name(path);
    let Some(format) = readable_kind(path) else {
        return Err(Skipped::new(&name, "is not .md/.txt"));
    };
    // UTF-8 takes at most 4 bytes a character: a bigger file cannot fit.
    let limit = (MAX_BODY_CHARS * 4) as u64;
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => return Err(Skipped::new(&name, "is not a regular file")),
        Ok(m) if m.len() > limit => {
            return Err(Skipped::new(
                &name,
                format!(
                    "is too big ({} KB; a document holds at most {MAX_BODY_CHARS} characters)",
                    m.len() / 1024
                ),
            ))
        }
        Ok(_) => {}
        Err(e) => return Err(Skipped::new(&name, format!("cannot be read: {e}"))),
    }
    let bytes =
        std::fs::read(path).map_err(|e| Skipped::new(&name, format!("cannot be read: {e}")))?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(Skipped::new(
            &name,
            "is not UTF-8 text (save it as UTF-8 and import it again)",
        ));
    };
    let chars = text.trim().chars().count();
    if chars == 0 {
        return Err(Skipped::new(&name, "is empty"));
    }
    if chars > MAX_BODY_CHARS {
        return Err(Skipped::new(
            &name,
            format!("is {chars} characters; a document holds at most {MAX_BODY_CHARS}: split it"),
        ));
    }
    Ok(ImportFile {
        document: NewKnowledgeDocument {
            title: title_of(&name, &text, format),
            body: text,
            format: Some(format),
        },
        name,
    })
}

/// Reads `path`: one file, or a directory's files (not its
/// subdirectories), sorted by name. `Err` when the path itself cannot be
/// read or holds nothing to import.
pub fn plan(path: &str) -> Result<ImportPlan, String> {
    let root = expand_home(path);
    let meta = std::fs::metadata(&root).map_err(|e| format!("cannot read {path}: {e}"))?;
    let paths: Vec<PathBuf> = if meta.is_dir() {
        let entries = std::fs::read_dir(&root).map_err(|e| format!("cannot read {path}: {e}"))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        if found.is_empty() {
            return Err(format!(
                "{path} holds no files to import (.md, .markdown, .txt)"
            ));
        }
        found
    } else {
        vec![root]
    };
    let mut out = ImportPlan::default();
    for p in paths {
        match read_one(&p) {
            Ok(f) => out.files.push(f),
            Err(s) => out.skipped.push(s),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_is_the_first_heading_else_the_file_name() {
        let md = KnowledgeFormat::Markdown;
        assert_eq!(
            title_of("faq.md", "intro\n# Opening hours\n## x", md),
            "Opening hours"
        );
        assert_eq!(title_of("faq.md", "## Not a title\ntext", md), "faq");
        assert_eq!(
            title_of("notes.txt", "# Plain text", KnowledgeFormat::Text),
            "notes"
        );
    }

    #[test]
    fn a_directory_reads_its_documents_sorted_and_says_why_others_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.md"), "# Prices\nA cut is 20 €.").unwrap();
        std::fs::write(dir.path().join("a.txt"), "We open at nine.").unwrap();
        std::fs::write(dir.path().join("c.pdf"), "%PDF").unwrap();
        std::fs::write(dir.path().join("d.md"), [0xff, 0xfe, 0x00]).unwrap();
        std::fs::write(dir.path().join("e.md"), "  \n").unwrap();
        std::fs::write(dir.path().join("f.md"), "x".repeat(MAX_BODY_CHARS + 1)).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/g.md"), "# Nested").unwrap();
        let plan = plan(dir.path().to_str().unwrap()).unwrap();
        let titles: Vec<&str> = plan
            .files
            .iter()
            .map(|f| f.document.title.as_str())
            .collect();
        assert_eq!(titles, ["a", "Prices"]);
        let skipped: Vec<String> = plan.skipped.iter().map(|s| s.to_string()).collect();
        assert_eq!(skipped[0], "c.pdf is not .md/.txt");
        assert!(skipped[1].starts_with("d.md is not UTF-8"), "{skipped:?}");
        assert_eq!(skipped[2], "e.md is empty");
        assert!(
            skipped[3].starts_with("f.md is 50001 characters"),
            "{skipped:?}"
        );
        assert_eq!(skipped.len(), 4);
    }

    #[test]
    fn a_missing_path_says_so_and_home_expands() {
        let err = plan("/no/such/dir-x").unwrap_err();
        assert!(err.starts_with("cannot read /no/such/dir-x"), "{err}");
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(expand_home("~/docs"), PathBuf::from(home).join("docs"));
        }
        assert_eq!(expand_home("a~b"), PathBuf::from("a~b"));
    }

    #[test]
    fn the_summary_names_each_skipped_file() {
        let o = ImportOutcome {
            created: vec!["a".into(), "b".into(), "c".into()],
            skipped: vec![Skipped::new("notes.pdf", "is not .md/.txt")],
        };
        assert_eq!(
            o.summary(),
            "Imported 3 documents; skipped 1: notes.pdf is not .md/.txt"
        );
        let many = ImportOutcome {
            created: vec!["a".into()],
            skipped: (1..=5)
                .map(|i| Skipped::new(&format!("{i}.pdf"), "is not .md/.txt"))
                .collect(),
        };
        assert_eq!(
            many.summary(),
            "Imported 1 document; skipped 5: 1.pdf is not .md/.txt; 2.pdf is not .md/.txt; \
             3.pdf is not .md/.txt; and 2 more"
        );
    }
}
