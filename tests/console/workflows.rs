//! The approvals view switched to other workflows: the failed ones across
//! the tenant's leads, run again with `r`; running/queued; all.

use super::views::{approvals, approvals_open, conflict, event, step, workflow};
use super::*;
use switchboard::console::request::Approval;
use switchboard::domain::{StepKind, StepOutcome, Workflow, WorkflowStatus};

/// A workflow whose `kind` step failed with `error`.
fn failed(n: u128, lead: u128, kind: StepKind, error: &str) -> Workflow {
    let mut w = workflow(n, lead, true);
    w.status = WorkflowStatus::Failed;
    w.draft = None;
    w.error = Some(error.into());
    w.attempts = 2;
    let mut broken = step(kind, StepOutcome::Failed, (212, 0), 30_000);
    broken.error = Some(error.into());
    w.steps = match kind {
        StepKind::Qualify => vec![broken],
        StepKind::Draft => vec![
            step(StepKind::Qualify, StepOutcome::Ok, (212, 9), 1400),
            broken,
        ],
    };
    w.updated_at = now() - chrono::Duration::minutes(if lead == 11 { 5 } else { 42 });
    w
}

fn failed_list() -> Vec<Approval> {
    let leads = mixed_leads();
    vec![
        Approval {
            workflow: failed(604, 11, StepKind::Draft, "provider timed out after 30s"),
            lead: Some(leads[0].clone()),
        },
        Approval {
            workflow: failed(
                605,
                12,
                StepKind::Qualify,
                "model local/smollm2-135m is not loaded",
            ),
            lead: Some(leads[1].clone()),
        },
    ]
}

fn statuses_asked(fx: &[Effect]) -> Option<(RequestId, Vec<WorkflowStatus>)> {
    requests(fx).into_iter().find_map(|(id, r)| match r {
        Request::ListApprovals { statuses, .. } => Some((id, statuses)),
        _ => None,
    })
}

/// The approvals view switched once with `f`: the failed list, answered.
fn failed_open() -> App {
    let mut app = approvals_open(approvals());
    let fx = press(&mut app, &[key('f')]);
    let (id, statuses) = statuses_asked(&fx).expect("the failed list");
    assert_eq!(statuses, [WorkflowStatus::Failed]);
    app.on_response(id, Response::Approvals(Ok(failed_list())));
    app
}

#[test]
fn snapshot_failed_workflows_across_leads() {
    let app = failed_open();
    let screen = render(&app, 80, 24);
    for text in [
        "Workflows · failed (2)",
        "Jane Doe",
        "draft",
        "provider timed out after 30s",
        "qualify",
        "r run again",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    // Nothing here can be approved: a failed run has no draft.
    assert!(!screen.contains("approve"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn r_runs_the_failed_workflow_again_and_the_list_is_read_again() {
    let mut app = failed_open();
    press(&mut app, &[key('j')]); // Bob Stone's
                                  // Approve and edit do nothing to a failed run.
    assert!(requests(&press(&mut app, &[key('a'), key('e')])).is_empty());
    assert!(app.modal.is_none());
    let fx = press(&mut app, &[key('r')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a retry");
    assert_eq!(
        req,
        Request::RetryWorkflow {
            tenant: Uuid::from_u128(1).to_string(),
            id: Uuid::from_u128(605),
        }
    );
    assert!(render(&app, 80, 24).contains("Sending…"));
    // Not twice while the first is on its way.
    assert!(press(&mut app, &[key('r')]).is_empty());
    let mut queued = failed(605, 12, StepKind::Qualify, "");
    queued.status = WorkflowStatus::Queued;
    queued.error = None;
    let fx = app.on_response(id, Response::WorkflowRetried(Ok(queued)));
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Running the workflow for Bob Stone again"));
    let left: Vec<Uuid> = app
        .approvals
        .items()
        .iter()
        .map(|a| a.workflow.id)
        .collect();
    assert_eq!(left, [Uuid::from_u128(604)], "it left the failed list");
    let (_, statuses) = statuses_asked(&fx).expect("the list read again");
    assert_eq!(statuses, [WorkflowStatus::Failed]);
}

#[test]
fn a_refused_retry_is_shown_inline_and_keeps_the_row() {
    let mut app = failed_open();
    let fx = press(&mut app, &[key('r')]);
    let id = id_of(&fx, |r| matches!(r, Request::RetryWorkflow { .. }));
    app.on_response(
        id,
        Response::WorkflowRetried(Err(conflict("the workflow is queued now"))),
    );
    assert_eq!(app.approvals.items().len(), 2);
    assert!(app.approvals.deciding().is_none());
    app.toasts.clear(); // the inline message is what is checked here
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Could not retry the workflow for Jane Doe"),
        "{screen}"
    );
    assert!(screen.contains("it changed meanwhile"), "{screen}");
    // The next key clears it.
    press(&mut app, &[key('j')]);
    assert!(app.approvals.error().is_none());
}

#[test]
fn the_status_key_cycles_the_lists_and_back() {
    let mut app = failed_open();
    let fx = press(&mut app, &[key('f')]);
    let (id, statuses) = statuses_asked(&fx).expect("running/queued");
    assert_eq!(statuses, [WorkflowStatus::Running, WorkflowStatus::Queued]);
    assert!(render(&app, 80, 24).contains("Loading the workflows"));
    app.on_response(id, Response::Approvals(Ok(vec![])));
    assert!(render(&app, 80, 24).contains("Nothing is running or queued."));
    let fx = press(&mut app, &[key('f')]);
    let (id, statuses) = statuses_asked(&fx).expect("all");
    assert!(statuses.is_empty());
    // In "all", the keys follow the selected row: r runs a failed one
    // again, and rejects a draft awaiting approval.
    let mut list = failed_list();
    list.insert(0, approvals().remove(0));
    app.on_response(id, Response::Approvals(Ok(list)));
    assert!(render(&app, 80, 24).contains("Workflows · all (3)"));
    press(&mut app, &[key('r')]);
    assert!(
        matches!(&app.modal, Some(Modal::Form(f)) if f.purpose == FormPurpose::RejectDraft { tenant: Uuid::from_u128(1), workflow: Uuid::from_u128(601) })
    );
    press(&mut app, &[code(KeyCode::Esc), key('j')]);
    let fx = press(&mut app, &[key('r')]);
    assert!(
        matches!(&requests(&fx)[..], [(_, Request::RetryWorkflow { id, .. })] if *id == Uuid::from_u128(604))
    );
    let fx = press(&mut app, &[key('f')]);
    let (_, statuses) = statuses_asked(&fx).expect("awaiting approval");
    assert_eq!(statuses, [WorkflowStatus::AwaitingApproval]);
}

#[test]
fn live_workflow_events_read_the_failed_list_again() {
    let mut app = failed_open();
    let tenant = Uuid::from_u128(1);
    let fx = app.on_event(
        tenant,
        event(
            "workflow.failed",
            serde_json::json!({"workflow_id": Uuid::from_u128(606), "error": "provider down"}),
        ),
    );
    let (_, statuses) = statuses_asked(&fx).expect("the list read again");
    assert_eq!(statuses, [WorkflowStatus::Failed]);
    // Another lead's draft awaiting approval moves nothing out of this
    // list, but it is read again all the same (no partial update to miss).
    let fx = app.on_event(
        tenant,
        event(
            "workflow.awaiting_approval",
            serde_json::json!({"workflow_id": Uuid::from_u128(607), "lead_id": Uuid::from_u128(13), "lead_name": "Ana Silva"}),
        ),
    );
    assert!(statuses_asked(&fx).is_some());
    assert!(!requests(&fx)
        .iter()
        .any(|(_, r)| matches!(r, Request::LoadApproval { .. })));
    // Closed, the view asks nothing.
    press(&mut app, &[code(KeyCode::Esc)]);
    let fx = app.on_event(
        tenant,
        event(
            "workflow.failed",
            serde_json::json!({"workflow_id": Uuid::from_u128(608)}),
        ),
    );
    assert!(statuses_asked(&fx).is_none());
}

// ------------------------------------------- sources and the draft policy

/// Jane Doe's draft with what the research step found for it, under a
/// policy that drafts for hot and warm leads.
fn researched() -> Workflow {
    use switchboard::domain::WorkflowSources;
    use switchboard::domain::{KnowledgeMode, KnowledgeSnippet, RelatedLead, SettingFact};
    let mut w = workflow(601, 11, true);
    w.sources = Some(WorkflowSources {
        knowledge: KnowledgeMode::All,
        snippets: vec![KnowledgeSnippet {
            document_id: Uuid::from_u128(901),
            title: "料金表 Prices 2026".into(),
            chunk: 2,
            text: "Folding chairs rent at 4 EUR each per day; delivery within 20 km is free \
                   for orders of 30 chairs or more, otherwise 25 EUR. Collection is the next \
                   working day. Deposits are not asked of returning customers."
                .into(),
            score: 3.2,
        }],
        leads: vec![
            RelatedLead {
                lead_id: Uuid::from_u128(15),
                this_lead: false,
                name: "Jane Doe".into(),
                company: Some("Acme".into()),
                message: "Twenty chairs for a garden wedding".into(),
                stage: "won".into(),
                category: Some("warm".into()),
                notes: vec!["Paid on delivery".into()],
                created_at: now() - chrono::Duration::days(60),
            },
            RelatedLead {
                lead_id: Uuid::from_u128(11),
                this_lead: true,
                name: "Jane Doe".into(),
                company: Some("Acme".into()),
                message: String::new(),
                stage: "new".into(),
                category: None,
                notes: vec!["Called back, wants a quote by Friday".into()],
                created_at: now() - chrono::Duration::minutes(30),
            },
        ],
        settings: vec![SettingFact {
            name: "business name".into(),
            value: "Open Arms".into(),
        }],
    });
    w.draft_policy = Some(vec!["hot".into(), "warm".into()]);
    w
}

#[test]
fn snapshot_an_approval_shows_the_sources_its_draft_used_and_the_policy() {
    let mut list = approvals();
    list[0].workflow = researched();
    let app = approvals_open(list);
    let screen = render(&app, 100, 40);
    for text in [
        "Policy    drafts replies for hot, warm;",
        "Sources",
        "setting   business name",
        "knowledge 料金表 Prices 2026 (part 2)",
        "Folding chairs rent at 4 EUR each per day",
        "lead      Jane Doe (",
        "Twenty chairs for a garden wedding",
        "notes     on this lead (",
        "Called back, wants a quote by Friday",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    // A long excerpt is cut at two lines, and says so.
    assert!(!screen.contains("returning customers"), "{screen}");
    assert!(screen.contains('…'), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn an_approval_without_snippets_says_why_and_one_before_research_lists_nothing() {
    let mut list = approvals();
    let mut w = researched();
    if let Some(s) = &mut w.sources {
        s.snippets.clear();
    }
    list[0].workflow = w;
    let app = approvals_open(list);
    let screen = render(&app, 100, 40);
    assert!(
        screen.contains("knowledge nothing found for this message"),
        "{screen}"
    );
    // Bob Stone's workflow has no sources and no policy recorded: neither
    // line is drawn rather than an empty one.
    let mut app = app;
    press(&mut app, &[key('j')]);
    let screen = render(&app, 100, 40);
    assert!(!screen.contains("Sources"), "{screen}");
    assert!(!screen.contains("Policy"), "{screen}");
}

#[test]
fn snapshot_a_workflow_qualified_without_a_draft_says_the_policy_did_it() {
    let mut app = approvals_open(approvals());
    press(&mut app, &[key('f'), key('f')]);
    let fx = press(&mut app, &[key('f')]);
    let (id, statuses) = statuses_asked(&fx).expect("all");
    assert!(statuses.is_empty());
    let mut w = workflow(606, 13, true);
    w.status = WorkflowStatus::Qualified;
    w.draft = None;
    w.steps.truncate(1);
    w.qualification = Some(switchboard::domain::Qualification {
        category: "cold".into(),
        reason: "just browsing".into(),
    });
    w.draft_policy = Some(vec!["hot".into(), "warm".into()]);
    let leads = mixed_leads();
    app.on_response(
        id,
        Response::Approvals(Ok(vec![Approval {
            workflow: w,
            lead: Some(leads[2].clone()),
        }])),
    );
    let screen = render(&app, 80, 24);
    for text in ["qualified", "not drafted: cold gets no draft under the"] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}
