//! The approvals and platform overview views (analytics and audit are in
//! `reports.rs`): snapshots and the
//! state machine (requests built, replies applied, errors inline).

use super::*;
use switchboard::console::overview::OverviewColumn;
use switchboard::console::request::Approval;
use switchboard::domain::{
    Qualification, ServerEvent, StepKind, StepOutcome, TenantOverview, Workflow, WorkflowStatus,
    WorkflowStep,
};

pub(super) fn step(
    kind: StepKind,
    outcome: StepOutcome,
    tokens: (u32, u32),
    ms: u64,
) -> WorkflowStep {
    WorkflowStep {
        kind,
        outcome,
        output: String::new(),
        error: None,
        model: "local/smollm2-135m".into(),
        prompt_version: 3,
        prompt_tokens: tokens.0,
        completion_tokens: tokens.1,
        duration_ms: ms,
        created_at: now() - chrono::Duration::minutes(20),
    }
}

pub(super) fn workflow(n: u128, lead: u128, qualified: bool) -> Workflow {
    Workflow {
        id: Uuid::from_u128(n),
        tenant_id: Uuid::from_u128(1),
        lead_id: Uuid::from_u128(lead),
        workspace_id: None,
        agent_id: Uuid::from_u128(201),
        status: WorkflowStatus::AwaitingApproval,
        qualification: qualified.then(|| Qualification {
            category: "hot".into(),
            reason: "wants a quote this week".into(),
        }),
        draft: Some("Hi! Thanks for asking.\nWe can send a quote by Friday.".into()),
        reply: None,
        error: None,
        attempts: 1,
        decided_by: None,
        decision_note: None,
        steps: vec![
            step(
                StepKind::Qualify,
                if qualified {
                    StepOutcome::Ok
                } else {
                    StepOutcome::Unparseable
                },
                (212, 9),
                1400,
            ),
            step(StepKind::Draft, StepOutcome::Ok, (380, 41), 5200),
        ],
        sources: None,
        draft_policy: None,
        created_at: now() - chrono::Duration::minutes(25),
        updated_at: now() - chrono::Duration::minutes(19),
    }
}

/// Jane Doe's (qualified) and Bob Stone's (unreadable) drafts.
pub(super) fn approvals() -> Vec<Approval> {
    let leads = mixed_leads();
    vec![
        Approval {
            workflow: workflow(601, 11, true),
            lead: Some(leads[0].clone()),
        },
        Approval {
            workflow: workflow(602, 12, false),
            lead: Some(leads[1].clone()),
        },
    ]
}

pub(super) fn conflict(detail: &str) -> ApiError {
    ApiError::Problem(Problem {
        kind: "/problems/conflict".into(),
        title: "Conflict".into(),
        status: 409,
        detail: Some(detail.into()),
        errors: vec![],
        retry_after: None,
    })
}

pub(super) fn command(app: &mut App, text: &str) -> Vec<Effect> {
    let mut fx = press(app, &[key(':')]);
    fx.extend(typed(app, text));
    fx.extend(press(app, &[code(KeyCode::Enter)]));
    fx
}

/// `:approvals` answered with `list`.
pub(super) fn approvals_open(list: Vec<Approval>) -> App {
    let mut app = loaded();
    app.now = now();
    let fx = command(&mut app, "approvals");
    let id = id_of(
        &fx,
        |r| matches!(r, Request::ListApprovals { tenant, statuses } if *tenant == Uuid::from_u128(1).to_string() && *statuses == [WorkflowStatus::AwaitingApproval]),
    );
    app.on_response(id, Response::Approvals(Ok(list)));
    // The Leads pane opened underneath: answer its list too.
    for (id, r) in requests(&fx) {
        match r {
            Request::ListLeads { .. } => {
                app.on_response(
                    id,
                    Response::Leads(Ok(Page {
                        items: mixed_leads(),
                        next_cursor: None,
                    })),
                );
            }
            Request::ListLeadMembers { .. } => {
                app.on_response(id, Response::LeadMembers(Ok(vec![])));
            }
            _ => {}
        }
    }
    app
}

pub(super) fn event(kind: &str, data: serde_json::Value) -> ServerEvent {
    ServerEvent {
        id: 1,
        kind: kind.into(),
        data,
    }
}

// ---------------------------------------------------------------- approvals

#[test]
fn snapshot_approvals_loaded() {
    let app = approvals_open(approvals());
    assert_eq!(app.pane, Pane::Leads);
    let screen = render(&app, 80, 24);
    for text in [
        "Approvals (2)",
        "hot — wants a quote this week",
        "We can send a quote by Friday.",
        "local/smollm2-135m v3",
        "380+41 tok 5.2s",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_approvals_unreadable_qualification() {
    let mut app = approvals_open(approvals());
    press(&mut app, &[key('j')]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Qualified unreadable"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_approvals_empty_and_failed() {
    let app = approvals_open(vec![]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Nothing awaits approval."), "{screen}");
    insta::assert_snapshot!("approvals_empty", screen);

    let mut app = loaded();
    let fx = command(&mut app, "approvals");
    assert!(render(&app, 80, 24).contains("Loading the approvals"));
    let id = id_of(&fx, |r| matches!(r, Request::ListApprovals { .. }));
    app.on_response(id, Response::Approvals(Err(unreachable())));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Press r to retry"), "{screen}");
    // r retries the failed list rather than rejecting anything.
    let fx = press(&mut app, &[key('r')]);
    assert!(matches!(
        &requests(&fx)[..],
        [(_, Request::ListApprovals { .. })]
    ));
}

#[test]
fn the_leads_list_opens_approvals_with_a_key_and_esc_goes_back() {
    let mut app = loaded();
    press(&mut app, &[key('2')]);
    let fx = press(&mut app, &[key('A')]);
    assert!(app.approvals.is_open());
    assert!(requests(&fx)
        .iter()
        .any(|(_, r)| matches!(r, Request::ListApprovals { .. })));
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(!app.approvals.is_open());
    assert_eq!(app.pane, Pane::Leads);
}

#[test]
fn approve_as_is_sends_no_edit_and_drops_the_row() {
    let mut app = approvals_open(approvals());
    let fx = press(&mut app, &[key('a')]);
    let (id, req) = requests(&fx).into_iter().next().expect("an approval");
    assert_eq!(
        req,
        Request::ApproveWorkflow {
            tenant: Uuid::from_u128(1).to_string(),
            id: Uuid::from_u128(601),
            reply: None,
        }
    );
    assert!(render(&app, 80, 24).contains("Sending…"));
    // A second press while the first is in flight sends nothing.
    assert!(press(&mut app, &[key('a')]).is_empty());
    let mut decided = workflow(601, 11, true);
    decided.status = WorkflowStatus::Approved;
    app.on_response(id, Response::WorkflowDecided(Ok(decided)));
    assert_eq!(app.approvals.items().len(), 1);
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Approved the reply to Jane Doe"));
}

#[test]
fn snapshot_a_conflict_is_shown_inline_and_keeps_the_row() {
    let mut app = approvals_open(approvals());
    let fx = press(&mut app, &[key('a')]);
    let id = id_of(&fx, |r| matches!(r, Request::ApproveWorkflow { .. }));
    app.on_response(
        id,
        Response::WorkflowDecided(Err(conflict("the workflow is approved now"))),
    );
    assert_eq!(app.approvals.items().len(), 2);
    assert!(app.approvals.deciding().is_none());
    app.toasts.clear(); // the inline message is what is checked here
    let screen = render(&app, 80, 24);
    assert!(screen.contains("approved now"), "{screen}");
    insta::assert_snapshot!(screen);
    // The next key clears it.
    press(&mut app, &[key('j')]);
    assert!(app.approvals.error().is_none());
}

#[test]
fn snapshot_edit_then_approve_sends_the_edited_reply() {
    let mut app = approvals_open(approvals());
    press(&mut app, &[key('e')]);
    assert!(
        matches!(&app.modal, Some(Modal::Form(f)) if f.form.value("reply").contains("by Friday"))
    );
    press(&mut app, &[code(KeyCode::Down), code(KeyCode::End)]);
    typed(&mut app, " Best, Ana");
    insta::assert_snapshot!(render(&app, 80, 24));
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = requests(&fx).into_iter().next().expect("an approval");
    let Request::ApproveWorkflow { reply, id: wf, .. } = req else {
        panic!("expected an approval, got {req:?}");
    };
    assert_eq!(wf, Uuid::from_u128(601));
    assert_eq!(
        reply.as_deref(),
        Some("Hi! Thanks for asking.\nWe can send a quote by Friday. Best, Ana")
    );
    // A conflict keeps the form and its edit, with the reason in it.
    app.on_response(
        id,
        Response::WorkflowDecided(Err(conflict("the workflow is rejected now"))),
    );
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the form closed");
    };
    assert!(open.form.value("reply").ends_with("Best, Ana"));
    assert!(!open.form.submitting);
    assert!(render(&app, 80, 24).contains("rejected now"));
}

#[test]
fn reject_asks_a_reason_and_shows_its_error_in_the_form() {
    let mut app = approvals_open(approvals());
    press(&mut app, &[key('r')]);
    typed(&mut app, "too pushy");
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let (id, req) = requests(&fx).into_iter().next().expect("a rejection");
    assert_eq!(
        req,
        Request::RejectWorkflow {
            tenant: Uuid::from_u128(1).to_string(),
            id: Uuid::from_u128(601),
            reason: "too pushy".into(),
        }
    );
    app.on_response(
        id,
        Response::WorkflowDecided(Err(validation("reason", "say in 1 to 500 characters"))),
    );
    assert!(render(&app, 80, 24).contains("say in 1 to 500 characters"));
    let fx = press(&mut app, &[ctrl('s')]);
    let id = id_of(&fx, |r| matches!(r, Request::RejectWorkflow { .. }));
    let mut decided = workflow(601, 11, true);
    decided.status = WorkflowStatus::Rejected;
    app.on_response(id, Response::WorkflowDecided(Ok(decided)));
    assert!(app.modal.is_none());
    assert_eq!(app.approvals.items().len(), 1);
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Rejected the reply to Jane Doe"));
}

#[test]
fn the_list_follows_live_workflow_events() {
    let mut app = approvals_open(approvals());
    let tenant = Uuid::from_u128(1);
    let fx = app.on_event(
        tenant,
        event(
            "workflow.awaiting_approval",
            serde_json::json!({"workflow_id": Uuid::from_u128(603), "lead_id": Uuid::from_u128(13), "lead_name": "Ana Silva"}),
        ),
    );
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "A reply to Ana Silva awaits approval"));
    let id = id_of(
        &fx,
        |r| matches!(r, Request::LoadApproval { id, .. } if *id == Uuid::from_u128(603)),
    );
    app.on_response(
        id,
        Response::ApprovalLoaded(Ok(Box::new(Approval {
            workflow: workflow(603, 13, true),
            lead: Some(mixed_leads()[2].clone()),
        }))),
    );
    assert_eq!(app.approvals.items().len(), 3);
    // The selection stays on the draft it was on.
    assert_eq!(
        app.approvals.selected_approval().map(|a| a.workflow.id),
        Some(Uuid::from_u128(601))
    );
    app.on_event(
        tenant,
        event(
            "workflow.approved",
            serde_json::json!({"workflow_id": Uuid::from_u128(601), "lead_id": Uuid::from_u128(11)}),
        ),
    );
    app.on_event(
        tenant,
        event(
            "workflow.failed",
            serde_json::json!({"workflow_id": Uuid::from_u128(602), "error": "provider down"}),
        ),
    );
    let left: Vec<Uuid> = app
        .approvals
        .items()
        .iter()
        .map(|a| a.workflow.id)
        .collect();
    assert_eq!(left, vec![Uuid::from_u128(603)]);
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "A workflow failed: provider down"));
}

#[test]
fn the_lead_detail_shows_its_workflow_and_starts_one() {
    let mut app = loaded();
    app.now = now();
    let fx = press(&mut app, &[key('2')]);
    let id = id_of(&fx, |r| matches!(r, Request::ListLeads { .. }));
    app.on_response(
        id,
        Response::Leads(Ok(Page {
            items: mixed_leads(),
            next_cursor: None,
        })),
    );
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let wf = id_of(
        &fx,
        |r| matches!(r, Request::LeadWorkflows { lead, .. } if *lead == Uuid::from_u128(11)),
    );
    let mut failed = workflow(604, 11, true);
    failed.status = WorkflowStatus::Failed;
    failed.error = Some("the model answered nothing".into());
    app.on_response(wf, Response::LeadWorkflows(Ok(vec![failed])));
    assert!(render(&app, 80, 24).contains("failed — the model answered nothing"));
    // A failed workflow runs again as itself.
    let fx = press(&mut app, &[key('w')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a retry");
    assert_eq!(
        req,
        Request::RetryWorkflow {
            tenant: Uuid::from_u128(1).to_string(),
            id: Uuid::from_u128(604),
        }
    );
    let mut again = workflow(604, 11, false);
    again.status = WorkflowStatus::Queued;
    app.on_response(id, Response::WorkflowRetried(Ok(again)));
    assert!(render(&app, 80, 24).contains("Workflow      queued"));
    // One in progress can be stopped.
    let fx = press(&mut app, &[key('W')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a cancel");
    assert_eq!(
        req,
        Request::CancelWorkflow {
            tenant: Uuid::from_u128(1).to_string(),
            id: Uuid::from_u128(604),
        }
    );
    let mut cancelled = workflow(604, 11, false);
    cancelled.status = WorkflowStatus::Cancelled;
    let decided = app.on_response(id, Response::WorkflowDecided(Ok(cancelled)));
    assert!(render(&app, 80, 24).contains("cancelled (w runs it again)"));
    // With none in progress, stopping says so and sends nothing.
    let fx = press(&mut app, &[key('W')]);
    assert!(requests(&fx).is_empty());
    // An ended one aside, a lead without a workflow starts a new one.
    let reread = requests(&decided)
        .into_iter()
        .rfind(|(_, r)| matches!(r, Request::LeadWorkflows { .. }))
        .expect("the decision reads the workflow again")
        .0;
    app.on_response(reread, Response::LeadWorkflows(Ok(Vec::new())));
    // It came through no workspace: the agent is picked first.
    let fx = press(&mut app, &[key('w')]);
    let list = id_of(&fx, |r| matches!(r, Request::ListAgents { .. }));
    app.on_response(list, Response::Agents(Ok(super::agents::mixed_agents())));
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let (id, req) = requests(&fx).into_iter().next().expect("a start");
    assert_eq!(
        req,
        Request::StartWorkflow {
            tenant: Uuid::from_u128(1).to_string(),
            lead: Uuid::from_u128(11),
            agent: Some(Uuid::from_u128(201)),
        }
    );
    let mut queued = workflow(605, 11, false);
    queued.status = WorkflowStatus::Queued;
    queued.steps.clear();
    app.on_response(id, Response::WorkflowStarted(Ok(queued)));
    assert!(render(&app, 80, 24).contains("Workflow      queued"));
    // The draft arrives live: the detail reads the workflow again.
    let fx = app.on_event(
        Uuid::from_u128(1),
        event(
            "workflow.awaiting_approval",
            serde_json::json!({"workflow_id": Uuid::from_u128(605), "lead_id": Uuid::from_u128(11), "lead_name": "Jane Doe"}),
        ),
    );
    assert!(requests(&fx)
        .iter()
        .any(|(_, r)| matches!(r, Request::LeadWorkflows { .. })));
}

// ---------------------------------------------------------------- overview

fn overview_row(n: u128, name: &str, tier: Tier, leads: u32, sla: Option<f64>) -> TenantOverview {
    TenantOverview {
        tenant_id: Uuid::from_u128(n),
        name: name.into(),
        slug: name.to_lowercase().replace(' ', "-"),
        tier,
        suspended: false,
        leads_this_month: leads,
        lead_limit: tier.lead_limit(),
        sla_met_percent: sla,
        overdue_now: 0,
        awaiting_approval: 0,
        usage_today: Default::default(),
    }
}

fn overview_rows() -> Vec<TenantOverview> {
    let mut open_arms = overview_row(1, "Open Arms", Tier::Pro, 870, Some(91.5));
    open_arms.overdue_now = 3;
    open_arms.awaiting_approval = 2;
    let mut beta = overview_row(2, "Beta Co", Tier::Enterprise, 4200, Some(98.0));
    beta.overdue_now = 7;
    let mut casa = overview_row(3, "Casa Verde", Tier::Starter, 100, None);
    casa.suspended = true;
    casa.awaiting_approval = 5;
    open_arms.usage_today.api_calls = 14_200;
    open_arms.usage_today.prompt_tokens = 900;
    beta.usage_today.api_calls = 310;
    beta.usage_today.prompt_tokens = 52_000;
    beta.usage_today.completion_tokens = 8_000;
    vec![open_arms, beta, casa]
}

fn overview_open() -> App {
    let mut app = loaded();
    let fx = command(&mut app, "overview");
    let id = id_of(&fx, |r| *r == Request::PlatformOverview);
    app.on_response(id, Response::Overview(Ok(overview_rows())));
    app
}

fn overview_names(app: &App) -> Vec<String> {
    app.overview.rows().iter().map(|t| t.name.clone()).collect()
}

#[test]
fn snapshot_overview_worst_first() {
    let app = overview_open();
    assert_eq!(app.pane, Pane::Tenants);
    // Most overdue first.
    assert_eq!(overview_names(&app), ["Beta Co", "Open Arms", "Casa Verde"]);
    let screen = render(&app, 80, 24);
    for text in ["Overdue▼", "870/1000", "92%", "Casa Verde (suspended)"] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn the_sort_key_cycles_columns_and_the_other_flips_keeping_the_selection() {
    let mut app = overview_open();
    press(&mut app, &[key('j')]); // Open Arms
    press(&mut app, &[key('s')]);
    assert_eq!(app.overview.sort(), OverviewColumn::Awaiting);
    assert_eq!(overview_names(&app), ["Casa Verde", "Open Arms", "Beta Co"]);
    assert_eq!(
        app.overview.selected_row().map(|t| t.name.as_str()),
        Some("Open Arms")
    );
    press(&mut app, &[key('S')]);
    assert_eq!(overview_names(&app), ["Beta Co", "Open Arms", "Casa Verde"]);
    assert!(render(&app, 80, 24).contains("Awaiting▲"));
    // Today's API calls and tokens, busiest first.
    press(&mut app, &[key('s')]);
    assert_eq!(app.overview.sort(), OverviewColumn::Calls);
    assert_eq!(overview_names(&app), ["Open Arms", "Beta Co", "Casa Verde"]);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Calls▼") && screen.contains("14k"),
        "{screen}"
    );
    press(&mut app, &[key('s')]);
    assert_eq!(app.overview.sort(), OverviewColumn::Tokens);
    assert_eq!(overview_names(&app), ["Beta Co", "Open Arms", "Casa Verde"]);
    assert!(render(&app, 80, 24).contains("60k"));
    // Name sorts A to Z; SLA met puts "no figure" last when descending.
    press(&mut app, &[key('s')]);
    assert_eq!(app.overview.sort(), OverviewColumn::Name);
    assert_eq!(overview_names(&app), ["Beta Co", "Casa Verde", "Open Arms"]);
    press(&mut app, &[key('s'), key('s'), key('s')]);
    assert_eq!(app.overview.sort(), OverviewColumn::SlaMet);
    assert_eq!(overview_names(&app), ["Beta Co", "Open Arms", "Casa Verde"]);
}

#[test]
fn enter_jumps_to_the_tenants_leads() {
    let mut app = overview_open();
    // Beta Co tops the table.
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert_eq!(app.pane, Pane::Leads);
    assert!(!app.overview.is_open());
    assert_eq!(
        app.session.current().map(|t| t.slug.as_str()),
        Some("beta-co")
    );
    assert!(requests(&fx).iter().any(|(_, r)| matches!(r,
        Request::ListLeads { tenant, .. } if *tenant == Uuid::from_u128(2).to_string())));
    // Back in the Tenants pane the table is shown again.
    press(&mut app, &[key('1')]);
    assert!(!render(&app, 80, 24).contains("Platform overview"));
}

#[test]
fn the_tenants_pane_opens_the_overview_and_a_refusal_is_inline() {
    let mut app = loaded();
    let fx = press(&mut app, &[key('O')]);
    let id = id_of(&fx, |r| *r == Request::PlatformOverview);
    assert!(render(&app, 80, 24).contains("Loading the platform overview"));
    app.on_response(
        id,
        Response::Overview(Err(ApiError::Problem(Problem {
            kind: "/problems/forbidden".into(),
            title: "Forbidden".into(),
            status: 403,
            detail: Some("platform admins only".into()),
            errors: vec![],
            retry_after: None,
        }))),
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains("platform admins only"), "{screen}");
    let fx = press(&mut app, &[key('r')]);
    assert!(matches!(
        &requests(&fx)[..],
        [(_, Request::PlatformOverview)]
    ));
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(!app.overview.is_open());
}
