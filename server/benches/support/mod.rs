//! What the server benchmarks share: signing in as a browser would, and percentiles.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use consentcam::domain::PhotoId;
use reqwest::{Client, RequestBuilder};
use serde_json::{Value, json};

/// A client with a session for `user` (password `{user}-bench-password`) and its CSRF token.
pub async fn login(base: &str, user: &str) -> (Client, String) {
    let client = client_builder().cookie_store(true).build().unwrap();
    let body: Value = client
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "username": user, "password": format!("{user}-bench-password") }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (client, body["csrf_token"].as_str().unwrap().to_owned())
}

/// A client as the benchmarks use them: a minute to answer, and an idle connection left
/// well before the server closes it (`consentcam_wire::IDLE_CONNECTION_SECONDS`): a
/// client that logged in and then waited for the others would otherwise send its first
/// request on a connection the server was closing.
pub fn client_builder() -> reqwest::ClientBuilder {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(
            consentcam_wire::IDLE_CONNECTION_SECONDS,
        ))
}

/// The `p`th percentile of sorted durations (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Every failed request, by what came back: the status, route and answer, or the error
/// and its causes. A benchmark with any fails loudly ([`Failures::fail_loudly`]): its
/// figures would hide the failures' time.
#[derive(Default)]
pub struct Failures(Mutex<BTreeMap<String, usize>>);

impl Failures {
    pub fn note(&self, what: String) {
        *self.0.lock().unwrap().entry(what).or_default() += 1;
    }

    pub fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }

    /// Prints each kind of failure with its count and exits with status 1, if any.
    pub fn fail_loudly(&self, run: &str) {
        let failures = self.0.lock().unwrap();
        if failures.is_empty() {
            return;
        }
        eprintln!(
            "{run}: {} request(s) failed:",
            failures.values().sum::<usize>()
        );
        for (what, n) in failures.iter() {
            eprintln!("  {n} x {what}");
        }
        std::process::exit(1);
    }
}

/// The route of a path: numbers stand for any id.
fn route(path: &str) -> String {
    path.split('/')
        .map(|part| {
            if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// An error with every cause under it (the connection's, the socket's).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

/// Sends the requests `next` makes, one after another, until `stop`: the times of those
/// answered with success; each other one noted in `failures`.
pub async fn timed_until(
    stop: Instant,
    failures: &Failures,
    mut next: impl FnMut() -> RequestBuilder,
) -> Vec<Duration> {
    let mut times = Vec::new();
    while Instant::now() < stop {
        let request = next();
        let sent = Instant::now();
        let failure = match request.send().await {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => {
                let (status, path) = (r.status(), route(r.url().path()));
                Some(format!(
                    "{status} {path}: {}",
                    r.text().await.unwrap_or_default()
                ))
            }
            Err(e) => Some(format!(
                "after {} ms: {}",
                sent.elapsed().as_millis(),
                with_causes(&e)
            )),
        };
        match failure {
            None => times.push(sent.elapsed()),
            Some(what) => failures.note(what),
        }
    }
    times
}

/// One task per client, each opening random photo pages of `ids` until `stop`; each gives
/// the times of its pages.
pub fn photo_page_tasks(
    base: &str,
    clients: Vec<Client>,
    ids: &Arc<Vec<PhotoId>>,
    stop: Instant,
    failures: &Arc<Failures>,
) -> Vec<tokio::task::JoinHandle<Vec<Duration>>> {
    clients
        .into_iter()
        .enumerate()
        .map(|(c, client)| {
            let (base, ids, failures) = (base.to_owned(), ids.clone(), failures.clone());
            tokio::spawn(async move {
                let mut n = c * 7919;
                timed_until(stop, &failures, || {
                    n = n.wrapping_mul(31).wrapping_add(17);
                    client.get(format!("{base}/photos/{}", ids[n % ids.len()]))
                })
                .await
            })
        })
        .collect()
}
