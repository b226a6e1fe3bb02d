//! Business hours in the console: the settings form reads and writes them
//! (mistakes marked on their line, the draft kept), the settings tab says
//! them, and SLA countdowns pause while the tenant is closed.

use super::leads::{lead, leads_loaded};
use super::*;
use switchboard::domain::business_hours::{BusinessHours, OpeningRange, Week};

/// Lisbon, weekdays 13:00-17:00: closed at the leads tests' clock (Monday
/// 2 March 2026, 12:00 UTC, which is 12:00 in Lisbon).
fn afternoons() -> BusinessHours {
    let range = || vec![OpeningRange("13:00-17:00".into())];
    BusinessHours {
        time_zone: "Europe/Lisbon".into(),
        week: Week {
            mon: range(),
            tue: range(),
            wed: range(),
            thu: range(),
            fri: range(),
            ..Week::default()
        },
        closures: Vec::new(),
    }
}

fn with_hours(app: &mut App, hours: Option<BusinessHours>) {
    let mut t = app
        .session
        .tenant(Uuid::from_u128(1))
        .cloned()
        .expect("Open Arms");
    t.settings.business_hours = hours;
    app.session.replace_tenant(t);
}

#[test]
fn countdowns_pause_while_the_tenant_is_closed() {
    // Received an hour ago; due in 7 h of wall-clock time.
    let mut app = leads_loaded(vec![lead(1, "Ana Silva", "Acme", 60)], None);
    let screen = render(&app, 120, 12);
    assert!(
        screen.contains("7h 0m"),
        "wall clock without hours:\n{screen}"
    );

    with_hours(&mut app, Some(afternoons()));
    let screen = render(&app, 120, 12);
    assert!(screen.contains("until Mon 13:00"), "{screen}");
    assert!(!screen.contains("7h 0m"), "{screen}");

    // Open at 14:00: the countdown is the open time left before the stored
    // deadline (19:00 UTC), i.e. 14:00-17:00 today.
    app.now = now() + chrono::Duration::hours(2);
    let screen = render(&app, 120, 12);
    assert!(screen.contains("3h 0m"), "{screen}");

    // The lead's detail says it in full.
    app.now = now();
    press(&mut app, &[code(KeyCode::Enter)]);
    let screen = render(&app, 120, 20);
    assert!(
        screen.contains("paused until Mon 13:00 (closed now); 4h 0m of business time left"),
        "{screen}"
    );
}

#[test]
fn the_settings_form_saves_business_hours_from_plain_lines() {
    let mut app = loaded();
    press(&mut app, &[key('e')]);
    // Name, slug, tier, SLA hours, at risk %, stages, spam words, manager
    // email: the time zone is the ninth field.
    press(&mut app, &[code(KeyCode::Tab); 8]);
    typed(&mut app, "Europe/Lisbon");
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, "mon-fri 09:00-17:00");
    let fx = press(&mut app, &[ctrl('s')]);
    let (_, req) = requests(&fx).into_iter().next().expect("a save");
    let Request::UpdateTenant { patch, .. } = req else {
        panic!("expected an update, got {req:?}");
    };
    let hours = patch
        .settings
        .and_then(|s| s.business_hours)
        .flatten()
        .expect("the hours are sent");
    assert_eq!(hours.time_zone, "Europe/Lisbon");
    assert_eq!(hours.week.fri, vec![OpeningRange("09:00-17:00".into())]);
    assert!(hours.week.sat.is_empty());
}

#[test]
fn a_mistake_is_marked_on_its_field_and_nothing_is_sent() {
    let mut app = loaded();
    press(&mut app, &[key('e')]);
    press(&mut app, &[code(KeyCode::Tab); 8]);
    typed(&mut app, "Europe/Lisbon");
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, "weekdays 9-5");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty(), "nothing is sent");
    let screen = render(&app, 100, 40);
    assert!(
        screen.contains("line 1: \"weekdays\" is not a day"),
        "{screen}"
    );
    // The draft is kept.
    assert!(screen.contains("weekdays 9-5"), "{screen}");
    assert!(screen.contains("Europe/Lisbon"), "{screen}");
}

#[test]
fn emptying_the_fields_removes_the_hours_and_the_tab_says_them() {
    let mut app = loaded();
    with_hours(&mut app, Some(afternoons()));
    // The settings tab of Open Arms says the rule.
    press(&mut app, &[code(KeyCode::Enter)]);
    press(&mut app, &[key('l'); 3]);
    let screen = render(&app, 130, 30);
    assert!(
        screen.contains("24 business hours to first response (Europe/Lisbon: mon-fri 13:00-17:00)"),
        "{screen}"
    );
    press(&mut app, &[code(KeyCode::Esc)]);
    press(&mut app, &[key('e')]);
    let screen = render(&app, 100, 40);
    assert!(
        screen.contains("mon-fri 13:00-17:00"),
        "prefilled:\n{screen}"
    );
    press(&mut app, &[code(KeyCode::Tab); 8]);
    // Empty the time zone and the week.
    press(&mut app, &[code(KeyCode::End)]);
    press(&mut app, &[code(KeyCode::Backspace); 40]);
    press(&mut app, &[code(KeyCode::Tab), code(KeyCode::End)]);
    press(&mut app, &[code(KeyCode::Backspace); 40]);
    let fx = press(&mut app, &[ctrl('s')]);
    let (_, req) = requests(&fx).into_iter().next().expect("a save");
    let Request::UpdateTenant { patch, .. } = req else {
        panic!("expected an update, got {req:?}");
    };
    assert_eq!(
        patch.settings.and_then(|s| s.business_hours),
        Some(None),
        "null: wall-clock hours again"
    );
}
