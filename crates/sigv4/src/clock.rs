//! Request timestamps: parsing `X-Amz-Date` / `Date`, formatting them back, and the freshness rules.
//!
//! Header-signed requests must be within [`MAX_SKEW`] of the server clock; presigned requests are
//! valid from `MAX_SKEW` before their timestamp until `X-Amz-Expires` seconds after it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::SigV4Error;

/// How far the request time may be from the server clock, either way.
pub(crate) const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// The longest `X-Amz-Expires` AWS accepts: seven days.
pub(crate) const MAX_EXPIRES_SECS: u64 = 7 * 24 * 60 * 60;

/// Parses an ISO-8601 basic timestamp, `yyyymmddThhmmssZ`, the only form SigV4 signs.
pub(crate) fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 16
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z';
    if !shape_ok {
        return None;
    }
    let num = |range: std::ops::Range<usize>| s.get(range)?.parse::<u16>().ok();
    let date = Date::from_calendar_date(
        i32::from(num(0..4)?),
        Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?,
        u8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    let time = Time::from_hms(
        u8::try_from(num(9..11)?).ok()?,
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(13..15)?).ok()?,
    )
    .ok()?;
    from_offset(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Parses an HTTP `Date` header: the IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`),
/// or the ISO-8601 basic form some clients put there.
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    if let Some(t) = parse_amz_date(s) {
        return Some(t);
    }
    let mut words = s.split_ascii_whitespace();
    let _weekday = words.next().filter(|w| w.ends_with(','))?;
    let day: u8 = words.next()?.parse().ok()?;
    let month = match words.next()? {
        "Jan" => Month::January,
        "Feb" => Month::February,
        "Mar" => Month::March,
        "Apr" => Month::April,
        "May" => Month::May,
        "Jun" => Month::June,
        "Jul" => Month::July,
        "Aug" => Month::August,
        "Sep" => Month::September,
        "Oct" => Month::October,
        "Nov" => Month::November,
        "Dec" => Month::December,
        _ => return None,
    };
    let year: i32 = words.next()?.parse().ok()?;
    let mut hms = words.next()?.split(':').map(|n| n.parse::<u8>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || words.next()? != "GMT" || words.next().is_some() {
        return None;
    }
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(h, m, sec).ok()?;
    from_offset(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Formats a time as `yyyymmddThhmmssZ` (whole seconds, UTC).
pub(crate) fn format_amz_date(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok(),
        Err(e) => i64::try_from(e.duration().as_secs()).ok().map(|s| -s),
    };
    match secs.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()) {
        Some(dt) => format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        ),
        None => "(out of range)".to_owned(),
    }
}

/// Header authentication: the request time must be within [`MAX_SKEW`] of `now`.
pub(crate) fn check_skew(request_time: SystemTime, now: SystemTime) -> Result<(), SigV4Error> {
    check_not_before(request_time, now)?;
    if let Ok(age) = now.duration_since(request_time) {
        if age > MAX_SKEW {
            let limit = now.checked_sub(MAX_SKEW).unwrap_or(UNIX_EPOCH);
            return Err(SigV4Error::Expired(format!(
                "Signature expired: {} is now earlier than {} ({} - 5 min.)",
                format_amz_date(request_time),
                format_amz_date(limit),
                format_amz_date(now)
            )));
        }
    }
    Ok(())
}

/// Query (presigned) authentication: valid from [`MAX_SKEW`] before the request time until
/// `expires` after it; without `X-Amz-Expires` the header rule applies.
pub(crate) fn check_presigned(
    request_time: SystemTime,
    expires: Option<Duration>,
    now: SystemTime,
) -> Result<(), SigV4Error> {
    let Some(expires) = expires else {
        return check_skew(request_time, now);
    };
    check_not_before(request_time, now)?;
    let expiry = request_time.checked_add(expires);
    if expiry.is_none_or(|expiry| now > expiry) {
        return Err(SigV4Error::Expired(format!(
            "Signature expired: {} is now earlier than {} ({} + {} s X-Amz-Expires)",
            expiry.map_or_else(|| "(out of range)".to_owned(), format_amz_date),
            format_amz_date(now),
            format_amz_date(request_time),
            expires.as_secs()
        )));
    }
    Ok(())
}

fn check_not_before(request_time: SystemTime, now: SystemTime) -> Result<(), SigV4Error> {
    if let Ok(ahead) = request_time.duration_since(now) {
        if ahead > MAX_SKEW {
            let limit = now.checked_add(MAX_SKEW).unwrap_or(now);
            return Err(SigV4Error::Expired(format!(
                "Signature not yet current: {} is still later than {} ({} + 5 min.)",
                format_amz_date(request_time),
                format_amz_date(limit),
                format_amz_date(now)
            )));
        }
    }
    Ok(())
}

fn from_offset(dt: OffsetDateTime) -> Option<SystemTime> {
    let secs = u64::try_from(dt.unix_timestamp()).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SystemTime {
        parse_amz_date(s).expect("valid test timestamp")
    }

    #[test]
    fn amz_date_round_trips() {
        let t = at("20150830T123600Z");
        assert_eq!(
            t.duration_since(UNIX_EPOCH).expect("after epoch").as_secs(),
            1_440_938_160
        );
        assert_eq!(format_amz_date(t), "20150830T123600Z");
    }

    #[test]
    fn amz_date_rejects_other_shapes() {
        for bad in [
            "",
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20151330T123600Z",
            "20150830T256000Z",
            "+2015083T123600Z",
            "20150830t123600Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn http_date_accepts_imf_fixdate_and_basic_form() {
        assert_eq!(
            parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"),
            Some(at("20150830T123600Z"))
        );
        assert_eq!(
            parse_http_date("20150830T123600Z"),
            Some(at("20150830T123600Z"))
        );
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 PST"), None);
        assert_eq!(parse_http_date("30 Aug 2015 12:36:00 GMT"), None);
    }

    #[test]
    fn skew_window_is_five_minutes_each_way() {
        let now = at("20240101T001000Z");
        assert_eq!(check_skew(at("20240101T000500Z"), now), Ok(()));
        assert_eq!(check_skew(at("20240101T001500Z"), now), Ok(()));
        assert_eq!(
            check_skew(at("20240101T000000Z"), now),
            Err(SigV4Error::Expired(
                "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z \
                 (20240101T001000Z - 5 min.)"
                    .into()
            ))
        );
        assert_eq!(
            check_skew(at("20240101T002000Z"), now),
            Err(SigV4Error::Expired(
                "Signature not yet current: 20240101T002000Z is still later than \
                 20240101T001500Z (20240101T001000Z + 5 min.)"
                    .into()
            ))
        );
    }

    #[test]
    fn presigned_window_honours_expires() {
        let signed = at("20240101T000000Z");
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(
            check_presigned(signed, hour, at("20240101T005959Z")),
            Ok(())
        );
        assert_eq!(
            check_presigned(signed, hour, at("20240101T010000Z")),
            Ok(())
        );
        assert!(matches!(
            check_presigned(signed, hour, at("20240101T010001Z")),
            Err(SigV4Error::Expired(_))
        ));
        assert!(matches!(
            check_presigned(signed, hour, at("20231231T235400Z")),
            Err(SigV4Error::Expired(_))
        ));
        assert!(matches!(
            check_presigned(signed, None, at("20240101T000601Z")),
            Err(SigV4Error::Expired(_))
        ));
    }
}
