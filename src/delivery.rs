//! What posting a callback over HTTP has in common, for `listen`'s forwards and for `send`:
//! Tencent's retry schedule, and a failure said once, in words.
//!
//! Both commands deliver a body, wait a bounded time for the answer, and try again on a schedule
//! when the answer is not the one wanted. Keeping that loop and the wording of a failure in one
//! place means the two commands retry alike and say "connection refused" alike.

use std::future::Future;
use std::io;
use std::time::Duration;

/// Attempts `attempt` until `accepted` holds for its outcome, at most `1 + retries` times,
/// `interval` apart; `retrying` hears of each retry before its pause (attempt number from 2,
/// the outcome that failed). Returns every outcome, in order.
pub async fn with_retries<T, F>(
    retries: u32,
    interval: Duration,
    mut attempt: impl FnMut(u32) -> F,
    accepted: impl Fn(&T) -> bool,
    mut retrying: impl FnMut(u32, &T),
) -> Vec<T>
where
    F: Future<Output = T>,
{
    let mut outcomes = Vec::new();
    for number in 1..=retries.saturating_add(1) {
        let outcome = attempt(number).await;
        let done = accepted(&outcome) || number > retries;
        if !done {
            retrying(number + 1, &outcome);
        }
        outcomes.push(outcome);
        if done {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    outcomes
}

/// An HTTP client's error in a few words that name the cause: `connection refused`,
/// `connection reset by the server`, `certificate not trusted: …`, or else the deepest cause's
/// own message, said once.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest: &(dyn std::error::Error + 'static) = error;
    let mut chain = vec![error.to_string()];
    while let Some(cause) = deepest.source() {
        chain.push(cause.to_string());
        deepest = cause;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<io::Error>() {
            let said = match io.kind() {
                io::ErrorKind::ConnectionRefused => Some("connection refused"),
                io::ErrorKind::ConnectionReset => Some("connection reset by the server"),
                io::ErrorKind::ConnectionAborted => Some("connection aborted"),
                io::ErrorKind::TimedOut => Some("timed out"),
                io::ErrorKind::HostUnreachable => Some("host unreachable"),
                io::ErrorKind::NetworkUnreachable => Some("network unreachable"),
                io::ErrorKind::UnexpectedEof => Some("the server closed the connection"),
                _ => None,
            };
            if let Some(said) = said {
                return said.to_string();
            }
        }
        cause = current.source();
    }
    let text = chain.iter().rev().find(|t| !t.is_empty()).cloned().unwrap_or_default();
    let text = match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    if text.to_ascii_lowercase().contains("certificate") {
        return format!("certificate not trusted: {text}");
    }
    text
}

/// A duration as the options take it: `5s`, `500ms`, `1.5s`.
pub fn duration_text(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(1000) { format!("{}s", millis / 1000) } else { format!("{millis}ms") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_said_once_in_words() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(describe(&refused), "connection refused");
        let other = io::Error::other("dns error: no such host");
        assert_eq!(describe(&other), "dns error: no such host");
        assert_eq!(duration_text(Duration::from_secs(5)), "5s");
        assert_eq!(duration_text(Duration::from_millis(200)), "200ms");
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn retries_follow_the_schedule_and_stop_when_accepted() {
        let mut heard = Vec::new();
        let outcomes =
            with_retries(5, Duration::from_secs(5), |n| async move { n }, |&n| n == 3, |n, _| heard.push(n))
                .await;
        assert_eq!(outcomes, [1, 2, 3]);
        assert_eq!(heard, [2, 3]);
        let outcomes =
            with_retries(1, Duration::from_secs(5), |n| async move { n }, |_| false, |_, _| ()).await;
        assert_eq!(outcomes, [1, 2]);
    }
}
