//! Keys a kiosk and the server share without sending them: both derive them from the
//! kiosk's bearer token (the server from the SHA-256 of it, which is all it keeps).
//!
//! - The roster names badges and device tags by a keyed hash of their UID
//!   ([`KioskKey::tag`]), never the UID itself: the kiosk hashes what it reads and looks
//!   that up, so it still decides taps offline, and a copied SD card gives no UIDs to
//!   clone onto a blank card.
//! - Each line of the kiosk's journal carries a MAC ([`KioskKey::journal_mac`]): a line
//!   edited or added on the card is refused instead of replayed.
//!
//! HMAC-SHA-256 with a label per use, so one value can never stand in for the other.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The key of one kiosk token.
#[derive(Clone, PartialEq, Eq)]
pub struct KioskKey([u8; 32]);

impl std::fmt::Debug for KioskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KioskKey(..)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl KioskKey {
    /// The kiosk's side: from its token.
    pub fn from_token(token: &str) -> Self {
        Self(Sha256::digest(token.trim().as_bytes()).into())
    }

    /// The server's side: from the token's SHA-256 as it stores it (64 hex digits).
    pub fn from_token_hash(hash_hex: &str) -> Option<Self> {
        if hash_hex.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hash_hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(key))
    }

    /// The key of a kiosk that runs without a server (the demo).
    pub fn demo() -> Self {
        Self::from_token("consentcam demo kiosk")
    }

    fn mac(&self, label: &[u8], data: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(label);
        mac.update(data);
        mac
    }

    /// The keyed hash of a tag UID (upper-case hex, as `TagUid` writes it).
    pub fn tag(&self, uid: &str) -> String {
        hex(&self
            .mac(b"consentcam tag\0", uid.as_bytes())
            .finalize()
            .into_bytes())
    }

    /// The MAC of one journal line's content.
    pub fn journal_mac(&self, line: &[u8]) -> String {
        hex(&self
            .mac(b"consentcam journal\0", line)
            .finalize()
            .into_bytes())
    }

    /// Whether `mac` (hex) is this line's MAC, compared in constant time.
    pub fn journal_mac_ok(&self, line: &[u8], mac: &str) -> bool {
        let Some(bytes) = (0..mac.len() / 2)
            .map(|i| u8::from_str_radix(mac.get(2 * i..2 * i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        mac.len() == 64
            && self
                .mac(b"consentcam journal\0", line)
                .verify_slice(&bytes)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_and_the_kiosk_derive_the_same_key_and_tokens_differ() {
        let token = "3f7a9c";
        let stored: String = Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let server = KioskKey::from_token_hash(&stored).unwrap();
        let kiosk = KioskKey::from_token(token);
        assert_eq!(server, kiosk);
        assert_eq!(server.tag("04A1B2C3"), kiosk.tag("04A1B2C3"));
        assert_ne!(
            kiosk.tag("04A1B2C3"),
            KioskKey::from_token("other").tag("04A1B2C3")
        );
        assert_ne!(kiosk.tag("04A1B2C3"), kiosk.tag("04A1B2C4"));
        assert!(KioskKey::from_token_hash("not hex").is_none());
        assert!(KioskKey::from_token_hash(&"zz".repeat(32)).is_none());
    }

    #[test]
    fn a_hash_never_shows_the_uid_and_a_tag_hash_is_no_journal_mac() {
        let key = KioskKey::from_token("t");
        let hash = key.tag("04A1B2C3");
        assert_eq!(hash.len(), 64);
        assert!(!hash.to_uppercase().contains("04A1B2C3"));
        assert_ne!(hash, key.journal_mac(b"04A1B2C3"));
    }

    #[test]
    fn a_journal_mac_holds_only_for_its_line_and_its_key() {
        let key = KioskKey::from_token("t");
        let line = br#"{"event_id":"a-1","seq":1}"#;
        let mac = key.journal_mac(line);
        assert!(key.journal_mac_ok(line, &mac));
        assert!(!key.journal_mac_ok(br#"{"event_id":"a-1","seq":2}"#, &mac));
        assert!(!KioskKey::from_token("u").journal_mac_ok(line, &mac));
        assert!(!key.journal_mac_ok(line, "abc"));
        assert!(!key.journal_mac_ok(line, ""));
        assert!(!key.journal_mac_ok(line, &"é".repeat(32)));
    }
}
