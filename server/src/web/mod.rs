//! The HTTP face of the server: the JSON API under `/api/v1` and the web UI's pages.
//!
//! Handlers are thin: extract, parse into domain types, call `records` / `store`, answer.
//! Access is decided in one place ([`access`]); errors become answers in one place
//! ([`error`]).

pub mod access;
mod api;
pub mod error;
pub mod login;
pub mod public;
pub mod routes;
pub mod session_store;
pub mod throttle;
pub mod ui;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rusqlite::Connection;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::infra::clock::{self, Clock};
use crate::infra::config::Config;
use crate::rules::consent::ConsentPolicy;
use error::ApiError;
use throttle::Throttle;

/// Shared by every request.
/// Reading connections per server (the Pi has four cores).
const READERS: u32 = 4;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// The one connection that writes.
    db: Arc<Mutex<Connection>>,
    /// Connections that only read (see [`crate::store::Readers`]).
    readers: crate::store::Readers,
    config: Config,
    /// Where the photos are (one object storage client for the whole server).
    archive: crate::infra::archive::Archive,
    clock: Clock,
    tz: TimeZone,
    throttle: Mutex<Throttle>,
    #[cfg(feature = "demo")]
    sim_kiosk: Option<Arc<consentcam_kiosk::sim::SimKioskHandle>>,
    /// The simulated kiosk's pages, served beside the application's (demo mode).
    #[cfg(feature = "demo")]
    demo_pages: Option<fn() -> Router<AppState>>,
    /// Wakes the delivery task (a publication was just queued for an endpoint).
    forward_now: Arc<tokio::sync::Notify>,
    /// A background analysis of received files is running; and it should run again.
    analysing: std::sync::atomic::AtomicBool,
    analyse_again: std::sync::atomic::AtomicBool,
    /// A site has been seen (sites are never removed, so once true it stays true).
    has_sites: std::sync::atomic::AtomicBool,
    /// Each kiosk's card-file upload slots (`[limits] card_uploads_per_kiosk`).
    uploads: Mutex<std::collections::HashMap<i64, Arc<tokio::sync::Semaphore>>>,
    /// The last probe of the photo storage: when, and whether it answered.
    storage_probe: Mutex<Option<(std::time::Instant, bool)>>,
}

impl AppState {
    /// The state of a server on `conn`, the writing connection to the database in the
    /// config's data directory (opened with [`crate::store::open`]); reading connections
    /// to the same file are opened as pages need them.
    ///
    /// # Panics
    /// The config's `[store]` cannot be used (checked when the config is loaded).
    pub fn new(conn: Connection, config: Config, clock: Clock) -> Self {
        let readers = crate::store::readers(&config.db_path(), READERS);
        let archive = crate::infra::archive::Archive::open(&config)
            .unwrap_or_else(|e| panic!("the photo archive cannot be opened: {e}"));
        let tz = clock::time_zone(&config.time_zone);
        let throttle = Throttle::new(config.login_attempts, config.login_window_minutes);
        Self {
            inner: Arc::new(Inner {
                db: Arc::new(Mutex::new(conn)),
                readers,
                config,
                archive,
                clock,
                tz,
                throttle: Mutex::new(throttle),
                #[cfg(feature = "demo")]
                sim_kiosk: None,
                #[cfg(feature = "demo")]
                demo_pages: None,
                forward_now: Arc::new(tokio::sync::Notify::new()),
                analysing: std::sync::atomic::AtomicBool::new(false),
                analyse_again: std::sync::atomic::AtomicBool::new(false),
                has_sites: std::sync::atomic::AtomicBool::new(false),
                uploads: Mutex::new(std::collections::HashMap::new()),
                storage_probe: Mutex::new(None),
            }),
        }
    }

    /// The same state serving the demo's pages beside the application's (the demo owns
    /// them; their routes are classified in [`routes::DEMO_ROUTES`]).
    #[cfg(feature = "demo")]
    pub fn with_demo_pages(self, pages: fn() -> Router<AppState>) -> Self {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|_| {
            panic!("with_demo_pages must be called before the state is shared")
        });
        Self {
            inner: Arc::new(Inner {
                demo_pages: Some(pages),
                ..inner
            }),
        }
    }

    /// The same state with a simulated kiosk, which the demo's pages show (demo mode).
    #[cfg(feature = "demo")]
    pub fn with_sim_kiosk(self, kiosk: consentcam_kiosk::sim::SimKioskHandle) -> Self {
        let inner = Arc::try_unwrap(self.inner)
            .unwrap_or_else(|_| panic!("with_sim_kiosk must be called before the state is shared"));
        Self {
            inner: Arc::new(Inner {
                sim_kiosk: Some(Arc::new(kiosk)),
                ..inner
            }),
        }
    }

    #[cfg(feature = "demo")]
    pub fn sim_kiosk(&self) -> Option<Arc<consentcam_kiosk::sim::SimKioskHandle>> {
        self.inner.sim_kiosk.clone()
    }

    /// Analyses the photos not analysed yet on a thread of its own (one at a time: asked
    /// while it runs, it runs once more after).
    pub fn analyse_in_background(&self) {
        use std::sync::atomic::Ordering;
        self.inner.analyse_again.store(true, Ordering::SeqCst);
        if self.inner.analysing.swap(true, Ordering::SeqCst) {
            return;
        }
        let state = self.clone();
        std::thread::spawn(move || {
            loop {
                while state.inner.analyse_again.swap(false, Ordering::SeqCst) {
                    let done = crate::ops::ingest::analyse_stored(
                        state.config(),
                        state.archive(),
                        state.now(),
                    );
                    match done {
                        Ok(n) => tracing::info!(photos = n, "received photos analysed"),
                        Err(e) => tracing::error!(error = %e, "analysing received photos failed"),
                    }
                }
                state.inner.analysing.store(false, Ordering::SeqCst);
                // Asked again after the last round and before the flag went down.
                if !state.inner.analyse_again.load(Ordering::SeqCst)
                    || state.inner.analysing.swap(true, Ordering::SeqCst)
                {
                    break;
                }
            }
        });
    }

    /// One of `kiosk`'s `[limits] card_uploads_per_kiosk` upload slots, if one is free;
    /// it is given back when dropped.
    pub fn upload_slot(&self, kiosk: i64) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let slots = self
            .inner
            .uploads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(kiosk)
            .or_insert_with(|| {
                Arc::new(tokio::sync::Semaphore::new(
                    self.inner.config.limits.card_uploads_per_kiosk,
                ))
            })
            .clone();
        slots.try_acquire_owned().ok()
    }

    /// Asks the delivery task to send what is due now rather than at its next round.
    pub fn forward_now(&self) {
        self.inner.forward_now.notify_one();
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether the install has sites (added by the web page or the command line): the
    /// pages speak of sites only then. A database error counts as none.
    pub async fn has_sites(&self) -> bool {
        use std::sync::atomic::Ordering;
        if self.inner.has_sites.load(Ordering::Relaxed) {
            return true;
        }
        let found = self
            .read(|c| Ok(crate::store::sites::any(c)?))
            .await
            .unwrap_or(false);
        if found {
            self.inner.has_sites.store(true, Ordering::Relaxed);
        }
        found
    }

    /// Where the photos are.
    pub fn archive(&self) -> &crate::infra::archive::Archive {
        &self.inner.archive
    }

    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The time the login throttle counts in (see [`Clock::steady_now`]).
    pub fn steady_now(&self) -> Timestamp {
        self.inner.clock.steady_now()
    }

    pub fn today(&self) -> Date {
        self.inner.clock.today(&self.inner.tz)
    }

    /// A moment as the people here read it: local time, to the minute.
    pub fn local_time(&self, at: Timestamp) -> String {
        self.inner
            .tz
            .to_datetime(at)
            .strftime("%a %-d %b %Y %H:%M")
            .to_string()
    }

    /// The organisation's time zone.
    pub fn time_zone(&self) -> TimeZone {
        self.inner.tz.clone()
    }

    pub fn policy(&self) -> ConsentPolicy {
        self.inner.config.policy()
    }

    /// Whether the photo storage answered a probe within 5 s; a result is reused for 30 s,
    /// so `/health` called often costs the storage little.
    pub async fn storage_reachable(&self) -> bool {
        const FRESH: std::time::Duration = std::time::Duration::from_secs(30);
        if let Some((at, ok)) = *self
            .inner
            .storage_probe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            && at.elapsed() < FRESH
        {
            return ok;
        }
        let archive = self.inner.archive.clone();
        let probe = tokio::task::spawn_blocking(move || archive.probe());
        let ok = matches!(
            tokio::time::timeout(std::time::Duration::from_secs(5), probe).await,
            Ok(Ok(true))
        );
        *self
            .inner
            .storage_probe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((std::time::Instant::now(), ok));
        ok
    }

    /// Runs `f` with the `[parents]` setup (time zone and policy included); without
    /// `[parents]`, the pages and requests are not there: not found.
    pub fn with_parents<T>(
        &self,
        f: impl FnOnce(&crate::ops::parents::Setup<'_>) -> Result<T, error::ApiError>,
    ) -> Result<T, error::ApiError> {
        let (zone, policy) = (self.time_zone(), self.policy());
        let setup = crate::ops::parents::Setup::from_config(self.config(), &zone, &policy)
            .ok_or_else(|| error::ApiError::NotFound("no [parents] in the config".into()))?;
        f(&setup)
    }

    pub fn db_handle(&self) -> Arc<Mutex<Connection>> {
        self.inner.db.clone()
    }

    /// Runs `f` on a reading connection off the async threads: for what only reads. Many
    /// run at once, beside the writer; each sees the last committed state.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let readers = self.inner.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = readers
                .get()
                .map_err(|e| ApiError::Internal(format!("no reading connection: {e}")))?;
            f(&conn)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
    }

    pub(crate) fn readers(&self) -> crate::store::Readers {
        self.inner.readers.clone()
    }

    /// Runs `f` on the writing connection off the async threads: for what writes (one at
    /// a time). Keep it short: decode, encode, hash and file work go outside.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let db = self.inner.db.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db
                .lock()
                .map_err(|_| ApiError::Internal("database lock poisoned".into()))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
    }

    pub(crate) fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.inner
            .throttle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

const SECURITY_HEADERS: [(&str, &str); 7] = [
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
];

/// Security headers on every response; nothing is cached by proxies unless a handler
/// says otherwise. Served over HTTPS (`secure_cookies`), browsers are also told to use
/// HTTPS only (HSTS), so a network attacker cannot strip it.
async fn security_headers(State(https): State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn not_found() -> Response {
    ApiError::NotFound("no such page or API route".into()).into_response()
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(session_store::SqliteSessionStore::new(
        state.db_handle(),
        state.readers(),
    ))
    .with_name("consentcam_session")
    .with_http_only(true)
    .with_same_site(SameSite::Strict)
    .with_secure(state.config().secure_cookies)
    .with_expiry(Expiry::OnInactivity(time::Duration::minutes(
        state.config().session_idle_minutes,
    )));
    let app = api::routes().merge(ui::routes());
    #[cfg(feature = "demo")]
    let app = match state.inner.demo_pages {
        Some(pages) => app.merge(pages()),
        None => app,
    };
    app.route_layer(middleware::from_fn_with_state(
        state.clone(),
        access::authorize,
    ))
    .fallback(not_found)
    .layer(middleware::from_fn(ui::pages_for_browsers))
    .layer(sessions)
    .layer(DefaultBodyLimit::max(state.config().max_upload_bytes))
    .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        std::time::Duration::from_secs(state.config().limits.idle_seconds),
    ))
    .layer(
        tower_http::trace::TraceLayer::new_for_http().make_span_with(|request: &Request| {
            // The matched pattern, never the raw URI: no ids or query text in logs.
            let path = request
                .extensions()
                .get::<MatchedPath>()
                .map_or("-", |p| p.as_str())
                .to_owned();
            tracing::info_span!("http", method = %request.method(), path)
        }),
    )
    .layer(middleware::from_fn_with_state(
        state.config().secure_cookies,
        security_headers,
    ))
    .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` resolves. Each connection has
/// `[limits] header_seconds` to send a request's headers, each body may pause at most
/// `idle_seconds`, and at most `max_connections` are served at once (more are closed at
/// once): a slow or hostile client holds neither a worker nor the server's descriptors.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let forwarder = spawn_forwarder(&state);
    let limits = state.config().limits.clone();
    let app = router(state);
    serve_app(listener, app, &limits, shutdown).await;
    if let Some(task) = forwarder {
        task.abort();
    }
    Ok(())
}

/// Serves the public pages ([`public`]) on `listener` until `shutdown` resolves, with
/// the same connection limits as [`serve`].
pub async fn serve_public(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.config().limits.clone();
    serve_app(listener, public::router(state), &limits, shutdown).await;
    Ok(())
}

async fn serve_app(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: &crate::infra::config::Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(limits.header_seconds));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, say: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection closed: the server is at its connection limit");
            drop(stream);
            continue;
        };
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                app.clone().oneshot(request)
            },
        );
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
            tracing::warn!("connections still open after 10 seconds; stopping anyway");
        }
    }
}

/// How often the delivery task looks for deliveries due again (a publication wakes it
/// at once).
const FORWARD_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// With web endpoints configured, a task that sends publications on to them
/// ([`crate::ops::publish::forward`]).
fn spawn_forwarder(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    if state.config().deliver.is_empty() {
        return None;
    }
    let state = state.clone();
    Some(tokio::spawn(async move {
        let poster: Arc<dyn crate::ops::publish::forward::Poster> =
            Arc::new(crate::ops::publish::forward::HttpPoster::default());
        loop {
            let (st, poster) = (state.clone(), poster.clone());
            let round = tokio::task::spawn_blocking(move || {
                let config = st.config();
                let round = crate::ops::publish::forward::deliver_due(
                    &st.db_handle(),
                    &crate::ops::publish::configured_outbox(config, st.archive()),
                    &crate::ops::publish::forward::Configured(config),
                    poster.as_ref(),
                    st.now(),
                )?;
                let next = crate::store::deliveries::next_due(
                    &st.db_handle().lock().unwrap_or_else(|e| e.into_inner()),
                )?;
                Ok::<_, crate::store::StoreError>((round, next))
            })
            .await;
            let mut wait = FORWARD_EVERY;
            match round {
                Ok(Ok((round, next))) => {
                    if round != Default::default() {
                        tracing::info!(?round, "deliveries to web endpoints");
                    }
                    // A try due before the next look is made when it is due.
                    if let Some(next) = next {
                        let until = next.duration_since(state.now());
                        wait = std::time::Duration::try_from(until)
                            .unwrap_or_default()
                            .clamp(std::time::Duration::from_secs(1), FORWARD_EVERY);
                    }
                }
                Ok(Err(e)) => tracing::error!(error = %e, "the delivery round failed"),
                Err(e) => tracing::error!(error = %e, "the delivery task failed"),
            }
            tokio::select! {
                () = state.inner.forward_now.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }))
}
