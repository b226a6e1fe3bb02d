//! The one keymap: every binding, its description and where it applies. The
//! footer hints and the `?` overlay are generated from it, so they cannot drift
//! from what the keys do.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// Where a binding applies. The app asks the keymap with a list of contexts,
/// most specific first; the first match wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    Global,
    TenantList,
    TenantDetail,
    Members,
    /// One member's permissions checklist is open.
    PermissionChecklist,
    Invitations,
    ApiKeys,
    /// The Settings tab of a tenant's detail.
    TenantSettings,
    /// The Usage tab of a tenant's detail.
    TenantUsage,
    /// A list failed to load and shows its error.
    LoadError,
    Form,
    /// A single-line field or a choice has the focus.
    FormLine,
    FormChoice,
    Confirm,
    Secret,
    Help,
    CommandLine,
    FilterInput,
    LeadList,
    /// The Leads list is the all-tenants queue.
    LeadQueue,
    LeadDetail,
    Picker,
    AgentList,
    AgentDetail,
    /// The versions list of an agent's detail has the focus.
    AgentVersions,
    AgentDiff,
    WorkspaceList,
    ShareDialog,
    PlaygroundList,
    /// A session is open and the transcript has the focus.
    PlaygroundChat,
    /// The message input has the focus: letters are typed.
    PlaygroundInput,
    /// A reply is streaming in.
    PlaygroundStreaming,
    /// The approvals view, whatever it lists.
    Approvals,
    /// Its selected workflow awaits approval: the decisions.
    ApprovalDecision,
    /// Its selected workflow failed (or was cancelled, rejected).
    WorkflowRetry,
    Overview,
    Analytics,
    /// The analytics view, for a platform admin: the scope switch.
    AnalyticsAdmin,
    /// The analytics view of one tenant: its funnel.
    AnalyticsFunnel,
    Audit,
    Notifications,
    /// The invitations waiting for the signed-in user (`:invitations`).
    MyInvitations,
    /// One of them is selected: accept or decline it.
    InvitationChoice,
    /// The webhooks screen: the endpoints, one's deliveries, one delivery,
    /// and the editor (its URL takes typed keys).
    Webhooks,
    WebhookDeliveries,
    WebhookDelivery,
    WebhookEditor,
    /// The Knowledge view: the documents, a search's snippets, one
    /// document, the changes (with `knowledge:manage`) and the search input.
    Knowledge,
    KnowledgeResults,
    KnowledgeDocument,
    KnowledgeManage,
    KnowledgeSearch,
    /// The Evals screen: the sets, a set's cases and runs, one run side
    /// by side, one case's replies, two runs compared.
    EvalSets,
    EvalCases,
    EvalRuns,
    EvalRun,
    EvalResult,
    EvalCompare,
    /// The Initialize screen while no model is ready and the local one
    /// can be downloaded.
    InitializeModel,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::TenantList => "Tenants list",
            Context::TenantDetail => "Tenant detail",
            Context::Members => "Members tab",
            Context::PermissionChecklist => "Members tab: a member's permissions",
            Context::Invitations => "Invitations tab",
            Context::ApiKeys => "API keys tab",
            Context::TenantSettings => "Settings tab",
            Context::TenantUsage => "Usage tab",
            Context::LoadError => "After a failed load",
            Context::Form => "Forms",
            Context::FormLine => "Forms: single-line field",
            Context::FormChoice => "Forms: choice field",
            Context::Confirm => "Confirmation",
            Context::Secret => "Secret dialog",
            Context::Help => "Help",
            Context::CommandLine => "Command line",
            Context::FilterInput => "Filter",
            Context::LeadList => "Leads list",
            Context::LeadQueue => "Leads list: the all-tenants queue",
            Context::LeadDetail => "Lead detail",
            Context::Picker => "Picker",
            Context::AgentList => "Agents list",
            Context::AgentDetail => "Agent detail",
            Context::AgentVersions => "Agent versions",
            Context::AgentDiff => "Version diff",
            Context::WorkspaceList => "Workspaces list",
            Context::ShareDialog => "Share dialog",
            Context::PlaygroundList => "Playground sessions",
            Context::PlaygroundChat => "Playground transcript",
            Context::PlaygroundInput => "Playground message input",
            Context::PlaygroundStreaming => "While a reply streams",
            Context::Approvals => "Approvals and workflows",
            Context::ApprovalDecision => "Approvals: a draft awaiting approval",
            Context::WorkflowRetry => "Approvals: a failed workflow",
            Context::Overview => "Platform overview",
            Context::Analytics => "Analytics",
            Context::AnalyticsAdmin => "Analytics (platform admins)",
            Context::AnalyticsFunnel => "Analytics of one tenant",
            Context::Audit => "Audit log",
            Context::Notifications => "Notifications",
            Context::MyInvitations => "Your invitations",
            Context::InvitationChoice => "Your invitations: the selected one",
            Context::Webhooks => "Webhooks",
            Context::WebhookDeliveries => "Webhook deliveries",
            Context::WebhookDelivery => "A webhook delivery",
            Context::WebhookEditor => "Webhook editor",
            Context::Knowledge => "Knowledge",
            Context::KnowledgeResults => "Knowledge search results",
            Context::KnowledgeDocument => "A knowledge document",
            Context::KnowledgeManage => "Knowledge (with knowledge:manage)",
            Context::KnowledgeSearch => "Knowledge search input",
            Context::EvalSets => "Eval sets",
            Context::EvalCases => "An eval set's cases",
            Context::EvalRuns => "An eval set's runs",
            Context::EvalRun => "An eval run",
            Context::EvalResult => "An eval case's replies",
            Context::EvalCompare => "Two eval runs compared",
            Context::InitializeModel => "Initialize tenant: no model ready",
        }
    }
}

/// A key with its modifiers, compared the way terminals report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeyChord {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        Self::normalized(code, mods)
    }

    // Shift is already in the character ('S', '?') and in BackTab, and
    // terminals disagree on whether they also report the modifier.
    fn normalized(code: KeyCode, mods: KeyModifiers) -> Self {
        let mods = match code {
            KeyCode::Char(_) | KeyCode::BackTab => mods - KeyModifiers::SHIFT,
            _ => mods,
        };
        Self { code, mods }
    }

    pub fn matches(&self, key: &KeyEvent) -> bool {
        *self == Self::normalized(key.code, key.modifiers)
    }

    /// Parses "n", "S", "ctrl-s", "enter", "esc", "shift-tab", "f5", "alt-x".
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty key".into());
        }
        let mut chars = s.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(Self::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        // A trailing "-" is the minus key itself ("ctrl--").
        while let Some((m, tail)) = rest.split_once('-') {
            if tail.is_empty() {
                break;
            }
            match m.to_ascii_lowercase().as_str() {
                "ctrl" | "control" | "c" => mods |= KeyModifiers::CONTROL,
                "alt" | "meta" | "m" => mods |= KeyModifiers::ALT,
                "shift" | "s" => mods |= KeyModifiers::SHIFT,
                other => return Err(format!("unknown modifier {other:?} in {s:?}")),
            }
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if mods.contains(KeyModifiers::SHIFT) => {
                KeyCode::Char(c.to_ascii_uppercase())
            }
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                f if f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n @ 1..=12) => KeyCode::F(n),
                    _ => return Err(format!("unknown key {s:?}")),
                },
                _ => return Err(format!("unknown key {s:?}")),
            },
        };
        Ok(Self::new(code, mods))
    }

    /// How the key is written in hints and help.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "enter".into(),
            KeyCode::Esc => "esc".into(),
            KeyCode::Tab => "tab".into(),
            KeyCode::BackTab => "shift-tab".into(),
            KeyCode::Backspace => "backspace".into(),
            KeyCode::Delete => "del".into(),
            KeyCode::Insert => "ins".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Home => "home".into(),
            KeyCode::End => "end".into(),
            KeyCode::PageUp => "pgup".into(),
            KeyCode::PageDown => "pgdn".into(),
            KeyCode::F(n) => format!("f{n}"),
            other => format!("{other:?}").to_lowercase(),
        };
        let mut out = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            out.push_str("ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            out.push_str("alt-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            out.push_str("shift-");
        }
        out.push_str(&base);
        out
    }
}

#[derive(Debug, Clone)]
pub struct Binding {
    /// The name used in `config.toml` overrides; one name may apply in
    /// several contexts ("up" moves in every list).
    pub name: &'static str,
    pub context: Context,
    pub keys: Vec<KeyChord>,
    pub action: Action,
    pub description: &'static str,
    /// Shown in the footer, not only in the help overlay.
    pub hint: bool,
}

impl Binding {
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(KeyChord::label)
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

use super::bindings::defaults;

impl Default for Keymap {
    fn default() -> Self {
        let bindings = defaults()
            .into_iter()
            .map(|(name, context, keys, action, description, hint)| Binding {
                name,
                context,
                // The defaults are literals checked by a test; a typo drops
                // the key rather than taking the console down.
                keys: keys
                    .iter()
                    .filter_map(|k| KeyChord::parse(k).ok())
                    .collect(),
                action,
                description,
                hint,
            })
            .collect();
        Self { bindings }
    }
}

impl Keymap {
    /// Applies `name = "key"` overrides (several keys separated by spaces).
    /// A bad entry is reported and its binding keeps the default.
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> (Self, Vec<String>) {
        let mut map = Self::default();
        let mut errors = Vec::new();
        for (name, value) in overrides {
            if !map.bindings.iter().any(|b| b.name == name) {
                errors.push(format!("keys.{name}: no such action; keeping the defaults"));
                continue;
            }
            let parsed: Result<Vec<KeyChord>, String> =
                value.split_whitespace().map(KeyChord::parse).collect();
            match parsed {
                Ok(keys) if !keys.is_empty() => {
                    for b in map.bindings.iter_mut().filter(|b| b.name == name) {
                        b.keys = keys.clone();
                    }
                }
                Ok(_) => errors.push(format!("keys.{name}: no key given; keeping the default")),
                Err(e) => errors.push(format!("keys.{name}: {e}; keeping the default")),
            }
        }
        (map, errors)
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The action for `key` in the first of `contexts` that binds it.
    pub fn resolve(&self, contexts: &[Context], key: &KeyEvent) -> Option<Action> {
        contexts.iter().find_map(|ctx| {
            self.bindings
                .iter()
                .find(|b| b.context == *ctx && b.keys.iter().any(|k| k.matches(key)))
                .map(|b| b.action.clone())
        })
    }

    /// The first key of a binding, for messages like "press r to retry".
    pub fn key_label(&self, context: Context, name: &str) -> String {
        self.bindings
            .iter()
            .find(|b| b.context == context && b.name == name)
            .and_then(|b| b.keys.first())
            .map(KeyChord::label)
            .unwrap_or_else(|| "?".into())
    }

    /// Footer hints for the given contexts: (keys, description), most
    /// specific first, each action once.
    pub fn hints(&self, contexts: &[Context]) -> Vec<(String, &'static str)> {
        let mut seen: Vec<&Action> = Vec::new();
        let mut out = Vec::new();
        for ctx in contexts {
            for b in self.bindings.iter().filter(|b| b.context == *ctx && b.hint) {
                if seen.contains(&&b.action) || b.keys.is_empty() {
                    continue;
                }
                seen.push(&b.action);
                out.push((b.keys_label(), b.description));
            }
        }
        out
    }

    /// Every binding, grouped by context: the `?` overlay.
    pub fn help_lines(&self) -> Vec<HelpLine> {
        let mut groups: BTreeMap<Context, Vec<&Binding>> = BTreeMap::new();
        for b in &self.bindings {
            groups.entry(b.context).or_default().push(b);
        }
        let mut out = Vec::new();
        for (ctx, bindings) in groups {
            out.push(HelpLine::Heading(ctx.title()));
            for b in bindings {
                out.push(HelpLine::Key {
                    keys: b.keys_label(),
                    description: b.description,
                });
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpLine {
    Heading(&'static str),
    /// A line of text: a heading when it does not start with a space.
    Text(String),
    Key {
        keys: String,
        description: &'static str,
    },
}
