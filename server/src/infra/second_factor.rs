//! The second factor: time-based one-time codes (RFC 6238, as authenticator apps make
//! them) and single-use recovery codes. Pure functions; the accounts' secrets and used
//! codes are kept by `store::registry`.

use totp_rs::{Algorithm, Builder, Secret, Totp};

/// What the authenticator app shows as the account's issuer.
pub const ISSUER: &str = "consentcam";
/// How many recovery codes an account gets.
pub const RECOVERY_CODES: usize = 10;

/// What a typed code is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// Six digits from the authenticator app.
    Totp(String),
    /// A recovery code, normalised (lower case, no separators).
    Recovery(String),
}

impl Code {
    /// Reads what a user typed: spaces and dashes do not matter, nor case.
    pub fn parse(typed: &str) -> Option<Self> {
        let clean: String = typed
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\t'))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if clean.len() == 6 && clean.chars().all(|c| c.is_ascii_digit()) {
            Some(Code::Totp(clean))
        } else if clean.len() == 12 && clean.chars().all(|c| c.is_ascii_alphanumeric()) {
            Some(Code::Recovery(clean))
        } else {
            None
        }
    }
}

fn totp(secret_base32: &str, username: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(username.replace(':', "_"))
        .build()
        .ok()
}

/// A new random secret, base32.
pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

/// The time step whose code `code` is, if it is one of `secret`'s around `unix_seconds`
/// (one step either side, for clock drift between phone and server).
pub fn check(secret_base32: &str, code: &str, unix_seconds: u64) -> Option<u64> {
    totp(secret_base32, "-")?.check(code, unix_seconds)
}

/// The code for `unix_seconds` (what the phone shows).
pub fn code_at(secret_base32: &str, unix_seconds: u64) -> Option<String> {
    Some(totp(secret_base32, "-")?.generate(unix_seconds).to_string())
}

/// The `otpauth://` link and its QR code (a PNG, base64) for enrolling `username`.
pub fn enrolment(secret_base32: &str, username: &str) -> Option<(String, String)> {
    let totp = totp(secret_base32, username)?;
    Some((totp.to_url().ok()?, totp.to_qr_base64().ok()?))
}

/// Fresh recovery codes as shown to the user: `xxxx-xxxx-xxxx` from a 32-letter alphabet
/// without look-alikes (60 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 12];
            getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("the OS has no randomness: {e}"));
            let letters: String = bytes
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect();
            format!("{}-{}-{}", &letters[..4], &letters[4..8], &letters[8..])
        })
        .collect()
}

/// How a recovery code is stored: the SHA-256 of its normalised form.
pub fn recovery_hash(normalised: &str) -> String {
    super::password::token_hash(normalised)
}

/// The stored hashes of recovery codes as shown by [`new_recovery_codes`].
pub fn recovery_hashes(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .filter_map(|c| match Code::parse(c) {
            Some(Code::Recovery(n)) => Some(recovery_hash(&n)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_taken_in_its_step_and_the_neighbouring_ones_only() {
        let secret = new_secret();
        let t = 1_790_000_000u64;
        let code = code_at(&secret, t).unwrap();
        assert_eq!(code.len(), 6);
        assert_eq!(check(&secret, &code, t), Some(t / 30));
        assert_eq!(check(&secret, &code, t + 30), Some(t / 30));
        assert_eq!(check(&secret, &code, t + 90), None);
        assert_eq!(check(&new_secret(), &code, t), None);
        assert_eq!(check("not base32!", &code, t), None);
    }

    #[test]
    fn typed_codes_are_read_forgivingly_and_nothing_else_is_a_code() {
        assert_eq!(Code::parse(" 123 456 "), Some(Code::Totp("123456".into())));
        assert_eq!(
            Code::parse("ABCD-efgh-2345"),
            Some(Code::Recovery("abcdefgh2345".into()))
        );
        assert_eq!(Code::parse("12345"), None);
        assert_eq!(Code::parse("abcd-efgh-234!"), None);
        assert_eq!(Code::parse(""), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_read_back_as_recovery_codes() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for code in &codes {
            assert!(
                matches!(Code::parse(code), Some(Code::Recovery(_))),
                "{code}"
            );
        }
        assert_eq!(recovery_hashes(&codes).len(), RECOVERY_CODES);
    }

    #[test]
    fn the_enrolment_link_names_the_issuer_and_the_account() {
        let secret = new_secret();
        let (url, qr) = enrolment(&secret, "director").unwrap();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(
            url.contains("consentcam") && url.contains("director"),
            "{url}"
        );
        assert!(url.contains(&secret), "{url}");
        assert!(qr.len() > 100);
    }
}
