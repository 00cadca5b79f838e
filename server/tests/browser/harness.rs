//! A real server with the demo data on 127.0.0.1:0, and headless Chromium driven through
//! chromedriver, each test with its own of both (and a fresh browser profile).
//!
//! Waits are explicit: for an element, or for the next page to replace the current one;
//! never a fixed sleep.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::smtp::free_port;
use consentcam::infra::clock::Clock;
use consentcam::infra::config::Config;
use consentcam::store;
use consentcam::web::{self, AppState};
use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

pub const NOW: &str = "2026-11-25T10:00:00Z";
pub const TODAY: &str = "2026-11-25";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(30);

pub struct Server {
    pub base: String,
    /// The demo kiosk's bearer token.
    pub kiosk_token: String,
    pub db_path: PathBuf,
    /// The parents' listener, when the configuration has `[parents]` (its `public_url`
    /// is set to it).
    pub public: Option<String>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A second connection to the server's database, to check what a page did.
    pub fn db(&self) -> rusqlite::Connection {
        store::open(&self.db_path).expect("open the test database")
    }
}

/// The demo's logins.
pub fn password(username: &str) -> &'static str {
    consentcam::demo::DEMO_LOGINS
        .iter()
        .find(|(u, _, _)| *u == username)
        .map(|(_, p, _)| *p)
        .expect("a demo login")
}

/// Serves the demo data; `extra` may add to it first.
pub async fn spawn_demo(extra: impl FnOnce(&mut rusqlite::Connection)) -> Server {
    spawn_demo_with(|conn, _| extra(conn)).await
}

/// [`spawn_demo`] where `extra` also has the configuration (to import a card, say).
pub async fn spawn_demo_with(extra: impl FnOnce(&mut rusqlite::Connection, &Config)) -> Server {
    spawn_demo_configured(|_| {}, extra).await
}

/// [`spawn_demo_with`] on a configuration `configure` changes first.
pub async fn spawn_demo_configured(
    configure: impl FnOnce(&mut Config),
    extra: impl FnOnce(&mut rusqlite::Connection, &Config),
) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    configure(&mut config);
    let public_listener = match config.parents.as_mut() {
        Some(parents) => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind the public listener");
            let addr = listener.local_addr().expect("address");
            parents.public_url = format!("http://{addr}");
            Some(listener)
        }
        None => None,
    };
    // This test program is not the server's: its decode workers are the real binary.
    config.sandbox.worker_program = Some(env!("CARGO_BIN_EXE_consentcam").into());
    let mut conn = store::open(&config.db_path()).expect("database");
    let now = NOW.parse().expect("NOW");
    let seeded =
        consentcam::demo::seed_with_photos(&mut conn, &config, now, TODAY.parse().expect("TODAY"))
            .expect("demo seed");
    extra(&mut conn, &config);
    let db_path = config.db_path();
    let state = AppState::new(conn, config, Clock::Fixed(now));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let public = public_listener.map(|listener| {
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(web::serve_public(
            listener,
            state.clone(),
            std::future::pending(),
        ));
        url
    });
    tokio::spawn(web::serve(listener, state, std::future::pending()));
    Server {
        base: format!("http://{addr}"),
        public,
        kiosk_token: seeded.kiosk_token,
        db_path,
        _dir: dir,
    }
}

/// chromedriver and the Chromium session it drives.
pub struct Browser {
    pub client: Client,
    /// How many times a page was submitted (a form sent, a link followed, a picture
    /// clicked): what a person does, counted.
    submissions: std::sync::atomic::AtomicUsize,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Starts chromedriver on a free port (waiting for it to say it is ready) and opens a
/// headless Chromium with a fresh profile.
pub async fn browser(width: u32, height: u32) -> Browser {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists(),
        "browser tests need Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
    );
    let port = free_port();
    let mut driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let stdout = driver.stdout.take().expect("chromedriver output");
    let ready = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut ready = false;
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if line.contains("started successfully") {
                ready = true;
                break;
            }
        }
        // Keep draining so chromedriver never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ready
    });
    let ready = tokio::time::timeout(WAIT, ready)
        .await
        .expect("chromedriver did not start in time")
        .expect("reading chromedriver output");
    assert!(ready, "chromedriver exited before it was ready");

    let profile = tempfile::tempdir().expect("profile dir");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars",
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("open a Chromium session");
    Browser {
        client,
        submissions: Default::default(),
        driver,
        _profile: profile,
    }
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
        self.wait("main").await;
    }

    /// Waits for an element matching `css`.
    pub async fn wait(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    /// Waits for an element matching the XPath `xpath`.
    pub async fn wait_xpath(&self, xpath: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("waiting for {xpath}: {e}"))
    }

    /// Waits for the notice a form post leaves, containing `text`.
    pub async fn notice(&self, text: &str) -> String {
        self.wait_xpath(&format!(
            "//p[contains(@class, 'notice')][contains(., '{text}')]"
        ))
        .await
        .text()
        .await
        .expect("notice text")
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.wait(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Ticks or clears the checkbox `css` (no page change).
    pub async fn set_checked(&self, css: &str, checked: bool) {
        let checkbox = self.wait(css).await;
        let now = checkbox.prop("checked").await.expect("checked").as_deref() == Some("true");
        if now != checked {
            checkbox.click().await.expect("click the checkbox");
        }
    }

    /// What the form field `css` holds.
    pub async fn value(&self, css: &str) -> String {
        self.wait(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.expect("text")
    }

    /// How many pages were submitted so far.
    pub fn submissions(&self) -> usize {
        self.submissions.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Clicks `css` and waits until the next page has replaced this one.
    pub async fn submit(&self, css: &str) {
        self.submissions
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let button = self.wait(css).await;
        self.client
            .execute("document.documentElement.dataset.leaving = 'yes';", vec![])
            .await
            .expect("mark the page");
        button.click().await.expect("click");
        self.wait("html:not([data-leaving])").await;
        self.wait("body > *").await;
    }

    /// Clicks the element `css` at (`x`, `y`) CSS pixels from its top-left corner, as a
    /// person does on a picture, and waits for the next page.
    pub async fn click_at(&self, css: &str, x: f64, y: f64) {
        use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
        self.submissions
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let element = self.wait(css).await;
        let rect = self
            .client
            .execute(
                "const r = arguments[0].getBoundingClientRect(); \
                 document.documentElement.dataset.leaving = 'yes'; return [r.left, r.top];",
                vec![serde_json::to_value(&element).expect("element as an argument")],
            )
            .await
            .expect("where the element is");
        let at = |i: usize| rect[i].as_f64().expect("a coordinate");
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveTo {
                duration: None,
                x: (at(0) + x).round(),
                y: (at(1) + y).round(),
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.client.perform_actions(mouse).await.expect("click");
        self.wait("html:not([data-leaving])").await;
        self.wait("body > *").await;
    }

    pub async fn log_in(&self, server: &Server, username: &str) {
        self.goto(&server.url("/login")).await;
        self.fill("#username", username).await;
        self.fill("#password", password(username)).await;
        self.submit("#login").await;
        self.wait("header.top .who").await;
    }

    pub async fn log_out(&self) {
        self.submit("form.logout button").await;
        self.wait("#login-form").await;
    }

    /// Runs `js` in the page and returns what it returns.
    pub async fn script(&self, js: &str) -> serde_json::Value {
        self.client.execute(js, vec![]).await.expect("run a script")
    }

    /// The WCAG 2.1 A and AA rules axe-core finds broken on this page, each as
    /// "rule: the elements" (empty when it passes). axe-core comes from `tests/fetch-axe`.
    pub async fn axe_violations(&self) -> Vec<String> {
        let path = std::env::var_os("AXE_CORE_JS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/axe-core/axe.min.js")
            });
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "axe-core is not at {} ({e}): run tests/fetch-axe first",
                path.display()
            )
        });
        self.client
            .execute(&source, vec![])
            .await
            .expect("load axe-core");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 axe.run(document, { runOnly: { type: 'tag', values: \
                   ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }) \
                 .then(r => done(r.violations.map(v => v.id + ': ' + \
                   v.nodes.map(n => n.target.join(' ')).join(', ')))) \
                 .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        serde_json::from_value(found).expect("a list of violations")
    }

    /// Resizes the window to `width` by `height` CSS pixels.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize the window");
    }

    /// What the element `css` shows on screen, as RGB pixels (width, height, pixels).
    pub async fn pixels_of(&self, css: &str) -> (u32, u32, Vec<u8>) {
        let png = self
            .wait(css)
            .await
            .screenshot()
            .await
            .expect("element screenshot");
        let picture = image::load_from_memory(&png).expect("a PNG").to_rgb8();
        (picture.width(), picture.height(), picture.into_raw())
    }

    /// Saves what the browser shows as a PNG under `server/screenshots/`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    pub async fn close(self) {
        // Take the client out so the session ends before chromedriver is stopped.
        let client = self.client.clone();
        client.close().await.expect("close the browser");
    }
}
