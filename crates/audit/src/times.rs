//! Text forms of time used by the trail: RFC 3339 (event times, digest
//! times) and the compact UTC stamp inside file names.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

/// `ms` as RFC 3339 in UTC, with fractional seconds only when non-zero
/// (`2025-01-02T03:04:05Z`, `2025-01-02T03:04:05.678Z`). Out-of-range
/// values give the epoch.
pub(crate) fn format_rfc3339(ms: i64) -> String {
    to_datetime(ms)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Epoch milliseconds of an RFC 3339 text, `None` if it is not one.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The stamp in file names: `20250102T030405Z` (UTC, to the second).
pub(crate) fn file_stamp(ms: i64) -> String {
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    to_datetime(ms)
        .format(&fmt)
        .unwrap_or_else(|_| "19700101T000000Z".to_owned())
}

fn to_datetime(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_rfc3339() {
        assert_eq!(format_rfc3339(1_735_787_045_000), "2025-01-02T03:04:05Z");
        assert_eq!(
            format_rfc3339(1_735_787_045_678),
            "2025-01-02T03:04:05.678Z"
        );
        assert_eq!(
            parse_rfc3339("2025-01-02T03:04:05Z"),
            Some(1_735_787_045_000)
        );
        assert_eq!(
            parse_rfc3339("2025-01-02T04:04:05+01:00"),
            Some(1_735_787_045_000)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn file_stamp_is_compact_utc() {
        assert_eq!(file_stamp(1_735_787_045_678), "20250102T030405Z");
    }
}
