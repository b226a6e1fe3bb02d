//! `Providers`: the configured providers by name, and `"provider/model"` lookup.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::config::{LlmConfig, ProviderKind};
use super::local::{LocalProvider, LOCAL_PROVIDER};
use super::openai::OpenAiProvider;
use super::{LlmError, Provider};

/// Every provider the server may run agents on, built once from config.
#[derive(Clone, Default)]
pub struct Providers {
    by_name: BTreeMap<String, Arc<dyn Provider>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("names", &self.by_name.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Providers {
    /// Builds the registry. Fails on a bad section (a reserved or malformed
    /// name, an unset `api_key_env` variable) so the server refuses to start
    /// rather than failing on the first lead.
    pub fn from_config(cfg: &LlmConfig, data_dir: &Path) -> Result<Self, LlmError> {
        let mut providers = Providers::default();
        if cfg.local.enabled {
            let path = cfg
                .local
                .model_path
                .clone()
                .unwrap_or_else(|| super::fetch::model_path(data_dir));
            providers.insert(Arc::new(LocalProvider::new(path)));
        }
        for (name, section) in &cfg.providers {
            if name == LOCAL_PROVIDER || name.is_empty() || name.contains('/') {
                return Err(LlmError::InvalidConfig(format!(
                    "[llm.providers.{name}]: the name must be non-empty, contain no `/`, \
                     and not be `{LOCAL_PROVIDER}` (reserved for the embedded model)"
                )));
            }
            let provider: Arc<dyn Provider> = match section.kind {
                ProviderKind::Openai => Arc::new(OpenAiProvider::from_config(name, section)?),
            };
            providers.insert(provider);
        }
        Ok(providers)
    }

    /// Adds or replaces a provider (used by `from_config`, and by tests that
    /// bring their own).
    pub fn insert(&mut self, provider: Arc<dyn Provider>) {
        self.by_name.insert(provider.id().to_string(), provider);
    }

    /// Splits `"provider/model"` (the model part may itself contain `/`, as in
    /// `vllm/meta-llama/Llama-3.2-1B`) and checks the model is offered.
    pub fn resolve(&self, model: &str) -> Result<(Arc<dyn Provider>, String), LlmError> {
        let not_found = |detail: String| LlmError::ModelNotFound {
            model: model.to_string(),
            detail,
        };
        let Some((name, inner)) = model.split_once('/') else {
            return Err(not_found(format!(
                ": write it as `provider/model`; choices: {}",
                self.choices()
            )));
        };
        let Some(provider) = self.by_name.get(name) else {
            return Err(not_found(format!(
                ": no provider `{name}` is configured; choices: {}",
                self.choices()
            )));
        };
        if !provider.models().iter().any(|m| m == inner) {
            return Err(not_found(format!(
                ": provider `{name}` offers {}; add it to `models` in [llm.providers.{name}]",
                join_or_none(&provider.models())
            )));
        }
        provider.ready()?;
        Ok((provider.clone(), inner.to_string()))
    }

    /// Like [`Providers::resolve`], for one tenant: when the tenant keeps a
    /// secret named `<provider>_api_key`, the provider calls with that key
    /// instead of the configured one.
    pub fn resolve_for(
        &self,
        model: &str,
        secrets: &std::collections::BTreeMap<String, String>,
    ) -> Result<(Arc<dyn Provider>, String), LlmError> {
        let (provider, inner) = self.resolve(model)?;
        let own = secrets
            .get(&tenant_key_name(provider.id()))
            .filter(|k| !k.trim().is_empty())
            .and_then(|k| provider.with_api_key(k));
        Ok((own.unwrap_or(provider), inner))
    }

    /// Every `"provider/model"` choice, sorted by provider.
    pub fn list(&self) -> Vec<String> {
        self.by_name
            .iter()
            .flat_map(|(name, p)| p.models().into_iter().map(move |m| format!("{name}/{m}")))
            .collect()
    }

    fn choices(&self) -> String {
        join_or_none(&self.list())
    }
}

/// The tenant secret that holds a tenant's own key for `provider`.
pub fn tenant_key_name(provider: &str) -> String {
    format!("{provider}_api_key")
}

fn join_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::config::{LocalConfig, ProviderConfig};

    fn config() -> LlmConfig {
        let mut cfg = LlmConfig {
            local: LocalConfig {
                enabled: true,
                model_path: Some("/nonexistent/model.gguf".into()),
                threads: None,
            },
            ..Default::default()
        };
        cfg.providers.insert(
            "vllm".into(),
            ProviderConfig {
                kind: ProviderKind::Openai,
                base_url: "http://127.0.0.1:1/v1".into(),
                api_key_env: None,
                models: vec!["meta-llama/Llama-3.2-1B".into()],
                timeout_secs: 5,
            },
        );
        cfg
    }

    #[test]
    fn resolve_splits_at_the_first_slash() {
        let p = Providers::from_config(&config(), Path::new("/d")).unwrap();
        let (provider, model) = p.resolve("vllm/meta-llama/Llama-3.2-1B").unwrap();
        assert_eq!(provider.id(), "vllm");
        assert_eq!(model, "meta-llama/Llama-3.2-1B");
        assert_eq!(
            p.list(),
            vec!["local/smollm2-135m", "vllm/meta-llama/Llama-3.2-1B"]
        );
    }

    #[test]
    fn unknown_names_list_the_choices() {
        let p = Providers::from_config(&config(), Path::new("/d")).unwrap();
        let err = p.resolve("ollama/llama3.2").err().unwrap().to_string();
        assert!(err.contains("no provider `ollama`"), "{err}");
        assert!(err.contains("vllm/meta-llama/Llama-3.2-1B"), "{err}");
        let err = p.resolve("vllm/gpt-4").err().unwrap().to_string();
        assert!(err.contains("add it to `models`"), "{err}");
    }

    #[test]
    fn a_missing_local_model_says_how_to_fetch_it() {
        let p = Providers::from_config(&config(), Path::new("/d")).unwrap();
        let err = p.resolve("local/smollm2-135m").err().unwrap();
        assert!(matches!(err, LlmError::ModelMissing { .. }), "{err:?}");
        assert!(err.to_string().contains("switchboard model fetch"), "{err}");
    }

    #[test]
    fn reserved_names_and_unset_key_variables_are_config_errors() {
        let mut cfg = config();
        let section = cfg.providers["vllm"].clone();
        cfg.providers.insert("local".into(), section.clone());
        assert!(Providers::from_config(&cfg, Path::new("/d")).is_err());

        let mut cfg = config();
        cfg.providers.insert(
            "openai".into(),
            ProviderConfig {
                api_key_env: Some("SWITCHBOARD_TEST_UNSET_KEY_VARIABLE".into()),
                ..section
            },
        );
        let err = Providers::from_config(&cfg, Path::new("/d"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("SWITCHBOARD_TEST_UNSET_KEY_VARIABLE"), "{err}");
    }
}
