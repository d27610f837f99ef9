//! Times and durations as people read them.
//!
//! Callbacks carry Unix seconds. The human view shows them in a chosen zone with their offset,
//! durations as `23s` or `1h 02m 05s`, and ages as `6y 2mo`; JSON shows RFC 3339 in UTC. The clock
//! is never read here: "now" is always passed in, so that tests can fix it.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A Unix time in `zone`, with its offset: `2019-09-20 11:16:09 +08:00`.
pub fn local(seconds: u64, zone: &TimeZone) -> String {
    let mut buf = [0u8; 26];
    match write_local(&mut buf, seconds, zone) {
        Some(text) => text.to_string(),
        None => seconds.to_string(),
    }
}

/// Writes a Unix time in `zone` with its offset into `buf`, without allocating; `None` past the
/// year 9999.
pub fn write_local<'b>(buf: &'b mut [u8; 26], seconds: u64, zone: &TimeZone) -> Option<&'b str> {
    std::str::from_utf8(write_local_ascii(buf, seconds, zone)?).ok()
}

/// [`write_local`] as the ASCII bytes it writes, for a writer of bytes (the human view writes
/// a time on every time row), without the check that they are UTF-8.
pub fn write_local_ascii<'b>(buf: &'b mut [u8; 26], seconds: u64, zone: &TimeZone) -> Option<&'b [u8; 26]> {
    let ts = timestamp(seconds)?;
    let offset = if *zone == TimeZone::UTC { 0 } else { zone.to_offset(ts).seconds() };
    let local = ts.as_second() + i64::from(offset);
    if !(YEAR_ZERO..=MAX_SECONDS).contains(&local) {
        return None;
    }
    write_civil(&mut buf[..19], local, b' ');
    let size = offset.unsigned_abs();
    buf[19] = b' ';
    buf[20] = if offset < 0 { b'-' } else { b'+' };
    two_digits(u64::from(size / 3600), &mut buf[21..23]);
    buf[23] = b':';
    two_digits(u64::from(size / 60 % 60), &mut buf[24..26]);
    Some(buf)
}

/// A Unix time as RFC 3339 in UTC: `2019-09-20T03:16:09Z`. Times past 9999 stay numbers.
pub fn rfc3339(seconds: u64) -> String {
    let mut buf = [0u8; 20];
    match write_rfc3339(&mut buf, seconds) {
        Some(text) => text.to_string(),
        None => seconds.to_string(),
    }
}

/// Writes `seconds` as RFC 3339 in UTC into `buf`, without allocating; `None` past the year 9999.
pub fn write_rfc3339(buf: &mut [u8; 20], seconds: u64) -> Option<&str> {
    std::str::from_utf8(write_rfc3339_ascii(buf, seconds)?).ok()
}

/// [`write_rfc3339`] as the ASCII bytes it writes, for a writer of bytes: the JSON view writes
/// four times a callback, where the check that they are UTF-8 cost as much as writing them.
pub fn write_rfc3339_ascii(buf: &mut [u8; 20], seconds: u64) -> Option<&[u8; 20]> {
    let seconds = i64::try_from(seconds).ok().filter(|&s| s <= MAX_SECONDS)?;
    write_civil(&mut buf[..19], seconds, b'T');
    buf[19] = b'Z';
    Some(buf)
}

thread_local! {
    /// The last two days written and their `YYYY-MM-DD`, most recent first: the times of a stream
    /// mostly share their day, and a callback's expiry another one.
    static LAST_DAYS: std::cell::Cell<[(i64, [u8; 10]); 2]> =
        const { std::cell::Cell::new([(i64::MIN, [0; 10]); 2]) };
}

/// Writes `YYYY-MM-DD?HH:MM:SS` (19 bytes) for Unix seconds in years 0 to 9999.
///
/// The calendar is jiff's; only the digits are written by hand, into a fixed buffer, and the
/// date of the last day written is kept, because the JSON and human views write two or three
/// times per callback (see the closing figures in docs/ARCHITECTURE.md).
fn write_civil(buf: &mut [u8], seconds: i64, separator: u8) {
    let day_number = seconds.div_euclid(86_400);
    let days = LAST_DAYS.get();
    if let Some((_, date)) = days.iter().find(|(day, _)| *day == day_number) {
        buf[..10].copy_from_slice(date);
    } else {
        // Days from 1970-01-01, not a `Timestamp`: jiff's timestamps stop a day short of 10000.
        let epoch = jiff::civil::Date::constant(1970, 1, 1);
        let date = epoch.checked_add(jiff::SignedDuration::from_hours(day_number * 24)).unwrap_or(epoch);
        let year = i64::from(date.year()).unsigned_abs();
        two_digits(year / 100, &mut buf[0..2]);
        two_digits(year % 100, &mut buf[2..4]);
        buf[4] = b'-';
        two_digits(u64::from(date.month().unsigned_abs()), &mut buf[5..7]);
        buf[7] = b'-';
        two_digits(u64::from(date.day().unsigned_abs()), &mut buf[8..10]);
        let mut written = [0; 10];
        written.copy_from_slice(&buf[..10]);
        LAST_DAYS.set([(day_number, written), days[0]]);
    }
    let secs = seconds.rem_euclid(86_400).unsigned_abs();
    let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
    buf[10] = separator;
    two_digits(hour, &mut buf[11..13]);
    buf[13] = b':';
    two_digits(minute, &mut buf[14..16]);
    buf[16] = b':';
    two_digits(second, &mut buf[17..19]);
}

/// Writes the last two decimal digits of `n` (below 100 at every call) into `at`.
fn two_digits(n: u64, at: &mut [u8]) {
    at.copy_from_slice(&DIGIT_PAIRS[(n % 100) as usize]);
}

/// `00` to `99`: a time has up to seven pairs of digits, and looking each up costs less than
/// dividing it out.
static DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        pairs[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    pairs
};

/// The first second of the year 0.
const YEAR_ZERO: i64 = -62_167_219_200;

/// The last second of the year 9999.
const MAX_SECONDS: i64 = 253_402_300_799;

fn timestamp(seconds: u64) -> Option<Timestamp> {
    Timestamp::from_second(i64::try_from(seconds).ok()?).ok()
}

/// A duration: `23s`, `4m 05s`, `1h 02m 05s`, `3d 04h 05m 06s`.
pub fn duration(seconds: u64) -> String {
    let mut buf = [0u8; DURATION_BYTES];
    String::from_utf8_lossy(write_duration(&mut buf, seconds)).into_owned()
}

/// The most bytes a [`duration`] takes: 213,503,982,334,601 days and the rest of `u64::MAX`
/// seconds (`213503982334601d 07h 00m 15s`), and room to spare.
pub const DURATION_BYTES: usize = 32;

/// [`duration`] as the ASCII bytes it writes into `buf`, without allocating: the human view
/// writes one on each stopped task's row.
pub fn write_duration(buf: &mut [u8; DURATION_BYTES], seconds: u64) -> &[u8] {
    let units = [
        (seconds / 86_400, b'd'),
        (seconds / 3600 % 24, b'h'),
        (seconds / 60 % 60, b'm'),
        (seconds % 60, b's'),
    ];
    // From the first unit that is not zero (the seconds, at least); the first as it is, the rest
    // in two digits. Written by hand: `format!` with padding cost ten times as much, once a row.
    let first = units[..3].iter().position(|(n, _)| *n > 0).unwrap_or(3);
    let mut len = 0;
    for (i, (n, unit)) in units[first..].iter().enumerate() {
        if i == 0 {
            let mut digits = itoa::Buffer::new();
            let digits = digits.format(*n).as_bytes();
            buf[..digits.len()].copy_from_slice(digits);
            len = digits.len();
        } else {
            // Hours, minutes and seconds: below 60, so two digits hold them.
            buf[len] = b' ';
            two_digits(*n, &mut buf[len + 1..len + 3]);
            len += 3;
        }
        buf[len] = *unit;
        len += 1;
    }
    &buf[..len]
}

/// How long from `from` to `to`, in calendar units, two at most: `6y 2mo`, `3d 4h`, `12s`.
/// Negative spans are shown by their size. Years and months are counted on the calendar (in UTC,
/// by jiff: a month has passed once the same day of the month comes round again), the rest in
/// exact days, hours and so on.
pub fn age(from: i64, to: i64) -> String {
    let (from, to) = if from <= to { (from, to) } else { (to, from) };
    let civil = |seconds: i64| Some(TimeZone::UTC.to_datetime(Timestamp::from_second(seconds).ok()?));
    let span = civil(from).zip(civil(to)).and_then(|(a, b)| a.until((jiff::Unit::Year, b)).ok());
    let Some(span) = span else { return duration((to - from).unsigned_abs()) };
    let parts = [
        (i64::from(span.get_years()), "y"),
        (i64::from(span.get_months()), "mo"),
        (i64::from(span.get_days()), "d"),
        (i64::from(span.get_hours()), "h"),
        (span.get_minutes(), "m"),
        (span.get_seconds(), "s"),
    ];
    let mut shown = parts.iter().skip_while(|(n, _)| *n == 0).take(2).filter(|(n, _)| *n != 0);
    match (shown.next(), shown.next()) {
        (None, _) => "0s".into(),
        (Some((a, u)), None) => format!("{a}{u}"),
        (Some((a, u)), Some((b, v))) => format!("{a}{u} {b}{v}"),
    }
}

/// Parses a time given on the command line: Unix seconds or RFC 3339, from the year 0 to 9999.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let seconds = match text.parse::<i64>() {
        Ok(seconds) => seconds,
        Err(_) => text.parse::<Timestamp>().map(Timestamp::as_second).map_err(|e| {
            format!(
                "`{text}` is neither Unix seconds nor an RFC 3339 time such as 2020-05-21T07:33:11Z ({e})"
            )
        })?,
    };
    if (YEAR_ZERO..=MAX_SECONDS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(format!("`{text}` is outside the years 0 to 9999"))
    }
}

/// Parses a duration given on the command line: a number and a unit, repeated: `90s`, `1h30m`,
/// `30d`, `2w`, `10y` (a year is 365 days). Returns seconds; milliseconds are refused.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let millis = parse_millis(text)?;
    if millis % 1000 != 0 {
        return Err(format!("`{text}` is not a whole number of seconds"));
    }
    Ok(millis / 1000)
}

/// [`parse_duration`] in milliseconds, with `ms` as a unit too: `100ms`, `5s`, `2m`, `1h`.
pub fn parse_millis(text: &str) -> Result<i64, String> {
    let error = || format!("`{text}` is not a duration such as 100ms, 90s, 1h30m, 30d or 10y");
    let mut total: i64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(error());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let number: i64 = rest[..digits].parse().map_err(|_| error())?;
        rest = &rest[digits..];
        let unit = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let millis = match &rest[..unit] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return Err(error()),
        };
        rest = &rest[unit..];
        total = number.checked_mul(millis).and_then(|n| total.checked_add(n)).ok_or_else(error)?;
    }
    Ok(total)
}

/// Resolves a zone given on the command line: `UTC`, `local`, or an IANA name.
pub fn parse_zone(name: &str) -> Result<TimeZone, String> {
    match name {
        "UTC" | "utc" | "Z" | "z" => Ok(TimeZone::UTC),
        "local" => Ok(TimeZone::system()),
        _ => match fixed_offset(name) {
            Some(seconds) => jiff::tz::Offset::from_seconds(seconds)
                .map(TimeZone::fixed)
                .map_err(|e| format!("the offset `{name}` is out of range ({e})")),
            None => TimeZone::get(name).map_err(|e| {
                format!("unknown time zone `{name}` ({e}); give an IANA name, UTC, local or an offset such as +08:00")
            }),
        },
    }
}

/// A fixed offset from UTC, `+08:00`, `-0500` or `+8`, in seconds.
fn fixed_offset(text: &str) -> Option<i32> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|&c| c != ':').collect();
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // `+8`, `+08`: hours; `+0800`, `+08:00`: hours and minutes.
    let (hours, minutes) =
        if digits.len() <= 2 { (&digits[..], "0") } else { digits.split_at(digits.len() - 2) };
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_take_names_and_fixed_offsets() {
        let offset = |zone: &str| parse_zone(zone).unwrap().to_offset(Timestamp::UNIX_EPOCH).seconds();
        assert_eq!(offset("+08:00"), 8 * 3600);
        assert_eq!(offset("-0500"), -5 * 3600);
        assert_eq!(offset("+0530"), 5 * 3600 + 30 * 60);
        assert_eq!(offset("+8"), 8 * 3600);
        assert_eq!(offset("Z"), 0);
        assert_eq!(offset("Asia/Shanghai"), 8 * 3600);
        assert!(parse_zone("+08:75").is_err());
        assert!(parse_zone("+99:00").is_err());
        assert!(parse_zone("Mars/Olympus").unwrap_err().contains("an offset such as +08:00"));
    }

    #[test]
    fn durations() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(23), "23s");
        assert_eq!(duration(245), "4m 05s");
        assert_eq!(duration(3725), "1h 02m 05s");
        assert_eq!(duration(86_400 * 3 + 4 * 3600 + 5 * 60 + 6), "3d 04h 05m 06s");
        assert_eq!(duration(86_400), "1d 00h 00m 00s");
        assert_eq!(duration(3600), "1h 00m 00s");
        assert_eq!(duration(u64::MAX), "213503982334601d 07h 00m 15s");
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
    fn fast_formatting_agrees_with_jiff() {
        let shanghai = parse_zone("Asia/Shanghai").unwrap();
        let new_york = parse_zone("America/New_York").unwrap();
        let mut t: u64 = 0;
        while t < MAX_SECONDS as u64 {
            let ts = Timestamp::from_second(t as i64).unwrap();
            assert_eq!(rfc3339(t), ts.to_string(), "{t}");
            for zone in [&shanghai, &new_york, &TimeZone::UTC] {
                let want = ts.to_zoned_datetime(zone.clone()).strftime("%Y-%m-%d %H:%M:%S %:z").to_string();
                assert_eq!(local(t, zone), want, "{t}");
            }
            t = t * 3 + 86_399;
        }
        assert_eq!(rfc3339(MAX_SECONDS as u64), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(MAX_SECONDS as u64 + 1), "253402300800");
    }

    #[test]
    fn ages_count_months_on_the_calendar() {
        let at = |text: &str| text.parse::<Timestamp>().unwrap().as_second();
        // A month is counted only once the same day of the month is reached again.
        assert_eq!(age(at("2021-01-31T00:00:00Z"), at("2021-02-28T00:00:00Z")), "28d");
        assert_eq!(age(at("2021-01-15T00:00:00Z"), at("2021-03-16T06:00:00Z")), "2mo 1d");
        assert_eq!(age(at("2020-02-29T12:00:00Z"), at("2021-02-28T12:00:00Z")), "11mo 30d");
        assert_eq!(age(at("2019-12-31T23:59:50Z"), at("2020-01-01T00:00:05Z")), "15s");
    }

    #[test]
    fn durations_on_the_command_line() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("30d"), Ok(30 * 86_400));
        assert_eq!(parse_duration("10y"), Ok(3650 * 86_400));
        for bad in ["", "10", "h", "5x", "1.5h", "-3d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn command_line_times() {
        assert_eq!(parse_time("1588040109"), Ok(1588040109));
        assert_eq!(parse_time("2020-04-28T02:15:09Z"), Ok(1588040109));
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("9223372036854775807").is_err());
        assert!(parse_time("-62167219201").is_err());
    }
}
