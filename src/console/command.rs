//! The `:` command line: parsing, running and Tab completion.

use crossterm::event::{KeyCode, KeyModifiers};

use super::action::Action;
use super::app::{App, CommandLine, Modal, Pane};
use super::effect::Effect;

/// Every command, as completion offers it.
pub const COMMANDS: [&str; 17] = [
    "tenant ",
    "tenants",
    "leads",
    "leads overdue",
    "leads at_risk",
    "leads stage ",
    "leads mine",
    "leads spam",
    "import sample",
    "import ",
    "export",
    "agents",
    "workspaces",
    "playground",
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

    fn complete(&self, cmd: &mut CommandLine) {
        let input = cmd.input.trim_start();
        let (base, options): (&str, Vec<String>) = match input.strip_prefix("tenant ") {
            Some(rest) => {
                let slugs = self
                    .tenants
                    .loaded()
                    .map(|ts| ts.iter().map(|t| t.slug.clone()).collect())
                    .unwrap_or_default();
                (rest.trim_start(), slugs)
            }
            None => (input, COMMANDS.iter().map(|c| c.to_string()).collect()),
        };
        let matches: Vec<String> = options
            .into_iter()
            .filter(|o| o.starts_with(base))
            .collect();
        if matches.is_empty() {
            cmd.error = Some(format!("nothing matches {base:?}"));
            return;
        }
        let completed = common_prefix(&matches);
        let head = if input.starts_with("tenant ") {
            "tenant "
        } else {
            ""
        };
        cmd.input = format!("{head}{completed}");
        cmd.candidates = if matches.len() > 1 {
            matches
        } else {
            Vec::new()
        };
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
            "leads" => self.leads_command(arg),
            "import" => self.import_command(arg),
            "export" => self.export_command(arg),
            "agents" => self.go(Pane::Agents),
            "workspaces" => self.go(Pane::Workspaces),
            "playground" => self.go(Pane::Playground),
            "tenant" if arg.is_empty() => Err("usage: :tenant <slug>".into()),
            "tenant" => {
                let found = self.tenants.loaded().and_then(|ts| {
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
                "unknown command :{other} (Tab completes, :help lists keys)"
            )),
        }
    }

    fn go(&mut self, pane: Pane) -> Result<Vec<Effect>, String> {
        self.pane = pane;
        Ok(Vec::new())
    }
}
