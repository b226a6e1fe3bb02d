//! Server-sent events over a streaming response (`crate::sse`, which decodes
//! UTF-8 across network reads), and the tenant's live event stream built on it.

use std::pin::Pin;

use eventsource_stream::{Event, EventStreamError};
use futures::{Stream, StreamExt};

use super::{ApiError, ApiResult};
use crate::domain::ServerEvent;

type Events = Pin<Box<dyn Stream<Item = Result<Event, EventStreamError<reqwest::Error>>> + Send>>;

/// The events of a response body; comments (keep-alives) never surface.
pub(super) struct SseReader {
    inner: Events,
}

impl SseReader {
    pub(super) fn new(resp: reqwest::Response) -> Self {
        Self {
            inner: Box::pin(crate::sse::events(resp.bytes_stream())),
        }
    }

    /// The next event; `None` when the server closed the stream.
    pub(super) async fn next(&mut self) -> Option<ApiResult<Event>> {
        Some(self.inner.next().await?.map_err(|e| match e {
            EventStreamError::Transport(e) => ApiError::Decode(format!("event stream broke: {e}")),
            EventStreamError::Utf8(e) => {
                ApiError::Decode(format!("event stream is not UTF-8: {e}"))
            }
            EventStreamError::Parser(e) => ApiError::Decode(format!("bad event stream: {e}")),
        }))
    }
}

/// The tenant's live events (`GET …/events`).
pub struct EventStream {
    reader: SseReader,
}

impl EventStream {
    pub(super) fn new(resp: reqwest::Response) -> Self {
        Self {
            reader: SseReader::new(resp),
        }
    }

    /// The next event; `None` when the server closed the stream.
    pub async fn next(&mut self) -> Option<ApiResult<ServerEvent>> {
        loop {
            let event = match self.reader.next().await? {
                Ok(e) => e,
                Err(e) => return Some(Err(e)),
            };
            // Every event of the log carries its id (what a reconnect resumes
            // after); anything else is not one of them.
            let Ok(id) = event.id.trim().parse::<i64>() else {
                continue;
            };
            return Some(
                serde_json::from_str(&event.data)
                    .map(|data| ServerEvent {
                        id,
                        kind: event.event,
                        data,
                    })
                    .map_err(|e| ApiError::Decode(format!("bad event data: {e}"))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use crate::api::Client;

    /// A server on port 0 that answers one request with these pieces of an
    /// event stream, each written and flushed apart, then closes.
    async fn serve_pieces(pieces: Vec<Vec<u8>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                request.extend_from_slice(&buf[..n]);
            }
            socket
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                      connection: close\r\n\r\n",
                )
                .await
                .unwrap();
            for piece in pieces {
                socket.write_all(&piece).await.unwrap();
                socket.flush().await.unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        url
    }

    /// Issue 18: each network read was decoded on its own, so a character
    /// cut between two reads arrived as U+FFFD twice.
    #[tokio::test]
    async fn a_character_split_across_two_reads_arrives_whole() {
        let text = ": keep-alive\n\nid: 7\nevent: lead.created\r\ndata: {\"name\":\"Zoë 李\"}\n\n";
        let bytes = text.as_bytes();
        let cut = bytes.windows(2).position(|w| w == "ë".as_bytes()).unwrap() + 1;
        let url = serve_pieces(vec![bytes[..cut].to_vec(), bytes[cut..].to_vec()]).await;
        let mut events = Client::new(&url).unwrap().events("t", None).await.unwrap();
        let event = events.next().await.unwrap().unwrap();
        assert_eq!(event.id, 7);
        assert_eq!(event.kind, "lead.created");
        assert_eq!(event.data["name"], "Zoë 李");
        assert!(
            events.next().await.is_none(),
            "the server closed the stream"
        );
    }

    #[tokio::test]
    async fn events_without_an_id_are_skipped() {
        let text = "data: {\"a\":1}\n\nevent: x\ndata: {}\n\nid: 9\nevent: lead.updated\ndata: {\"a\":2}\n\n";
        let url = serve_pieces(vec![text.as_bytes().to_vec()]).await;
        let mut events = Client::new(&url).unwrap().events("t", None).await.unwrap();
        let event = events.next().await.unwrap().unwrap();
        assert_eq!((event.id, event.kind.as_str()), (9, "lead.updated"));
        assert_eq!(event.data["a"], 2);
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    proptest! {
        /// The console reads whatever the server (or a proxy in between)
        /// streams: any body yields events or errors, never a panic.
        #[test]
        fn any_event_stream_reads_without_panic(
            body in crate::domain::text::arbitrary::text(
                &["id:", "event:", "data:", "retry:", ":", "\n", "\r", "\n\n", "-1", "99999999999999999999"]
            )
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(async {
                let resp = axum::http::Response::new(reqwest::Body::from(body));
                let mut events = super::EventStream::new(reqwest::Response::from(resp));
                while events.next().await.is_some() {}
            });
        }
    }
}
