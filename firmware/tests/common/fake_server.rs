//! A stand-in for the server's kiosk API on 127.0.0.1 (port 0), written with std only.
//! It records each event id once, in arrival order, and can be told to be down, to
//! swallow replies (the kiosk dies after the server recorded a batch), or to reject an
//! event.

#![allow(dead_code)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use consentcam_wire::{EventBatch, EventReceipt, KioskEvent, RejectedEvent, Roster};

pub const TOKEN: &str = "kiosk-test-token";

#[derive(Default)]
pub struct Behaviour {
    /// Close every connection without answering.
    pub down: bool,
    /// Record the next N batches, then close without answering.
    pub swallow_replies: u32,
    /// Refuse this event id (and stop there).
    pub reject: Option<String>,
    /// Record each batch, then wait with the answer until this is false again.
    pub hold_replies: bool,
}

#[derive(Default)]
struct Inner {
    behaviour: Behaviour,
    recorded: Vec<KioskEvent>,
    seen: HashSet<String>,
    posts: u32,
    roster: Option<Roster>,
}

pub struct FakeServer {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    pub fn start(roster: Roster) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Mutex::new(Inner {
            roster: Some(roster),
            ..Inner::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let inner = inner.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &inner);
                    }
                }
            })
        };
        Self {
            addr,
            inner,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.inner.lock().unwrap().behaviour);
    }

    /// Every event recorded, in the order the server recorded them.
    pub fn recorded(&self) -> Vec<KioskEvent> {
        self.inner.lock().unwrap().recorded.clone()
    }

    pub fn posts(&self) -> u32 {
        self.inner.lock().unwrap().posts
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, lock: &Mutex<Inner>) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut length = 0usize;
    let mut auth = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("authorization:") {
            auth = line["authorization:".len()..].trim().to_owned();
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut stream = reader.into_inner();
    let mut inner = lock.lock().unwrap();
    if inner.behaviour.down {
        return;
    }
    if auth != format!("Bearer {TOKEN}") {
        let _ = reply(&mut stream, 401, "{}");
        return;
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    match (request_line.split_whitespace().next().unwrap_or(""), path) {
        ("GET", "/api/v1/kiosk/roster") => {
            let json = serde_json::to_string(inner.roster.as_ref().unwrap()).unwrap();
            let _ = reply(&mut stream, 200, &json);
        }
        ("POST", "/api/v1/kiosk/events") => {
            inner.posts += 1;
            let batch: EventBatch = match serde_json::from_slice(&body) {
                Ok(b) => b,
                Err(_) => {
                    let _ = reply(&mut stream, 400, "{}");
                    return;
                }
            };
            let mut receipt = EventReceipt {
                refused: vec![],
                recorded: vec![],
                duplicate: vec![],
                rejected: None,
            };
            for event in batch.events {
                if inner.behaviour.reject.as_deref() == Some(event.event_id.as_str()) {
                    receipt.rejected = Some(RejectedEvent {
                        event_id: event.event_id,
                        reason: "refused by the test".into(),
                    });
                    break;
                }
                if inner.seen.insert(event.event_id.clone()) {
                    receipt.recorded.push(event.event_id.clone());
                    inner.recorded.push(event);
                } else {
                    receipt.duplicate.push(event.event_id);
                }
            }
            if inner.behaviour.swallow_replies > 0 {
                inner.behaviour.swallow_replies -= 1;
                return;
            }
            while inner.behaviour.hold_replies {
                drop(inner);
                std::thread::sleep(std::time::Duration::from_millis(5));
                inner = lock.lock().unwrap();
            }
            let _ = reply(&mut stream, 200, &serde_json::to_string(&receipt).unwrap());
        }
        _ => {
            let _ = reply(&mut stream, 404, "{}");
        }
    }
}

fn reply(stream: &mut TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}
