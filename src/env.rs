//! The environment, as a value: the process's own, or a fixed set of variables, so that tests
//! (and embedders) never have to change the process environment, which is shared by every
//! thread.

use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `None`: the process environment.
    fixed: Option<HashMap<String, String>>,
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
        let value = match &self.fixed {
            None => std::env::var(name).ok(),
            Some(map) => map.get(name).cloned(),
        }?;
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
}
