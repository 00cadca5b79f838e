//! Which forms need renewing soon (L1, issue "renewal"): a pure function of the people's
//! facts, the day and the window.

use jiff::Span;
use jiff::civil::Date;
use serde::Serialize;

use super::form::expiry;
use super::{ConsentPolicy, PersonFacts};
use crate::domain::{PersonId, SignerKind, birthday, is_adult_on};

/// Why someone needs a new form soon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Renewal {
    /// Their last form still counting stops counting on `on`.
    FormExpires { on: Date },
    /// They turn 18 on `on` and have no form of their own: a parent's form stops
    /// counting then.
    NeedsOwnForm { on: Date },
}

/// Everyone whose consent lapses within `days` days from `today` (inclusive), with why;
/// both reasons when both hold. People whose forms have all lapsed already, or who have
/// none, are not here: they have no consent to renew.
pub fn due(
    people: &[PersonFacts],
    today: Date,
    days: i32,
    policy: &ConsentPolicy,
) -> Vec<(PersonId, Renewal)> {
    let until = today
        .checked_add(Span::new().days(i64::from(days.max(0))))
        .unwrap_or(Date::MAX);
    let mut out = Vec::new();
    for person in people {
        let live: Vec<_> = person
            .forms
            .iter()
            .filter(|f| f.withdrawn_on.is_none_or(|w| w > today) && f.signed_on <= today)
            .collect();
        if let Some(last) = live.iter().map(|f| expiry(f, policy)).max()
            && last > today
            && last <= until
        {
            out.push((person.id, Renewal::FormExpires { on: last }));
        }
        let eighteen = birthday(person.born, 18);
        let has_own = live.iter().any(|f| f.signer == SignerKind::Myself);
        if !is_adult_on(person.born, today) && eighteen <= until && !has_own && !live.is_empty() {
            out.push((person.id, Renewal::NeedsOwnForm { on: eighteen }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::domain::{ConsentId, Role, Scopes};
    use crate::rules::consent::ConsentForm;

    fn form(signer: SignerKind, signed_on: Date, expires_on: Option<Date>) -> ConsentForm {
        ConsentForm {
            id: ConsentId(1),
            signer,
            signed_on,
            expires_on,
            withdrawn_on: None,
            scopes: Scopes {
                internal: true,
                partners: vec![],
                website: true,
                social: false,
            },
        }
    }

    fn person(id: i64, born: Date, forms: Vec<ConsentForm>) -> PersonFacts {
        PersonFacts {
            id: PersonId(id),
            given_name: "G".into(),
            family_name: "F".into(),
            born,
            role: Role::Learner,
            vulnerable: false,
            restricted: false,
            forms,
        }
    }

    #[test]
    fn forms_lapsing_in_the_window_and_learners_turning_18_are_listed_and_nobody_else() {
        let today = date(2026, 11, 25);
        let policy = ConsentPolicy { validity_days: 365 };
        let parent = SignerKind::Parent;
        let people = vec![
            // 1: a parent's form signed a year ago less 10 days: lapses on 5 December.
            person(
                1,
                date(2012, 1, 1),
                vec![form(parent, date(2025, 12, 5), None)],
            ),
            // 2: an explicit expiry next week, but a newer form lasting beyond the window.
            person(
                2,
                date(2012, 1, 1),
                vec![
                    form(parent, date(2026, 1, 1), Some(date(2026, 12, 1))),
                    form(parent, date(2026, 9, 1), None),
                ],
            ),
            // 3: turns 18 on 10 December with only a parent's form (good until next year).
            person(
                3,
                date(2008, 12, 10),
                vec![form(parent, date(2026, 9, 1), None)],
            ),
            // 4: turns 18 in the window but has signed their own form already.
            person(
                4,
                date(2008, 12, 10),
                vec![form(SignerKind::Myself, date(2026, 9, 1), None)],
            ),
            // 5: lapsed already (nothing to renew), 6: no form at all.
            person(
                5,
                date(2012, 1, 1),
                vec![form(parent, date(2025, 1, 1), None)],
            ),
            person(6, date(2008, 12, 1), vec![]),
            // 7: lapses the day after the window.
            person(
                7,
                date(2012, 1, 1),
                vec![form(parent, date(2026, 1, 1), Some(date(2026, 12, 26)))],
            ),
            // 8: lapses on the window's last day.
            person(
                8,
                date(2012, 1, 1),
                vec![form(parent, date(2026, 1, 1), Some(date(2026, 12, 25)))],
            ),
        ];
        let found = due(&people, today, 30, &policy);
        assert_eq!(
            found,
            [
                (
                    PersonId(1),
                    Renewal::FormExpires {
                        on: date(2026, 12, 5)
                    }
                ),
                (
                    PersonId(3),
                    Renewal::NeedsOwnForm {
                        on: date(2026, 12, 10)
                    }
                ),
                (
                    PersonId(8),
                    Renewal::FormExpires {
                        on: date(2026, 12, 25)
                    }
                ),
            ]
        );
        assert!(due(&people, today, 0, &policy).is_empty());
    }
}
