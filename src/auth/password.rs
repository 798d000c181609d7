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

/// Checks a new password against the policy; returns what is wrong.
pub fn check_strength(password: &str, username: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!(
            "must be at least {MIN_PASSWORD_LEN} characters long"
        ));
    }
    if password.chars().count() > 256 {
        return Err("must be at most 256 characters long".into());
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err("must not contain the username".into());
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
    fn random_secrets_differ() {
        assert_ne!(random_secret(32), random_secret(32));
        assert_eq!(random_secret(40).len(), 40);
    }
}
