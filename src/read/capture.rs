//! The capture format: what `listen --save` writes, one JSON line per request received, and what
//! every reading command recognises in its inputs.
//!
//! ```text
//! {"tiwhook_capture":1,"received_at":"2025-11-25T04:00:01.123Z","peer":"203.0.113.9:51234",
//!  "method":"POST","path":"/tiw?token=abc","content_type":"application/json","body":{...}}
//! ```
//!
//! The request is kept as it came, so that it can be replayed as it came: `path` is the whole
//! request target (query included), `content_type` the header as sent (as `content_type_base64`
//! when it is not UTF-8), and `content_encoding` (or `content_encoding_base64`) is there when the
//! request had one. The body is kept byte for byte: as `body`, written verbatim, when it is one
//! JSON value in valid UTF-8 with no line break (nothing is re-encoded, duplicate keys stay); as
//! `body_text`, a JSON string of its exact text, when it is other UTF-8 (pretty-printed JSON,
//! several documents, not JSON at all); as `body_base64` otherwise (a gzip-encoded body, say).
//!
//! A line is a capture when its JSON is an object whose `tiwhook_capture` member is 1, whatever
//! its spacing or member order: a capture rewritten by Python or `jq` reads the same.

use std::io::Read as _;

use base64::Engine as _;

use crate::json_string::push_json_str;
use crate::read::framing::{Item, JsonFramer};
use crate::read::locate::{self, Step};
use crate::read::tape::{JsonValue, Node};

/// The start of a capture line as `listen --save` writes it (the compact form).
pub const PREFIX: &[u8] = b"{\"tiwhook_capture\":";

/// A request as it came: where and when from, and the headers a replay needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// RFC 3339 in UTC, with milliseconds.
    pub received_at: String,
    /// `ip:port` of the client.
    pub peer: String,
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// `Content-Type` as sent (empty when there was none); its bytes need not be UTF-8.
    pub content_type: Vec<u8>,
    /// `Content-Encoding` as sent, when there was one.
    pub content_encoding: Option<Vec<u8>>,
}

/// A time as a capture writes it: `2025-11-25T04:00:01.123Z`.
pub fn received_at(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Writes `"name":"text"`, or `"name_base64":"..."` when `bytes` are not UTF-8.
fn push_header(out: &mut Vec<u8>, name: &str, bytes: &[u8]) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            out.extend_from_slice(b"\":");
            push_json_str(out, text);
        }
        Err(_) => {
            out.extend_from_slice(b"_base64\":\"");
            out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(bytes).as_bytes());
            out.push(b'"');
        }
    }
}

/// The capture line of one request, with its line feed.
pub fn line(request: &Request, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 200);
    out.extend_from_slice(PREFIX);
    out.extend_from_slice(b"1,\"received_at\":");
    push_json_str(&mut out, &request.received_at);
    out.extend_from_slice(b",\"peer\":");
    push_json_str(&mut out, &request.peer);
    out.extend_from_slice(b",\"method\":");
    push_json_str(&mut out, &request.method);
    out.extend_from_slice(b",\"path\":");
    push_json_str(&mut out, &request.target);
    push_header(&mut out, "content_type", &request.content_type);
    if let Some(encoding) = &request.content_encoding {
        push_header(&mut out, "content_encoding", encoding);
    }
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
    let mut documents = JsonFramer::new(bytes);
    matches!(documents.next_item(), Ok(Some(Item::Document(_)))) && matches!(documents.next_item(), Ok(None))
}

/// A capture line, read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    pub received_at: String,
    pub peer: String,
    /// The request target (path and query), as received.
    pub target: String,
    /// `Content-Type` as received; empty when there was none.
    pub content_type: Vec<u8>,
    /// `Content-Encoding` as received, when there was one.
    pub content_encoding: Option<Vec<u8>>,
    /// The body, byte for byte as it was received (still encoded, with a `content_encoding`).
    pub body: Vec<u8>,
    /// Where a `body` kept verbatim starts in the line (a byte offset), so that positions in it
    /// can be given in the line; `None` for `body_text` and `body_base64`.
    pub verbatim_at: Option<usize>,
}

/// Whether a parsed document is a capture line: an object whose `tiwhook_capture` is 1.
pub fn is_capture(root: Node<'_>) -> bool {
    root.get("tiwhook_capture").is_some_and(|n| matches!(n.value(), JsonValue::UInt(1)))
}

/// The capture a parsed document is, if it is one: `bytes` is its text, `root` its parsed root.
pub fn body_of(bytes: &[u8], root: Node<'_>) -> Option<Captured> {
    if !is_capture(root) {
        return None;
    }
    let text = |name: &str| root.get(name).and_then(|n| n.as_str()).unwrap_or_default().to_string();
    let (body, verbatim_at) = if root.get("body").is_some() {
        // The member's value as it stands in the line, whatever the spacing around it.
        let range = locate::value_range(bytes, &[Step::Key { name: "body", nth: 0 }])?;
        (bytes[range.clone()].to_vec(), Some(range.start))
    } else if let Some(text) = root.get("body_text").and_then(|n| n.as_str()) {
        (text.as_bytes().to_vec(), None)
    } else {
        (base64_member(root, "body_base64")?, None)
    };
    let header = |name: &str| {
        root.get(name)
            .and_then(|n| n.as_str())
            .map(|t| t.as_bytes().to_vec())
            .or_else(|| base64_member(root, &format!("{name}_base64")))
    };
    Some(Captured {
        received_at: text("received_at"),
        peer: text("peer"),
        target: text("path"),
        content_type: header("content_type").unwrap_or_default(),
        content_encoding: header("content_encoding"),
        body,
        verbatim_at,
    })
}

fn base64_member(root: Node<'_>, name: &str) -> Option<Vec<u8>> {
    let encoded = root.get(name).and_then(|n| n.as_str())?;
    base64::engine::general_purpose::STANDARD.decode(encoded).ok()
}

/// The content encodings a body can be decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Deflate,
    Zstd,
}

impl Encoding {
    /// The encoding a `Content-Encoding` header names (one coding; a list of them is not
    /// something a callback sender does, and is refused).
    pub fn of_header(value: &[u8]) -> Result<Encoding, String> {
        let name = String::from_utf8_lossy(value).trim().to_ascii_lowercase();
        match name.as_str() {
            "" | "identity" => Ok(Encoding::Identity),
            "gzip" | "x-gzip" => Ok(Encoding::Gzip),
            "deflate" => Ok(Encoding::Deflate),
            "zstd" => Ok(Encoding::Zstd),
            _ => Err(format!("the body's Content-Encoding `{name}` is not one tiwhook decodes")),
        }
    }
}

/// `body` decoded from `encoding`, up to `limit` bytes of decoded text: past that, or on corrupt
/// data, an error that says so (so a small compressed bomb never becomes a large allocation).
pub fn decode_body(encoding: Option<&[u8]>, body: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let encoding = match encoding {
        None => return Ok(body.to_vec()),
        Some(value) => Encoding::of_header(value)?,
    };
    let reader: Box<dyn std::io::Read + '_> = match encoding {
        Encoding::Identity => return Ok(body.to_vec()),
        Encoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(body)),
        Encoding::Deflate => Box::new(flate2::read::ZlibDecoder::new(body)),
        Encoding::Zstd => Box::new(zstd::stream::read::Decoder::new(body).map_err(|e| e.to_string())?),
    };
    let mut decoded = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut decoded)
        .map_err(|e| format!("the {encoding:?}-encoded body does not decode: {e}").to_lowercase())?;
    if decoded.len() > limit {
        return Err(format!("the body decodes to more than {limit} bytes"));
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::tape::Tape;

    fn round_trip(body: &[u8]) -> Captured {
        let request = Request {
            received_at: "2025-11-25T04:00:01.123Z".into(),
            peer: "203.0.113.9:51234".into(),
            method: "POST".into(),
            target: "/tiw?token=abc".into(),
            content_type: b"application/json; charset=\"utf-8\"".to_vec(),
            content_encoding: None,
        };
        let line = line(&request, body);
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

    fn parsed(line: &[u8]) -> Option<Captured> {
        let mut tape = Tape::default();
        assert!(matches!(
            crate::read::tape::parse_value(line, &mut tape),
            crate::read::tape::Parsed::Value { .. }
        ));
        body_of(line, tape.view(line).root())
    }

    #[test]
    fn a_capture_is_known_by_its_json_not_its_spacing() {
        // As Python's json.dumps writes it: spaces after `:` and `,`, members in another order.
        let spaced = br#"{"body": {"EventType": "A"}, "peer": "1.2.3.4:5", "tiwhook_capture": 1, "path": "/tiw?x=1", "received_at": "2025-11-25T04:00:01.123Z"}"#;
        let captured = parsed(spaced).expect("a capture");
        assert_eq!(captured.body, br#"{"EventType": "A"}"#);
        assert_eq!(captured.target, "/tiw?x=1");
        assert_eq!(&spaced[captured.verbatim_at.unwrap()..][..1], b"{");
        assert!(parsed(br#"{"tiwhook_capture": 2, "body": {}}"#).is_none(), "only version 1");
        assert!(parsed(br#"{"EventType": "A", "tiwhook_capture": "1"}"#).is_none());
    }

    #[test]
    fn headers_come_back_as_sent() {
        let request = Request {
            received_at: "2025-11-25T04:00:01.123Z".into(),
            peer: "203.0.113.9:51234".into(),
            method: "POST".into(),
            target: "/tiw?token=abc".into(),
            content_type: b"application/json; name=\xe6\x9d\x8e\xff".to_vec(),
            content_encoding: Some(b"gzip".to_vec()),
        };
        let body = [0x1f, 0x8b, 0, 1, 2];
        let line = line(&request, &body);
        let captured = parsed(&line[..line.len() - 1]).unwrap();
        assert_eq!(captured.content_type, request.content_type);
        assert_eq!(captured.content_encoding.as_deref(), Some(&b"gzip"[..]));
        assert_eq!(captured.target, "/tiw?token=abc");
        assert_eq!(captured.body, body);
    }

    #[test]
    fn bodies_decode_within_a_limit() {
        use std::io::Write as _;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(&[b' '; 100_000]).unwrap();
        let gzip = gzip.finish().unwrap();
        assert_eq!(decode_body(Some(b"gzip"), &gzip, 100_000).unwrap().len(), 100_000);
        assert!(decode_body(Some(b"gzip"), &gzip, 99_999).unwrap_err().contains("more than"));
        assert!(decode_body(Some(b"gzip"), b"not gzip", 10).is_err());
        assert!(decode_body(Some(b"br"), b"x", 10).unwrap_err().contains("`br`"));
        assert_eq!(decode_body(None, b"plain", 10).unwrap(), b"plain");
    }
}
