//! A real server on 127.0.0.1:0 with a fresh SQLite file, and logged-in clients.

use std::net::SocketAddr;
use std::path::PathBuf;

use consentcam::domain::{AccountRole, PhotoId};
use consentcam::infra::clock::Clock;
use consentcam::infra::config::Config;
use consentcam::infra::password;
use consentcam::store::photos::{self, NewPhoto};
use consentcam::store::{self, registry};
use consentcam::web::{self, AppState};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

pub const TODAY: &str = "2026-11-25";
pub const NOW: &str = "2026-11-25T10:00:00Z";

pub struct TestApp {
    pub addr: SocketAddr,
    pub db_path: PathBuf,
    pub kiosk_token: String,
    /// The config file the CLI is given, when the server was started from one.
    pub config_file: Option<PathBuf>,
    /// The public listener (parents' pages), when the config has `[parents]`: its
    /// `public_url` is set to this address.
    pub public: Option<SocketAddr>,
    _dir: tempfile::TempDir,
}

pub const PASSWORDS: [(&str, &str, AccountRole); 3] = [
    ("staff", "staff-test-password", AccountRole::Staff),
    ("director", "director-test-password", AccountRole::Director),
    ("admin", "admin-test-password", AccountRole::Admin),
];

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    // Uploads are refused only when a test asks for it, however full the machine's disk.
    config.limits.free_space_reserve_mib = 0;
    adjust(&mut config);
    start(dir, config, None).await
}

/// A server whose config file (written in its data directory) holds `extra`, TOML after
/// the data directory; the CLI is given the same file.
pub async fn spawn_with_config_file(extra: &str) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("consentcam.toml");
    std::fs::write(&file, format!("data_dir = {:?}\n{extra}", dir.path())).unwrap();
    let config = Config::load(&file).unwrap();
    start(dir, config, Some(file)).await
}

async fn start(dir: tempfile::TempDir, config: Config, config_file: Option<PathBuf>) -> TestApp {
    let mut config = config;
    // This test program is not the server's: its decode workers are the real binary.
    config
        .sandbox
        .worker_program
        .get_or_insert_with(|| env!("CARGO_BIN_EXE_consentcam").into());
    let public_listener = match config.parents.as_mut() {
        Some(parents) => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            parents.public_url = format!("http://{}", listener.local_addr().unwrap());
            Some(listener)
        }
        None => None,
    };
    let conn = store::open(&config.db_path()).unwrap();
    let now = NOW.parse().unwrap();
    for (user, pass, role) in PASSWORDS {
        registry::insert_account(&conn, user, &password::hash(pass).unwrap(), role, None, now)
            .unwrap();
    }
    let kiosk_token = password::random_token();
    registry::insert_kiosk(&conn, "office", &password::token_hash(&kiosk_token), now).unwrap();
    let db_path = config.db_path();
    let state = AppState::new(conn, config, Clock::Fixed(now));
    // In a build with the demo, its pages are served as in demo mode (without a kiosk).
    #[cfg(feature = "demo")]
    let state = state.with_demo_pages(consentcam::demo::kiosk_page::routes);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let public = public_listener.map(|listener| {
        let addr = listener.local_addr().unwrap();
        tokio::spawn(web::serve_public(
            listener,
            state.clone(),
            std::future::pending(),
        ));
        addr
    });
    tokio::spawn(web::serve(listener, state, std::future::pending()));
    TestApp {
        addr,
        db_path,
        kiosk_token,
        config_file,
        public,
        _dir: dir,
    }
}

/// A browser-like client: keeps cookies, sends the CSRF token it was given.
pub struct User {
    pub client: Client,
    pub base: String,
    pub csrf: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn anonymous(&self) -> User {
        User {
            client: Client::builder().cookie_store(true).build().unwrap(),
            base: format!("http://{}", self.addr),
            csrf: String::new(),
        }
    }

    pub async fn login(&self, role: AccountRole) -> User {
        let (username, pass, _) = PASSWORDS.iter().find(|(_, _, r)| *r == role).unwrap();
        let mut user = self.anonymous();
        let response = user
            .client
            .post(self.url("/api/v1/login"))
            .json(&json!({ "username": username, "password": pass }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "login as {username}");
        let body: Value = response.json().await.unwrap();
        user.csrf = body["csrf_token"].as_str().unwrap().to_owned();
        user
    }

    /// A second connection to the server's database file, for setting up what no API
    /// route creates yet (photos come from the import).
    /// Sends `body` to a kiosk route with the kiosk's bearer token.
    pub async fn kiosk_post(&self, path: &str, body: Value) -> Response {
        Client::new()
            .post(self.url(path))
            .bearer_auth(&self.kiosk_token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Reads a kiosk route with the kiosk's bearer token.
    pub async fn kiosk_get(&self, path: &str) -> Response {
        Client::new()
            .get(self.url(path))
            .bearer_auth(&self.kiosk_token)
            .send()
            .await
            .unwrap()
    }

    pub fn db(&self) -> rusqlite::Connection {
        store::open(&self.db_path).unwrap()
    }
}

impl User {
    /// Posts a page form (with the CSRF field) and returns the page it leads to.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let mut form = vec![("_csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        response.text().await.unwrap()
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.call(Method::DELETE, path, None).await
    }
}

/// Asserts the status and returns the JSON body (Null when empty).
pub async fn expect(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}

/// Creates a learner through the API and returns their id.
pub async fn learner(admin: &User, ext_ref: &str, given: &str, family: &str, born: &str) -> i64 {
    let body = expect(
        admin
            .post(
                "/api/v1/people",
                json!({ "ref": ext_ref, "given_name": given, "family_name": family,
                        "date_of_birth": born, "role": "learner" }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    body["id"].as_i64().unwrap()
}

/// Records a parent's form for `person` granting what `scopes` says.
pub async fn parent_form(
    admin: &User,
    person: i64,
    signed_on: &str,
    website: bool,
    partners: &[i64],
) -> i64 {
    let body = expect(
        admin
            .post(
                &format!("/api/v1/people/{person}/consents"),
                json!({ "signer": "parent", "signer_name": "A Parent", "signed_on": signed_on,
                        "internal": true, "partners": partners, "website": website, "social": false }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    body["id"].as_i64().unwrap()
}

/// Catalogues a 600x400 JPEG without a file, seeded as an analysed import would leave it
/// (faces looked for, none found): `hash_pair` repeated makes the hash, `adjust` sets what
/// the test needs (session, provenance...).
pub fn catalogue_photo(
    app: &TestApp,
    hash_pair: &str,
    adjust: impl FnOnce(&mut NewPhoto),
) -> PhotoId {
    let mut photo = NewPhoto {
        content_hash: hash_pair.repeat(32),
        byte_size: 10,
        format: consentcam::domain::Format::Jpeg,
        original_name: "IMG_0001.JPG".into(),
        width: Some(600),
        height: Some(400),
        provenance: consentcam::rules::consent::Provenance::Unknown,
        face_search: consentcam::rules::consent::FaceSearch::Done,
        ..Default::default()
    };
    adjust(&mut photo);
    photos::insert_photo(&app.db(), &photo, NOW.parse().unwrap()).unwrap()
}
