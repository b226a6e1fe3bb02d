//! What the console remembers of a context between runs (issue 15): the
//! recently used tenants come first in `:tenant` completion, and the Leads
//! list's scope and search come back on the next run.

use super::views::command;
use super::*;
use switchboard::console::contexts::ContextMemory;
use switchboard::console::leads::LeadsMemory;

fn tenant_candidates(app: &mut App) -> Vec<String> {
    press(app, &[key(':')]);
    typed(app, "tenant ");
    press(app, &[code(KeyCode::Tab)]);
    let line = app.command.clone().map(|c| c.candidates);
    press(app, &[code(KeyCode::Esc)]);
    line.unwrap_or_default()
}

#[test]
fn tenant_completion_lists_the_most_recently_used_first() {
    let mut app = loaded();
    // Remembered from an earlier run: Casa Verde, then Beta Co.
    app.recall(ContextMemory {
        tenant: None,
        recent_tenants: vec!["casa-verde".into(), "beta-co".into()],
        leads: LeadsMemory::default(),
    });
    // The current tenant is the most recent of all; then the remembered.
    let listed = tenant_candidates(&mut app);
    let tenants: Vec<&str> = listed
        .iter()
        .filter_map(|c| c.strip_prefix("tenant "))
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        tenants,
        ["open-arms", "casa-verde", "beta-co", "platform"],
        "{listed:?}"
    );
    // Used now: it moves to the front, and is what the next run remembers.
    command(&mut app, "tenant beta-co");
    let listed = tenant_candidates(&mut app);
    assert_eq!(listed[1], "tenant beta-co", "{listed:?}");
    let memory = app.memory().expect("a tenant is current");
    assert_eq!(memory.tenant.as_deref(), Some("beta-co"));
    assert_eq!(
        memory.recent_tenants,
        ["beta-co", "open-arms", "casa-verde"]
    );
}

#[test]
fn the_leads_scope_and_search_are_remembered_and_come_back() {
    let mut app = loaded();
    command(&mut app, "leads overdue");
    press(&mut app, &[key('/')]);
    typed(&mut app, "roof");
    press(&mut app, &[code(KeyCode::Enter)]);
    let memory = app.memory().expect("a tenant is current");
    assert_eq!(
        memory.leads,
        LeadsMemory {
            scope: "overdue".into(),
            search: "roof".into()
        }
    );

    // The next run: recalled before the tenants load, brought back once
    // they do, in one list request with both.
    let mut next = new_app();
    next.recall(memory);
    let fx = next.start();
    let me_id = id_of(&fx, |r| *r == Request::Me);
    let list_id = id_of(&fx, |r| *r == Request::ListTenants);
    next.on_response(me_id, Response::Me(Ok(me(true))));
    let mut tenants = vec![platform()];
    tenants.extend(three_tenants());
    let fx = next.on_response(list_id, Response::Tenants(Ok(tenants)));
    let fx = [fx, press(&mut next, &[key('2')])].concat();
    let queries: Vec<_> = requests(&fx)
        .into_iter()
        .filter_map(|(_, r)| match r {
            Request::ListLeads { query, .. } => Some(query),
            _ => None,
        })
        .collect();
    assert!(!queries.is_empty(), "the list loads");
    let last = queries.last().expect("a query");
    assert_eq!(last.sla.as_deref(), Some("overdue"));
    assert_eq!(last.q.as_deref(), Some("roof"));
    // Remembered again as it was.
    assert_eq!(
        next.memory().map(|m| m.leads.scope),
        Some("overdue".to_string())
    );
}

#[test]
fn the_all_tenants_queue_is_remembered_as_such() {
    let mut app = loaded();
    command(&mut app, "leads all at_risk");
    assert_eq!(
        app.memory().map(|m| m.leads.scope),
        Some("all at_risk".to_string())
    );
}
