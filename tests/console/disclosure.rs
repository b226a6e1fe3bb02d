//! What the console must not disclose or do on a server's say-so: format
//! characters in server text (bidi overrides, zero-width characters) are
//! never drawn, and `:export` asks before replacing a file.

use super::leads::{lead, leads_loaded, now, timeline};
use super::views::command;
use super::*;
use switchboard::console::sanitize::is_format;

/// A lead whose name reverses what follows it (`Alice` then `exe.png`
/// reversed) and whose other fields hide zero-width characters.
fn hostile_lead() -> switchboard::domain::Lead {
    let mut l = lead(21, "Alice\u{202E}gnp.exe", "Ac\u{200B}me\u{2066}", 60);
    l.email = Some("ali\u{200D}ce@exa\u{FEFF}mple.com".into());
    l.message = "Please \u{00AD}call \u{2060}me\u{202C} back".into();
    l
}

/// Every drawn cell, with no format character in it.
fn assert_no_format_characters(app: &App) {
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    for cell in term.backend().buffer().content.iter() {
        assert!(
            !cell.symbol().chars().any(is_format),
            "a format character reached the screen: {:?}",
            cell.symbol()
        );
    }
}

#[test]
fn snapshot_a_lead_name_with_a_bidi_override_is_drawn_as_typed() {
    let mut leads = vec![hostile_lead()];
    leads.extend(super::leads::mixed_leads());
    let app = leads_loaded(leads, None);
    let screen = render(&app, 80, 24);
    // The column cuts it (with an ellipsis), but in the order it was typed.
    assert!(screen.contains("Alicegnp.e…"), "{screen}");
    assert!(!screen.contains("exe.png"), "{screen}");
    assert_no_format_characters(&app);
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_the_lead_detail_draws_no_format_characters() {
    let mut app = leads_loaded(vec![hostile_lead()], None);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadLead { .. }));
    let mut entries = timeline();
    entries[2].data = serde_json::json!({"body": "Called\u{202E}rewsna on"});
    app.on_response(
        id,
        Response::Lead(Box::new(LeadData {
            lead: Ok(hostile_lead()),
            timeline: Ok(entries),
        })),
    );
    let wf = id_of(&fx, |r| matches!(r, Request::LeadWorkflows { .. }));
    app.on_response(wf, Response::LeadWorkflows(Ok(vec![])));
    let screen = render(&app, 80, 24);
    for text in [
        "Alicegnp.exe · New",
        "alice@example.com",
        "Please call me back",
        "note: Calledrewsna on",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    assert_no_format_characters(&app);
    insta::assert_snapshot!(screen);
}

#[test]
fn toasts_and_tenant_names_are_cleaned_too() {
    let mut sneaky = tenant(1, "Open\u{200F} Arms\u{202E}", "open-arms", Tier::Pro, 3);
    sneaky.settings = TenantSettings::default();
    let mut app = loaded_with(true, vec![platform(), sneaky]);
    app.toast(switchboard::console::widgets::toast::Toast::error(
        "Could not delete \u{2067}Bob\u{2069}: gone",
    ));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("tenant: Open Arms"), "{screen}");
    assert!(screen.contains("Could not delete Bob"), "{screen}");
    assert_no_format_characters(&app);
}

// ---------------------------------------------------------------- export

fn export_request(fx: &[Effect]) -> (RequestId, String, bool) {
    requests(fx)
        .into_iter()
        .find_map(|(id, r)| match r {
            Request::ExportCsv { path, replace, .. } => Some((id, path, replace)),
            _ => None,
        })
        .expect("an export request")
}

#[test]
fn snapshot_export_asks_before_replacing_a_file_and_only_then_replaces_it() {
    let mut app = leads_loaded(super::leads::mixed_leads(), None);
    app.now = now();
    let fx = command(&mut app, "export out.csv");
    let (id, path, replace) = export_request(&fx);
    assert_eq!((path.as_str(), replace), ("out.csv", false));
    app.on_response(id, Response::ExportExists("out.csv".into()));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("out.csv already exists. Replace it?"),
        "{screen}"
    );
    assert!(screen.contains("y/enter yes, do it"), "{screen}");
    insta::assert_snapshot!(screen);
    // No keeps the file and sends nothing.
    assert!(requests(&press(&mut app, &[key('n')])).is_empty());
    assert!(app.modal.is_none());

    let fx = command(&mut app, "export out.csv");
    let (id, _, _) = export_request(&fx);
    app.on_response(id, Response::ExportExists("out.csv".into()));
    let fx = press(&mut app, &[key('y')]);
    let (id, path, replace) = export_request(&fx);
    assert_eq!((path.as_str(), replace), ("out.csv", true));
    app.on_response(
        id,
        Response::Exported(Ok(switchboard::console::request::Exported {
            leads: 4,
            path: "out.csv".into(),
        })),
    );
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Exported 4 leads to out.csv"));
}

#[test]
fn an_export_refused_for_a_link_says_so() {
    let mut app = leads_loaded(super::leads::mixed_leads(), None);
    let fx = command(&mut app, "export link.csv");
    let (id, _, _) = export_request(&fx);
    app.on_response(
        id,
        Response::Exported(Err(ApiError::Local(
            "link.csv is a symbolic link, which an export never follows; choose another name"
                .into(),
        ))),
    );
    let toast = app.toasts.last().expect("a toast");
    assert_eq!(toast.kind, ToastKind::Error);
    assert!(toast.text.contains("symbolic link"), "{}", toast.text);
}

/// The request task itself, against a real file system: a server is not
/// needed to see that an existing file and a link stop the export before
/// any lead is fetched.
#[tokio::test]
async fn the_export_task_checks_the_file_before_fetching_anything() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens here: reaching the server would fail differently.
    let client = switchboard::api::Client::new("http://127.0.0.1:9").unwrap();
    let existing = dir.path().join("leads.csv");
    std::fs::write(&existing, "keep me").unwrap();
    let req = |path: &std::path::Path, replace| Request::ExportCsv {
        tenant: Uuid::from_u128(1).to_string(),
        query: Default::default(),
        path: path.display().to_string(),
        replace,
    };
    let r = switchboard::console::request::execute(&client, req(&existing, false)).await;
    assert!(
        matches!(r, Response::ExportExists(ref p) if p.ends_with("leads.csv")),
        "{r:?}"
    );
    #[cfg(unix)]
    {
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&existing, &link).unwrap();
        let r = switchboard::console::request::execute(&client, req(&link, true)).await;
        let Response::Exported(Err(e)) = r else {
            panic!("expected a refusal, got {r:?}");
        };
        assert!(e.message().contains("symbolic link"), "{}", e.message());
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
}
