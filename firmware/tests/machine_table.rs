//! Every (state, event) pair of the kiosk rules: the next mode, the tap outcome recorded
//! (K5) and the custody records (K2, K3).

use consentcam_hardware::Button;
use consentcam_kiosk::demo::{self, uid};
use consentcam_kiosk::machine::{Effect, Event, Settings, State, step};
use consentcam_kiosk::roster::LocalRoster;
use consentcam_wire::{KindCounts, KioskEventKind, TapOutcome};
use jiff::{SignedDuration, Timestamp};

fn t0() -> Timestamp {
    "2026-11-25T09:00:00Z".parse().unwrap()
}

fn after(secs: i64) -> Timestamp {
    t0().checked_add(SignedDuration::from_secs(secs)).unwrap()
}

fn idle() -> State {
    State::new(
        LocalRoster::from_roster(&demo::roster(t0()), &demo::key()),
        Settings::default(),
    )
}

fn tap(text: &str) -> Event {
    Event::Tapped {
        uid: uid(text),
        at: t0(),
    }
}

fn drive(state: State, events: Vec<Event>) -> State {
    events.into_iter().fold(state, |s, e| step(s, e).0)
}

/// The seven modes, each reached the way a person would reach it.
fn states() -> Vec<(&'static str, State)> {
    vec![
        ("Idle", idle()),
        ("AwaitingDevice", drive(idle(), vec![tap(demo::STAFF)])),
        ("AwaitingBadge", drive(idle(), vec![tap(demo::CAMERA_1)])),
        ("Message", drive(idle(), vec![tap(demo::UNKNOWN)])),
        // J. Smith signs out iPad 1, booked for a group: the briefing's first page.
        (
            "Briefing",
            drive(idle(), vec![tap(demo::STAFF), tap(demo::IPAD_1)]),
        ),
        ("AwaitingCard", drive(idle(), vec![tap(demo::CAMERA_2)])),
        (
            "Importing",
            drive(
                idle(),
                vec![
                    tap(demo::CAMERA_2),
                    Event::CardInserted {
                        files: 10,
                        at: t0(),
                    },
                ],
            ),
        ),
    ]
}

fn events() -> Vec<(&'static str, Event)> {
    let at = after(1);
    let tap_at = |text: &str| Event::Tapped { uid: uid(text), at };
    vec![
        ("tap unknown", tap_at(demo::UNKNOWN)),
        ("tap learner", tap_at(demo::LEARNER)),
        ("tap staff without permission", tap_at(demo::NO_PERMISSION)),
        ("tap staff", tap_at(demo::STAFF)),
        ("tap device in", tap_at(demo::CAMERA_1)),
        ("tap device out", tap_at(demo::CAMERA_2)),
        (
            "press OK",
            Event::Pressed {
                button: Button::Ok,
                at,
            },
        ),
        (
            "press Cancel",
            Event::Pressed {
                button: Button::Cancel,
                at,
            },
        ),
        ("tick soon", Event::Tick { at }),
        ("tick after 10 min", Event::Tick { at: after(600) }),
        ("card inserted", Event::CardInserted { files: 3, at }),
        (
            "import progress",
            Event::ImportProgress {
                done: 4,
                failed: 1,
                at,
            },
        ),
        (
            "import finished",
            Event::ImportFinished {
                imported: 9,
                failed: 1,
                kinds: KindCounts::default(),
                at,
            },
        ),
        ("import stopped", Event::ImportStopped { done: 4, at }),
        (
            "roster synced",
            Event::RosterSynced {
                roster: demo::roster(at),
                at,
            },
        ),
        (
            "server unreachable",
            Event::ServerUnreachable { queued: 2, at },
        ),
        ("server reachable", Event::ServerReachable { at }),
        ("token refused", Event::TokenRefused { queued: 2, at }),
        ("reader failed", Event::ReaderFailed { at }),
        ("reader working", Event::ReaderWorking { at }),
    ]
}

/// (state, event, next mode, tap outcome recorded, custody record: "out"/"back"/"")
#[rustfmt::skip]
const TABLE: &[(&str, &str, &str, Option<TapOutcome>, &str)] = {
    use TapOutcome::*;
    &[
        ("Idle", "tap unknown", "Message", Some(UnknownCard), ""),
        ("Idle", "tap learner", "Message", Some(StaffOnly), ""),
        ("Idle", "tap staff without permission", "Message", Some(NotAuthorised), ""),
        ("Idle", "tap staff", "AwaitingDevice", Some(Accepted), ""),
        ("Idle", "tap device in", "AwaitingBadge", Some(Accepted), ""),
        ("Idle", "tap device out", "AwaitingCard", Some(Accepted), "back"),
        ("Idle", "press OK", "Idle", None, ""),
        ("Idle", "press Cancel", "Idle", None, ""),
        ("Idle", "tick soon", "Idle", None, ""),
        ("Idle", "tick after 10 min", "Idle", None, ""),
        ("Idle", "card inserted", "Message", None, ""),
        ("Idle", "import progress", "Idle", None, ""),
        ("Idle", "import finished", "Idle", None, ""),
        ("Idle", "import stopped", "Idle", None, ""),
        ("Idle", "roster synced", "Idle", None, ""),
        ("Idle", "server unreachable", "Message", None, ""),
        ("Idle", "server reachable", "Idle", None, ""),
        ("Idle", "token refused", "Idle", None, ""),
        ("Idle", "reader failed", "Idle", None, ""),
        ("Idle", "reader working", "Idle", None, ""),

        ("AwaitingDevice", "tap unknown", "Message", Some(UnknownCard), ""),
        ("AwaitingDevice", "tap learner", "Message", Some(StaffOnly), ""),
        ("AwaitingDevice", "tap staff without permission", "Message", Some(NotAuthorised), ""),
        ("AwaitingDevice", "tap staff", "AwaitingDevice", Some(Ignored), ""),
        ("AwaitingDevice", "tap device in", "Message", Some(Accepted), "out"),
        ("AwaitingDevice", "tap device out", "Message", Some(AlreadyOut), ""),
        ("AwaitingDevice", "press OK", "AwaitingDevice", None, ""),
        ("AwaitingDevice", "press Cancel", "Idle", None, ""),
        ("AwaitingDevice", "tick soon", "AwaitingDevice", None, ""),
        ("AwaitingDevice", "tick after 10 min", "Message", None, ""),
        ("AwaitingDevice", "card inserted", "Message", None, ""),
        ("AwaitingDevice", "import progress", "AwaitingDevice", None, ""),
        ("AwaitingDevice", "import finished", "AwaitingDevice", None, ""),
        ("AwaitingDevice", "import stopped", "AwaitingDevice", None, ""),
        ("AwaitingDevice", "roster synced", "AwaitingDevice", None, ""),
        ("AwaitingDevice", "server unreachable", "AwaitingDevice", None, ""),
        ("AwaitingDevice", "server reachable", "AwaitingDevice", None, ""),
        ("AwaitingDevice", "token refused", "AwaitingDevice", None, ""),
        ("AwaitingDevice", "reader failed", "AwaitingDevice", None, ""),
        ("AwaitingDevice", "reader working", "AwaitingDevice", None, ""),

        ("AwaitingBadge", "tap unknown", "Message", Some(UnknownCard), ""),
        ("AwaitingBadge", "tap learner", "Message", Some(StaffOnly), ""),
        ("AwaitingBadge", "tap staff without permission", "Message", Some(NotAuthorised), ""),
        ("AwaitingBadge", "tap staff", "Message", Some(Accepted), "out"),
        ("AwaitingBadge", "tap device in", "AwaitingBadge", Some(Ignored), ""),
        ("AwaitingBadge", "tap device out", "AwaitingBadge", Some(Ignored), ""),
        ("AwaitingBadge", "press OK", "AwaitingBadge", None, ""),
        ("AwaitingBadge", "press Cancel", "Idle", None, ""),
        ("AwaitingBadge", "tick soon", "AwaitingBadge", None, ""),
        ("AwaitingBadge", "tick after 10 min", "Message", None, ""),
        ("AwaitingBadge", "card inserted", "Message", None, ""),
        ("AwaitingBadge", "import progress", "AwaitingBadge", None, ""),
        ("AwaitingBadge", "import finished", "AwaitingBadge", None, ""),
        ("AwaitingBadge", "import stopped", "AwaitingBadge", None, ""),
        ("AwaitingBadge", "roster synced", "AwaitingBadge", None, ""),
        ("AwaitingBadge", "server unreachable", "AwaitingBadge", None, ""),
        ("AwaitingBadge", "server reachable", "AwaitingBadge", None, ""),
        ("AwaitingBadge", "token refused", "AwaitingBadge", None, ""),
        ("AwaitingBadge", "reader failed", "AwaitingBadge", None, ""),
        ("AwaitingBadge", "reader working", "AwaitingBadge", None, ""),

        ("Message", "tap unknown", "Message", Some(UnknownCard), ""),
        ("Message", "tap learner", "Message", Some(StaffOnly), ""),
        ("Message", "tap staff without permission", "Message", Some(NotAuthorised), ""),
        ("Message", "tap staff", "AwaitingDevice", Some(Accepted), ""),
        ("Message", "tap device in", "AwaitingBadge", Some(Accepted), ""),
        ("Message", "tap device out", "AwaitingCard", Some(Accepted), "back"),
        ("Message", "press OK", "Idle", None, ""),
        ("Message", "press Cancel", "Idle", None, ""),
        ("Message", "tick soon", "Message", None, ""),
        ("Message", "tick after 10 min", "Idle", None, ""),
        ("Message", "card inserted", "Message", None, ""),
        ("Message", "import progress", "Message", None, ""),
        ("Message", "import finished", "Message", None, ""),
        ("Message", "import stopped", "Message", None, ""),
        ("Message", "roster synced", "Message", None, ""),
        ("Message", "server unreachable", "Message", None, ""),
        ("Message", "server reachable", "Message", None, ""),
        ("Message", "token refused", "Message", None, ""),
        ("Message", "reader failed", "Message", None, ""),
        ("Message", "reader working", "Message", None, ""),

        ("Briefing", "tap unknown", "Message", Some(UnknownCard), ""),
        ("Briefing", "tap learner", "Message", Some(StaffOnly), ""),
        ("Briefing", "tap staff without permission", "Message", Some(NotAuthorised), ""),
        ("Briefing", "tap staff", "AwaitingDevice", Some(Accepted), ""),
        ("Briefing", "tap device in", "AwaitingBadge", Some(Accepted), ""),
        ("Briefing", "tap device out", "AwaitingCard", Some(Accepted), "back"),
        ("Briefing", "press OK", "Briefing", None, ""),
        ("Briefing", "press Cancel", "Idle", None, ""),
        ("Briefing", "tick soon", "Briefing", None, ""),
        ("Briefing", "tick after 10 min", "Briefing", None, ""),
        ("Briefing", "card inserted", "Message", None, ""),
        ("Briefing", "import progress", "Briefing", None, ""),
        ("Briefing", "import finished", "Briefing", None, ""),
        ("Briefing", "import stopped", "Briefing", None, ""),
        ("Briefing", "roster synced", "Briefing", None, ""),
        ("Briefing", "server unreachable", "Briefing", None, ""),
        ("Briefing", "server reachable", "Briefing", None, ""),
        ("Briefing", "token refused", "Briefing", None, ""),
        ("Briefing", "reader failed", "Briefing", None, ""),
        ("Briefing", "reader working", "Briefing", None, ""),

        ("AwaitingCard", "tap unknown", "Message", Some(UnknownCard), ""),
        ("AwaitingCard", "tap learner", "Message", Some(StaffOnly), ""),
        ("AwaitingCard", "tap staff without permission", "Message", Some(NotAuthorised), ""),
        ("AwaitingCard", "tap staff", "AwaitingDevice", Some(Accepted), ""),
        ("AwaitingCard", "tap device in", "AwaitingBadge", Some(Accepted), ""),
        // Camera 2 was just returned, so it is in again.
        ("AwaitingCard", "tap device out", "AwaitingBadge", Some(Accepted), ""),
        ("AwaitingCard", "press OK", "AwaitingCard", None, ""),
        ("AwaitingCard", "press Cancel", "Idle", None, ""),
        ("AwaitingCard", "tick soon", "AwaitingCard", None, ""),
        ("AwaitingCard", "tick after 10 min", "Idle", None, ""),
        ("AwaitingCard", "card inserted", "Importing", None, ""),
        ("AwaitingCard", "import progress", "AwaitingCard", None, ""),
        ("AwaitingCard", "import finished", "AwaitingCard", None, ""),
        ("AwaitingCard", "import stopped", "AwaitingCard", None, ""),
        ("AwaitingCard", "roster synced", "AwaitingCard", None, ""),
        ("AwaitingCard", "server unreachable", "AwaitingCard", None, ""),
        ("AwaitingCard", "server reachable", "AwaitingCard", None, ""),
        ("AwaitingCard", "token refused", "AwaitingCard", None, ""),
        ("AwaitingCard", "reader failed", "AwaitingCard", None, ""),
        ("AwaitingCard", "reader working", "AwaitingCard", None, ""),

        ("Importing", "tap unknown", "Importing", Some(UnknownCard), ""),
        ("Importing", "tap learner", "Importing", Some(StaffOnly), ""),
        ("Importing", "tap staff without permission", "Importing", Some(NotAuthorised), ""),
        ("Importing", "tap staff", "Importing", Some(Ignored), ""),
        ("Importing", "tap device in", "Importing", Some(Ignored), ""),
        ("Importing", "tap device out", "Importing", Some(Ignored), ""),
        ("Importing", "press OK", "Importing", None, ""),
        ("Importing", "press Cancel", "Importing", None, ""),
        ("Importing", "tick soon", "Importing", None, ""),
        ("Importing", "tick after 10 min", "Message", None, ""),
        ("Importing", "card inserted", "Importing", None, ""),
        ("Importing", "import progress", "Importing", None, ""),
        ("Importing", "import finished", "Message", None, ""),
        ("Importing", "import stopped", "Message", None, ""),
        ("Importing", "roster synced", "Importing", None, ""),
        ("Importing", "server unreachable", "Importing", None, ""),
        ("Importing", "server reachable", "Importing", None, ""),
        ("Importing", "token refused", "Importing", None, ""),
        ("Importing", "reader failed", "Importing", None, ""),
        ("Importing", "reader working", "Importing", None, ""),
    ]
};

#[test]
fn every_state_and_event_pair_is_in_the_table_once() {
    let mut pairs = Vec::new();
    for (s, _) in states() {
        for (e, _) in events() {
            pairs.push((s, e));
        }
    }
    let listed: Vec<_> = TABLE.iter().map(|row| (row.0, row.1)).collect();
    assert_eq!(listed, pairs);
}

#[test]
fn each_state_and_event_pair_leads_where_the_table_says() {
    let mut failures = Vec::new();
    for &(state_name, event_name, want_mode, want_outcome, want_custody) in TABLE {
        let state = states()
            .into_iter()
            .find(|(n, _)| *n == state_name)
            .unwrap()
            .1;
        let event = events()
            .into_iter()
            .find(|(n, _)| *n == event_name)
            .unwrap()
            .1;
        let (next, effects) = step(state, event);

        let outcomes: Vec<TapOutcome> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Record {
                    kind: KioskEventKind::Tap { outcome, .. },
                    ..
                } => Some(*outcome),
                _ => None,
            })
            .collect();
        let custody: Vec<&str> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Record {
                    kind: KioskEventKind::SignedOut { .. },
                    ..
                } => Some("out"),
                Effect::Record {
                    kind: KioskEventKind::Returned { .. },
                    ..
                } => Some("back"),
                _ => None,
            })
            .collect();
        let got = (
            next.mode.name(),
            outcomes.first().copied(),
            custody.first().copied().unwrap_or(""),
        );
        let shows_last = matches!(effects.last(), Some(Effect::Show(_)));
        if got != (want_mode, want_outcome, want_custody) || outcomes.len() > 1 || !shows_last {
            failures.push(format!(
                "{state_name} + {event_name}: got {got:?} ({} taps recorded, ends with Show: {shows_last}), want {:?}",
                outcomes.len(),
                (want_mode, want_outcome, want_custody)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
