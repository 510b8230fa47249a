//! Ids read from stdin (`dcs-wait -`, `dcs-wait swap -`), so that `… | dcs-wait -` works.
//!
//! Two forms, told apart by the first character that is not white space:
//! - ids separated by white space (`{` or `[` never starts an id);
//! - JSON: one value (an object or an array) or JSON Lines, holding `job_id` (or
//!   `instance_id`) fields at any depth — the `{"job_id": "…"}` that `PUT …/async-swap`
//!   returns, for instance. An array of plain strings is read as ids too.
//!
//! Pure and total: any bytes give ids or an error naming the line, never a panic (a fuzz
//! target holds it to that).

use dcs_wait::{InstanceId, InvalidId, JobId};
use std::str::FromStr;

/// An id that stdin may hold: its JSON field and what it is called.
pub trait StdinId: FromStr<Err = InvalidId> {
    /// The JSON field holding one: `job_id`.
    const FIELD: &'static str;
    /// What several are called: `job ids`.
    const NOUN: &'static str;
}

impl StdinId for JobId {
    const FIELD: &'static str = "job_id";
    const NOUN: &'static str = "job ids";
}

impl StdinId for InstanceId {
    const FIELD: &'static str = "instance_id";
    const NOUN: &'static str = "instance ids";
}

/// Why stdin held no usable ids. `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stdin, line {line}: {message}")]
pub struct InputError {
    /// Where, counting from 1.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn error(line: usize, message: impl Into<String>) -> InputError {
    InputError {
        line,
        message: message.into(),
    }
}

/// The ids in `input`, in order, each checked.
pub fn parse<I: StdinId>(input: &[u8]) -> Result<Vec<I>, InputError> {
    let text = std::str::from_utf8(input).map_err(|e| {
        let line = 1 + input[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        error(line, "not UTF-8 text")
    })?;
    let ids = match text.trim_start().chars().next() {
        None => {
            return Err(error(
                1,
                format!(
                    "no {}: give ids separated by spaces or newlines, or JSON with {} fields",
                    I::NOUN,
                    I::FIELD
                ),
            ))
        }
        Some('{' | '[') => json(text)?,
        Some(_) => words(text)?,
    };
    if ids.is_empty() {
        return Err(error(1, format!("no {} field in the JSON", I::FIELD)));
    }
    Ok(ids)
}

fn words<I: StdinId>(text: &str) -> Result<Vec<I>, InputError> {
    let mut ids = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for word in line.split_whitespace() {
            ids.push(checked(word, index + 1)?);
        }
    }
    Ok(ids)
}

fn checked<I: StdinId>(id: &str, line: usize) -> Result<I, InputError> {
    id.parse()
        .map_err(|e: InvalidId| error(line, e.to_string()))
}

/// One JSON value, or else JSON Lines.
fn json<I: StdinId>(text: &str) -> Result<Vec<I>, InputError> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => {
            let mut ids = Vec::new();
            collect(&value, 1, true, &mut ids)?;
            Ok(ids)
        }
        Err(whole) => {
            let lines: Vec<(usize, &str)> = text
                .lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.trim()))
                .filter(|(_, l)| !l.is_empty())
                .collect();
            // A single value that does not parse: report serde's position in it.
            if lines.len() <= 1
                || !lines
                    .iter()
                    .all(|(_, l)| l.starts_with('{') || l.starts_with('['))
            {
                return Err(error(whole.line(), format!("not valid JSON: {}", whole)));
            }
            let mut ids = Vec::new();
            for (line, text) in lines {
                let value: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| error(line, format!("not valid JSON: {e}")))?;
                let before = ids.len();
                collect(&value, line, true, &mut ids)?;
                if ids.len() == before {
                    return Err(error(line, format!("no {} field on this line", I::FIELD)));
                }
            }
            Ok(ids)
        }
    }
}

/// Every id field's string at any depth; at the top, an array's strings are ids too.
fn collect<I: StdinId>(
    value: &serde_json::Value,
    line: usize,
    top: bool,
    ids: &mut Vec<I>,
) -> Result<(), InputError> {
    match value {
        serde_json::Value::Object(map) => {
            for (key, field) in map {
                match field {
                    serde_json::Value::String(id) if key == I::FIELD => {
                        ids.push(checked(id, line)?)
                    }
                    other if key == I::FIELD => {
                        return Err(error(
                            line,
                            format!("{} is {other}, not a string", I::FIELD),
                        ))
                    }
                    _ => collect(field, line, false, ids)?,
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                match item {
                    serde_json::Value::String(id) if top => ids.push(checked(id, line)?),
                    other => collect(other, line, false, ids)?,
                }
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Vec<String> {
        parse::<JobId>(input.as_bytes())
            .unwrap_or_else(|e| panic!("{input:?}: {e}"))
            .into_iter()
            .map(String::from)
            .collect()
    }

    fn err(input: &[u8]) -> InputError {
        parse::<JobId>(input).unwrap_err()
    }

    #[test]
    fn instance_ids_by_their_own_field() {
        let ids: Vec<InstanceId> =
            parse(br#"{"instances": [{"instance_id": "i-1", "job_id": "j"}]}"#).unwrap();
        assert_eq!(ids, ["i-1".parse::<InstanceId>().unwrap()]);
        let err = parse::<InstanceId>(br#"{"job_id": "j"}"#).unwrap_err();
        assert_eq!(err.message, "no instance_id field in the JSON");
        let err = parse::<InstanceId>(b"").unwrap_err();
        assert!(err.message.starts_with("no instance ids"), "{err}");
    }

    #[test]
    fn white_space_separated_ids() {
        assert_eq!(ok("a b\n\tc\r\n\n d-1_x \n"), ["a", "b", "c", "d-1_x"]);
    }

    #[test]
    fn json_forms() {
        assert_eq!(ok(r#"{"job_id": "j1"}"#), ["j1"]);
        assert_eq!(ok(r#"[{"job_id": "j1"}, {"job_id": "j2"}]"#), ["j1", "j2"]);
        assert_eq!(ok(r#"["j1", "j2"]"#), ["j1", "j2"]);
        assert_eq!(
            ok("{\"job_id\":\"j1\"}\n\n{\"job_id\":\"j2\",\"x\":1}\n"),
            ["j1", "j2"]
        );
        assert_eq!(
            ok(r#"{"jobs": [{"job_id": "j1", "instance": {"job_id": "j2"}}], "count": 2}"#),
            ["j1", "j2"]
        );
        assert_eq!(ok("  \n {\"job_id\" : \"j1\"}"), ["j1"]);
    }

    #[test]
    fn mistakes_name_their_line() {
        assert_eq!(err(b"a b\nc/d\n").line, 2);
        assert!(err(b"a b\nc/d\n")
            .message
            .contains("\"c/d\" is not a DCS job id"));
        assert_eq!(err(b"{\"job_id\":\"j1\"}\n{\"job_id\": \n").line, 2);
        assert_eq!(err(b"{\"job_id\":\"j1\"}\n{\"other\": 1}\n").line, 2);
        assert_eq!(
            err(b"{\n\"job_id\": 5\n}").message,
            "job_id is 5, not a string"
        );
        assert_eq!(err(b"{\n  \"job_id\": \"a b\"\n").line, 3);
        assert_eq!(err(b"{\"x\": 1}").message, "no job_id field in the JSON");
        assert_eq!(err(b"").line, 1);
        assert_eq!(err(b"   \n  ").line, 1);
        assert_eq!(err(b"ok\n\xff").line, 2);
    }
}
