//! The command line, toasts, redraws, the keymap and help.

use super::*;

#[test]
fn command_mode_switches_tenant_completes_and_reports_unknown_commands() {
    let mut app = loaded();
    press(&mut app, &[key(':')]);
    typed(&mut app, "tenant be");
    press(&mut app, &[code(KeyCode::Tab)]);
    assert_eq!(
        app.command.as_ref().map(|c| c.input.as_str()),
        Some("tenant beta-co")
    );
    press(&mut app, &[code(KeyCode::Enter)]);
    assert!(app.command.is_none());
    assert_eq!(
        app.session.current().map(|t| t.slug.as_str()),
        Some("beta-co")
    );

    press(&mut app, &[key(':')]);
    typed(&mut app, "frobnicate");
    press(&mut app, &[code(KeyCode::Enter)]);
    let err = app
        .command
        .as_ref()
        .and_then(|c| c.error.clone())
        .unwrap_or_default();
    assert!(err.contains("unknown command"), "{err}");
    assert!(render(&app, 80, 24).contains("unknown command"));
    press(&mut app, &[code(KeyCode::Esc)]);

    press(&mut app, &[key(':')]);
    typed(&mut app, "lea");
    press(&mut app, &[code(KeyCode::Tab), code(KeyCode::Enter)]);
    assert_eq!(app.pane, Pane::Leads);
}

#[test]
fn tab_completes_fuzzily_when_no_command_starts_with_the_input() {
    let mut app = loaded();
    let complete = |app: &mut App, text: &str| {
        press(app, &[key(':')]);
        typed(app, text);
        press(app, &[code(KeyCode::Tab)]);
        let line = app.command.clone().map(|c| (c.input, c.candidates));
        press(app, &[code(KeyCode::Esc)]);
        line.unwrap_or_default()
    };
    assert_eq!(complete(&mut app, "ovd").0, "leads overdue");
    assert_eq!(complete(&mut app, "tenant btco").0, "tenant beta-co");
    // Stage names of the current tenant are offered too.
    assert_eq!(complete(&mut app, "stg qualif").0, "leads stage Qualified");
    let (best, others) = complete(&mut app, "lds");
    assert!(best.starts_with("leads"), "{best}");
    assert!(others.len() > 1, "{others:?}");
    assert!(others.len() <= 8);
}

#[test]
fn success_toasts_expire_and_errors_stay_until_dismissed() {
    let mut app = loaded();
    press(&mut app, &[key('s')]);
    app.toast(switchboard::console::widgets::toast::Toast::error("boom"));
    for _ in 0..5 {
        app.update(Action::Tick);
    }
    assert_eq!(app.toasts.len(), 1);
    assert_eq!(app.toasts[0].text, "boom");
    press(&mut app, &[key('x')]);
    assert!(app.toasts.is_empty());
}

#[test]
fn unreachable_detail_shows_inline_error_and_r_retries() {
    let mut app = loaded();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadTenantDetail { .. }));
    let data = TenantDetailData {
        members: Err(unreachable()),
        invitations: Err(unreachable()),
        keys: Err(unreachable()),
        workspaces: Ok(vec![]),
    };
    app.on_response(id, Response::TenantDetail(Box::new(data)));
    assert!(render(&app, 80, 24).contains("Press r to retry"));
    let fx = press(&mut app, &[key('r')]);
    assert!(matches!(
        &requests(&fx)[..],
        [(_, Request::LoadTenantDetail { .. })]
    ));
}

#[test]
fn idle_ticks_do_not_redraw() {
    let mut app = loaded();
    for _ in 0..5 {
        app.update(Action::Tick);
    }
    app.dirty = false;
    app.update(Action::Tick);
    assert!(!app.dirty);
}

// ---------------------------------------------------------------- keymap

#[test]
fn keymap_overrides_valid_and_invalid() {
    let mut o = BTreeMap::new();
    o.insert("new".to_string(), "ctrl-n".to_string());
    o.insert("quit".to_string(), "ctrl-".to_string());
    o.insert("frobnicate".to_string(), "x".to_string());
    o.insert("refresh".to_string(), "f5".to_string());
    let (map, errors) = Keymap::with_overrides(&o);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("keys.quit")));
    assert!(errors.iter().any(|e| e.contains("keys.frobnicate")));
    let n = KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL);
    assert_eq!(map.resolve(&[Context::TenantList], &n), Some(Action::New));
    assert_eq!(map.resolve(&[Context::TenantList], &key('n')), None);
    // The bad override fell back to the default.
    assert_eq!(
        map.resolve(&[Context::Global], &key('q')),
        Some(Action::Quit)
    );
    assert_eq!(
        map.resolve(&[Context::TenantList], &code(KeyCode::F(5))),
        Some(Action::Retry)
    );
    // The footer follows the keymap.
    assert!(map
        .hints(&[Context::TenantList])
        .iter()
        .any(|(k, d)| k == "ctrl-n" && *d == "new tenant"));
}

#[test]
fn key_parsing() {
    for (s, c, m) in [
        ("n", KeyCode::Char('n'), KeyModifiers::NONE),
        ("S", KeyCode::Char('S'), KeyModifiers::NONE),
        ("shift-s", KeyCode::Char('S'), KeyModifiers::NONE),
        ("ctrl-s", KeyCode::Char('s'), KeyModifiers::CONTROL),
        ("enter", KeyCode::Enter, KeyModifiers::NONE),
        ("esc", KeyCode::Esc, KeyModifiers::NONE),
        ("tab", KeyCode::Tab, KeyModifiers::NONE),
        ("shift-tab", KeyCode::BackTab, KeyModifiers::NONE),
        ("f5", KeyCode::F(5), KeyModifiers::NONE),
        ("alt-x", KeyCode::Char('x'), KeyModifiers::ALT),
    ] {
        assert_eq!(KeyChord::parse(s), Ok(KeyChord::new(c, m)), "{s}");
    }
    for bad in ["", "ctrl-", "hyper-x", "f13", "enterr"] {
        assert!(KeyChord::parse(bad).is_err(), "{bad}");
    }
    // A shifted letter matches whether or not the terminal reports shift.
    let chord = KeyChord::parse("S").unwrap();
    assert!(chord.matches(&KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT)));
}

#[test]
fn every_default_binding_has_keys() {
    for b in Keymap::default().bindings() {
        assert!(!b.keys.is_empty(), "{} has no key", b.name);
    }
}

#[test]
fn help_overlay_lists_every_binding() {
    let map = Keymap::default();
    let text: Vec<String> = switchboard::console::widgets::help::lines(&map)
        .iter()
        .map(|l| l.to_string())
        .collect();
    for b in map.bindings() {
        assert!(
            text.iter()
                .any(|l| l.contains(b.description) && l.contains(&b.keys_label())),
            "help is missing {} ({})",
            b.name,
            b.description
        );
    }
}

// ---------------------------------------------------------------- property
