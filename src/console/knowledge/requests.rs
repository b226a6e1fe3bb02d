//! The Knowledge view's API calls, their replies, and how to perform them
//! (an import reads its files in a blocking task, then creates one document
//! after another).

use uuid::Uuid;

use super::import::{self, ImportOutcome};
use crate::api::{ApiError, ApiResult, Client};
use crate::domain::{
    KnowledgeDocument, KnowledgePatch, KnowledgeSnippet, KnowledgeSummary, NewKnowledgeDocument,
};

/// Snippets one search shows.
pub const SEARCH_SNIPPETS: u32 = 10;

/// Tenants are addressed by id (it survives a slug change).
#[derive(Clone, PartialEq)]
pub enum KnowledgeRequest {
    List {
        tenant: String,
    },
    Document {
        tenant: String,
        id: Uuid,
    },
    Create {
        tenant: String,
        new: NewKnowledgeDocument,
    },
    Update {
        tenant: String,
        id: Uuid,
        patch: KnowledgePatch,
    },
    Delete {
        tenant: String,
        id: Uuid,
    },
    Search {
        tenant: String,
        q: String,
    },
    /// Reads `path` (a file or a directory's files; `~` is the home
    /// directory) in the task, never the UI loop, and creates a document
    /// of each readable file.
    Import {
        tenant: String,
        path: String,
    },
}

// A document's body is the tenant's content: a debug line (a log, a panic
// message) names the document and its size, never the text.
impl std::fmt::Debug for KnowledgeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KnowledgeRequest::List { tenant } => {
                f.debug_struct("List").field("tenant", tenant).finish()
            }
            KnowledgeRequest::Document { tenant, id } => f
                .debug_struct("Document")
                .field("tenant", tenant)
                .field("id", id)
                .finish(),
            KnowledgeRequest::Create { tenant, new } => f
                .debug_struct("Create")
                .field("tenant", tenant)
                .field("title", &new.title)
                .field("body_chars", &new.body.chars().count())
                .finish(),
            KnowledgeRequest::Update { tenant, id, patch } => f
                .debug_struct("Update")
                .field("tenant", tenant)
                .field("id", id)
                .field("title", &patch.title)
                .field(
                    "body_chars",
                    &patch.body.as_ref().map(|b| b.chars().count()),
                )
                .finish(),
            KnowledgeRequest::Delete { tenant, id } => f
                .debug_struct("Delete")
                .field("tenant", tenant)
                .field("id", id)
                .finish(),
            KnowledgeRequest::Search { tenant, q } => f
                .debug_struct("Search")
                .field("tenant", tenant)
                .field("q", q)
                .finish(),
            KnowledgeRequest::Import { tenant, path } => f
                .debug_struct("Import")
                .field("tenant", tenant)
                .field("path", path)
                .finish(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum KnowledgeResponse {
    List(ApiResult<Vec<KnowledgeSummary>>),
    Document(ApiResult<KnowledgeDocument>),
    Created(ApiResult<KnowledgeDocument>),
    Updated(ApiResult<KnowledgeDocument>),
    Deleted(ApiResult<()>),
    Search(ApiResult<Vec<KnowledgeSnippet>>),
    /// `Err` when the path itself could not be read.
    Imported(ApiResult<ImportOutcome>),
}

impl KnowledgeResponse {
    pub fn error(&self) -> Option<&ApiError> {
        match self {
            KnowledgeResponse::List(r) => r.as_ref().err(),
            KnowledgeResponse::Document(r)
            | KnowledgeResponse::Created(r)
            | KnowledgeResponse::Updated(r) => r.as_ref().err(),
            KnowledgeResponse::Deleted(r) => r.as_ref().err(),
            KnowledgeResponse::Search(r) => r.as_ref().err(),
            KnowledgeResponse::Imported(r) => r.as_ref().err(),
        }
    }
}

/// Performs one request. Runs in a spawned task, never in the UI loop.
pub async fn execute(client: &Client, req: KnowledgeRequest) -> KnowledgeResponse {
    use KnowledgeRequest as R;
    use KnowledgeResponse as A;
    match req {
        R::List { tenant } => A::List(client.knowledge(&tenant).await),
        R::Document { tenant, id } => A::Document(client.knowledge_document(&tenant, id).await),
        R::Create { tenant, new } => A::Created(client.create_knowledge(&tenant, &new).await),
        R::Update { tenant, id, patch } => {
            A::Updated(client.update_knowledge(&tenant, id, &patch).await)
        }
        R::Delete { tenant, id } => A::Deleted(client.delete_knowledge(&tenant, id).await),
        R::Search { tenant, q } => A::Search(
            client
                .search_knowledge(&tenant, &q, Some(SEARCH_SNIPPETS))
                .await,
        ),
        R::Import { tenant, path } => A::Imported(run_import(client, &tenant, path).await),
    }
}

/// Why the server refused a document: its field errors when it named any.
fn refusal(e: &ApiError) -> String {
    match e.problem().filter(|p| !p.errors.is_empty()) {
        Some(p) => {
            let each: Vec<String> = p
                .errors
                .iter()
                .map(|f| format!("{} {}", f.field, f.message))
                .collect();
            format!("was refused: {}", each.join(", "))
        }
        None => format!("was refused: {}", e.message()),
    }
}

/// Reads the files off the loop, then creates their documents one by one:
/// a document the server refuses is skipped with its reason.
async fn run_import(client: &Client, tenant: &str, path: String) -> ApiResult<ImportOutcome> {
    let plan = tokio::task::spawn_blocking(move || import::plan(&path))
        .await
        .map_err(|e| ApiError::Local(format!("the import failed: {e}")))?
        .map_err(ApiError::Local)?;
    let mut outcome = ImportOutcome {
        created: Vec::new(),
        skipped: plan.skipped,
    };
    let mut files = plan.files.into_iter();
    while let Some(file) = files.next() {
        match client.create_knowledge(tenant, &file.document).await {
            Ok(doc) => outcome.created.push(doc.title),
            Err(e) => {
                outcome
                    .skipped
                    .push(import::Skipped::new(&file.name, refusal(&e)));
                // A refused document (too long, the tenant full) leaves the
                // others to try; no permission, no session or no server
                // would refuse every one the same way.
                if !matches!(e.status(), Some(409 | 413 | 422)) {
                    for rest in files.by_ref() {
                        outcome.skipped.push(import::Skipped::new(
                            &rest.name,
                            "was not sent (the import stopped at the error before)",
                        ));
                    }
                }
            }
        }
    }
    Ok(outcome)
}
