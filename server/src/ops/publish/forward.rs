//! Sending publications on to a channel's web endpoint (a CMS, a partner's upload service).
//!
//! The outbox folder is the record of every publication; a channel with an endpoint
//! (config `[deliver.<channel>]`) also gets each delivery POSTed, from a queue
//! (`http_deliveries`) that survives restarts. A failed POST is tried again later, with a
//! growing pause; a delivery whose publication was taken down before the endpoint had it
//! is never sent (C10 holds for late deliveries too).
//!
//! The request: `POST <url>`, `Content-Type: application/json`, `Authorization: Bearer
//! <token>` when the endpoint has a token file, `Idempotency-Key: <file name>` (the same on
//! every retry, so the receiver can drop a repeat). The body is the manifest the outbox
//! holds beside the photo (file name, channel, time, caption, covered faces: no names)
//! plus `image_base64`, the scrubbed JPEG.
//!
//! When a takedown of a delivered publication is marked done, the endpoint is asked to
//! remove its copy: `DELETE <url>/<file name>` with the same token, retried the same way
//! until it answers 2xx or 404 (already gone).

use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;

use super::{Outbox, wordpress};
use crate::infra::config::EndpointKind;
use crate::store::audit::Action;
use crate::store::deliveries::{self, Delivery};
use crate::store::{Result, StoreError};

/// What a request asks of the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Take this publication.
    Post,
    /// Remove this file (a takedown).
    Delete,
}

/// One request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub verb: Verb,
    pub url: String,
    pub token: Option<String>,
    pub idempotency_key: String,
    pub body: Vec<u8>,
}

/// Sends requests; the real one is [`HttpPoster`], tests use their own.
pub trait Poster: Send + Sync {
    /// `Ok` when the endpoint did it (2xx; for a removal also 404, already gone);
    /// otherwise why not.
    fn post(&self, request: &Outgoing) -> std::result::Result<(), String>;
}

/// POSTs over HTTP(S) with a 30-second limit per request.
pub struct HttpPoster {
    agent: ureq::Agent,
}

impl Default for HttpPoster {
    fn default() -> Self {
        Self {
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(30)))
                .http_status_as_error(false)
                .build()
                .into(),
        }
    }
}

impl Poster for HttpPoster {
    fn post(&self, request: &Outgoing) -> std::result::Result<(), String> {
        let auth = request.token.as_ref().map(|t| format!("Bearer {t}"));
        let response = match request.verb {
            Verb::Post => {
                let mut call = self
                    .agent
                    .post(&request.url)
                    .header("Content-Type", "application/json")
                    .header("Idempotency-Key", &request.idempotency_key);
                if let Some(auth) = &auth {
                    call = call.header("Authorization", auth);
                }
                call.send(&request.body[..])
            }
            Verb::Delete => {
                let mut call = self
                    .agent
                    .delete(&request.url)
                    .header("Idempotency-Key", &request.idempotency_key);
                if let Some(auth) = &auth {
                    call = call.header("Authorization", auth);
                }
                call.call()
            }
        }
        .map_err(|e| format!("cannot reach the endpoint: {e}"))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) || (request.verb == Verb::Delete && status == 404) {
            Ok(())
        } else {
            Err(format!("the endpoint answered HTTP {status}"))
        }
    }
}

/// The pause after a first failed try, unless an endpoint says otherwise.
pub const FIRST_PAUSE: SignedDuration = SignedDuration::from_secs(30);

/// How long to wait before try number `attempts + 1`: 30 s, doubling, at most an hour.
pub fn retry_after(attempts: u32) -> SignedDuration {
    pause(FIRST_PAUSE, attempts)
}

/// How long to wait before try number `attempts + 1`: `first`, doubling, at most an hour.
pub fn pause(first: SignedDuration, attempts: u32) -> SignedDuration {
    let secs = first
        .as_secs()
        .max(1)
        .saturating_mul(1i64 << attempts.saturating_sub(1).min(16));
    SignedDuration::from_secs(secs.min(deliveries::LONGEST_PAUSE.as_secs()))
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
    pub withheld: usize,
    /// Copies the endpoints confirmed removed (takedowns).
    pub removed: usize,
}

fn lock(db: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    db.lock().unwrap_or_else(|e| e.into_inner())
}

fn log(
    conn: &Connection,
    action: Action,
    d: &Delivery,
    details: serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    crate::ops::log(
        conn,
        "system",
        action,
        format!("publication:{}", d.publication_id),
        details,
        now,
    )
}

/// The photo and its manifest in the outbox.
fn outbox_files(
    outbox: &Outbox,
    d: &Delivery,
) -> std::result::Result<(Vec<u8>, serde_json::Map<String, serde_json::Value>), String> {
    let [photo, manifest] = super::outbox::file_names(&d.opaque_name).map(|file| {
        outbox
            .read(d.channel, &file)
            .map_err(|e| format!("the outbox file {file} cannot be read: {e}"))?
            .ok_or_else(|| {
                format!(
                    "the outbox file {file} is missing from {}",
                    outbox.describe(d.channel)
                )
            })
    });
    let (photo, manifest) = (photo?, manifest?);
    let manifest = serde_json::from_slice(&manifest).map_err(|e| {
        format!(
            "the outbox manifest of {} is unreadable: {e}",
            d.opaque_name
        )
    })?;
    Ok((photo, manifest))
}

/// The request for one delivery, from the files in the outbox.
fn request(
    outbox: &Outbox,
    d: &Delivery,
    token: Option<String>,
) -> std::result::Result<Outgoing, String> {
    let (photo, mut body) = outbox_files(outbox, d)?;
    body.insert(
        "image_base64".into(),
        base64::engine::general_purpose::STANDARD
            .encode(photo)
            .into(),
    );
    Ok(Outgoing {
        verb: Verb::Post,
        url: d.url.clone(),
        token,
        idempotency_key: d.opaque_name.clone(),
        body: serde_json::to_vec(&body).map_err(|e| e.to_string())?,
    })
}

/// How to reach each channel's endpoint, asked when needed (so a new token or password
/// takes effect without a restart).
pub trait Reach {
    /// The bearer token of a channel code's `http` endpoint.
    fn token(&self, channel_code: &str) -> std::result::Result<Option<String>, String>;

    /// The WordPress site of a channel code, and whether it wants a draft post.
    fn site(
        &self,
        channel_code: &str,
    ) -> std::result::Result<(Box<dyn wordpress::Site>, bool), String> {
        Err(format!(
            "no WordPress site is configured for {channel_code}"
        ))
    }

    /// The pause after a channel's first failed try.
    fn first_pause(&self, _channel_code: &str) -> SignedDuration {
        FIRST_PAUSE
    }
}

impl<F: Fn(&str) -> std::result::Result<Option<String>, String>> Reach for F {
    fn token(&self, channel_code: &str) -> std::result::Result<Option<String>, String> {
        self(channel_code)
    }
}

/// The endpoints of a configuration.
pub struct Configured<'a>(pub &'a crate::infra::config::Config);

impl Reach for Configured<'_> {
    fn token(&self, code: &str) -> std::result::Result<Option<String>, String> {
        match self.0.deliver.get(code) {
            Some(endpoint) => endpoint.secret(),
            None => Ok(None),
        }
    }

    fn site(&self, code: &str) -> std::result::Result<(Box<dyn wordpress::Site>, bool), String> {
        let endpoint = self
            .0
            .deliver
            .get(code)
            .ok_or_else(|| format!("[deliver.{code}] is no longer configured"))?;
        Ok((
            Box::new(wordpress::HttpSite::new(endpoint)?),
            endpoint.draft_post,
        ))
    }

    fn first_pause(&self, code: &str) -> SignedDuration {
        self.0
            .deliver
            .get(code)
            .and_then(|e| e.retry_seconds)
            .map_or(FIRST_PAUSE, |s| SignedDuration::from_secs(i64::from(s)))
    }
}

/// The connection check of a channel's endpoint (`consentcam deliver-test`, the admin's
/// page): what works, in a sentence, or what does not.
///
/// # Errors
/// Why the endpoint cannot be used, in a sentence an admin can act on.
pub fn check(
    config: &crate::infra::config::Config,
    code: &str,
) -> std::result::Result<String, String> {
    let endpoint = config.deliver.get(code).ok_or_else(|| {
        let known: Vec<&str> = config.deliver.keys().map(String::as_str).collect();
        format!(
            "no [deliver.{code}] in the config (configured: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )
    })?;
    match endpoint.kind {
        EndpointKind::Wordpress => {
            let site = wordpress::HttpSite::new(endpoint)?;
            wordpress::check(&site, endpoint.draft_post).map(|ok| format!("{}: {ok}", endpoint.url))
        }
        EndpointKind::Http => {
            let token = endpoint.secret()?;
            let poster = HttpPoster::default();
            let mut call = poster.agent.get(&endpoint.url);
            if let Some(token) = token {
                call = call.header("Authorization", &format!("Bearer {token}"));
            }
            let response = call
                .call()
                .map_err(|e| format!("cannot reach {}: {e}", endpoint.url))?;
            Ok(format!(
                "{} answers (HTTP {}); whether it takes a publication shows at the first one",
                endpoint.url,
                response.status().as_u16()
            ))
        }
    }
}

/// Sends one delivery or removal: `Ok` when the endpoint did it, with what a WordPress site
/// holds of it (for a removal, what it held; nothing for an `http` endpoint).
fn send(
    db: &Mutex<Connection>,
    outbox: &Outbox,
    reach: &dyn Reach,
    poster: &dyn Poster,
    d: &Delivery,
) -> std::result::Result<deliveries::Remote, String> {
    let removing = d.state == deliveries::DeliveryState::Removing;
    let code = d.channel.code();
    match d.kind {
        EndpointKind::Http => {
            let token = reach.token(&code)?;
            let request = if removing {
                Outgoing {
                    verb: Verb::Delete,
                    url: format!("{}/{}", d.url.trim_end_matches('/'), d.opaque_name),
                    token,
                    idempotency_key: d.opaque_name.clone(),
                    body: Vec::new(),
                }
            } else {
                request(outbox, d, token)?
            };
            poster
                .post(&request)
                .map(|()| deliveries::Remote::default())
        }
        EndpointKind::Wordpress => {
            let (site, draft_post) = reach.site(&code)?;
            if removing {
                return wordpress::remove(site.as_ref(), d).map(|()| d.remote.clone());
            }
            let (photo, manifest) = outbox_files(outbox, d)?;
            let caption = manifest
                .get("caption")
                .and_then(|c| c.as_str())
                .unwrap_or_default()
                .to_owned();
            let mut record = |remote: &deliveries::Remote| {
                deliveries::set_remote(&lock(db), d.publication_id, remote)
                    .map_err(|e| format!("cannot record what the site holds: {e}"))
            };
            wordpress::deliver(site.as_ref(), d, &photo, &caption, draft_post, &mut record)
        }
    }
}

/// Sends every delivery due at `now`. The database is locked only to read the queue and
/// to record each outcome, never while a request is on its way. A WordPress site's copy
/// of a publication being taken down is removed at once, without waiting for the task to
/// be marked done.
pub fn deliver_due(
    db: &Mutex<Connection>,
    outbox: &Outbox,
    reach: &dyn Reach,
    poster: &dyn Poster,
    now: Timestamp,
) -> Result<Round> {
    let started = deliveries::start_removals(&lock(db), now)?;
    if started > 0 {
        tracing::info!(
            removals = started,
            "taken down: the website is asked to delete its copies"
        );
    }
    let due = deliveries::due(&lock(db), now)?;
    let mut round = Round::default();
    for d in due {
        let removing = d.state == deliveries::DeliveryState::Removing;
        if !removing && d.taken_down {
            let conn = lock(db);
            deliveries::mark_withheld(&conn, d.publication_id)?;
            log(
                &conn,
                Action::PhotoDeliveryWithheld,
                &d,
                serde_json::json!({ "reason": "taken down before delivery" }),
                now,
            )?;
            round.withheld += 1;
            continue;
        }
        let outcome = send(db, outbox, reach, poster, &d);
        let conn = lock(db);
        let attempt = |remote: &deliveries::Remote| {
            serde_json::json!({
                "attempt": d.attempts + 1,
                "media_id": remote.media_id,
                "draft_post_id": remote.draft_post_id,
            })
        };
        match outcome {
            Ok(remote) if removing => {
                deliveries::mark_removed(&conn, d.publication_id, now)?;
                log(
                    &conn,
                    Action::PhotoEndpointRemoved,
                    &d,
                    attempt(&remote),
                    now,
                )?;
                tracing::info!(
                    publication = d.publication_id,
                    "the channel's endpoint no longer has the copy"
                );
                round.removed += 1;
            }
            Ok(remote) => {
                let taken_down_meanwhile =
                    deliveries::mark_delivered(&conn, d.publication_id, now)?;
                let mut details = attempt(&remote);
                details["removal_queued"] = taken_down_meanwhile.into();
                log(&conn, Action::PhotoDeliver, &d, details, now)?;
                if taken_down_meanwhile {
                    tracing::warn!(
                        publication = d.publication_id,
                        "delivered while its takedown was finished; the endpoint is asked to remove it"
                    );
                } else {
                    tracing::info!(
                        publication = d.publication_id,
                        "delivered to the channel's endpoint"
                    );
                }
                round.delivered += 1;
            }
            Err(error) => {
                let next = now
                    .checked_add(pause(reach.first_pause(&d.channel.code()), d.attempts + 1))
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                deliveries::mark_failed(&conn, d.publication_id, &error, next)?;
                tracing::warn!(
                    publication = d.publication_id,
                    attempt = d.attempts + 1,
                    removal = removing,
                    %error,
                    "the endpoint did not take the request; will try again"
                );
                round.failed += 1;
            }
        }
    }
    Ok(round)
}

#[cfg(test)]
mod tests {
    use crate::store::publications;
    use std::sync::Mutex as StdMutex;

    use super::*;
    use crate::domain::Channel;
    use crate::store::open_in_memory;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_795_600_000 + secs).unwrap()
    }

    /// A poster that answers from a script and remembers what it was sent.
    struct Scripted {
        answers: StdMutex<Vec<std::result::Result<(), String>>>,
        sent: StdMutex<Vec<Outgoing>>,
    }

    impl Scripted {
        fn new(answers: Vec<std::result::Result<(), String>>) -> Self {
            Self {
                answers: StdMutex::new(answers),
                sent: StdMutex::new(Vec::new()),
            }
        }
        fn sent(&self) -> Vec<Outgoing> {
            self.sent.lock().unwrap().clone()
        }
    }

    impl Poster for Scripted {
        fn post(&self, request: &Outgoing) -> std::result::Result<(), String> {
            self.sent.lock().unwrap().push(request.clone());
            self.answers.lock().unwrap().remove(0)
        }
    }

    /// A website publication queued for an endpoint, its files in the outbox.
    fn queued(dir: &std::path::Path, write_files: bool) -> (Mutex<Connection>, Outbox, i64) {
        let conn = open_in_memory().unwrap();
        let id = publications::published_for_test(&conn, Channel::Website, "x1.jpg", t(0));
        let outbox = Outbox::new(dir).with_endpoint(
            Channel::Website,
            "https://cms.example/in",
            crate::infra::config::EndpointKind::Http,
        );
        if write_files {
            outbox
                .deliver(
                    Channel::Website,
                    "x1.jpg",
                    b"\xFF\xD8jpeg",
                    br#"{"file":"x1.jpg","caption":"Bench day"}"#,
                )
                .unwrap();
        }
        deliveries::insert(
            &conn,
            id,
            "https://cms.example/in",
            crate::infra::config::EndpointKind::Http,
            t(0),
        )
        .unwrap();
        (Mutex::new(conn), outbox, id)
    }

    fn a_token(_: &str) -> std::result::Result<Option<String>, String> {
        Ok(Some("tok".into()))
    }

    #[test]
    fn the_pause_between_tries_doubles_from_30_seconds_up_to_an_hour() {
        let secs: Vec<i64> = (1..=10).map(|n| retry_after(n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(retry_after(0).as_secs(), 30);
        assert_eq!(retry_after(u32::MAX).as_secs(), 3600);
        let one = SignedDuration::from_secs(1);
        let secs: Vec<i64> = (1..=4).map(|n| pause(one, n).as_secs()).collect();
        assert_eq!(
            secs,
            [1, 2, 4, 8],
            "an endpoint's own first pause doubles the same way"
        );
    }

    #[test]
    fn a_failed_post_is_tried_again_after_the_pause_and_then_recorded_as_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let (db, outbox, id) = queued(dir.path(), true);
        let poster = Scripted::new(vec![Err("the endpoint answered HTTP 503".into()), Ok(())]);
        let round = deliver_due(&db, &outbox, &a_token, &poster, t(1)).unwrap();
        assert_eq!(round.failed, 1);
        let d = deliveries::delivery(&db.lock().unwrap(), id)
            .unwrap()
            .unwrap();
        assert_eq!(
            (d.state, d.attempts),
            (deliveries::DeliveryState::Pending, 1)
        );
        assert_eq!(
            d.last_error.as_deref(),
            Some("the endpoint answered HTTP 503")
        );
        assert_eq!(d.next_attempt_at, t(31));
        // Not yet due: nothing is sent.
        assert_eq!(
            deliver_due(&db, &outbox, &a_token, &poster, t(30)).unwrap(),
            Round::default()
        );
        // Planned further ahead than the longest pause: the clock was set back since.
        let due = |at| deliveries::due(&db.lock().unwrap(), at).unwrap().len();
        assert_eq!(due(t(31 - 3600)), 0, "an hour ahead is a pause");
        assert_eq!(
            due(t(30 - 3600)),
            1,
            "more than an hour ahead is a clock set back"
        );
        let round = deliver_due(&db, &outbox, &a_token, &poster, t(31)).unwrap();
        assert_eq!(round.delivered, 1);
        let d = deliveries::delivery(&db.lock().unwrap(), id)
            .unwrap()
            .unwrap();
        assert_eq!(
            (d.state, d.attempts),
            (deliveries::DeliveryState::Delivered, 2)
        );
        // Both tries sent the same request: same key, token, manifest and image.
        let sent = poster.sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0], sent[1]);
        assert_eq!(sent[0].idempotency_key, "x1.jpg");
        assert_eq!(sent[0].token.as_deref(), Some("tok"));
        let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
        assert_eq!(body["caption"], "Bench day");
        assert_eq!(body["image_base64"], "/9hqcGVn");
        // Delivered is final: a later round sends nothing.
        assert_eq!(
            deliver_due(&db, &outbox, &a_token, &poster, t(9999)).unwrap(),
            Round::default()
        );
    }

    #[test]
    fn a_publication_taken_down_before_delivery_is_never_sent() {
        let dir = tempfile::tempdir().unwrap();
        let (db, outbox, id) = queued(dir.path(), true);
        db.lock()
            .unwrap()
            .execute(
                "UPDATE publications SET takedown_since = 'x', takedown_reason = 'withdrawn'",
                [],
            )
            .unwrap();
        let poster = Scripted::new(vec![]);
        let round = deliver_due(&db, &outbox, &a_token, &poster, t(1)).unwrap();
        assert_eq!(round.withheld, 1);
        assert!(poster.sent().is_empty());
        let d = deliveries::delivery(&db.lock().unwrap(), id)
            .unwrap()
            .unwrap();
        assert_eq!(d.state, deliveries::DeliveryState::Withheld);
    }

    #[test]
    fn a_missing_outbox_file_or_token_file_is_a_failure_with_its_reason_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let (db, outbox, id) = queued(dir.path(), false);
        let poster = Scripted::new(vec![]);
        deliver_due(&db, &outbox, &a_token, &poster, t(1)).unwrap();
        let d = deliveries::delivery(&db.lock().unwrap(), id)
            .unwrap()
            .unwrap();
        assert!(d.last_error.unwrap().contains("x1.jpg is missing"));
        outbox
            .deliver(Channel::Website, "x1.jpg", b"jpeg", b"{}")
            .unwrap();
        let unreadable = |_: &str| -> std::result::Result<Option<String>, String> {
            Err("cannot read the token file /etc/t".into())
        };
        deliver_due(&db, &outbox, &unreadable, &poster, t(100)).unwrap();
        let d = deliveries::delivery(&db.lock().unwrap(), id)
            .unwrap()
            .unwrap();
        assert_eq!(d.attempts, 2);
        assert!(d.last_error.unwrap().contains("token file"));
        assert!(poster.sent().is_empty());
    }

    #[test]
    fn a_takedown_done_removes_the_outbox_copy_and_asks_the_endpoint_until_it_confirms() {
        let dir = tempfile::tempdir().unwrap();
        let (db, outbox, id) = queued(dir.path(), true);
        let poster = Scripted::new(vec![
            Ok(()),
            Err("cannot reach the endpoint: timed out".into()),
            Ok(()),
        ]);
        deliver_due(&db, &outbox, &a_token, &poster, t(1)).unwrap();
        publications::mark_takedown(&db.lock().unwrap(), id, "consent_withdrawn", t(2)).unwrap();
        let publication = publications::open_takedown(&db.lock().unwrap(), id).unwrap();
        assert!(crate::ops::publish::remove_outbox_copy(&outbox, &publication).unwrap());
        assert!(!outbox.folder(Channel::Website).join("x1.jpg").exists());
        assert!(!outbox.folder(Channel::Website).join("x1.jpg.json").exists());
        // Done twice is refused; a second removal of missing files is fine.
        assert!(!crate::ops::publish::remove_outbox_copy(&outbox, &publication).unwrap());
        let director = crate::store::registry::insert_account(
            &db.lock().unwrap(),
            "director",
            "hash",
            crate::domain::AccountRole::Director,
            None,
            t(0),
        )
        .unwrap();
        let done = crate::ops::publish::record_takedown_done(
            &mut db.lock().unwrap(),
            id,
            director,
            true,
            t(3),
        )
        .unwrap();
        assert!(done.endpoint_asked);

        let round = deliver_due(&db, &outbox, &a_token, &poster, t(3)).unwrap();
        assert_eq!(round.failed, 1);
        let round = deliver_due(&db, &outbox, &a_token, &poster, t(3 + 30)).unwrap();
        assert_eq!(round.removed, 1);
        let d = deliveries::delivery(&db.lock().unwrap(), id)
            .unwrap()
            .unwrap();
        assert_eq!(d.state, deliveries::DeliveryState::Removed);
        let sent = poster.sent();
        assert_eq!(sent.len(), 3);
        for removal in &sent[1..] {
            assert_eq!(removal.verb, Verb::Delete);
            assert_eq!(removal.url, "https://cms.example/in/x1.jpg");
            assert_eq!(removal.token.as_deref(), Some("tok"));
        }
        // Nothing more to send.
        assert_eq!(
            deliver_due(&db, &outbox, &a_token, &poster, t(10_000)).unwrap(),
            Round::default()
        );
    }

    /// An endpoint slow enough that the takedown is finished while the photo is on its way.
    struct Slow<'a> {
        db: &'a Mutex<Connection>,
        id: i64,
        sent: StdMutex<Vec<Outgoing>>,
    }

    impl Poster for Slow<'_> {
        fn post(&self, request: &Outgoing) -> std::result::Result<(), String> {
            self.sent.lock().unwrap().push(request.clone());
            if request.verb == Verb::Post {
                let mut conn = self.db.lock().unwrap();
                publications::mark_takedown(&conn, self.id, "consent_withdrawn", t(2)).unwrap();
                let director = crate::store::registry::insert_account(
                    &conn,
                    "director",
                    "hash",
                    crate::domain::AccountRole::Director,
                    None,
                    t(0),
                )
                .unwrap();
                let done = crate::ops::publish::record_takedown_done(
                    &mut conn,
                    self.id,
                    director,
                    true,
                    t(3),
                )
                .unwrap();
                assert!(!done.endpoint_asked, "the endpoint had not answered yet");
            }
            Ok(())
        }
    }

    #[test]
    fn a_delivery_that_lands_after_its_takedown_was_finished_is_removed_from_the_endpoint() {
        let dir = tempfile::tempdir().unwrap();
        let (db, outbox, id) = queued(dir.path(), true);
        let poster = Slow {
            db: &db,
            id,
            sent: StdMutex::new(Vec::new()),
        };
        let round = deliver_due(&db, &outbox, &a_token, &poster, t(4)).unwrap();
        assert_eq!(round.delivered, 1);
        let d = deliveries::delivery(&db.lock().unwrap(), id)
            .unwrap()
            .unwrap();
        assert_eq!(d.state, deliveries::DeliveryState::Removing, "{d:?}");
        let round = deliver_due(&db, &outbox, &a_token, &poster, t(4)).unwrap();
        assert_eq!(round.removed, 1);
        let sent = poster.sent.lock().unwrap().clone();
        assert_eq!(
            sent.iter().map(|s| s.verb).collect::<Vec<_>>(),
            [Verb::Post, Verb::Delete]
        );
        assert_eq!(sent[1].url, "https://cms.example/in/x1.jpg");
        let d = deliveries::delivery(&db.lock().unwrap(), id)
            .unwrap()
            .unwrap();
        assert_eq!(d.state, deliveries::DeliveryState::Removed);
    }

    #[test]
    fn a_takedown_done_before_delivery_never_sends_the_file_or_a_removal() {
        let dir = tempfile::tempdir().unwrap();
        let (db, outbox, id) = queued(dir.path(), true);
        publications::mark_takedown(&db.lock().unwrap(), id, "vulnerable", t(1)).unwrap();
        let director = crate::store::registry::insert_account(
            &db.lock().unwrap(),
            "director",
            "hash",
            crate::domain::AccountRole::Director,
            None,
            t(0),
        )
        .unwrap();
        let done = crate::ops::publish::record_takedown_done(
            &mut db.lock().unwrap(),
            id,
            director,
            false,
            t(2),
        )
        .unwrap();
        assert!(!done.endpoint_asked);
        let poster = Scripted::new(vec![]);
        assert_eq!(
            deliver_due(&db, &outbox, &a_token, &poster, t(3)).unwrap(),
            Round::default()
        );
        assert!(poster.sent().is_empty());
        let d = deliveries::delivery(&db.lock().unwrap(), id)
            .unwrap()
            .unwrap();
        assert_eq!(d.state, deliveries::DeliveryState::Withheld);
    }
}
