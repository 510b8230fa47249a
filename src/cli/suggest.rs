//! What the user probably meant: a command for a first word that is nearly one, and the
//! instance commands for a job id that has an instance id's shape.

/// Words a user may type first, and the command line each stands for.
const COMMANDS: &[(&str, &str)] = &[
    ("swap", "dcs-wait swap <INSTANCE_ID>..."),
    ("instance", "dcs-wait instance <INSTANCE_ID>..."),
    ("backup", "dcs-wait backup <INSTANCE_ID>..."),
    (
        "restore",
        "dcs-wait restore --from <BACKUP_ID> <INSTANCE_ID>",
    ),
    (
        "wait",
        "dcs-wait <JOB_ID>... (waiting on jobs takes no command)",
    ),
    ("help", "dcs-wait --help"),
    ("demo", "dcs-wait --demo"),
    ("version", "dcs-wait --version"),
];

/// The command line meant by `word`, when it is one of [`COMMANDS`] mistyped (`swpa`,
/// `instances`, `wiat`) or said as a word (`demo`). Only a word of letters alone: a job id
/// such as `swap-1` is never taken for a typo, and DCS's own ids hold digits.
pub fn command_for(word: &str) -> Option<&'static str> {
    if word.len() < 3 || !word.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let word = word.to_ascii_lowercase();
    COMMANDS
        .iter()
        .find(|(name, _)| {
            let near = if name.len() <= 4 { 1 } else { 2 };
            strsim::damerau_levenshtein(&word, name) <= near
                || word.starts_with(name)
                || name.starts_with(&word)
        })
        .map(|(_, line)| *line)
}

/// Whether a job id has the shape of an instance id (a UUID: 8-4-4-4-12 hex digits), which
/// DCS's job ids do not have.
pub fn is_instance_shaped(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_words_name_their_command() {
        for (word, meant) in [
            ("instances", "dcs-wait instance"),
            ("Instance", "dcs-wait instance"),
            ("instnace", "dcs-wait instance"),
            ("inst", "dcs-wait instance"),
            ("swpa", "dcs-wait swap"),
            ("swaps", "dcs-wait swap"),
            ("wiat", "dcs-wait <JOB_ID>"),
            ("wait", "dcs-wait <JOB_ID>"),
            ("demo", "dcs-wait --demo"),
            ("hlep", "dcs-wait --help"),
        ] {
            let line = command_for(word).unwrap_or_else(|| panic!("{word}: no suggestion"));
            assert!(line.starts_with(meant), "{word}: {line}");
        }
    }

    #[test]
    fn ids_are_never_taken_for_typos() {
        for id in [
            "swap-1",
            "job-1",
            "ff8080818822bbf70188235afc24141a",
            "5560df16-cebf-4473-95c4-d8b0ba1ab0e6",
            "ab",
            "deadbeef",
            "done",
        ] {
            assert_eq!(command_for(id), None, "{id}");
        }
    }

    #[test]
    fn only_a_uuid_has_an_instance_id_s_shape() {
        assert!(is_instance_shaped("5560df16-cebf-4473-95c4-d8b0ba1ab0e6"));
        assert!(is_instance_shaped("5560DF16-CEBF-4473-95C4-D8B0BA1AB0E6"));
        for id in [
            "ff8080818822bbf70188235afc24141a",
            "5560df16-cebf-4473-95c4-d8b0ba1ab0e",
            "5560df16-cebf-4473-95c4-d8b0ba1ab0eg",
            "job-1",
        ] {
            assert!(!is_instance_shaped(id), "{id}");
        }
    }
}
