//! Tenant settings (API.md §5.1): `GET /settings/v1` and `PUT /settings/v1`
//! (role Admin). The reporting interval of the conversation summaries, the
//! schedule of the two-way file, and the tenant's opening hours, from which
//! `after_hours_flag` is derived.
//!
//! A PUT replaces the whole object. Unknown fields are 400; every value out
//! of range or malformed (an unknown schedule or zone included) is 422 with
//! the field's path; a missing required field is 400, as everywhere else.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{ApiError, Result};
use crate::report::request::parse_json;
use crate::state::AppState;

/// When the two-way activity file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum FileSchedule {
    Daily,
    Weekly,
    /// On the first weekend after the month ends.
    Monthly,
}

/// One opening window of a weekday, `[from, to)` in the tenant's zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// `Monday` … `Sunday`.
    #[schema(value_type = String, example = "Monday")]
    pub day: String,
    /// `HH:MM`, from `00:00` to `23:59`.
    #[schema(example = "08:00")]
    pub from: String,
    /// `HH:MM` after `from`, up to `24:00`.
    #[schema(example = "18:00")]
    pub to: String,
}

/// Opening hours: a moment is after hours when, in `timeZone`, its date is
/// a holiday or it lies in none of that weekday's `open` windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AfterHours {
    #[schema(value_type = String, example = "Europe/London")]
    pub time_zone: String,
    pub open: Vec<Window>,
    /// `YYYY-MM-DD` dates, whole days after hours.
    #[schema(value_type = Vec<String>, example = json!(["2026-12-25"]))]
    pub holidays: Vec<String>,
}

/// The settings of a tenant (every key always present in answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// 1 to 48 (default 2).
    #[schema(minimum = 1, maximum = 48, example = 2)]
    pub reporting_interval_hours: u8,
    /// Default `Daily`.
    pub two_way_file_schedule: FileSchedule,
    /// Null when unset: nothing is after hours.
    pub after_hours: Option<AfterHours>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            reporting_interval_hours: 2,
            two_way_file_schedule: FileSchedule::Daily,
            after_hours: None,
        }
    }
}

/// The body of a PUT as sent: top-level keys checked here, values checked
/// by [`validate`] so that each bad value is a 422 naming its path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsBody {
    #[schema(value_type = u8, minimum = 1, maximum = 48)]
    pub reporting_interval_hours: Value,
    #[schema(value_type = FileSchedule)]
    pub two_way_file_schedule: Value,
    #[serde(default)]
    #[schema(value_type = Option<AfterHours>)]
    pub after_hours: Value,
}

fn unprocessable(path: impl Into<String>, message: impl Into<String>) -> ApiError {
    ApiError::unprocessable(path, message)
}

/// The keys of an object, refusing unknown ones (400) and missing required
/// ones (400), as the top level does.
fn object<'a>(
    value: &'a Value,
    path: &str,
    required: &[&str],
    optional: &[&str],
) -> Result<&'a Map<String, Value>> {
    let map = value
        .as_object()
        .ok_or_else(|| unprocessable(path, "must be an object"))?;
    if let Some(unknown) = map
        .keys()
        .find(|k| !required.contains(&k.as_str()) && !optional.contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(
            format!("{path}.{unknown}"),
            format!("unknown field `{unknown}`"),
        ));
    }
    if let Some(missing) = required.iter().find(|k| !map.contains_key(**k)) {
        return Err(ApiError::bad_request(
            format!("{path}.{missing}"),
            format!("missing field `{missing}`"),
        ));
    }
    Ok(map)
}

/// `HH:MM` as minutes since midnight; `24:00` only where `end` allows it.
fn minutes(value: &Value, path: &str, end: bool) -> Result<u32> {
    let text = value
        .as_str()
        .ok_or_else(|| unprocessable(path, "must be HH:MM"))?;
    if end && text == "24:00" {
        return Ok(24 * 60);
    }
    let time = NaiveTime::parse_from_str(text, "%H:%M")
        .ok()
        .filter(|_| text.len() == 5)
        .ok_or_else(|| unprocessable(path, format!("`{text}` is not a time HH:MM")))?;
    Ok(time.hour() * 60 + time.minute())
}

fn weekday(value: &Value, path: &str) -> Result<Weekday> {
    const DAYS: [(&str, Weekday); 7] = [
        ("Monday", Weekday::Mon),
        ("Tuesday", Weekday::Tue),
        ("Wednesday", Weekday::Wed),
        ("Thursday", Weekday::Thu),
        ("Friday", Weekday::Fri),
        ("Saturday", Weekday::Sat),
        ("Sunday", Weekday::Sun),
    ];
    let text = value.as_str().unwrap_or_default();
    DAYS.iter()
        .find(|(name, _)| *name == text)
        .map(|(_, day)| *day)
        .ok_or_else(|| unprocessable(path, "must be one of Monday … Sunday"))
}

fn after_hours(value: &Value) -> Result<Option<AfterHours>> {
    if value.is_null() {
        return Ok(None);
    }
    let map = object(value, "afterHours", &["timeZone", "open", "holidays"], &[])?;
    let zone = map["timeZone"].as_str().unwrap_or_default();
    if zone.parse::<Tz>().is_err() {
        return Err(unprocessable(
            "afterHours.timeZone",
            format!("unknown time zone `{zone}`, expected an IANA name"),
        ));
    }
    let windows = map["open"]
        .as_array()
        .ok_or_else(|| unprocessable("afterHours.open", "must be a list of windows"))?;
    let mut open = Vec::with_capacity(windows.len());
    let mut spans: Vec<(Weekday, u32, u32, usize)> = Vec::new();
    for (i, window) in windows.iter().enumerate() {
        let path = format!("afterHours.open[{i}]");
        let fields = object(window, &path, &["day", "from", "to"], &[])?;
        let day = weekday(&fields["day"], &format!("{path}.day"))?;
        let from = minutes(&fields["from"], &format!("{path}.from"), false)?;
        let to = minutes(&fields["to"], &format!("{path}.to"), true)?;
        if to <= from {
            return Err(unprocessable(
                format!("{path}.to"),
                "must be after `from` (a window lies within one day)",
            ));
        }
        if let Some((_, _, _, other)) = spans
            .iter()
            .find(|(d, f, t, _)| *d == day && from < *t && *f < to)
        {
            return Err(unprocessable(
                path,
                format!("overlaps afterHours.open[{other}] on the same day"),
            ));
        }
        spans.push((day, from, to, i));
        open.push(Window {
            day: fields["day"].as_str().unwrap_or_default().to_owned(),
            from: fields["from"].as_str().unwrap_or_default().to_owned(),
            to: fields["to"].as_str().unwrap_or_default().to_owned(),
        });
    }
    let dates = map["holidays"]
        .as_array()
        .ok_or_else(|| unprocessable("afterHours.holidays", "must be a list of dates"))?;
    let mut holidays = Vec::with_capacity(dates.len());
    for (i, date) in dates.iter().enumerate() {
        let text = date.as_str().unwrap_or_default();
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            unprocessable(
                format!("afterHours.holidays[{i}]"),
                format!("`{text}` is not a date YYYY-MM-DD"),
            )
        })?;
        holidays.push(text.to_owned());
    }
    Ok(Some(AfterHours {
        time_zone: zone.to_owned(),
        open,
        holidays,
    }))
}

/// Checks every value of a PUT body: 422 naming the first bad one.
pub fn validate(body: SettingsBody) -> Result<Settings> {
    let hours = body
        .reporting_interval_hours
        .as_u64()
        .filter(|h| (1..=48).contains(h))
        .ok_or_else(|| {
            unprocessable("reportingIntervalHours", "must be an integer from 1 to 48")
        })?;
    let schedule = match body.two_way_file_schedule.as_str() {
        Some("Daily") => FileSchedule::Daily,
        Some("Weekly") => FileSchedule::Weekly,
        Some("Monthly") => FileSchedule::Monthly,
        _ => {
            return Err(unprocessable(
                "twoWayFileSchedule",
                "must be one of Daily, Weekly, Monthly",
            ))
        }
    };
    Ok(Settings {
        reporting_interval_hours: hours as u8,
        two_way_file_schedule: schedule,
        after_hours: after_hours(&body.after_hours)?,
    })
}

impl AfterHours {
    /// Whether `at` is after hours: in the zone, its date is a holiday or
    /// it lies in none of its weekday's windows.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let Ok(zone) = self.time_zone.parse::<Tz>() else {
            return false;
        };
        let local = at.with_timezone(&zone);
        let date = local.date_naive().format("%Y-%m-%d").to_string();
        if self.holidays.contains(&date) {
            return true;
        }
        let minute = local.hour() * 60 + local.minute();
        let day = local.weekday();
        let open = self.open.iter().any(|w| {
            let bound = |text: &str, end| minutes(&Value::from(text), "", end).ok();
            let same_day = weekday(&Value::from(w.day.as_str()), "").ok() == Some(day);
            match (bound(&w.from, false), bound(&w.to, true)) {
                (Some(from), Some(to)) => same_day && from <= minute && minute < to,
                _ => false,
            }
        });
        !open
    }
}

/// The stored settings of a tenant (defaults when never set).
pub async fn load(pool: &sqlx::PgPool, tenant_id: Uuid) -> Result<Settings> {
    let stored: Option<Value> =
        sqlx::query_scalar("select settings from tenant_settings where tenant_id = $1")
            .bind(tenant_id)
            .fetch_optional(pool)
            .await?;
    match stored {
        Some(value) if value.as_object().is_some_and(|m| !m.is_empty()) => {
            serde_json::from_value(value).map_err(|e| {
                crate::report::plan::inconsistent(tenant_id, format!("stored settings: {e}"))
            })
        }
        _ => Ok(Settings::default()),
    }
}

/// The tenant's settings.
#[utoipa::path(
    get, path = "/settings/v1", tag = "settings",
    responses(
        (status = 200, body = Settings),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json", description = "The token lacks the Admin role"),
    ),
    security(("bearer" = []))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Settings>> {
    Ok(Json(load(&state.pool, principal.tenant_id).await?))
}

/// Replace the tenant's settings.
///
/// The whole object: `reportingIntervalHours` (1–48) and
/// `twoWayFileSchedule` (`Daily`, `Weekly`, `Monthly`) are required,
/// `afterHours` optional (absent or null: nothing is after hours). Answers
/// the stored settings. A change applies from the next event ingested and
/// the next period scheduled.
#[utoipa::path(
    put, path = "/settings/v1", tag = "settings",
    request_body = SettingsBody,
    responses(
        (status = 200, body = Settings),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Not JSON, an unknown field or a missing required one"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json", description = "The token lacks the Admin role"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "A value out of range or malformed, named by its path"),
    ),
    security(("bearer" = []))
)]
pub async fn put_settings(
    State(state): State<AppState>,
    principal: Principal,
    body: axum::body::Bytes,
) -> Result<Json<Settings>> {
    let body: SettingsBody = parse_json(&body, "")?;
    let settings = validate(body)?;
    let value = serde_json::to_value(&settings).map_err(|e| ApiError::Internal(e.into()))?;
    sqlx::query(
        "insert into tenant_settings (tenant_id, settings, updated_at) values ($1, $2, now()) \
         on conflict (tenant_id) do update set settings = excluded.settings, updated_at = now()",
    )
    .bind(principal.tenant_id)
    .bind(value)
    .execute(&state.pool)
    .await?;
    // Answers may depend on the settings (the default interval of
    // conversations/intervals): drop the tenant's cached ones.
    state.cache.invalidate_tenant(principal.tenant_id);
    Ok(Json(settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin_office() -> AfterHours {
        AfterHours {
            time_zone: "Europe/Berlin".into(),
            open: vec![
                Window {
                    day: "Monday".into(),
                    from: "08:00".into(),
                    to: "18:00".into(),
                },
                Window {
                    day: "Sunday".into(),
                    from: "22:00".into(),
                    to: "24:00".into(),
                },
            ],
            holidays: vec!["2026-12-28".into()],
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an instant")
    }

    #[test]
    fn windows_are_half_open_in_the_zone_across_dst_and_holidays_close_all_day() {
        let hours = berlin_office();
        // Monday 30 March 2026 is summer time (UTC+2): 08:00 local is 06:00Z.
        assert!(hours.contains(at("2026-03-30T05:59:59Z")));
        assert!(!hours.contains(at("2026-03-30T06:00:00Z")));
        assert!(!hours.contains(at("2026-03-30T15:59:59Z")));
        assert!(hours.contains(at("2026-03-30T16:00:00Z")));
        // Monday 23 March is winter time (UTC+1): 08:00 local is 07:00Z.
        assert!(hours.contains(at("2026-03-23T06:30:00Z")));
        assert!(!hours.contains(at("2026-03-23T07:00:00Z")));
        // A window up to 24:00 covers the day's last minute.
        assert!(!hours.contains(at("2026-03-29T21:59:59Z")));
        // A holiday Monday is after hours all day; Tuesday has no window.
        assert!(hours.contains(at("2026-12-28T10:00:00Z")));
        assert!(hours.contains(at("2026-03-31T10:00:00Z")));
    }
}
