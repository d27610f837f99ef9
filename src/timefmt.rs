//! Times and durations as people read them.
//!
//! Callbacks carry Unix seconds. The human view shows them in a chosen zone with their offset,
//! durations as `23s` or `1h 02m 05s`, and ages as `6y 2mo`; JSON shows RFC 3339 in UTC. The clock
//! is never read here: "now" is always passed in, so that tests can fix it.

use jiff::tz::TimeZone;
use jiff::{Timestamp, Unit};

/// A Unix time in `zone`, with its offset: `2019-09-20 11:16:09 +08:00`.
pub fn local(seconds: u64, zone: &TimeZone) -> String {
    match timestamp(seconds) {
        Some(ts) => ts.to_zoned_datetime(zone.clone()).strftime("%Y-%m-%d %H:%M:%S %:z").to_string(),
        None => seconds.to_string(),
    }
}

/// A Unix time as RFC 3339 in UTC: `2019-09-20T03:16:09Z`.
pub fn rfc3339(seconds: u64) -> String {
    match timestamp(seconds) {
        Some(ts) => ts.to_string(),
        None => seconds.to_string(),
    }
}

fn timestamp(seconds: u64) -> Option<Timestamp> {
    Timestamp::from_second(i64::try_from(seconds).ok()?).ok()
}

/// A duration: `23s`, `4m 05s`, `1h 02m 05s`, `3d 04h 05m 06s`.
pub fn duration(seconds: u64) -> String {
    let (d, h, m, s) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s:02}s"),
        (0, _, _) => format!("{h}h {m:02}m {s:02}s"),
        _ => format!("{d}d {h:02}h {m:02}m {s:02}s"),
    }
}

/// How long from `from` to `to`, in calendar units, two at most: `6y 2mo`, `3d 4h`, `12s`.
/// Negative spans are shown by their size.
pub fn age(from: i64, to: i64) -> String {
    let (from, to) = if from <= to { (from, to) } else { (to, from) };
    let (Ok(a), Ok(b)) = (Timestamp::from_second(from), Timestamp::from_second(to)) else {
        return format!("{}s", to.saturating_sub(from));
    };
    let (a, b) = (a.to_zoned_datetime(TimeZone::UTC), b.to_zoned_datetime(TimeZone::UTC));
    let Ok(span) = b.since((Unit::Year, &a)) else {
        return format!("{}s", to - from);
    };
    let parts = [
        (i64::from(span.get_years()), "y"),
        (i64::from(span.get_months()), "mo"),
        (i64::from(span.get_days()), "d"),
        (i64::from(span.get_hours()), "h"),
        (span.get_minutes(), "m"),
        (span.get_seconds(), "s"),
    ];
    let shown: Vec<String> = parts
        .iter()
        .skip_while(|(n, _)| *n == 0)
        .take(2)
        .filter(|(n, _)| *n != 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if shown.is_empty() { "0s".into() } else { shown.join(" ") }
}

/// Parses a time given on the command line: Unix seconds or RFC 3339.
pub fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    text.parse::<Timestamp>().map(Timestamp::as_second).map_err(|e| {
        format!("`{text}` is neither Unix seconds nor an RFC 3339 time such as 2020-05-21T07:33:11Z ({e})")
    })
}

/// Resolves a zone given on the command line: `UTC`, `local`, or an IANA name.
pub fn parse_zone(name: &str) -> Result<TimeZone, String> {
    match name {
        "UTC" | "utc" | "Z" => Ok(TimeZone::UTC),
        "local" => Ok(TimeZone::system()),
        _ => TimeZone::get(name).map_err(|e| format!("unknown time zone `{name}` ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(23), "23s");
        assert_eq!(duration(245), "4m 05s");
        assert_eq!(duration(3725), "1h 02m 05s");
        assert_eq!(duration(86_400 * 3 + 4 * 3600 + 5 * 60 + 6), "3d 04h 05m 06s");
    }

    #[test]
    fn ages_use_calendar_units() {
        assert_eq!(age(1590046391, 1590046391 + 12), "12s");
        // 2020-05-21 to 2026-07-25: six years and two months.
        assert_eq!(age(1590046391, 1785000000), "6y 2mo");
        assert_eq!(age(1785000000, 1590046391), "6y 2mo");
        assert_eq!(age(0, 3600 * 26), "1d 2h");
    }

    #[test]
    fn times_in_zones() {
        let shanghai = parse_zone("Asia/Shanghai").unwrap();
        assert_eq!(local(1568949369, &shanghai), "2019-09-20 11:16:09 +08:00");
        assert_eq!(local(1568949369, &TimeZone::UTC), "2019-09-20 03:16:09 +00:00");
        assert_eq!(rfc3339(1568949369), "2019-09-20T03:16:09Z");
        assert!(parse_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn command_line_times() {
        assert_eq!(parse_time("1588040109"), Ok(1588040109));
        assert_eq!(parse_time("2020-04-28T02:15:09Z"), Ok(1588040109));
        assert!(parse_time("yesterday").is_err());
    }
}
