//! The identifiers that go into a URL path, each a type of its own, parsed once.
//!
//! An id is 1 to 64 of `A-Z a-z 0-9 - _`: nothing that could add a path segment, a query or
//! an escape. Since a URL is only ever built from these types, no text reaches a path
//! unchecked, and a job id cannot be passed where an instance id belongs.

use super::untrusted::printable;
use std::fmt;
use std::str::FromStr;

/// Why a text is not an id. The text is kept printable and short, for a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a DCS {kind} (1 to 64 letters, digits, '-' or '_')")]
pub struct InvalidId {
    kind: &'static str,
    text: String,
}

impl InvalidId {
    /// What was expected: `job id`, `instance id` or `project id`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The text that was refused, made printable and cut to 80 characters.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Whether `text` is 1 to 64 of `A-Z a-z 0-9 - _`.
fn is_identifier(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check(kind: &'static str, text: String) -> Result<String, InvalidId> {
    if is_identifier(&text) {
        Ok(text)
    } else {
        let shown: String = text.chars().take(80).collect();
        Err(InvalidId {
            kind,
            text: printable(&shown),
        })
    }
}

/// One definition for the three kinds: they differ only in name.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $example:literal) => {
        $(#[$doc])*
        ///
        /// ```
        #[doc = concat!("let id: dcs_wait::", stringify!($name), " = \"", $example, "\".parse().unwrap();")]
        #[doc = concat!("assert_eq!(id.as_str(), \"", $example, "\");")]
        #[doc = concat!("assert!(\"a/b\".parse::<dcs_wait::", stringify!($name), ">().is_err());")]
        /// ```
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(text: &str) -> Result<Self, InvalidId> {
                check($kind, text.to_string()).map($name)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(text: String) -> Result<Self, InvalidId> {
                check($kind, text).map($name)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// A DCS job id: what an asynchronous operation returned as `job_id`.
    JobId,
    "job id",
    "ff8080818822bbf70188235afc24141a"
);

id_type!(
    /// A DCS instance id.
    InstanceId,
    "instance id",
    "5560df16-cebf-4473-95c4-d8b0ba1ab0e6"
);

id_type!(
    /// A backup's id: what starting one returned as `backup_id`, and its record's.
    BackupId,
    "backup id",
    "4631832a-f4f3-4d5c-b0e7-ff4a1c4ea4c0"
);

id_type!(
    /// A restore's id: what starting one returned as `restore_id`, and its record's.
    RestoreId,
    "restore id",
    "9f3a1c5e-2b7d-4e8f-a6c1-d0b2e4f6a8c9"
);

id_type!(
    /// A project id: the project of the instance's region.
    ProjectId,
    "project id",
    "0a2b4c6d8e0f1a2b3c4d5e6f7a8b9c0d"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_to_64_safe_characters() {
        for ok in ["a", "A-z_09", &"x".repeat(64)] {
            assert_eq!(ok.parse::<JobId>().unwrap().as_str(), ok);
        }
        let long = "x".repeat(65);
        for bad in ["", "a/b", "../x", "a b", "é", "a?b", "a%2F", long.as_str()] {
            let err = bad.parse::<InstanceId>().unwrap_err();
            assert_eq!(err.kind(), "instance id");
            assert!(
                err.to_string().contains("is not a DCS instance id"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_refused_text_is_shown_short_and_printable() {
        let err = format!("\u{1b}[31m{}", "y".repeat(200))
            .parse::<ProjectId>()
            .unwrap_err();
        assert!(!err.text().contains('\u{1b}'));
        assert!(err.text().chars().count() < 100, "{}", err.text());
    }

    #[test]
    fn serde_checks_too() {
        let id: JobId = serde_json::from_str("\"j-1\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"j-1\"");
        assert!(serde_json::from_str::<JobId>("\"j/1\"").is_err());
    }
}
