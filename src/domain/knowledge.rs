//! A tenant's knowledge base: documents (FAQ, services, hours, prices), the
//! chunks the store indexes for full-text search, the snippets retrieval
//! returns, which knowledge an agent may use, and the starter document
//! "Initialize tenant" writes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::FieldError;

/// Longest document body, in characters (a long FAQ; split bigger ones).
pub const MAX_BODY_CHARS: usize = 50_000;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Documents one tenant may keep.
pub const MAX_DOCUMENTS: u32 = 500;
/// A chunk holds at most this many characters: small enough that a snippet
/// in a prompt is about one topic, big enough to carry a whole answer.
pub const CHUNK_CHARS: usize = 700;
/// Longest search text, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most snippets one search returns.
pub const MAX_SNIPPETS: u32 = 20;
/// Snippets the research step and the playground put in a prompt.
pub const RESEARCH_SNIPPETS: u32 = 3;
/// Documents an agent's list may name.
pub const MAX_AGENT_DOCUMENTS: usize = 100;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KnowledgeFormat {
    #[default]
    Markdown,
    Text,
}

impl KnowledgeFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            KnowledgeFormat::Markdown => "markdown",
            KnowledgeFormat::Text => "text",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [KnowledgeFormat::Markdown, KnowledgeFormat::Text]
            .into_iter()
            .find(|f| f.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgeDocument {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub title: String,
    pub body: String,
    pub format: KnowledgeFormat,
    /// How many indexed chunks the body was cut into.
    pub chunks: u32,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A document in a list: everything but the body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgeSummary {
    pub id: Uuid,
    pub title: String,
    pub format: KnowledgeFormat,
    /// The body's length in characters.
    pub chars: u32,
    pub chunks: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewKnowledgeDocument {
    #[schema(max_length = 200, pattern = r"\S")]
    pub title: String,
    /// Markdown or plain text; paragraphs (blank-line separated) become the
    /// indexed chunks.
    #[schema(max_length = 50000, pattern = r"\S")]
    pub body: String,
    /// Default `markdown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<KnowledgeFormat>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50000, pattern = r"\S")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<KnowledgeFormat>,
}

/// A document as the store writes it: validated, trimmed, chunked.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeInput {
    pub title: String,
    pub body: String,
    pub format: KnowledgeFormat,
    pub chunks: Vec<String>,
}

fn check_title(title: &str, errors: &mut Vec<FieldError>) {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > MAX_TITLE_CHARS {
        errors.push(FieldError::new(
            "title",
            format!("needs 1 to {MAX_TITLE_CHARS} characters"),
        ));
    }
}

fn check_body(body: &str, errors: &mut Vec<FieldError>) {
    let n = body.trim().chars().count();
    if n == 0 {
        errors.push(FieldError::new("body", "write the document's text first"));
    } else if n > MAX_BODY_CHARS {
        errors.push(FieldError::new(
            "body",
            format!(
                "is {n} characters; a document holds at most {MAX_BODY_CHARS}: split it into \
                 several documents"
            ),
        ));
    }
}

impl NewKnowledgeDocument {
    pub fn validated(&self) -> Result<KnowledgeInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        check_title(&self.title, &mut errors);
        check_body(&self.body, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(KnowledgeInput::new(
            &self.title,
            &self.body,
            self.format.unwrap_or_default(),
        ))
    }
}

impl KnowledgePatch {
    /// The document after this patch, or the field errors.
    pub fn applied(&self, before: &KnowledgeDocument) -> Result<KnowledgeInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Some(t) = &self.title {
            check_title(t, &mut errors);
        }
        if let Some(b) = &self.body {
            check_body(b, &mut errors);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(KnowledgeInput::new(
            self.title.as_deref().unwrap_or(&before.title),
            self.body.as_deref().unwrap_or(&before.body),
            self.format.unwrap_or(before.format),
        ))
    }
}

impl KnowledgeInput {
    /// NUL characters (which PostgreSQL cannot store in text) become U+FFFD.
    pub fn new(title: &str, body: &str, format: KnowledgeFormat) -> Self {
        let body = body.trim().replace("\r\n", "\n").replace('\0', "\u{fffd}");
        Self {
            title: title.trim().replace('\0', "\u{fffd}"),
            chunks: chunk(&body, CHUNK_CHARS),
            body,
            format,
        }
    }
}

/// Cuts a body into paragraph-ish chunks of at most `cap` characters:
/// paragraphs (split at blank lines, and before Markdown headings) are
/// joined while they fit, and a paragraph longer than `cap` is cut at
/// sentence ends, else at spaces, else anywhere.
pub fn chunk(body: &str, cap: usize) -> Vec<String> {
    let cap = cap.max(20);
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        let heading = line.trim_start().starts_with('#');
        if line.trim().is_empty() || (heading && !current.is_empty()) {
            if !current.trim().is_empty() {
                paragraphs.push(current.trim().to_string());
            }
            current.clear();
        }
        if !line.trim().is_empty() {
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(line.trim_end());
        }
    }
    if !current.trim().is_empty() {
        paragraphs.push(current.trim().to_string());
    }
    let mut chunks: Vec<String> = Vec::new();
    let mut open = String::new();
    for p in paragraphs.iter().flat_map(|p| split_long(p, cap)) {
        let joined = open.chars().count() + 2 + p.chars().count();
        if open.is_empty() {
            open = p;
        } else if joined <= cap {
            open.push_str("\n\n");
            open.push_str(&p);
        } else {
            chunks.push(std::mem::replace(&mut open, p));
        }
    }
    if !open.is_empty() {
        chunks.push(open);
    }
    chunks
}

/// A paragraph in pieces of at most `cap` characters.
fn split_long(p: &str, cap: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = p.trim();
    while rest.chars().count() > cap {
        let limit = rest
            .char_indices()
            .nth(cap)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let window = &rest[..limit];
        let cut = window
            .rfind(['.', '!', '?', '\n'])
            .map(|i| i + 1)
            .filter(|&i| i > limit / 3)
            .or_else(|| window.rfind(' ').filter(|&i| i > 0))
            .unwrap_or(limit);
        out.push(rest[..cut].trim().to_string());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Words too common to find anything by; dropped from searches.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "do", "does", "for",
    "from", "have", "hello", "hi", "how", "i", "if", "in", "is", "it", "me", "my", "of", "on",
    "or", "our", "please", "so", "that", "the", "there", "this", "to", "us", "was", "we", "what",
    "when", "which", "will", "with", "would", "you", "your",
];

/// The words of a free-text question a full-text search looks for: letters
/// and digits only (so no query syntax reaches the index), lower-cased,
/// without stop words or repeats, at most 24.
pub fn search_terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let w = word.to_lowercase();
        if w.chars().count() < 2 || w.chars().count() > 40 || STOP_WORDS.contains(&w.as_str()) {
            continue;
        }
        if !out.contains(&w) {
            out.push(w);
        }
        if out.len() == 24 {
            break;
        }
    }
    out
}

/// `GET …/knowledge/search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KnowledgeQuery {
    /// Free text; the document titles and bodies are searched for its words.
    #[param(min_length = 1, max_length = 500, pattern = r"\S")]
    pub q: String,
    /// 1 to 20 snippets; default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(minimum = 1, maximum = 20)]
    pub limit: Option<u32>,
}

impl KnowledgeQuery {
    /// The terms and the limit, or the field errors.
    pub fn validated(&self) -> Result<(Vec<String>, u32), Vec<FieldError>> {
        let mut errors = Vec::new();
        let n = self.q.trim().chars().count();
        if n == 0 || n > MAX_QUERY_CHARS {
            errors.push(FieldError::new(
                "q",
                format!("needs 1 to {MAX_QUERY_CHARS} characters"),
            ));
        }
        let limit = self.limit.unwrap_or(5);
        if limit == 0 || limit > MAX_SNIPPETS {
            errors.push(FieldError::new(
                "limit",
                format!("must be between 1 and {MAX_SNIPPETS}"),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok((search_terms(&self.q), limit))
    }
}

/// A chunk a search found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgeSnippet {
    pub document_id: Uuid,
    pub title: String,
    /// The chunk's position in its document, from 1.
    pub chunk: u32,
    pub text: String,
    /// Higher is a better match (comparable within one search only).
    pub score: f64,
}

/// A snippet as a reply's stats name it: which document, which chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SnippetRef {
    pub document_id: Uuid,
    pub title: String,
    pub chunk: u32,
}

impl From<&KnowledgeSnippet> for SnippetRef {
    fn from(s: &KnowledgeSnippet) -> Self {
        Self {
            document_id: s.document_id,
            title: s.title.clone(),
            chunk: s.chunk,
        }
    }
}

/// Which of the tenant's knowledge an agent may use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KnowledgeMode {
    /// Every document of the tenant running it (the default).
    #[default]
    All,
    /// None: no retrieval.
    None,
    /// Only the documents listed.
    Documents,
}

impl KnowledgeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            KnowledgeMode::All => "all",
            KnowledgeMode::None => "none",
            KnowledgeMode::Documents => "documents",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            KnowledgeMode::All,
            KnowledgeMode::None,
            KnowledgeMode::Documents,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// `GET/PUT …/agents/{id}/knowledge`. Retrieval always reads the knowledge
/// of the tenant running the agent; a list names that tenant's documents,
/// so an agent shared with another tenant finds none of them there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentKnowledge {
    pub mode: KnowledgeMode,
    /// With `documents`: the document ids (at most 100).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub documents: Vec<Uuid>,
}

impl AgentKnowledge {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        match self.mode {
            KnowledgeMode::Documents if self.documents.is_empty() => errors.push(FieldError::new(
                "documents",
                "name at least one document, or use mode none",
            )),
            KnowledgeMode::All | KnowledgeMode::None if !self.documents.is_empty() => errors.push(
                FieldError::new("documents", "documents are listed only with mode documents"),
            ),
            _ => {}
        }
        if self.documents.len() > MAX_AGENT_DOCUMENTS {
            errors.push(FieldError::new(
                "documents",
                format!("at most {MAX_AGENT_DOCUMENTS} documents"),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// What retrieval may read: `None` for nothing, `Some(None)` for every
    /// document, `Some(Some(ids))` for those.
    pub fn scope(&self) -> Option<Option<&[Uuid]>> {
        match self.mode {
            KnowledgeMode::None => None,
            KnowledgeMode::All => Some(None),
            KnowledgeMode::Documents => Some(Some(&self.documents)),
        }
    }
}

/// The short document "Initialize tenant" writes from the business
/// description the user typed, so the first drafts have something to cite.
/// `None` when no description was typed.
pub fn starter_document(tenant: &str, business: &str) -> Option<NewKnowledgeDocument> {
    let business = business.trim();
    if business.is_empty() {
        return None;
    }
    let business: String = business.chars().take(2_000).collect();
    let tenant = tenant.trim();
    Some(NewKnowledgeDocument {
        title: format!("About {tenant}")
            .chars()
            .take(MAX_TITLE_CHARS)
            .collect(),
        body: format!(
            "# About {tenant}\n\n{tenant}: {business}\n\n\
             ## What to add here\n\nOpening hours, services and prices, and the questions \
             customers ask most, each in its own paragraph: replies may only state facts \
             found in this knowledge base."
        ),
        format: Some(KnowledgeFormat::Markdown),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_become_chunks_joined_while_they_fit() {
        let body = "# Hours\nMon-Fri 9-17.\n\nSaturday 10-14.\n\n# Prices\nA cleaning is 80 EUR.";
        let chunks = chunk(body, 40);
        assert_eq!(
            chunks,
            [
                "# Hours\nMon-Fri 9-17.\n\nSaturday 10-14.",
                "# Prices\nA cleaning is 80 EUR."
            ]
        );
        // One chunk when everything fits.
        assert_eq!(chunk(body, 700).len(), 1);
        assert!(chunk("  \n\n ", 700).is_empty());
    }

    #[test]
    fn long_paragraphs_are_cut_at_sentences_then_spaces_and_never_exceed_the_cap() {
        let sentence = "We whiten teeth in one visit. ";
        let body = sentence.repeat(100);
        let chunks = chunk(&body, 100);
        assert!(
            chunks.iter().all(|c| c.chars().count() <= 100),
            "{chunks:?}"
        );
        assert!(chunks.iter().all(|c| c.ends_with('.')), "{chunks:?}");
        let words = "word ".repeat(300);
        let chunks = chunk(&words, 50);
        assert!(chunks.iter().all(|c| c.chars().count() <= 50));
        assert_eq!(chunks.concat().matches("word").count(), 300);
        let one = "x".repeat(130);
        assert_eq!(chunk(&one, 50).concat(), one);
        let wide = "é".repeat(130);
        assert!(chunk(&wide, 50).iter().all(|c| c.chars().count() <= 50));
    }

    proptest::proptest! {
        /// Chunking never panics, keeps every word, and respects the cap.
        #[test]
        fn chunking_keeps_every_word(body in crate::domain::text::arbitrary::text(
            &["# Hours", "\n", "\n\n", ". ", "open", "closed", "é", " "]
        )) {
            let chunks = chunk(&body, 60);
            proptest::prop_assert!(chunks.iter().all(|c| c.chars().count() <= 60));
            let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>().concat();
            proptest::prop_assert_eq!(words(&chunks.join(" ")), words(&body));
        }
    }

    #[test]
    fn search_terms_are_plain_words_without_syntax_or_stop_words() {
        assert_eq!(
            search_terms("Hi, do you have OPENINGS next week? \"cleaning\" OR NEAR(x) *"),
            ["openings", "next", "week", "cleaning", "near"]
        );
        assert!(search_terms("the a to").is_empty());
    }

    #[test]
    fn a_document_list_goes_only_with_its_mode() {
        let id = Uuid::nil();
        let ok = AgentKnowledge {
            mode: KnowledgeMode::Documents,
            documents: vec![id],
        };
        assert!(ok.validate().is_ok());
        assert_eq!(ok.scope(), Some(Some(&[id][..])));
        let empty = AgentKnowledge {
            mode: KnowledgeMode::Documents,
            documents: vec![],
        };
        assert!(empty.validate().is_err());
        let stray = AgentKnowledge {
            mode: KnowledgeMode::All,
            documents: vec![id],
        };
        assert!(stray.validate().is_err());
        assert_eq!(AgentKnowledge::default().scope(), Some(None));
    }

    #[test]
    fn the_starter_document_quotes_the_business() {
        let doc = starter_document("Open Arms", " a family dental clinic in Porto ").unwrap();
        assert_eq!(doc.title, "About Open Arms");
        assert!(doc
            .body
            .contains("Open Arms: a family dental clinic in Porto"));
        assert!(doc.validated().is_ok());
        assert_eq!(starter_document("Open Arms", "  "), None);
    }

    #[test]
    fn nul_characters_are_stored_as_replacement_characters() {
        let input = KnowledgeInput::new("A\0B", "x\0y", KnowledgeFormat::Text);
        assert_eq!(
            (input.title.as_str(), input.body.as_str()),
            ("A\u{fffd}B", "x\u{fffd}y")
        );
        assert_eq!(input.chunks, ["x\u{fffd}y"]);
    }
}
