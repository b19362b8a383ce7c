//! Renders an [`Answer`] as RFC 4180 CSV, streamed: one row per group ×
//! bucket (`group, groupName, bucketStart, bucketEnd, …metric`).

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use bytes::Bytes;

use super::json::instant_in;
use super::plan::{Answer, MetricValue};
use crate::error::{ApiError, Result};

/// Appends one field, quoted when it holds a comma, quote, CR or LF.
pub fn push_field(line: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        line.push('"');
        line.push_str(&field.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(field);
    }
}

/// One CSV record, CRLF-terminated.
pub fn record<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_field(&mut line, field.as_ref());
    }
    line.push_str("\r\n");
    line
}

fn metric_fields(value: MetricValue) -> Vec<String> {
    let seconds = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    match value {
        MetricValue::Count(n) => vec![n.to_string()],
        MetricValue::Duration(t) => vec![
            t.count.to_string(),
            seconds(t.average),
            seconds(t.min),
            seconds(t.max),
            seconds(t.p50),
            seconds(t.p90),
        ],
        MetricValue::Live(counts) => counts.csv_fields(),
        MetricValue::Presence(v) => super::presence::render::fields(v),
    }
}

/// `Accept` must be absent, `*/*` or `text/csv`; anything else is 404
/// (API.md §6). The field is parsed as RFC 9110 §12.5.1 says: a list of
/// media ranges with parameters and a weight (`q`, 0 to 1, three decimals),
/// all `Accept` lines together. Our `text/csv; charset=utf-8` (always with
/// a header row) is acceptable when the most specific range that matches it
/// (`text/csv` with parameters, then `text/csv`, `text/*`, `*/*`) has a
/// weight above 0; `q=0` means "not acceptable". A range matches when its
/// parameters are `charset=utf-8` or `header=present`; a malformed range
/// matches nothing.
pub fn check_accept(headers: &HeaderMap) -> Result<()> {
    /// A media range that matches `text/csv; charset=utf-8`: its
    /// specificity (0 `*/*` to 3 `text/csv` with parameters) and weight in
    /// thousandths; `None` when it is malformed or matches something else.
    fn matching(range: &str) -> Option<(u8, u16)> {
        let mut parts = split_outside_quotes(range, ';').into_iter();
        let media = parts.next()?.trim().to_ascii_lowercase();
        let (kind, subtype) = media.split_once('/')?;
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        };
        if !token(kind) || !token(subtype) {
            return None;
        }
        let mut specificity = match (kind, subtype) {
            ("*", "*") => 0,
            ("text", "*") => 1,
            ("text", "csv") => 2,
            _ => return None,
        };
        let mut weight = 1000;
        for parameter in parts {
            let (name, value) = parameter.trim().split_once('=')?;
            let name = name.trim_end().to_ascii_lowercase();
            let value = value.trim_start();
            if name == "q" {
                weight = qvalue(value)?;
                // Parameters after the weight are accept-extensions.
                break;
            }
            let value = match value.strip_prefix('"') {
                Some(quoted) => quoted.strip_suffix('"')?.replace("\\", ""),
                None if token(value) => value.to_owned(),
                None => return None,
            };
            let ours = match name.as_str() {
                "charset" => value.eq_ignore_ascii_case("utf-8"),
                "header" => value.eq_ignore_ascii_case("present"),
                _ => false,
            };
            if !token(&name) || !ours || specificity < 2 {
                return None;
            }
            specificity = 3;
        }
        Some((specificity, weight))
    }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in
    /// thousandths.
    fn qvalue(text: &str) -> Option<u16> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
        match whole {
            "0" => Some(thousandths),
            "1" if thousandths == 0 => Some(1000),
            _ => None,
        }
    }

    /// Splits on `separator` outside quoted strings (which may hold it).
    fn split_outside_quotes(text: &str, separator: char) -> Vec<&str> {
        let (mut parts, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
        for (i, c) in text.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                c if c == separator && !quoted => {
                    parts.push(&text[start..i]);
                    start = i + c.len_utf8();
                }
                _ => {}
            }
        }
        parts.push(&text[start..]);
        parts
    }

    let mut lines = headers.get_all(header::ACCEPT).iter().peekable();
    if lines.peek().is_none() {
        return Ok(());
    }
    // The most specific matching range; among equally specific ones, the
    // highest weight. Empty list elements match nothing.
    let mut best: Option<(u8, u16)> = None;
    for line in lines {
        let line = line.to_str().map_err(|_| ApiError::NotFound)?;
        for range in split_outside_quotes(line, ',') {
            best = best.max(matching(range));
        }
    }
    match best {
        Some((_, weight)) if weight > 0 => Ok(()),
        _ => Err(ApiError::NotFound),
    }
}

/// The rows of an answer, header first.
pub fn rows(answer: &Answer) -> Vec<String> {
    if let Some(extra) = &answer.presence {
        return super::presence::render::csv_rows(answer, extra);
    }
    let grouped = answer.groups.is_some();
    let mut header: Vec<&str> = Vec::new();
    if grouped {
        header.extend(["group", "groupName"]);
    }
    if answer.by_date.is_some() {
        header.extend(["bucketStart", "bucketEnd"]);
    }
    header.extend(answer.kind.columns());
    let mut out = vec![record(&header)];
    let groups: Vec<(String, String)> = match &answer.groups {
        Some(groups) => groups
            .iter()
            .map(|g| (g.key.clone(), g.name.clone().unwrap_or_default()))
            .collect(),
        None => vec![(String::new(), String::new())],
    };
    for (g, (key, name)) in groups.iter().enumerate() {
        let prefix: Vec<String> = if grouped {
            vec![key.clone(), name.clone()]
        } else {
            Vec::new()
        };
        match &answer.by_date {
            None => {
                let mut fields = prefix.clone();
                fields.extend(metric_fields(answer.cell(g, 0)));
                out.push(record(&fields));
            }
            Some((by_date, list)) => {
                for (i, bucket) in list.iter().enumerate() {
                    let mut fields = prefix.clone();
                    fields.push(instant_in(by_date.zone, bucket.start));
                    fields.push(instant_in(by_date.zone, bucket.end));
                    fields.extend(metric_fields(answer.cell(g, i)));
                    out.push(record(&fields));
                }
            }
        }
    }
    out
}

/// Streams rows as a `text/csv; charset=utf-8` response.
pub fn stream_response<I>(rows: I, filename: &str) -> Response
where
    I: IntoIterator<Item = String> + Send + 'static,
    I::IntoIter: Send + 'static,
{
    let stream = futures::stream::iter(
        rows.into_iter()
            .map(|r| Ok::<_, std::io::Error>(Bytes::from(r))),
    );
    csv_response(Body::from_stream(stream), filename)
}

/// A `text/csv; charset=utf-8` attachment response around a body.
pub fn csv_response(body: Body, filename: &str) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A minimal RFC 4180 reader, to check what the writer writes.
    fn parse_record(line: &str) -> Vec<String> {
        let body = line.strip_suffix("\r\n").unwrap_or(line);
        let mut fields = vec![String::new()];
        let mut quoted = false;
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    if let Some(f) = fields.last_mut() {
                        f.push('"');
                    }
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(String::new()),
                (c, _) => {
                    if let Some(f) = fields.last_mut() {
                        f.push(c);
                    }
                }
            }
        }
        fields
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(
            record(&["a", "b,c", "say \"hi\""]),
            "a,\"b,c\",\"say \"\"hi\"\"\"\r\n"
        );
    }

    proptest! {
        #[test]
        fn any_fields_round_trip(fields in prop::collection::vec(".*", 1..6)) {
            let line = record(&fields);
            prop_assert_eq!(parse_record(&line), fields);
        }
    }
}
