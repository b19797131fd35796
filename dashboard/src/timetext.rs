//! Times and schedules as operators type them, read in a site's time zone.
//!
//! Accepted times: `now`, a relative `+30m`, `+8h`, `+30d`, `+2w`, `+1d 12h` (from now, read
//! by jiff's span parser and added with checked arithmetic), a date `2026-12-24`
//! (local midnight), a local time `2026-12-24T08:00`, or RFC 3339 with an offset
//! (`2026-12-24T07:00:00Z`). Schedules: windows separated by `;` or `,`, each days and hours:
//! `mon-fri 07:00-22:00; sat,sun 10:00-16:00` (`24:00` ends a window at midnight).

use bygd_protocol::{Schedule, TimeWindow, MINUTES_PER_DAY};
use jiff::tz::TimeZone;

/// The longest relative time accepted: passes of more than ten years are a typo.
const MAX_RELATIVE_SECONDS: i64 = 10 * 366 * 86_400;

/// What [`parse_time`] accepts, for its error messages.
const EXPECTED: &str = "expected `now`, a span ahead like `+30m`, `+8h`, `+30d`, `+2w` or \
                        `+1d 12h`, a date `2026-12-24`, a local time `2026-12-24T08:00` or \
                        RFC 3339 like `2026-12-24T07:00:00Z`";

/// A relative time `+SPAN` (`rest` is the span) read by jiff's span parser and added to
/// `now` in the site's zone with checked arithmetic: any text, however long or odd, gives
/// an error rather than a panic or an overflow.
fn relative(text: &str, rest: &str, zone: &TimeZone, now: i64) -> Result<i64, String> {
    let span: jiff::Span = rest
        .parse()
        .map_err(|e| format!("`{text}` is not a time span ({e}): {EXPECTED}"))?;
    if span.is_negative() {
        return Err(format!(
            "`{text}` points into the past; a relative time is `+` and a span ahead"
        ));
    }
    let start = jiff::Timestamp::from_second(now)
        .map_err(|e| format!("the current time {now} is out of range: {e}"))?
        .to_zoned(zone.clone());
    let too_far = || format!("`{text}` is too far ahead (at most ten years)");
    let end = start.checked_add(span).map_err(|_| too_far())?;
    let seconds = end.timestamp().as_second();
    match seconds.checked_sub(now) {
        Some(ahead) if ahead <= MAX_RELATIVE_SECONDS => Ok(seconds),
        _ => Err(too_far()),
    }
}

/// The time `text` names, as Unix seconds, reading local forms in `zone`.
pub(crate) fn parse_time(text: &str, zone: &TimeZone, now: i64) -> Result<i64, String> {
    let text = text.trim();
    if text == "now" {
        return Ok(now);
    }
    if let Some(rest) = text.strip_prefix('+') {
        return relative(text, rest, zone, now);
    }
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    // A date alone is local midnight; jiff reads `2026-12-24` as a DateTime at 00:00.
    let civil = if let Ok(datetime) = text.parse::<jiff::civil::DateTime>() {
        datetime
    } else if let Ok(date) = text.parse::<jiff::civil::Date>() {
        date.to_datetime(jiff::civil::Time::midnight())
    } else {
        return Err(format!("`{text}` is not a time: {EXPECTED}"));
    };
    civil
        .to_zoned(zone.clone())
        .map(|z| z.timestamp().as_second())
        .map_err(|e| format!("`{text}` does not exist in the site's time zone: {e}"))
}

/// An optional time field: `None` stays `None`; a bad one says which field.
pub(crate) fn parse_field(
    field: &str,
    text: Option<&str>,
    zone: &TimeZone,
    now: i64,
) -> Result<Option<i64>, (String, String)> {
    text.map(|t| parse_time(t, zone, now))
        .transpose()
        .map_err(|e| (field.to_owned(), e))
}

/// `time` (Unix seconds) as `2026-12-24 08:00:00 CET` in `zone`.
#[must_use]
pub(crate) fn format_time(time: i64, zone: &TimeZone) -> String {
    jiff::Timestamp::from_second(time)
        .map(|t| {
            t.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        })
        .unwrap_or_else(|_| time.to_string())
}

/// `time` (Unix seconds) as RFC 3339 UTC, for JSON and CSV.
#[must_use]
pub(crate) fn rfc3339(time: i64) -> String {
    jiff::Timestamp::from_second(time)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| time.to_string())
}

/// A site's time zone by IANA name.
pub(crate) fn zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name)
        .map_err(|_| format!("`{name}` is not an IANA time zone; use a name like Europe/Stockholm"))
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day(text: &str) -> Result<u8, String> {
    let lower = text.to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|d| lower.starts_with(d))
        .and_then(|i| u8::try_from(i).ok())
        .ok_or_else(|| format!("`{text}` is not a day: use mon, tue, wed, thu, fri, sat, sun"))
}

fn days(text: &str) -> Result<u8, String> {
    let mut mask = 0u8;
    for part in text.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from)?, day(to)?);
                let mut d = from;
                loop {
                    mask |= 1 << d;
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => mask |= 1 << day(part)?,
        }
    }
    if mask == 0 {
        return Err(format!("`{text}` names no day"));
    }
    Ok(mask)
}

fn minute(text: &str) -> Result<u16, String> {
    let (h, m) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not a time of day like 07:00"))?;
    let (h, m): (u16, u16) = (
        h.parse()
            .map_err(|_| format!("`{text}` is not a time of day like 07:00"))?,
        m.parse()
            .map_err(|_| format!("`{text}` is not a time of day like 07:00"))?,
    );
    let total = h * 60 + m;
    if m >= 60 || total > MINUTES_PER_DAY {
        return Err(format!("`{text}` is not a time of day (00:00 to 24:00)"));
    }
    Ok(total)
}

/// Parses a weekly schedule (see the module docs).
pub(crate) fn parse_schedule(text: &str) -> Result<Schedule, String> {
    let mut windows = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (day_text, hours) = part.rsplit_once(' ').ok_or_else(|| {
            format!("`{part}`: expected days and hours, like `mon-fri 07:00-22:00`")
        })?;
        let mask = if day_text.trim() == "daily" {
            0b111_1111
        } else {
            days(&day_text.replace(' ', ""))?
        };
        let (start, end) = hours
            .split_once('-')
            .ok_or_else(|| format!("`{hours}`: expected hours like 07:00-22:00"))?;
        let (start, end) = (minute(start)?, minute(end)?);
        let window = TimeWindow::from_mask(mask, start, end)
            .ok_or_else(|| format!("`{part}`: the window must start before it ends"))?;
        windows.push(window);
    }
    Schedule::new(windows).ok_or_else(|| {
        "a schedule needs at least one window, like `mon-fri 07:00-22:00`".to_owned()
    })
}

/// A schedule as [`parse_schedule`] reads it.
#[must_use]
pub(crate) fn schedule_text(schedule: &Schedule) -> String {
    schedule
        .windows()
        .iter()
        .map(|w| {
            let days: Vec<&str> = (0..7u8)
                .filter(|d| w.days() & (1 << d) != 0)
                .filter_map(|d| DAY_NAMES.get(usize::from(d)).copied())
                .collect();
            format!(
                "{} {:02}:{:02}-{:02}:{:02}",
                days.join(","),
                w.start() / 60,
                w.start() % 60,
                w.end() / 60,
                w.end() % 60
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;

    #[test]
    fn local_dates_and_times_are_read_in_the_site_zone() {
        let stockholm = zone("Europe/Stockholm").unwrap();
        // 2026-12-24 is in winter time, UTC+1.
        assert_eq!(
            parse_time("2026-12-24", &stockholm, NOW).unwrap(),
            parse_time("2026-12-23T23:00:00Z", &stockholm, NOW).unwrap()
        );
        assert_eq!(
            parse_time("2026-12-24T08:30", &stockholm, NOW).unwrap(),
            parse_time("2026-12-24T07:30:00Z", &stockholm, NOW).unwrap()
        );
    }

    #[test]
    fn relative_times_count_from_now() {
        let utc = TimeZone::UTC;
        assert_eq!(parse_time("now", &utc, NOW), Ok(NOW));
        assert_eq!(parse_time("+30d", &utc, NOW), Ok(NOW + 30 * 86_400));
        assert_eq!(parse_time("+2h", &utc, NOW), Ok(NOW + 7200));
        assert_eq!(parse_time("+2w", &utc, NOW), Ok(NOW + 14 * 86_400));
        assert_eq!(parse_time("+1d 12h", &utc, NOW), Ok(NOW + 36 * 3600));
        assert!(parse_time("+99999d", &utc, NOW)
            .unwrap_err()
            .contains("ten years"));
    }

    #[test]
    fn a_relative_time_with_a_character_of_several_bytes_is_an_error_not_a_panic() {
        for text in ["+5é", "+é", "+", "+日", "+5日", "+\u{1F600}d", "+-5d", "+ "] {
            let e = parse_time(text, &TimeZone::UTC, NOW).unwrap_err();
            assert!(e.contains(text.trim()), "{text}: {e}");
        }
    }

    #[test]
    fn a_huge_relative_time_is_refused_without_overflow() {
        for text in [
            "+106751991167301d",
            "+9223372036854775807m",
            "+7304484d",
            "+175307616h",
            "+19998y",
        ] {
            let e = parse_time(text, &TimeZone::UTC, NOW).unwrap_err();
            assert!(e.contains(text), "{text}: {e}");
        }
        assert!(parse_time("+3661d", &TimeZone::UTC, NOW)
            .unwrap_err()
            .contains("ten years"));
        assert!(parse_time("+10d", &TimeZone::UTC, i64::MAX).is_err());
    }

    #[test]
    fn a_bad_time_says_what_forms_are_accepted() {
        let e = parse_time("tomorrow", &TimeZone::UTC, NOW).unwrap_err();
        assert!(e.contains("`tomorrow`") && e.contains("2026-12-24"), "{e}");
    }

    #[test]
    fn schedules_parse_and_print_back() {
        let s = parse_schedule("mon-fri 07:00-22:00; sat,sun 10:00-16:00").unwrap();
        assert_eq!(s.windows().len(), 2);
        assert_eq!(s.windows()[0].days(), 0b001_1111);
        assert_eq!(s.windows()[1].days(), 0b110_0000);
        assert_eq!((s.windows()[0].start(), s.windows()[0].end()), (420, 1320));
        assert_eq!(
            schedule_text(&s),
            "mon,tue,wed,thu,fri 07:00-22:00; sat,sun 10:00-16:00"
        );
        assert_eq!(parse_schedule(&schedule_text(&s)).unwrap(), s);
        let wrap = parse_schedule("fri-mon 18:00-24:00").unwrap();
        assert_eq!(wrap.windows()[0].days(), 0b111_0001);
        assert_eq!(
            parse_schedule("daily 00:00-24:00").unwrap().windows()[0].days(),
            0x7f
        );
    }

    #[test]
    fn bad_schedules_say_which_part_is_wrong() {
        assert!(parse_schedule("")
            .unwrap_err()
            .contains("at least one window"));
        assert!(parse_schedule("someday 07:00-08:00")
            .unwrap_err()
            .contains("not a day"));
        assert!(parse_schedule("mon 09:00-08:00")
            .unwrap_err()
            .contains("start before"));
        assert!(parse_schedule("mon 07:00-25:00")
            .unwrap_err()
            .contains("00:00 to 24:00"));
        assert!(parse_schedule("mon")
            .unwrap_err()
            .contains("days and hours"));
    }
}
