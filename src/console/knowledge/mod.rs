//! The Knowledge view (`:knowledge`): the current tenant's documents, a
//! server-side search showing the matching snippets, one document's body
//! (wrapped, scrollable), the create/edit form, deletion, and
//! `:knowledge import PATH`. Read-only without `knowledge:manage`.
//! Shown in the Tenants pane, over the table or a tenant's detail.

mod forms;
pub mod import;
pub mod keys;
mod pane;
pub mod requests;
mod responses;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

pub(crate) use forms::is_knowledge_form;
pub use import::{ImportOutcome, ImportPlan, Skipped};
pub use requests::{execute, KnowledgeRequest, KnowledgeResponse};

use super::action::Action;
use super::component::{Component, Cx, Shared};
use super::effect::{Effect, Request, RequestId};
use super::keymap::Context;
use super::panes::{screen_contexts, ListState};
use super::request::Response;
use super::session::Session;
use super::state::{Confirmable, InFlight, Load, Slot};
use super::widgets::toast::Toast;
use crate::domain::knowledge::MAX_QUERY_CHARS;
use crate::domain::{KnowledgeDocument, KnowledgeSnippet, KnowledgeSummary, Permission};

/// Which of the view's screens is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Screen {
    #[default]
    List,
    /// The snippets a search found.
    Results,
    /// One document's body.
    Document,
}

#[derive(Debug, Clone, Default)]
pub struct KnowledgeView {
    open: bool,
    /// Whose documents are shown.
    tenant: Option<Uuid>,
    screen: Screen,
    documents: ListState<KnowledgeSummary>,
    /// The search being typed (`Some` while the input has the keys).
    query: Option<String>,
    /// The last search sent, and what it found.
    searched: String,
    results: ListState<KnowledgeSnippet>,
    /// The screen the open document goes back to.
    came_from: Screen,
    document: Load<KnowledgeDocument>,
    /// The document open (or opening).
    open_id: Option<Uuid>,
    /// `e` on a row: the form opens when this document's body arrives.
    edit_when_loaded: Option<Uuid>,
    /// Lines of the open document scrolled past.
    scroll: u16,
}

/// Whether the signed-in user may add, edit and delete `tenant`'s documents.
pub fn may_manage(session: &Session, tenant: Uuid) -> bool {
    session.may(tenant, &[Permission::KnowledgeManage])
}

impl KnowledgeView {
    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn close(&mut self) {
        self.open = false;
        self.query = None;
    }

    pub fn screen(&self) -> Screen {
        self.screen
    }

    pub fn documents(&self) -> &Load<Vec<KnowledgeSummary>> {
        &self.documents.items
    }

    pub fn results(&self) -> &Load<Vec<KnowledgeSnippet>> {
        &self.results.items
    }

    pub fn document(&self) -> &Load<KnowledgeDocument> {
        &self.document
    }

    /// The search being typed, if the input is open.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    pub fn scroll(&self) -> u16 {
        self.scroll
    }

    pub fn selected_document(&self) -> Option<&KnowledgeSummary> {
        self.documents.selected_item()
    }

    pub fn selected_result(&self) -> Option<&KnowledgeSnippet> {
        self.results.selected_item()
    }

    /// Opens the current tenant's documents (the router made the tenant
    /// current first).
    pub(crate) fn open(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.open = true;
        self.screen = Screen::List;
        self.query = None;
        self.load(cx)
    }

    /// The current tenant changed while the view is open: show its own.
    pub(crate) fn follow_tenant(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        if !self.open || !cx.session.moved_from(self.tenant) {
            return Vec::new();
        }
        self.open(cx)
    }

    fn may_manage(&self, session: &Session) -> bool {
        self.tenant.is_some_and(|t| may_manage(session, t))
    }

    pub(crate) fn send(
        &self,
        req: KnowledgeRequest,
        slot: Option<Slot>,
        ok: &str,
        fail: &str,
        target: Option<Uuid>,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        cx.send_about(Request::Knowledge(req), slot, ok, fail, self.tenant, target)
    }

    fn load(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = cx.session.current_tenant else {
            return Vec::new();
        };
        if self.tenant != Some(tenant) {
            self.documents.reset();
            self.results.reset();
        }
        self.tenant = Some(tenant);
        self.documents.loading();
        let req = KnowledgeRequest::List {
            tenant: tenant.to_string(),
        };
        let fail = "Could not load the knowledge base";
        self.send(req, Some(Slot::Knowledge), "", fail, None, cx)
    }

    fn search(&mut self, q: String, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        self.searched = q.clone();
        self.results.reloading();
        self.results.selected = 0;
        self.screen = Screen::Results;
        let req = KnowledgeRequest::Search {
            tenant: tenant.to_string(),
            q,
        };
        let fail = "Could not search the knowledge base";
        self.send(req, Some(Slot::KnowledgeSearch), "", fail, None, cx)
    }

    fn open_document(&mut self, id: Uuid, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        if self.screen != Screen::Document {
            self.came_from = self.screen;
        }
        self.screen = Screen::Document;
        self.open_id = Some(id);
        self.scroll = 0;
        if self.document.loaded().is_none_or(|d| d.id != id) {
            self.document = Load::Loading;
        }
        let req = KnowledgeRequest::Document {
            tenant: tenant.to_string(),
            id,
        };
        let fail = "Could not load the document";
        self.send(req, Some(Slot::KnowledgeDocument), "", fail, Some(id), cx)
    }

    /// The document an action is about: the open one, else the selected row.
    fn target(&self) -> Option<(Uuid, String)> {
        match self.screen {
            Screen::Document => self.document.loaded().map(|d| (d.id, d.title.clone())),
            Screen::Results => self
                .selected_result()
                .map(|s| (s.document_id, s.title.clone())),
            Screen::List => self.selected_document().map(|d| (d.id, d.title.clone())),
        }
    }

    /// Says why a change is refused to someone who may only read.
    fn refuse_read_only(&self, cx: &mut Cx<'_>) -> bool {
        if self.may_manage(cx.session) {
            return false;
        }
        cx.toast(Toast::error(
            "You may read this knowledge base but not change it: that needs the \
             knowledge:manage permission (ask an admin of the tenant)",
        ));
        true
    }

    /// `n`, `e` and `d`, on any screen.
    fn manage(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        if self.refuse_read_only(cx) {
            return Vec::new();
        }
        match action {
            Action::New => self.open_new_form(tenant, cx),
            Action::Edit => {
                if let Some((id, _)) = self.target() {
                    return self.edit(tenant, id, cx);
                }
            }
            Action::Remove => {
                if let Some((id, title)) = self.target() {
                    cx.confirm(
                        format!(
                            "Delete the document \"{title}\"? Agents stop finding its \
                             answers; this cannot be undone."
                        ),
                        Confirmable::DeleteKnowledge { tenant, id, title },
                    );
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Sends a confirmed delete.
    pub(crate) fn perform(&mut self, what: Confirmable, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Confirmable::DeleteKnowledge { tenant, id, title } = what else {
            return Vec::new();
        };
        let req = KnowledgeRequest::Delete {
            tenant: tenant.to_string(),
            id,
        };
        let ok = format!("Deleted the document \"{title}\"");
        let fail = format!("Could not delete \"{title}\"");
        self.send(req, None, &ok, &fail, Some(id), cx)
    }

    /// `:knowledge import PATH`, the view open on the current tenant.
    pub(crate) fn import(&mut self, path: &str, cx: &mut Cx<'_>) -> Result<Vec<Effect>, String> {
        let tenant = cx
            .session
            .current_tenant
            .ok_or("pick a tenant first (:tenant <slug>)")?;
        if path.is_empty() {
            return Err(
                "usage: :knowledge import FILE.md  or  :knowledge import DIR (its .md/.txt files)"
                    .into(),
            );
        }
        if !may_manage(cx.session, tenant) {
            return Err("importing needs the knowledge:manage permission in this tenant".into());
        }
        let mut out = self.open(cx);
        let req = KnowledgeRequest::Import {
            tenant: tenant.to_string(),
            path: path.to_string(),
        };
        cx.toast(Toast::info(format!("Importing {path}…")));
        out.extend(self.send(req, None, "", &format!("Could not import {path}"), None, cx));
        Ok(out)
    }

    fn update_search(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(q) = &mut self.query else {
            return Vec::new();
        };
        match action {
            Action::Cancel => self.query = None,
            Action::Confirm => {
                let text = q.trim().to_string();
                if text.chars().count() > MAX_QUERY_CHARS {
                    cx.toast(Toast::error(format!(
                        "A search takes at most {MAX_QUERY_CHARS} characters: shorten it"
                    )));
                    return Vec::new();
                }
                self.query = None;
                if !text.is_empty() {
                    return self.search(text, cx);
                }
            }
            Action::Key(k) => match k.code {
                crossterm::event::KeyCode::Char(c)
                    if !k
                        .modifiers
                        .contains(crossterm::event::KeyModifiers::CONTROL) =>
                {
                    q.push(c)
                }
                crossterm::event::KeyCode::Backspace => {
                    q.pop();
                }
                _ => {}
            },
            Action::Paste(s) => q.push_str(s.lines().next().unwrap_or("")),
            _ => {}
        }
        Vec::new()
    }

    fn update_list(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.documents.step(&action, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Retry => return self.load(cx),
            Action::Back => self.close(),
            Action::Open => {
                if let Some(id) = self.selected_document().map(|d| d.id) {
                    return self.open_document(id, cx);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn update_results(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.results.step(&action, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Retry => return self.search(self.searched.clone(), cx),
            Action::Back => {
                self.screen = Screen::List;
                cx.requests.forget(Slot::KnowledgeSearch);
            }
            Action::Open => {
                if let Some(id) = self.selected_result().map(|s| s.document_id) {
                    return self.open_document(id, cx);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn update_document(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        // A page is the screen less the header, footer and frame.
        let page = cx.viewport.1.saturating_sub(6).max(1);
        match action {
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Down => self.scroll = self.scroll.saturating_add(1),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(page),
            Action::PageDown => self.scroll = self.scroll.saturating_add(page),
            Action::Top => self.scroll = 0,
            Action::Bottom => self.scroll = u16::MAX,
            Action::Retry => {
                if let Some(id) = self.open_id {
                    return self.open_document(id, cx);
                }
            }
            Action::Back => {
                self.screen = self.came_from;
                cx.requests.forget(Slot::KnowledgeDocument);
            }
            _ => {}
        }
        self.scroll = self.scroll.min(self.last_scroll(cx.viewport));
        Vec::new()
    }

    /// How far the open document scrolls: its wrapped lines less a page,
    /// in the main area of a terminal of `viewport` (less the header, the
    /// pane bar, the footer and the frame).
    fn last_scroll(&self, viewport: (u16, u16)) -> u16 {
        let Some(d) = self.document.loaded() else {
            return 0;
        };
        let width = viewport.0.saturating_sub(2).max(1) as usize;
        let rows = viewport.1.saturating_sub(5) as usize;
        let lines = crate::console::text::wrap(&d.body, width).len();
        lines.saturating_sub(rows).min(u16::MAX as usize) as u16
    }
}

impl Component for KnowledgeView {
    fn contexts(&self, shared: &Shared<'_>) -> (Vec<Context>, bool) {
        if self.query.is_some() {
            return (vec![Context::KnowledgeSearch], true);
        }
        let failed = match self.screen {
            Screen::List => self.documents.is_failed(),
            Screen::Results => self.results.is_failed(),
            Screen::Document => self.document.is_failed(),
        };
        let screen = match self.screen {
            Screen::List => Context::Knowledge,
            Screen::Results => Context::KnowledgeResults,
            Screen::Document => Context::KnowledgeDocument,
        };
        // Someone who may only read is not offered the changes.
        let manage = self
            .may_manage(shared.session)
            .then_some(Context::KnowledgeManage);
        screen_contexts(failed, [Some(screen), manage].into_iter().flatten())
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.query.is_some() {
            return self.update_search(action, cx);
        }
        match action {
            Action::Filter => {
                self.query = Some(String::new());
                return Vec::new();
            }
            Action::New | Action::Edit | Action::Remove => return self.manage(action, cx),
            _ => {}
        }
        match self.screen {
            Screen::List => self.update_list(action, cx),
            Screen::Results => self.update_results(action, cx),
            Screen::Document => self.update_document(action, cx),
        }
    }

    fn on_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        match response {
            Response::Knowledge(r) => self.on_knowledge_response(id, flight, r, cx),
            _ => Vec::new(),
        }
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        pane::render(self, shared, area, buf)
    }
}
