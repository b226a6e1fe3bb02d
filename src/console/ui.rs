//! Drawing: a pure function of the [`App`]. The frame is header, pane bar,
//! main pane and footer, with dialogs and toasts on top.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use ratatui::Frame;

use super::app::{App, Load, Modal, Pane};
use super::component::{Component, Shared};
use super::keymap::Context;
use super::model_fetch;
use super::sanitize::{clean, cleaned};
use super::text::width as width_of;
use super::widgets::{confirm, help, picker, share, toast};

const SPINNER: [&str; 4] = ["◐", "◓", "◑", "◒"];

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    app.render(area, frame.buffer_mut());
}

/// The screen's rows: header, pane bar, the pane, footer.
fn screen_areas(area: Rect) -> [Rect; 4] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// Where the pane is drawn on a terminal of `viewport` (columns, rows):
/// what keys that page or scroll measure against.
pub fn pane_area(viewport: (u16, u16)) -> Rect {
    let [_, _, main, _] = screen_areas(Rect::new(0, 0, viewport.0, viewport.1));
    main
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let [header, bar, main, footer] = screen_areas(area);
        render_header(self, header, buf);
        render_pane_bar(self, bar, buf);
        match self.pane {
            _ if self.notifications.is_open() => {
                self.notifications.render(&self.shared(), main, buf)
            }
            Pane::Tenants if self.onboarding.is_open() => render_onboarding(self, main, buf),
            // Over a tenant's detail or the table, whichever opened it.
            Pane::Tenants if self.webhooks.is_open() => {
                self.webhooks.render(&self.shared(), main, buf)
            }
            Pane::Tenants if self.evals.is_open() => self.evals.render(&self.shared(), main, buf),
            Pane::Tenants if self.knowledge.is_open() => {
                self.knowledge.render(&self.shared(), main, buf)
            }
            // The user's invitations and the platform overview open over
            // the table, under a tenant's detail.
            Pane::Tenants if self.tenants.detail().is_some() => {
                self.tenants.render(&self.shared(), main, buf)
            }
            Pane::Tenants if self.invitations.is_open() => {
                self.invitations.render(&self.shared(), main, buf)
            }
            Pane::Tenants if self.overview.is_open() => {
                self.overview.render(&self.shared(), main, buf)
            }
            Pane::Tenants => self.tenants.render(&self.shared(), main, buf),
            Pane::Leads if self.audit.is_open() => self.audit.render(&self.shared(), main, buf),
            Pane::Leads if self.analytics.is_open() => {
                self.analytics.render(&self.shared(), main, buf)
            }
            Pane::Leads if self.approvals.is_open() => {
                self.approvals.render(&self.shared(), main, buf)
            }
            Pane::Leads => self.leads.render(&self.shared(), main, buf),
            // The offer to download the local model stands under the list.
            Pane::Agents if self.agents.detail().is_none() => {
                let list = model_fetch::render_below(self, Context::AgentList, main, buf);
                self.agents.render(&self.shared(), list, buf)
            }
            Pane::Agents | Pane::Workspaces => self.agents.render(&self.shared(), main, buf),
            // And under the playground, where a reply fails without it (a
            // remote server's operator installs it: nothing to press here).
            Pane::Playground => {
                let chat = match self.playground_offer() {
                    Some(context) => model_fetch::render_below(self, context, main, buf),
                    None => main,
                };
                self.playground.render(&self.shared(), chat, buf)
            }
        }
        render_footer(self, footer, buf);

        let theme = &self.theme;
        let (contexts, _) = self.contexts();
        match &self.modal {
            Some(Modal::Form(open)) => {
                open.form
                    .render(main, buf, theme, hint_line(self, &contexts))
            }
            Some(Modal::Confirm { question, .. }) => {
                confirm::render(question, main, buf, theme, hint_line(self, &contexts))
            }
            Some(Modal::Secret(d)) => d.render(main, buf, theme, hint_line(self, &contexts)),
            Some(Modal::Picker(p)) => {
                picker::render(p, main, buf, theme, hint_line(self, &contexts))
            }
            Some(Modal::Share(d)) => share::render(d, main, buf, theme, hint_line(self, &contexts)),
            Some(Modal::Help { scroll }) => help::render(
                &self.keymap,
                self.your_permissions(),
                *scroll,
                main,
                buf,
                theme,
            ),
            None => {}
        }
        let dismiss = self.keymap.key_label(Context::Global, "dismiss");
        toast::render(&self.toasts, main, buf, theme, &dismiss);
        // Whatever server text a renderer passed on unclean stops here.
        super::sanitize::scrub(buf);
    }
}

fn render_header(app: &App, area: Rect, buf: &mut Buffer) {
    let user = match app.session.me.loaded() {
        Some(me) => cleaned(&me.user.email),
        None => "…".to_string(),
    };
    let tenant = match (app.session.current(), &app.session.tenants) {
        (Some(t), _) => {
            let limit = t
                .usage
                .user_limit
                .map_or("∞".to_string(), |l| l.to_string());
            format!(
                "{} ({} {}/{} users)",
                clean(&t.name),
                t.tier,
                t.usage.users,
                limit
            )
        }
        (None, Load::Idle | Load::Loading) => "…".to_string(),
        (None, _) => "none".to_string(),
    };
    // The month's leads against the tier's limit: yellow from 80 %, red
    // at the limit, so a tenant about to be refused is seen coming.
    let leads = app.session.current().map(|t| {
        let u = &t.usage;
        let (limit, style) = match u.lead_limit {
            None => ("∞".to_string(), app.theme.header),
            Some(l) if u.leads_this_month >= l => (l.to_string(), app.theme.header_alarm),
            Some(l) if u64::from(u.leads_this_month) * 5 >= u64::from(l) * 4 => {
                (l.to_string(), app.theme.header_warn)
            }
            Some(l) => (l.to_string(), app.theme.header),
        };
        (format!(" {}/{limit} leads", u.leads_this_month), style)
    });
    let (leads_text, leads_style) = leads.unwrap_or_default();
    let spinner = if app.is_busy() {
        format!(" {}", SPINNER[app.spinner % SPINNER.len()])
    } else {
        String::new()
    };
    // Drop the least useful parts first, so the tenant stays readable at 80
    // columns whatever the server label is.
    let label = &app.server_label;
    // The context stays while anything does: two servers look alike.
    let ctx = app
        .context
        .as_deref()
        .map(|c| format!("[{}] ", clean(c)))
        .unwrap_or_default();
    let candidates = [
        format!(" switchboard ─ {ctx}{user} ─ {label} ─ tenant: {tenant}"),
        format!(" switchboard ─ {ctx}{user} ─ tenant: {tenant}"),
        format!(" switchboard ─ {ctx}tenant: {tenant}"),
        format!(" {ctx}{tenant}"),
    ];
    let unread = match app.notifications.unread() {
        0 => String::new(),
        n => format!(" ✉ {n}"),
    };
    let width = usize::from(area.width);
    let spin_w = width_of(&spinner) + width_of(&leads_text) + width_of(&unread);
    let text = candidates
        .iter()
        .find(|c| width_of(c) + spin_w <= width)
        .unwrap_or(&candidates[0]);
    let line = Line::from(vec![
        Span::raw(text.clone()),
        Span::styled(leads_text, leads_style),
        Span::styled(unread, app.theme.header_warn),
        Span::raw(spinner),
    ]);
    Paragraph::new(line)
        .style(app.theme.header)
        .render(area, buf);
}

fn render_pane_bar(app: &App, area: Rect, buf: &mut Buffer) {
    let mut spans = Vec::new();
    for (i, p) in Pane::ALL.iter().enumerate() {
        let style = if *p == app.pane {
            app.theme.pane_active
        } else {
            app.theme.pane_inactive
        };
        spans.push(Span::styled(format!(" {} {} ", i + 1, p.title()), style));
        spans.push(Span::raw(" "));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

/// The keys of the given contexts, as one line: generated from the keymap.
pub fn hint_line(app: &App, contexts: &[Context]) -> Line<'static> {
    hint_line_within(app, contexts, usize::MAX)
}

/// Like [`hint_line`], but drops hints that do not fit in `width`, keeping
/// the help key last so every other key can always be found.
pub fn hint_line_within(app: &App, contexts: &[Context], width: usize) -> Line<'static> {
    hints_within(&app.shared(), contexts, width)
}

/// [`hint_line`] for a feature drawing itself.
pub fn shared_hint_line(app: &Shared<'_>, contexts: &[Context]) -> Line<'static> {
    hints_within(app, contexts, usize::MAX)
}

fn hints_within(app: &Shared<'_>, contexts: &[Context], width: usize) -> Line<'static> {
    let mut hints = app.keymap.hints(contexts);
    let help = hints
        .iter()
        .position(|(_, d)| *d == "help")
        .map(|i| hints.remove(i));
    let w = |(k, d): &(String, &str)| width_of(k) + width_of(d) + 3;
    let mut budget = width.saturating_sub(help.as_ref().map_or(0, w));
    let mut kept = Vec::new();
    for h in hints {
        if w(&h) <= budget {
            budget -= w(&h);
            kept.push(h);
        }
    }
    kept.extend(help);
    let mut spans = Vec::new();
    for (keys, desc) in kept {
        spans.push(Span::styled(keys, app.theme.footer_key));
        spans.push(Span::styled(format!(" {desc}  "), app.theme.footer_text));
    }
    Line::from(spans)
}

fn render_footer(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    let width = usize::from(area.width);
    let line = if let Some(cmd) = &app.command {
        let mut spans = vec![Span::styled(format!(":{}", cmd.input), theme.field_focused)];
        spans.push(Span::styled(" ", theme.field_cursor));
        if let Some(e) = &cmd.error {
            spans.push(Span::styled(format!("  {e}"), theme.error));
        } else if !cmd.candidates.is_empty() {
            spans.push(Span::styled(
                format!("  {}", cmd.candidates.join("  ")),
                theme.dim,
            ));
        }
        Line::from(spans)
    } else if app.tenants.is_filtering() && app.pane == Pane::Tenants {
        let mut spans = vec![
            Span::styled(format!("/{}", app.tenants.filter()), theme.field_focused),
            Span::styled(" ", theme.field_cursor),
            Span::raw("  "),
        ];
        spans.extend(hint_line(app, &[Context::FilterInput]).spans);
        Line::from(spans)
    } else if let Some(draft) = app.leads.search_draft().filter(|_| app.pane == Pane::Leads) {
        let mut spans = vec![
            Span::styled(format!("/{draft}"), theme.field_focused),
            Span::styled(" ", theme.field_cursor),
            Span::raw("  "),
        ];
        spans.extend(hint_line(app, &[Context::FilterInput]).spans);
        Line::from(spans)
    } else if app.modal.is_some() {
        // The dialog shows its own keys; the footer keeps the pane's.
        hint_line_within(app, &app.pane_contexts().0, width)
    } else {
        let (contexts, _) = app.contexts();
        hint_line_within(app, &contexts, width)
    };
    Paragraph::new(line).render(area, buf);
}

/// Rows the Initialize screen needs to show its intro, every field of the
/// first-run form and the checklist.
const ONBOARDING_ROWS: u16 = 19;

/// The Initialize screen, and under it the offer to download the local
/// model while no model is ready: the full box when there is room, else
/// one row (the form's fields come first).
fn render_onboarding(app: &App, area: Rect, buf: &mut Buffer) {
    use crate::console::model_fetch::{offer_height, render_offer, render_offer_line};
    let full = offer_height(app, Context::InitializeModel, area.width);
    let rows = match full {
        0 => 0,
        n if area.height >= ONBOARDING_ROWS + n => n,
        _ if area.height > ONBOARDING_ROWS => 1,
        _ => 0,
    };
    let [screen, below] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(rows)]).areas(area);
    app.onboarding.render(&app.shared(), screen, buf);
    match rows {
        0 => {}
        1 => render_offer_line(app, Context::InitializeModel, below, buf),
        _ => render_offer(app, Context::InitializeModel, below, buf),
    }
}

impl App {
    /// The `?` overlay's first lines: the signed-in user's role and
    /// permissions in the current tenant.
    fn your_permissions(&self) -> Vec<crate::console::keymap::HelpLine> {
        let (Some(tenant), Some(me)) = (self.session.current(), self.session.me.loaded()) else {
            return Vec::new();
        };
        let membership = me.memberships.iter().find(|m| m.tenant_id == tenant.id);
        help::permission_lines(
            membership.map(|m| m.role),
            membership.map_or(&[][..], |m| &m.permissions),
            me.platform_admin,
        )
    }
}
