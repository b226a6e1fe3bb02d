//! The global agent library in the Agents pane (issue 19): the marks, the
//! use counts and last use, the sorts, and "use as template".

use super::agents::{agent, agents_loaded, snapshot_now};
use super::*;

#[test]
fn snapshot_agents_table_wide_shows_every_column() {
    let mut app = agents_loaded();
    app.now = snapshot_now();
    let screen = render(&app, 140, 24);
    for text in [
        "v3",
        "Platform (shared)",
        "ollama/llama3.2",
        "◆ Qualifier",
        "1d ago",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_agents_table_narrow_drops_columns_but_keeps_the_marks() {
    let mut app = agents_loaded();
    app.now = snapshot_now();
    let screen = render(&app, 60, 24);
    for text in ["◆ Qualifier", "global", "12.3k"] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    assert!(!screen.contains("Category"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_agents_sorted_by_uses_then_last_use() {
    let mut app = agents_loaded();
    app.now = snapshot_now();
    // On Triage: the sort keeps the cursor on it.
    press(&mut app, &[key('j'), key('o')]);
    let names: Vec<&str> = app.agents.items().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Qualifier", "Receptionist", "Triage"]);
    assert_eq!(app.agents.selected_agent().unwrap().name, "Triage");
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("by uses") && screen.contains("Uses↓"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
    press(&mut app, &[key('o')]);
    let names: Vec<&str> = app.agents.items().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["Qualifier", "Receptionist", "Triage"],
        "never used last"
    );
    assert!(render(&app, 80, 24).contains("by last used"));
    // Back to by name: the tenant's own first.
    press(&mut app, &[key('o')]);
    let names: Vec<&str> = app.agents.items().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Receptionist", "Triage", "Qualifier"]);
}

#[test]
fn use_as_template_copies_the_selected_agent_and_selects_the_copy() {
    let mut app = agents_loaded();
    let fx = press(&mut app, &[key('G'), key('c')]);
    let id = id_of(&fx, |r| {
        *r == Request::CopyAgent {
            tenant: Uuid::from_u128(1).to_string(),
            id: Uuid::from_u128(203),
        }
    });
    let mut copy = agent(204, "Qualifier", "Open Arms", false);
    copy.version = 1;
    copy.category = Some("Sales".into());
    app.on_response(id, Response::AgentCreated(Ok(copy)));
    let selected = app.agents.selected_agent().unwrap();
    assert_eq!(selected.id, Uuid::from_u128(204));
    assert!(!selected.read_only);
    assert_eq!(app.agents.items().len(), 4);
    let toast = app
        .toasts
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(toast.contains("Copied Qualifier"), "{toast}");
    // The key is in the keymap, so the help lists it.
    press(&mut app, &[key('?')]);
    let help = render(&app, 240, 200);
    assert!(help.contains("use as template"), "{help}");
}
