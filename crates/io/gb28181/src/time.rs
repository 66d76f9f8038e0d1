//! Local time for GB/T 28181: `Date` headers and MANSCDP times are wall-clock times in the
//! platform's zone (`Asia/Shanghai` unless configured), without an offset.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The configured zone; an unknown name is a configuration error.
pub fn zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("gb28181.timezone: {name:?} is not a time zone name"))
}

/// `now` as the local wall-clock time of `tz`.
pub fn local(tz: Tz, now: DateTime<Utc>) -> NaiveDateTime {
    now.with_timezone(&tz).naive_local()
}

/// The `Date` header value of a `200 OK` to REGISTER: `2020-04-21T10:52:55.103`.
pub fn date_header(tz: Tz, now: DateTime<Utc>) -> String {
    local(tz, now).format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// A device's local time (e.g. `AlarmTime`) in UTC; an impossible local time gives `None`.
pub fn to_utc(tz: Tz, t: NaiveDateTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&t)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_is_eight_hours_ahead() {
        let tz = zone("Asia/Shanghai").unwrap_or(Tz::UTC);
        let now = DateTime::from_timestamp(1_587_466_375, 103_000_000).unwrap_or_default();
        assert_eq!(date_header(tz, now), "2020-04-21T18:52:55.103");
        let back = to_utc(tz, local(tz, now)).unwrap_or_default();
        assert_eq!(back, now);
        assert!(zone("Mars/Olympus").is_err());
    }
}
