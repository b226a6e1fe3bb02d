//! OpenAI-compatible chat completions over server-sent events: Ollama, vLLM,
//! llama.cpp's server and OpenAI itself all speak this dialect.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use eventsource_stream::EventStreamError;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::config::ProviderConfig;
use super::{
    CancellationToken, Chunk, ChunkReceiver, GenerateRequest, GenerationStats, LlmError, Provider,
    CHANNEL_DEPTH,
};

/// Connecting should be quick even when the first token is not (a server may
/// load the model before answering), so it gets its own, shorter bound.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Error bodies are shown to people; a provider's HTML error page is not.
const MAX_ERROR_MESSAGE: usize = 500;

/// An API key; `Debug` never shows it.
#[derive(Clone)]
struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    name: String,
    /// Without a trailing `/`.
    base_url: String,
    api_key: Option<ApiKey>,
    models: Vec<String>,
    timeout: Duration,
    client: reqwest::Client,
}

impl OpenAiProvider {
    /// Reads the key from the variable named by `api_key_env` now, so a
    /// missing key is a start-up error rather than a failed lead.
    pub fn from_config(name: &str, cfg: &ProviderConfig) -> Result<Self, LlmError> {
        let api_key = match &cfg.api_key_env {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(key) if !key.trim().is_empty() => Some(ApiKey(key.trim().to_string())),
                _ => {
                    return Err(LlmError::InvalidConfig(format!(
                        "[llm.providers.{name}] api_key_env = {var:?}, \
                         but that environment variable is not set"
                    )))
                }
            },
        };
        if !(cfg.base_url.starts_with("http://") || cfg.base_url.starts_with("https://")) {
            return Err(LlmError::InvalidConfig(format!(
                "[llm.providers.{name}] base_url {:?} must start with http:// or https://",
                cfg.base_url
            )));
        }
        let timeout = Duration::from_secs(cfg.timeout_secs.max(1));
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
            .read_timeout(timeout)
            .build()
            .map_err(|e| LlmError::Internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            name: name.to_string(),
            base_url: cfg.base_url.trim_end_matches('/').to_string(),
            api_key,
            models: cfg.models.clone(),
            timeout,
            client,
        })
    }

    fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.base_url)
    }

    fn unreachable(&self, url: &str, err: &reqwest::Error) -> LlmError {
        let reason = if err.is_timeout() {
            format!("timed out after {} s", self.timeout.as_secs())
        } else {
            root_cause(err)
        };
        let hint = if self.base_url.contains(":11434") {
            "is Ollama running (`ollama serve`)?".to_string()
        } else {
            format!(
                "is the server running, and is base_url in [llm.providers.{}] right?",
                self.name
            )
        };
        LlmError::Unreachable {
            url: url.to_string(),
            reason,
            hint,
        }
    }

    /// Turns a non-2xx answer into the error that tells the user what to fix.
    fn refusal(&self, model: &str, status: u16, body: &str) -> LlmError {
        let message = error_message(body);
        let lower = message.to_lowercase();
        let about_model = lower.contains("model")
            && (lower.contains("not found")
                || lower.contains("does not exist")
                || lower.contains("not exist")
                || lower.contains("unknown"));
        if status == 404 || about_model {
            let hint = if self.base_url.contains(":11434") {
                format!("; pull it with `ollama pull {model}`")
            } else {
                String::new()
            };
            return LlmError::ModelNotFound {
                model: format!("{}/{model}", self.name),
                detail: format!(" at {} ({message}){hint}", self.base_url),
            };
        }
        LlmError::Provider { status, message }
    }
}

#[async_trait]
impl Provider for OpenAiProvider {
    fn id(&self) -> &str {
        &self.name
    }

    fn models(&self) -> Vec<String> {
        self.models.clone()
    }

    fn with_api_key(&self, key: &str) -> Option<std::sync::Arc<dyn Provider>> {
        let mut tenant = self.clone();
        tenant.api_key = Some(ApiKey(key.trim().to_string()));
        Some(std::sync::Arc::new(tenant))
    }

    async fn generate(
        &self,
        req: GenerateRequest,
        cancel: CancellationToken,
    ) -> Result<ChunkReceiver, LlmError> {
        let started = Instant::now();
        let url = self.endpoint();
        let mut body = json!({
            "model": req.model,
            "messages": req.messages,
            "temperature": req.temperature,
            "max_tokens": req.max_tokens,
            "stream": true,
            // Asks for a final `usage` event; servers that do not know it ignore it.
            "stream_options": { "include_usage": true },
        });
        if !req.stop.is_empty() {
            body["stop"] = json!(req.stop);
        }
        let mut request = self.client.post(&url).json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(&key.0);
        }
        tracing::debug!(provider = %self.name, model = %req.model, %url, "chat completion");
        let response = tokio::select! {
            r = request.send() => r.map_err(|e| self.unreachable(&url, &e))?,
            () = cancel.cancelled() => return Err(LlmError::Cancelled),
        };
        let status = response.status();
        if !status.is_success() {
            let text = tokio::select! {
                t = response.text() => t.unwrap_or_default(),
                () = cancel.cancelled() => return Err(LlmError::Cancelled),
            };
            return Err(self.refusal(&req.model, status.as_u16(), &text));
        }
        let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
        let reader = StreamReader {
            tx,
            cancel,
            started,
            timeout: self.timeout,
        };
        tokio::spawn(reader.run(response));
        Ok(rx)
    }
}

/// Reads one streamed response into the channel.
struct StreamReader {
    tx: mpsc::Sender<Result<Chunk, LlmError>>,
    cancel: CancellationToken,
    started: Instant,
    timeout: Duration,
}

impl StreamReader {
    async fn run(self, response: reqwest::Response) {
        // Decoded across network reads, so a character split between two
        // of them arrives whole.
        let mut stream = std::pin::pin!(crate::sse::events(response.bytes_stream()));
        let mut tally = Tally::default();
        loop {
            // Returning drops `stream`, which closes the connection, so the
            // server stops generating for a caller that has gone away.
            let next = tokio::select! {
                biased;
                () = self.cancel.cancelled() => {
                    let _ = self.tx.try_send(Err(LlmError::Cancelled));
                    return;
                }
                () = self.tx.closed() => return,
                next = stream.next() => next,
            };
            let event = match next {
                Some(Ok(event)) => event,
                Some(Err(e)) => {
                    let reason = match e {
                        EventStreamError::Transport(e) if e.is_timeout() => {
                            format!("no data for {} s", self.timeout.as_secs())
                        }
                        EventStreamError::Transport(e) => root_cause(&e),
                        other => other.to_string(),
                    };
                    let _ = self
                        .tx
                        .send(Err(LlmError::Internal(format!(
                            "the response stream broke off: {reason}"
                        ))))
                        .await;
                    return;
                }
                // Some servers close without `[DONE]`; what arrived is the reply.
                None => break,
            };
            match parse_data(&event.data) {
                Event::Ignore => {}
                Event::Done => {
                    let _ = self.tx.send(Ok(Chunk::Done(tally.stats()))).await;
                    return;
                }
                Event::Error(message) => {
                    let _ = self
                        .tx
                        .send(Err(LlmError::Provider {
                            status: 200,
                            message,
                        }))
                        .await;
                    return;
                }
                Event::Data { content, usage } => {
                    if let Some((prompt, completion)) = usage {
                        tally.usage = Some((prompt, completion));
                    }
                    if let Some(text) = content.filter(|t| !t.is_empty()) {
                        tally.token(self.started);
                        if self.tx.send(Ok(Chunk::Token(text))).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
        let _ = self.tx.send(Ok(Chunk::Done(tally.stats()))).await;
    }
}

/// Counts and times the tokens of one reply.
#[derive(Default)]
struct Tally {
    chunks: u32,
    first: Option<(Instant, u64)>,
    last: Option<Instant>,
    /// `(prompt, completion)` tokens as the server reported them.
    usage: Option<(u32, u32)>,
}

impl Tally {
    fn token(&mut self, started: Instant) {
        let now = Instant::now();
        self.chunks += 1;
        if self.first.is_none() {
            self.first = Some((now, started.elapsed().as_millis() as u64));
        }
        self.last = Some(now);
    }

    fn stats(&self) -> GenerationStats {
        // Servers send about one token per event; count events when there is no usage.
        let (prompt_tokens, completion_tokens) = self.usage.unwrap_or((0, self.chunks));
        let (tokens_per_second, time_to_first_token_ms) = match (self.first, self.last) {
            (Some((first, ttft)), Some(last)) => {
                let secs = last.duration_since(first).as_secs_f64();
                // The first token's time is in TTFT, so the rate covers the rest.
                let rate = if secs > 0.0 && completion_tokens > 1 {
                    f64::from(completion_tokens - 1) / secs
                } else {
                    0.0
                };
                (rate, ttft)
            }
            _ => (0.0, 0),
        };
        GenerationStats {
            prompt_tokens,
            completion_tokens,
            time_to_first_token_ms,
            tokens_per_second,
        }
    }
}

#[derive(Debug, PartialEq)]
enum Event {
    Ignore,
    Done,
    Error(String),
    Data {
        content: Option<String>,
        usage: Option<(u32, u32)>,
    },
}

/// The `data` of one event (comments never reach here); what is not JSON
/// is ignored.
fn parse_data(data: &str) -> Event {
    let data = data.trim();
    if data == "[DONE]" {
        return Event::Done;
    }
    let Ok(value) = serde_json::from_str::<Value>(data) else {
        return Event::Ignore;
    };
    if value.get("error").is_some() {
        return Event::Error(error_message(data));
    }
    let content = value
        .pointer("/choices/0/delta/content")
        .and_then(Value::as_str)
        .map(str::to_string);
    let usage = value.get("usage").and_then(|u| {
        let n = |k: &str| u.get(k).and_then(Value::as_u64).map(|v| v as u32);
        Some((n("prompt_tokens").unwrap_or(0), n("completion_tokens")?))
    });
    Event::Data { content, usage }
}

/// The human part of an error body: OpenAI's `{"error":{"message"}}`,
/// Ollama's `{"error":"…"}`, vLLM/FastAPI's `{"message"}`/`{"detail"}`, or the text.
fn error_message(body: &str) -> String {
    let from_json = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        let text = |v: &Value| v.as_str().map(str::to_string);
        v.pointer("/error/message")
            .and_then(text)
            .or_else(|| v.get("error").and_then(text))
            .or_else(|| v.get("message").and_then(text))
            .or_else(|| v.get("detail").and_then(text))
    });
    let message = from_json.unwrap_or_else(|| body.trim().to_string());
    let message = if message.is_empty() {
        "no error message".to_string()
    } else {
        message
    };
    match message.char_indices().nth(MAX_ERROR_MESSAGE) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message,
    }
}

/// The innermost cause ("connection refused"), without reqwest's wrapping.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    if text.to_lowercase().contains("connection refused") {
        "connection refused".to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_parsed() {
        assert_eq!(parse_data("not json"), Event::Ignore);
        assert_eq!(parse_data("[DONE]"), Event::Done);
        assert_eq!(
            parse_data(r#"{"choices":[{"delta":{"content":"Hé"}}]}"#),
            Event::Data {
                content: Some("Hé".into()),
                usage: None
            }
        );
        assert_eq!(
            parse_data(r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#),
            Event::Data {
                content: None,
                usage: Some((7, 3))
            }
        );
        assert_eq!(
            parse_data(r#"{"error":{"message":"overloaded"}}"#),
            Event::Error("overloaded".into())
        );
    }

    #[test]
    fn error_messages_come_from_each_dialect() {
        assert_eq!(
            error_message(r#"{"error":{"message":"bad key"}}"#),
            "bad key"
        );
        assert_eq!(
            error_message(r#"{"error":"model 'x' not found"}"#),
            "model 'x' not found"
        );
        assert_eq!(error_message(r#"{"detail":"nope"}"#), "nope");
        assert_eq!(error_message("  plain  "), "plain");
        assert_eq!(error_message(""), "no error message");
        assert!(error_message(&"é".repeat(2000)).ends_with('…'));
    }

    #[test]
    fn the_key_is_not_in_debug_output() {
        let key = ApiKey("sk-secret".into());
        assert!(!format!("{key:?}").contains("sk-secret"));
    }
}

/// A provider's stream and error bodies are model output and someone
/// else's server: any line is read or ignored, never a panic.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::domain::text::arbitrary::text;
    use proptest::prelude::*;

    const WORDS: &[&str] = &[
        "[DONE]",
        "{",
        "}",
        "\"error\"",
        "\"message\"",
        ":",
        "\"choices\"",
        "[",
        "]",
        "\"content\"",
        "\"delta\"",
        "\"usage\"",
        "null",
        "1e999",
    ];

    proptest! {
        #[test]
        fn any_stream_line_or_error_body_is_read_without_panic(line in text(WORDS)) {
            let _ = parse_data(&line);
            let message = error_message(&line);
            prop_assert!(message.chars().count() <= MAX_ERROR_MESSAGE + 1);
        }
    }
}
