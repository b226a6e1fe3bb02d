//! A minimal server-sent-events reader over a streaming response.

use futures::StreamExt;

use super::{ApiError, ApiResult};
use crate::domain::ServerEvent;

type ByteStream = std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<Vec<u8>>> + Send>>;

pub struct EventStream {
    inner: ByteStream,
    buffer: String,
}

impl EventStream {
    pub(super) fn new(resp: reqwest::Response) -> Self {
        Self {
            inner: Box::pin(resp.bytes_stream().map(|r| r.map(|b| b.to_vec()))),
            buffer: String::new(),
        }
    }

    /// The next event; `None` when the server closed the stream.
    pub async fn next(&mut self) -> Option<ApiResult<ServerEvent>> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(ev) = parse_block(&block) {
                    return Some(ev);
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

/// Parses one event block; comments (keep-alives) yield `None`.
fn parse_block(block: &str) -> Option<ApiResult<ServerEvent>> {
    let mut id = None;
    let mut kind = None;
    let mut data = String::new();
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().parse::<i64>().ok();
        } else if let Some(v) = line.strip_prefix("event:") {
            kind = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    let (id, kind) = (id?, kind?);
    Some(
        serde_json::from_str(&data)
            .map(|data| ServerEvent { id, kind, data })
            .map_err(|e| ApiError::Decode(format!("bad event data: {e}"))),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_events_and_skips_comments() {
        assert!(super::parse_block(":keep-alive\n\n").is_none());
        let ev = super::parse_block("id: 7\nevent: lead.created\ndata: {\"a\":1}\n\n")
            .unwrap()
            .unwrap();
        assert_eq!(ev.id, 7);
        assert_eq!(ev.kind, "lead.created");
        assert_eq!(ev.data["a"], 1);
    }
}
