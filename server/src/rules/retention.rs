//! What is past its time: pure rules, no I/O.

use jiff::civil::Date;
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};

use crate::rules::consent::{Decision, ReasonCode, Severity};

/// `[retention]` in the config: how long things are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// A photo that is not published is kept this many days after it was imported (or,
    /// if it was published once, after its last takedown was done).
    pub unpublished_photo_days: u32,
    /// A photo nobody may use because of who is in it (someone without consent, or an
    /// "unknown" tag) is kept this many days.
    pub blocked_photo_days: u32,
    /// The forms (and scans) of a person marked as left are kept this many years after
    /// the day they left.
    pub former_person_years: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            unpublished_photo_days: 365,
            blocked_photo_days: 30,
            former_person_years: 6,
        }
    }
}

/// Why a photo is purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The only person in it was erased.
    Erased,
    /// Past `blocked_photo_days`, and nobody may use it because of who is in it.
    Blocked,
    /// Past `unpublished_photo_days`.
    Unpublished,
}

/// What the rules need to know about one photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoState {
    pub imported_at: Timestamp,
    /// When its last takedown was marked done, if it was ever published.
    pub last_taken_down: Option<Timestamp>,
    /// A publication not taken down yet, or a web endpoint that may still hold a copy.
    pub published: bool,
    /// Someone in it is restricted (Article 18): kept, untouched, until that is lifted.
    pub restricted: bool,
    /// Its only person was erased.
    pub erase_due: bool,
    /// Nobody may use it on any channel because of who is in it (see [`blocked_everywhere`]).
    pub blocked: bool,
}

impl PhotoState {
    /// Since when the photo has been lying unused.
    pub fn unused_since(&self) -> Timestamp {
        self.last_taken_down
            .map_or(self.imported_at, |t| t.max(self.imported_at))
    }
}

fn days_passed(since: Timestamp, days: u32, now: Timestamp) -> bool {
    since
        .checked_add(SignedDuration::from_hours(i64::from(days) * 24))
        .is_ok_and(|due| due <= now)
}

/// Whether (and why) a photo goes now. A published photo never does; a restricted
/// person's photo is kept; erasure needs no retention settings, age does.
pub fn photo_due(rules: Option<&Retention>, photo: &PhotoState, now: Timestamp) -> Option<Cause> {
    if photo.published {
        return None;
    }
    if photo.erase_due {
        return Some(Cause::Erased);
    }
    if photo.restricted {
        return None;
    }
    let rules = rules?;
    let since = photo.unused_since();
    if photo.blocked && days_passed(since, rules.blocked_photo_days, now) {
        return Some(Cause::Blocked);
    }
    days_passed(since, rules.unpublished_photo_days, now).then_some(Cause::Unpublished)
}

/// Whether a photo is old enough that it would go if it were blocked: only then is the
/// consent decision needed.
pub fn blocked_check_needed(rules: &Retention, photo: &PhotoState, now: Timestamp) -> bool {
    !photo.published
        && !photo.restricted
        && !photo.erase_due
        && days_passed(photo.unused_since(), rules.blocked_photo_days, now)
}

/// Whether the forms of a person who left on `left_on` go `today`.
pub fn forms_due(rules: &Retention, left_on: Date, today: Date) -> bool {
    left_on
        .checked_add(Span::new().years(i64::from(rules.former_person_years)))
        .is_ok_and(|due| due <= today)
}

/// The reasons about who is in a photo that stop it being used: nobody on record may
/// allow it, whatever a director does.
const PEOPLE_BLOCKS: [ReasonCode; 8] = [
    ReasonCode::NoConsent,
    ReasonCode::ConsentWithheld,
    ReasonCode::ConsentExpired,
    ReasonCode::ConsentWithdrawn,
    ReasonCode::OwnObjection,
    ReasonCode::ParentFormAfter18,
    ReasonCode::PersonNotOnRecord,
    ReasonCode::UnknownPerson,
];

/// Whether every channel's decision is blocked by who is in the photo (someone without
/// consent for it, or an unknown person). A photo with one channel it could go to is not.
pub fn blocked_everywhere(decisions: &[Decision]) -> bool {
    !decisions.is_empty()
        && decisions.iter().all(|d| {
            d.reasons
                .iter()
                .any(|r| r.severity == Severity::Blocks && PEOPLE_BLOCKS.contains(&r.code))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Channel;
    use crate::rules::consent::Reason;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn photo() -> PhotoState {
        PhotoState {
            imported_at: at("2025-01-10T09:00:00Z"),
            last_taken_down: None,
            published: false,
            restricted: false,
            erase_due: false,
            blocked: false,
        }
    }

    #[test]
    fn photos_go_when_their_time_is_up_and_never_while_published_or_restricted() {
        let rules = Retention::default();
        let now = at("2026-01-10T09:00:00Z"); // 365 days after the import
        let cases: Vec<(&str, PhotoState, Option<&Retention>, Option<Cause>)> = vec![
            (
                "unpublished for 365 days",
                photo(),
                Some(&rules),
                Some(Cause::Unpublished),
            ),
            (
                "one second short",
                PhotoState {
                    imported_at: at("2025-01-10T09:00:01Z"),
                    ..photo()
                },
                Some(&rules),
                None,
            ),
            (
                "published",
                PhotoState {
                    published: true,
                    ..photo()
                },
                Some(&rules),
                None,
            ),
            (
                "published and its only person erased",
                PhotoState {
                    published: true,
                    erase_due: true,
                    ..photo()
                },
                Some(&rules),
                None,
            ),
            (
                "restricted",
                PhotoState {
                    restricted: true,
                    ..photo()
                },
                Some(&rules),
                None,
            ),
            ("no retention configured", photo(), None, None),
            (
                "erased needs no retention settings",
                PhotoState {
                    erase_due: true,
                    imported_at: now,
                    ..photo()
                },
                None,
                Some(Cause::Erased),
            ),
            (
                "taken down recently: the clock starts again",
                PhotoState {
                    last_taken_down: Some(at("2025-12-01T00:00:00Z")),
                    ..photo()
                },
                Some(&rules),
                None,
            ),
            (
                "blocked for 30 days",
                PhotoState {
                    blocked: true,
                    imported_at: at("2025-12-11T09:00:00Z"),
                    ..photo()
                },
                Some(&rules),
                Some(Cause::Blocked),
            ),
            (
                "blocked for 29 days",
                PhotoState {
                    blocked: true,
                    imported_at: at("2025-12-12T09:00:00Z"),
                    ..photo()
                },
                Some(&rules),
                None,
            ),
            (
                "blocked but restricted",
                PhotoState {
                    blocked: true,
                    restricted: true,
                    ..photo()
                },
                Some(&rules),
                None,
            ),
        ];
        for (name, state, rules, want) in cases {
            assert_eq!(photo_due(rules, &state, now), want, "{name}");
        }
    }

    #[test]
    fn the_blocked_check_is_needed_only_for_photos_old_enough_to_go_for_it() {
        let rules = Retention::default();
        let now = at("2025-02-09T09:00:00Z"); // 30 days after the import
        assert!(blocked_check_needed(&rules, &photo(), now));
        assert!(!blocked_check_needed(
            &rules,
            &photo(),
            at("2025-02-09T08:59:59Z")
        ));
        assert!(!blocked_check_needed(
            &rules,
            &PhotoState {
                published: true,
                ..photo()
            },
            now
        ));
    }

    #[test]
    fn forms_of_people_who_left_go_after_the_configured_years() {
        let rules = Retention::default();
        let left: Date = "2020-07-20".parse().unwrap();
        for (today, want) in [
            ("2026-07-19", false),
            ("2026-07-20", true),
            ("2030-01-01", true),
        ] {
            assert_eq!(
                forms_due(&rules, left, today.parse().unwrap()),
                want,
                "{today}"
            );
        }
        let none = Retention {
            former_person_years: 0,
            ..rules
        };
        assert!(forms_due(&none, left, left));
    }

    fn decision(codes: &[(ReasonCode, Severity)]) -> Decision {
        Decision {
            channel: Channel::Website,
            on: "2026-01-01".parse().unwrap(),
            verdict: crate::rules::consent::Verdict::Blocked,
            reasons: codes
                .iter()
                .map(|&(code, severity)| Reason {
                    code,
                    severity,
                    person: None,
                    message: String::new(),
                    for_staff: None,
                })
                .collect(),
        }
    }

    #[test]
    fn blocked_everywhere_means_every_channel_blocked_by_who_is_in_it() {
        use ReasonCode as C;
        use Severity as S;
        let no_consent = decision(&[(C::NoConsent, S::Blocks)]);
        let unknown = decision(&[(C::UnknownPerson, S::Blocks)]);
        let vulnerable = decision(&[(C::Vulnerable, S::Blocks)]);
        let allowed = decision(&[
            (C::ConsentGiven, S::Info),
            (C::ApprovalMissing, S::NeedsReview),
        ]);
        let damaged = decision(&[(C::FileDamaged, S::Blocks)]);
        let cases = [
            (
                "no consent anywhere",
                vec![no_consent.clone(), no_consent.clone()],
                true,
            ),
            (
                "unknown and no consent",
                vec![unknown.clone(), no_consent.clone()],
                true,
            ),
            (
                "internal use allowed",
                vec![allowed.clone(), no_consent.clone()],
                false,
            ),
            (
                "vulnerable on the website, internal allowed",
                vec![allowed, vulnerable],
                false,
            ),
            (
                "damaged file, not people",
                vec![damaged.clone(), damaged],
                false,
            ),
            ("no channels", vec![], false),
        ];
        for (name, decisions, want) in cases {
            assert_eq!(blocked_everywhere(&decisions), want, "{name}");
        }
    }
}
