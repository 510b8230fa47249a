//! The environment, as a value: the process's own, or a fixed set of variables, so that tests
//! (and embedders) never have to change the process environment, which is shared by every
//! thread.

use std::collections::HashMap;

/// The variables credentials, endpoints and outputs are read from: the process's own
/// ([`Env::process`], also the default) or a fixed set ([`Env::from_pairs`]).
#[derive(Clone, Default)]
pub struct Env {
    /// `None`: the process environment.
    fixed: Option<HashMap<String, String>>,
}

/// The names only: the values include secret keys and tokens.
impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.fixed {
            None => f.write_str("Env(process)"),
            Some(map) => {
                let mut names: Vec<&String> = map.keys().collect();
                names.sort();
                f.debug_tuple("Env").field(&names).finish()
            }
        }
    }
}

impl Env {
    /// The process environment.
    pub fn process() -> Env {
        Env { fixed: None }
    }

    /// Exactly these variables and no others.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            fixed: Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
        }
    }

    /// A variable's value, trimmed; an empty or blank variable counts as unset, as an
    /// `export X=` in a CI script means "not given".
    pub fn get(&self, name: &str) -> Option<String> {
        // The untrimmed copy is zeroed when dropped: it may be a secret key.
        let value = zeroize::Zeroizing::new(match &self.fixed {
            None => std::env::var(name).ok(),
            Some(map) => map.get(name).cloned(),
        }?);
        let trimmed = value.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_unset_and_values_are_trimmed() {
        let env = Env::from_pairs([("A", " x "), ("B", "  "), ("C", "")]);
        assert_eq!(env.get("A").as_deref(), Some("x"));
        assert_eq!(env.get("B"), None);
        assert_eq!(env.get("C"), None);
        assert_eq!(env.get("D"), None);
    }

    #[test]
    fn debug_shows_names_never_values() {
        let env = Env::from_pairs([("HUAWEICLOUD_SDK_SK", "very-secret")]);
        let shown = format!("{env:?}");
        assert!(shown.contains("HUAWEICLOUD_SDK_SK"), "{shown}");
        assert!(!shown.contains("very-secret"), "{shown}");
    }
}
