//! Conversation interval summaries (API.md §5.2), JSON and CSV, with
//! hand-computed answers.

use serde_json::{json, Value};

use crate::answers::message;
use crate::helpers::TestApp;

const U1: &str = "1a7e0000-0000-4000-8000-0000000000a1";
const U2: &str = "1a7e0000-0000-4000-8000-0000000000a2";
const PATH: &str = "conversations/intervals";

/// A message of `C-a` (SMS) at 2026-01-01 `hh:mm` (or the 2nd, `+hh:mm`).
fn at(when: &str) -> String {
    match when.strip_prefix('+') {
        Some(time) => format!("2026-01-02T{time}:00Z"),
        None => format!("2026-01-01T{when}:00Z"),
    }
}

fn contact(id: &str, when: &str, extra: Value) -> Value {
    let mut event = message(id, "C-a", "00:00", "Inbound", extra);
    event["occurredAt"] = json!(at(when));
    event["fromAddress"] = json!("+441");
    event["toAddress"] = json!("+442");
    event
}

fn agent(id: &str, when: &str, extra: Value) -> Value {
    let mut event = contact(id, when, json!({"direction": "Outbound", "userId": U1}));
    if let (Some(e), Value::Object(extra)) = (event.as_object_mut(), extra) {
        e.extend(extra);
    }
    event["fromAddress"] = json!("+442");
    event["toAddress"] = json!("+441");
    event
}

/// `C-a`, the response times by the first-answer rule (the earlier run
/// of each answer in brackets):
/// - 00–05: contact 02:50 (before `from`), 03:10 (OptIn); agent 04:00
///   (Image, answers [02:50]: 4,200 s); automated 04:10 (user null).
/// - 05–10: agent 06:00 (none); contact 07:00 ([04:00]: 10,800 s); agent
///   07:30 ([07:00]: 1,800 s); contact 08:00 ([07:30]: 1,800 s); agent
///   09:00 ([08:00]: 3,600 s).
/// - 20–01, across midnight: contact 21:00 (OptOut, Video, [09:00]:
///   43,200 s); agent 00:30 ([21:00]: 12,600 s); agent 00:40 (File, none).
/// - 01–06 of the 2nd: contact 01:30 (Audio, [00:30]: 3,600 s); contact
///   03:00 is at `to`, not counted.
///
/// `b-conv` (WhatsApp, no conversation.started): user U2 (not in the
/// directory) 03:30 and an agent without a user 03:40.
pub fn scenario() -> Value {
    let b = |id: &str, time: &str, user: Option<&str>| {
        message(
            id,
            "b-conv",
            time,
            "Outbound",
            json!({"channel": "WhatsApp",
            "userId": user, "fromAddress": "x", "toAddress": "y"}),
        )
    };
    json!([
        {"id": "du1", "type": "directory.user", "occurredAt": "2025-01-01T00:00:00Z", "userId": U1,
         "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "roles": []},
        {"id": "start", "type": "conversation.started", "occurredAt": at("02:50"),
         "conversationId": "C-a", "interactionId": "i-C-a", "channel": "SMS",
         "initiationMethod": "Keyword"},
        contact("e00", "02:50", json!({})),
        contact("e01", "03:10", json!({"keyword": "OptIn"})),
        agent("e02", "04:00", json!({"contentType": "Image"})),
        agent("e03", "04:10", json!({"automated": true})),
        agent("e04", "06:00", json!({})),
        contact("e05", "07:00", json!({})),
        agent("e06", "07:30", json!({})),
        contact("e07", "08:00", json!({})),
        agent("e08", "09:00", json!({})),
        contact("e09", "21:00", json!({"keyword": "OptOut", "contentType": "Video"})),
        agent("e10", "+00:30", json!({})),
        agent("e11", "+00:40", json!({"contentType": "File"})),
        contact("e12", "+01:30", json!({"contentType": "Audio"})),
        contact("e13", "+03:00", json!({})),
        b("b1", "03:30", Some(U2)),
        b("b2", "03:40", None),
        // No conversationId: not counted.
        {"id": "loose", "type": "message.created", "occurredAt": at("04:00"),
         "interactionId": "i-loose", "direction": "Inbound", "channel": "SMS"},
    ])
}

fn range(hours: Option<i64>) -> Value {
    let mut body =
        json!({"filters": {"from": "2026-01-01T03:00:00Z", "to": "2026-01-02T03:00:00Z"}});
    if let Some(hours) = hours {
        body["intervalHours"] = json!(hours);
    }
    body
}

/// A row: interval, conversation, sender, user, addresses; then
/// `[opt in, opt out, text, images, audio, video, files, all]` and
/// `[min, max, average]` response times.
fn row(
    interval: (&str, &str),
    conv: &str,
    sender: &str,
    user: Value,
    counts: [i64; 8],
    times: [Value; 3],
) -> Value {
    let (from, to) = if sender == "Contact" {
        ("+441", "+442")
    } else {
        ("+442", "+441")
    };
    let (from, to, channel, method) = match conv {
        "b-conv" => ("x", "y", "WhatsApp", Value::Null),
        _ => (from, to, "SMS", json!("Keyword")),
    };
    json!({"intervalStart": at(interval.0).replace(":00Z", ":00.000Z"),
        "intervalEnd": at(interval.1).replace(":00Z", ":00.000Z"),
        "intervalDurationMinutes": 300, "conversationId": conv, "user": user,
        "initiationMethod": method, "channel": channel, "senderType": sender,
        "fromAddress": from, "toAddress": to, "keywordOptInCount": counts[0],
        "keywordOptOutCount": counts[1], "minResponseTime": times[0],
        "maxResponseTime": times[1], "averageResponseTime": times[2],
        "textMessages": counts[2], "images": counts[3], "audio": counts[4], "video": counts[5],
        "otherFiles": counts[6], "allMessages": counts[7]})
}

/// Sets the tenant's `reportingIntervalHours` (settings otherwise default).
async fn set_reporting_interval(app: &TestApp, hours: i64) {
    let auth = format!("Bearer {}", app.tenant.token);
    let settings = json!({"reportingIntervalHours": hours, "twoWayFileSchedule": "Daily"});
    let put = app
        .request(
            axum::http::Method::PUT,
            "/settings/v1",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            serde_json::to_vec(&settings).expect("json"),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text());
}

fn none() -> [Value; 3] {
    [Value::Null, Value::Null, Value::Null]
}

fn seconds(min: f64, max: f64, average: f64) -> [Value; 3] {
    [json!(min), json!(max), json!(average)]
}

#[tokio::test]
async fn five_hour_grid_from_midnight_across_days_with_first_answers() {
    let app = TestApp::spawn().await;
    app.ingest(&scenario()).await;

    let answer = app.report(PATH, &range(Some(5))).await;
    let ada = json!({"id": U1, "name": "Ada Lovelace"});
    let first = ("00:00", "05:00");
    let second = ("05:00", "10:00");
    let night = ("20:00", "+01:00");
    let after = ("+01:00", "+06:00");
    let expected = json!([
        // "C-a" sorts before "b-conv" bytewise.
        row(
            first,
            "C-a",
            "Contact",
            json!(null),
            [1, 0, 1, 0, 0, 0, 0, 1],
            none()
        ),
        row(
            first,
            "C-a",
            "User",
            json!(null),
            [0, 0, 1, 0, 0, 0, 0, 1],
            none()
        ),
        row(
            first,
            "C-a",
            "User",
            ada.clone(),
            [0, 0, 0, 1, 0, 0, 0, 1],
            seconds(4200.0, 4200.0, 4200.0)
        ),
        row(
            first,
            "b-conv",
            "User",
            json!(null),
            [0, 0, 1, 0, 0, 0, 0, 1],
            none()
        ),
        row(
            first,
            "b-conv",
            "User",
            json!({"id": U2, "name": null}),
            [0, 0, 1, 0, 0, 0, 0, 1],
            none()
        ),
        row(
            second,
            "C-a",
            "Contact",
            json!(null),
            [0, 0, 2, 0, 0, 0, 0, 2],
            seconds(1800.0, 10800.0, 6300.0)
        ),
        row(
            second,
            "C-a",
            "User",
            ada.clone(),
            [0, 0, 3, 0, 0, 0, 0, 3],
            seconds(1800.0, 3600.0, 2700.0)
        ),
        row(
            night,
            "C-a",
            "Contact",
            json!(null),
            [0, 1, 0, 0, 0, 1, 0, 1],
            seconds(43200.0, 43200.0, 43200.0)
        ),
        row(
            night,
            "C-a",
            "User",
            ada,
            [0, 0, 1, 0, 0, 0, 1, 2],
            seconds(12600.0, 12600.0, 12600.0)
        ),
        row(
            after,
            "C-a",
            "Contact",
            json!(null),
            [0, 0, 0, 0, 1, 0, 0, 1],
            seconds(3600.0, 3600.0, 3600.0)
        ),
    ]);
    assert_eq!(answer, json!({"rows": expected, "truncated": false}));

    // The channel filter matches the message's channel.
    let mut whatsapp = range(Some(5));
    whatsapp["filters"]["channels"] = json!(["WhatsApp"]);
    let rows = app.report(PATH, &whatsapp).await;
    assert_eq!(rows["rows"], json!([expected[3], expected[4]]));

    let csv = app.export(PATH, &range(Some(5))).await;
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "intervalStart,intervalEnd,intervalDurationMinutes,conversationId,userId,userName,\
         initiationMethod,channel,senderType,fromAddress,toAddress,keywordOptInCount,\
         keywordOptOutCount,minResponseTime,maxResponseTime,averageResponseTime,textMessages,\
         images,audio,video,otherFiles,allMessages"
    );
    assert_eq!(
        lines[3],
        format!("2026-01-01T00:00:00.000Z,2026-01-01T05:00:00.000Z,300,C-a,{U1},Ada Lovelace,Keyword,SMS,User,+442,+441,0,0,4200,4200,4200,0,1,0,0,0,1")
    );
    assert_eq!(
        lines[5],
        format!("2026-01-01T00:00:00.000Z,2026-01-01T05:00:00.000Z,300,b-conv,{U2},,,WhatsApp,User,x,y,0,0,,,,1,0,0,0,0,1")
    );
    assert_eq!(
        lines.len(),
        12,
        "a header, ten rows and the final line break: {csv}"
    );
}

#[tokio::test]
async fn the_interval_defaults_to_the_tenant_setting_and_must_be_1_to_48() {
    let app = TestApp::spawn().await;
    app.ingest(&scenario()).await;
    let starts = |answer: &Value| -> Vec<String> {
        let mut starts: Vec<String> = answer["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["intervalStart"].as_str().expect("start")[11..16].to_owned())
            .collect();
        starts.dedup();
        starts
    };
    // The default setting is 2 hours.
    let default = app.report(PATH, &range(None)).await;
    assert_eq!(default["rows"][0]["intervalDurationMinutes"], 120);
    assert_eq!(
        starts(&default),
        ["02:00", "04:00", "06:00", "08:00", "20:00", "00:00"]
    );
    set_reporting_interval(&app, 7).await;
    let seven = app.report(PATH, &range(None)).await;
    // 00–07, 07–14, 14–21, 21–04 (the 21:00 message is on the 1st, the
    // ones after midnight in the same interval).
    assert_eq!(starts(&seven), ["00:00", "07:00", "21:00"]);
    assert_eq!(seven["rows"][0]["intervalDurationMinutes"], 420);

    for hours in [0, 49, -1] {
        for prefix in ["/reporting/v1.2", "/reporting/export/v1.2"] {
            let problem = app
                .post(&format!("{prefix}/{PATH}"), &range(Some(hours)))
                .await
                .problem(422);
            assert_eq!(problem["errors"][0]["field"], "intervalHours");
        }
    }
    for hours in [1, 48] {
        let answer = app.report(PATH, &range(Some(hours))).await;
        assert_eq!(answer["rows"][0]["intervalDurationMinutes"], hours * 60);
    }
    // 5.0 is an integer to JSON Schema (the document says integer).
    let whole = json!({"filters": range(None)["filters"], "intervalHours": 5.0});
    assert_eq!(
        app.report(PATH, &whole).await["rows"][0]["intervalDurationMinutes"],
        300
    );
    let fraction = json!({"filters": range(None)["filters"], "intervalHours": 1.5});
    app.post(&format!("/reporting/v1.2/{PATH}"), &fraction)
        .await
        .problem(400);
    let over = json!({"filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:01Z"}});
    let problem = app
        .post(&format!("/reporting/v1.2/{PATH}"), &over)
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "filters.to");

    // Another tenant naming these conversations' accounts sees nothing.
    let other = app.new_tenant("Other").await;
    let seen = app
        .post_as(
            &other.token,
            &format!("/reporting/v1.2/{PATH}"),
            &range(Some(5)),
        )
        .await;
    assert_eq!(seen.json(), json!({"rows": [], "truncated": false}));
}

/// A cached answer that took its interval from the settings is not served
/// once the setting changes (the settings are part of what it depends on).
#[tokio::test]
async fn a_settings_change_is_not_hidden_by_a_cached_answer() {
    let app = TestApp::spawn().await;
    app.ingest(&scenario()).await;
    let url = format!("/reporting/v1.2/{PATH}");
    let first = app.post(&url, &range(None)).await;
    assert_eq!(first.json()["rows"][0]["intervalDurationMinutes"], 120);
    let again = app.post(&url, &range(None)).await;
    assert_eq!(again.header("x-cache").as_deref(), Some("HIT"));

    set_reporting_interval(&app, 7).await;
    let after = app.post(&url, &range(None)).await;
    assert_eq!(after.header("x-cache").as_deref(), Some("MISS"));
    assert_eq!(after.json()["rows"][0]["intervalDurationMinutes"], 420);
}
