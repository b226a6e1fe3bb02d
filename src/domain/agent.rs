//! AI agents with versioned prompts and sharing, and the workspaces (channels)
//! that use them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sharing {
    /// Only the owning tenant sees it.
    Private,
    /// Every tenant sees it, read-only (platform tenant's agents only).
    Global,
    /// The listed tenants see it, read-only.
    Selective,
}

impl Sharing {
    pub fn as_str(self) -> &'static str {
        match self {
            Sharing::Private => "private",
            Sharing::Global => "global",
            Sharing::Selective => "selective",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Sharing::Private, Sharing::Global, Sharing::Selective]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// The part of an agent that every edit versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentConfig {
    pub system_prompt: String,
    /// `provider/model`, e.g. `local/smollm2-135m` or `ollama/llama3.2`.
    pub model: String,
    pub temperature: f32,
    pub max_tokens: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Agent {
    pub id: Uuid,
    /// The tenant that owns (and alone may change) the agent.
    pub tenant_id: Uuid,
    pub owner_name: String,
    pub name: String,
    pub description: String,
    /// The current version.
    pub version: u32,
    #[serde(flatten)]
    pub config: AgentConfig,
    pub sharing: Sharing,
    /// Tenants a selective agent is shared with (shown to its owner only).
    pub shared_with: Vec<Uuid>,
    /// True when the caller's tenant sees a shared agent it does not own
    /// (a global agent of the library, or one shared selectively with it).
    pub read_only: bool,
    /// Short lowercase words saying what the agent is for.
    #[serde(default)]
    pub tags: Vec<String>,
    /// A short heading the agent is filed under (e.g. `Sales`).
    #[serde(default)]
    pub category: Option<String>,
    /// Replies the agent gave: playground answers and workflow steps that
    /// ran it, by every tenant that uses it.
    #[serde(default)]
    pub use_count: u64,
    /// When the agent last answered.
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentVersion {
    pub agent_id: Uuid,
    pub version: u32,
    #[serde(flatten)]
    pub config: AgentConfig,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Set when this version restored an older one.
    pub restored_from: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewAgent {
    #[schema(max_length = 80, pattern = r"\S")]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[schema(max_length = 20000, pattern = r"\S")]
    pub system_prompt: String,
    #[schema(max_length = 120, pattern = r"^\s*[^/\s][^/]*/[\s\S]*\S")]
    pub model: String,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f32>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 4096)]
    pub max_tokens: Option<u32>,
    /// At most 8 short lowercase words (`a-z`, `0-9`, inner hyphens).
    #[serde(default)]
    #[schema(schema_with = tags_schema)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = category_schema)]
    pub category: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 80, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20000, pattern = r"\S")]
    pub system_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 120, pattern = r"^\s*[^/\s][^/]*/[\s\S]*\S")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 4096)]
    pub max_tokens: Option<u32>,
    /// Replaces the tags; `[]` clears them; `null` leaves them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = tags_patch_schema)]
    pub tags: Option<Vec<String>>,
    /// `null` clears the category.
    #[serde(
        default,
        with = "super::lead::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = category_schema)]
    pub category: Option<Option<String>>,
}

impl AgentPatch {
    /// Whether the patch changes what a version holds.
    pub fn touches_config(&self) -> bool {
        self.system_prompt.is_some()
            || self.model.is_some()
            || self.temperature.is_some()
            || self.max_tokens.is_some()
    }
}

/// "Use as template": a private copy of an agent the tenant can see.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentCopy {
    /// The copy's name; the original's by default.
    #[serde(default)]
    #[schema(max_length = 80, pattern = r"\S")]
    pub name: Option<String>,
}

/// How a list of agents is ordered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgentQuery {
    /// `name` (default: the tenant's own first, then shared ones, each by
    /// name), `uses` (most used first) or `last_used` (most recently used
    /// first, never used last).
    #[param(pattern = "^(name|uses|last_used)$")]
    pub sort: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AgentSort {
    #[default]
    Name,
    Uses,
    LastUsed,
}

impl AgentSort {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "name" => Some(AgentSort::Name),
            "uses" => Some(AgentSort::Uses),
            "last_used" => Some(AgentSort::LastUsed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AgentSort::Name => "name",
            AgentSort::Uses => "uses",
            AgentSort::LastUsed => "last_used",
        }
    }

    /// Orders `agents`: by name, the caller's own first (as the store lists
    /// them, names in byte order), then by this sort's key; ties keep the
    /// name order. The server and the console both sort with this.
    pub fn apply(self, agents: &mut [Agent]) {
        agents.sort_by(|a, b| (a.read_only, &a.name).cmp(&(b.read_only, &b.name)));
        match self {
            AgentSort::Name => {}
            AgentSort::Uses => agents.sort_by_key(|a| std::cmp::Reverse(a.use_count)),
            AgentSort::LastUsed => agents.sort_by_key(|a| std::cmp::Reverse(a.last_used_at)),
        }
    }

    /// The next sort a key press moves to.
    pub fn next(self) -> Self {
        match self {
            AgentSort::Name => AgentSort::Uses,
            AgentSort::Uses => AgentSort::LastUsed,
            AgentSort::LastUsed => AgentSort::Name,
        }
    }

    /// How the console names it.
    pub fn label(self) -> &'static str {
        match self {
            AgentSort::Name => "name",
            AgentSort::Uses => "uses",
            AgentSort::LastUsed => "last used",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SharingChange {
    pub sharing: Sharing,
    /// For `selective`: tenant ids or slugs.
    #[serde(default)]
    pub tenants: Vec<String>,
}

pub const DEFAULT_TEMPERATURE: f32 = 0.3;
/// A reply to a lead is a few sentences: ~200 tokens is 150 words, and a
/// small model that has not ended by then is usually repeating itself.
pub const DEFAULT_MAX_TOKENS: u32 = 200;

pub const MAX_TAGS: usize = 8;
pub const MAX_TAG_CHARS: usize = 24;
/// A tag: lowercase letters and digits, words joined by single hyphens.
pub const TAG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";
pub const MAX_CATEGORY_CHARS: usize = 40;

fn tags_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_TAG_CHARS))
                .pattern(Some(TAG_PATTERN)),
        )
        .max_items(Some(MAX_TAGS))
        .build()
}

/// As [`tags_schema`], and `null` (leave the tags as they are).
fn tags_patch_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{SchemaType, Type};
    let mut tags = tags_schema();
    tags.schema_type = SchemaType::from_iter([Type::Array, Type::Null]);
    tags
}

fn category_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(MAX_CATEGORY_CHARS))
        .pattern(Some(super::validate::NOT_BLANK))
        .description(Some(
            "A short heading the agent is filed under, 1 to 40 characters (e.g. Sales).",
        ))
        .build()
}

fn is_tag(t: &str) -> bool {
    !t.is_empty()
        && t.chars().count() <= MAX_TAG_CHARS
        && t.split('-').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// The tags as stored: each checked as sent, duplicates dropped (first kept).
pub fn validate_tags(tags: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if tags.len() > MAX_TAGS {
        errors.push(FieldError::new("tags", format!("at most {MAX_TAGS} tags")));
    }
    if let Some(bad) = tags.iter().find(|t| !is_tag(t)) {
        errors.push(FieldError::new(
            "tags",
            format!(
                "{bad:?} is not a tag: use 1 to {MAX_TAG_CHARS} lowercase letters or digits, \
                 words joined by single hyphens (e.g. follow-up)"
            ),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

/// The category as stored (trimmed), checked as sent.
pub fn validate_category(category: &str, errors: &mut Vec<FieldError>) -> String {
    if category.trim().is_empty() {
        errors.push(FieldError::new(
            "category",
            "must not be blank; send null to leave the agent without one",
        ));
    } else if category.chars().count() > MAX_CATEGORY_CHARS {
        errors.push(FieldError::new(
            "category",
            format!("must be at most {MAX_CATEGORY_CHARS} characters"),
        ));
    }
    category.trim().to_string()
}

pub fn validate_name(field: &str, name: &str, errors: &mut Vec<FieldError>) {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 80 {
        errors.push(FieldError::new(field, "needs 1 to 80 characters"));
    }
}

/// The most characters a prompt and a model name may be sent with.
pub const MAX_PROMPT_CHARS: usize = 20_000;
pub const MAX_MODEL_CHARS: usize = 120;

/// The lengths as sent, blanks included (the schema's `maxLength` counts
/// them; the config is validated again once trimmed). A model name padded
/// with leading blanks past 120 characters was accepted because only its
/// trimmed form was counted.
pub fn validate_sent_lengths(
    system_prompt: Option<&str>,
    model: Option<&str>,
    errors: &mut Vec<FieldError>,
) {
    for (field, value, max) in [
        ("system_prompt", system_prompt, MAX_PROMPT_CHARS),
        ("model", model, MAX_MODEL_CHARS),
    ] {
        if value.is_some_and(|v| v.chars().count() > max) {
            errors.push(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
    }
}

impl AgentConfig {
    pub fn validate(&self, errors: &mut Vec<FieldError>) {
        if self.system_prompt.trim().is_empty() {
            errors.push(FieldError::new("system_prompt", "is required"));
        } else if self.system_prompt.chars().count() > MAX_PROMPT_CHARS {
            errors.push(FieldError::new(
                "system_prompt",
                format!("must be at most {MAX_PROMPT_CHARS} characters"),
            ));
        }
        let fits = self.model.chars().count() <= MAX_MODEL_CHARS;
        match self.model.split_once('/') {
            Some((p, m)) if !p.is_empty() && !m.is_empty() && fits => {}
            _ => errors.push(FieldError::new(
                "model",
                "must be provider/model, e.g. local/smollm2-135m or ollama/llama3.2",
            )),
        }
        if !(0.0..=2.0).contains(&self.temperature) || self.temperature.is_nan() {
            errors.push(FieldError::new("temperature", "must be between 0 and 2"));
        }
        if self.max_tokens == 0 || self.max_tokens > 4096 {
            errors.push(FieldError::new("max_tokens", "must be between 1 and 4096"));
        }
    }
}

/// A model an agent can name, as the server's providers offer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ModelInfo {
    /// `provider/model`.
    pub id: String,
    /// Whether it can answer now (e.g. the local model's weights are installed).
    pub ready: bool,
    /// Why not, and what to do.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    WebForm,
    Email,
    Chat,
    Phone,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::WebForm,
        Channel::Email,
        Channel::Chat,
        Channel::Phone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::WebForm => "web_form",
            Channel::Email => "email",
            Channel::Chat => "chat",
            Channel::Phone => "phone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Whether a workspace's agent can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentLink {
    /// No agent linked.
    None,
    Ok,
    /// The agent was deleted.
    Deleted,
    /// The agent is no longer shared with this tenant.
    Unshared,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Workspace {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub channel: Channel,
    pub agent_id: Option<Uuid>,
    pub agent_name: Option<String>,
    pub agent_link: AgentLink,
    /// Whether the agent works leads arriving here.
    pub strategy_active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewWorkspace {
    #[schema(max_length = 80, pattern = r"\S")]
    pub name: String,
    pub channel: Channel,
    #[serde(default)]
    pub agent_id: Option<Uuid>,
    #[serde(default)]
    pub strategy_active: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkspacePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 80, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// `null` unlinks.
    #[serde(
        default,
        with = "super::lead::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Uuid>)]
    pub agent_id: Option<Option<Uuid>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_active: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_what_was_sent_blanks_included() {
        let padded = format!("{}ollama/{}", " ".repeat(10), "m".repeat(110));
        let mut errors = Vec::new();
        validate_sent_lengths(Some("Be kind."), Some(&padded), &mut errors);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "model");
        let mut errors = Vec::new();
        validate_sent_lengths(None, Some(padded.trim()), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn config_validation_names_the_fields() {
        let bad = AgentConfig {
            system_prompt: " ".into(),
            model: "llama".into(),
            temperature: 3.0,
            max_tokens: 0,
        };
        let mut errors = Vec::new();
        bad.validate(&mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["system_prompt", "model", "temperature", "max_tokens"]
        );
    }
}
