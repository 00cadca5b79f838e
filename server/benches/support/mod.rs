//! What the server benchmarks share: signing in as a browser would, and percentiles.

use std::time::Duration;

use reqwest::Client;
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
