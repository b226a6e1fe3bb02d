//! Playground relay overhead: time to first token through Switchboard (HTTP,
//! session, stored message, SSE relay) against calling the same provider
//! directly, over an OpenAI-compatible streaming server on loopback. And,
//! when the weights are installed, the local model through the playground.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::harness::BenchServer;
use super::percentile;
use crate::api::Client;
use crate::domain::{NewAgent, NewPlaygroundSession, NewTenant, PlaygroundEvent, Tier};
use crate::llm::local::LocalProvider;
use crate::llm::openai::OpenAiProvider;
use crate::llm::{
    CancellationToken, ChatMessage, ChatRole, Chunk, GenerateRequest, ProviderConfig, ProviderKind,
    Providers,
};
use crate::server::ServerSettings;
use crate::store;

pub struct Options {
    /// Replies measured each way.
    pub replies: usize,
    /// Tokens per upstream reply.
    pub tokens: usize,
    /// Also run the local model through the playground (needs its weights).
    pub local_model: Option<std::path::PathBuf>,
}

/// Answers every chat completion with `tokens` tokens, one per millisecond,
/// the first as soon as the request is read.
async fn upstream(tokens: usize) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/v1", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(answer(socket, tokens));
        }
    });
    Ok(base)
}

async fn answer(mut socket: TcpStream, tokens: usize) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    loop {
        if !read_request(&mut socket).await? {
            return Ok(());
        }
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                    Transfer-Encoding: chunked\r\n\r\n";
        socket.write_all(head.as_bytes()).await?;
        for i in 0..tokens {
            let event = format!(
                "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"w{i} \"}}}}]}}\n\n"
            );
            write_chunk(&mut socket, event.as_bytes()).await?;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let usage = format!(
            "data: {{\"choices\":[],\"usage\":{{\"prompt_tokens\":20,\"completion_tokens\":{tokens}}}}}\n\ndata: [DONE]\n\n"
        );
        write_chunk(&mut socket, usage.as_bytes()).await?;
        socket.write_all(b"0\r\n\r\n").await?;
        socket.flush().await?;
    }
}

async fn write_chunk(socket: &mut TcpStream, data: &[u8]) -> std::io::Result<()> {
    socket
        .write_all(format!("{:x}\r\n", data.len()).as_bytes())
        .await?;
    socket.write_all(data).await?;
    socket.write_all(b"\r\n").await?;
    socket.flush().await
}

/// Reads one request (headers and a Content-Length body); false at EOF.
async fn read_request(socket: &mut TcpStream) -> std::io::Result<bool> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(false);
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Ok(true);
            }
        }
    }
}

fn request() -> GenerateRequest {
    GenerateRequest {
        model: "fake".into(),
        messages: vec![
            ChatMessage::new(ChatRole::System, "You answer leads."),
            ChatMessage::new(ChatRole::User, "Do you have rooms free next week?"),
        ],
        temperature: 0.0,
        max_tokens: 64,
        starts: Vec::new(),
        stop: Vec::new(),
    }
}

/// Time to first token calling the provider directly, in ms.
async fn direct(provider: &OpenAiProvider, replies: usize) -> anyhow::Result<Vec<f64>> {
    use crate::llm::Provider;
    let mut out = Vec::with_capacity(replies);
    for _ in 0..replies {
        let started = Instant::now();
        let mut rx = provider
            .generate(request(), CancellationToken::new())
            .await?;
        let mut first = None;
        while let Some(chunk) = rx.recv().await {
            match chunk? {
                Chunk::Token(_) => {
                    first.get_or_insert_with(|| started.elapsed());
                }
                Chunk::Done(_) => break,
            }
        }
        let first = first.context("the upstream sent no token")?;
        out.push(first.as_secs_f64() * 1000.0);
    }
    Ok(out)
}

/// Time to first token through the playground API, in ms, and the last
/// reply's stored stats.
async fn relayed(
    client: &Client,
    tenant: &str,
    session: uuid::Uuid,
    replies: usize,
) -> anyhow::Result<(Vec<f64>, Option<crate::domain::ReplyStats>)> {
    let mut out = Vec::with_capacity(replies);
    let mut stats = None;
    for i in 0..replies {
        let started = Instant::now();
        let mut stream = client
            .send_playground_message(tenant, session, &format!("Rooms free next week? ({i})"))
            .await?;
        let mut first = None;
        while let Some(ev) = stream.next().await {
            match ev? {
                PlaygroundEvent::Token { .. } => {
                    first.get_or_insert_with(|| started.elapsed());
                }
                PlaygroundEvent::Reply(m) => stats = m.stats,
                PlaygroundEvent::Error(p) => anyhow::bail!("the relay failed: {p}"),
                _ => {}
            }
        }
        let first = first.context("the relay sent no token")?;
        out.push(first.as_secs_f64() * 1000.0);
    }
    Ok((out, stats))
}

fn summary(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let base_url = upstream(opts.tokens).await?;
    let section = ProviderConfig {
        kind: ProviderKind::Openai,
        base_url,
        api_key_env: None,
        models: vec!["fake".into()],
        timeout_secs: 30,
    };
    let provider = OpenAiProvider::from_config("upstream", &section)?;
    let mut providers = Providers::default();
    providers.insert(Arc::new(OpenAiProvider::from_config("upstream", &section)?));
    let dir = super::ingest::tempfile_dir()?.join("relay");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let Some(path) = &opts.local_model {
        providers.insert(Arc::new(LocalProvider::new(path.clone())));
    }

    let url = format!("sqlite://{}", dir.join("relay.db").display());
    let server = BenchServer::start(
        store::open(&url).await?,
        ServerSettings::default(),
        providers,
    )
    .await?;
    let client = server.admin.clone();
    let tenant = client
        .create_tenant(&NewTenant {
            name: "Relay".into(),
            tier: Some(Tier::Enterprise),
            ..Default::default()
        })
        .await?;
    let session_for = |model: &'static str| {
        let client = client.clone();
        let slug = tenant.slug.clone();
        async move {
            let agent = client
                .create_agent(
                    &slug,
                    &NewAgent {
                        name: format!("Relay {model}"),
                        system_prompt: "You answer leads briefly and warmly.".into(),
                        model: model.into(),
                        temperature: Some(0.0),
                        max_tokens: Some(64),
                        ..Default::default()
                    },
                )
                .await?;
            let new = NewPlaygroundSession {
                agent_id: Some(agent.id),
                ..Default::default()
            };
            anyhow::Ok(client.create_playground_session(&slug, &new).await?.id)
        }
    };

    // Warm both paths (connections, first allocations), then measure.
    let session = session_for("upstream/fake").await?;
    direct(&provider, 3).await?;
    relayed(&client, &tenant.slug, session, 3).await?;
    let (d50, d99) = summary(direct(&provider, opts.replies).await?);
    let (r50, r99) = summary(
        relayed(&client, &tenant.slug, session, opts.replies)
            .await?
            .0,
    );

    println!(
        "playground relay benchmark: {} replies of {} tokens from an OpenAI-compatible server on loopback",
        opts.replies, opts.tokens
    );
    println!(
        "{:<28} {:>10} {:>10}",
        "time to first token", "p50 ms", "p99 ms"
    );
    println!(
        "{:<28} {:>10.2} {:>10.2}",
        "provider called directly", d50, d99
    );
    println!("{:<28} {:>10.2} {:>10.2}", "through Switchboard", r50, r99);
    println!("{:<28} {:>10.2} {:>10.2}", "overhead", r50 - d50, r99 - d99);

    if opts.local_model.is_some() {
        let session = session_for("local/smollm2-135m").await?;
        let (ttft, stats) = relayed(&client, &tenant.slug, session, 3).await?;
        let (t50, _) = summary(ttft);
        let stats = stats.context("the local model stored no stats")?;
        println!(
            "local model through the playground: TTFT p50 {t50:.0} ms, last reply {} tokens at {:.1} tok/s",
            stats.completion_tokens, stats.tokens_per_second
        );
    }
    server.stop().await?;
    std::fs::remove_dir_all(&dir).ok();
    println!("relay overhead p50: {:.2} ms (target ≤ 5 ms)", r50 - d50);
    Ok(())
}
