//! What the server checks about a kiosk event before it changes custody: a pure function
//! of the event and the facts around it.
//!
//! The kiosk decides sign-outs from its last roster, possibly offline, and its SD card can
//! be edited, so the server decides again on arrival. An event that fails is *refused*:
//! kept with its reason for admins, acknowledged to the kiosk (so its journal moves on),
//! and without effect on custody. A refused sign-out leaves the photos of that outing
//! without a matching sign-out, so they need a director's look (C7) instead of looking
//! verified.
//!
//! One outcome is not a refusal: when the kiosk's clock and the server's disagree, the
//! event is *held* ([`Refusal::holds`]). Which clock is wrong cannot be told (the server's
//! may have been set an hour back by hand), so nothing about the event is decided: the
//! kiosk keeps it, and everything after it, and sends them again until the clocks agree.

use jiff::{SignedDuration, Timestamp};

use consentcam_wire::{KioskEvent, KioskEventKind};

/// How far the kiosk's clock may be from the server's, and an event may lie ahead of the
/// moment it was received.
pub const CLOCK_TOLERANCE: SignedDuration = SignedDuration::from_mins(5);
/// How long a kiosk may have been offline: older events cannot be checked against what
/// the server knew then.
pub const OLDEST: SignedDuration = SignedDuration::from_hours(24 * 30);

/// What the server knows about the person an event names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonFacts {
    /// The person holds an active staff badge.
    pub active_staff_badge: bool,
    /// The person is allowed to sign devices out.
    pub may_sign_out: bool,
}

/// Everything [`check`] needs besides the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// When the server received the event.
    pub received: Timestamp,
    /// The kiosk's clock when it sent the batch, if it said.
    pub kiosk_clock: Option<Timestamp>,
    /// The latest time among the events already recorded from this kiosk, or for the
    /// device the event names (whatever order the kiosk numbered them in).
    pub latest_before: Option<Timestamp>,
    /// Whether the device the event names is registered (taps name none).
    pub device_exists: bool,
    /// The person the event names, if registered (taps name none).
    pub person: Option<PersonFacts>,
    /// The device or the person belongs to a site other than the kiosk's.
    pub other_site: bool,
}

/// Why an event is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    ClocksDisagree,
    InTheFuture,
    BeforeEarlierEvents,
    TooOld,
    UnknownDevice,
    UnknownPerson,
    BadgeNotActive,
    MayNotSignOut,
    OtherSite,
}

impl Refusal {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::ClocksDisagree => "clocks_disagree",
            Refusal::InTheFuture => "in_the_future",
            Refusal::BeforeEarlierEvents => "before_earlier_events",
            Refusal::TooOld => "too_old",
            Refusal::UnknownDevice => "unknown_device",
            Refusal::UnknownPerson => "unknown_person",
            Refusal::BadgeNotActive => "badge_not_active",
            Refusal::MayNotSignOut => "may_not_sign_out",
            Refusal::OtherSite => "other_site",
        }
    }

    /// Whether the event is held rather than refused: not kept by the server, left on the
    /// kiosk to be sent again. Only a disagreement of clocks, which says nothing about the
    /// event itself.
    pub fn holds(self) -> bool {
        matches!(self, Refusal::ClocksDisagree)
    }

    /// A sentence for the admin.
    pub fn sentence(self) -> &'static str {
        match self {
            Refusal::ClocksDisagree => {
                "the kiosk's clock and the server's differ by more than 5 minutes, so its times cannot be judged: the kiosk keeps the event and sends it again until the clocks agree"
            }
            Refusal::InTheFuture => "the event is timed after the moment it arrived",
            Refusal::BeforeEarlierEvents => {
                "the event is timed before events the kiosk recorded earlier (a back-dated event)"
            }
            Refusal::TooOld => "the event is more than 30 days old",
            Refusal::UnknownDevice => "the device is not registered",
            Refusal::UnknownPerson => "the person is not registered",
            Refusal::BadgeNotActive => "the person has no active staff badge",
            Refusal::MayNotSignOut => "the person may not sign devices out",
            Refusal::OtherSite => {
                "the device or the person belongs to another site than the kiosk's"
            }
        }
    }
}

/// "3 h 2 min ahead of", "1 day 0 h 5 min behind": how far a kiosk's clock is from the
/// server's (`off` is the kiosk's minus the server's), to the nearest minute.
pub fn describe_offset(off: jiff::SignedDuration) -> String {
    let minutes = (off.as_secs().unsigned_abs() + 30) / 60;
    let (days, hours, mins) = (minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    let mut parts = vec![];
    if days > 0 {
        parts.push(format!("{days} day{}", if days == 1 { "" } else { "s" }));
    }
    if days > 0 || hours > 0 {
        parts.push(format!("{hours} h"));
    }
    parts.push(format!("{mins} min"));
    let side = if off.is_negative() {
        "behind"
    } else {
        "ahead of"
    };
    format!("{} {side}", parts.join(" "))
}

/// How far the kiosk's clock (as it sent a batch) is from the server's when the batch was
/// received, the kiosk's minus the server's, when they disagree by more than
/// [`CLOCK_TOLERANCE`]; `None` when they agree or the kiosk did not say.
pub fn clocks_apart(received: Timestamp, kiosk_clock: Option<Timestamp>) -> Option<SignedDuration> {
    kiosk_clock
        .map(|clock| clock.duration_since(received))
        .filter(|off| off.abs() > CLOCK_TOLERANCE)
}

/// Decides whether `event` may change custody.
///
/// # Errors
/// The first reason it may not, clock first.
pub fn check(event: &KioskEvent, facts: &Facts) -> Result<(), Refusal> {
    let at = event.at;
    if let Some(clock) = facts.kiosk_clock {
        if clocks_apart(facts.received, Some(clock)).is_some() {
            return Err(Refusal::ClocksDisagree);
        }
        if at.duration_since(clock) > CLOCK_TOLERANCE {
            return Err(Refusal::InTheFuture);
        }
    }
    if at.duration_since(facts.received) > CLOCK_TOLERANCE {
        return Err(Refusal::InTheFuture);
    }
    if facts.received.duration_since(at) > OLDEST {
        return Err(Refusal::TooOld);
    }
    if facts
        .latest_before
        .is_some_and(|latest| latest.duration_since(at) > CLOCK_TOLERANCE)
    {
        return Err(Refusal::BeforeEarlierEvents);
    }
    match &event.kind {
        KioskEventKind::Tap { .. } | KioskEventKind::JournalRefused { .. } => Ok(()),
        KioskEventKind::SignedOut { .. } => {
            let person = people_and_device(facts)?;
            if !person.active_staff_badge {
                return Err(Refusal::BadgeNotActive);
            }
            if !person.may_sign_out {
                return Err(Refusal::MayNotSignOut);
            }
            Ok(())
        }
        // A device coming back is always welcome, whoever brings it.
        KioskEventKind::Returned { .. } => people_and_device(facts).map(|_| ()),
    }
}

fn people_and_device(facts: &Facts) -> Result<PersonFacts, Refusal> {
    if !facts.device_exists {
        return Err(Refusal::UnknownDevice);
    }
    let person = facts.person.ok_or(Refusal::UnknownPerson)?;
    if facts.other_site {
        return Err(Refusal::OtherSite);
    }
    Ok(person)
}

#[cfg(test)]
mod tests {
    use consentcam_wire::{TagUid, TapOutcome};

    use super::*;

    fn t(minutes: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + minutes * 60).unwrap()
    }

    fn event(at: Timestamp, kind: KioskEventKind) -> KioskEvent {
        KioskEvent {
            event_id: "k-1".into(),
            seq: 1,
            at,
            reader: "office-1".into(),
            kind,
        }
    }

    fn sign_out() -> KioskEventKind {
        KioskEventKind::SignedOut {
            device_id: 1,
            person_id: 2,
            due_back: t(600),
            booking_id: None,
        }
    }

    fn tap() -> KioskEventKind {
        KioskEventKind::Tap {
            uid: TagUid::parse("04A1B2C3").unwrap(),
            outcome: TapOutcome::Accepted,
        }
    }

    const STAFF: PersonFacts = PersonFacts {
        active_staff_badge: true,
        may_sign_out: true,
    };

    fn facts() -> Facts {
        Facts {
            received: t(0),
            kiosk_clock: Some(t(0)),
            latest_before: None,
            device_exists: true,
            person: Some(STAFF),
            other_site: false,
        }
    }

    #[test]
    fn every_check_refuses_what_it_guards_and_nothing_else() {
        let ok = facts();
        let cases: Vec<(&str, KioskEvent, Facts, Result<(), Refusal>)> = vec![
            (
                "a sign-out as it happens",
                event(t(-1), sign_out()),
                ok,
                Ok(()),
            ),
            (
                "a sign-out journalled a week ago while offline",
                event(t(-7 * 24 * 60), sign_out()),
                ok,
                Ok(()),
            ),
            (
                "a clock a little off",
                event(t(0), sign_out()),
                Facts {
                    kiosk_clock: Some(t(4)),
                    ..ok
                },
                Ok(()),
            ),
            (
                "an old kiosk that does not send its clock",
                event(t(-1), sign_out()),
                Facts {
                    kiosk_clock: None,
                    ..ok
                },
                Ok(()),
            ),
            (
                "the kiosk's clock a day behind",
                event(t(-1), sign_out()),
                Facts {
                    kiosk_clock: Some(t(-24 * 60)),
                    ..ok
                },
                Err(Refusal::ClocksDisagree),
            ),
            (
                "the server's clock set an hour back, the kiosk's right",
                event(t(-1), sign_out()),
                Facts {
                    received: t(-60),
                    ..ok
                },
                Err(Refusal::ClocksDisagree),
            ),
            (
                "the server's clock a day ahead, the kiosk's right",
                event(t(-1), sign_out()),
                Facts {
                    received: t(24 * 60),
                    ..ok
                },
                Err(Refusal::ClocksDisagree),
            ),
            (
                "timed after it arrived",
                event(t(30), sign_out()),
                Facts {
                    kiosk_clock: None,
                    ..ok
                },
                Err(Refusal::InTheFuture),
            ),
            (
                "timed after the kiosk sent it",
                event(t(10), sign_out()),
                Facts {
                    kiosk_clock: Some(t(2)),
                    ..ok
                },
                Err(Refusal::InTheFuture),
            ),
            (
                "older than a month",
                event(t(-31 * 24 * 60), sign_out()),
                ok,
                Err(Refusal::TooOld),
            ),
            (
                "back-dated behind the kiosk's own earlier events",
                event(t(-120), sign_out()),
                Facts {
                    latest_before: Some(t(-60)),
                    ..ok
                },
                Err(Refusal::BeforeEarlierEvents),
            ),
            (
                "a few seconds out of order is clock jitter",
                event(t(-61), sign_out()),
                Facts {
                    latest_before: Some(t(-60)),
                    ..ok
                },
                Ok(()),
            ),
            (
                "an unknown device",
                event(t(0), sign_out()),
                Facts {
                    device_exists: false,
                    ..ok
                },
                Err(Refusal::UnknownDevice),
            ),
            (
                "an unknown person",
                event(t(0), sign_out()),
                Facts { person: None, ..ok },
                Err(Refusal::UnknownPerson),
            ),
            (
                "a badge deactivated after the kiosk's roster",
                event(t(0), sign_out()),
                Facts {
                    person: Some(PersonFacts {
                        active_staff_badge: false,
                        ..STAFF
                    }),
                    ..ok
                },
                Err(Refusal::BadgeNotActive),
            ),
            (
                "staff not allowed to sign out",
                event(t(0), sign_out()),
                Facts {
                    person: Some(PersonFacts {
                        may_sign_out: false,
                        ..STAFF
                    }),
                    ..ok
                },
                Err(Refusal::MayNotSignOut),
            ),
            (
                "a return by someone whose badge was deactivated",
                event(
                    t(0),
                    KioskEventKind::Returned {
                        device_id: 1,
                        person_id: 2,
                    },
                ),
                Facts {
                    person: Some(PersonFacts {
                        active_staff_badge: false,
                        may_sign_out: false,
                    }),
                    ..ok
                },
                Ok(()),
            ),
            (
                "a return of an unknown device",
                event(
                    t(0),
                    KioskEventKind::Returned {
                        device_id: 9,
                        person_id: 2,
                    },
                ),
                Facts {
                    device_exists: false,
                    ..ok
                },
                Err(Refusal::UnknownDevice),
            ),
            (
                "a sign-out of another site's device or by another site's person",
                event(t(0), sign_out()),
                Facts {
                    other_site: true,
                    ..ok
                },
                Err(Refusal::OtherSite),
            ),
            (
                "a return of another site's device",
                event(
                    t(0),
                    KioskEventKind::Returned {
                        device_id: 1,
                        person_id: 2,
                    },
                ),
                Facts {
                    other_site: true,
                    ..ok
                },
                Err(Refusal::OtherSite),
            ),
            (
                "a tap names nobody",
                event(t(0), tap()),
                Facts {
                    device_exists: false,
                    person: None,
                    ..ok
                },
                Ok(()),
            ),
            (
                "a tap from the future",
                event(t(60), tap()),
                ok,
                Err(Refusal::InTheFuture),
            ),
        ];
        for (what, event, facts, expected) in cases {
            assert_eq!(check(&event, &facts), expected, "{what}");
        }
    }

    #[test]
    fn every_refusal_has_its_own_code_and_a_sentence() {
        let all = [
            Refusal::ClocksDisagree,
            Refusal::InTheFuture,
            Refusal::BeforeEarlierEvents,
            Refusal::TooOld,
            Refusal::UnknownDevice,
            Refusal::UnknownPerson,
            Refusal::BadgeNotActive,
            Refusal::MayNotSignOut,
            Refusal::OtherSite,
        ];
        let mut codes: Vec<&str> = all.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|r| !r.sentence().is_empty()));
        let held: Vec<_> = all.iter().filter(|r| r.holds()).collect();
        assert_eq!(
            held,
            [&Refusal::ClocksDisagree],
            "only a clock disagreement holds"
        );
    }

    #[test]
    fn an_offset_reads_in_days_hours_and_minutes() {
        use jiff::SignedDuration;
        for (secs, said) in [
            (-3600, "1 h 0 min behind"),
            (-3599, "1 h 0 min behind"),
            (400, "7 min ahead of"),
            (
                2 * 86_400 + 3 * 3600 + 4 * 60 + 29,
                "2 days 3 h 4 min ahead of",
            ),
        ] {
            assert_eq!(describe_offset(SignedDuration::from_secs(secs)), said);
        }
    }
}
