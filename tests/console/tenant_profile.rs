//! A tenant's profile in the console (issue 16): the Settings tab shows the
//! description, domain, configuration and user limit (whose it is); the
//! settings form edits them, config as `key = value` lines read with a
//! message naming the line (the draft kept), and only a platform admin gets
//! the user-limit field.

use super::*;
use switchboard::domain::tenant_profile::ConfigValue;

/// Tabs from the form's first field to the Config text area.
const TO_CONFIG: usize = 13;

fn with_profile(app: &mut App) {
    let mut t = app
        .session
        .tenant(Uuid::from_u128(1))
        .cloned()
        .expect("Open Arms");
    t.settings.description = Some("Family-run plumbing in Leeds".into());
    t.settings.domain = Some("openarms.example".into());
    t.settings
        .config
        .insert("crm.region".into(), ConfigValue::text("eu"));
    t.settings
        .config
        .insert("seats".into(), ConfigValue(serde_json::json!(12)));
    t.user_limit_override = Some(25);
    t.usage.user_limit = Some(25);
    app.session.replace_tenant(t);
}

#[test]
fn the_settings_tab_shows_the_profile_and_whose_user_limit_it_is() {
    let mut app = loaded();
    with_profile(&mut app);
    press(&mut app, &[code(KeyCode::Enter)]);
    press(&mut app, &[key('l'); 3]);
    let screen = render(&app, 80, 24);
    for want in [
        "Family-run plumbing in Leeds",
        "openarms.example",
        "3/25 (override)",
        "crm.region = eu",
        "seats = 12",
    ] {
        assert!(screen.contains(want), "no {want:?}:\n{screen}");
    }
    insta::assert_snapshot!(screen);

    // Beta Co keeps its tier's (unlimited) limit.
    press(
        &mut app,
        &[code(KeyCode::Esc), key('j'), code(KeyCode::Enter)],
    );
    press(&mut app, &[key('l'); 3]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("41/∞ (tier default)"), "{screen}");
}

#[test]
fn config_lines_are_sent_typed_and_a_bad_line_is_marked_with_the_draft_kept() {
    let mut app = loaded();
    press(&mut app, &[key('e')]);
    press(&mut app, &[code(KeyCode::Tab); TO_CONFIG]);
    typed(&mut app, "crm.region = eu");
    press(&mut app, &[code(KeyCode::Enter)]);
    typed(&mut app, "Seats = 12");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty(), "nothing is sent");
    let screen = render(&app, 100, 50);
    assert!(
        screen.contains("line 2: \"Seats\" is not a key"),
        "{screen}"
    );
    assert!(
        screen.contains("crm.region = eu"),
        "the draft is kept:\n{screen}"
    );

    // Fixed, it is sent as typed values, with nothing else.
    for _ in 0.."Seats = 12".len() {
        press(&mut app, &[code(KeyCode::Backspace)]);
    }
    typed(&mut app, "seats = 12");
    press(&mut app, &[code(KeyCode::Enter)]);
    typed(&mut app, "beta = true");
    let fx = press(&mut app, &[ctrl('s')]);
    let reqs = requests(&fx);
    let [(_, Request::UpdateTenant { patch, .. })] = &reqs[..] else {
        panic!("expected one update, got {reqs:?}");
    };
    let settings = patch.settings.clone().unwrap_or_default();
    let config = settings.config.expect("the config");
    assert_eq!(config["crm.region"].0, serde_json::json!("eu"));
    assert_eq!(config["seats"].0, serde_json::json!(12));
    assert_eq!(config["beta"].0, serde_json::json!(true));
    assert_eq!(settings.description, None);
    assert_eq!(patch.user_limit, None);
    assert_eq!(patch.name, None);
}

#[test]
fn description_domain_and_the_user_limit_are_sent_when_changed() {
    let mut app = loaded();
    press(&mut app, &[key('e')]);
    press(&mut app, &[code(KeyCode::Tab); TO_CONFIG - 2]);
    typed(&mut app, "Plumbers");
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, "openarms.example");
    press(&mut app, &[code(KeyCode::Tab); 2]);
    typed(&mut app, "0");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty(), "a bad limit is caught here");
    let screen = render(&app, 100, 50);
    assert!(
        screen.contains("must be a whole number from 1 to 100000"),
        "{screen}"
    );
    press(&mut app, &[code(KeyCode::Backspace)]);
    typed(&mut app, "25");
    let fx = press(&mut app, &[ctrl('s')]);
    let reqs = requests(&fx);
    let [(_, Request::UpdateTenant { patch, .. })] = &reqs[..] else {
        panic!("expected one update, got {reqs:?}");
    };
    let settings = patch.settings.clone().unwrap_or_default();
    assert_eq!(settings.description.as_deref(), Some("Plumbers"));
    assert_eq!(settings.domain.as_deref(), Some("openarms.example"));
    assert_eq!(settings.config, None, "untouched");
    assert_eq!(patch.user_limit, Some(Some(25)));

    // A server refusal shows on its field and keeps the draft.
    let id = reqs[0].0;
    app.on_response(
        id,
        Response::TenantUpdated(Err(validation(
            "settings.domain",
            "is not a host name; give one like example.com",
        ))),
    );
    let screen = render(&app, 100, 50);
    assert!(screen.contains("is not a host name"), "{screen}");
    assert!(screen.contains("Plumbers"), "{screen}");
}

#[test]
fn only_a_platform_admin_gets_the_user_limit_field() {
    let mut app = loaded_with(false, three_tenants());
    press(&mut app, &[key('e')]);
    let screen = render(&app, 100, 50);
    assert!(screen.contains("Config"), "{screen}");
    assert!(!screen.contains("User limit"), "{screen}");
    let mut app = loaded();
    press(&mut app, &[key('e')]);
    let screen = render(&app, 100, 50);
    assert!(screen.contains("User limit"), "{screen}");
    assert!(screen.contains("empty: the tier's (10)"), "{screen}");
}
