//! A request body, judged: the callbacks one `POST` carried, as `listen` receives them and as a
//! capture line of `listen --save` holds them.
//!
//! Tencent sends one callback per request, so a body is judged as a whole: it is decoded from its
//! `Content-Encoding` first, and when it holds more than one document, the first report carries a
//! `several-documents` warning *before* its verdict is settled, so `--strict` (and with it
//! `listen --reject-invalid`) applies to that warning like to any other. The receiver and the
//! readers share this one decision.

use std::io;

use crate::codes::Code;
use crate::judge::report::{Arrival, Finding, Report, Severity};
use crate::judge::walk::{Policy, judge_broken, judge_item, settle_verdict};
use crate::read::capture;
use crate::read::framing::{Broken, JsonFramer, MAX_DOCUMENT_BYTES};
use crate::read::window::Position;

/// A body as it came: its bytes, the `Content-Encoding` it was sent with, and (for a capture
/// line) when and from where it arrived.
#[derive(Clone, Copy, Debug)]
pub struct Body<'b> {
    pub bytes: &'b [u8],
    pub encoding: Option<&'b [u8]>,
    pub arrival: Option<&'b Arrival>,
    /// Where the body stands in a file that holds it (a capture line); `None` for a body of its
    /// own (a request), whose positions count in the body.
    pub placed: Option<Placement>,
}

/// Where a body stands in the line that holds it: every report on it starts at the line's start,
/// and a finding on the body's first line is placed at its column in the line when the body
/// stands there verbatim (else at the line's start).
#[derive(Clone, Copy, Debug)]
pub struct Placement {
    pub start: Position,
    /// The column of the line the body starts at, when it is kept there as it was sent.
    pub body_column: Option<u64>,
}

impl Placement {
    fn place(self, report: &mut Report<'_>) {
        report.start = self.start;
        for finding in &mut report.findings {
            finding.at = match (self.body_column, finding.at.line) {
                (Some(column), 1) => Position { column: column + finding.at.column - 1, ..self.start },
                _ => self.start,
            };
        }
    }
}

/// What a body held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Judged {
    /// Reports handed out: documents, broken pieces, or the one report on an undecodable body.
    pub reports: u64,
    /// Whether every report passed (false for a body with nothing in it).
    pub all_valid: bool,
}

/// Judges every document of `body`, handing each report to `each` in order.
pub fn judge_body(
    source: &str,
    body: Body<'_>,
    policy: &Policy,
    mut each: impl FnMut(Report<'_>) -> io::Result<()>,
) -> io::Result<Judged> {
    let decoded = match capture::decode_body(body.encoding, body.bytes, MAX_DOCUMENT_BYTES) {
        Ok(decoded) => decoded,
        Err(message) => {
            let start = Position::START;
            let broken =
                Broken { index: 0, start, code: Code::UndecodableBody, message, at: start, help: None };
            let mut report = judge_broken(source, &broken);
            report.arrival = body.arrival;
            if let Some(placed) = body.placed {
                placed.place(&mut report);
            }
            each(report)?;
            return Ok(Judged { reports: 1, all_valid: false });
        }
    };
    let several = holds_several_documents(&decoded);
    let mut documents = JsonFramer::new(&decoded[..]);
    let mut judged = Judged { reports: 0, all_valid: true };
    // Reading a slice cannot fail.
    while let Ok(Some(item)) = documents.next_item() {
        let mut report = judge_item(source, &item, policy);
        report.arrival = body.arrival;
        if several && judged.reports == 0 {
            let finding = Finding {
                severity: Severity::Warning,
                code: Code::SeveralDocuments,
                path: String::new(),
                message:
                    "this request's body holds more than one document; Tencent sends one callback per request"
                        .into(),
                help: Vec::new(),
                at: report.start,
            };
            report.findings.push(finding);
            settle_verdict(&mut report, policy);
        }
        if let Some(placed) = body.placed {
            placed.place(&mut report);
        }
        judged.reports += 1;
        judged.all_valid &= report.passed();
        each(report)?;
    }
    judged.all_valid &= judged.reports > 0;
    Ok(judged)
}

/// Whether a body holds more than one document.
fn holds_several_documents(body: &[u8]) -> bool {
    let mut documents = JsonFramer::new(body);
    matches!(documents.next_item(), Ok(Some(_))) && matches!(documents.next_item(), Ok(Some(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::report::Verdict;

    fn policy(strict: bool) -> Policy {
        Policy { keys: Vec::new(), now: 0, enforce_expiry: false, strict, details_unread: false }
    }

    fn verdicts(bytes: &[u8], encoding: Option<&[u8]>, strict: bool) -> Vec<(Verdict, Vec<Code>)> {
        let mut out = Vec::new();
        judge_body("t", Body { bytes, encoding, arrival: None, placed: None }, &policy(strict), |r| {
            out.push((r.verdict, r.findings.iter().map(|f| f.code).collect()));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn several_documents_is_a_warning_that_strict_fails() {
        let two = br#"{"EventType":"X","EventData":{}} {"EventType":"Y","EventData":{}}"#;
        let lenient = verdicts(two, None, false);
        assert_eq!(lenient.len(), 2);
        assert!(lenient[0].1.contains(&Code::SeveralDocuments));
        assert!(!lenient[1].1.contains(&Code::SeveralDocuments));
        let strict = verdicts(two, None, true);
        assert_eq!(strict[0].0, Verdict::Invalid, "{strict:?}");
    }

    #[test]
    fn an_encoded_body_is_judged_decoded() {
        use std::io::Write as _;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(b"[1]").unwrap();
        let gzip = gzip.finish().unwrap();
        assert_eq!(verdicts(&gzip, Some(b"gzip"), false)[0].1, [Code::NotAnObject]);
        assert_eq!(verdicts(b"[1]", Some(b"gzip"), false)[0].1, [Code::UndecodableBody]);
    }
}
