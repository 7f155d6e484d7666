//! [`Timestamp`]: a point in time stored in the fixed-width form Cosmos DB recommends, so that
//! comparing and sorting the stored strings compares and sorts the times.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds from 0001-01-01T00:00:00Z to the Unix epoch.
const MIN_SECONDS: i64 = -62_135_596_800;
/// Seconds from the Unix epoch to 9999-12-31T23:59:59Z.
const MAX_SECONDS: i64 = 253_402_300_799;
/// Nanoseconds in the smallest step the stored form holds (seven fractional digits).
const TICK_NANOS: u32 = 100;

/// A point in time, stored as Cosmos DB recommends for dates: ISO 8601 in UTC with seven
/// fractional digits, `2026-11-26T10:55:00.1234567Z`.
///
/// Fixed width matters: Cosmos DB compares and sorts these strings as strings. chrono's and
/// time's default forms write as many fractional digits as needed, so `...:00.5Z` sorts before
/// `...:00Z` and a `created_at.gt(t)` filter misses documents. A `Timestamp` field sorts and
/// filters in time order on both stores: `f.created_at.gt(t)`, `order_by(f.created_at.desc())`.
///
/// It holds years 0001 to 9999 at 100 ns (Cosmos DB's precision); finer times are truncated.
/// It reads any RFC 3339 form (other offsets and precisions included), so documents written
/// before can be read. With the `chrono` or `time` feature it converts to and from
/// `chrono::DateTime<Utc>` and `time::OffsetDateTime`.
///
/// # Examples
///
/// ```
/// use cosmos_repo::Timestamp;
///
/// let t = Timestamp::from_unix(1_700_000_000, 500_000_000).unwrap();
/// assert_eq!(t.to_string(), "2023-11-14T22:13:20.5000000Z");
/// let parsed: Timestamp = "2023-11-14T23:13:20.5+01:00".parse().unwrap();
/// assert_eq!(parsed, t);
/// assert!(Timestamp::from_unix(1_700_000_000, 0).unwrap() < t);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    seconds: i64,
    /// Nanoseconds into the second, a multiple of 100.
    nanos: u32,
}

impl Timestamp {
    /// The time `seconds` and `nanos` after the Unix epoch (`seconds` may be negative), to 100
    /// ns; `None` outside years 0001 to 9999, or for `nanos` of a second or more.
    pub fn from_unix(seconds: i64, nanos: u32) -> Option<Timestamp> {
        ((MIN_SECONDS..=MAX_SECONDS).contains(&seconds) && nanos < 1_000_000_000).then_some(
            Timestamp {
                seconds,
                nanos: nanos - nanos % TICK_NANOS,
            },
        )
    }

    /// The current time, from the system clock (a clock set past year 9999 reads as its end).
    pub fn now() -> Timestamp {
        Timestamp::try_from(SystemTime::now()).unwrap_or(Timestamp {
            seconds: MAX_SECONDS,
            nanos: 999_999_900,
        })
    }

    /// Seconds since the Unix epoch (negative before it).
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// Nanoseconds into the second, a multiple of 100.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }
}

impl TryFrom<SystemTime> for Timestamp {
    type Error = TimestampError;

    fn try_from(time: SystemTime) -> Result<Self, Self::Error> {
        let (seconds, nanos) = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => (i64::try_from(after.as_secs()).ok(), after.subsec_nanos()),
            Err(before) => {
                let before = before.duration();
                let whole = i64::try_from(before.as_secs()).ok();
                match before.subsec_nanos() {
                    0 => (whole.map(|s| -s), 0),
                    nanos => (whole.map(|s| -s - 1), 1_000_000_000 - nanos),
                }
            }
        };
        seconds
            .and_then(|seconds| Timestamp::from_unix(seconds, nanos))
            .ok_or(TimestampError::OutOfRange)
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> Self {
        let nanos = Duration::from_nanos(u64::from(t.nanos));
        match u64::try_from(t.seconds) {
            Ok(after) => UNIX_EPOCH + Duration::from_secs(after) + nanos,
            Err(_) => UNIX_EPOCH - Duration::from_secs(t.seconds.unsigned_abs()) + nanos,
        }
    }
}

/// Why a time is not a [`Timestamp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimestampError {
    /// Before year 0001 or after year 9999, which the stored form cannot hold.
    OutOfRange,
    /// Not an RFC 3339 date and time, such as `2026-11-26T10:55:00Z`.
    Invalid,
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimestampError::OutOfRange => "time is outside years 0001 to 9999",
            TimestampError::Invalid => {
                "not an RFC 3339 date and time, such as 2026-11-26T10:55:00.1234567Z"
            }
        })
    }
}

impl std::error::Error for TimestampError {}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (`civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, second_of_day) = (
            self.seconds.div_euclid(86_400),
            self.seconds.rem_euclid(86_400),
        );
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:07}Z",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60,
            self.nanos / TICK_NANOS
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    /// Reads RFC 3339: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of up to nine digits, then
    /// `Z` or an offset `+HH:MM` / `-HH:MM` (`t` and `z` as well).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = TimestampError::Invalid;
        let bytes = text.as_bytes();
        let number = |range: std::ops::Range<usize>| -> Result<u32, TimestampError> {
            let digits = bytes.get(range).ok_or(invalid)?;
            digits.iter().try_fold(0, |n, d| match d {
                b'0'..=b'9' => Ok(n * 10 + u32::from(d - b'0')),
                _ => Err(invalid),
            })
        };
        let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
        if separators.iter().any(|&(at, c)| bytes.get(at) != Some(&c))
            || !matches!(bytes.get(10), Some(b'T' | b't'))
        {
            return Err(invalid);
        }
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let month_days = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        let valid_day = month
            .checked_sub(1)
            .and_then(|m| month_days.get(m as usize))
            .is_some_and(|&last| (1..=last).contains(&day));
        if !valid_day || hour > 23 || minute > 59 || second > 59 {
            return Err(invalid);
        }
        let mut at = 19;
        let mut nanos = 0;
        if bytes.get(at) == Some(&b'.') {
            let digits = bytes[at + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits == 0 || digits > 9 {
                return Err(invalid);
            }
            nanos = number(at + 1..at + 1 + digits)? * 10_u32.pow(9 - digits as u32);
            at += 1 + digits;
        }
        let offset = match bytes.get(at..) {
            Some(b"Z" | b"z") => 0,
            Some([sign @ (b'+' | b'-'), _, _, b':', _, _]) => {
                let (hours, minutes) = (number(at + 1..at + 3)?, number(at + 4..at + 6)?);
                if hours > 23 || minutes > 59 {
                    return Err(invalid);
                }
                let offset = i64::from(hours * 3600 + minutes * 60);
                if *sign == b'+' { offset } else { -offset }
            }
            _ => return Err(invalid),
        };
        let seconds = days_from_civil(i64::from(year), month, day) * 86_400
            + i64::from(hour * 3600 + minute * 60 + second)
            - offset;
        Timestamp::from_unix(seconds, nanos).ok_or(TimestampError::OutOfRange)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        text.parse()
            .map_err(|e| serde::de::Error::custom(format_args!("timestamp `{text}`: {e}")))
    }
}

#[cfg(feature = "chrono")]
mod chrono_conversions {
    use chrono::{DateTime, Utc};

    use super::{Timestamp, TimestampError};

    impl TryFrom<DateTime<Utc>> for Timestamp {
        type Error = TimestampError;

        fn try_from(time: DateTime<Utc>) -> Result<Self, Self::Error> {
            Timestamp::from_unix(time.timestamp(), time.timestamp_subsec_nanos())
                .ok_or(TimestampError::OutOfRange)
        }
    }

    impl From<Timestamp> for DateTime<Utc> {
        fn from(t: Timestamp) -> Self {
            DateTime::from_timestamp(t.seconds, t.nanos).unwrap_or(DateTime::<Utc>::MAX_UTC)
        }
    }
}

#[cfg(feature = "time")]
mod time_conversions {
    use time::OffsetDateTime;

    use super::{Timestamp, TimestampError};

    impl TryFrom<OffsetDateTime> for Timestamp {
        type Error = TimestampError;

        fn try_from(time: OffsetDateTime) -> Result<Self, Self::Error> {
            Timestamp::from_unix(time.unix_timestamp(), time.nanosecond())
                .ok_or(TimestampError::OutOfRange)
        }
    }

    impl From<Timestamp> for OffsetDateTime {
        fn from(t: Timestamp) -> Self {
            let nanos = i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos);
            OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_is_fixed_width_and_sorts_as_time() {
        let at = |s, n| Timestamp::from_unix(s, n).unwrap();
        let times = [
            at(MIN_SECONDS, 0),
            at(-1, 999_999_999),
            at(0, 0),
            at(1_700_000_000, 0),
            at(1_700_000_000, 50_000_000),
            at(1_700_000_000, 500_000_000),
            at(1_700_000_001, 0),
            at(MAX_SECONDS, 999_999_999),
        ];
        let texts: Vec<String> = times.iter().map(ToString::to_string).collect();
        assert_eq!(texts[0], "0001-01-01T00:00:00.0000000Z");
        assert_eq!(texts[1], "1969-12-31T23:59:59.9999999Z");
        assert_eq!(texts[2], "1970-01-01T00:00:00.0000000Z");
        assert_eq!(texts[5], "2023-11-14T22:13:20.5000000Z");
        assert_eq!(texts[7], "9999-12-31T23:59:59.9999999Z");
        assert!(texts.iter().all(|t| t.len() == 28), "{texts:?}");
        assert!(texts.windows(2).all(|w| w[0] < w[1]), "{texts:?}");
        for (time, text) in times.iter().zip(&texts) {
            assert_eq!(&text.parse::<Timestamp>().unwrap(), time);
        }
        // The variable-width form sorts the half second before the whole one.
        assert!("2023-11-14T22:13:20.5Z" < "2023-11-14T22:13:20Z");
    }

    #[test]
    fn every_rfc_3339_form_reads() {
        let t = Timestamp::from_unix(1_700_000_000, 123_456_700).unwrap();
        for text in [
            "2023-11-14T22:13:20.1234567Z",
            "2023-11-14T22:13:20.123456789Z",
            "2023-11-14t22:13:20.1234567z",
            "2023-11-15T00:13:20.1234567+02:00",
            "2023-11-14T21:13:20.1234567-01:00",
        ] {
            assert_eq!(text.parse::<Timestamp>(), Ok(t), "{text}");
        }
        for bad in [
            "",
            "2023-11-14",
            "2023-11-14 22:13:20Z",
            "2023-02-29T00:00:00Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20.1234567890Z",
            "2023-11-14T22:13:20",
            "2023-11-14T22:13:20+2:00",
            "2023-11-14T22:13:20Zjunk",
            "२०२३-11-14T22:13:20Z",
        ] {
            assert_eq!(
                bad.parse::<Timestamp>(),
                Err(TimestampError::Invalid),
                "{bad:?}"
            );
        }
        assert_eq!(
            "2024-02-29T00:00:00Z"
                .parse::<Timestamp>()
                .map(|t| t.unix_seconds()),
            Ok(1_709_164_800)
        );
        assert_eq!(
            "0001-01-01T00:00:00+00:01".parse::<Timestamp>(),
            Err(TimestampError::OutOfRange)
        );
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn chrono_converts_both_ways() {
        use chrono::{DateTime, Utc};
        let time = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        let t = Timestamp::try_from(time).unwrap();
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.1234567Z");
        let back: DateTime<Utc> = t.into();
        assert_eq!(
            back,
            DateTime::from_timestamp(1_700_000_000, 123_456_700).unwrap()
        );
        let far = DateTime::from_timestamp(MAX_SECONDS + 1, 0).unwrap();
        assert_eq!(Timestamp::try_from(far), Err(TimestampError::OutOfRange));
    }

    #[cfg(feature = "time")]
    #[test]
    fn time_converts_both_ways() {
        use time::OffsetDateTime;
        let time = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let t = Timestamp::try_from(time).unwrap();
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.1234567Z");
        let back: OffsetDateTime = t.into();
        assert_eq!(back.unix_timestamp_nanos(), 1_700_000_000_123_456_700);
    }

    #[test]
    fn system_time_converts_both_ways() {
        for (seconds, nanos) in [
            (0, 0),
            (-1, 500),
            (1_700_000_000, 999_999_900),
            (-86_401, 100),
        ] {
            let t = Timestamp::from_unix(seconds, nanos).unwrap();
            assert_eq!(Timestamp::try_from(SystemTime::from(t)), Ok(t));
        }
        assert_eq!(Timestamp::from_unix(0, 1_000_000_000), None);
        assert_eq!(Timestamp::from_unix(MAX_SECONDS + 1, 0), None);
        assert!(Timestamp::now() > Timestamp::from_unix(1_700_000_000, 0).unwrap());
    }
}
