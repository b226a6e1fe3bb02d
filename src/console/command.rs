//! The `:` command line: parsing, running and Tab completion.

use crossterm::event::{KeyCode, KeyModifiers};

use super::action::Action;
use super::app::{App, CommandLine, Modal, Pane};
use super::component::{with_cx, Cx};
use super::effect::Effect;
use super::keymap::Context;
use super::leads::LeadsView;

/// Every command, as completion offers it.
pub const COMMANDS: [&str; 37] = [
    "tenant ",
    "tenants",
    "leads",
    "leads overdue",
    "leads at_risk",
    "leads stage ",
    "leads mine",
    "leads spam",
    "leads all",
    "leads all overdue",
    "leads all tenant ",
    "import sample",
    "init",
    "import ",
    "export",
    "agents",
    "agent ",
    "workspaces",
    "playground",
    "approvals",
    "overview",
    "analytics",
    "audit",
    "platform",
    "webhooks",
    "knowledge",
    "knowledge import ",
    "evals",
    "evals import ",
    "notifications",
    "invitations",
    "password",
    "logout-all",
    "ctx ",
    "help",
    "quit",
    "q",
];

fn common_prefix(items: &[String]) -> String {
    let Some(first) = items.first() else {
        return String::new();
    };
    let mut len = first.len();
    for s in &items[1..] {
        len = len.min(
            first
                .char_indices()
                .zip(s.chars())
                .take_while(|((_, a), b)| a == b)
                .count(),
        );
    }
    first.chars().take(len).collect()
}

/// `options` that fuzzily match `input`, best first.
fn fuzzy_rank(input: &str, options: Vec<String>) -> Vec<String> {
    use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
    let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
    let pattern = Pattern::parse(input, CaseMatching::Ignore, Normalization::Smart);
    let mut ranked = pattern.match_list(options, &mut matcher);
    // Equal scores keep the shorter (more general) command first.
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.len().cmp(&b.0.len())));
    ranked.into_iter().map(|(o, _)| o).collect()
}

impl App {
    pub(crate) fn update_command(&mut self, mut cmd: CommandLine, action: Action) -> Vec<Effect> {
        match action {
            Action::Cancel => return Vec::new(),
            Action::RunCommand => {
                return match self.run_command(cmd.input.trim()) {
                    Ok(effects) => effects,
                    Err(e) => {
                        cmd.error = Some(e);
                        self.command = Some(cmd);
                        Vec::new()
                    }
                };
            }
            Action::Complete => self.complete(&mut cmd),
            Action::Key(k) => {
                cmd.error = None;
                cmd.candidates.clear();
                match k.code {
                    KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                        cmd.input.push(c)
                    }
                    // Backspace on an empty line leaves command mode, as in vim.
                    KeyCode::Backspace if cmd.input.pop().is_none() => return Vec::new(),
                    _ => {}
                }
            }
            Action::Paste(s) => cmd.input.push_str(s.lines().next().unwrap_or("")),
            _ => {}
        }
        self.command = Some(cmd);
        Vec::new()
    }

    /// Every full command Tab can offer now: the fixed ones, one per tenant
    /// and one per stage of the current tenant.
    fn command_options(&self) -> Vec<String> {
        let mut options: Vec<String> = COMMANDS.iter().map(|c| c.to_string()).collect();
        if let Some(ts) = self.session.tenants.loaded() {
            // The recently used first, most recent first; then the rest.
            let recent = &self.session.recent;
            let rank = |slug: &str| recent.iter().position(|r| r == slug).unwrap_or(usize::MAX);
            let mut slugs: Vec<&str> = ts.iter().map(|t| t.slug.as_str()).collect();
            slugs.sort_by_key(|s| rank(s));
            options.extend(slugs.iter().map(|s| format!("tenant {s}")));
        }
        options.extend(
            self.agents
                .items()
                .iter()
                .map(|a| format!("agent {}", a.name)),
        );
        options.extend(self.context_names.iter().map(|c| format!("ctx {c}")));
        if let Some(t) = self.session.current() {
            options.extend(
                t.settings
                    .pipeline_stages
                    .iter()
                    .map(|s| format!("leads stage {}", s.name)),
            );
        }
        options
    }

    /// Tab: extends a prefix like a shell; otherwise matches fuzzily
    /// (`:lo` → `leads overdue`) and lists the best candidates.
    fn complete(&self, cmd: &mut CommandLine) {
        let input = cmd.input.trim_start().to_string();
        let options = self.command_options();
        let prefixed: Vec<String> = options
            .iter()
            .filter(|o| o.starts_with(&input))
            .cloned()
            .collect();
        let (matches, fuzzy) = if prefixed.is_empty() {
            (fuzzy_rank(&input, options), true)
        } else {
            (prefixed, false)
        };
        match matches.as_slice() {
            [] => cmd.error = Some(format!("nothing matches {input:?}")),
            [only] => {
                cmd.input = only.clone();
                cmd.candidates.clear();
            }
            _ if fuzzy => {
                // Several fuzzy hits: take the best, show the rest.
                cmd.input = matches[0].clone();
                cmd.candidates = matches.into_iter().take(8).collect();
            }
            _ => {
                cmd.input = common_prefix(&matches);
                cmd.candidates = matches;
            }
        }
    }

    /// Runs a command; an `Err` is shown in the command line, which stays open.
    pub(crate) fn run_command(&mut self, input: &str) -> Result<Vec<Effect>, String> {
        let (name, arg) = match input.split_once(char::is_whitespace) {
            Some((n, a)) => (n, a.trim()),
            None => (input, ""),
        };
        match name {
            "" => Ok(Vec::new()),
            "q" | "quit" => {
                self.quit = true;
                Ok(vec![Effect::Quit])
            }
            "help" => {
                self.modal = Some(Modal::Help { scroll: 0 });
                Ok(Vec::new())
            }
            "tenants" => self.go(Pane::Tenants),
            "leads" => self.show_leads(|l, arg, cx| l.command(arg, cx), arg),
            "import" => self.show_leads(|l, arg, cx| l.import_command(arg, cx), arg),
            "export" => with_cx!(self, leads, |l, cx| l.export_command(arg, &mut cx)),
            "agents" => self.go(Pane::Agents),
            "agent" if arg.is_empty() => Err("usage: :agent <name>".into()),
            "agent" => {
                self.pane = Pane::Agents;
                with_cx!(self, agents, |a, cx| a.open_named(arg, &mut cx))
            }
            "workspaces" => self.go(Pane::Workspaces),
            "playground" => self.go(Pane::Playground),
            "approvals" => Ok(self.open_approvals()),
            "overview" => Ok(self.open_overview()),
            "analytics" => Ok(self.open_analytics()),
            "audit" => Ok(self.open_audit()),
            "platform" => self.platform_command(),
            "webhooks" => Ok(self.open_webhooks(None)),
            "knowledge" => self.knowledge_command(arg),
            "evals" => self.evals_command(arg),
            "invitations" => Ok(self.open_invitations()),
            "password" => Ok(self.password_command()),
            "logout-all" => Ok(self.logout_all_command()),
            "init" => Ok(self.initialize_current()),
            "notifications" => {
                self.notifications.open();
                Ok(Vec::new())
            }
            "ctx" => self.ctx_command(arg),
            "tenant" if arg.is_empty() => Err("usage: :tenant <slug>".into()),
            "tenant" => {
                let found = self.session.tenants.loaded().and_then(|ts| {
                    ts.iter()
                        .find(|t| t.slug == arg || t.name.eq_ignore_ascii_case(arg))
                        .cloned()
                });
                match found {
                    Some(t) => {
                        self.switch_to(&t);
                        Ok(Vec::new())
                    }
                    None => Err(format!("no tenant with slug {arg:?}")),
                }
            }
            other => Err(format!(
                "unknown command :{other} ({} completes, :help lists keys)",
                self.keymap.key_label(Context::CommandLine, "complete")
            )),
        }
    }

    /// `:ctx NAME`: another context's server, without leaving the console.
    fn ctx_command(&mut self, name: &str) -> Result<Vec<Effect>, String> {
        let known = || self.context_names.join(", ");
        if name.is_empty() {
            return Err(format!("usage: :ctx <name> (contexts: {})", known()));
        }
        if !self.context_names.iter().any(|c| c == name) {
            return Err(format!("no context named {name:?} (contexts: {})", known()));
        }
        if self.context.as_deref() == Some(name) {
            return Err(format!("already on the context {name}"));
        }
        self.toast(super::widgets::toast::Toast::info(format!(
            "Connecting to the context {name}…"
        )));
        Ok(vec![Effect::SwitchContext(name.to_string())])
    }

    fn go(&mut self, pane: Pane) -> Result<Vec<Effect>, String> {
        self.pane = pane;
        Ok(Vec::new())
    }

    /// A Leads command (`:leads`, `:import`): the pane shows once it ran.
    fn show_leads(
        &mut self,
        run: impl FnOnce(&mut LeadsView, &str, &mut Cx<'_>) -> Result<Vec<Effect>, String>,
        arg: &str,
    ) -> Result<Vec<Effect>, String> {
        let out = with_cx!(self, leads, |l, cx| run(l, arg, &mut cx))?;
        self.pane = Pane::Leads;
        Ok(out)
    }
}
