//! When a session happened: an instant plus the UTC offset of the place it happened, so
//! that "morning" and "which day" mean the user's local time, not the machine's later on.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::fmt::temporal::Pieces;
use jiff::tz::{Offset, TimeZone};

/// A session's start: unix seconds and the local UTC offset at that moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime {
    pub unix_s: i64,
    pub utc_offset_s: i32,
}

impl LocalTime {
    /// Parse RFC 3339 (`2026-03-02T07:30:00+01:00`, or `Z` for UTC).
    pub fn parse(text: &str) -> Result<LocalTime, String> {
        let text = text.trim();
        let pieces = Pieces::parse(text).map_err(|e| format!("`{text}` is not an RFC 3339 time ({e})"))?;
        let offset = pieces
            .offset()
            .map(|o| o.to_numeric_offset())
            .ok_or_else(|| format!("`{text}` has no UTC offset; write it like 2026-03-02T07:30:00+01:00"))?;
        let time = pieces.time().ok_or_else(|| format!("`{text}` has no time of day"))?;
        let civil = DateTime::from_parts(pieces.date(), time);
        let ts = offset
            .to_timestamp(civil)
            .map_err(|e| format!("`{text}` is out of range ({e})"))?;
        Ok(LocalTime {
            unix_s: ts.as_second(),
            utc_offset_s: offset.seconds(),
        })
    }

    /// An instant in the system's time zone (used for "now" and file times).
    pub fn from_system(ts: Timestamp) -> LocalTime {
        let offset = TimeZone::system().to_offset(ts);
        LocalTime {
            unix_s: ts.as_second(),
            utc_offset_s: offset.seconds(),
        }
    }

    pub fn now() -> LocalTime {
        LocalTime::from_system(Timestamp::now())
    }

    pub fn from_file_time(time: std::time::SystemTime) -> Option<LocalTime> {
        Timestamp::try_from(time).ok().map(LocalTime::from_system)
    }

    fn offset(self) -> Offset {
        Offset::from_seconds(self.utc_offset_s).unwrap_or(Offset::UTC)
    }

    fn timestamp(self) -> Timestamp {
        Timestamp::from_second(self.unix_s).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The civil (wall-clock) time where the session happened.
    pub fn civil(self) -> DateTime {
        self.offset().to_datetime(self.timestamp())
    }

    /// Local day number: days since 1970-01-01 in local time (for calendars and weeks).
    pub fn local_day(self) -> i64 {
        (self.unix_s + i64::from(self.utc_offset_s)).div_euclid(86_400)
    }

    /// Hours since local midnight, 0..24.
    pub fn local_hour(self) -> f64 {
        (self.unix_s + i64::from(self.utc_offset_s)).rem_euclid(86_400) as f64 / 3600.0
    }

    /// Days (fractional) since the unix epoch in local time: the plots' x axis.
    pub fn local_days_f64(self) -> f64 {
        (self.unix_s + i64::from(self.utc_offset_s)) as f64 / 86_400.0
    }

    /// `2026-03-02 07:30` (local).
    pub fn short(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            c.year(),
            c.month(),
            c.day(),
            c.hour(),
            c.minute()
        )
    }
}

impl fmt::Display for LocalTime {
    /// RFC 3339 with the local offset.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.timestamp().display_with_offset(self.offset()))
    }
}

/// Local day number → `2026-03-02`.
pub fn day_label(local_day: i64) -> String {
    let ts = Timestamp::from_second(local_day * 86_400).unwrap_or(Timestamp::UNIX_EPOCH);
    let c = Offset::UTC.to_datetime(ts);
    format!("{:04}-{:02}-{:02}", c.year(), c.month(), c.day())
}

/// Local day number → (year, month 1..12, day 1..31, weekday 0 = Monday).
pub fn day_parts(local_day: i64) -> (i16, i8, i8, i8) {
    let ts = Timestamp::from_second(local_day * 86_400).unwrap_or(Timestamp::UNIX_EPOCH);
    let c = Offset::UTC.to_datetime(ts);
    (c.year(), c.month(), c.day(), c.weekday().to_monday_zero_offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_rfc3339_with_offset() {
        let t = LocalTime::parse("2026-03-02T07:30:00+01:00").unwrap();
        assert_eq!(t.utc_offset_s, 3600);
        assert_eq!(t.to_string(), "2026-03-02T07:30:00+01:00");
        assert_eq!(t.short(), "2026-03-02 07:30");
        assert!((t.local_hour() - 7.5).abs() < 1e-9);
        assert_eq!(day_label(t.local_day()), "2026-03-02");
        let z = LocalTime::parse("2026-03-02T06:30:00Z").unwrap();
        assert_eq!(z.unix_s, t.unix_s);
        assert_eq!(z.utc_offset_s, 0);
    }

    #[test]
    fn local_day_follows_the_offset_not_utc() {
        // 23:30 local on 1 March in UTC-5 is already 2 March in UTC.
        let t = LocalTime::parse("2026-03-01T23:30:00-05:00").unwrap();
        assert_eq!(day_label(t.local_day()), "2026-03-01");
        assert_eq!(day_parts(t.local_day()), (2026, 3, 1, 6));
    }

    #[test]
    fn refuses_times_without_an_offset() {
        assert!(LocalTime::parse("2026-03-02T07:30:00").is_err());
        assert!(LocalTime::parse("yesterday").is_err());
    }
}
