//! A signed-in browser session against a running `consentcam serve`: its cookies and its
//! CSRF token, for the tests that drive the real server over HTTP. Sessions are kept in
//! the records, so one login lasts across restarts.
#![allow(dead_code)] // each suite uses part of it

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

pub struct Session {
    pub client: Client,
    pub csrf: String,
    pub base: String,
}

impl Session {
    /// Logs in as `user` at the server at `base`.
    pub async fn login(base: &str, user: &str, password: &str) -> Session {
        let client = Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let body: Value = client
            .post(format!("{base}/api/v1/login"))
            .json(&json!({ "username": user, "password": password }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Session {
            client,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
            base: base.to_owned(),
        }
    }

    /// Sends a JSON request; `Some((status, body))` when the server answered.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Value,
    ) -> Option<(StatusCode, Value)> {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .ok()?;
        let status = response.status();
        let text = response.text().await.ok()?;
        Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// The body of a request answered 2xx; `None` for anything else.
    pub async fn ok(&self, method: Method, path: &str, body: Value) -> Option<Value> {
        match self.send(method, path, body).await {
            Some((status, body)) if status.is_success() => Some(body),
            _ => None,
        }
    }

    /// The body of a request that must be answered 2xx.
    pub async fn must(&self, method: Method, path: &str, body: Value) -> Value {
        match self.send(method.clone(), path, body).await {
            Some((status, body)) if status.is_success() => body,
            answered => panic!("{method} {path}: {answered:?}"),
        }
    }

    /// A page, as the browser would get it.
    pub async fn page(&self, path: &str) -> String {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}
