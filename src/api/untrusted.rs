//! Text a server sent, made safe to print.
//!
//! A fail reason, an error message or a status goes to a terminal, a CI log, a JUnit file
//! and a GitHub step summary. Sent raw, a control character could rewrite the terminal
//! (escape sequences), forge a log line or hide text behind bidirectional overrides. So
//! every string read from an answer passes through [`printable`] once, where it is parsed.
//!
//! Printable is not yet harmless in a CI log: GitHub's runner acts on `##[command]` anywhere
//! in a line and on `::command::` at a line's start, whoever wrote them. A server's
//! `##[error file=…]` would become an annotation on the user's repository, `##[add-mask]`
//! would hide words. That is a property of the whole line, not of one field (two fields
//! side by side can form it), so it is undone where lines leave the process: the command
//! line's output guard (`defused`, in its `defuse` module) on everything it writes. See
//! `docs/security.md`.

pub use crate::common::text::capped;
use crate::common::text::is_default_ignorable;
use serde::{Deserialize, Deserializer};

/// The longest server text kept, in characters; a job's reason is a sentence, not a page.
pub const MAX_CHARS: usize = 1_000;

/// The longest reason or detail composed from server text (a task's details in words, a
/// reason with its error and hint), in characters, before its mark: a few texts of
/// [`MAX_CHARS`] joined, or a thousand details, would otherwise make one line a page long.
pub const MAX_COMPOSED: usize = 1_000;

/// `text` with each control, bidirectional-formatting or invisible character written as its
/// escape (`\n`, `\u{1b}`, `\u{200b}`), cut at [`MAX_CHARS`] with `…`. An invisible one
/// would let `SUCC\u{200b}ESS` read as `SUCCESS`, or hide a word's end.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS));
    for (count, c) in text.chars().enumerate() {
        if count == MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() || is_bidi_control(c) || is_noncharacter(c) {
            out.extend(c.escape_debug());
        } else if is_invisible(c) {
            // Rust's own escaping takes some of these (U+3164) for printable.
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// A text field of an answer, for serde: strings made printable, numbers and booleans as
/// their text, empty as none.
pub(super) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(printable(&s)),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    })
}

/// A JSON value of an answer, kept as sent but for its strings (keys too), each made
/// [`printable`]; an object or array of more than [`MAX_CHARS`] entries is cut there.
pub(super) fn printable_json(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(printable(&s)),
        Value::Array(items) => items
            .into_iter()
            .take(MAX_CHARS)
            .map(printable_json)
            .collect(),
        Value::Object(fields) => fields
            .into_iter()
            .take(MAX_CHARS)
            .map(|(key, value)| (printable(&key), printable_json(value)))
            .collect(),
        other => other,
    }
}

/// Characters that render as nothing — zero-width spaces and joiners, line and paragraph
/// separators, the byte order mark, Hangul fillers, tag characters — but for the variation
/// selectors, which only pick how the character before them looks (an emoji's colour).
fn is_invisible(c: char) -> bool {
    (is_default_ignorable(c) || matches!(c, '\u{2028}' | '\u{2029}'))
        && !matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Code points reserved never to be characters (U+FDD0–U+FDEF, and the last two of every
/// plane, U+FFFE and U+FFFF among them): XML does not allow U+FFFE and U+FFFF at all, so
/// one left as it is would make a JUnit report unreadable.
fn is_noncharacter(c: char) -> bool {
    ('\u{FDD0}'..='\u{FDEF}').contains(&c) || (c as u32) & 0xFFFE == 0xFFFE
}

/// Marks and overrides that reorder how text is displayed ("Trojan Source").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("disk full"), "disk full");
        assert_eq!(printable("缓存已满 ✓"), "缓存已满 ✓");
        assert_eq!(printable("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(printable("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(
            printable("x\n::set-output name=a::b"),
            "x\\n::set-output name=a::b"
        );
        assert_eq!(printable("abc\u{202E}fed"), "abc\\u{202e}fed");
        assert_eq!(printable("\u{85}\u{7f}"), "\\u{85}\\u{7f}");
        // Invisible characters, which would make a word read as another.
        assert_eq!(printable("SUCC\u{200b}ESS"), "SUCC\\u{200b}ESS");
        for c in [
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{2028}',
            '\u{2029}',
            '\u{2060}',
            '\u{feff}',
            '\u{3164}',
            '\u{115f}',
            '\u{1160}',
            '\u{ad}',
            '\u{e0000}',
            '\u{e0041}',
            '\u{e007f}',
        ] {
            let shown = printable(&format!("a{c}b"));
            assert_eq!(
                shown,
                format!("a\\u{{{:x}}}b", c as u32),
                "U+{:04X}",
                c as u32
            );
        }
        // A variation selector only styles the emoji before it: kept.
        assert_eq!(printable("ok \u{2764}\u{fe0f}"), "ok \u{2764}\u{fe0f}");
        // Found by the fuzz property (a request id of U+FFFE broke the JUnit XML).
        assert_eq!(printable("a\u{fffe}b\u{10ffff}"), "a\\u{fffe}b\\u{10ffff}");
        assert_eq!(printable("\u{fdd0}"), "\\u{fdd0}");
    }

    #[test]
    fn json_keeps_its_shape_with_its_strings_printable() {
        let sent = serde_json::json!({"a\u{1b}": ["x\ny", 2, true, null], "b": {"c": "\u{202e}"}});
        assert_eq!(
            printable_json(sent),
            serde_json::json!({"a\\u{1b}": ["x\\ny", 2, true, null], "b": {"c": "\\u{202e}"}})
        );
    }

    #[test]
    fn long_text_is_cut() {
        let long = "x".repeat(MAX_CHARS + 10);
        let cut = printable(&long);
        assert_eq!(cut.chars().count(), MAX_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(printable(&"y".repeat(MAX_CHARS)), "y".repeat(MAX_CHARS));
    }
}
