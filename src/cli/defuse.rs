//! The output guard: nothing a server sent, or an argument quoted back, becomes a command of
//! a CI runner in anything this command line writes. Server text was made printable where it
//! was read (`api::untrusted`); this is the last step before a byte goes out, and the one
//! place that knows the runners' syntax.

use crate::common::text::is_default_ignorable;
use std::borrow::Cow;

/// The syntax of an output, which decides how [`defused`] writes the character it escapes:
/// an escape that reads back as the character, so a JSON or XML reader gets the exact text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `\u0023`: valid inside a JSON string, and plain enough in a text line.
    Json,
    /// `&#35;`: a character reference, valid in XML text and attributes, and in Markdown.
    Xml,
}

/// `text` with nothing left that a CI runner would take for a command: the second `#` of
/// every `##` is escaped, and where a line starts with `::` (after blanks) the second `:` is.
///
/// Every runner that reads commands out of a log marks them with `##` and a word before `[`
/// — GitHub's `##[error]`, Azure Pipelines' `##vso[task.setvariable]` and `##[section]`,
/// TeamCity's `##teamcity[…]` — or, GitHub's newer form, with `::` at a line's start. Breaking
/// the `##` itself covers every word, known or future, as Azure's agent does for its own
/// output.
///
/// Invisible characters do not hide either: the runners' .NET searches are culture-aware
/// (ICU), which skips default-ignorable code points, so `#\u{200b}#` counts as `##` here.
pub fn defused(text: &str, syntax: Syntax) -> Cow<'_, str> {
    let needs = |c: char| c == '#' || c == ':';
    if !text.contains(needs) {
        return Cow::Borrowed(text);
    }
    let (hash, colon) = match syntax {
        Syntax::Json => ("\\u0023", "\\u003a"),
        Syntax::Xml => ("&#35;", "&#58;"),
    };
    let mut out = String::with_capacity(text.len() + 8);
    // The last character that counts (an escaped one does not), and where the line is:
    // before its first such character, after a first `:` there, or past its start.
    let mut last = '\0';
    #[derive(PartialEq)]
    enum At {
        Start,
        Colon,
        Inside,
    }
    let mut at = At::Start;
    let mut changed = false;
    for c in text.chars() {
        if c == '\n' || c == '\r' {
            out.push(c);
            last = '\0';
            at = At::Start;
            continue;
        }
        if is_default_ignorable(c) || (at == At::Start && (c.is_whitespace() || c.is_control())) {
            out.push(c);
            continue;
        }
        let escaped = if c == '#' && last == '#' {
            Some(hash)
        } else if c == ':' && at == At::Colon {
            Some(colon)
        } else {
            None
        };
        match escaped {
            Some(escape) => {
                out.push_str(escape);
                changed = true;
                last = '\0';
            }
            None => {
                out.push(c);
                last = c;
            }
        }
        at = match (at, c) {
            (At::Start, ':') => At::Colon,
            _ => At::Inside,
        };
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_runner_command_survives_and_json_reads_back_exact() {
        let d = |t| defused(t, Syntax::Json).into_owned();
        assert_eq!(d("disk full: 90%"), "disk full: 90%");
        assert!(matches!(
            defused("a: b [c]", Syntax::Json),
            Cow::Borrowed(_)
        ));
        assert_eq!(d("x ##[error]y"), "x #\\u0023[error]y");
        assert_eq!(d("##[add-mask]FAIL"), "#\\u0023[add-mask]FAIL");
        assert_eq!(
            d("#\u{200b}#\u{ad}[group]"),
            "#\u{200b}\\u0023\u{ad}[group]"
        );
        // Azure Pipelines and TeamCity, in any case, and a run of more than two.
        assert_eq!(
            d("a ##VSO[task.setvariable variable=X]y"),
            "a #\\u0023VSO[task.setvariable variable=X]y"
        );
        assert_eq!(d("##teamcity[x]"), "#\\u0023teamcity[x]");
        assert_eq!(d("###vso["), "#\\u0023#vso[");
        assert_eq!(d("####"), "#\\u0023#\\u0023");
        assert_eq!(d("# #[x]"), "# #[x]");
        assert_eq!(d("::error::x"), ":\\u003aerror::x");
        assert_eq!(
            d("ok\n \u{a0}\t::warning::x"),
            "ok\n \u{a0}\t:\\u003awarning::x"
        );
        assert_eq!(d("a\r::x::"), "a\r:\\u003ax::");
        assert_eq!(d("a ::error::x"), "a ::error::x", "not at a line's start");
        assert_eq!(d(":\u{200b}:debug::x"), ":\u{200b}\\u003adebug::x");
        assert_eq!(d(":::"), ":\\u003a:");
        // A JSON Lines report still decodes to what the server sent.
        let sent = "##[error file=README.md;line=1]approved";
        let line = serde_json::json!({ "fail_reason": sent }).to_string();
        let read: serde_json::Value = serde_json::from_str(&d(&line)).unwrap();
        assert_eq!(read["fail_reason"], sent);
        assert!(!d(&line).contains("##"));
        assert_eq!(defused("##[x]", Syntax::Xml), "#&#35;[x]");
        assert_eq!(defused("::x::", Syntax::Xml), ":&#58;x::");
    }
}
