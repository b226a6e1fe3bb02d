//! The Knowledge view: the documents, a search's snippets, one document
//! wrapped and scrolled, the form (a refused save keeps the draft and
//! shows the server's field errors), deletion, read-only members, and
//! `:knowledge import DIR` run through the request the runtime performs.

use super::views::command;
use super::*;
use chrono::Duration;
use switchboard::console::knowledge::{import, KnowledgeRequest, KnowledgeResponse, Screen};
use switchboard::domain::knowledge::KnowledgeFormat;
use switchboard::domain::{
    KnowledgeDocument, KnowledgeSnippet, KnowledgeSummary, MembershipSummary, NewKnowledgeDocument,
    Permission,
};

const BODY: &str = "# Opening hours\n\nWe open Monday to Friday from nine to six, and on \
Saturdays from ten to two. On public holidays the salon is closed; bookings for those days \
move to the next working day.\n\n## Prices\n\nA cut is 20 euros, a colour 45.\n\n\
Line 1\nLine 2\nLine 3\nLine 4\nLine 5\nLine 6\nLine 7\nLine 8\nLine 9\nLine 10\nLine 11\n\
Line 12\nLine 13\nLine 14\nLine 15\nLine 16\nLine 17\nLine 18\nLine 19\nThe very last line.";

fn tenant_id() -> Uuid {
    Uuid::from_u128(1)
}

fn summary(n: u128, title: &str, chars: u32) -> KnowledgeSummary {
    let at = now() - Duration::days(n as i64);
    KnowledgeSummary {
        id: Uuid::from_u128(n),
        title: title.into(),
        format: KnowledgeFormat::Markdown,
        chars,
        chunks: 2,
        created_at: at,
        updated_at: at,
    }
}

fn summaries() -> Vec<KnowledgeSummary> {
    vec![
        summary(61, "Opening hours", BODY.chars().count() as u32),
        summary(62, "Prices and services", 12_480),
        summary(63, "Parking", 96),
    ]
}

fn document(n: u128, title: &str, body: &str) -> KnowledgeDocument {
    let at = now() - Duration::days(n as i64);
    KnowledgeDocument {
        id: Uuid::from_u128(n),
        tenant_id: tenant_id(),
        title: title.into(),
        body: body.into(),
        format: KnowledgeFormat::Markdown,
        chunks: 3,
        created_by: None,
        created_at: at,
        updated_at: at,
    }
}

/// The knowledge request among `fx`, and its id.
fn knowledge_request(fx: &[Effect]) -> (RequestId, KnowledgeRequest) {
    requests(fx)
        .into_iter()
        .find_map(|(id, r)| match r {
            Request::Knowledge(k) => Some((id, k)),
            _ => None,
        })
        .expect("a knowledge request")
}

fn answer(app: &mut App, fx: &[Effect], r: KnowledgeResponse) -> Vec<Effect> {
    let (id, _) = knowledge_request(fx);
    app.on_response(id, Response::Knowledge(r))
}

/// `:knowledge` on Open Arms, its documents loaded.
fn knowledge_open() -> App {
    let mut app = loaded();
    app.now = now();
    let fx = command(&mut app, "knowledge");
    let (_, req) = knowledge_request(&fx);
    assert_eq!(
        req,
        KnowledgeRequest::List {
            tenant: tenant_id().to_string()
        }
    );
    assert!(app.knowledge.is_open());
    answer(&mut app, &fx, KnowledgeResponse::List(Ok(summaries())));
    app.toasts.clear();
    app
}

/// The first document, open.
fn document_open() -> App {
    let mut app = knowledge_open();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let (_, req) = knowledge_request(&fx);
    assert_eq!(
        req,
        KnowledgeRequest::Document {
            tenant: tenant_id().to_string(),
            id: Uuid::from_u128(61)
        }
    );
    answer(
        &mut app,
        &fx,
        KnowledgeResponse::Document(Ok(document(61, "Opening hours", BODY))),
    );
    app
}

/// The import request among `fx` (opening the view also lists), and its id.
fn import_request(fx: &[Effect]) -> (RequestId, KnowledgeRequest) {
    requests(fx)
        .into_iter()
        .find_map(|(id, r)| match r {
            Request::Knowledge(k @ KnowledgeRequest::Import { .. }) => Some((id, k)),
            _ => None,
        })
        .expect("an import request")
}

fn form_value(app: &App, name: &str) -> String {
    match &app.modal {
        Some(Modal::Form(open)) => open.form.value(name),
        other => panic!("expected the form, got {other:?}"),
    }
}

#[test]
fn snapshot_knowledge_list() {
    let app = knowledge_open();
    let screen = render(&app, 80, 24);
    for text in [
        "Knowledge (3)",
        "Open Arms",
        "Opening hours",
        "Prices and services",
        "12.5k chars",
        "96 chars",
        "Updated",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    assert!(!screen.contains("read-only"), "{screen}");
    // The footer offers the changes to a manager, with the keymap's keys.
    assert!(
        screen.contains("new") && screen.contains("delete"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn empty_loading_and_failed_lists_each_say_so() {
    let mut app = loaded();
    let fx = command(&mut app, "knowledge");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Loading the knowledge base"), "{screen}");
    answer(
        &mut app,
        &fx,
        KnowledgeResponse::List(Err(ApiError::Local("connection refused".into()))),
    );
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Could not load the knowledge base"),
        "{screen}"
    );
    assert!(screen.contains("to retry"), "{screen}");
    // r retries.
    let fx = press(&mut app, &[key('r')]);
    assert!(matches!(
        knowledge_request(&fx).1,
        KnowledgeRequest::List { .. }
    ));
    answer(&mut app, &fx, KnowledgeResponse::List(Ok(Vec::new())));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("No documents yet. Press n"), "{screen}");
}

#[test]
fn snapshot_knowledge_document_wrapped_and_scrolled() {
    let mut app = document_open();
    assert_eq!(app.knowledge.screen(), Screen::Document);
    let screen = render(&app, 80, 24);
    for text in ["Opening hours", "We open Monday to Friday", "Line 1"] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    // The long paragraph wraps inside the frame instead of being cut.
    assert!(screen.contains("next working day."), "{screen}");
    assert!(!screen.contains("The very last line."), "{screen}");
    insta::assert_snapshot!(screen);

    // j scrolls a line, PgDn a page, and never past the last page.
    press(&mut app, &[key('j')]);
    assert_eq!(app.knowledge.scroll(), 1);
    press(&mut app, &[code(KeyCode::PageDown); 5]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("The very last line."), "{screen}");
    let bottom = app.knowledge.scroll();
    press(&mut app, &[key('k')]);
    assert_eq!(app.knowledge.scroll(), bottom - 1, "k moves back at once");
    // Esc goes back to the list.
    press(&mut app, &[code(KeyCode::Esc)]);
    assert_eq!(app.knowledge.screen(), Screen::List);
    assert!(app.knowledge.is_open());
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(!app.knowledge.is_open());
}

#[test]
fn snapshot_search_sends_search_knowledge_with_the_text_and_shows_the_snippets() {
    let mut app = knowledge_open();
    press(&mut app, &[key('/')]);
    typed(&mut app, "saturday hours");
    assert_eq!(app.knowledge.query(), Some("saturday hours"));
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let (_, req) = knowledge_request(&fx);
    assert_eq!(
        req,
        KnowledgeRequest::Search {
            tenant: tenant_id().to_string(),
            q: "saturday hours".into()
        }
    );
    assert_eq!(app.knowledge.screen(), Screen::Results);
    answer(
        &mut app,
        &fx,
        KnowledgeResponse::Search(Ok(vec![
            KnowledgeSnippet {
                document_id: Uuid::from_u128(61),
                title: "Opening hours".into(),
                chunk: 1,
                text: "On Saturdays from ten to two.".into(),
                score: 2.5,
            },
            KnowledgeSnippet {
                document_id: Uuid::from_u128(63),
                title: "Parking".into(),
                chunk: 2,
                text: "Free parking on Saturdays.".into(),
                score: 1.0,
            },
        ])),
    );
    let screen = render(&app, 80, 24);
    for text in [
        "Search \"saturday hours\" · 2 snippets",
        "On Saturdays from ten to two.",
        "Parking",
        "part 2",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
    // Enter on the second snippet opens its document.
    press(&mut app, &[key('j')]);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert_eq!(
        knowledge_request(&fx).1,
        KnowledgeRequest::Document {
            tenant: tenant_id().to_string(),
            id: Uuid::from_u128(63)
        }
    );
    // Back from the document is the results, then the list.
    press(&mut app, &[code(KeyCode::Esc)]);
    assert_eq!(app.knowledge.screen(), Screen::Results);
    press(&mut app, &[code(KeyCode::Esc)]);
    assert_eq!(app.knowledge.screen(), Screen::List);
}

#[test]
fn a_failed_save_keeps_the_draft_and_a_good_one_adds_the_row() {
    let mut app = knowledge_open();
    press(&mut app, &[key('n')]);
    typed(&mut app, "Refunds");
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, "No refunds after the cut.");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = knowledge_request(&fx);
    let KnowledgeRequest::Create { tenant, new } = req else {
        panic!("expected a create, got {req:?}");
    };
    assert_eq!(tenant, tenant_id().to_string());
    assert_eq!(new.title, "Refunds");
    assert_eq!(new.body, "No refunds after the cut.");
    app.on_response(
        id,
        Response::Knowledge(KnowledgeResponse::Created(Err(validation(
            "title",
            "a document with this title exists",
        )))),
    );
    // The form is still there with what was typed, and says what was wrong.
    assert_eq!(form_value(&app, "title"), "Refunds");
    assert_eq!(form_value(&app, "body"), "No refunds after the cut.");
    assert!(app
        .toasts
        .iter()
        .any(|t| t.kind == ToastKind::Error && t.text.contains("Could not add the document")));
    app.toasts.clear(); // the toast covers the form's right side
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("a document with this title exists"),
        "{screen}"
    );

    // Saved again, it goes through: the form closes, the row is there.
    let fx = press(&mut app, &[ctrl('s')]);
    answer(
        &mut app,
        &fx,
        KnowledgeResponse::Created(Ok(document(64, "Refunds", "No refunds after the cut."))),
    );
    assert!(app.modal.is_none());
    let titles: Vec<String> = app
        .knowledge
        .documents()
        .loaded()
        .unwrap()
        .iter()
        .map(|d| d.title.clone())
        .collect();
    assert!(titles.contains(&"Refunds".to_string()), "{titles:?}");
    assert_eq!(
        app.knowledge.selected_document().map(|d| d.title.as_str()),
        Some("Refunds")
    );
}

#[test]
fn an_empty_draft_is_refused_before_anything_is_sent() {
    let mut app = knowledge_open();
    press(&mut app, &[key('n')]);
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty(), "{fx:?}");
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("needed: what the document is about"),
        "{screen}"
    );
}

#[test]
fn snapshot_knowledge_edit_form_with_server_error() {
    let mut app = document_open();
    // The open document's body is at hand: the form opens on it at once.
    let fx = press(&mut app, &[key('e')]);
    assert!(requests(&fx).is_empty(), "{fx:?}");
    assert_eq!(form_value(&app, "title"), "Opening hours");
    assert_eq!(form_value(&app, "body"), BODY);
    typed(&mut app, " (summer)");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = knowledge_request(&fx);
    let KnowledgeRequest::Update { id: doc, patch, .. } = req else {
        panic!("expected an update, got {req:?}");
    };
    assert_eq!(doc, Uuid::from_u128(61));
    assert_eq!(patch.title.as_deref(), Some("Opening hours (summer)"));
    app.on_response(
        id,
        Response::Knowledge(KnowledgeResponse::Updated(Err(validation(
            "body",
            "is 50001 characters; a document holds at most 50000: split it into several documents",
        )))),
    );
    assert_eq!(form_value(&app, "title"), "Opening hours (summer)");
    app.toasts.clear(); // the toast is checked elsewhere; keep the form visible
    let screen = render(&app, 80, 24);
    assert!(screen.contains("is 50001 characters"), "{screen}");
    // The field's line is narrow; the summary says it in full.
    assert!(screen.contains("into several documents"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn edit_from_the_list_reads_the_body_first() {
    let mut app = knowledge_open();
    press(&mut app, &[key('j')]);
    let fx = press(&mut app, &[key('e')]);
    let (_, req) = knowledge_request(&fx);
    assert_eq!(
        req,
        KnowledgeRequest::Document {
            tenant: tenant_id().to_string(),
            id: Uuid::from_u128(62)
        }
    );
    assert!(app.modal.is_none());
    answer(
        &mut app,
        &fx,
        KnowledgeResponse::Document(Ok(document(62, "Prices and services", "A cut is 20."))),
    );
    assert_eq!(form_value(&app, "body"), "A cut is 20.");
    // The list stays the screen under the form.
    assert_eq!(app.knowledge.screen(), Screen::List);
}

#[test]
fn delete_asks_first_then_removes_the_row() {
    let mut app = knowledge_open();
    press(&mut app, &[key('G'), key('d')]);
    let Some(Modal::Confirm { question, .. }) = &app.modal else {
        panic!("expected a confirmation, got {:?}", app.modal);
    };
    assert!(question.contains("\"Parking\""), "{question}");
    let fx = press(&mut app, &[key('y')]);
    let (_, req) = knowledge_request(&fx);
    assert_eq!(
        req,
        KnowledgeRequest::Delete {
            tenant: tenant_id().to_string(),
            id: Uuid::from_u128(63)
        }
    );
    answer(&mut app, &fx, KnowledgeResponse::Deleted(Ok(())));
    assert_eq!(app.knowledge.documents().loaded().unwrap().len(), 2);
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text.contains("Deleted the document \"Parking\"")));
}

/// Signed in as a member of Open Arms who may read the knowledge base but
/// not change it.
fn reader() -> App {
    let mut app = new_app();
    let fx = app.start();
    let me_id = id_of(&fx, |r| *r == Request::Me);
    let list_id = id_of(&fx, |r| *r == Request::ListTenants);
    let mut who = me(false);
    who.memberships.push(MembershipSummary {
        tenant_id: tenant_id(),
        tenant_slug: "open-arms".into(),
        tenant_name: "Open Arms".into(),
        tier: Tier::Pro,
        status: TenantStatus::Active,
        role: Role::Viewer,
        permissions: vec![Permission::KnowledgeView],
    });
    app.on_response(me_id, Response::Me(Ok(who)));
    app.on_response(
        list_id,
        Response::Tenants(Ok(vec![three_tenants().remove(0)])),
    );
    app
}

#[test]
fn without_knowledge_manage_the_view_is_read_only() {
    let mut app = reader();
    app.now = now();
    let fx = command(&mut app, "knowledge");
    answer(&mut app, &fx, KnowledgeResponse::List(Ok(summaries())));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("read-only"), "{screen}");
    assert!(!screen.contains(" new "), "no new offered:\n{screen}");
    // n, e and d do nothing: no form, no confirmation, no request.
    let fx = press(&mut app, &[key('n'), key('e'), key('d')]);
    assert!(requests(&fx).is_empty(), "{fx:?}");
    assert!(app.modal.is_none());
    // Reading still works.
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert!(matches!(
        knowledge_request(&fx).1,
        KnowledgeRequest::Document { .. }
    ));
    // An import is refused with the reason, before any file is read.
    let fx = command(&mut app, "knowledge import ~/docs");
    assert!(requests(&fx).is_empty(), "{fx:?}");
    let err = app.command.as_ref().and_then(|c| c.error.clone());
    assert!(
        err.as_deref()
            .is_some_and(|e| e.contains("knowledge:manage")),
        "{err:?}"
    );
}

/// A stand-in for the API: answers each create with the document and
/// keeps what was posted.
async fn fake_server(
    posted: std::sync::Arc<std::sync::Mutex<Vec<switchboard::domain::NewKnowledgeDocument>>>,
) -> String {
    use axum::extract::{Json, Path, State};
    use axum::routing::post;
    type Posted = std::sync::Arc<std::sync::Mutex<Vec<switchboard::domain::NewKnowledgeDocument>>>;
    async fn create(
        State(posted): State<Posted>,
        Path(_tenant): Path<String>,
        Json(new): Json<switchboard::domain::NewKnowledgeDocument>,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        let n = {
            let mut p = posted.lock().unwrap();
            p.push(new.clone());
            p.len() as u128
        };
        if new.title == "Forbid me" {
            let problem = Problem {
                kind: "/problems/forbidden".into(),
                title: "Forbidden".into(),
                status: 403,
                detail: Some("You lack knowledge:manage.".into()),
                errors: Vec::new(),
                retry_after: None,
            };
            return (axum::http::StatusCode::FORBIDDEN, Json(problem)).into_response();
        }
        if new.title == "Refuse me" {
            let problem = Problem {
                kind: "/problems/validation".into(),
                title: "Invalid input".into(),
                status: 422,
                detail: Some("Check the marked fields.".into()),
                errors: vec![FieldError::new("body", "is too long")],
                retry_after: None,
            };
            return (axum::http::StatusCode::UNPROCESSABLE_ENTITY, Json(problem)).into_response();
        }
        (
            axum::http::StatusCode::CREATED,
            Json(document(100 + n, &new.title, &new.body)),
        )
            .into_response()
    }
    let app = axum::Router::new()
        .route("/api/v1/tenants/{tenant}/knowledge", post(create))
        .with_state(posted);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// `:knowledge import DIR` on Open Arms, the request run as the runtime
/// runs it against a stand-in server: the documents posted, then the App
/// given the reply (its effects returned).
fn import_dir(app: &mut App, dir: &std::path::Path) -> (Vec<NewKnowledgeDocument>, Vec<Effect>) {
    let path = dir.to_str().unwrap().to_string();
    let fx = command(app, &format!("knowledge import {path}"));
    assert!(app.knowledge.is_open(), "the view opens on the tenant");
    let (id, req) = import_request(&fx);
    assert_eq!(
        req,
        KnowledgeRequest::Import {
            tenant: tenant_id().to_string(),
            path
        }
    );
    let posted = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let response = rt.block_on(async {
        let url = fake_server(posted.clone()).await;
        let client = switchboard::api::Client::new(&url).unwrap();
        switchboard::console::knowledge::execute(&client, req).await
    });
    let posted = posted.lock().unwrap().clone();
    let fx = app.on_response(id, Response::Knowledge(response));
    (posted, fx)
}

#[test]
fn import_of_a_directory_creates_its_documents_and_reports_the_skipped_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b-prices.md"),
        "Intro line\n\n# Prices\n\nA cut is 20 euros.",
    )
    .unwrap();
    std::fs::write(dir.path().join("a-hours.md"), "We open at nine.\n").unwrap();
    std::fs::write(dir.path().join("notes.pdf"), "%PDF-1.4").unwrap();

    let mut app = loaded();
    let (posted, fx) = import_dir(&mut app, dir.path());
    let titles: Vec<&str> = posted.iter().map(|d| d.title.as_str()).collect();
    // Sorted by file name; titled by the first `# ` heading, else the name.
    assert_eq!(titles, ["a-hours", "Prices"]);
    assert_eq!(posted[0].body, "We open at nine.\n");
    assert_eq!(posted[1].format, Some(KnowledgeFormat::Markdown));

    let toast = app.toasts.last().expect("a toast");
    assert_eq!(
        toast.text,
        "Imported 2 documents; skipped 1: notes.pdf is not .md/.txt"
    );
    assert_eq!(toast.kind, ToastKind::Success);
    // The list is read again to show them.
    assert!(matches!(
        knowledge_request(&fx).1,
        KnowledgeRequest::List { .. }
    ));
}

#[test]
fn a_document_the_server_refuses_is_skipped_and_the_import_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-hours.md"), "We open at nine.").unwrap();
    std::fs::write(dir.path().join("b-refused.md"), "# Refuse me\n\ntext").unwrap();
    std::fs::write(dir.path().join("c-faq.txt"), "Ask us anything.").unwrap();

    let mut app = loaded();
    let (posted, _) = import_dir(&mut app, dir.path());
    assert_eq!(posted.len(), 3, "every file was sent, one after another");
    let toast = app.toasts.last().expect("a toast");
    assert_eq!(
        toast.text,
        "Imported 2 documents; skipped 1: b-refused.md was refused: body is too long"
    );
}

#[test]
fn import_reasons_reach_the_toast_and_a_bad_path_says_so() {
    let outcome = import::ImportOutcome {
        created: Vec::new(),
        skipped: vec![import::Skipped::new("big.md", "is too big")],
    };
    let mut app = loaded();
    let fx = command(&mut app, "knowledge import /tmp/x");
    let (id, _) = import_request(&fx);
    app.on_response(
        id,
        Response::Knowledge(KnowledgeResponse::Imported(Ok(outcome))),
    );
    let toast = app.toasts.last().expect("a toast");
    assert_eq!(toast.kind, ToastKind::Error);
    assert_eq!(
        toast.text,
        "Imported 0 documents; skipped 1: big.md is too big"
    );

    let fx = command(&mut app, "knowledge import /no/such/place");
    let (id, req) = import_request(&fx);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let response = rt.block_on(async {
        let client = switchboard::api::Client::new("http://127.0.0.1:9").unwrap();
        switchboard::console::knowledge::execute(&client, req).await
    });
    app.on_response(id, Response::Knowledge(response));
    let toast = app.toasts.last().expect("a toast");
    assert!(
        toast.text.contains("cannot read /no/such/place"),
        "{}",
        toast.text
    );

    // Without a path, the command line says how to use it.
    let fx = command(&mut app, "knowledge import");
    assert!(requests(&fx).is_empty());
    let err = app.command.as_ref().and_then(|c| c.error.clone());
    assert!(err.is_some_and(|e| e.starts_with("usage: :knowledge import")));
}

#[test]
fn knowledge_commands_complete() {
    let mut app = loaded();
    press(&mut app, &[key(':')]);
    typed(&mut app, "knowl");
    press(&mut app, &[code(KeyCode::Tab)]);
    let cmd = app.command.as_ref().expect("the command line");
    assert!(
        cmd.candidates.iter().any(|c| c == "knowledge import "),
        "{:?}",
        cmd.candidates
    );
}

#[test]
fn a_refusal_from_the_server_shows_its_message() {
    let mut app = knowledge_open();
    press(&mut app, &[key('d')]);
    let fx = press(&mut app, &[key('y')]);
    let refused = ApiError::Problem(Problem {
        kind: "/problems/forbidden".into(),
        title: "Forbidden".into(),
        status: 403,
        detail: Some("Your role may not change the knowledge base.".into()),
        errors: Vec::new(),
        retry_after: None,
    });
    answer(&mut app, &fx, KnowledgeResponse::Deleted(Err(refused)));
    let toast = app.toasts.last().expect("a toast");
    assert_eq!(toast.kind, ToastKind::Error);
    assert!(
        toast.text.contains("Could not delete \"Opening hours\"")
            && toast
                .text
                .contains("Your role may not change the knowledge base."),
        "{}",
        toast.text
    );
    // The row stays: nothing was deleted.
    assert_eq!(app.knowledge.documents().loaded().unwrap().len(), 3);
}

#[test]
fn a_request_debug_line_never_carries_a_body() {
    let req = KnowledgeRequest::Create {
        tenant: tenant_id().to_string(),
        new: switchboard::domain::NewKnowledgeDocument {
            title: "Refunds".into(),
            body: "the secret recipe".into(),
            format: None,
        },
    };
    let line = format!("{req:?}");
    assert!(
        line.contains("Refunds") && line.contains("body_chars: 17"),
        "{line}"
    );
    assert!(!line.contains("secret recipe"), "{line}");
}

#[test]
fn every_screen_draws_at_small_sizes_and_a_new_tenant_reloads() {
    let mut app = document_open();
    for (w, h) in [(20, 5), (40, 10), (60, 16), (120, 40)] {
        render(&app, w, h);
    }
    press(&mut app, &[code(KeyCode::Esc), key('/')]);
    typed(&mut app, "parking");
    for (w, h) in [(20, 5), (40, 10)] {
        let screen = render(&app, w, h);
        assert!(screen.contains("parking"), "{screen}");
    }
    // Over the server's limit: said at once, the text kept to shorten.
    press(&mut app, &[code(KeyCode::Backspace); 7]);
    app.update(Action::Paste("x".repeat(501)));
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert!(requests(&fx).is_empty(), "{fx:?}");
    assert_eq!(app.knowledge.query().map(str::len), Some(501));
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text.contains("at most 500 characters")));

    press(&mut app, &[code(KeyCode::Esc)]);
    assert_eq!(app.knowledge.query(), None, "esc leaves the search input");
    assert!(app.knowledge.is_open());
    // Another tenant made current: the view shows its documents.
    let fx = command(&mut app, "tenant beta-co");
    assert_eq!(
        knowledge_request(&fx).1,
        KnowledgeRequest::List {
            tenant: Uuid::from_u128(2).to_string()
        }
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Loading the knowledge base"), "{screen}");
    // The overview takes the pane's place, not a place under the view.
    command(&mut app, "overview");
    assert!(!app.knowledge.is_open());
}

#[test]
fn a_forbidden_import_stops_and_says_which_files_were_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "# Forbid me\n\ntext").unwrap();
    std::fs::write(dir.path().join("b.md"), "more").unwrap();
    let mut app = loaded();
    let (posted, fx) = import_dir(&mut app, dir.path());
    assert_eq!(posted.len(), 1, "nothing more is sent after a 403");
    let toast = app.toasts.last().expect("a toast");
    assert_eq!(toast.kind, ToastKind::Error);
    assert_eq!(
        toast.text,
        "Imported 0 documents; skipped 2: a.md was refused: Forbidden: You lack \
         knowledge:manage.; b.md was not sent (the import stopped at the error before)"
    );
    // Nothing new: the list is not read again.
    assert!(requests(&fx).is_empty(), "{fx:?}");
}
