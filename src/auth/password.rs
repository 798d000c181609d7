//! Password and client-secret hashing (argon2id) and random secrets.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use rand::distr::Alphanumeric;

/// Shortest password a person may set.
pub const MIN_PASSWORD_LEN: usize = 12;

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane.
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters"),
    )
}

/// Hashes a password or client secret into a PHC string.
pub fn hash(secret: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    hasher()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash: {e}"))
}

/// Whether `secret` matches the PHC string `hash`.
pub fn verify(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| hasher().verify_password(secret.as_bytes(), &parsed).is_ok())
}

/// A random alphanumeric secret of `len` characters.
pub fn random_secret(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The strength a person's password needs on zxcvbn's scale of 0 to 4:
/// 3 means it takes more than 10^10 guesses.
pub const MIN_STRENGTH: u8 = 3;

/// The password rule, as told to people (and in the README).
pub const RULE: &str = "a password must be 12 to 256 characters long, must not contain the username, \
     and must be hard to guess: strength 3 of 4 or better by the zxcvbn estimator \
     (no common passwords, repeated characters, sequences, dates or keyboard patterns)";

/// Checks a new password against the policy; returns what is wrong, with the rule.
pub fn check_strength(password: &str, username: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN {
        return Err(format!("is too short ({length} characters); {RULE}"));
    }
    if length > 256 {
        return Err(format!("is too long ({length} characters); {RULE}"));
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(format!("contains the username; {RULE}"));
    }
    let estimate = zxcvbn::zxcvbn(password, &[username, "pulang", "kalbar", "pontianak"]);
    let score = u8::from(estimate.score());
    if score < MIN_STRENGTH {
        let why = estimate
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        return Err(format!(
            "is too easy to guess: strength {score} of 4{why}; {RULE}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_own_secret_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterz", &h));
    }

    #[test]
    fn garbage_hashes_never_verify() {
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn short_passwords_and_usernames_are_refused() {
        assert!(check_strength("short", "ani").is_err());
        assert!(check_strength("ani.pontianak.2019", "ani.pontianak").is_err());
        assert!(check_strength("a sufficiently long phrase", "ani").is_ok());
    }

    #[test]
    fn trivially_weak_long_passwords_are_refused_with_the_rule() {
        for weak in [
            "            ",
            "aaaaaaaaaaaa",
            "123456789012",
            "passwordpassword",
            "qwertyuiopasdf",
            "pontianak2019",
        ] {
            let why = check_strength(weak, "ani").unwrap_err();
            assert!(why.contains("12 to 256 characters"), "{weak}: {why}");
        }
        assert!(check_strength("Kapuas river at dawn 2019!", "ani").is_ok());
    }

    #[test]
    fn random_secrets_differ() {
        assert_ne!(random_secret(32), random_secret(32));
        assert_eq!(random_secret(40).len(), 40);
    }
}
