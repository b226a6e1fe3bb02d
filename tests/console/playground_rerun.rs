//! Answering again in the playground: `r` regenerates the last reply, `e`
//! edits the agent's prompt into a new version and re-runs the last message
//! under the old reply, `o` sets the session's temperature and max tokens.

use super::agents::agent;
use super::agents::mixed_agents;
use super::playground::{
    chat_with, chat_with_agents, feed, message, session, tokens, ANSWER, QUESTION,
};
use super::*;
use switchboard::console::effect::Regenerate;
use switchboard::console::playground::ReplyMsg;
use switchboard::domain::{Agent, AgentSort, PlaygroundEvent, ReplyOverrides, ReplyStatus};

const AGAIN: &str = "Hi Maria! A manager will call you within the hour about a bed.";

/// A session where `QUESTION` was answered with `ANSWER` (v3), the
/// transcript focused (not the input).
fn answered() -> App {
    answered_with(mixed_agents())
}

/// [`answered`], the agents list answered with `agents`.
fn answered_with(agents: Vec<Agent>) -> App {
    let s = session(false);
    let mut app = chat_with_agents(
        s.clone(),
        vec![
            message(&s, 1, None, QUESTION, None),
            message(&s, 2, Some(0), ANSWER, Some(ReplyStatus::Complete)),
        ],
        agents,
    );
    press(&mut app, &[code(KeyCode::Esc)]);
    app
}

/// The one streamed reply among `fx`.
fn streamed(fx: &[Effect]) -> (RequestId, switchboard::console::effect::ReplyRequest) {
    match fx.iter().find(|e| matches!(e, Effect::StreamReply(..))) {
        Some(Effect::StreamReply(id, req)) => (*id, req.clone()),
        _ => panic!("expected a streamed reply, got {fx:?}"),
    }
}

/// Feeds the stream a full answer for lane 0, made with `version`.
fn answer_again(app: &mut App, id: RequestId, version: u32) {
    let s = session(false);
    feed(
        app,
        id,
        vec![PlaygroundEvent::Message(message(
            &s, 1, None, QUESTION, None,
        ))],
    );
    feed(app, id, tokens(0, AGAIN));
    let mut reply = message(&s, 3, Some(0), AGAIN, Some(ReplyStatus::Complete));
    if let Some(stats) = reply.stats.as_mut() {
        stats.prompt_version = version;
    }
    feed(
        app,
        id,
        vec![PlaygroundEvent::Reply(reply), PlaygroundEvent::Done],
    );
    app.on_reply(id, ReplyMsg::Ended);
}

fn form_value(app: &App, field: &str) -> String {
    match &app.modal {
        Some(Modal::Form(open)) => open.form.value(field),
        other => panic!("expected a form, got {other:?}"),
    }
}

#[test]
fn r_regenerates_the_last_reply_keeps_the_old_one_and_is_refused_while_streaming() {
    let mut app = answered();
    let fx = press(&mut app, &[key('r')]);
    let (id, req) = streamed(&fx);
    assert_eq!(req.content, QUESTION, "the last message is answered again");
    assert_eq!(
        req.regenerate,
        Some(Regenerate {
            lane: None,
            version: None
        })
    );
    assert_eq!(req.overrides, ReplyOverrides::default());
    assert!(app.playground.chat().unwrap().is_streaming());

    // A second r while it streams is refused, inline, and sends nothing.
    let fx = press(&mut app, &[key('r')]);
    assert!(fx.is_empty(), "{fx:?}");
    let hint = app.playground.chat().unwrap().error().unwrap_or_default();
    assert!(hint.contains("still streaming"), "{hint}");
    assert!(hint.contains("esc"), "the stop key is named: {hint}");

    answer_again(&mut app, id, 3);
    let chat = app.playground.chat().unwrap();
    assert!(!chat.is_streaming());
    assert_eq!(chat.items().len(), 3, "both replies are in the transcript");
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Receptionist · v3 · earlier reply"),
        "{screen}"
    );
    assert!(screen.contains("Receptionist · v3 · new reply"), "{screen}");
    // The new reply is the one copied.
    let fx = press(&mut app, &[key('y')]);
    assert_eq!(fx, vec![Effect::CopyToClipboard(AGAIN.into())]);
    // A refused regenerate leaves the input as it was.
    let fx = press(&mut app, &[key('r')]);
    let (id, _) = streamed(&fx);
    app.on_reply(id, ReplyMsg::Refused(unreachable()));
    let chat = app.playground.chat().unwrap();
    assert!(!chat.is_streaming());
    assert_eq!(chat.draft(), "");
    assert!(chat.error().is_some());
}

#[test]
fn r_with_nothing_sent_yet_says_so() {
    let mut app = chat_with(session(false), vec![]);
    press(&mut app, &[code(KeyCode::Esc)]);
    let fx = press(&mut app, &[key('r')]);
    assert!(fx.is_empty(), "{fx:?}");
    let hint = app.playground.chat().unwrap().error().unwrap_or_default();
    assert!(hint.contains("Nothing to regenerate"), "{hint}");
}

#[test]
fn snapshot_playground_rerun_after_a_prompt_edit_under_the_old_reply() {
    let mut app = answered();
    let fx = press(&mut app, &[key('e')]);
    assert!(fx.is_empty(), "{fx:?}");
    let receptionist: Agent = agent(201, "Receptionist", "Open Arms", false);
    assert_eq!(
        form_value(&app, "system_prompt"),
        receptionist.config.system_prompt
    );
    // Saving it unchanged makes no version.
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(fx.is_empty(), "{fx:?}");
    typed(&mut app, "Be brief. ");
    let fx = press(&mut app, &[ctrl('s')]);
    let save = id_of(&fx, |r| match r {
        Request::UpdateAgent { id, patch, .. } => {
            *id == receptionist.id
                && patch
                    .system_prompt
                    .as_deref()
                    .is_some_and(|p| p.starts_with("Be brief. You are the receptionist"))
        }
        _ => false,
    });

    // A refused save keeps the draft, with the problem in the form.
    app.on_response(
        save,
        Response::AgentUpdated(Err(validation(
            "system_prompt",
            "must be at most 20000 characters",
        ))),
    );
    assert!(form_value(&app, "system_prompt").starts_with("Be brief. "));
    let form_screen = render(&app, 80, 24);
    assert!(
        form_screen.contains("must be at most 20000 characters"),
        "{form_screen}"
    );

    // Saved as v4: the form closes and the last message is answered with v4.
    let fx = press(&mut app, &[ctrl('s')]);
    let save = id_of(&fx, |r| matches!(r, Request::UpdateAgent { .. }));
    let mut v4 = receptionist.clone();
    v4.version = 4;
    v4.config.system_prompt = format!("Be brief. {}", v4.config.system_prompt);
    let fx = app.on_response(save, Response::AgentUpdated(Ok(v4)));
    assert!(app.modal.is_none());
    let (id, req) = streamed(&fx);
    assert_eq!(
        req.regenerate,
        Some(Regenerate {
            lane: Some(0),
            version: Some(4)
        })
    );
    assert_eq!(req.content, QUESTION);
    // While it streams, the new reply comes under the old one, labelled.
    feed(&mut app, id, tokens(0, "Hi Maria! A manager"));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Receptionist · v4 · new reply"), "{screen}");

    answer_again(&mut app, id, 4);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Receptionist · v3 · earlier reply"),
        "{screen}"
    );
    assert!(screen.contains("Receptionist · v4 · new reply"), "{screen}");
    assert!(screen.contains("local/smollm2-135m · v4 ·"), "{screen}");
    // The toasts (the refused save, then the saved one) are dismissed.
    press(&mut app, &[key('x'), key('x')]);
    let screen = render(&app, 80, 24);
    insta::assert_snapshot!(screen);
}

#[test]
fn e_on_a_shared_agent_says_who_owns_it() {
    // The Agents feature reads the session's agent (first by name) as
    // another tenant's.
    let mut agents = mixed_agents();
    AgentSort::Name.apply(&mut agents);
    agents[0].read_only = true;
    agents[0].owner_name = "Platform".into();
    let mut app = answered_with(agents);
    let fx = press(&mut app, &[key('e')]);
    assert!(fx.is_empty(), "{fx:?}");
    assert!(app.modal.is_none());
    let hint = app.playground.chat().unwrap().error().unwrap_or_default();
    assert!(hint.contains("belongs to Platform"), "{hint}");
}

#[test]
fn snapshot_playground_settings_are_checked_shown_and_sent_with_each_message() {
    let mut app = answered();
    press(&mut app, &[key('o')]);
    typed(&mut app, "3");
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, "lots");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(fx.is_empty(), "{fx:?}");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("must be between 0 and 2"), "{screen}");
    assert!(screen.contains("must be a whole number"), "{screen}");
    insta::assert_snapshot!(screen);

    // Fixed: 0.7 and 120 (the cursor is on the first wrong field).
    press(&mut app, &[code(KeyCode::Backspace)]);
    typed(&mut app, "0.7");
    press(&mut app, &[code(KeyCode::Tab)]);
    for _ in 0..4 {
        press(&mut app, &[code(KeyCode::Backspace)]);
    }
    typed(&mut app, "120");
    press(&mut app, &[ctrl('s')]);
    assert!(app.modal.is_none(), "{:?}", app.modal);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("temp 0.7 · max 120 tokens"), "{screen}");

    let want = ReplyOverrides {
        temperature: Some(0.7),
        max_tokens: Some(120),
    };
    press(&mut app, &[key('i')]);
    typed(&mut app, "Tonight?");
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let (_, req) = streamed(&fx);
    assert_eq!(req.overrides, want, "sent with the message");
    assert_eq!(req.regenerate, None);
    let id = app.playground.chat().unwrap().streaming().unwrap();
    app.on_reply(id, ReplyMsg::Ended);
    press(&mut app, &[code(KeyCode::Esc)]);
    let fx = press(&mut app, &[key('r')]);
    assert_eq!(streamed(&fx).1.overrides, want, "and with a regenerate");
}
