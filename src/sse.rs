//! Server-sent events from a byte stream, read by `eventsource-stream`
//! (shared by the API client's streams and the OpenAI-compatible provider).
//!
//! The crate decodes UTF-8 across network reads, but panics on a body that
//! starts with a byte-order mark (it cuts the 3-byte mark at byte 1), so
//! leading marks are removed before it sees the bytes.

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::{Stream, StreamExt};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The events of `bytes`; comments (keep-alives) never surface.
pub fn events<S, B, E>(bytes: S) -> impl Stream<Item = Result<Event, EventStreamError<E>>>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    let mut head = Some(Vec::new());
    bytes
        .map(move |chunk| chunk.map(|b| without_leading_bom(&mut head, b.as_ref())))
        .eventsource()
}

/// Passes `chunk` on, except that byte-order marks at the very start of the
/// body are dropped (also one cut across chunks). `head` holds the start
/// until it is known not to be a mark; `None` once it is past.
fn without_leading_bom(head: &mut Option<Vec<u8>>, chunk: &[u8]) -> Vec<u8> {
    let Some(mut start) = head.take() else {
        return chunk.to_vec();
    };
    start.extend_from_slice(chunk);
    while let Some(rest) = start.strip_prefix(BOM) {
        start = rest.to_vec();
    }
    if start.len() < BOM.len() && BOM.starts_with(&start) {
        *head = Some(start);
        return Vec::new();
    }
    start
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
