//! What the user asked for, after the keymap has interpreted a key.

use crossterm::event::KeyEvent;

/// One user intent. Keys become actions through the [`Keymap`](super::keymap::Keymap);
/// text fields receive the raw key as [`Action::Key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Ctrl-Z: give the terminal back to the shell until `fg`.
    Suspend,
    Help,
    /// Open the `:` command line.
    Command,
    /// Open the `/` filter.
    Filter,
    NextPane,
    PrevPane,
    /// Panes are numbered from 1, as on screen.
    Pane(u8),
    Up,
    Down,
    Top,
    Bottom,
    Open,
    Back,
    New,
    Edit,
    SwitchTenant,
    ToggleSuspend,
    /// Tenants: delete the selected tenant (typing its slug to confirm).
    DeleteTenant,
    /// A tenant's Settings tab: set or clear one of its secrets.
    SetSecret,
    /// A tenant's Usage tab: change its rate limits (platform admins).
    SetLimits,
    Retry,
    /// Download the embedded model (offered while it is not installed).
    FetchModel,
    NextTab,
    PrevTab,
    Invite,
    AddMember,
    ChangeRole,
    /// The selected member's permissions checklist (grants, withdrawals).
    Permissions,
    Remove,
    Copy,
    Confirm,
    Cancel,
    Save,
    ChoicePrev,
    ChoiceNext,
    NextField,
    PrevField,
    DismissToast,
    /// Run (Enter) or complete (Tab) the command line.
    RunCommand,
    Complete,
    PageUp,
    PageDown,
    /// Leads: move to another pipeline stage, assign, note, spam flag.
    MoveStage,
    Assign,
    AddNote,
    ToggleSpam,
    /// Leads: show only overdue leads, most overdue first, or all again.
    OverdueQueue,
    /// Leads: the list of the current tenant, or of every tenant.
    AllTenants,
    /// Leads: mark every lead from the last mark to the selection, or
    /// every loaded lead, for a bulk action.
    MarkRange,
    MarkAll,
    /// The `/` text of the leads list stopped changing; the number says
    /// which keystroke's timer this is, so only the newest one sends.
    FilterDue(u64),
    /// Agents: the sharing dialog, restoring a version.
    Share,
    Restore,
    /// Mark a version for the diff, a tenant in the share dialog, or a
    /// workspace's strategy on/off: whatever the list's checkbox is.
    Toggle,
    /// Workspaces: choose the agent that works the leads.
    LinkAgent,
    /// Playground: send the message, a new line in it, stop the reply,
    /// give the input the focus, save a message as a lead, start a
    /// session comparing two agents.
    Send,
    Newline,
    Stop,
    FocusInput,
    SaveAsLead,
    NewCompare,
    /// Playground: answer the last message again; the session's
    /// temperature and reply length.
    Regenerate,
    ReplySettings,
    /// The workflows awaiting approval: open the view, approve the draft
    /// as it is, reject it with a reason, start a workflow for a lead.
    Approvals,
    Approve,
    Reject,
    StartWorkflow,
    /// Cancels the open lead's workflow in progress.
    StopWorkflow,
    /// The approvals view: list the next status (awaiting approval, failed,
    /// running/queued, all), and run the selected failed workflow again.
    NextStatus,
    RetryWorkflow,
    /// The platform overview: open it, next sort column, flip the order.
    Overview,
    SortNext,
    SortFlip,
    /// The tenant's analytics, and its next period (7/30/90 days).
    Analytics,
    NextPeriod,
    /// Analytics: this tenant or all tenants (platform admins).
    SwitchScope,
    /// The notification centre, and emptying it.
    Notifications,
    ClearNotifications,
    /// "Initialize tenant" on the current tenant (`I`, `:init`).
    Initialize,
    /// The signed-in user's invitations: join the tenant, or turn it down.
    Accept,
    Decline,
    /// The webhooks screen: open it (from a tenant's detail), send a test
    /// event, rotate the signing secret, replay a delivery, enable or
    /// disable an endpoint.
    Webhooks,
    SendTest,
    RotateSecret,
    Replay,
    ToggleEnabled,
    /// The Evals screen: start a run of the open set, compare two runs,
    /// import cases from a file; `E` adds a lead's or a playground
    /// message to a set.
    StartEvalRun,
    Compare,
    Import,
    AddToEval,
    /// The server no longer accepts the session (seen on the live stream).
    SessionEnded,
    /// A key for whatever text input has the focus.
    Key(KeyEvent),
    Paste(String),
    /// The slow clock: expires toasts, turns the spinner.
    Tick,
    Resize(u16, u16),
}
