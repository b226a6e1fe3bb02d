//! Server-sent events from a byte stream, read by `eventsource-stream`
//! (shared by the API client's streams and the OpenAI-compatible provider).
//!
//! The crate would join a character cut between network reads itself, but
//! it panics on a body that starts with a byte-order mark (it cuts the
//! 3-byte mark at byte 1) and, after an invalid byte, holds every later byte
//! back until the stream ends. So [`Text`] hands it whole, valid UTF-8 (a cut
//! character waits for its end, an invalid byte becomes U+FFFD, leading
//! marks are dropped); the SSE parsing (fields, ids, retry, comments, line
//! ends) is the crate's.

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::{Stream, StreamExt};

/// The events of `bytes`; comments (keep-alives) never surface.
pub fn events<S, B, E>(bytes: S) -> impl Stream<Item = Result<Event, EventStreamError<E>>>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    let mut text = Text::default();
    bytes
        .map(move |chunk| chunk.map(|b| text.next(b.as_ref())))
        .eventsource()
}

/// Turns chunks of bytes into chunks of whole, valid UTF-8 for the crate.
#[derive(Default)]
struct Text {
    /// The start of a character cut off at the end of the last chunk.
    tail: Vec<u8>,
    /// Past the start of the body (and its byte-order marks).
    started: bool,
}

impl Text {
    fn next(&mut self, chunk: &[u8]) -> String {
        let mut bytes = std::mem::take(&mut self.tail);
        bytes.extend_from_slice(chunk);
        let mut out = String::with_capacity(bytes.len());
        let mut rest = bytes.as_slice();
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    out.push_str(valid);
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[bad..];
                        }
                        None => {
                            self.tail = after.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        if !self.started {
            out = out.trim_start_matches('\u{feff}').to_string();
            self.started = !out.is_empty();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    async fn read(pieces: Vec<Vec<u8>>) -> Vec<String> {
        let bytes = futures::stream::iter(pieces.into_iter().map(Ok::<_, ()>));
        super::events(bytes)
            .map(|e| e.unwrap().data)
            .collect()
            .await
    }

    /// An invalid byte becomes U+FFFD and the events after it still come
    /// (the crate alone held them back until the stream ended).
    #[tokio::test]
    async fn an_invalid_byte_does_not_hold_back_later_events() {
        let pieces = vec![b"data: a\xFFb\n\n".to_vec(), b"data: next\n\n".to_vec()];
        let bytes = futures::stream::iter(pieces.into_iter().map(Ok::<_, ()>))
            .chain(futures::stream::pending());
        let mut events = Box::pin(super::events(bytes));
        let wait = std::time::Duration::from_secs(5);
        for expected in ["a\u{FFFD}b", "next"] {
            let event = tokio::time::timeout(wait, events.next()).await;
            assert_eq!(event.unwrap().unwrap().unwrap().data, expected);
        }
    }

    /// Byte-order marks, and characters cut anywhere between reads.
    #[tokio::test]
    async fn any_cut_of_a_body_reads_the_same_events() {
        let body = "\u{feff}\u{feff}: hi\n\ndata: Zoë\n\ndata: 李 🙂\n\n".as_bytes();
        for cut in 0..body.len() {
            for second in cut..body.len() {
                let pieces = vec![
                    body[..cut].to_vec(),
                    body[cut..second].to_vec(),
                    body[second..].to_vec(),
                ];
                assert_eq!(
                    read(pieces).await,
                    ["Zoë", "李 🙂"],
                    "cut at {cut}, {second}"
                );
            }
        }
    }
}
