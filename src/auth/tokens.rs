//! JWT access tokens: issuing and verifying.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Role;

/// Who a token speaks for: a person or a machine client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A person who signed in with a password.
    User,
    /// A machine client that signed in with client credentials.
    Client,
}

/// The claims of a Pulang access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's or client's id.
    pub sub: Uuid,
    /// Whether `sub` is a user or a machine client.
    pub kind: PrincipalKind,
    /// The agency the principal acts for.
    pub agency: Uuid,
    /// The principal's roles at the time of sign-in.
    pub roles: Vec<Role>,
    /// Issued at (seconds since the epoch); a token issued in the future is refused.
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The token's own id, used to revoke it.
    pub jti: Uuid,
    /// The account's token version at issue; a token whose version is no
    /// longer the account's (after a password, role or secret change or a
    /// deactivation) is refused.
    #[serde(default)]
    pub ver: i32,
    /// Not before (seconds since the epoch); Pulang does not set it, but a
    /// token that carries one in the future is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

impl Claims {
    /// When the token expires.
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or_else(Utc::now)
    }
}

/// Why a presented token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token has expired.
    #[error("the access token has expired")]
    Expired,
    /// Anything else: bad signature, issuer, audience, algorithm or shape.
    #[error("the access token is invalid: {0}")]
    Invalid(String),
}

/// Clock skew tolerated on `exp`, `nbf` and `iat` (seconds).
pub const LEEWAY_SECS: i64 = 30;

/// The key id (`kid`) of a signing secret: the first 16 hex digits of its
/// SHA-256, so that the id names the key without revealing it and needs no
/// configuration of its own.
pub fn key_id(secret: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(secret);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Signs access tokens with the current HMAC key and verifies them with the
/// current key or a previous one, chosen by the token's `kid`: a key is
/// retired by moving it to the previous keys until the tokens it signed have
/// expired, so that no session ends early.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    kid: String,
    decoding: DecodingKey,
    previous: Vec<(String, DecodingKey)>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys from a secret of at least 32 bytes.
    ///
    /// # Panics
    /// If the secret is empty, which configuration never lets through.
    pub fn new(secret: &[u8], issuer: &str, audience: &str, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS as u64;
        validation.validate_nbf = true;
        Self {
            encoding: EncodingKey::from_secret(secret).expect("a non-empty HMAC secret"),
            kid: key_id(secret),
            decoding: DecodingKey::from_secret(secret).expect("a non-empty HMAC secret"),
            previous: Vec::new(),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        }
    }

    /// Also accepts tokens signed with these previous secrets (by their `kid`).
    pub fn with_previous<'a>(mut self, secrets: impl IntoIterator<Item = &'a [u8]>) -> Self {
        for secret in secrets {
            let kid = key_id(secret);
            if kid != self.kid {
                self.previous.push((
                    kid,
                    DecodingKey::from_secret(secret).expect("a non-empty HMAC secret"),
                ));
            }
        }
        self
    }

    /// The key id new tokens carry.
    pub fn current_kid(&self) -> &str {
        &self.kid
    }

    /// Lifetime of the tokens these keys issue.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issues a token for a principal whose token version is 0.
    pub fn issue(
        &self,
        sub: Uuid,
        kind: PrincipalKind,
        agency: Uuid,
        roles: Vec<Role>,
    ) -> anyhow::Result<(String, Claims)> {
        self.issue_versioned(sub, kind, agency, roles, 0)
    }

    /// Issues a token for a principal at its current token version.
    pub fn issue_versioned(
        &self,
        sub: Uuid,
        kind: PrincipalKind,
        agency: Uuid,
        roles: Vec<Role>,
        version: i32,
    ) -> anyhow::Result<(String, Claims)> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub,
            kind,
            agency,
            roles,
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: Uuid::new_v4(),
            ver: version,
            nbf: None,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        let token = encode(&header, &claims, &self.encoding)?;
        Ok((token, claims))
    }

    /// Verifies a token's signature, algorithm, issuer, audience, expiry,
    /// `nbf` and `iat` (neither may lie in the future, past a small leeway).
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| TokenError::Invalid("malformed token".into()))?;
        // A token without a `kid` predates key ids: the current key decides.
        let key = match header.kid.as_deref() {
            None => &self.decoding,
            Some(kid) if kid == self.kid => &self.decoding,
            Some(kid) => self
                .previous
                .iter()
                .find(|(k, _)| k == kid)
                .map(|(_, key)| key)
                .ok_or_else(|| TokenError::Invalid("signed with an unknown key (kid)".into()))?,
        };
        let claims = decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
                    TokenError::Invalid("not valid yet (nbf)".into())
                }
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                    TokenError::Invalid("wrong issuer".into())
                }
                jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                    TokenError::Invalid("wrong audience".into())
                }
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => {
                    TokenError::Invalid("wrong algorithm".into())
                }
                jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                    TokenError::Invalid("bad signature".into())
                }
                _ => TokenError::Invalid("malformed token".into()),
            })?;
        if claims.iat > Utc::now().timestamp() + LEEWAY_SECS {
            return Err(TokenError::Invalid("issued in the future (iat)".into()));
        }
        Ok(claims)
    }
}

/// Reads the signing secret kept in the data folder, creating a random one the first time.
pub fn load_or_create_secret(path: &Path) -> anyhow::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    let secret = super::password::random_secret(48);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write the signing key to {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32], "pulang", "pulang-api", Duration::from_secs(60))
    }

    #[test]
    fn an_issued_token_verifies() {
        let (token, claims) = keys()
            .issue(
                Uuid::new_v4(),
                PrincipalKind::User,
                Uuid::new_v4(),
                vec![Role::Viewer],
            )
            .unwrap();
        let back = keys().verify(&token).unwrap();
        assert_eq!(back.jti, claims.jti);
        assert_eq!(back.roles, vec![Role::Viewer]);
    }

    #[test]
    fn a_token_for_another_audience_is_refused() {
        let other = TokenKeys::new(&[7u8; 32], "pulang", "elsewhere", Duration::from_secs(60));
        let (token, _) = other
            .issue(
                Uuid::new_v4(),
                PrincipalKind::User,
                Uuid::new_v4(),
                vec![Role::Viewer],
            )
            .unwrap();
        assert!(
            matches!(keys().verify(&token), Err(TokenError::Invalid(m)) if m.contains("audience"))
        );
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = TokenKeys::new(&[8u8; 32], "pulang", "pulang-api", Duration::from_secs(60));
        let (token, _) = other
            .issue(
                Uuid::new_v4(),
                PrincipalKind::User,
                Uuid::new_v4(),
                vec![Role::Viewer],
            )
            .unwrap();
        assert!(keys().verify(&token).is_err());
    }

    #[test]
    fn a_retired_key_verifies_until_it_is_dropped_and_an_unknown_kid_never() {
        let old = keys();
        let (token, _) = old
            .issue(Uuid::new_v4(), PrincipalKind::User, Uuid::new_v4(), vec![])
            .unwrap();
        let rotated = TokenKeys::new(&[9u8; 32], "pulang", "pulang-api", Duration::from_secs(60))
            .with_previous([[7u8; 32].as_slice()]);
        assert!(rotated.verify(&token).is_ok(), "signed with a previous key");
        let (fresh, _) = rotated
            .issue(Uuid::new_v4(), PrincipalKind::User, Uuid::new_v4(), vec![])
            .unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&fresh).unwrap().kid.as_deref(),
            Some(rotated.current_kid())
        );
        let dropped = TokenKeys::new(&[9u8; 32], "pulang", "pulang-api", Duration::from_secs(60));
        assert!(
            matches!(dropped.verify(&token), Err(TokenError::Invalid(m)) if m.contains("kid")),
            "a retired key, once dropped, is an unknown kid"
        );
        assert!(dropped.verify(&fresh).is_ok());
    }

    #[test]
    fn an_expired_token_says_so() {
        let keys = keys();
        let mut claims = keys
            .issue(Uuid::new_v4(), PrincipalKind::User, Uuid::new_v4(), vec![])
            .unwrap()
            .1;
        claims.exp = Utc::now().timestamp() - 3600;
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert!(matches!(keys.verify(&token), Err(TokenError::Expired)));
    }

    #[test]
    fn a_token_issued_or_valid_only_in_the_future_is_refused() {
        let keys = keys();
        let mut claims = keys
            .issue(Uuid::new_v4(), PrincipalKind::User, Uuid::new_v4(), vec![])
            .unwrap()
            .1;
        claims.iat = Utc::now().timestamp() + 3600;
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert!(matches!(keys.verify(&token), Err(TokenError::Invalid(m)) if m.contains("iat")));
        claims.iat = Utc::now().timestamp();
        claims.nbf = Some(Utc::now().timestamp() + 3600);
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert!(matches!(keys.verify(&token), Err(TokenError::Invalid(m)) if m.contains("nbf")));
        claims.nbf = Some(Utc::now().timestamp() + 5);
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert!(keys.verify(&token).is_ok(), "within the leeway");
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        // header {"alg":"none","typ":"JWT"}
        let token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.";
        assert!(keys().verify(token).is_err());
    }
}
