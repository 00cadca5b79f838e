//! `serve` and `demo`: the web server and what runs beside it.

use anyhow::{Context, Result};
#[cfg(feature = "demo")]
use consentcam::demo;
use consentcam::infra::clock::{self, Clock};
use consentcam::infra::config::Config;
use consentcam::ops;
use consentcam::web::{self, AppState};
#[cfg(feature = "demo")]
use consentcam_kiosk::sim::{ServerLink, SimKiosk, SimKioskConfig};
#[cfg(feature = "demo")]
use jiff::Timestamp;
#[cfg(feature = "demo")]
use jiff::civil::Date;

use super::open_db;

/// `serve`: the server, and its background work (faces still to look for, the takedown
/// sweep, the purge).
pub(crate) fn serve(
    config: Config,
    bind: Option<std::net::SocketAddr>,
    clock: Clock,
) -> Result<()> {
    let mut config = config;
    if let Some(bind) = bind {
        config.bind = bind;
    }
    let conn = open_db(&config)?;
    // Uploads a stopped server was receiving (sites send them again).
    let incoming = config.data_dir.join("store").join("incoming");
    if incoming.is_dir() {
        std::fs::remove_dir_all(&incoming).with_context(|| {
            format!("cannot clear unfinished uploads in {}", incoming.display())
        })?;
    }
    detect_faces_in_background(&config, clock.clone());
    sweep_every_hour(&config, clock.clone());
    purge_every_day(&config, clock.clone());
    let bind = config.bind;
    let clock_for_mail = clock.clone();
    run_server(bind, None, move |_| {
        let state = AppState::new(conn, config, clock);
        // A copy placed in the outbox by a run that died before recording it;
        // checked before the server takes a request, so before anything publishes.
        let withdrawn = {
            let db = state.db_handle();
            let conn = db
                .lock()
                .map_err(|_| anyhow::anyhow!("database lock poisoned"))?;
            consentcam::ops::publish::reconcile_outbox(&conn, state.archive(), state.now())
                .context("cannot check the outbox against the register")?
        };
        if !withdrawn.is_empty() {
            tracing::warn!(
                count = withdrawn.len(),
                "outbox copies with no publication recorded were withdrawn"
            );
        }
        // Photos received before a stop and not analysed yet.
        state.analyse_in_background();
        ask_renewals_every_day(&state, clock_for_mail.clone());
        send_mail_in_background(&state, clock_for_mail);
        Ok(state)
    })
}

#[cfg(feature = "demo")]
/// `demo`: the seeded demo in a temporary folder, with a simulated kiosk.
pub(crate) fn demo(
    config: Config,
    bind: std::net::SocketAddr,
    clock: Clock,
    now: Timestamp,
    today: Date,
) -> Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("consentcam-demo-")
        .tempdir()
        .context("cannot create a temporary data directory")?;
    let mut config = config;
    config.data_dir = dir.path().to_path_buf();
    config.bind = bind;
    let mut conn = open_db(&config)?;
    eprintln!("Seeding the demo: importing its camera card (faces are looked for)...");
    let seeded = demo::seed_with_photos(&mut conn, &config, now, today)
        .context("cannot seed the demo data")?;
    let banner = demo::banner(&seeded, dir.path());
    let kiosk_dir = dir.path().join("kiosk");
    run_server(config.bind, Some(banner), move |addr| {
        let mut kiosk = SimKioskConfig::new(kiosk_dir);
        kiosk.reader_name = "demo-kiosk".into();
        kiosk.card_progress = Some(demo::card::progress_file(&config.data_dir));
        kiosk.server = Some(ServerLink {
            url: format!("http://{addr}"),
            token: seeded.kiosk_token.clone(),
        });
        let kiosk = SimKiosk::start(kiosk).context("cannot start the simulated kiosk")?;
        Ok(AppState::new(conn, config, clock)
            .with_sim_kiosk(kiosk)
            .with_demo_pages(demo::kiosk_page::routes))
    })
}

/// Looks for the faces of photos that still need it (see `detect-faces`) on a thread of
/// its own with its own database connection, so the server answers meanwhile.
pub(crate) fn detect_faces_in_background(config: &Config, clock: Clock) {
    let config = config.clone();
    std::thread::spawn(move || {
        let run = || -> Result<consentcam::ops::ingest::Redetected> {
            let mut conn = open_db(&config)?;
            Ok(consentcam::ops::ingest::detect_faces(
                &mut conn,
                &config,
                clock.now(),
            )?)
        };
        match run() {
            Ok(done) if done == consentcam::ops::ingest::Redetected::default() => {}
            Ok(done) => tracing::info!(?done, "faces looked for in photos that needed it"),
            Err(e) => tracing::error!(error = %e, "face detection at start did not finish"),
        }
    });
}

/// With `[mail]`: the mail worker ([`ops::mail::work`]) on a thread of its own, writing
/// through the server's connection, until the process ends.
pub(crate) fn send_mail_in_background(state: &AppState, clock: Clock) {
    if state.config().mail.is_none() {
        return;
    }
    let (config, writer) = (state.config().clone(), state.db_handle());
    std::thread::spawn(move || {
        let never = std::sync::atomic::AtomicBool::new(false);
        if let Err(e) = ops::mail::work(&writer, &config, &clock, &never) {
            tracing::error!(error = %e, "mail cannot be sent");
        }
    });
}

/// With `[parents]`: renewal requests to the contacts of people whose form lapses soon
/// (at most weekly and `renewal_requests` times), at start and then every hour (each
/// request goes once a day at most), through the server's writing connection.
pub(crate) fn ask_renewals_every_day(state: &AppState, clock: Clock) {
    if state.config().parents.is_none() {
        return;
    }
    let (config, writer) = (state.config().clone(), state.db_handle());
    std::thread::spawn(move || {
        let zone = clock::time_zone(&config.time_zone);
        let policy = config.policy();
        let mut asked_on = None;
        loop {
            let today = clock.today(&zone);
            if asked_on != Some(today)
                && let Some(setup) = ops::parents::Setup::from_config(&config, &zone, &policy)
            {
                asked_on = Some(today);
                // Read on a connection of its own; only the writing holds the writer.
                let found = open_db(&config)
                    .map_err(|e| e.to_string())
                    .and_then(|reader| {
                        ops::parents::renewal_requests_due(
                            &reader,
                            &setup,
                            config.renewal_notice_days,
                            clock.now(),
                        )
                        .map_err(|e| e.to_string())
                    });
                let queued = found.and_then(|found| {
                    let mut conn = writer
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    ops::parents::queue_renewal_requests(
                        &mut conn,
                        &setup,
                        config.renewal_notice_days,
                        &found,
                        clock.now(),
                    )
                    .map_err(|e| e.to_string())
                });
                match queued {
                    Ok(0) => {}
                    Ok(links) => tracing::info!(links, "renewal requests queued"),
                    Err(e) => tracing::error!(error = %e, "renewal requests could not be queued"),
                }
            }
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    });
}

/// The takedown sweep (see `sweep`) at start and then every hour, on a thread of its own
/// with its own database connection.
pub(crate) fn sweep_every_hour(config: &Config, clock: Clock) {
    let config = config.clone();
    std::thread::spawn(move || {
        loop {
            let run = || -> Result<usize> {
                let mut conn = open_db(&config)?;
                let today = clock.today(&clock::time_zone(&config.time_zone));
                Ok(ops::approvals::sweep(
                    &mut conn,
                    today,
                    &config.policy(),
                    "system",
                    clock.now(),
                )?)
            };
            match run() {
                Ok(0) => {}
                Ok(tasks) => tracing::warn!(tasks, "new takedown tasks: see /takedowns"),
                Err(e) => tracing::error!(error = %e, "the takedown sweep did not finish"),
            }
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    });
}

/// The purge (see `purge`) at start and then every day, on a thread of its own with its
/// own database connection. Without `[retention]` only what an erasure left waiting is
/// purged (photos whose only person was erased, once their takedowns are done).
pub(crate) fn purge_every_day(config: &Config, clock: Clock) {
    let config = config.clone();
    std::thread::spawn(move || {
        loop {
            let run = || -> Result<consentcam::ops::retention::PurgeReport> {
                let mut conn = open_db(&config)?;
                let today = clock.today(&clock::time_zone(&config.time_zone));
                Ok(consentcam::ops::retention::purge(
                    &mut conn,
                    &consentcam::infra::archive::Archive::open(&config)?,
                    config.retention.as_ref(),
                    today,
                    &config.policy(),
                    "system",
                    clock.now(),
                )?)
            };
            match run() {
                Ok(report) => tracing::info!(?report, "daily purge"),
                Err(e) => tracing::error!(error = %e, "the daily purge did not finish"),
            }
            std::thread::sleep(std::time::Duration::from_secs(24 * 3600));
        }
    });
}

/// Binds `bind`, builds the state (which may need the bound address), and serves until
/// Ctrl-C or SIGTERM.
pub(crate) fn run_server(
    bind: std::net::SocketAddr,
    banner: Option<String>,
    state: impl FnOnce(std::net::SocketAddr) -> Result<AppState>,
) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| {
            format!("cannot listen on {bind} (is another server running there? use --bind)")
        })?;
        let addr = listener.local_addr()?;
        let state = state(addr)?;
        // The parents' pages on a listener of their own (P4).
        let public_bind = state.config().parents.as_ref().and_then(|p| p.public_bind);
        let public = match public_bind {
            Some(public_bind) => {
                let public = tokio::net::TcpListener::bind(public_bind)
                    .await
                    .with_context(|| {
                        format!("cannot listen on {public_bind} ([parents] public_bind)")
                    })?;
                tracing::info!(addr = %public.local_addr()?, "consent pages listening");
                Some(tokio::spawn(web::serve_public(
                    public,
                    state.clone(),
                    shutdown_signal(),
                )))
            }
            None => None,
        };
        match banner {
            Some(banner) => println!("{}", banner.replace("{url}", &format!("http://{addr}"))),
            None => tracing::info!(%addr, "consentcam listening"),
        }
        web::serve(listener, state, shutdown_signal()).await?;
        if let Some(public) = public {
            public.abort();
        }
        Ok(())
    })
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
