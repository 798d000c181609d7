//! Masking sensitive personal data for callers whose role does not handle the
//! person (finance officers, viewers, the secretariat, machine clients reading
//! back). Plain rules, by characters (never by bytes), so any text masks
//! safely:
//!
//! - NIK: the regency code (4 digits) and the last 4 digits stay: `6171********0002`;
//! - passport: the first character and the last 2 stay: `C*****67`;
//! - phone: the first 4 characters (country and operator prefix) and the last 2 stay;
//! - birth date: the year stays (`1990-**-**`, in the view);
//! - birth place and address: hidden whole ([`TEXT`]).
//!
//! A value too short to keep its ends and still hide something is hidden whole.

/// What free text (birth place, address) is shown as when masked.
pub const TEXT: &str = "***";

/// Keeps the first `head` and the last `tail` characters, stars the rest.
/// Values with fewer than `head + tail + 2` characters are starred whole.
fn keep_ends(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < head + tail + 2 {
        return "*".repeat(chars.len().max(3));
    }
    let hidden = chars.len() - head - tail;
    chars[..head]
        .iter()
        .copied()
        .chain(std::iter::repeat_n('*', hidden))
        .chain(chars[chars.len() - tail..].iter().copied())
        .collect()
}

/// A masked NIK: `6171015505900002` → `6171********0002`.
pub fn nik(value: &str) -> String {
    keep_ends(value, 4, 4)
}

/// A masked passport or SPLP number: `C1234567` → `C*****67`.
pub fn passport(value: &str) -> String {
    keep_ends(value, 1, 2)
}

/// A masked telephone number: `+6281234567890` → `+628********90`.
pub fn phone(value: &str) -> String {
    keep_ends(value, 4, 2)
}

/// Masks a case as recorded in a history entry (`before`/`after`), in place:
/// the same fields as the case view, whatever version of the view the entry
/// was written with.
pub fn case_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    let Some(case) = value.as_object_mut() else {
        return;
    };
    if let Some(address) = case.get_mut("origin_address")
        && !address.is_null()
    {
        *address = Value::from(TEXT);
    }
    let Some(person) = case.get_mut("person").and_then(Value::as_object_mut) else {
        return;
    };
    type Mask = fn(&str) -> String;
    let masks: [(&str, Mask); 5] = [
        ("nik", nik),
        ("passport_number", passport),
        ("phone", phone),
        ("birth_place", |_| TEXT.to_owned()),
        ("birth_date", |d| {
            let year: String = d.chars().take(4).collect();
            format!("{year}-**-**")
        }),
    ];
    for (field, mask) in masks {
        if let Some(v) = person.get_mut(field)
            && let Some(text) = v.as_str()
        {
            *v = Value::from(mask(text));
        }
    }
    person.insert("masked".into(), Value::from(true));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_snapshot_is_masked_like_the_view() {
        let mut snapshot = serde_json::json!({
            "origin_address": "Jl. Tanjungpura 1", "notes": "n",
            "person": {"full_name": "Siti", "nik": "6171015505900002", "passport_number": "C1234567",
                       "phone": "+6281234567890", "birth_place": "Pontianak", "birth_date": "1990-05-15",
                       "created_at": "2019-03-14T09:31:00Z"}
        });
        case_json(&mut snapshot);
        assert_eq!(
            snapshot,
            serde_json::json!({
                "origin_address": "***", "notes": "n",
                "person": {"full_name": "Siti", "nik": "6171********0002", "passport_number": "C*****67",
                           "phone": "+628********90", "birth_place": "***", "birth_date": "1990-**-**",
                           "created_at": "2019-03-14T09:31:00Z", "masked": true}
            })
        );
    }
    use proptest::prelude::*;

    #[test]
    fn a_nik_keeps_its_regency_and_last_four_digits() {
        assert_eq!(nik("6171015505900002"), "6171********0002");
    }

    #[test]
    fn passports_and_phones_keep_only_their_ends() {
        assert_eq!(passport("C1234567"), "C*****67");
        assert_eq!(phone("+6281234567890"), "+628********90");
    }

    #[test]
    fn a_value_too_short_to_keep_its_ends_is_hidden_whole() {
        assert_eq!(passport("AB1"), "***");
        assert_eq!(phone("123456"), "******");
        assert_eq!(nik(""), "***");
    }

    proptest! {
        #[test]
        fn masking_never_panics_and_hides_the_middle(value in "\\PC{0,40}") {
            for (masked, head, tail) in [(nik(&value), 4, 4), (passport(&value), 1, 2), (phone(&value), 4, 2)] {
                let n = value.chars().count();
                prop_assert_eq!(masked.chars().count(), n.max(3));
                if n >= head + tail + 2 {
                    let middle: String = masked.chars().skip(head).take(n - head - tail).collect();
                    prop_assert!(middle.chars().all(|c| c == '*'));
                } else {
                    prop_assert!(masked.chars().all(|c| c == '*'));
                }
            }
        }
    }
}
