//! The embedded provider `local`: SmolLM2-135M-Instruct, run in-process on
//! the CPU, so agents work with no model server and no API key.

mod constrain;
mod model;
mod sampling;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use tokio::sync::{mpsc, OnceCell};

pub use model::{load_tokenizer, Generated, LocalModel, CONTEXT_TOKENS};
pub use sampling::{Repetition, NO_REPEAT_NGRAM};

use super::fetch::FETCH_COMMAND;
use super::{
    CancellationToken, Chunk, ChunkReceiver, GenerateRequest, LlmError, Provider, ScoreRequest,
    Scores, CHANNEL_DEPTH,
};

/// The provider's name in `"local/smollm2-135m"`.
pub const LOCAL_PROVIDER: &str = "local";
/// The one model it offers.
pub const LOCAL_MODEL: &str = "smollm2-135m";

/// Sets how many threads the model computes on. Call it once at start-up,
/// before any other thread exists: candle reads `CANDLE_NUM_THREADS` once, and
/// changing the environment while other threads run is not sound.
///
/// The default is half the cores because candle's workers spin at barriers:
/// on a 2-core machine that also serves HTTP (or builds code), two workers
/// made generation 5–10× slower than one (measured: ~5–20 tok/s against ~40
/// tok/s under load), while on an idle machine one worker loses little.
pub fn configure_threads(threads: Option<usize>) {
    if std::env::var_os("CANDLE_NUM_THREADS").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = threads.unwrap_or(cores / 2).max(1);
    std::env::set_var("CANDLE_NUM_THREADS", threads.to_string());
}

/// Loads the weights on first use (about 1.5 s and 500 MB), then keeps them.
/// Generations take turns: two at once would only halve each one's speed on
/// a small machine, and the model has one KV cache.
pub struct LocalProvider {
    path: PathBuf,
    model: OnceCell<Arc<Mutex<LocalModel>>>,
}

impl LocalProvider {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            model: OnceCell::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The loaded model, loading it now if this is the first call. Call it at
    /// start-up to take the load off the first lead's reply time.
    pub async fn load(&self) -> Result<Arc<Mutex<LocalModel>>, LlmError> {
        self.ready()?;
        let model = self
            .model
            .get_or_try_init(|| async {
                let path = self.path.clone();
                let started = Instant::now();
                let model = tokio::task::spawn_blocking(move || LocalModel::load(&path))
                    .await
                    .map_err(|e| LlmError::Internal(format!("the model loader failed: {e}")))??;
                tracing::info!(
                    path = %self.path.display(),
                    ms = started.elapsed().as_millis() as u64,
                    "local model loaded"
                );
                Ok::<_, LlmError>(Arc::new(Mutex::new(model)))
            })
            .await?;
        Ok(model.clone())
    }
}

#[async_trait]
impl Provider for LocalProvider {
    fn id(&self) -> &str {
        LOCAL_PROVIDER
    }

    fn models(&self) -> Vec<String> {
        vec![LOCAL_MODEL.to_string()]
    }

    fn ready(&self) -> Result<(), LlmError> {
        if self.path.is_file() {
            Ok(())
        } else {
            Err(LlmError::ModelMissing {
                path: self.path.display().to_string(),
                fetch_command: FETCH_COMMAND.to_string(),
            })
        }
    }

    async fn generate(
        &self,
        req: GenerateRequest,
        cancel: CancellationToken,
    ) -> Result<ChunkReceiver, LlmError> {
        if req.model != LOCAL_MODEL {
            return Err(LlmError::ModelNotFound {
                model: format!("{LOCAL_PROVIDER}/{}", req.model),
                detail: format!(": the embedded provider has only `{LOCAL_MODEL}`"),
            });
        }
        let started = Instant::now();
        let model = self.load().await?;
        let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
        tokio::task::spawn_blocking(move || {
            // A panic in an earlier generation poisons the lock, but the model
            // holds no state between requests (the KV cache is cleared each
            // time), so it is safe to go on using it.
            let mut model = model
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let stopped = || cancel.is_cancelled() || tx.is_closed();
            let mut emit = |text: String| tx.blocking_send(Ok(Chunk::Token(text))).is_ok();
            // A cancelled reply still reports what it counted (its prompt
            // above all): a caller that stopped it may still be listening.
            let last = model
                .generate(&req, started, &stopped, &mut emit)
                .map(|generated| Chunk::Done(generated.stats));
            // Fails only if the receiver is gone, and then nobody needs to know.
            let _ = tx.blocking_send(last);
        });
        Ok(rx)
    }

    async fn score(
        &self,
        req: ScoreRequest,
        cancel: CancellationToken,
    ) -> Result<Option<Scores>, LlmError> {
        if req.model != LOCAL_MODEL {
            return Err(LlmError::ModelNotFound {
                model: format!("{LOCAL_PROVIDER}/{}", req.model),
                detail: format!(": the embedded provider has only `{LOCAL_MODEL}`"),
            });
        }
        let model = self.load().await?;
        let scored = tokio::task::spawn_blocking(move || {
            let mut model = model
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let stopped = || cancel.is_cancelled();
            model.score(&req.messages, &req.prefix, &req.continuations, &stopped)
        })
        .await
        .map_err(|e| LlmError::Internal(format!("the scorer failed: {e}")))??;
        match scored {
            Some((log_likelihoods, prompt_tokens)) => Ok(Some(Scores {
                log_likelihoods,
                prompt_tokens,
            })),
            None => Err(LlmError::Cancelled),
        }
    }
}
