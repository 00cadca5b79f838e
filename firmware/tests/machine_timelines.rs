//! The kiosk rules as timelines: what a person does, minute by minute, and what the kiosk
//! shows, signals and records.

use consentcam_hardware::{Button, Signal};
use consentcam_kiosk::demo::{self, uid};
use consentcam_kiosk::machine::{Effect, Event, Link, Mode, Settings, State, step};
use consentcam_kiosk::roster::LocalRoster;
use consentcam_kiosk::screen::{DeviceLine, Refusal, Screen};
use consentcam_wire::{CautionKind, KindCounts, KioskEventKind, TapOutcome};
use jiff::{SignedDuration, Timestamp};

fn at(secs: i64) -> Timestamp {
    "2026-11-25T09:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .checked_add(SignedDuration::from_secs(secs))
        .unwrap()
}

/// A kiosk being driven, keeping everything it was asked to do.
struct Timeline {
    state: Option<State>,
    effects: Vec<Effect>,
}

impl Timeline {
    fn new() -> Self {
        let roster = LocalRoster::from_roster(&demo::roster(at(0)), &demo::key());
        Self {
            state: Some(State::new(roster, Settings::default())),
            effects: Vec::new(),
        }
    }

    fn send(&mut self, event: Event) -> &mut Self {
        let (state, effects) = step(self.state.take().unwrap(), event);
        self.state = Some(state);
        self.effects.extend(effects);
        self
    }

    fn tap(&mut self, text: &str, secs: i64) -> &mut Self {
        self.send(Event::Tapped {
            uid: uid(text),
            at: at(secs),
        })
    }

    fn tick(&mut self, secs: i64) -> &mut Self {
        self.send(Event::Tick { at: at(secs) })
    }

    fn state(&self) -> &State {
        self.state.as_ref().unwrap()
    }

    fn screen(&self) -> &Screen {
        self.effects
            .iter()
            .rev()
            .find_map(|e| match e {
                Effect::Show(s) => Some(s),
                _ => None,
            })
            .unwrap()
    }

    fn records(&self) -> Vec<KioskEventKind> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Record { kind, .. } => Some(kind.clone()),
                _ => None,
            })
            .collect()
    }

    fn outcomes(&self) -> Vec<TapOutcome> {
        self.records()
            .into_iter()
            .filter_map(|k| match k {
                KioskEventKind::Tap { outcome, .. } => Some(outcome),
                _ => None,
            })
            .collect()
    }

    fn signals(&self) -> Vec<Signal> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Signal(s) => Some(*s),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn staff_badge_then_device_tag_signs_the_device_out_with_its_due_back_time() {
    let mut k = Timeline::new();
    k.tap(demo::STAFF, 0);
    assert!(matches!(k.screen(), Screen::AwaitDevice { holder, .. } if holder == "J. Smith"));
    k.tap(demo::CAMERA_1, 5);
    let due = at(5).checked_add(SignedDuration::from_mins(120)).unwrap();
    assert_eq!(
        k.records().last(),
        Some(&KioskEventKind::SignedOut {
            device_id: demo::CAMERA_1_ID,
            person_id: demo::STAFF_ID,
            due_back: due,
            booking_id: None,
        })
    );
    match k.screen() {
        Screen::SignedOut {
            device,
            holder,
            due_back,
        } => {
            assert_eq!((device.as_str(), holder.as_str()), ("Camera 1", "J. Smith"));
            assert_eq!((due_back.hour(), due_back.minute()), (11, 0));
        }
        other => panic!("{other:?}"),
    }
    assert!(k.effects.contains(&Effect::ReleaseLock));
    assert_eq!(
        k.outcomes(),
        vec![TapOutcome::Accepted, TapOutcome::Accepted]
    );
    // The confirmation goes; the idle list shows who has the camera since when.
    k.tick(10);
    match k.screen() {
        Screen::Idle { devices, .. } => assert!(devices.contains(&DeviceLine::Out {
            device: "Camera 1".into(),
            holder: "J. Smith".into(),
            since: "2026-11-25T09:00:05".parse().unwrap(),
            overdue: false,
        })),
        other => panic!("{other:?}"),
    }
}

#[test]
fn device_tag_first_then_staff_badge_signs_out_too() {
    let mut k = Timeline::new();
    k.tap(demo::CAMERA_1, 0).tap(demo::STAFF, 3);
    assert!(matches!(k.screen(), Screen::SignedOut { .. }));
    assert!(k.records().iter().any(
        |r| matches!(r, KioskEventKind::SignedOut { person_id, .. } if *person_id == demo::STAFF_ID)
    ));
}

#[test]
fn a_learner_badge_is_refused_with_red_light_and_two_beeps_and_recorded() {
    let mut k = Timeline::new();
    k.tap(demo::LEARNER, 0);
    assert_eq!(k.screen(), &Screen::Refused(Refusal::StaffOnly));
    assert_eq!(k.signals(), vec![Signal::Refuse]);
    assert_eq!(Signal::Refuse.beeps().len(), 2);
    assert_eq!(k.outcomes(), vec![TapOutcome::StaffOnly]);
    k.tick(5);
    assert!(matches!(k.screen(), Screen::Idle { .. }));
}

#[test]
fn an_unknown_badge_is_refused_and_recorded() {
    let mut k = Timeline::new();
    k.tap(demo::UNKNOWN, 0);
    assert_eq!(k.screen(), &Screen::Refused(Refusal::UnknownCard));
    assert_eq!(k.outcomes(), vec![TapOutcome::UnknownCard]);
    assert_eq!(
        k.records(),
        vec![KioskEventKind::Tap {
            uid: uid(demo::UNKNOWN),
            outcome: TapOutcome::UnknownCard
        }]
    );
}

#[test]
fn staff_without_permission_are_not_authorised() {
    let mut k = Timeline::new();
    k.tap(demo::NO_PERMISSION, 0);
    assert_eq!(k.screen(), &Screen::Refused(Refusal::NotAuthorised));
    assert_eq!(k.outcomes(), vec![TapOutcome::NotAuthorised]);
}

#[test]
fn a_second_staff_member_cannot_take_a_device_that_is_out() {
    let mut k = Timeline::new();
    k.tap(demo::STAFF, 0).tap(demo::CAMERA_1, 2).tick(10);
    k.tap(demo::OTHER_STAFF, 60).tap(demo::CAMERA_1, 62);
    match k.screen() {
        Screen::Refused(Refusal::AlreadyOut { device, holder, .. }) => {
            assert_eq!((device.as_str(), holder.as_str()), ("Camera 1", "J. Smith"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(k.outcomes().last(), Some(&TapOutcome::AlreadyOut));
    let custody = k.state().roster.custody(demo::CAMERA_1_ID).unwrap();
    assert_eq!(custody.person_id, demo::STAFF_ID);
    let sign_outs = k
        .records()
        .iter()
        .filter(|r| matches!(r, KioskEventKind::SignedOut { .. }))
        .count();
    assert_eq!(sign_outs, 1);
}

#[test]
fn waiting_for_the_device_tag_times_out_without_signing_anything_out() {
    let mut k = Timeline::new();
    k.tap(demo::STAFF, 0).tick(29);
    assert!(matches!(k.state().mode, Mode::AwaitingDevice { .. }));
    k.tick(30);
    assert_eq!(k.screen(), &Screen::Refused(Refusal::TimedOut));
    k.tick(35);
    assert_eq!(k.state().mode, Mode::Idle);
    assert!(
        !k.records()
            .iter()
            .any(|r| matches!(r, KioskEventKind::SignedOut { .. }))
    );
    // A device tag now starts afresh rather than completing the old sign-out.
    k.tap(demo::CAMERA_1, 40);
    assert!(matches!(k.state().mode, Mode::AwaitingBadge { .. }));
}

#[test]
fn returning_a_device_then_importing_its_card_shows_progress_and_a_summary() {
    let mut k = Timeline::new();
    k.tap(demo::CAMERA_2, 0);
    assert_eq!(
        k.records().last(),
        Some(&KioskEventKind::Returned {
            device_id: demo::CAMERA_2_ID,
            person_id: demo::OTHER_STAFF_ID
        })
    );
    assert_eq!(
        k.screen(),
        &Screen::Returned {
            device: "Camera 2".into(),
            holder: "R. Patel".into()
        }
    );
    k.send(Event::CardInserted {
        files: 40,
        at: at(20),
    });
    k.send(Event::ImportProgress {
        done: 12,
        failed: 0,
        at: at(25),
    });
    assert_eq!(
        k.screen(),
        &Screen::Importing {
            device: "Camera 2".into(),
            done: 12,
            total: 40,
            failed: 0
        }
    );
    let kinds = KindCounts {
        jpeg: 36,
        heic: 2,
        video: 1,
        ..KindCounts::default()
    };
    k.send(Event::ImportFinished {
        imported: 39,
        failed: 1,
        kinds,
        at: at(60),
    });
    assert_eq!(
        k.screen(),
        &Screen::ImportSummary {
            device: "Camera 2".into(),
            imported: 39,
            failed: 1,
            kinds
        }
    );
    k.tick(80);
    match k.screen() {
        Screen::Idle { devices, .. } => assert_eq!(
            devices[1],
            DeviceLine::In {
                device: "Camera 2".into()
            }
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_holders_badge_and_ok_returns_their_one_device() {
    let mut k = Timeline::new();
    k.tap(demo::OTHER_STAFF, 0);
    assert_eq!(
        k.screen(),
        &Screen::AwaitDevice {
            holder: "R. Patel".into(),
            returnable: Some("Camera 2".into())
        }
    );
    k.send(Event::Pressed {
        button: Button::Ok,
        at: at(2),
    });
    assert!(matches!(k.state().mode, Mode::AwaitingCard { .. }));
    assert!(k.state().roster.custody(demo::CAMERA_2_ID).is_none());
}

#[test]
fn an_overdue_device_shows_on_the_kiosk() {
    let mut k = Timeline::new();
    // Camera 2 went out an hour before 09:00 for three hours: due 11:00.
    k.tick(2 * 3600 - 10);
    assert!(matches!(k.screen(), Screen::Idle { .. }));
    // Past due, the idle list flags it and alternates with the overdue list.
    k.tick(2 * 3600 + 1);
    match k.screen() {
        Screen::Idle { devices, .. } => {
            assert!(matches!(&devices[1], DeviceLine::Out { overdue: true, .. }))
        }
        other => panic!("{other:?}"),
    }
    k.tick(2 * 3600 + 6);
    match k.screen() {
        Screen::Overdue { items } => {
            assert_eq!(items.len(), 1);
            assert_eq!(
                (items[0].device.as_str(), items[0].holder.as_str()),
                ("Camera 2", "R. Patel")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn with_the_server_down_the_kiosk_says_so_and_keeps_deciding_taps() {
    let mut k = Timeline::new();
    k.send(Event::ServerUnreachable {
        queued: 0,
        at: at(0),
    });
    assert!(matches!(
        k.screen(),
        Screen::ServerUnreachable { queued: 0, .. }
    ));
    assert!(matches!(k.state().link, Link::Offline { .. }));
    k.tick(5);
    assert!(matches!(k.screen(), Screen::Idle { offline: true, .. }));
    k.tap(demo::STAFF, 10).tap(demo::CAMERA_1, 12);
    assert!(matches!(k.screen(), Screen::SignedOut { .. }));
    // Still down: no second notice.
    k.tick(20).send(Event::ServerUnreachable {
        queued: 3,
        at: at(21),
    });
    assert!(matches!(k.screen(), Screen::Idle { offline: true, .. }));
    k.send(Event::ServerReachable { at: at(30) });
    assert!(matches!(k.screen(), Screen::Idle { offline: false, .. }));
    assert_eq!(k.state().link, Link::Online);
}

#[test]
fn a_fresh_roster_replaces_the_badges_the_kiosk_knows() {
    let mut k = Timeline::new();
    let mut roster = demo::roster(at(0));
    roster.badges.retain(|b| b.display_name != "J. Smith");
    k.send(Event::RosterSynced { roster, at: at(1) });
    k.tap(demo::STAFF, 2);
    assert_eq!(k.outcomes(), vec![TapOutcome::UnknownCard]);
}

#[test]
fn a_dead_reader_shows_a_fault_on_the_idle_screen_until_it_answers_again() {
    let mut k = Timeline::new();
    k.send(Event::ReaderFailed { at: at(0) });
    assert_eq!(k.screen(), &Screen::ReaderFault);
    assert_eq!(k.signals(), vec![Signal::Attention]);
    // Still failing: no new signal.
    k.send(Event::ReaderFailed { at: at(1) });
    assert_eq!(k.signals().len(), 1);
    k.send(Event::ReaderWorking { at: at(2) });
    assert!(matches!(k.screen(), Screen::Idle { .. }));
}

fn caution_pages(k: &mut Timeline, from_secs: i64) -> Vec<(CautionKind, Vec<String>, u32, u32)> {
    let mut seen = Vec::new();
    let mut secs = from_secs;
    while let Mode::Briefing { .. } = k.state().mode {
        if let Screen::Cautions {
            caution,
            names,
            page,
            pages,
        } = k.screen()
        {
            seen.push((*caution, names.clone(), *page, *pages));
        }
        secs += 1;
        k.send(Event::Pressed {
            button: Button::Ok,
            at: at(secs),
        });
    }
    seen
}

#[test]
fn a_sign_out_booked_for_a_group_lists_who_must_not_be_photographed_before_going_idle() {
    let mut k = Timeline::new();
    k.tap(demo::STAFF, 0).tap(demo::IPAD_1, 3);
    assert_eq!(
        k.records().last(),
        Some(&KioskEventKind::SignedOut {
            device_id: demo::IPAD_1_ID,
            person_id: demo::STAFF_ID,
            due_back: at(3).checked_add(SignedDuration::from_mins(240)).unwrap(),
            booking_id: Some(demo::BOOKING_ID),
        })
    );
    // First the usual confirmation with the due-back time...
    assert!(matches!(k.screen(), Screen::SignedOut { device, .. } if device == "iPad 1"));
    // ...then, when it has been read, the group's summary.
    k.tick(8);
    assert_eq!(
        k.screen(),
        &Screen::GroupBrief {
            group: demo::GROUP.into(),
            members: 12,
            no_photos: 2,
            not_public: 5,
        }
    );
    let pages = caution_pages(&mut k, 8);
    assert_eq!(
        pages,
        vec![
            (
                CautionKind::NoPhotos,
                vec!["Sam K.".to_owned(), "Ali B.".to_owned()],
                1,
                1
            ),
            (
                CautionKind::NotPublic,
                ["Jo W.", "Chris D.", "Dee M.", "Ola N."]
                    .map(String::from)
                    .to_vec(),
                1,
                2
            ),
            (CautionKind::NotPublic, vec!["Priya S.".to_owned()], 2, 2),
        ]
    );
    assert_eq!(k.state().mode, Mode::Idle);
}

#[test]
fn without_buttons_the_briefing_turns_its_pages_by_itself_and_cancel_ends_it() {
    let mut k = Timeline::new();
    k.tap(demo::IPAD_1, 0).tap(demo::STAFF, 2);
    let kind = |s: &Screen| match s {
        Screen::SignedOut { .. } => "signed out",
        Screen::GroupBrief { .. } => "group",
        Screen::Cautions { .. } => "names",
        Screen::Idle { .. } => "idle",
        _ => "other",
    };
    // Each page once, in order (the names pages differ in content).
    let mut screens = vec![k.screen().clone()];
    for secs in 3..120 {
        k.tick(secs);
        let last = screens.last().unwrap();
        if kind(last) != kind(k.screen()) || (kind(last) == "names" && last != k.screen()) {
            screens.push(k.screen().clone());
        }
    }
    let names: Vec<&str> = screens.iter().map(kind).collect();
    assert_eq!(
        names,
        ["signed out", "group", "names", "names", "names", "idle"]
    );

    // Cancel leaves at once; the sign-out stands.
    let mut k = Timeline::new();
    k.tap(demo::STAFF, 0).tap(demo::IPAD_1, 1);
    k.send(Event::Pressed {
        button: Button::Cancel,
        at: at(2),
    });
    assert_eq!(k.state().mode, Mode::Idle);
    assert!(k.state().roster.custody(demo::IPAD_1_ID).is_some());
}

#[test]
fn a_booking_covers_only_its_holder_its_device_and_its_time() {
    // Another staff member signing out the booked iPad: no booking, no briefing.
    let mut k = Timeline::new();
    k.tap(demo::OTHER_STAFF, 0).tap(demo::IPAD_1, 1);
    assert!(matches!(
        k.records().last(),
        Some(KioskEventKind::SignedOut {
            booking_id: None,
            ..
        })
    ));
    assert!(matches!(k.state().mode, Mode::Message { .. }));

    // The holder with another device than the booked one: no briefing either.
    let mut k = Timeline::new();
    k.tap(demo::STAFF, 0).tap(demo::CAMERA_1, 1);
    assert!(matches!(k.state().mode, Mode::Message { .. }));

    // After the booking's window (it ends seven hours after the roster's time).
    let mut k = Timeline::new();
    let late = 7 * 3600 + 1;
    k.tap(demo::STAFF, late).tap(demo::IPAD_1, late + 1);
    assert!(matches!(
        k.records().last(),
        Some(KioskEventKind::SignedOut {
            booking_id: None,
            ..
        })
    ));
}

#[test]
fn a_refused_token_is_shown_as_such_and_the_kiosk_keeps_deciding_taps() {
    let mut k = Timeline::new();
    k.send(Event::TokenRefused {
        queued: 3,
        at: at(10),
    });
    assert!(matches!(k.state().link, Link::Refused { queued: 3, .. }));
    assert!(k.signals().contains(&Signal::Attention));
    // The idle screen alternates between the device list (marked offline) and the
    // refusal, so that whoever passes sees that the kiosk needs registering again.
    k.tick(12);
    assert!(matches!(k.screen(), Screen::Idle { offline: true, .. }));
    k.tick(16);
    assert_eq!(k.screen(), &Screen::TokenRefused);
    // Taps are still decided from the last roster.
    k.tap(demo::STAFF, 20).tap(demo::CAMERA_1, 21);
    assert!(matches!(k.screen(), Screen::SignedOut { .. }));
    // A plain outage is not a refusal; a good answer clears both.
    k.send(Event::ServerReachable { at: at(30) });
    assert_eq!(k.state().link, Link::Online);
}

#[test]
fn an_import_that_goes_silent_or_stops_is_shown_as_stopped_not_as_a_bar_for_ever() {
    let start = |k: &mut Timeline| {
        k.tap(demo::CAMERA_2, 0);
        k.send(Event::CardInserted {
            files: 40,
            at: at(10),
        });
        k.send(Event::ImportProgress {
            done: 12,
            failed: 0,
            at: at(30),
        });
    };
    let stopped = Screen::ImportStopped {
        device: "Camera 2".into(),
        done: 12,
        total: 40,
    };
    // The service says it stopped (the card was pulled out).
    let mut k = Timeline::new();
    start(&mut k);
    k.send(Event::ImportStopped {
        done: 12,
        at: at(31),
    });
    assert_eq!(k.screen(), &stopped);
    assert!(k.signals().contains(&Signal::Attention));

    // The service was killed and says nothing: two minutes after its last news.
    let mut k = Timeline::new();
    start(&mut k);
    k.tick(30 + 119);
    assert!(matches!(k.state().mode, Mode::Importing { .. }));
    k.tick(30 + 120);
    assert_eq!(k.screen(), &stopped);
    // The message goes like the summary does, and the kiosk takes taps again.
    k.tick(30 + 120 + 16);
    assert_eq!(k.state().mode, Mode::Idle);
}
