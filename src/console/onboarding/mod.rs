//! Onboarding: "Initialize tenant", the one screen in the Tenants pane that
//! sets a tenant up step by step (see `init`), offered on the first run to
//! a platform admin with no tenant yet.

mod init;
mod pane;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

pub use init::{template_prompt, InitProgress, InitStep, FIRST_AGENT, FIRST_WORKSPACE};

use crate::console::action::Action;
use crate::console::component::{Component, Cx, Shared};
use crate::console::effect::{Effect, RequestId};
use crate::console::keymap::Context;
use crate::console::request::Response;
use crate::console::state::{FormPurpose, InFlight, OpenForm};
use crate::console::tenants;
use crate::console::widgets::form::{FieldKind, Form};
use crate::domain::PlaygroundSession;

/// What onboarding leaves to other features once a step is answered: the
/// App hands it on (onboarding never writes another feature's state).
#[derive(Debug, Clone, PartialEq)]
pub enum Handoff {
    /// The tenant was created: the Tenants table selects it.
    TenantCreated(Uuid),
    /// Every step went through: the playground opens on this session.
    Finished(PlaygroundSession),
}

#[derive(Debug, Clone, Default)]
pub struct Onboarding {
    /// The "Initialize tenant" form, while it is shown.
    form: Option<Box<OpenForm>>,
    /// Set once onboarding was offered, so cancelling it sticks.
    offered: bool,
    /// What initializing has done so far.
    progress: InitProgress,
    handoff: Option<Handoff>,
}

impl Onboarding {
    pub fn is_open(&self) -> bool {
        self.form.is_some()
    }

    pub fn progress(&self) -> &InitProgress {
        &self.progress
    }

    /// Whether `id` answers one of initializing's steps.
    pub(crate) fn owns(&self, id: RequestId) -> bool {
        self.form.as_ref().is_some_and(|o| o.pending == Some(id))
    }

    /// What the App must hand on after a reply, once.
    pub(crate) fn take_handoff(&mut self) -> Option<Handoff> {
        self.handoff.take()
    }

    /// A platform admin with no tenant but the platform's gets the
    /// first-tenant form, once.
    pub(crate) fn offer_first_run(&mut self, cx: &mut Cx<'_>) {
        if self.offered {
            return;
        }
        let (Some(me), Some(list)) = (cx.session.me.loaded(), cx.session.tenants.loaded()) else {
            return;
        };
        if me.platform_admin && list.iter().all(|t| t.is_platform) {
            self.offered = true;
            self.progress = InitProgress::default();
            self.open(cx);
        }
    }

    fn open(&mut self, cx: &mut Cx<'_>) {
        let purpose = FormPurpose::Onboarding;
        let Some((title, fields)) = tenants::form_fields(&purpose, cx.session, None) else {
            return;
        };
        self.form = Some(Box::new(OpenForm {
            form: Form::new(title, fields, cx.theme),
            purpose,
            pending: None,
        }));
    }

    /// Handles an action for the form; the bool says whether it stays open.
    fn update_form(
        &mut self,
        open: &mut OpenForm,
        action: Action,
        cx: &mut Cx<'_>,
    ) -> (Vec<Effect>, bool) {
        match action {
            Action::Save if open.form.submitting => {}
            Action::Save => return self.submit(open, cx),
            Action::Cancel => return (Vec::new(), false),
            Action::NextField => open.form.move_focus(true, cx.theme),
            Action::PrevField => open.form.move_focus(false, cx.theme),
            Action::ChoicePrev => open.form.cycle_choice(false),
            Action::ChoiceNext => open.form.cycle_choice(true),
            Action::Key(k) => open.form.input(k),
            Action::Paste(s) => open.form.paste(&s),
            _ => {}
        }
        (Vec::new(), true)
    }
}

/// Where keys go while a form has the focus.
fn form_contexts(form: &Form) -> Vec<Context> {
    let mut c = match form.focused().map(|f| &f.kind) {
        Some(FieldKind::Choice { .. }) => vec![Context::FormChoice, Context::FormLine],
        Some(FieldKind::Line(_)) => vec![Context::FormLine],
        _ => vec![],
    };
    c.push(Context::Form);
    c
}

impl Component for Onboarding {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        match &self.form {
            Some(open) => (form_contexts(&open.form), true),
            None => (Vec::new(), false),
        }
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(mut open) = self.form.take() else {
            return Vec::new();
        };
        let (effects, keep) = self.update_form(&mut open, action, cx);
        if keep {
            self.form = Some(open);
        }
        effects
    }

    fn on_response(
        &mut self,
        _id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        self.on_step_response(flight, response, cx)
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        if let Some(open) = &self.form {
            pane::render(self, shared, &open.form, area, buf);
        }
    }
}
