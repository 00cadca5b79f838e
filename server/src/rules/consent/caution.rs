//! What the holder of a camera booked for a group must know before taking any photo (K2):
//! who in the group must not be photographed at all, and who may be photographed for
//! internal use only.
//!
//! Derived from the per-channel verdicts of a photo of the person alone, fully tagged and
//! approved (the consent lookup's answer), so it follows exactly the rules of [`super::decide`].

use serde::{Deserialize, Serialize};

use super::Verdict;
use crate::domain::Channel;

/// A warning about one person of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Caution {
    /// No channel at all would take a photo of this person: do not photograph them.
    NoPhotos,
    /// Some channel would, but not the website or social media (no consent for them, or
    /// the person is vulnerable): photos of them stay internal or with a partner.
    NotPublic,
}

/// The caution for one person from their standing on every channel, or `None` when a photo
/// of them could go anywhere.
pub fn caution(standing: &[(Channel, Verdict)]) -> Option<Caution> {
    let allowed = |wanted: fn(&Channel) -> bool| {
        standing
            .iter()
            .any(|(channel, verdict)| wanted(channel) && *verdict == Verdict::Allowed)
    };
    if !allowed(|_| true) {
        Some(Caution::NoPhotos)
    } else if !allowed(|c| *c == Channel::Website) || !allowed(|c| *c == Channel::Social) {
        Some(Caution::NotPublic)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PartnerId;

    const A: Verdict = Verdict::Allowed;
    const B: Verdict = Verdict::Blocked;
    const R: Verdict = Verdict::NeedsReview;

    type Row<'a> = (&'a [(Channel, Verdict)], Option<Caution>);

    #[test]
    fn caution_table() {
        let p = Channel::Partner(PartnerId(1));
        use Channel::{Internal as I, Social as S, Website as W};
        #[rustfmt::skip]
        let table: &[Row<'_>] = &[
            // Everything allowed: nothing to warn about.
            (&[(I, A), (p, A), (W, A), (S, A)], None),
            (&[(I, A), (W, A), (S, A)], None),
            // Nothing allowed, whatever the reason.
            (&[(I, B), (p, B), (W, B), (S, B)], Some(Caution::NoPhotos)),
            (&[(I, R), (p, B), (W, R), (S, B)], Some(Caution::NoPhotos)),
            (&[], Some(Caution::NoPhotos)),
            // Internal or a partner only.
            (&[(I, A), (p, B), (W, B), (S, B)], Some(Caution::NotPublic)),
            (&[(I, B), (p, A), (W, B), (S, B)], Some(Caution::NotPublic)),
            // One public channel missing is enough.
            (&[(I, A), (p, A), (W, A), (S, B)], Some(Caution::NotPublic)),
            (&[(I, A), (p, A), (W, B), (S, A)], Some(Caution::NotPublic)),
            // Review is not allowed.
            (&[(I, A), (W, R), (S, A)], Some(Caution::NotPublic)),
            // Public without internal still counts as photographable and public.
            (&[(I, B), (W, A), (S, A)], None),
        ];
        for (standing, want) in table {
            assert_eq!(caution(standing), *want, "{standing:?}");
        }
    }
}
