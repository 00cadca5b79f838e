//! What the server benchmarks share: signing in as a browser would, and percentiles.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use consentcam::domain::PhotoId;
use reqwest::{Client, RequestBuilder};
use serde_json::{Value, json};

/// A client with a session for `user` (password `{user}-bench-password`) and its CSRF token.
pub async fn login(base: &str, user: &str) -> (Client, String) {
    let client = Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
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

/// The `p`th percentile of sorted durations (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Sends the requests `next` makes, one after another, until `stop`: the times of those
/// answered with success, the others counted in `errors` and the first few told on
/// standard error with what came back.
pub async fn timed_until(
    stop: Instant,
    errors: &AtomicUsize,
    mut next: impl FnMut() -> RequestBuilder,
) -> Vec<Duration> {
    let mut times = Vec::new();
    while Instant::now() < stop {
        let request = next();
        let sent = Instant::now();
        let failure = match request.send().await {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => {
                let (status, path) = (r.status(), r.url().path().to_owned());
                Some(format!(
                    "{status} {path}: {}",
                    r.text().await.unwrap_or_default()
                ))
            }
            Err(e) => Some(e.to_string()),
        };
        match failure {
            None => times.push(sent.elapsed()),
            Some(what) => {
                if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                    eprintln!("a request failed: {what}");
                }
            }
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
    errors: &Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<Vec<Duration>>> {
    clients
        .into_iter()
        .enumerate()
        .map(|(c, client)| {
            let (base, ids, errors) = (base.to_owned(), ids.clone(), errors.clone());
            tokio::spawn(async move {
                let mut n = c * 7919;
                timed_until(stop, &errors, || {
                    n = n.wrapping_mul(31).wrapping_add(17);
                    client.get(format!("{base}/photos/{}", ids[n % ids.len()]))
                })
                .await
            })
        })
        .collect()
}
