//! A minimal server-sent-events reader over a streaming response, and the
//! tenant's live event stream built on it.

use futures::StreamExt;

use super::{ApiError, ApiResult};
use crate::domain::ServerEvent;

type ByteStream = std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<Vec<u8>>> + Send>>;

/// One SSE block: `id:`, `event:` and the joined `data:` lines.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Block {
    pub id: Option<i64>,
    pub event: Option<String>,
    pub data: String,
}

/// Splits a response body into SSE blocks, skipping comments (keep-alives).
pub(super) struct SseReader {
    inner: ByteStream,
    buffer: String,
}

impl SseReader {
    pub(super) fn new(resp: reqwest::Response) -> Self {
        Self {
            inner: Box::pin(resp.bytes_stream().map(|r| r.map(|b| b.to_vec()))),
            buffer: String::new(),
        }
    }

    /// The next block; `None` when the server closed the stream.
    pub(super) async fn next(&mut self) -> Option<ApiResult<Block>> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let text: String = self.buffer.drain(..end + 2).collect();
                if let Some(block) = parse_block(&text) {
                    return Some(Ok(block));
                }
                continue;
            }
            match self.inner.next().await? {
                Ok(chunk) => self
                    .buffer
                    .push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n")),
                Err(e) => return Some(Err(ApiError::Decode(format!("event stream broke: {e}")))),
            }
        }
    }
}

/// Parses one event block; a block of comments only yields `None`.
fn parse_block(text: &str) -> Option<Block> {
    let mut block = Block::default();
    let mut seen = false;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            block.id = v.trim().parse::<i64>().ok();
            seen = true;
        } else if let Some(v) = line.strip_prefix("event:") {
            block.event = Some(v.trim().to_string());
            seen = true;
        } else if let Some(v) = line.strip_prefix("data:") {
            if !block.data.is_empty() {
                block.data.push('\n');
            }
            block.data.push_str(v.strip_prefix(' ').unwrap_or(v));
            seen = true;
        }
    }
    seen.then_some(block)
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
            let block = match self.reader.next().await? {
                Ok(b) => b,
                Err(e) => return Some(Err(e)),
            };
            let (Some(id), Some(kind)) = (block.id, block.event) else {
                continue;
            };
            return Some(
                serde_json::from_str(&block.data)
                    .map(|data| ServerEvent { id, kind, data })
                    .map_err(|e| ApiError::Decode(format!("bad event data: {e}"))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_events_and_skips_comments() {
        assert!(super::parse_block(":keep-alive\n\n").is_none());
        let ev = super::parse_block("id: 7\nevent: lead.created\ndata: {\"a\":1}\n\n").unwrap();
        assert_eq!(ev.id, Some(7));
        assert_eq!(ev.event.as_deref(), Some("lead.created"));
        assert_eq!(ev.data, "{\"a\":1}");
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    proptest! {
        /// The console reads whatever the server (or a proxy in between)
        /// streams: any block parses or is skipped, never a panic.
        #[test]
        fn any_event_block_parses_without_panic(
            block in crate::domain::text::arbitrary::text(
                &["id:", "event:", "data:", ":", "\n", "\n\n", "-1", "99999999999999999999"]
            )
        ) {
            let _ = super::parse_block(&block);
        }
    }
}
