//! Text, measured and cut.

/// `text` cut after `max` characters, marked with how many were cut:
/// `…the last words… (966103 more characters)`.
pub fn capped(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text,
        Some((end, _)) => {
            let cut = text[end..].chars().count();
            format!("{}… ({cut} more characters)", &text[..end])
        }
    }
}

/// Unicode's Default_Ignorable_Code_Point: characters that render as nothing and that
/// culture-aware comparison skips.
pub fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_text_is_capped_with_what_was_cut() {
        assert_eq!(capped("abc".into(), 3), "abc");
        assert_eq!(capped("abcdef".into(), 3), "abc… (3 more characters)");
        assert_eq!(capped("运行中🚀x".into(), 2), "运行… (3 more characters)");
        let long = capped("y".repeat(967_103), 1_000);
        assert!(
            long.ends_with("… (966103 more characters)"),
            "{}",
            &long[990..]
        );
        assert_eq!(
            long.chars().count(),
            1_000 + "… (966103 more characters)".len() - 2
        );
    }
}
