//! What one slow or hostile client may take of the server: connections, time to send a
//! request, and card files from a kiosk (size, how many at once, the disk's free space).

use std::time::Duration;

use consentcam::domain::AccountRole;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, expect, spawn_with};

/// A connection that sends the start of a request's headers and then nothing more.
async fn slow_client(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /api/v1/session HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    stream
}

/// Whether the server has closed `stream` (end of file or reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A 408 or another answer: read on until it closes.
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn five_hundred_slow_connections_hold_nothing_and_are_closed_after_the_header_time() {
    let app = spawn_with(|c| c.limits.header_seconds = 3).await;
    let staff = app.login(AccountRole::Staff).await;
    let mut slow = Vec::new();
    for _ in 0..500 {
        slow.push(slow_client(&app).await);
    }
    // Staff are served meanwhile.
    let answered = tokio::time::timeout(Duration::from_secs(10), staff.get("/api/v1/photos"))
        .await
        .expect("a staff request is answered while 500 clients dawdle");
    expect(answered, StatusCode::OK).await;
    // Every slow client is cut off once its time to send headers is up.
    let mut closed = 0;
    for stream in &mut slow {
        if closed_within(stream, Duration::from_secs(10)).await {
            closed += 1;
        }
    }
    assert_eq!(closed, 500);
}

#[tokio::test]
async fn connections_past_the_limit_are_closed_at_once_and_served_again_once_others_end() {
    let app = spawn_with(|c| {
        c.limits.max_connections = 8;
        c.limits.header_seconds = 2;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(slow_client(&app).await);
    }
    // Give the server a moment to take them all.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut extra = TcpStream::connect(app.addr).await.unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_secs(1)).await,
        "a ninth connection is closed at once"
    );
    // The held ones time out; the server takes new connections again.
    for stream in &mut held {
        assert!(closed_within(stream, Duration::from_secs(10)).await);
    }
    // It answers again (503 here: a fresh install has no backup yet).
    let health = reqwest::get(app.url("/health")).await.unwrap();
    assert!(
        matches!(
            health.status(),
            StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE
        ),
        "{}",
        health.status()
    );
}

async fn put_card_file(app: &TestApp, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .put(app.url(&format!("/api/v1/kiosk/card-files/{}", "ab".repeat(32))))
        .bearer_auth(&app.kiosk_token)
        .header("x-card-path", "DCIM/100CANON/MVI_0001.MP4")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn incoming_files(app: &TestApp) -> usize {
    let incoming = app.db_path.parent().unwrap().join("store/incoming");
    std::fs::read_dir(incoming).map_or(0, Iterator::count)
}

#[tokio::test]
async fn a_card_file_larger_than_the_limit_is_refused_and_nothing_is_kept() {
    let app = spawn_with(|c| c.limits.card_file_mib = 1).await;
    let answer = put_card_file(&app, vec![0u8; 2 * 1024 * 1024]).await;
    let body = expect(answer, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(
        body["message"].as_str().unwrap().contains("card_file_mib"),
        "{body}"
    );
    // Sent without a length (chunked), it is cut off once past the limit.
    let chunks =
        futures_util::stream::iter((0..3).map(|_| Ok::<_, std::io::Error>(vec![0u8; 600 * 1024])));
    let answer = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/kiosk/card-files/{}", "ab".repeat(32))))
        .bearer_auth(&app.kiosk_token)
        .header("x-card-path", "DCIM/100CANON/MVI_0002.MP4")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    expect(answer, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(incoming_files(&app), 0);
}

#[tokio::test]
async fn a_card_file_that_would_fill_the_disk_is_refused_with_507() {
    // A reserve larger than any disk: every upload would eat into it.
    let app = spawn_with(|c| c.limits.free_space_reserve_mib = u64::MAX / (2 << 20)).await;
    let answer = put_card_file(&app, b"a small file".to_vec()).await;
    let body = expect(answer, StatusCode::INSUFFICIENT_STORAGE).await;
    assert_eq!(body["error"], "insufficient_storage");
    assert!(
        !body.to_string().contains('/'),
        "no path in the answer: {body}"
    );
    assert_eq!(incoming_files(&app), 0);
}

/// A card-file upload by the test's kiosk that sends its headers and 1,000 of the 100,000
/// bytes it announces, and then nothing more.
async fn stalled_upload(app: &TestApp, hash: &str, card_path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "PUT /api/v1/kiosk/card-files/{hash} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         X-Card-Path: {card_path}\r\nContent-Length: 100000\r\n\r\n",
        app.kiosk_token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[0u8; 1000]).await.unwrap();
    stream
}

#[tokio::test]
async fn a_kiosk_sends_at_most_its_share_of_files_at_once() {
    let app = spawn_with(|c| c.limits.card_uploads_per_kiosk = 1).await;
    // One upload that has sent its headers and part of its body, and waits.
    let first = stalled_upload(&app, &"cd".repeat(32), "DCIM/100CANON/MVI_0003.MP4").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = put_card_file(&app, b"another file".to_vec()).await;
    let body = expect(second, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["error"], "busy");
    // The first ends (the client goes away): the slot is free again.
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let third = put_card_file(&app, b"another file".to_vec()).await;
    assert_ne!(third.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        incoming_files(&app),
        0,
        "nothing left of the broken-off upload"
    );
}

#[tokio::test]
async fn an_upload_that_stops_sending_is_ended_after_the_idle_time_and_leaves_nothing() {
    let app = spawn_with(|c| c.limits.idle_seconds = 1).await;
    let mut stalled = stalled_upload(&app, &"ef".repeat(32), "DCIM/100CANON/MVI_0004.MP4").await;
    // The server answers (the upload broke off) and lets go, without the client sending
    // another byte.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the stalled upload is ended by the server");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 4"), "{text}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(incoming_files(&app), 0);
}

/// `/health`: 503 on a fresh install (no backup yet), saying which part and nothing of
/// where; 200 once a backup is found whole; 503 again when that backup grows stale.
#[tokio::test]
async fn health_says_which_part_is_unwell_with_a_status_code_monitoring_understands() {
    let app = spawn_with(|_| {}).await;
    let health = reqwest::get(app.url("/health")).await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let said: serde_json::Value = health.json().await.unwrap();
    assert_eq!(said["status"], "degraded");
    assert_eq!(said["backup"], "none");
    assert_eq!(said["database"], "ok");
    assert_eq!(said["storage"], "ok");
    assert!(said["free_disk_mib"].is_u64(), "{said}");
    let data_dir = app.db_path.parent().unwrap().to_path_buf();
    assert!(!said.to_string().contains(data_dir.to_str().unwrap()));

    // A backup, verified and recorded as verify-backup does.
    let dest = tempfile::tempdir().unwrap();
    let now: jiff::Timestamp = crate::helpers::NOW.parse().unwrap();
    let mut conn = app.db();
    let archive = consentcam::infra::archive::Archive::local(&data_dir);
    consentcam::ops::backup::backup(&conn, &archive, dest.path(), None, now).unwrap();
    let report = consentcam::ops::backup::verify(dest.path(), None, &data_dir).unwrap();
    consentcam::ops::backup::record_verified(&mut conn, dest.path(), &report, "test", now).unwrap();
    let health = reqwest::get(app.url("/health")).await.unwrap();
    let status = health.status();
    let said: serde_json::Value = health.json().await.unwrap();
    assert_eq!(said["backup"], "ok", "{said}");
    if said["disk"] == "ok" {
        assert_eq!(status, StatusCode::OK, "{said}");
        assert_eq!(said["status"], "ok");
    }

    // Two days on (the server's clock is fixed at NOW: the backup is made older instead).
    conn.execute(
        "UPDATE backup_runs SET made_at = '2026-01-01T00:00:00Z'",
        [],
    )
    .unwrap();
    let health = reqwest::get(app.url("/health")).await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let said: serde_json::Value = health.json().await.unwrap();
    assert_eq!(said["backup"], "stale", "{said}");
}

#[tokio::test]
async fn a_json_body_over_the_upload_limit_is_413_not_a_bad_request() {
    let app = spawn_with(|c| c.max_upload_bytes = 64 * 1024).await;
    let answer = reqwest::Client::new()
        .post(app.url("/api/v1/login"))
        .header("content-type", "application/json")
        .body(vec![b' '; 128 * 1024])
        .send()
        .await
        .unwrap();
    let body = expect(answer, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(body["error"], "too_large", "{body}");
}

/// The server's guard against slow clients also times the wait between two requests on
/// one connection: an idle keep-alive connection is closed after `header_seconds`. A
/// client that reused it later could send its request into the close; the clients this
/// project ships leave theirs long before.
#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_time_and_our_clients_leave_sooner()
 {
    let app = spawn_with(|c| c.limits.header_seconds = 2).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\"backup\"") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("the health answer")
            .unwrap();
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 "));
    // Kept open for a next request a while, then closed with nothing sent.
    assert!(!closed_within(&mut stream, Duration::from_millis(1200)).await);
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
    assert!(
        consentcam_wire::IDLE_CONNECTION_SECONDS
            < consentcam::infra::config::Limits::default().header_seconds,
        "the clients keep idle connections longer than the server does"
    );
}
