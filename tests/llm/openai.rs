//! The OpenAI-compatible provider against a raw HTTP server that speaks the
//! streaming protocol byte by byte, so partial reads and disconnects are real.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard::llm::{
    CancellationToken, ChatMessage, ChatRole, Chunk, GenerateRequest, GenerationStats, LlmConfig,
    LlmError, LocalConfig, ProviderConfig, ProviderKind, Providers,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// What the scripted server answers.
enum Script {
    /// 200 with these byte pieces written one after another.
    Stream(Vec<Vec<u8>>),
    /// 200, then one token event every 10 ms until the client goes away.
    Endless,
    /// A non-2xx answer with a body.
    Status(u16, &'static str),
}

struct Upstream {
    base_url: String,
    /// The raw request (headers and body).
    request: Arc<Mutex<String>>,
    /// Fires with the number of events sent when a write fails (client gone).
    gone: oneshot::Receiver<usize>,
}

async fn upstream(script: Script) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    let request = Arc::new(Mutex::new(String::new()));
    let (gone_tx, gone) = oneshot::channel();
    let seen = request.clone();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        *seen.lock().unwrap() = read_request(&mut socket).await;
        match script {
            Script::Status(code, body) => {
                let head = format!(
                    "HTTP/1.1 {code} Oops\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                socket.write_all(head.as_bytes()).await.unwrap();
                socket.write_all(body.as_bytes()).await.unwrap();
            }
            Script::Stream(pieces) => {
                socket.write_all(SSE_HEAD.as_bytes()).await.unwrap();
                for piece in pieces {
                    socket.write_all(&piece).await.unwrap();
                    socket.flush().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            Script::Endless => {
                socket.write_all(SSE_HEAD.as_bytes()).await.unwrap();
                for sent in 0.. {
                    let event = format!(
                        "data: {{\"choices\":[{{\"delta\":{{\"content\":\"t{sent} \"}}}}]}}\n\n"
                    );
                    if socket.write_all(event.as_bytes()).await.is_err() {
                        let _ = gone_tx.send(sent);
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    });
    Upstream {
        base_url,
        request,
        gone,
    }
}

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";

/// Reads headers and a Content-Length body.
async fn read_request(socket: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = socket.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .lines()
                .find_map(|l| {
                    l.to_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length || n == 0 {
                return text;
            }
        }
        if n == 0 {
            return text;
        }
    }
}

fn providers(base_url: &str, key_env: Option<&str>) -> Providers {
    let mut cfg = LlmConfig {
        local: LocalConfig {
            enabled: false,
            model_path: None,
            threads: None,
        },
        ..Default::default()
    };
    cfg.providers.insert(
        "up".into(),
        ProviderConfig {
            kind: ProviderKind::Openai,
            base_url: base_url.into(),
            api_key_env: key_env.map(str::to_string),
            models: vec!["tiny".into()],
            timeout_secs: 5,
        },
    );
    Providers::from_config(&cfg, std::path::Path::new("/nonexistent")).unwrap()
}

fn request() -> GenerateRequest {
    GenerateRequest {
        model: "tiny".into(),
        messages: vec![
            ChatMessage::new(ChatRole::System, "Be brief."),
            ChatMessage::new(ChatRole::User, "Hi"),
        ],
        temperature: 0.0,
        max_tokens: 16,
        starts: Vec::new(),
        stop: Vec::new(),
    }
}

async fn start(base_url: &str) -> Result<switchboard::llm::ChunkReceiver, LlmError> {
    let (provider, model) = providers(base_url, None).resolve("up/tiny").unwrap();
    provider
        .generate(
            GenerateRequest { model, ..request() },
            CancellationToken::new(),
        )
        .await
}

/// Collects every token, then the stats.
async fn collect(mut rx: switchboard::llm::ChunkReceiver) -> (Vec<String>, GenerationStats) {
    let mut tokens = Vec::new();
    while let Some(item) = rx.recv().await {
        match item.unwrap() {
            Chunk::Token(t) => tokens.push(t),
            Chunk::Done(stats) => return (tokens, stats),
        }
    }
    panic!("the channel closed without Done");
}

fn token(text: &str) -> String {
    format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{text:?}}}}}]}}\n\n")
}

#[tokio::test]
async fn tokens_arrive_in_order_with_usage_and_the_key() {
    std::env::set_var("SWITCHBOARD_TEST_OPENAI_KEY", "sk-test-123");
    // " José" is cut between the two bytes of "é", in two network writes.
    let jose = token(" José").into_bytes();
    let cut = jose.windows(2).position(|w| w == "é".as_bytes()).unwrap() + 1;
    let up = upstream(Script::Stream(vec![
        b": keep-alive\n\n".to_vec(),
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n".to_vec(),
        token("Hel").into_bytes(),
        token("lo").into_bytes(),
        jose[..cut].to_vec(),
        jose[cut..].to_vec(),
        b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3}}\n\n"
            .to_vec(),
        b"data: [DONE]\n\n".to_vec(),
    ]))
    .await;
    let (provider, model) = providers(&up.base_url, Some("SWITCHBOARD_TEST_OPENAI_KEY"))
        .resolve("up/tiny")
        .unwrap();
    let rx = provider
        .generate(
            GenerateRequest {
                model,
                stop: vec!["\n\n".into()],
                ..request()
            },
            CancellationToken::new(),
        )
        .await
        .unwrap();
    let (tokens, stats) = collect(rx).await;
    assert_eq!(tokens, vec!["Hel", "lo", " José"]);
    assert_eq!(stats.prompt_tokens, 12);
    assert_eq!(stats.completion_tokens, 3);
    assert!(stats.tokens_per_second > 0.0, "{stats:?}");

    let sent = up.request.lock().unwrap().clone();
    assert!(sent.starts_with("POST /v1/chat/completions "), "{sent}");
    assert!(sent.contains("authorization: Bearer sk-test-123"), "{sent}");
    assert!(sent.contains("\"stream\":true"), "{sent}");
    assert!(sent.contains("\"model\":\"tiny\""), "{sent}");
    assert!(sent.contains("\"role\":\"system\""), "{sent}");
    assert!(sent.contains(r#""stop":["\n\n"]"#), "{sent}");
}

#[tokio::test]
async fn without_usage_each_event_counts_as_a_token_and_done_may_be_missing() {
    let up = upstream(Script::Stream(vec![
        token("a").into_bytes(),
        token("b").into_bytes(),
    ]))
    .await;
    let (tokens, stats) = collect(start(&up.base_url).await.unwrap()).await;
    assert_eq!(tokens, vec!["a", "b"]);
    assert_eq!(stats.completion_tokens, 2);
    assert_eq!(stats.prompt_tokens, 0);
    assert!(!up.request.lock().unwrap().contains("authorization"));
}

#[tokio::test]
async fn dropping_the_receiver_closes_the_upstream_connection() {
    let up = upstream(Script::Endless).await;
    let mut rx = start(&up.base_url).await.unwrap();
    for _ in 0..3 {
        assert!(matches!(rx.recv().await, Some(Ok(Chunk::Token(_)))));
    }
    drop(rx);
    let sent = tokio::time::timeout(Duration::from_secs(10), up.gone)
        .await
        .expect("the provider kept reading after the receiver was dropped")
        .unwrap();
    assert!(sent < 500, "{sent} events sent");
}

#[tokio::test]
async fn cancelling_reports_cancelled_and_closes_the_connection() {
    let up = upstream(Script::Endless).await;
    let (provider, model) = providers(&up.base_url, None).resolve("up/tiny").unwrap();
    let cancel = CancellationToken::new();
    let mut rx = provider
        .generate(GenerateRequest { model, ..request() }, cancel.clone())
        .await
        .unwrap();
    assert!(matches!(rx.recv().await, Some(Ok(Chunk::Token(_)))));
    cancel.cancel();
    loop {
        match rx.recv().await {
            Some(Ok(Chunk::Token(_))) => continue,
            Some(Err(LlmError::Cancelled)) | None => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    tokio::time::timeout(Duration::from_secs(10), up.gone)
        .await
        .expect("the upstream connection stayed open")
        .unwrap();
}

#[tokio::test]
async fn a_closed_port_is_unreachable_with_the_url() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let err = start(&base_url).await.err().unwrap();
    let LlmError::Unreachable { url, reason, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(url, &format!("{base_url}/chat/completions"));
    assert_eq!(reason, "connection refused");
    let text = err.to_string();
    assert!(text.contains("is the server running"), "{text}");
}

#[tokio::test]
async fn not_found_is_model_not_found() {
    let up = upstream(Script::Status(
        404,
        r#"{"error":{"message":"model 'tiny' not found, try pulling it first"}}"#,
    ))
    .await;
    let err = start(&up.base_url).await.err().unwrap();
    assert!(matches!(err, LlmError::ModelNotFound { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("up/tiny"), "{text}");
    assert!(text.contains("try pulling it first"), "{text}");
}

#[tokio::test]
async fn a_400_naming_the_model_is_model_not_found() {
    let up = upstream(Script::Status(
        400,
        r#"{"object":"error","message":"The model `tiny` does not exist."}"#,
    ))
    .await;
    let err = start(&up.base_url).await.err().unwrap();
    assert!(matches!(err, LlmError::ModelNotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn a_server_error_carries_the_providers_message() {
    let up = upstream(Script::Status(
        500,
        r#"{"error":{"message":"CUDA out of memory","type":"server_error"}}"#,
    ))
    .await;
    let err = start(&up.base_url).await.err().unwrap();
    assert_eq!(
        err,
        LlmError::Provider {
            status: 500,
            message: "CUDA out of memory".into()
        }
    );
}

#[tokio::test]
async fn a_tenants_own_key_replaces_the_configured_one() {
    let up = upstream(Script::Stream(vec![token("ok").into_bytes()])).await;
    let mut secrets = std::collections::BTreeMap::new();
    secrets.insert("up_api_key".to_string(), "sk-tenant-42".to_string());
    let (provider, model) = providers(&up.base_url, None)
        .resolve_for("up/tiny", &secrets)
        .unwrap();
    let rx = provider
        .generate(
            GenerateRequest { model, ..request() },
            CancellationToken::new(),
        )
        .await
        .unwrap();
    collect(rx).await;
    let sent = up.request.lock().unwrap().clone();
    assert!(
        sent.contains("authorization: Bearer sk-tenant-42"),
        "{sent}"
    );
}
