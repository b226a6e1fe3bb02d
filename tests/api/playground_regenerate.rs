//! Regenerating the playground's last reply (all lanes, one lane, another
//! version of the agent after a prompt edit), and the session's overrides of
//! temperature and reply length sent with each message.

use switchboard::domain::playground::replaced;
use switchboard::domain::{
    AgentPatch, NewPlaygroundMessage, NewPlaygroundSession, PlaygroundEvent, PlaygroundRole,
    PlaygroundTarget, RegenerateReply, ReplyStatus, Tier,
};
use switchboard::llm::ChatRole;

use crate::playground::{agent, drain, first_tokens, fixture, replies, session, with_agent};

fn field_errors(err: &switchboard::api::ApiError) -> Vec<String> {
    err.problem()
        .map(|p| p.errors.iter().map(|e| e.field.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn regenerate_answers_the_last_message_again_and_the_conversation_goes_on_from_the_newest_reply(
) {
    let fx = fixture().await;
    let app = &fx.app;
    app.tenant("Open Arms", Tier::Pro).await;
    let a = agent(&app.admin, "open-arms", "Greeter", "test/echo").await;
    let s = session(&app.admin, "open-arms", with_agent(a)).await;
    let first = drain(
        app.admin
            .send_playground_message("open-arms", s, "Hello")
            .await
            .unwrap(),
    )
    .await;
    let old = replies(&first).remove(0);

    let events = drain(
        app.admin
            .regenerate_playground_reply("open-arms", s, &RegenerateReply::default())
            .await
            .unwrap(),
    )
    .await;
    // The message answered again comes first, as in a send; nothing new is
    // stored for it.
    let PlaygroundEvent::Message(user) = &events[0] else {
        panic!("the message answered again comes first: {events:?}")
    };
    assert_eq!(user.content, "Hello");
    assert_eq!(user.seq, 1);
    assert_eq!(events.last(), Some(&PlaygroundEvent::Done));
    let new = replies(&events).remove(0);
    assert_eq!(new.status, Some(ReplyStatus::Complete));
    assert_ne!(new.id, old.id);
    // The model saw the conversation up to the message, not the old reply.
    let seen = fx.seen.lock().unwrap()[1].clone();
    let roles: Vec<ChatRole> = seen.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [ChatRole::System, ChatRole::User]);

    let t = app.admin.playground_session("open-arms", s).await.unwrap();
    assert_eq!(t.session.message_count, 3);
    let seqs: Vec<u32> = t.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(t.messages[1], old, "the old reply stays in the transcript");
    assert_eq!(t.messages[2], new);
    assert_eq!(replaced(&t.messages), [false, true, false]);

    // The next message goes on from the newest reply only.
    drain(
        app.admin
            .send_playground_message("open-arms", s, "Tonight?")
            .await
            .unwrap(),
    )
    .await;
    let seen = fx.seen.lock().unwrap()[2].clone();
    let roles: Vec<ChatRole> = seen.messages.iter().map(|m| m.role).collect();
    use ChatRole::*;
    assert_eq!(roles, [System, User, Assistant, User]);
    let t = app.admin.playground_session("open-arms", s).await.unwrap();
    assert_eq!(t.session.message_count, 5);
    assert_eq!(
        t.messages.iter().map(|m| m.role).collect::<Vec<_>>(),
        [
            PlaygroundRole::User,
            PlaygroundRole::Assistant,
            PlaygroundRole::Assistant,
            PlaygroundRole::User,
            PlaygroundRole::Assistant
        ]
    );
}

#[tokio::test]
async fn playground_regenerate_with_the_version_a_prompt_edit_made_answers_with_it() {
    let fx = fixture().await;
    let app = &fx.app;
    app.tenant("Open Arms", Tier::Pro).await;
    let a = agent(&app.admin, "open-arms", "Greeter", "test/echo").await;
    // A compare session of the agent with itself: only lane 0 is rerun.
    let new = NewPlaygroundSession {
        agent_id: Some(a),
        compare: Some(PlaygroundTarget {
            agent_id: a,
            version: Some(1),
        }),
        ..Default::default()
    };
    let s = session(&app.admin, "open-arms", new).await;
    drain(
        app.admin
            .send_playground_message("open-arms", s, "Hello")
            .await
            .unwrap(),
    )
    .await;
    let patch = AgentPatch {
        system_prompt: Some("You are the night receptionist. Be brief.".into()),
        ..Default::default()
    };
    let edited = app
        .admin
        .update_agent("open-arms", a, &patch)
        .await
        .unwrap();
    assert_eq!(edited.version, 2);

    // In compare mode a version needs its lane.
    let vague = RegenerateReply {
        version: Some(2),
        ..Default::default()
    };
    let err = app
        .admin
        .regenerate_playground_reply("open-arms", s, &vague)
        .await
        .err()
        .expect("refused");
    assert_eq!(err.status(), Some(422), "{err}");
    assert_eq!(field_errors(&err), ["version"]);

    let body = RegenerateReply {
        lane: Some(0),
        version: Some(2),
        ..Default::default()
    };
    let events = drain(
        app.admin
            .regenerate_playground_reply("open-arms", s, &body)
            .await
            .unwrap(),
    )
    .await;
    let new = replies(&events);
    assert_eq!(new.len(), 1, "one lane regenerated: {events:?}");
    assert_eq!(new[0].lane, Some(0));
    assert_eq!(new[0].stats.as_ref().map(|s| s.prompt_version), Some(2));
    let seen = fx.seen.lock().unwrap().last().cloned().unwrap();
    assert!(seen.messages[0]
        .content
        .starts_with("You are the night receptionist."));

    let t = app.admin.playground_session("open-arms", s).await.unwrap();
    // Hello, lane 0 and lane 1 (v1), then lane 0 again (v2).
    assert_eq!(t.session.message_count, 4);
    let versions: Vec<(Option<u8>, Option<u32>)> = t
        .messages
        .iter()
        .map(|m| (m.lane, m.stats.as_ref().map(|s| s.prompt_version)))
        .collect();
    assert!(versions.contains(&(Some(1), Some(1))));
    assert_eq!(versions.last(), Some(&(Some(0), Some(2))));
    assert_eq!(
        replaced(&t.messages).iter().filter(|r| **r).count(),
        1,
        "only lane 0's first reply was replaced"
    );

    // A version the agent does not have is the field's problem.
    let missing = RegenerateReply {
        lane: Some(0),
        version: Some(9),
        ..Default::default()
    };
    let err = app
        .admin
        .regenerate_playground_reply("open-arms", s, &missing)
        .await
        .err()
        .expect("refused");
    assert_eq!(err.status(), Some(422), "{err}");
    assert_eq!(field_errors(&err), ["version"]);
    assert!(
        err.message().contains("has no version 9"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn playground_regenerate_refuses_what_it_cannot_do_and_stores_nothing() {
    let fx = fixture().await;
    let app = &fx.app;
    app.tenant("Open Arms", Tier::Pro).await;
    app.tenant("Blue Door", Tier::Pro).await;
    let a = agent(&app.admin, "open-arms", "Greeter", "test/echo").await;
    let s = session(&app.admin, "open-arms", with_agent(a)).await;

    let err = app
        .admin
        .regenerate_playground_reply("open-arms", s, &RegenerateReply::default())
        .await
        .err()
        .expect("nothing to regenerate");
    assert_eq!(err.status(), Some(409), "{err}");
    assert!(
        err.message().contains("send a message first"),
        "{}",
        err.message()
    );

    drain(
        app.admin
            .send_playground_message("open-arms", s, "Hello")
            .await
            .unwrap(),
    )
    .await;
    for (body, field) in [
        (
            RegenerateReply {
                lane: Some(1),
                ..Default::default()
            },
            "lane",
        ),
        (
            RegenerateReply {
                temperature: Some(2.5),
                ..Default::default()
            },
            "temperature",
        ),
        (
            RegenerateReply {
                max_tokens: Some(0),
                ..Default::default()
            },
            "max_tokens",
        ),
    ] {
        let err = app
            .admin
            .regenerate_playground_reply("open-arms", s, &body)
            .await
            .err()
            .expect("refused");
        assert_eq!(err.status(), Some(422), "{body:?}: {err}");
        assert_eq!(field_errors(&err), [field], "{body:?}");
    }
    // Another tenant's path does not find the session.
    let err = app
        .admin
        .regenerate_playground_reply("blue-door", s, &RegenerateReply::default())
        .await
        .err()
        .expect("not found");
    assert_eq!(err.status(), Some(404), "{err}");
    let t = app.admin.playground_session("open-arms", s).await.unwrap();
    assert_eq!(t.session.message_count, 2, "the refusals stored nothing");

    // While a reply streams, regenerating is refused.
    let endless = agent(&app.admin, "open-arms", "Talker", "test/endless").await;
    let busy = session(&app.admin, "open-arms", with_agent(endless)).await;
    let mut stream = app
        .admin
        .send_playground_message("open-arms", busy, "Tell me everything")
        .await
        .unwrap();
    first_tokens(&mut stream, 2).await;
    let err = app
        .admin
        .regenerate_playground_reply("open-arms", busy, &RegenerateReply::default())
        .await
        .err()
        .expect("busy");
    assert_eq!(err.status(), Some(409), "{err}");
    assert!(
        err.message().contains("still streaming"),
        "{}",
        err.message()
    );
    assert!(app
        .admin
        .cancel_playground_reply("open-arms", busy)
        .await
        .unwrap());
    drain(stream).await;
}

#[tokio::test]
async fn playground_overrides_reach_the_model_and_bad_ones_are_clear_422s() {
    let fx = fixture().await;
    let app = &fx.app;
    app.tenant("Open Arms", Tier::Pro).await;
    let a = agent(&app.admin, "open-arms", "Greeter", "test/echo").await;
    let s = session(&app.admin, "open-arms", with_agent(a)).await;
    let body = NewPlaygroundMessage {
        content: "Hello".into(),
        temperature: Some(1.25),
        max_tokens: Some(64),
    };
    let events = drain(
        app.admin
            .send_playground_message_with("open-arms", s, &body)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(replies(&events)[0].status, Some(ReplyStatus::Complete));
    let seen = fx.seen.lock().unwrap()[0].clone();
    assert_eq!((seen.temperature, seen.max_tokens), (1.25, 64));

    // Regenerating carries them too; without them, the agent's own.
    let again = RegenerateReply {
        temperature: Some(0.0),
        max_tokens: Some(4096),
        ..Default::default()
    };
    drain(
        app.admin
            .regenerate_playground_reply("open-arms", s, &again)
            .await
            .unwrap(),
    )
    .await;
    let seen = fx.seen.lock().unwrap()[1].clone();
    assert_eq!((seen.temperature, seen.max_tokens), (0.0, 4096));
    drain(
        app.admin
            .send_playground_message("open-arms", s, "And you?")
            .await
            .unwrap(),
    )
    .await;
    let seen = fx.seen.lock().unwrap()[2].clone();
    let own = app.admin.agent("open-arms", a).await.unwrap().config;
    assert_eq!(
        (seen.temperature, seen.max_tokens),
        (own.temperature, own.max_tokens)
    );
    // Each stored reply keeps the overrides it was generated with.
    let transcript = app.admin.playground_session("open-arms", s).await.unwrap();
    let kept: Vec<(Option<f32>, Option<u32>)> = transcript
        .messages
        .iter()
        .filter_map(|m| m.stats.as_ref())
        .map(|s| (s.temperature, s.max_tokens))
        .collect();
    assert_eq!(
        kept,
        [
            (Some(1.25), Some(64)),
            (Some(0.0), Some(4096)),
            (None, None)
        ]
    );

    for (temperature, max_tokens, fields) in [
        (Some(2.01), None, vec!["temperature"]),
        (Some(-0.5), Some(10), vec!["temperature"]),
        (None, Some(0), vec!["max_tokens"]),
        (Some(3.0), Some(5000), vec!["temperature", "max_tokens"]),
    ] {
        let body = NewPlaygroundMessage {
            content: "Hi".into(),
            temperature,
            max_tokens,
        };
        let err = app
            .admin
            .send_playground_message_with("open-arms", s, &body)
            .await
            .err()
            .expect("refused");
        assert_eq!(err.status(), Some(422), "{body:?}: {err}");
        assert_eq!(field_errors(&err), fields, "{body:?}");
        let msg = err.message();
        assert!(
            msg.contains("between 0 and 2") || msg.contains("between 1 and 4096"),
            "{msg}"
        );
    }
    let t = app.admin.playground_session("open-arms", s).await.unwrap();
    assert_eq!(
        t.session.message_count, 5,
        "the refused messages stored nothing"
    );
}
