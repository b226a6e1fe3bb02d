//! The outside world a fixture needs: an OpenAI-compatible model that
//! streams fixed answers (qualify answers in the expected form; a message
//! containing FAIL-MODEL gets a 500), and a webhook receiver that accepts
//! everything.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;

pub struct Fake {
    pub base_url: String,
    pub hits: Arc<AtomicUsize>,
}

async fn start(router: Router, hits: Arc<AtomicUsize>, prefix: &str) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Fake {
        base_url: format!("http://{addr}{prefix}"),
        hits,
    }
}

/// `[llm.providers.fake]` with `base_url` = this `base_url` and the model `fake-1`.
pub async fn model() -> Fake {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().route(
        "/v1/chat/completions",
        post(move |Json(body): Json<Value>| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                completion(&body)
            }
        }),
    );
    start(router, hits, "/v1").await
}

fn completion(body: &Value) -> axum::response::Response {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let text_of = |role: &str| {
        messages
            .iter()
            .filter(|m| m["role"] == role)
            .filter_map(|m| m["content"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (system, user) = (text_of("system"), text_of("user"));
    if user.contains("FAIL-MODEL") {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the fake model fails on purpose",
        )
            .into_response();
    }
    let answer = if system.contains("CATEGORY") || user.contains("CATEGORY") {
        "CATEGORY: warm\nREASON: asks about prices and dates".to_string()
    } else {
        "Thank you for writing to us. We have rooms free that week and will call you today."
            .to_string()
    };
    let mut events = String::new();
    let words: Vec<&str> = answer.split_inclusive(' ').collect();
    for w in &words {
        events.push_str(&format!(
            "data: {}\n\n",
            json!({"choices": [{"index": 0, "delta": {"content": w}}]})
        ));
    }
    events.push_str(&format!(
        "data: {}\n\n",
        json!({"choices": [], "usage": {"prompt_tokens": 42, "completion_tokens": words.len()}})
    ));
    events.push_str("data: [DONE]\n\n");
    ([(header::CONTENT_TYPE, "text/event-stream")], events).into_response()
}

/// A webhook receiver answering 204 to every POST on `/hook/...`.
pub async fn receiver() -> Fake {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().route(
        "/hook/{name}",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                StatusCode::NO_CONTENT
            }
        }),
    );
    start(router, hits, "/hook").await
}
