//! `:platform` (issue 16): platform admins read and change the platform
//! settings in a form opened with what the server holds; mistakes are
//! marked on their field with the draft kept; others are told it is not
//! theirs.

use super::*;
use switchboard::console::platform::{PlatformRequest, PlatformResponse};
use switchboard::domain::platform::PlatformSettings;

fn command(app: &mut App, text: &str) -> Vec<Effect> {
    press(app, &[key(':')]);
    typed(app, text);
    press(app, &[code(KeyCode::Enter)])
}

/// The platform form, opened with the built-in settings.
fn platform_form() -> App {
    let mut app = loaded();
    let fx = command(&mut app, "platform");
    let id = id_of(&fx, |r| *r == Request::Platform(PlatformRequest::Load));
    app.on_response(
        id,
        Response::Platform(PlatformResponse::Loaded(Ok(PlatformSettings::default()))),
    );
    assert!(
        matches!(&app.modal, Some(Modal::Form(f)) if f.purpose == FormPurpose::PlatformSettings),
        "the form opens"
    );
    app
}

#[test]
fn only_platform_admins_open_the_platform_settings() {
    let mut app = loaded_with(false, three_tenants());
    let fx = command(&mut app, "platform");
    assert!(requests(&fx).is_empty(), "nothing is asked");
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("only platform admins see the platform settings"),
        "{screen}"
    );
}

#[test]
fn the_form_shows_the_settings_and_saves_what_was_changed() {
    let mut app = platform_form();
    insta::assert_snapshot!(render(&app, 80, 30));
    // Tier pro, SLA 4 hours, and tenant admins may not delete.
    press(&mut app, &[code(KeyCode::Right)]);
    press(&mut app, &[code(KeyCode::Tab)]);
    press(&mut app, &[code(KeyCode::Backspace); 2]);
    typed(&mut app, "4");
    press(&mut app, &[code(KeyCode::Tab); 5]);
    press(&mut app, &[code(KeyCode::Right)]);
    let fx = press(&mut app, &[ctrl('s')]);
    let reqs = requests(&fx);
    let [(id, Request::Platform(PlatformRequest::Save(saved)))] = &reqs[..] else {
        panic!("expected one save, got {reqs:?}");
    };
    let mut want = PlatformSettings::default();
    want.tenant_defaults.tier = Tier::Pro;
    want.tenant_defaults.sla_hours = 4;
    want.tenant_admins_may_delete = false;
    assert_eq!(**saved, want);

    // A refusal shows on its field; the draft stays.
    app.on_response(
        *id,
        Response::Platform(PlatformResponse::Saved(Err(validation(
            "tenant_defaults.sla_hours",
            "must be between 1 and 720 hours",
        )))),
    );
    let screen = render(&app, 80, 30);
    assert!(
        screen.contains("must be between 1 and 720 hours"),
        "{screen}"
    );
    assert!(matches!(&app.modal, Some(Modal::Form(_))), "the form stays");

    let fx = press(&mut app, &[ctrl('s')]);
    let (id, _) = requests(&fx).into_iter().next().expect("sent again");
    app.on_response(id, Response::Platform(PlatformResponse::Saved(Ok(want))));
    assert!(app.modal.is_none(), "the form closes");
    assert!(render(&app, 80, 24).contains("Saved the platform settings"));
}

#[test]
fn a_mistake_is_marked_before_sending_and_the_draft_kept() {
    let mut app = platform_form();
    press(&mut app, &[code(KeyCode::Tab)]);
    press(&mut app, &[code(KeyCode::Backspace); 2]);
    typed(&mut app, "a day");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty(), "nothing is sent");
    let screen = render(&app, 80, 30);
    assert!(
        screen.contains("must be a whole number of hours"),
        "{screen}"
    );
    assert!(screen.contains("a day"), "{screen}");

    let mut app = platform_form();
    press(&mut app, &[code(KeyCode::Tab); 3]);
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
}

#[test]
fn a_new_tenant_takes_the_platform_default_tier_unless_one_is_chosen() {
    let mut app = loaded();
    press(&mut app, &[key('n')]);
    typed(&mut app, "Defaulted");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("● default"), "{screen}");
    let fx = press(&mut app, &[ctrl('s')]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::CreateTenant(n))] if n.tier.is_none()),
        "{reqs:?}"
    );
    let mut app = loaded();
    press(&mut app, &[key('n')]);
    typed(&mut app, "Chosen");
    press(&mut app, &[code(KeyCode::Tab), code(KeyCode::Tab)]);
    press(&mut app, &[code(KeyCode::Right), code(KeyCode::Right)]);
    let fx = press(&mut app, &[ctrl('s')]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::CreateTenant(n))] if n.tier == Some(Tier::Pro)),
        "{reqs:?}"
    );
}
