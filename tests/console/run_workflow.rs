//! `w` on an open lead: a lead that came through a workspace runs that
//! workspace's agent at once; any other opens a picker of the tenant's
//! agents, and the one chosen goes into the start request.

use super::agents::mixed_agents;
use super::leads::{lead, leads_loaded, timeline};
use super::*;
use switchboard::console::app::PickPurpose;
use switchboard::domain::{Lead, Workflow, WorkflowStatus};

/// The Leads pane with `l` open and no workflow yet.
fn lead_open(l: Lead) -> App {
    let mut app = leads_loaded(vec![l.clone()], None);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let load = id_of(&fx, |r| matches!(r, Request::LoadLead { .. }));
    let wf = id_of(&fx, |r| matches!(r, Request::LeadWorkflows { .. }));
    app.on_response(
        load,
        Response::Lead(Box::new(LeadData {
            lead: Ok(l),
            timeline: Ok(timeline()),
        })),
    );
    app.on_response(wf, Response::LeadWorkflows(Ok(Vec::new())));
    app
}

/// `w` on a lead from no workspace: the agents request it sent.
fn press_w_for_picker(app: &mut App) -> RequestId {
    let fx = press(app, &[key('w')]);
    let reqs = requests(&fx);
    assert!(
        !reqs
            .iter()
            .any(|(_, r)| matches!(r, Request::StartWorkflow { .. })),
        "{reqs:?}"
    );
    id_of(
        &fx,
        |r| matches!(r, Request::ListAgents { tenant } if *tenant == Uuid::from_u128(1).to_string()),
    )
}

fn queued(lead: u128, agent: u128) -> Workflow {
    let mut wf = super::views::workflow(700, lead, false);
    wf.status = WorkflowStatus::Queued;
    wf.agent_id = Uuid::from_u128(agent);
    wf.steps.clear();
    wf
}

#[test]
fn snapshot_w_on_a_lead_from_no_workspace_opens_the_agent_picker() {
    let mut app = lead_open(lead(11, "Jane Doe", "Acme", 60));
    let id = press_w_for_picker(&mut app);
    // The picker opens at once and says it is loading.
    assert!(render(&app, 80, 24).contains("Loading agents…"));
    app.on_response(id, Response::Agents(Ok(mixed_agents())));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Run a workflow for Jane Doe with"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn enter_in_the_agent_picker_starts_the_workflow_with_the_chosen_agent() {
    let mut app = lead_open(lead(11, "Jane Doe", "Acme", 60));
    let id = press_w_for_picker(&mut app);
    app.on_response(id, Response::Agents(Ok(mixed_agents())));
    // Receptionist, Triage, Qualifier: move to Triage and back and down
    // again, then choose it.
    let fx = press(
        &mut app,
        &[
            key('j'),
            code(KeyCode::Down),
            key('k'),
            code(KeyCode::Enter),
        ],
    );
    let (start, req) = requests(&fx)
        .into_iter()
        .find(|(_, r)| matches!(r, Request::StartWorkflow { .. }))
        .expect("a start");
    assert_eq!(
        req,
        Request::StartWorkflow {
            tenant: Uuid::from_u128(1).to_string(),
            lead: Uuid::from_u128(11),
            agent: Some(Uuid::from_u128(202)),
        }
    );
    assert!(app.modal.is_none());
    app.on_response(start, Response::WorkflowStarted(Ok(queued(11, 202))));
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Started a workflow for Jane Doe with Triage"));
    assert!(render(&app, 80, 24).contains("Workflow      queued"));
}

#[test]
fn esc_cancels_the_agent_picker_and_a_late_list_does_not_reopen_it() {
    let mut app = lead_open(lead(11, "Jane Doe", "Acme", 60));
    let id = press_w_for_picker(&mut app);
    let fx = press(&mut app, &[code(KeyCode::Esc)]);
    assert!(requests(&fx).is_empty());
    assert!(app.modal.is_none());
    app.on_response(id, Response::Agents(Ok(mixed_agents())));
    assert!(app.modal.is_none());
}

#[test]
fn an_empty_agent_list_says_how_to_make_an_agent() {
    let mut app = lead_open(lead(11, "Jane Doe", "Acme", 60));
    let id = press_w_for_picker(&mut app);
    app.on_response(id, Response::Agents(Ok(Vec::new())));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("No agents yet: press 3 for Agents, then n to make one."),
        "{screen}"
    );
    // Nothing to start with: enter sends nothing.
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert!(requests(&fx).is_empty());
}

#[test]
fn a_failed_agent_list_is_shown_in_the_picker() {
    let mut app = lead_open(lead(11, "Jane Doe", "Acme", 60));
    let id = press_w_for_picker(&mut app);
    app.on_response(id, Response::Agents(Err(unreachable())));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Could not load the agents"), "{screen}");
}

#[test]
fn a_lead_from_a_workspace_with_an_agent_starts_without_the_picker() {
    let mut l = lead(11, "Jane Doe", "Acme", 60);
    l.workspace_id = Some(Uuid::from_u128(301));
    let mut app = lead_open(l);
    let fx = press(&mut app, &[key('w')]);
    let reqs = requests(&fx);
    assert_eq!(
        reqs.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
        vec![Request::StartWorkflow {
            tenant: Uuid::from_u128(1).to_string(),
            lead: Uuid::from_u128(11),
            agent: None,
        }]
    );
    assert!(app.modal.is_none());
    app.on_response(reqs[0].0, Response::WorkflowStarted(Ok(queued(11, 201))));
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Started a workflow for Jane Doe"));
}

#[test]
fn a_workspace_without_an_agent_falls_back_to_the_picker() {
    let mut l = lead(11, "Jane Doe", "Acme", 60);
    l.workspace_id = Some(Uuid::from_u128(304));
    let mut app = lead_open(l);
    let fx = press(&mut app, &[key('w')]);
    let start = id_of(&fx, |r| {
        matches!(r, Request::StartWorkflow { agent: None, .. })
    });
    let fx = app.on_response(
        start,
        Response::WorkflowStarted(Err(validation(
            "agent_id",
            "Phone line has no agent linked; link one or name an agent",
        ))),
    );
    // Said why, as information, and the picker offers the agents.
    assert!(app
        .toasts
        .iter()
        .any(|t| t.kind == ToastKind::Info && t.text.contains("Phone line has no agent linked")));
    assert!(matches!(
        &app.modal,
        Some(Modal::Picker(p)) if matches!(p.purpose, PickPurpose::WorkflowAgent { .. })
    ));
    let list = id_of(&fx, |r| matches!(r, Request::ListAgents { .. }));
    app.on_response(list, Response::Agents(Ok(mixed_agents())));
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert!(requests(&fx).iter().any(|(_, r)| matches!(
        r,
        Request::StartWorkflow { agent: Some(a), .. } if *a == Uuid::from_u128(201)
    )));
}
