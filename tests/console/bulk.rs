//! Bulk actions on the Leads list: marks, and one bulk request per tenant
//! touched by the marked leads.

use super::*;
use switchboard::console::app::Confirmable;
use switchboard::domain::BulkResult;

use super::queue::{member, queue_loaded, BETA_CO, OPEN_ARMS};

fn marked_titles(app: &App, w: u16) -> String {
    render(app, w, 24)
}

#[test]
fn snapshot_marked_leads_show_a_dot_and_the_title_counts_them() {
    let mut app = queue_loaded();
    // space marks and moves on: the first two leads.
    press(&mut app, &[key(' '), key(' ')]);
    assert!(app.leads.is_marked(Uuid::from_u128(31)));
    assert!(app.leads.is_marked(Uuid::from_u128(11)));
    assert!(!app.leads.is_marked(Uuid::from_u128(32)));
    assert_eq!(app.leads.marked_count(), 2);
    let screen = marked_titles(&app, 120);
    assert!(screen.contains("· 2 marked"), "{screen}");
    assert!(screen.contains("● Marta Ruiz"), "{screen}");
    assert!(screen.contains("● Jane Doe"), "{screen}");
    assert!(!screen.contains("● Barth"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn space_unmarks_v_marks_a_range_star_marks_all_and_esc_clears() {
    let mut app = queue_loaded();
    press(&mut app, &[key(' ')]);
    press(&mut app, &[key('k'), key(' ')]);
    assert_eq!(app.leads.marked_count(), 0, "space again unmarks");
    // Mark the first, go to the last, V marks everything between.
    press(&mut app, &[key('k'), key(' '), key('G'), key('V')]);
    assert_eq!(app.leads.marked_count(), 3);
    // esc clears the marks first, sending nothing ...
    assert!(press(&mut app, &[code(KeyCode::Esc)]).is_empty());
    assert_eq!(app.leads.marked_count(), 0);
    press(&mut app, &[key('*')]);
    assert_eq!(app.leads.marked_count(), 3);
    // ... and a new scope drops them.
    press(&mut app, &[key('T')]);
    assert_eq!(app.leads.marked_count(), 0);
}

#[test]
fn an_action_without_marks_says_how_to_mark() {
    let mut app = queue_loaded();
    let fx = press(&mut app, &[key('m')]);
    assert!(requests(&fx).is_empty());
    assert!(app.modal.is_none());
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text == "Mark leads first (space), or open one with enter"),
        "{:?}",
        app.toasts.iter().map(|t| &t.text).collect::<Vec<_>>()
    );
}

#[test]
fn marked_leads_of_two_tenants_are_moved_with_one_request_per_tenant() {
    let mut app = queue_loaded();
    press(&mut app, &[key('*'), key('m')]);
    // Only the stage both tenants have is offered.
    let Some(Modal::Picker(p)) = &app.modal else {
        panic!("no picker: {:?}", app.modal);
    };
    assert_eq!(p.options, ["Won"]);
    assert_eq!(p.title, "Move 3 leads of Beta Co, Open Arms to");
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let reqs = requests(&fx);
    let mut bulks: Vec<(String, Vec<Uuid>, Option<String>)> = reqs
        .iter()
        .filter_map(|(_, r)| match r {
            Request::BulkLeads { tenant, bulk } => {
                Some((tenant.clone(), bulk.ids.clone(), bulk.stage.clone()))
            }
            _ => None,
        })
        .collect();
    bulks.sort();
    let beta = Uuid::from_u128(BETA_CO).to_string();
    let open_arms = Uuid::from_u128(OPEN_ARMS).to_string();
    let mut expected = vec![
        (
            beta.clone(),
            vec![Uuid::from_u128(31), Uuid::from_u128(32)],
            Some("won".to_string()),
        ),
        (
            open_arms,
            vec![Uuid::from_u128(11)],
            Some("won".to_string()),
        ),
    ];
    expected.sort();
    assert_eq!(bulks, expected, "{reqs:?}");
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(app.leads.marked_count(), 0, "the marks are spent");

    // Beta Co changed one and refused the other: both are said.
    let id = id_of(
        &fx,
        |r| matches!(r, Request::BulkLeads { tenant, .. } if *tenant == beta),
    );
    let fx = app.on_response(
        id,
        Response::Bulk(Ok(BulkResult {
            updated: vec![Uuid::from_u128(31)],
            not_found: vec![Uuid::from_u128(32)],
        })),
    );
    let texts: Vec<&String> = app.toasts.iter().map(|t| &t.text).collect();
    assert!(
        texts.iter().any(|t| *t == "Beta Co: moved 1 lead to Won"),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Beta Co: not changed")
                && t.contains("Bartholomew Featherstonehaugh")),
        "{texts:?}"
    );
    // The queue is read again.
    assert!(requests(&fx)
        .iter()
        .any(|(_, r)| matches!(r, Request::ListQueue { .. })));
}

#[test]
fn tenants_without_a_common_stage_are_refused_before_anything_is_sent() {
    let mut app = loaded_with(true, {
        let mut all = vec![platform()];
        all.extend(three_tenants());
        if let Some(beta) = all.iter_mut().find(|t| t.id == Uuid::from_u128(BETA_CO)) {
            beta.settings.pipeline_stages = vec![switchboard::domain::Stage::new("inbox", "Inbox")];
        }
        all
    });
    app.now = now();
    press(&mut app, &[key('2')]);
    let fx = super::queue::command(&mut app, "leads all");
    let id = id_of(&fx, |r| matches!(r, Request::ListQueue { .. }));
    app.on_response(
        id,
        super::queue::queue_page(super::queue::queue_leads(), None),
    );
    let fx = press(&mut app, &[key('*'), key('m')]);
    assert!(requests(&fx).is_empty());
    assert!(app.modal.is_none());
    assert!(app.toasts.iter().any(|t| t.text.contains("share no stage")));
}

#[test]
fn bulk_assign_offers_members_of_every_touched_tenant() {
    let mut app = queue_loaded();
    press(&mut app, &[key('*')]);
    // The members are read first.
    let fx = press(&mut app, &[key('a')]);
    assert!(app.modal.is_none());
    let both = member(9, "Kim Lee", "kim@example.com");
    for (id, r) in requests(&fx) {
        if let Request::ListLeadMembers { tenant } = r {
            let mut list = vec![both.clone()];
            if tenant == Uuid::from_u128(BETA_CO).to_string() {
                list.push(member(8, "Bo Berg", "bo@beta.co"));
            }
            app.on_response(id, Response::LeadMembers(Ok(list)));
        }
    }
    // Open Arms' members were read when the pane opened (Kim Lee).
    press(&mut app, &[key('a')]);
    let Some(Modal::Picker(p)) = &app.modal else {
        panic!("no picker: {:?}", app.modal);
    };
    assert_eq!(p.options, ["nobody", "Kim Lee <kim@example.com>"]);
    let fx = press(&mut app, &[key('j'), code(KeyCode::Enter)]);
    let reqs = requests(&fx);
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert!(reqs
        .iter()
        .all(|(_, r)| matches!(r, Request::BulkLeads { bulk, .. }
        if bulk.assignee_id == Some(Some(Uuid::from_u128(9))) && bulk.stage.is_none())));
}

#[test]
fn snapshot_bulk_delete_asks_naming_the_count_and_the_tenants() {
    let mut app = queue_loaded();
    let fx = press(&mut app, &[key('*'), key('d')]);
    assert!(requests(&fx).is_empty());
    let Some(Modal::Confirm { question, action }) = &app.modal else {
        panic!("no confirmation: {:?}", app.modal);
    };
    assert_eq!(
        question,
        "Delete 3 leads of Beta Co, Open Arms? This cannot be undone."
    );
    assert!(matches!(action, Confirmable::DeleteLeads { leads } if leads.len() == 3));
    let screen = render(&app, 80, 24);
    insta::assert_snapshot!(screen);
    let fx = press(&mut app, &[key('y')]);
    let reqs = requests(&fx);
    let beta = Uuid::from_u128(BETA_CO).to_string();
    let deletes: Vec<&String> = reqs
        .iter()
        .filter_map(|(_, r)| match r {
            Request::DeleteLead { tenant, .. } => Some(tenant),
            _ => None,
        })
        .collect();
    assert_eq!(deletes.len(), 3, "{reqs:?}");
    assert_eq!(deletes.iter().filter(|t| ***t == beta).count(), 2);
    // Beta Co's two go; Open Arms refuses its one: one toast per tenant.
    for (id, r) in requests(&fx) {
        let Request::DeleteLead { tenant, .. } = r else {
            continue;
        };
        let reply = if tenant == beta {
            Ok(())
        } else {
            Err(validation("id", "a lead with a workflow awaiting approval"))
        };
        app.on_response(id, Response::LeadDeleted(reply));
    }
    let texts: Vec<&String> = app.toasts.iter().map(|t| &t.text).collect();
    assert!(
        texts.contains(&&"Beta Co: 2 leads deleted".to_string()),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Open Arms: not deleted: Jane Doe (")),
        "{texts:?}"
    );
    assert_eq!(texts.len(), 2, "one toast per tenant: {texts:?}");
    assert_eq!(app.leads.items().len(), 1);
    assert_eq!(app.leads.items()[0].name, "Jane Doe");
}

#[test]
fn marked_leads_are_marked_spam_one_by_one_with_one_toast_per_tenant() {
    let mut app = queue_loaded();
    let fx = press(&mut app, &[key('*'), key('!')]);
    let reqs = requests(&fx);
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    let beta = Uuid::from_u128(BETA_CO).to_string();
    let mut per_tenant = std::collections::BTreeMap::new();
    for (_, r) in &reqs {
        let Request::UpdateLead { tenant, patch, .. } = r else {
            panic!("{r:?}");
        };
        assert_eq!(patch.spam, Some(true));
        *per_tenant.entry(tenant.clone()).or_insert(0) += 1;
    }
    assert_eq!(per_tenant.get(&beta), Some(&2));
    assert_eq!(app.leads.marked_count(), 0);
    for (id, r) in requests(&fx) {
        let Request::UpdateLead { id: lead, .. } = r else {
            continue;
        };
        let mut l = super::queue::queue_leads()
            .into_iter()
            .find(|l| l.id == lead)
            .unwrap();
        l.spam = true;
        app.on_response(id, Response::LeadUpdated(Ok(l)));
    }
    let mut texts: Vec<&str> = app.toasts.iter().map(|t| t.text.as_str()).collect();
    texts.sort();
    assert_eq!(
        texts,
        [
            "Beta Co: 2 leads marked as spam",
            "Open Arms: 1 lead marked as spam"
        ]
    );
    assert_eq!(texts.len(), 2, "{texts:?}");
    // Spam leaves the overdue queue.
    assert!(app.leads.items().is_empty());
}

#[test]
fn a_failed_members_read_of_another_tenant_is_said_and_asked_again() {
    let mut app = queue_loaded();
    press(&mut app, &[key('*')]);
    let fx = press(&mut app, &[key('a')]);
    let beta = Uuid::from_u128(BETA_CO).to_string();
    let id = id_of(
        &fx,
        |r| matches!(r, Request::ListLeadMembers { tenant } if *tenant == beta),
    );
    app.on_response(id, Response::LeadMembers(Err(unreachable())));
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text.starts_with("Could not load the members")));
    assert!(app.modal.is_none());
    // The next try reads them again rather than waiting forever.
    let fx = press(&mut app, &[key('a')]);
    assert!(requests(&fx)
        .iter()
        .any(|(_, r)| matches!(r, Request::ListLeadMembers { tenant } if *tenant == beta)));
}

#[test]
fn more_marked_leads_than_one_bulk_request_takes_go_in_chunks() {
    let mut app = loaded_with(true, super::queue::tenants());
    app.now = now();
    press(&mut app, &[key('2')]);
    let fx = super::queue::command(&mut app, "leads all");
    let id = id_of(&fx, |r| matches!(r, Request::ListQueue { .. }));
    let many: Vec<_> = (0..1200u128)
        .map(|i| super::queue::of(BETA_CO, super::leads::lead(1000 + i, "Many", "", 60)))
        .collect();
    app.on_response(id, super::queue::queue_page(many, None));
    press(&mut app, &[key('*'), key('m')]);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let sizes: Vec<usize> = requests(&fx)
        .iter()
        .filter_map(|(_, r)| match r {
            Request::BulkLeads { bulk, .. } => Some(bulk.ids.len()),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, [500, 500, 200]);
    // Deleting that many one by one is refused, saying the limit.
    press(&mut app, &[key('*'), key('d')]);
    assert!(app.modal.is_none());
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text.contains("delete at most 500")));
}

#[test]
fn the_queue_and_marking_keys_are_in_the_one_keymap_without_clashes() {
    let app = queue_loaded();
    for (name, label) in [
        ("all_tenants", "T"),
        ("mark", "space"),
        ("mark_range", "V"),
        ("mark_all", "*"),
        ("move_stage", "m"),
        ("assign", "a"),
        ("spam", "!"),
        ("remove", "d"),
    ] {
        assert_eq!(
            app.keymap.key_label(Context::LeadList, name),
            label,
            "{name}"
        );
    }
    // No key of the Leads list is bound twice there.
    let mut seen = std::collections::BTreeSet::new();
    for b in app.keymap.bindings() {
        if b.context == Context::LeadList {
            for k in &b.keys {
                assert!(seen.insert(k.label()), "{} bound twice", k.label());
            }
        }
    }
}

#[test]
fn w_runs_the_workflows_of_marked_leads_that_came_through_a_workspace() {
    let mut app = loaded_with(true, super::queue::tenants());
    app.now = now();
    press(&mut app, &[key('2')]);
    let fx = super::queue::command(&mut app, "leads all");
    let id = id_of(&fx, |r| matches!(r, Request::ListQueue { .. }));
    let mut leads = super::queue::queue_leads();
    // Marta and Bartholomew (Beta Co) came through a workspace; Jane did not.
    leads[0].workspace_id = Some(Uuid::from_u128(70));
    leads[2].workspace_id = Some(Uuid::from_u128(70));
    app.on_response(id, super::queue::queue_page(leads, None));
    let fx = press(&mut app, &[key('*'), key('w')]);
    let reqs = requests(&fx);
    let beta = Uuid::from_u128(BETA_CO).to_string();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert!(reqs.iter().all(|(_, r)| matches!(r,
        Request::StartWorkflow { tenant, agent: None, .. } if *tenant == beta)));
    assert!(app.toasts.iter().any(|t| t
        .text
        .starts_with("Not started, no workspace names their agent: Jane Doe.")));
    // Jane stays marked, to open and pick an agent for.
    assert_eq!(app.leads.marked_count(), 1);
    assert!(app.leads.is_marked(Uuid::from_u128(11)));
    for (id, r) in requests(&fx) {
        let Request::StartWorkflow { lead, .. } = r else {
            continue;
        };
        let reply = if lead == Uuid::from_u128(31) {
            Ok(super::views::workflow(90, 31, false))
        } else {
            Err(validation("agent_id", "the workspace has no agent linked"))
        };
        app.on_response(id, Response::WorkflowStarted(reply));
    }
    let texts: Vec<&str> = app.toasts.iter().map(|t| t.text.as_str()).collect();
    assert!(
        texts.contains(&"Beta Co: 1 lead sent to their workspace's agent"),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.starts_with(
            "Beta Co: not sent to their workspace's agent: Bartholomew Featherstonehaugh ("
        )),
        "{texts:?}"
    );
    // A refusal in a batch does not open the agent picker.
    assert!(app.modal.is_none());
}
