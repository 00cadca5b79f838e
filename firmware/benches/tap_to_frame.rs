//! From a tap event to the new screen's frame: the state step, the event posted to the
//! server on loopback (a std stub, one connection per request), and drawing the screen.
//! Prints the median and 99th percentile of the whole path after criterion's own report.
//!
//! cargo bench -p consentcam-kiosk --bench tap_to_frame

#[path = "../tests/common/fake_server.rs"]
mod fake_server;

use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use consentcam_hardware::Frame;
use consentcam_kiosk::client::{HttpApi, KioskApi};
use consentcam_kiosk::demo::{self, uid};
use consentcam_kiosk::machine::{Effect, Event, Settings, State, step};
use consentcam_kiosk::roster::LocalRoster;
use consentcam_kiosk::screen::draw;
use consentcam_wire::{EventBatch, KioskEvent};
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};

fn t0() -> Timestamp {
    "2026-11-25T09:00:00Z".parse().unwrap()
}

fn idle() -> State {
    State::new(
        LocalRoster::from_roster(&demo::roster(t0()), &demo::key()),
        Settings::default(),
    )
}

/// One tap through the whole software path; returns the frame.
fn tap_to_frame(state: &State, api: &HttpApi, seq: u64) -> Frame {
    let at = t0().checked_add(SignedDuration::from_secs(1)).unwrap();
    let (_, effects) = step(
        state.clone(),
        Event::Tapped {
            uid: uid(demo::STAFF),
            at,
        },
    );
    let mut frame = Frame::default();
    let mut events = Vec::new();
    for effect in effects {
        match effect {
            Effect::Record { kind, at } => events.push(KioskEvent {
                event_id: format!("bench-{seq}-{}", events.len()),
                seq,
                at,
                reader: "bench".into(),
                kind,
            }),
            Effect::Show(screen) => {
                let _ = draw(&screen, &mut frame);
            }
            Effect::Signal(_) | Effect::ReleaseLock => {}
        }
    }
    let receipt = api
        .post_events(&EventBatch {
            events,
            sent_at: None,
        })
        .unwrap();
    assert_eq!(receipt.recorded.len(), 1);
    frame
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn bench(c: &mut Criterion) {
    let server = fake_server::FakeServer::start(demo::roster(t0()));
    let api = HttpApi::new(&server.url(), fake_server::TOKEN, Duration::from_secs(5));
    let state = idle();
    let samples = RefCell::new(Vec::new());
    let mut seq = 0u64;

    c.bench_function("tap -> step + POST on loopback + draw", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                seq += 1;
                let start = Instant::now();
                black_box(tap_to_frame(&state, &api, seq));
                let took = start.elapsed();
                samples.borrow_mut().push(took);
                total += took;
            }
            total
        })
    });

    c.bench_function("step only", |b| {
        b.iter(|| {
            step(
                state.clone(),
                Event::Tapped {
                    uid: uid(demo::STAFF),
                    at: t0(),
                },
            )
        })
    });
    let screen = state.screen(t0());
    c.bench_function("draw idle screen only", |b| {
        b.iter(|| {
            let mut frame = Frame::default();
            let _ = draw(black_box(&screen), &mut frame);
            frame
        })
    });

    let mut all = samples.into_inner();
    all.sort();
    if !all.is_empty() {
        println!(
            "tap -> frame over {} taps: median {:.3} ms, p99 {:.3} ms",
            all.len(),
            percentile(&all, 0.5).as_secs_f64() * 1e3,
            percentile(&all, 0.99).as_secs_f64() * 1e3
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
