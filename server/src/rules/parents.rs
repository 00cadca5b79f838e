//! Consent answered online (P1-P3): who may answer for a person, whether a personal link
//! may still be used, the date-of-birth check, when a renewal request goes out, what the
//! form says, and what an answer or a withdrawal grants.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{PartnerId, Role, Scopes, SignerKind, is_adult_on};

/// Wrong dates of birth a link takes before it locks.
pub const BIRTH_DATE_TRIES: u32 = 5;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Give (or renew) an answer: the whole form.
    Answer,
    /// Withdraw any channel given before: one page.
    Withdraw,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Answer => "answer",
            Purpose::Withdraw => "withdraw",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "answer" => Some(Purpose::Answer),
            "withdraw" => Some(Purpose::Withdraw),
            _ => None,
        }
    }
}

/// Who answers for a person on `today`: the person themself when 18 or over, or not a
/// learner (staff, employers and visitors sign their own forms); otherwise a parent,
/// guardian or carer.
pub fn answers_for_self(role: Role, born: Date, today: Date) -> bool {
    role != Role::Learner || is_adult_on(born, today)
}

/// Whether a contact with `relationship` may answer for a person (see
/// [`answers_for_self`]).
pub fn may_answer(relationship: SignerKind, role: Role, born: Date, today: Date) -> bool {
    answers_for_self(role, born, today) != relationship.is_on_behalf()
}

/// What a link's row says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkFacts {
    pub expires_at: Timestamp,
    pub used: bool,
    pub locked: bool,
    /// The contact was removed, or the person erased or gone.
    pub withdrawn_contact: bool,
}

/// Why a link cannot be used. Each is told to the visitor in the same plain words, with
/// the way to ask for a new link; none says whose link it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No link has this token (never issued, or altered).
    Unknown,
    Expired,
    Used,
    Locked,
}

impl Refusal {
    pub fn words(self) -> &'static str {
        match self {
            Refusal::Unknown => "This link is not recognised. Check it was copied in full.",
            Refusal::Expired => "This link has expired.",
            Refusal::Used => "This link has already been used.",
            Refusal::Locked => {
                "This link has been locked after too many wrong dates of birth. The office \
                 has been told."
            }
        }
    }
}

/// Whether a link may be used at `now`.
pub fn usable(link: Option<LinkFacts>, now: Timestamp) -> Result<(), Refusal> {
    let Some(link) = link else {
        return Err(Refusal::Unknown);
    };
    if link.withdrawn_contact {
        Err(Refusal::Unknown)
    } else if link.locked {
        Err(Refusal::Locked)
    } else if link.used {
        Err(Refusal::Used)
    } else if now >= link.expires_at {
        Err(Refusal::Expired)
    } else {
        Ok(())
    }
}

/// The outcome of a date of birth typed on a link that had `wrong_before` wrong ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BirthDateCheck {
    Passed,
    /// Wrong; this many tries are left.
    Wrong {
        left: u32,
    },
    /// Wrong, and the link is now locked.
    Locked,
}

pub fn check_birth_date(typed: Date, born: Date, wrong_before: u32) -> BirthDateCheck {
    if wrong_before >= BIRTH_DATE_TRIES {
        BirthDateCheck::Locked
    } else if typed == born {
        BirthDateCheck::Passed
    } else if wrong_before + 1 >= BIRTH_DATE_TRIES {
        BirthDateCheck::Locked
    } else {
        BirthDateCheck::Wrong {
            left: BIRTH_DATE_TRIES - wrong_before - 1,
        }
    }
}

/// When renewal requests go: within `notice_days` before a form lapses, at most once a
/// week and at most `most` times before it lapses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalRequests {
    pub notice_days: i32,
    pub most: u32,
}

/// Whether a renewal request is due on `today` for a form lapsing on `lapses`, given when
/// the requests sent so far for it went (`sent`, any order).
pub fn renewal_request_due(
    rule: RenewalRequests,
    lapses: Date,
    sent: &[Date],
    today: Date,
) -> bool {
    let Ok(window_opens) = lapses.checked_sub(jiff::Span::new().days(rule.notice_days)) else {
        return false;
    };
    if today < window_opens || today >= lapses {
        return false;
    }
    let in_window: Vec<Date> = sent
        .iter()
        .copied()
        .filter(|d| *d >= window_opens)
        .collect();
    if u32::try_from(in_window.len()).unwrap_or(u32::MAX) >= rule.most {
        return false;
    }
    in_window
        .iter()
        .max()
        .is_none_or(|last| today.since(*last).is_ok_and(|s| s.get_days() >= 7))
}

/// When a link made at `now` runs out.
pub fn link_expiry(now: Timestamp, days: u32) -> Timestamp {
    now.checked_add(SignedDuration::from_hours(24 * i64::from(days)))
        .unwrap_or(now)
}

/// The words of the form, set by the organisation. Every version is kept with its hash,
/// and each answer points to the version its giver read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wording {
    /// The organisation's name as parents know it.
    pub organisation: String,
    /// Why it asks, in a sentence or two.
    pub introduction: String,
    pub internal: String,
    /// What sharing with one partner means; `{partner}` is replaced by its name.
    pub partner: String,
    pub website: String,
    pub social: String,
    /// What the signer declares.
    pub declaration: String,
}

impl Default for Wording {
    fn default() -> Self {
        Self {
            organisation: "Our organisation".into(),
            introduction: "We take photographs of learning and events. We use a photograph \
                 only where you have said yes, never with a name beside it, and never on the \
                 website or social media for a learner we know needs extra protection. You \
                 can change your mind at any time."
                .into(),
            internal: "Inside the organisation: our learning platform, displays in our \
                 buildings and learners' own work."
                .into(),
            partner: "Shared with {partner}, who commission or support this learner's place, \
                 for their own reports and displays."
                .into(),
            website: "On our public website, where anyone can see them.".into(),
            social: "On our own social media accounts, where anyone can see and share them.".into(),
            declaration: "I confirm the answers above are mine to give and are correct. I \
                 understand I can withdraw any of them at any time, and photographs already \
                 published will be taken down."
                .into(),
        }
    }
}

/// Why a wording cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WordingError(pub String);

impl Wording {
    /// Every text filled in, within a page's length, and the partner text naming the
    /// partner.
    ///
    /// # Errors
    /// The first field that fails, by name.
    pub fn check(&self) -> Result<(), WordingError> {
        for (field, text) in [
            ("organisation", &self.organisation),
            ("introduction", &self.introduction),
            ("internal", &self.internal),
            ("partner", &self.partner),
            ("website", &self.website),
            ("social", &self.social),
            ("declaration", &self.declaration),
        ] {
            if text.trim().is_empty() {
                return Err(WordingError(format!("{field} is empty")));
            }
            if text.chars().count() > 2000 {
                return Err(WordingError(format!(
                    "{field} is longer than 2000 characters"
                )));
            }
        }
        if !self.partner.contains("{partner}") {
            return Err(WordingError(
                "partner must say {partner} where the partner's name goes".into(),
            ));
        }
        Ok(())
    }

    /// The text as stored (canonical JSON) and its SHA-256, hex.
    pub fn stored(&self) -> (String, String) {
        let body = serde_json::to_string(self).unwrap_or_default();
        let hash = Sha256::digest(body.as_bytes());
        let hex = hash.iter().map(|b| format!("{b:02x}")).collect();
        (body, hex)
    }

    pub fn partner_text(&self, partner: &str) -> String {
        self.partner.replace("{partner}", partner)
    }
}

/// The answers given so far on the form: one per channel, none assumed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    pub internal: Option<bool>,
    #[serde(default)]
    pub partners: BTreeMap<i64, Option<bool>>,
    pub website: Option<bool>,
    pub social: Option<bool>,
}

impl Answers {
    /// The scopes granted, once every channel offered (`partners`) has an answer;
    /// otherwise the channels still unanswered, by name.
    ///
    /// # Errors
    /// The questions not answered.
    pub fn scopes(&self, partners: &[PartnerId]) -> Result<Scopes, Vec<String>> {
        let mut missing = Vec::new();
        if self.internal.is_none() {
            missing.push("internal".to_owned());
        }
        for p in partners {
            if self.partners.get(&p.0).copied().flatten().is_none() {
                missing.push(format!("partner:{}", p.0));
            }
        }
        if self.website.is_none() {
            missing.push("website".to_owned());
        }
        if self.social.is_none() {
            missing.push("social".to_owned());
        }
        if !missing.is_empty() {
            return Err(missing);
        }
        Ok(Scopes {
            internal: self.internal == Some(true),
            partners: partners
                .iter()
                .copied()
                .filter(|p| self.partners.get(&p.0).copied().flatten() == Some(true))
                .collect(),
            website: self.website == Some(true),
            social: self.social == Some(true),
        })
    }
}

/// What is left of `granted` after withdrawing the channels in `withdraw`.
pub fn withdraw(granted: &Scopes, withdraw: &Scopes) -> Scopes {
    Scopes {
        internal: granted.internal && !withdraw.internal,
        partners: granted
            .partners
            .iter()
            .copied()
            .filter(|p| !withdraw.partners.contains(p))
            .collect(),
        website: granted.website && !withdraw.website,
        social: granted.social && !withdraw.social,
    }
}

/// Whether `scopes` grants anything at all.
pub fn grants_any(scopes: &Scopes) -> bool {
    scopes.internal || !scopes.partners.is_empty() || scopes.website || scopes.social
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn who_answers_for_whom() {
        let today = date(2026, 12, 6);
        let cases = [
            // (role, born, relationship, may answer)
            (Role::Learner, date(2010, 1, 1), SignerKind::Parent, true),
            (Role::Learner, date(2010, 1, 1), SignerKind::Carer, true),
            (Role::Learner, date(2010, 1, 1), SignerKind::Myself, false),
            (Role::Learner, date(2008, 12, 6), SignerKind::Myself, true),
            (Role::Learner, date(2008, 12, 6), SignerKind::Parent, false),
            (Role::Learner, date(2008, 12, 7), SignerKind::Guardian, true),
            (Role::Staff, date(2008, 12, 7), SignerKind::Myself, true),
            (Role::Staff, date(1980, 1, 1), SignerKind::Parent, false),
            (Role::Visitor, date(1980, 1, 1), SignerKind::Myself, true),
        ];
        for (role, born, rel, want) in cases {
            assert_eq!(
                may_answer(rel, role, born, today),
                want,
                "{role:?} born {born} answered by {rel:?}"
            );
        }
    }

    #[test]
    fn a_link_is_usable_until_it_expires_is_used_or_locks() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let later = Timestamp::from_second(1_800_000_100).unwrap();
        let open = LinkFacts {
            expires_at: later,
            used: false,
            locked: false,
            withdrawn_contact: false,
        };
        let cases = [
            (None, Err(Refusal::Unknown)),
            (Some(open), Ok(())),
            (
                Some(LinkFacts {
                    expires_at: now,
                    ..open
                }),
                Err(Refusal::Expired),
            ),
            (Some(LinkFacts { used: true, ..open }), Err(Refusal::Used)),
            (
                Some(LinkFacts {
                    locked: true,
                    used: true,
                    ..open
                }),
                Err(Refusal::Locked),
            ),
            (
                Some(LinkFacts {
                    withdrawn_contact: true,
                    ..open
                }),
                Err(Refusal::Unknown),
            ),
        ];
        for (link, want) in cases {
            assert_eq!(usable(link, now), want, "{link:?}");
        }
    }

    #[test]
    fn five_wrong_dates_of_birth_lock_a_link() {
        let born = date(2011, 3, 4);
        let wrong = date(2011, 4, 3);
        let cases = [
            (born, 0, BirthDateCheck::Passed),
            (born, 4, BirthDateCheck::Passed),
            (born, 5, BirthDateCheck::Locked),
            (wrong, 0, BirthDateCheck::Wrong { left: 4 }),
            (wrong, 3, BirthDateCheck::Wrong { left: 1 }),
            (wrong, 4, BirthDateCheck::Locked),
            (wrong, 9, BirthDateCheck::Locked),
        ];
        for (typed, before, want) in cases {
            assert_eq!(
                check_birth_date(typed, born, before),
                want,
                "{typed} after {before}"
            );
        }
    }

    #[test]
    fn renewal_requests_go_weekly_at_most_three_times_inside_the_notice() {
        let rule = RenewalRequests {
            notice_days: 30,
            most: 3,
        };
        let lapses = date(2027, 1, 31);
        let cases: [(&[Date], Date, bool); 9] = [
            (&[], date(2026, 12, 31), false), // before the notice opens
            (&[], date(2027, 1, 1), true),
            (&[], date(2027, 1, 31), false), // lapsed: a request for a new form instead
            (&[date(2027, 1, 1)], date(2027, 1, 7), false),
            (&[date(2027, 1, 1)], date(2027, 1, 8), true),
            (
                &[date(2027, 1, 1), date(2027, 1, 8)],
                date(2027, 1, 15),
                true,
            ),
            (
                &[date(2027, 1, 15), date(2027, 1, 1), date(2027, 1, 8)],
                date(2027, 1, 29),
                false,
            ),
            // Requests before the window (an admin's, last term) do not count.
            (
                &[date(2026, 9, 1), date(2026, 9, 8), date(2026, 9, 15)],
                date(2027, 1, 2),
                true,
            ),
            (&[date(2027, 1, 5)], date(2027, 1, 10), false),
        ];
        for (sent, today, want) in cases {
            assert_eq!(
                renewal_request_due(rule, lapses, sent, today),
                want,
                "{sent:?} on {today}"
            );
        }
    }

    #[test]
    fn answers_grant_only_what_was_answered_yes_and_every_channel_must_be_answered() {
        let partners = [PartnerId(3), PartnerId(7)];
        let mut answers = Answers {
            internal: Some(true),
            website: Some(false),
            social: None,
            ..Answers::default()
        };
        answers.partners.insert(3, Some(true));
        assert_eq!(
            answers.scopes(&partners),
            Err(vec!["partner:7".to_owned(), "social".to_owned()])
        );
        answers.partners.insert(7, Some(false));
        answers.social = Some(true);
        // An answer about a partner no longer offered grants nothing.
        answers.partners.insert(9, Some(true));
        assert_eq!(
            answers.scopes(&partners),
            Ok(Scopes {
                internal: true,
                partners: vec![PartnerId(3)],
                website: false,
                social: true,
            })
        );
    }

    #[test]
    fn withdrawing_keeps_the_rest() {
        let granted = Scopes {
            internal: true,
            partners: vec![PartnerId(1), PartnerId(2)],
            website: true,
            social: false,
        };
        let left = withdraw(
            &granted,
            &Scopes {
                website: true,
                partners: vec![PartnerId(2)],
                ..Scopes::default()
            },
        );
        assert_eq!(
            left,
            Scopes {
                internal: true,
                partners: vec![PartnerId(1)],
                website: false,
                social: false,
            }
        );
        assert!(grants_any(&left));
        assert!(!grants_any(&withdraw(&granted, &granted)));
    }

    #[test]
    fn a_wording_names_the_partner_and_hashes_what_it_says() {
        let wording = Wording::default();
        assert_eq!(wording.check(), Ok(()));
        let (body, hash) = wording.stored();
        assert_eq!(hash.len(), 64);
        let changed = Wording {
            website: "On our website.".into(),
            ..wording.clone()
        };
        assert_ne!(changed.stored().1, hash);
        assert_eq!(serde_json::from_str::<Wording>(&body).unwrap(), wording);
        assert!(wording.partner_text("Hill School").contains("Hill School"));
        let no_partner = Wording {
            partner: "Shared with partners.".into(),
            ..wording
        };
        assert!(no_partner.check().is_err());
    }
}
