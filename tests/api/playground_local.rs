//! The embedded model for real, through the playground: a streamed, stored
//! reply offline, and a cancelled one that still reports its prompt tokens.
//! Skip (with the reason) without the weights; CI fetches them and sets
//! SWITCHBOARD_MODEL_PATH.

use switchboard::domain::{NewAgent, ReplyStatus, Tier};
use switchboard::llm::{LlmConfig, LocalConfig, Providers};
use tempfile::TempDir;
use uuid::Uuid;

use crate::common::{spawn_with_providers, TestApp};
use crate::playground::{drain, first_tokens, replies, session, streamed_text, with_agent};

/// A server with the local model and a tenant `open-arms`, or `None` after
/// printing why the test is skipped.
async fn with_local_model() -> Option<(TestApp, TempDir)> {
    let Some(path) = std::env::var_os("SWITCHBOARD_MODEL_PATH").map(std::path::PathBuf::from)
    else {
        println!(
            "SKIPPED: set SWITCHBOARD_MODEL_PATH to the fetched model (`switchboard model fetch`)"
        );
        return None;
    };
    assert!(
        path.is_file(),
        "SWITCHBOARD_MODEL_PATH names no file: {}",
        path.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = LlmConfig {
        local: LocalConfig {
            enabled: true,
            model_path: Some(path),
            threads: None,
        },
        ..Default::default()
    };
    let app = spawn_with_providers(Providers::from_config(&cfg, dir.path()).unwrap()).await;
    app.tenant("Open Arms", Tier::Pro).await;
    Some((app, dir))
}

async fn local_agent(app: &TestApp, system_prompt: &str, max_tokens: u32) -> Uuid {
    let new = NewAgent {
        name: "Greeter".into(),
        system_prompt: system_prompt.into(),
        model: "local/smollm2-135m".into(),
        temperature: Some(0.0),
        max_tokens: Some(max_tokens),
        ..Default::default()
    };
    app.admin.create_agent("open-arms", &new).await.unwrap().id
}

#[tokio::test]
async fn the_local_model_answers_in_the_playground() {
    let Some((app, _dir)) = with_local_model().await else {
        return;
    };
    let a = local_agent(
        &app,
        "You are the front desk of Open Arms, a guest house. Reply in one short, friendly \
         sentence.",
        24,
    )
    .await;
    let s = session(&app.admin, "open-arms", with_agent(a)).await;
    let events = drain(
        app.admin
            .send_playground_message("open-arms", s, "Hi! Do you have a room for two on Friday?")
            .await
            .unwrap(),
    )
    .await;
    let reply = &replies(&events)[0];
    assert_eq!(reply.status, Some(ReplyStatus::Complete), "{reply:?}");
    assert!(!reply.content.trim().is_empty());
    assert!(!reply.content.contains("<|im_end|>"));
    assert_eq!(reply.content, streamed_text(&events, 0));
    let stats = reply.stats.as_ref().unwrap();
    assert_eq!(stats.model, "local/smollm2-135m");
    assert!(stats.prompt_tokens > 20, "{stats:?}");
    assert!((1..=24).contains(&stats.completion_tokens), "{stats:?}");
    assert!(stats.tokens_per_second > 0.0, "{stats:?}");
}

/// Issue 14: a reply stopped with Esc read `0+383 tokens`; the prompt was
/// read all the same, and counts.
#[tokio::test]
async fn a_cancelled_local_reply_reports_its_prompt_tokens() {
    let Some((app, _dir)) = with_local_model().await else {
        return;
    };
    let a = local_agent(
        &app,
        "You answer inbound leads for a dental clinic, briefly and warmly.",
        400,
    )
    .await;
    let s = session(&app.admin, "open-arms", with_agent(a)).await;
    let mut stream = app
        .admin
        .send_playground_message("open-arms", s, "Count from 1 to 500, one number a line.")
        .await
        .unwrap();
    first_tokens(&mut stream, 3).await;
    assert!(app
        .admin
        .cancel_playground_reply("open-arms", s)
        .await
        .unwrap());
    let events = drain(stream).await;
    let reply = &replies(&events)[0];
    assert_eq!(reply.status, Some(ReplyStatus::Cancelled), "{reply:?}");
    let stats = reply.stats.as_ref().expect("a cancelled reply has stats");
    assert!(stats.prompt_tokens > 20, "{stats:?}");
    assert!((3..400).contains(&stats.completion_tokens), "{stats:?}");
    // The stored transcript says the same.
    let transcript = app.admin.playground_session("open-arms", s).await.unwrap();
    let stored = transcript.messages[1].stats.as_ref().unwrap();
    assert_eq!(stored.prompt_tokens, stats.prompt_tokens);
}
