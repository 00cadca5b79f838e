//! Which consent form speaks for a person on a given date (rule C3).
//!
//! A form counts on a date if it was signed on or before it, is not withdrawn on or before
//! it, and has not expired (its expiry date, or signed date + the configured validity). A
//! withdrawal speaks for its whole side: once a parent withdraws, older parent forms do not
//! come back to life; only a form signed after the withdrawal counts again. The same holds
//! for the person's own forms, and a person's own withdrawal is an objection at any age.

use jiff::Span;
use jiff::civil::Date;

use super::ConsentForm;
use crate::domain::{Channel, ConsentId, SignerKind, birthday, is_adult_on};

/// Settings the consent rules depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentPolicy {
    /// How long a form without an expiry date lasts, in days from the day it was signed.
    pub validity_days: i32,
}

impl Default for ConsentPolicy {
    fn default() -> Self {
        Self { validity_days: 365 }
    }
}

/// Where a person stands for one channel on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormStanding {
    /// The deciding form gives consent.
    Granted {
        form: ConsentId,
        signer: SignerKind,
        signed_on: Date,
    },
    /// The person's own latest counting form says no: that overrides a parent.
    Objected { form: ConsentId, signed_on: Date },
    /// The deciding form (a parent's, for someone under 18) says no.
    Withheld {
        form: ConsentId,
        signer: SignerKind,
        signed_on: Date,
    },
    /// An adult with only a parent's form.
    ParentFormAfter18 { turned_18: Date },
    /// The consent that would decide was withdrawn, and nothing was signed since.
    Withdrawn { on: Date },
    /// The consent that would decide has expired.
    Expired { on: Date },
    /// No form at all from the side that decides.
    Missing,
}

impl FormStanding {
    pub fn is_granted(&self) -> bool {
        matches!(self, FormStanding::Granted { .. })
    }
}

/// The day a form stops counting because of age.
pub fn expiry(form: &ConsentForm, policy: &ConsentPolicy) -> Date {
    form.expires_on.unwrap_or_else(|| {
        form.signed_on
            .checked_add(Span::new().days(i64::from(policy.validity_days)))
            .unwrap_or(Date::MAX)
    })
}

/// The latest withdrawal on or before `on` among `forms`.
fn latest_withdrawal<'a>(forms: impl Iterator<Item = &'a ConsentForm>, on: Date) -> Option<Date> {
    forms
        .filter_map(|f| f.withdrawn_on)
        .filter(|w| *w <= on)
        .max()
}

/// The forms of one side (own or on-behalf) that count on `on`, latest last.
fn counting<'a>(
    side: &[&'a ConsentForm],
    on: Date,
    policy: &ConsentPolicy,
) -> Vec<&'a ConsentForm> {
    let withdrawal = latest_withdrawal(side.iter().copied(), on);
    let mut forms: Vec<&ConsentForm> = side
        .iter()
        .copied()
        .filter(|f| f.signed_on <= on)
        .filter(|f| f.withdrawn_on.is_none_or(|w| w > on))
        .filter(|f| withdrawal.is_none_or(|w| f.signed_on > w))
        .filter(|f| expiry(f, policy) > on)
        .collect();
    forms.sort_by_key(|f| (f.signed_on, f.id));
    forms
}

/// Why a side has no counting form: withdrawn, expired, or never signed.
fn lapsed(side: &[&ConsentForm], on: Date, policy: &ConsentPolicy) -> FormStanding {
    if let Some(withdrawn) = latest_withdrawal(side.iter().copied(), on) {
        return FormStanding::Withdrawn { on: withdrawn };
    }
    side.iter()
        .filter(|f| f.signed_on <= on)
        .map(|f| expiry(f, policy))
        .filter(|e| *e <= on)
        .max()
        .map_or(FormStanding::Missing, |expired| FormStanding::Expired {
            on: expired,
        })
}

/// Where a person born on `born`, with these `forms`, stands for `channel` on `on` (C3).
pub fn effective_consent(
    forms: &[ConsentForm],
    born: Date,
    channel: Channel,
    on: Date,
    policy: &ConsentPolicy,
) -> FormStanding {
    let own: Vec<&ConsentForm> = forms.iter().filter(|f| !f.signer.is_on_behalf()).collect();
    let behalf: Vec<&ConsentForm> = forms.iter().filter(|f| f.signer.is_on_behalf()).collect();
    let own_counting = counting(&own, on, policy);
    let behalf_counting = counting(&behalf, on, policy);

    // The person's own word first, at any age: a "no" or a withdrawal overrides a parent.
    if let Some(latest) = own_counting.last() {
        if !latest.scopes.grants(channel) {
            return FormStanding::Objected {
                form: latest.id,
                signed_on: latest.signed_on,
            };
        }
    } else if let withdrawn @ FormStanding::Withdrawn { .. } = lapsed(&own, on, policy) {
        return withdrawn;
    }

    if is_adult_on(born, on) {
        if let Some(latest) = own_counting.last() {
            return FormStanding::Granted {
                form: latest.id,
                signer: latest.signer,
                signed_on: latest.signed_on,
            };
        }
        return match lapsed(&own, on, policy) {
            FormStanding::Missing if !behalf_counting.is_empty() => {
                FormStanding::ParentFormAfter18 {
                    turned_18: birthday(born, 18),
                }
            }
            other => other,
        };
    }

    match behalf_counting.last() {
        Some(latest) if latest.scopes.grants(channel) => FormStanding::Granted {
            form: latest.id,
            signer: latest.signer,
            signed_on: latest.signed_on,
        },
        Some(latest) => FormStanding::Withheld {
            form: latest.id,
            signer: latest.signer,
            signed_on: latest.signed_on,
        },
        None => lapsed(&behalf, on, policy),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Scopes;
    use jiff::civil::date;

    fn form(signer: SignerKind, signed_on: Date) -> ConsentForm {
        ConsentForm {
            id: ConsentId(1),
            signer,
            signed_on,
            expires_on: None,
            withdrawn_on: None,
            scopes: Scopes {
                internal: true,
                partners: vec![],
                website: true,
                social: true,
            },
        }
    }

    #[test]
    fn validity_runs_from_the_signing_day() {
        let policy = ConsentPolicy { validity_days: 365 };
        let f = form(SignerKind::Parent, date(2025, 11, 25));
        assert_eq!(expiry(&f, &policy), date(2026, 11, 25));
        let explicit = ConsentForm {
            expires_on: Some(date(2026, 1, 1)),
            ..f
        };
        assert_eq!(expiry(&explicit, &policy), date(2026, 1, 1));
    }

    #[test]
    fn a_form_signed_in_the_future_does_not_count_yet() {
        let forms = [form(SignerKind::Parent, date(2026, 12, 1))];
        let standing = effective_consent(
            &forms,
            date(2012, 1, 1),
            Channel::Website,
            date(2026, 11, 25),
            &ConsentPolicy::default(),
        );
        assert_eq!(standing, FormStanding::Missing);
    }
}
