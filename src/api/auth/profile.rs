//! The profile file of Huawei Cloud's SDKs: `~/.huaweicloud/credentials`, or the file named by
//! `HUAWEICLOUD_SDK_CREDENTIALS_FILE`. INI, section `[basic]`:
//!
//! ```ini
//! [basic]
//! ak = AK...
//! sk = SK...
//! project_id = 0123...    ; optional
//! security_token = ...    ; optional, with temporary credentials
//! iam_endpoint = https://iam.example.com   ; optional
//! ```

use super::Credentials;
use crate::api::Env;
use ini::{Ini, ParseOption};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

/// The profile file's path, instead of `~/.huaweicloud/credentials`.
pub const ENV_CREDENTIALS_FILE: &str = "HUAWEICLOUD_SDK_CREDENTIALS_FILE";

/// What a profile file holds.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The file it was read from.
    pub path: PathBuf,
    /// `ak`, `sk` and `security_token`, or `auth_token`.
    pub credentials: Credentials,
    /// `project_id`, when given.
    pub project_id: Option<String>,
    /// `iam_endpoint`, when given.
    pub iam_endpoint: Option<String>,
}

/// A profile file that exists but cannot be used. The message names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file is there but cannot be read.
    #[error("cannot read the credentials file {path}: {source}; fix its permissions, or point {ENV_CREDENTIALS_FILE} elsewhere")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not INI, or not text.
    #[error("the credentials file {path} is not valid INI: {why}")]
    Malformed {
        /// The file.
        path: String,
        /// Where (a line and column, never a value: the file holds secrets).
        why: String,
    },
    /// One of a pair without the other.
    #[error("the credentials file {path} has `{has}` in [basic] but not `{lacks}`: give both, or neither")]
    Incomplete {
        /// The file.
        path: String,
        /// The key present.
        has: &'static str,
        /// The key missing.
        lacks: &'static str,
    },
}

/// Where the profile file is: the variable's path, else `~/.huaweicloud/credentials`.
pub fn path(env: &Env) -> Option<PathBuf> {
    if let Some(path) = env.get(ENV_CREDENTIALS_FILE) {
        return Some(PathBuf::from(path));
    }
    let home = env.get("HOME").or_else(|| env.get("USERPROFILE"))?;
    Some(Path::new(&home).join(".huaweicloud").join("credentials"))
}

/// Reads the profile. `Ok(None)` when there is no file, or its `[basic]` holds no keys: then
/// the next source is asked. A file that is there but unusable is an error, not a silent
/// skip: the user meant it to be read.
pub fn load(path: &Path) -> Result<Option<Profile>, ProfileError> {
    let shown = path.display().to_string();
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ProfileError::Unreadable {
                path: shown,
                source: e,
            })
        }
    };
    // The file holds secrets: every copy we make of it is zeroed when dropped. (The INI
    // parser's own copies are freed, not zeroed: that is rust-ini's memory.)
    let text = match String::from_utf8(text) {
        Ok(text) => Zeroizing::new(text),
        Err(e) => {
            e.into_bytes().zeroize();
            return Err(ProfileError::Malformed {
                path: shown,
                why: "it is not UTF-8 text".into(),
            });
        }
    };
    // No quote or escape processing: a Windows path or a secret with a backslash stays as is.
    let options = ParseOption {
        enabled_quote: false,
        enabled_escape: false,
        ..ParseOption::default()
    };
    // The parser's message names a line and column, never a value: no secret can leak.
    let ini = Ini::load_from_str_opt(&text, options).map_err(|e| ProfileError::Malformed {
        path: shown.clone(),
        why: format!("line {}, column {}", e.line, e.col),
    })?;
    let Some(basic) = ini.section(Some("basic")) else {
        return Ok(None);
    };
    let get = |key: &str| {
        basic
            .get(key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let credentials = match (get("ak"), get("sk")) {
        (Some(ak), Some(sk)) => Credentials::AkSk {
            access_key: ak,
            secret_key: SecretString::from(sk),
            security_token: get("security_token").map(SecretString::from),
        },
        (Some(_), None) => {
            return Err(ProfileError::Incomplete {
                path: shown,
                has: "ak",
                lacks: "sk",
            })
        }
        (None, Some(_)) => {
            return Err(ProfileError::Incomplete {
                path: shown,
                has: "sk",
                lacks: "ak",
            })
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(Profile {
        path: path.to_path_buf(),
        credentials,
        project_id: get("project_id"),
        iam_endpoint: get("iam_endpoint"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_basic_with_everything() {
        let f = file(
            "# comment\n[other]\nak=X\n\n[basic]\nak = AKP\nsk = SK\\with\\backslash\n\
             project_id = p123\nsecurity_token = tok\niam_endpoint = https://iam.example.com\n",
        );
        let profile = load(f.path()).unwrap().unwrap();
        assert!(!format!("{profile:?}").contains("backslash"), "{profile:?}");
        assert_eq!(profile.project_id.as_deref(), Some("p123"));
        assert_eq!(
            profile.iam_endpoint.as_deref(),
            Some("https://iam.example.com")
        );
        match profile.credentials {
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                assert_eq!(access_key, "AKP");
                assert_eq!(secret_key.expose_secret(), "SK\\with\\backslash");
                assert_eq!(security_token.unwrap().expose_secret(), "tok");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn absent_file_or_keys_mean_ask_the_next_source() {
        assert!(load(Path::new("/nonexistent/dcs-wait/credentials"))
            .unwrap()
            .is_none());
        assert!(load(file("[default]\nak=1\nsk=2\n").path())
            .unwrap()
            .is_none());
        assert!(load(file("[basic]\nproject_id=p\n").path())
            .unwrap()
            .is_none());
    }

    #[test]
    fn unusable_files_are_errors_naming_the_file() {
        let f = file("[basic]\nak = only\n");
        let err = load(f.path()).unwrap_err();
        assert!(matches!(err, ProfileError::Incomplete { lacks: "sk", .. }));
        assert!(err.to_string().contains(&f.path().display().to_string()));
        let f = file("[basic\nak=1\n");
        let err = load(f.path()).unwrap_err();
        assert!(matches!(err, ProfileError::Malformed { .. }), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = load(dir.path()).unwrap_err();
        assert!(matches!(err, ProfileError::Unreadable { .. }), "{err}");
    }

    #[test]
    fn path_from_variable_or_home() {
        let env = Env::from_pairs([(ENV_CREDENTIALS_FILE, "/x/creds"), ("HOME", "/home/u")]);
        assert_eq!(path(&env), Some(PathBuf::from("/x/creds")));
        let env = Env::from_pairs([("HOME", "/home/u")]);
        assert_eq!(
            path(&env),
            Some(PathBuf::from("/home/u/.huaweicloud/credentials"))
        );
        assert_eq!(path(&Env::from_pairs::<&str, &str>([])), None);
    }
}
