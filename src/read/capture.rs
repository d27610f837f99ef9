//! The capture format: what `listen --save` writes, one JSON line per request received, and what
//! every reading command recognises in its inputs.
//!
//! ```text
//! {"tiwhook_capture":1,"received_at":"2025-11-25T04:00:01.123Z","peer":"203.0.113.9:51234",
//!  "method":"POST","path":"/tiw","content_type":"application/json","body":{...}}
//! ```
//!
//! The body is kept byte for byte: as `body`, written verbatim, when it is one JSON value in valid
//! UTF-8 with no line break (nothing is re-encoded, duplicate keys stay); as `body_text`, a JSON
//! string of its exact text, when it is other UTF-8 (pretty-printed JSON, several documents, not
//! JSON at all); as `body_base64` otherwise. `body` is always the line's last member, so its bytes
//! are found in the line as written (see [`body_of`]).

use base64::Engine as _;

use crate::read::framing::{Documents, Item};
use crate::read::tape::Node;
use crate::sanitize::push_json_str;

/// The start of every capture line.
pub const PREFIX: &[u8] = b"{\"tiwhook_capture\":";

/// Where and when a request came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// RFC 3339 in UTC, with milliseconds.
    pub received_at: String,
    /// `ip:port` of the client.
    pub peer: String,
    pub method: String,
    pub path: String,
    pub content_type: String,
}

/// A time as a capture writes it: `2025-11-25T04:00:01.123Z`.
pub fn received_at(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The capture line of one request, with its line feed.
pub fn line(arrival: &Arrival, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 200);
    out.extend_from_slice(PREFIX);
    out.extend_from_slice(b"1,\"received_at\":");
    push_json_str(&mut out, &arrival.received_at);
    out.extend_from_slice(b",\"peer\":");
    push_json_str(&mut out, &arrival.peer);
    out.extend_from_slice(b",\"method\":");
    push_json_str(&mut out, &arrival.method);
    out.extend_from_slice(b",\"path\":");
    push_json_str(&mut out, &arrival.path);
    out.extend_from_slice(b",\"content_type\":");
    push_json_str(&mut out, &arrival.content_type);
    match std::str::from_utf8(body) {
        Ok(text)
            if text.trim() == text
                && !text.is_empty()
                && !body.contains(&b'\n')
                && !body.contains(&b'\r')
                && is_one_json_value(body) =>
        {
            out.extend_from_slice(b",\"body\":");
            out.extend_from_slice(body);
        }
        Ok(text) => {
            out.extend_from_slice(b",\"body_text\":");
            push_json_str(&mut out, text);
        }
        Err(_) => {
            out.extend_from_slice(b",\"body_base64\":\"");
            out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(body).as_bytes());
            out.push(b'"');
        }
    }
    out.extend_from_slice(b"}\n");
    out
}

/// Whether `bytes` hold exactly one JSON value (white space around it aside).
fn is_one_json_value(bytes: &[u8]) -> bool {
    let mut documents = Documents::new(bytes);
    matches!(documents.next_item(), Ok(Some(Item::Document(_)))) && matches!(documents.next_item(), Ok(None))
}

/// A capture line, read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    pub received_at: String,
    pub peer: String,
    /// The body, byte for byte as it was received.
    pub body: Vec<u8>,
    /// Where a `body` kept verbatim starts in the line (a byte offset), so that positions in it
    /// can be given in the line; `None` for `body_text` and `body_base64`.
    pub verbatim_at: Option<usize>,
}

/// The capture a parsed document is, if it is one: `bytes` is its text, `root` its parsed root.
pub fn body_of(bytes: &[u8], root: Node<'_>) -> Option<Captured> {
    if !bytes.starts_with(PREFIX) {
        return None;
    }
    let text = |name: &str| root.get(name).and_then(|n| n.as_str()).unwrap_or_default().to_string();
    let (body, verbatim_at) = if root.get("body").is_some() {
        // `,"` cannot occur inside a JSON string (its quote would be escaped), so the first
        // `,"body":` is the member's key; the body runs from there to the object's last `}`.
        let from = memchr::memmem::find(bytes, b",\"body\":")? + b",\"body\":".len();
        let to = bytes.iter().rposition(|&b| b == b'}')?;
        (bytes.get(from..to)?.to_vec(), Some(from))
    } else if let Some(text) = root.get("body_text").and_then(|n| n.as_str()) {
        (text.as_bytes().to_vec(), None)
    } else {
        let encoded = root.get("body_base64").and_then(|n| n.as_str())?;
        (base64::engine::general_purpose::STANDARD.decode(encoded).ok()?, None)
    };
    Some(Captured { received_at: text("received_at"), peer: text("peer"), body, verbatim_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::tape::Tape;

    fn round_trip(body: &[u8]) -> Captured {
        let arrival = Arrival {
            received_at: "2025-11-25T04:00:01.123Z".into(),
            peer: "203.0.113.9:51234".into(),
            method: "POST".into(),
            path: "/tiw".into(),
            content_type: "application/json; charset=\"utf-8\"".into(),
        };
        let line = line(&arrival, body);
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1, "one line");
        let mut tape = Tape::default();
        let text = &line[..line.len() - 1];
        assert!(matches!(
            crate::read::tape::parse_value(text, &mut tape),
            crate::read::tape::Parsed::Value { .. }
        ));
        body_of(text, tape.view(text).root()).expect("a capture")
    }

    #[test]
    fn every_body_comes_back_byte_for_byte() {
        for body in [
            &br#"{"EventType":"A","x":1.50,"x":2}"#[..],
            b"{\n  \"EventType\": \"A\"\n}",
            b"{}{}",
            b"not json at all, \"quoted\"",
            b"",
            b" {\"EventType\":\"A\"} ",
            b"\xff\xfe{}\x00",
            br#"{"body":",\"body\":1","EventType":"B"}"#,
        ] {
            let captured = round_trip(body);
            assert_eq!(captured.body, body, "{}", String::from_utf8_lossy(body));
            assert_eq!(captured.peer, "203.0.113.9:51234");
            assert_eq!(captured.received_at, "2025-11-25T04:00:01.123Z");
        }
    }

    #[test]
    fn times_have_milliseconds_in_utc() {
        let time = jiff::Timestamp::from_millisecond(1_764_043_201_123).unwrap();
        assert_eq!(received_at(time), "2025-11-25T04:00:01.123Z");
    }
}
