//! What the mail outbox costs the kiosk: the sign-out round trip (a kiosk's
//! `POST /api/v1/kiosk/events`) with the mail worker off, then on while it queues the
//! reminders due and sends a backlog to a real SMTP server on loopback (aiosmtpd, as in
//! the tests), in the same run.
//!
//! `cargo bench -p consentcam --bench mail_load` (optionally `-- ROUNDS KIOSKS BACKLOG`,
//! default 300 4 2000). Needs python3 with aiosmtpd (apt: python3-aiosmtpd).
//!
//! Prints p50/p99 of each phase (off, on, off again: the records grow as the kiosks
//! write, so the phase with the worker is compared with the mean of the two around it) and
//! the ratio of the p99s (the goal is within 1.1x).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use consentcam::domain::{ExternalRef, Name, Role};
use consentcam::infra::clock::Clock;
use consentcam::infra::config::Config;
use consentcam::infra::password;
use consentcam::store::{self, people, registry};
use consentcam::web::{self, AppState};
use serde_json::json;

#[allow(dead_code, reason = "this benchmark needs only the percentiles")]
mod support;
use support::percentile;

fn now() -> jiff::Timestamp {
    "2026-11-25T10:00:00Z".parse().unwrap()
}

/// An SMTP server keeping what it takes in `maildir`, on a free port.
fn smtp_sink(maildir: &std::path::Path) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let python = if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut child = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/mail/smtp_sink.py"
        ))
        .arg("--port")
        .arg(port.to_string())
        .arg("--maildir")
        .arg(maildir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 with aiosmtpd");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    (child, port)
}

struct Kiosk {
    token: String,
    device: i64,
    person: i64,
    seq: u64,
}

/// The records: `kiosks` kiosks each with a camera and a person who signs it out, 20
/// cameras overdue with their holders' accounts, directors and admins with addresses,
/// and `backlog` messages waiting in the outbox.
fn generate(config: &Config, kiosks: usize, backlog: usize) -> Vec<Kiosk> {
    let mut conn = store::open(&config.db_path()).unwrap();
    let hash = password::hash("bench-password").unwrap();
    let person = |conn: &rusqlite::Connection, r: &str| {
        people::insert_person(
            conn,
            &people::NewPerson {
                ext_ref: ExternalRef::parse(r).unwrap(),
                given_name: Name::parse("Given").unwrap(),
                family_name: Name::parse(r).unwrap(),
                date_of_birth: "1990-01-01".parse().unwrap(),
                role: Role::Staff,
                vulnerable: false,
                may_sign_out: true,
            },
            now(),
        )
        .unwrap()
    };
    let device = |conn: &rusqlite::Connection, label: &str, n: usize| {
        registry::insert_device(
            conn,
            &registry::NewDevice {
                label: label.into(),
                make: "Canon".into(),
                model: "EOS".into(),
                serial: label.into(),
                tag_uid: consentcam_wire::TagUid::parse(&format!("D0C0{n:04X}")).unwrap(),
                loan_minutes: 60,
            },
            now(),
        )
        .unwrap()
    };
    for (i, role) in [
        consentcam::domain::AccountRole::Director,
        consentcam::domain::AccountRole::Admin,
    ]
    .into_iter()
    .cycle()
    .take(20)
    .enumerate()
    {
        let id =
            registry::insert_account(&conn, &format!("acct{i}"), &hash, role, None, now()).unwrap();
        registry::set_email(&conn, id, Some(&format!("acct{i}@school.example"))).unwrap();
    }
    let mut out = Vec::new();
    for k in 0..kiosks {
        let token = password::random_token();
        registry::insert_kiosk(
            &conn,
            &format!("kiosk{k}"),
            &password::token_hash(&token),
            now(),
        )
        .unwrap();
        let p = person(&conn, &format!("K{k}"));
        registry::enrol_badge(
            &conn,
            &consentcam_wire::TagUid::parse(&format!("B0C0{k:04X}")).unwrap(),
            p,
            now(),
        )
        .unwrap();
        let d = device(&conn, &format!("Kiosk camera {k}"), k);
        out.push(Kiosk {
            token,
            device: d.0,
            person: p.0,
            seq: 0,
        });
    }
    let settings = config.mail.clone().unwrap();
    for _ in 0..backlog {
        consentcam::ops::mail::queue_test(
            &mut conn,
            &settings,
            "someone@school.example",
            None,
            "bench",
            now(),
        )
        .unwrap();
    }
    out
}

/// Each kiosk signs its camera out and back in `rounds` times, one request after
/// another, all kiosks at once: the sign-outs' round trips.
async fn sign_outs(base: &str, kiosks: &mut [Kiosk], rounds: usize, phase: &str) -> Vec<Duration> {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for (k, kiosk) in kiosks.iter_mut().enumerate() {
        let client = client.clone();
        let base = base.to_owned();
        let (token, device, person, mut seq) =
            (kiosk.token.clone(), kiosk.device, kiosk.person, kiosk.seq);
        let phase = phase.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(rounds);
            for r in 0..rounds {
                let at = now() - jiff::SignedDuration::from_secs(5000 - (seq as i64 + 2));
                for kind in ["signed_out", "returned"] {
                    seq += 1;
                    let mut event = json!({
                        "event_id": format!("{phase}-{k}-{r}-{kind}"), "seq": seq,
                        "at": at.to_string(), "reader": "bench", "type": kind,
                        "device_id": device, "person_id": person,
                    });
                    if kind == "signed_out" {
                        event["due_back"] =
                            json!((at + jiff::SignedDuration::from_hours(1)).to_string());
                    }
                    let sent = Instant::now();
                    let response = client
                        .post(format!("{base}/api/v1/kiosk/events"))
                        .bearer_auth(&token)
                        .json(&json!({ "events": [event] }))
                        .send()
                        .await
                        .unwrap();
                    let status = response.status();
                    let body = response.text().await.unwrap();
                    assert!(status.is_success(), "{status}: {body}");
                    if kind == "signed_out" {
                        times.push(sent.elapsed());
                    }
                }
            }
            (times, seq)
        }));
    }
    let mut all = Vec::new();
    for (kiosk, task) in kiosks.iter_mut().zip(tasks) {
        let (times, seq) = task.await.unwrap();
        kiosk.seq = seq;
        all.extend(times);
    }
    all.sort();
    all
}

fn main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(300);
    let kiosk_count: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(4);
    let backlog: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let (mut sink, port) = smtp_sink(&maildir);
    let mail: consentcam::infra::mail_settings::MailSettings = toml::from_str(&format!(
        "from = \"photos@school.example\"\nserver_url = \"https://photos.school.example\"\n\
         poll_seconds = 1\n[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n"
    ))
    .unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        mail: Some(mail),
        ..Config::default()
    };
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let mut kiosks = generate(&config, kiosk_count, backlog);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let conn = store::open(&config.db_path()).unwrap();
        let state = AppState::new(conn, config.clone(), Clock::Fixed(now()));
        let writer = state.db_handle();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(web::serve(listener, state, std::future::pending()));

        let off = sign_outs(&base, &mut kiosks, rounds, "off").await;
        let stop = Arc::new(AtomicBool::new(false));
        let worker = {
            let (config, stop) = (config.clone(), stop.clone());
            std::thread::spawn(move || {
                consentcam::ops::mail::work(&writer, &config, &Clock::Fixed(now()), &stop).unwrap();
            })
        };
        let started = Instant::now();
        let on = sign_outs(&base, &mut kiosks, rounds, "on").await;
        let during = started.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        worker.join().unwrap();
        // Off again: what the records' growth alone does to the second phase.
        let after = sign_outs(&base, &mut kiosks, rounds, "after").await;
        let sent: i64 = store::open(&config.db_path())
            .unwrap()
            .query_row(
                "SELECT COUNT(*) FROM mail_outbox WHERE state = 'sent'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        for (name, times) in [
            ("mail worker off", &off),
            ("mail worker on", &on),
            ("mail worker off again", &after),
        ] {
            println!(
                "sign-out, {name}: {} requests, p50 {:.2} ms, p99 {:.2} ms",
                times.len(),
                percentile(times, 50.0).as_secs_f64() * 1000.0,
                percentile(times, 99.0).as_secs_f64() * 1000.0
            );
        }
        println!(
            "the worker sent {sent} messages in the {:.1} s of the second phase",
            during.as_secs_f64()
        );
        let off_p99 = (percentile(&off, 99.0).as_secs_f64()
            + percentile(&after, 99.0).as_secs_f64())
            / 2.0;
        println!(
            "ratio: sign-out p99 with the mail worker on / off (the mean of before and after) = {:.2} (goal: within 1.1)",
            percentile(&on, 99.0).as_secs_f64() / off_p99
        );
    });
    let _ = sink.kill();
    let _ = sink.wait();
}
