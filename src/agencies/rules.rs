//! Rules an agency must satisfy, as plain functions.

use super::AgencyKind;
use crate::error::FieldError;
use crate::regions::RegionLevel;

/// What level of region an agency of `kind` must, may or must not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionRule {
    /// A region of this level is required.
    Required(RegionLevel),
    /// No region: the agency is national.
    None,
    /// Any region, or none.
    Optional,
}

/// The region rule for an agency kind.
pub fn region_rule(kind: AgencyKind) -> RegionRule {
    match kind {
        AgencyKind::ProvincialSocialService | AgencyKind::ProvincialSecretariat => {
            RegionRule::Required(RegionLevel::Province)
        }
        AgencyKind::RegencySocialService => RegionRule::Required(RegionLevel::Regency),
        AgencyKind::Ministry | AgencyKind::System => RegionRule::None,
        AgencyKind::MigrantProtectionService
        | AgencyKind::Shelter
        | AgencyKind::Police
        | AgencyKind::Other => RegionRule::Optional,
    }
}

/// Checks that the region (its level, if one is given and known) fits the agency's kind.
pub fn check_region(kind: AgencyKind, region_level: Option<RegionLevel>) -> Result<(), FieldError> {
    let fail = |m: String| Err(FieldError::new("region_code", m));
    match (region_rule(kind), region_level) {
        (RegionRule::Required(level), None) => fail(format!("a {kind} must cover a {level}")),
        (RegionRule::Required(level), Some(given)) if given != level => {
            fail(format!("a {kind} covers a {level}, not a {given}"))
        }
        (RegionRule::None, Some(_)) => fail(format!("a {kind} is national and covers no region")),
        _ => Ok(()),
    }
}

/// Normalises and checks an agency code: 2 to 32 upper-case letters, digits, `-` or `_`.
pub fn normalise_code(code: &str) -> Result<String, FieldError> {
    let code = code.trim().to_uppercase();
    let valid = (2..=32).contains(&code.len())
        && code
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if valid {
        Ok(code)
    } else {
        Err(FieldError::new(
            "code",
            "must be 2 to 32 letters, digits, '-' or '_', starting with a letter or digit",
        ))
    }
}

/// Checks a required display name: the text rule (one line, no control
/// characters, trimmed) with at most 200 characters.
pub fn check_name(field: &str, name: &str) -> Result<String, FieldError> {
    match crate::text::check(name, 200, false) {
        Err(message) => Err(FieldError::new(field, message)),
        Ok(name) if name.is_empty() => Err(FieldError::new(field, "must not be empty")),
        Ok(name) => Ok(name),
    }
}

/// Checks an optional e-mail address (a plausibility check, not RFC 5322).
pub fn check_email(email: &str) -> Result<String, FieldError> {
    let email = crate::text::check(email, 254, false).map_err(|m| FieldError::new("email", m))?;
    let email = email.as_str();
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !email.contains(' ') =>
        {
            Ok(email.to_owned())
        }
        _ => Err(FieldError::new("email", "is not an e-mail address")),
    }
}

/// Checks the e-mail of a PATCH body: absent stays absent, `null` clears,
/// a value must look like an address (the error goes to `errors`).
pub fn check_email_patch(
    patch: &Option<Option<String>>,
    errors: &mut Vec<FieldError>,
) -> Option<Option<String>> {
    match patch {
        Some(Some(e)) => match check_email(e) {
            Ok(e) => Some(Some(e)),
            Err(error) => {
                errors.push(error);
                None
            }
        },
        Some(None) => Some(None),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_refuse_control_characters() {
        assert!(check_name("name", "Dinas\u{1b}Sosial").is_err());
        assert!(check_name("name", "  ").is_err());
        assert_eq!(
            check_name("name", " Dinas Sosial ").unwrap(),
            "Dinas Sosial"
        );
        assert!(check_email("ani\u{0}@example.go.id").is_err());
        assert!(check_email(&format!("{}@example.go.id", "a".repeat(300))).is_err());
        assert!(check_email("ani@example.go.id").is_ok());
    }

    #[test]
    fn a_provincial_service_covers_a_province() {
        assert!(
            check_region(
                AgencyKind::ProvincialSocialService,
                Some(RegionLevel::Province)
            )
            .is_ok()
        );
        assert!(
            check_region(
                AgencyKind::ProvincialSocialService,
                Some(RegionLevel::Regency)
            )
            .is_err()
        );
        assert!(check_region(AgencyKind::ProvincialSocialService, None).is_err());
    }

    #[test]
    fn a_regency_service_covers_a_regency() {
        assert!(check_region(AgencyKind::RegencySocialService, Some(RegionLevel::Regency)).is_ok());
        let err = check_region(
            AgencyKind::RegencySocialService,
            Some(RegionLevel::Province),
        )
        .unwrap_err();
        assert_eq!(err.field, "region_code");
    }

    #[test]
    fn the_ministry_is_national() {
        assert!(check_region(AgencyKind::Ministry, None).is_ok());
        assert!(check_region(AgencyKind::Ministry, Some(RegionLevel::Province)).is_err());
    }

    #[test]
    fn codes_are_upper_cased_and_checked() {
        assert_eq!(normalise_code(" dinsos-kalbar ").unwrap(), "DINSOS-KALBAR");
        assert!(normalise_code("x").is_err());
        assert!(normalise_code("-BAD").is_err());
        assert!(normalise_code("HAS SPACE").is_err());
    }

    #[test]
    fn emails_are_checked_for_shape() {
        assert!(check_email("dinsos@kalbarprov.go.id").is_ok());
        assert!(check_email("not-an-email").is_err());
    }
}
