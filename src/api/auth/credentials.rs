//! Credentials and where they come from.
//!
//! Secrets live in [`SecretString`], which prints as `[REDACTED]` and is zeroed when dropped,
//! so a `{:?}` in a log line or an error cannot leak one. They are read from the environment
//! (or, later, files and instance metadata), never from a command-line flag: a flag shows in
//! `ps` and in CI logs.

use crate::api::Env;
use secrecy::SecretString;
use std::fmt;

/// The access key.
pub const ENV_AK: &str = "HUAWEICLOUD_SDK_AK";
/// The secret key.
pub const ENV_SK: &str = "HUAWEICLOUD_SDK_SK";
/// The security token of temporary AK/SK.
pub const ENV_SECURITY_TOKEN: &str = "HUAWEICLOUD_SDK_SECURITY_TOKEN";
/// An IAM token, instead of AK/SK.
pub const ENV_AUTH_TOKEN: &str = "DCS_WAIT_AUTH_TOKEN";

/// How requests are authenticated.
#[derive(Clone)]
pub enum Credentials {
    /// AK/SK signing; `security_token` for temporary credentials.
    AkSk {
        /// The access key (not secret: it names the key).
        access_key: String,
        /// The secret key.
        secret_key: SecretString,
        /// The security token of temporary credentials.
        security_token: Option<SecretString>,
    },
    /// An IAM token, sent as `X-Auth-Token` instead of a signature.
    Token(SecretString),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::AkSk {
                access_key,
                security_token,
                ..
            } => f
                .debug_struct("AkSk")
                .field("access_key", access_key)
                .field("secret_key", &"[REDACTED]")
                .field(
                    "security_token",
                    &security_token.as_ref().map(|_| "[REDACTED]"),
                )
                .finish(),
            Credentials::Token(_) => f.debug_tuple("Token").field(&"[REDACTED]").finish(),
        }
    }
}

/// What kind of credentials, never their secret part: safe in any message.
impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Why no credentials could be had. Each message says what to set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// No source in the chain had any.
    #[error(
        "no credentials: set {ENV_AK} and {ENV_SK} (plus {ENV_SECURITY_TOKEN} for temporary \
         credentials), or an IAM token in {ENV_AUTH_TOKEN}, or write ak and sk under [basic] \
         in {profile}; instance metadata gave none: {}",
        metadata.as_ref().map_or_else(|| "turned off".to_string(), ToString::to_string)
    )]
    Missing {
        /// The profile file looked for.
        profile: String,
        /// Why instance metadata gave none; `None` when that source is turned off.
        #[source]
        metadata: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// An access key without its secret key.
    #[error("{ENV_AK} is set but {ENV_SK} is not: set both, or neither")]
    SkMissing,
    /// A secret key without its access key.
    #[error("{ENV_SK} is set but {ENV_AK} is not: set both, or neither")]
    AkMissing,
    /// A security token alone.
    #[error("{ENV_SECURITY_TOKEN} is set without {ENV_AK} and {ENV_SK}: a security token is only used with them")]
    TokenWithoutKeys,
    /// The profile file is there but unusable.
    #[error(transparent)]
    Profile(Box<dyn std::error::Error + Send + Sync>),
    /// Temporary credentials that lapsed, with no fresh ones to be had: when they expired.
    #[error("the credentials expired at {0} and could not be refreshed")]
    Expired(String),
    /// A credential holding a character that cannot be sent: HTTP would drop the header, and
    /// the request go out with no authentication at all. Names the credential and where the
    /// character is, never the value.
    #[error(
        "{name} holds a {what} at character {position}, which cannot be sent in an HTTP \
         header: set it again without it (a copy from a terminal, or a file with Windows line \
         ends, often brings one)"
    )]
    Unsendable {
        /// Which credential: a variable's name, or a key and its file.
        name: String,
        /// What kind of character: a control character, or one outside ASCII.
        what: &'static str,
        /// Where, counted in characters from 1.
        position: usize,
    },
}

impl From<super::profile::ProfileError> for CredentialsError {
    fn from(error: super::profile::ProfileError) -> CredentialsError {
        CredentialsError::Profile(Box::new(error))
    }
}

/// What each part of a set of credentials is called where they came from, for a message.
#[derive(Debug, Clone)]
pub struct Names {
    /// The access key's.
    pub access_key: String,
    /// The secret key's.
    pub secret_key: String,
    /// The security token's.
    pub security_token: String,
    /// The IAM token's.
    pub auth_token: String,
}

impl Names {
    /// The environment variables'.
    pub fn env() -> Names {
        Names {
            access_key: ENV_AK.into(),
            secret_key: ENV_SK.into(),
            security_token: ENV_SECURITY_TOKEN.into(),
            auth_token: ENV_AUTH_TOKEN.into(),
        }
    }

    /// Each `key` followed by `where_`.
    pub fn keys(ak: &str, sk: &str, token: &str, auth_token: &str, where_: &str) -> Names {
        let name = |key: &str| format!("{key} {where_}");
        Names {
            access_key: name(ak),
            secret_key: name(sk),
            security_token: name(token),
            auth_token: name(auth_token),
        }
    }
}

/// `value` unless a character in it cannot go in a header. The secret key is never sent,
/// but a control character in it is as surely a mistake (a line end), and its 401 would not
/// say which.
fn sendable(name: &str, value: &str) -> Result<(), CredentialsError> {
    // HTTP header values are visible ASCII, space and tab.
    let bad = value
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_graphic() || *c == ' ' || *c == '\t'));
    match bad {
        None => Ok(()),
        Some((index, c)) => Err(CredentialsError::Unsendable {
            name: name.to_string(),
            what: if c.is_control() {
                "control character"
            } else {
                "character outside ASCII"
            },
            position: index + 1,
        }),
    }
}

impl Credentials {
    /// Reads credentials from `env`; `Ok(None)` when none are set there. An explicit
    /// `DCS_WAIT_AUTH_TOKEN` wins over AK/SK: it can only have been set on purpose.
    pub fn from_env(env: &Env) -> Result<Option<Credentials>, CredentialsError> {
        if let Some(token) = env.get(ENV_AUTH_TOKEN) {
            return Ok(Some(Credentials::Token(SecretString::from(token))));
        }
        let security_token = env.get(ENV_SECURITY_TOKEN).map(SecretString::from);
        match (env.get(ENV_AK), env.get(ENV_SK)) {
            (Some(ak), Some(sk)) => Ok(Some(Credentials::AkSk {
                access_key: ak,
                secret_key: SecretString::from(sk),
                security_token,
            })),
            (Some(_), None) => Err(CredentialsError::SkMissing),
            (None, Some(_)) => Err(CredentialsError::AkMissing),
            (None, None) if security_token.is_some() => Err(CredentialsError::TokenWithoutKeys),
            (None, None) => Ok(None),
        }
    }

    /// Refuses credentials that hold a character an HTTP header cannot carry, naming the part
    /// by `names` and where the character is: sent, its header would be dropped.
    pub fn check_sendable(&self, names: &Names) -> Result<(), CredentialsError> {
        use secrecy::ExposeSecret;
        match self {
            Credentials::Token(token) => sendable(&names.auth_token, token.expose_secret()),
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                sendable(&names.access_key, access_key)?;
                sendable(&names.secret_key, secret_key.expose_secret())?;
                match security_token {
                    Some(token) => sendable(&names.security_token, token.expose_secret()),
                    None => Ok(()),
                }
            }
        }
    }

    /// Says which kind of credentials, never their secret part.
    pub fn describe(&self) -> String {
        match self {
            Credentials::AkSk {
                access_key,
                security_token,
                ..
            } => format!(
                "AK/SK signing with access key {}{}",
                mask(access_key),
                if security_token.is_some() {
                    " and a security token"
                } else {
                    ""
                }
            ),
            Credentials::Token(_) => "an IAM token (X-Auth-Token)".to_string(),
        }
    }
}

/// The access key is not secret (it travels in every Authorization header) but logs need
/// only enough of it to tell two apart.
fn mask(access_key: &str) -> String {
    let head: String = access_key.chars().take(4).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn aksk_from_env_with_optional_security_token() {
        let creds = Credentials::from_env(&env(&[(ENV_AK, "AK1"), (ENV_SK, "SK1")]))
            .unwrap()
            .unwrap();
        assert!(matches!(
            &creds,
            Credentials::AkSk {
                security_token: None,
                ..
            }
        ));
        let creds = Credentials::from_env(&env(&[
            (ENV_AK, "AK1"),
            (ENV_SK, "SK1"),
            (ENV_SECURITY_TOKEN, "TOK"),
        ]))
        .unwrap()
        .unwrap();
        match creds {
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token: Some(token),
            } => {
                assert_eq!(access_key, "AK1");
                assert_eq!(secret_key.expose_secret(), "SK1");
                assert_eq!(token.expose_secret(), "TOK");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn explicit_token_wins_and_empty_means_unset() {
        let creds = Credentials::from_env(&env(&[
            (ENV_AK, "AK1"),
            (ENV_SK, "SK1"),
            (ENV_AUTH_TOKEN, "IAMTOKEN"),
        ]))
        .unwrap()
        .unwrap();
        assert!(matches!(creds, Credentials::Token(_)));
        let creds = Credentials::from_env(&env(&[
            (ENV_AK, "AK1"),
            (ENV_SK, "SK1"),
            (ENV_AUTH_TOKEN, " "),
        ]))
        .unwrap()
        .unwrap();
        assert!(matches!(creds, Credentials::AkSk { .. }));
    }

    #[test]
    fn incomplete_credentials_say_what_is_missing() {
        assert!(matches!(Credentials::from_env(&env(&[])), Ok(None)));
        assert!(matches!(
            Credentials::from_env(&env(&[(ENV_AK, "AK1")])).unwrap_err(),
            CredentialsError::SkMissing
        ));
        assert!(matches!(
            Credentials::from_env(&env(&[(ENV_SK, "SK1")])).unwrap_err(),
            CredentialsError::AkMissing
        ));
        assert!(matches!(
            Credentials::from_env(&env(&[(ENV_SECURITY_TOKEN, "T")])).unwrap_err(),
            CredentialsError::TokenWithoutKeys
        ));
    }

    #[test]
    fn debug_and_display_never_show_a_secret() {
        let creds = Credentials::from_env(&env(&[
            (ENV_AK, "AKIDENTITY"),
            (ENV_SK, "very-secret-sk"),
            (ENV_SECURITY_TOKEN, "very-secret-token"),
        ]))
        .unwrap()
        .unwrap();
        let token = Credentials::from_env(&env(&[(ENV_AUTH_TOKEN, "very-secret-iam")]))
            .unwrap()
            .unwrap();
        for creds in [creds, token] {
            for text in [
                format!("{creds:?}"),
                format!("{creds:#?}"),
                format!("{creds}"),
            ] {
                assert!(!text.contains("very-secret"), "{text}");
            }
        }
    }
}
