//! Model providers: one streaming `Provider` interface over OpenAI-compatible
//! servers (Ollama, vLLM, llama.cpp, OpenAI) and the embedded SmolLM2 model.
//!
//! The server builds a [`Providers`] registry from [`LlmConfig`] once, then for
//! each agent turn calls [`Providers::resolve`] with a `"provider/model"` name
//! and [`Provider::generate`], reading [`Chunk`]s from the returned channel.
//! Dropping the receiver (or cancelling the token) stops generation.

pub mod config;
pub mod download;
pub mod fetch;
pub mod local;
pub mod openai;
pub mod progress;
pub mod qualify;
mod registry;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use config::{LlmConfig, LocalConfig, ProviderConfig, ProviderKind};
pub use registry::Providers;
pub use tokio_util::sync::CancellationToken;

/// Who said a message, in the chat-completions sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

impl ChatRole {
    /// The role's name on the wire and in chat templates.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: ChatRole, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// One generation: a conversation to continue with an assistant message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    /// Model name within the provider (the part after `provider/`).
    pub model: String,
    pub messages: Vec<ChatMessage>,
    /// 0 = greedy (deterministic); higher values sample more freely.
    pub temperature: f32,
    /// Upper bound on generated tokens.
    pub max_tokens: u32,
    /// When not empty, the reply must begin with one of these texts, e.g.
    /// the fixed lines of an answer format around one word to choose. The
    /// embedded model enforces it while decoding (the model still picks the
    /// likeliest); other providers only see what the prompt asks, so callers
    /// parse the reply either way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub starts: Vec<String>,
    /// Generation ends once the reply contains one of these (after any
    /// required start), e.g. `"\n\n"` after a one-line answer. The text up
    /// to and including it may already have been streamed; callers trim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
}

/// The likelihood of a few fixed continuations of a conversation, e.g. each
/// category a lead may be given: the model's choice among them without
/// letting it write anything else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    /// What the assistant's reply begins with before the continuation.
    pub prefix: String,
    pub continuations: Vec<String>,
}

/// One natural-log likelihood per continuation (the sum over its tokens).
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub log_likelihoods: Vec<f64>,
    pub prompt_tokens: u32,
}

/// What the generation channel carries: text as it is produced, then stats.
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    /// A piece of the reply; always whole UTF-8 characters.
    Token(String),
    /// The last item on success, and from a provider that counted a
    /// cancelled generation (the local model), its last item then too.
    Done(GenerationStats),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerationStats {
    /// Tokens in the prompt; 0 when the provider did not report usage.
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// From the `generate` call to the first token (includes queueing,
    /// connection set-up and prompt processing).
    pub time_to_first_token_ms: u64,
    /// Completion tokens per second after the first token (decode speed).
    pub tokens_per_second: f64,
}

/// Why a generation could not run. Each message says what to do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("the local model is not installed at {path}; run `{fetch_command}` to download it")]
    ModelMissing { path: String, fetch_command: String },
    #[error("provider unreachable at {url}: {reason}; {hint}")]
    Unreachable {
        url: String,
        reason: String,
        hint: String,
    },
    #[error("model `{model}` not found{detail}")]
    ModelNotFound { model: String, detail: String },
    #[error("provider answered HTTP {status}: {message}")]
    Provider { status: u16, message: String },
    #[error("generation cancelled")]
    Cancelled,
    #[error("invalid model provider configuration: {0}")]
    InvalidConfig(String),
    #[error("internal error in the model provider: {0}")]
    Internal(String),
}

/// The receiving end of one generation.
pub type ChunkReceiver = mpsc::Receiver<Result<Chunk, LlmError>>;

/// Channel depth: enough to absorb a burst of tokens while the caller writes
/// them out, small enough that a stalled caller slows generation down.
pub(crate) const CHANNEL_DEPTH: usize = 64;

/// A source of chat completions.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name in `"provider/model"`.
    fn id(&self) -> &str;

    /// Start generating. Errors found before the first token (unreachable
    /// server, unknown model, missing weights) are returned here; later ones
    /// arrive on the channel, which ends after `Chunk::Done` or an error.
    /// Generation stops when `cancel` fires or the receiver is dropped.
    async fn generate(
        &self,
        req: GenerateRequest,
        cancel: CancellationToken,
    ) -> Result<ChunkReceiver, LlmError>;

    /// Scores `req`'s continuations, or `None` when the provider cannot
    /// (then callers generate and parse the answer instead).
    async fn score(
        &self,
        _req: ScoreRequest,
        _cancel: CancellationToken,
    ) -> Result<Option<Scores>, LlmError> {
        Ok(None)
    }

    /// Model names this provider offers (without the provider prefix).
    fn models(&self) -> Vec<String>;

    /// The same provider calling with a tenant's own API key (a write-only
    /// tenant secret), or `None` when it takes no key (the local model).
    fn with_api_key(&self, _key: &str) -> Option<std::sync::Arc<dyn Provider>> {
        None
    }

    /// A cheap check (no network) that the provider can run at all, e.g. that
    /// the local weights are installed.
    fn ready(&self) -> Result<(), LlmError> {
        Ok(())
    }
}

impl LlmError {
    /// The same failure without the server's internals (provider URLs,
    /// model file paths, configuration), for anyone who is not a platform
    /// admin: a tenant learns what happened and whom to ask, never where the
    /// server's model runs. [`std::fmt::Display`] keeps every detail, for
    /// platform admins and the log.
    pub fn public_message(&self) -> String {
        match self {
            LlmError::ModelMissing { .. } => {
                "the local model is not installed on this server; a platform admin installs \
                 it with `switchboard model fetch` (about 93 MB), or names another model in \
                 the agent"
                    .into()
            }
            LlmError::Unreachable { reason, .. } => format!(
                "the model provider cannot be reached ({reason}); ask a platform admin to \
                 check it"
            ),
            LlmError::ModelNotFound { model, .. } => {
                format!("model `{model}` is not available from its provider")
            }
            LlmError::Provider { status, message } => {
                format!("provider answered HTTP {status}: {message}")
            }
            LlmError::Cancelled => self.to_string(),
            LlmError::InvalidConfig(_) => {
                "the model provider is not configured correctly; ask a platform admin".into()
            }
            LlmError::Internal(_) => {
                "internal error in the model provider; the details are in the server log".into()
            }
        }
    }
}

/// A whole answer, trimmed, with its token counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub text: String,
    pub prompt_tokens: u32,
    /// As the provider counted them, or the pieces received when it did not.
    pub completion_tokens: u32,
}

/// Runs `req` to the end and returns the whole answer; stops (with
/// [`LlmError::Cancelled`]) when `cancel` fires.
pub async fn complete(
    provider: &dyn Provider,
    req: GenerateRequest,
    cancel: &CancellationToken,
) -> Result<Completion, LlmError> {
    let mut rx = provider.generate(req, cancel.clone()).await?;
    let mut text = String::new();
    let mut pieces = 0;
    loop {
        let chunk = tokio::select! {
            _ = cancel.cancelled() => return Err(LlmError::Cancelled),
            chunk = rx.recv() => chunk,
        };
        match chunk {
            Some(Ok(Chunk::Token(t))) => {
                pieces += 1;
                text.push_str(&t);
            }
            Some(Ok(Chunk::Done(stats))) => {
                return Ok(Completion {
                    text: text.trim().to_string(),
                    prompt_tokens: stats.prompt_tokens,
                    completion_tokens: stats.completion_tokens.max(pieces),
                })
            }
            Some(Err(e)) => return Err(e),
            None => {
                return Err(LlmError::Internal(
                    "the model provider stopped without finishing".into(),
                ))
            }
        }
    }
}

#[cfg(test)]
mod disclosure_tests {
    use super::*;

    /// Issue 13: provider URLs and model file paths are for platform admins.
    #[test]
    fn the_public_message_names_no_url_path_or_configuration() {
        let errors = [
            LlmError::ModelMissing {
                path: "/srv/switchboard/models/smollm2.gguf".into(),
                fetch_command: "switchboard model fetch".into(),
            },
            LlmError::Unreachable {
                url: "http://10.0.3.7:11434/v1/chat/completions".into(),
                reason: "connection refused".into(),
                hint: "is the server running, and is base_url in [llm.providers.vllm] right?"
                    .into(),
            },
            LlmError::ModelNotFound {
                model: "vllm/llama".into(),
                detail: " at http://10.0.3.7:8000/v1 (no such model)".into(),
            },
            LlmError::InvalidConfig("base_url http://10.0.3.7:8000 is not https".into()),
            LlmError::Internal("cannot read /srv/switchboard/models/smollm2.gguf".into()),
        ];
        for e in errors {
            let public = e.public_message();
            for secret in ["10.0.3.7", "/srv/", "base_url", "[llm"] {
                assert!(!public.contains(secret), "{public}");
            }
        }
    }

    /// A workflow that failed for want of the local model says how to
    /// install it: on the embedded platform the reader is the admin.
    #[test]
    fn a_missing_local_model_says_the_command_that_installs_it() {
        let e = LlmError::ModelMissing {
            path: "/srv/switchboard/models/smollm2.gguf".into(),
            fetch_command: "switchboard model fetch".into(),
        };
        let public = e.public_message();
        assert!(public.contains("`switchboard model fetch`"), "{public}");
        assert!(!public.contains("/srv/"), "{public}");
    }
}
