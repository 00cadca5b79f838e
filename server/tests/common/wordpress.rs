//! A real WordPress on loopback, for the tests that publish to one: Debian's `wordpress`
//! package (6.1) copied into a temporary folder, with its own MariaDB on a Unix socket
//! and PHP's built-in web server, installed through WordPress's own installer and
//! reached with an application password made through WordPress itself (logged in with a
//! cookie, as a person would).
//!
//! Needs Debian's `wordpress`, `php-cli`, `php-mysql`, `php-gd` and `mariadb-server`,
//! none of them running as a service. Runs as root (MariaDB then as `--user=root`) or not.
//!
//! The servers die with the test process however it ends, so that the one WordPress a
//! test binary [`shared`] (a static, never dropped) leaves nothing running: each runs in
//! a process group of its own, watched by a `sh` reading a pipe from this process, which
//! kills the group once the pipe closes, and then removes the temporary folder. A
//! parent-death signal would not do: PHP's workers outlive their master, and that signal
//! follows the thread that started a process, not the process (and `libc` is no
//! dependency here to set one).
#![allow(dead_code)] // each suite uses part of it

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

/// Debian's WordPress.
const WORDPRESS: &str = "/usr/share/wordpress";
const ADMIN_PASSWORD: &str = "harness-admin-password";
const DB_USER: &str = "wordpress";
const DB_PASSWORD: &str = "harness-db-password";
/// For a server to come up, or a request to be answered.
const PATIENCE: Duration = Duration::from_secs(60);

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real WordPress on loopback; dropped, it stops and its folder goes.
pub struct WordPress {
    /// `http://127.0.0.1:PORT`, the site's home (its REST API is at `/wp-json/`).
    pub address: String,
    /// The administrator.
    pub user: String,
    /// An application password of `user`, for HTTP Basic authentication.
    pub app_password: String,
    /// The site's `wp-content/uploads`.
    pub uploads: PathBuf,
    port: u16,
    site: PathBuf,
    php: Option<Guarded>,
    mariadb: Option<Guarded>,
    agent: ureq::Agent,
    /// Last: removed after the servers have stopped.
    dir: tempfile::TempDir,
}

/// The one WordPress of this test binary, started by the first test that asks for it and
/// running (resumed if a test stopped it). Tests holding the guard take turns; a test
/// that panicked holding it leaves it usable.
pub fn shared() -> MutexGuard<'static, WordPress> {
    static SHARED: OnceLock<Mutex<WordPress>> = OnceLock::new();
    let mut wordpress = SHARED
        .get_or_init(|| Mutex::new(WordPress::start()))
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if wordpress.php.is_none() {
        wordpress.resume();
    }
    wordpress
}

impl WordPress {
    /// Starts a new, installed WordPress with an administrator and an application
    /// password, in a temporary folder of its own.
    pub fn start() -> WordPress {
        let started = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("wordpress-")
            .tempdir()
            .unwrap();
        // A Unix socket's path has at most 107 bytes.
        let dir = if dir.path().as_os_str().len() > 80 {
            tempfile::Builder::new()
                .prefix("wordpress-")
                .tempdir_in("/tmp")
                .unwrap()
        } else {
            dir
        };
        let root = fs::metadata(dir.path()).unwrap().uid() == 0;
        check_php();

        // The database's files are made while the site is copied.
        let data = dir.path().join("mysql");
        let mut install_db = Command::new(program(&["mariadb-install-db", "mysql_install_db"]));
        install_db
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db");
        if root {
            install_db.arg("--user=root");
        }
        let install_db = install_db
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mariadb-install-db (apt install mariadb-server)");

        let site = dir.path().join("site");
        copy_tree(
            Path::new(WORDPRESS),
            &site,
            &[".htaccess", "wp-config.php", "wp-content"],
        );
        let uploads = site.join("wp-content/uploads");
        let theme = site.join("wp-content/themes/harness");
        for folder in [&uploads, &theme, &site.join("wp-content/plugins")] {
            fs::create_dir_all(folder).unwrap();
        }
        fs::write(theme.join("style.css"), THEME_STYLE).unwrap();
        fs::write(theme.join("index.php"), THEME_INDEX).unwrap();
        fs::write(dir.path().join("router.php"), ROUTER).unwrap();
        let copied = started.elapsed();

        let installed = install_db.wait_with_output().unwrap();
        assert!(
            installed.status.success(),
            "mariadb-install-db failed: {}{}",
            String::from_utf8_lossy(&installed.stdout),
            String::from_utf8_lossy(&installed.stderr)
        );
        let socket = dir.path().join("mysql.sock");
        let mariadb = start_mariadb(dir.path(), &data, &socket, root);
        let database = started.elapsed();

        let port = free_port();
        let address = format!("http://127.0.0.1:{port}");
        fs::write(
            site.join("wp-config.php"),
            wp_config(&address, &socket, dir.path()),
        )
        .unwrap();
        let mut wordpress = WordPress {
            address,
            user: "admin".to_owned(),
            app_password: String::new(),
            uploads,
            port,
            site,
            php: None,
            mariadb: Some(mariadb),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_global(Some(PATIENCE))
                .build()
                .into(),
            dir,
        };
        wordpress.resume();
        let php = started.elapsed();
        wordpress.install();
        let install = started.elapsed();
        let cookies = wordpress.log_in();
        wordpress.ensure_pretty_permalinks(&cookies);
        wordpress.app_password = wordpress.make_app_password(&cookies);
        let (status, me) = wordpress.get("/wp-json/wp/v2/users/me?context=edit");
        assert_eq!(
            status, 200,
            "the application password does not let in: {me}"
        );
        eprintln!(
            "WordPress on {} in {:.2?} (site copied {:.2?}, database {:.2?}, PHP {:.2?}, \
             installed {:.2?}, logged in and application password {:.2?})",
            wordpress.address,
            started.elapsed(),
            copied,
            database - copied,
            php - database,
            install - php,
            started.elapsed() - install,
        );
        wordpress
    }

    /// Stops the web server (the database stays), as when the site is away.
    pub fn stop(&mut self) {
        if let Some(php) = self.php.take() {
            php.kill();
            let deadline = Instant::now() + PATIENCE;
            while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                assert!(Instant::now() < deadline, "port {} stays open", self.port);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Starts the web server again, on the same port; returns once it answers.
    pub fn resume(&mut self) {
        if self.php.is_some() {
            return;
        }
        let mut php = Command::new(program(&["php"]));
        php.env("PHP_CLI_SERVER_WORKERS", "4")
            .args(["-d", "upload_max_filesize=64M"])
            .args(["-d", "post_max_size=64M"])
            .args(["-d", "memory_limit=256M"])
            // WordPress mails the administrator when it is installed; nothing sends it.
            .args(["-d", "sendmail_path=true"])
            .arg("-S")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("-t")
            .arg(&self.site)
            .arg(self.dir.path().join("router.php"))
            .current_dir(&self.site);
        let log = self.dir.path().join("php.log");
        let mut php = Guarded::spawn(php, &log, None);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = php.exited() {
                panic!("PHP's web server ended ({status}): {}", tail(&log));
            }
            let probe = self
                .agent
                .get(format!("{}/wp-includes/images/blank.gif", self.address))
                .call();
            if probe.is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "PHP's web server does not answer: {}",
                tail(&log)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.php = Some(php);
    }

    /// `Basic …` for the administrator's application password.
    pub fn authorization(&self) -> String {
        let pair = format!("{}:{}", self.user, self.app_password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    /// The media item as the REST API gives it to its editor (`context=edit`); None when
    /// WordPress has no such item.
    pub fn media(&self, id: u64) -> Option<Value> {
        match self.get(&format!("/wp-json/wp/v2/media/{id}?context=edit")) {
            (200, body) => Some(serde_json::from_str(&body).unwrap()),
            (404, _) => None,
            (status, body) => panic!("media {id}: HTTP {status}: {body}"),
        }
    }

    /// Every media item (attachments are `inherit`, or `private`), as [`Self::media`].
    pub fn media_list(&self) -> Vec<Value> {
        let mut all = Vec::new();
        for page in 1.. {
            let (status, body) = self.get(&format!(
                "/wp-json/wp/v2/media?context=edit&status=inherit,private&per_page=100&page={page}"
            ));
            assert_eq!(status, 200, "media list: {body}");
            let items: Vec<Value> = serde_json::from_str(&body).unwrap();
            let last = items.len() < 100;
            all.extend(items);
            if last {
                break;
            }
        }
        all
    }

    /// The files in the uploads folder that WordPress names for media item `id` (whether
    /// or not they are there): the file as uploaded (or scaled down, when big), each size
    /// made from it, and the original of a scaled one. Panics if there is no such item.
    pub fn files_of_media(&self, id: u64) -> Vec<PathBuf> {
        let item = self
            .media(id)
            .unwrap_or_else(|| panic!("no media {id} in WordPress"));
        let mut files = Vec::new();
        let prefix = format!("{}/wp-content/uploads/", self.address);
        if let Some(url) = item["source_url"].as_str() {
            files.push(self.uploads.join(url.strip_prefix(&prefix).unwrap_or(url)));
        }
        let details = &item["media_details"];
        if let Some(file) = details["file"].as_str() {
            let file = self.uploads.join(file);
            let folder = file.parent().unwrap().to_owned();
            files.push(file);
            if let Some(original) = details["original_image"].as_str() {
                files.push(folder.join(original));
            }
            if let Some(sizes) = details["sizes"].as_object() {
                files.extend(
                    sizes
                        .values()
                        .filter_map(|size| size["file"].as_str())
                        .map(|name| folder.join(name)),
                );
            }
        }
        files.sort();
        files.dedup();
        files
    }

    /// GET of a REST path with the application password: the JSON it answered 200 with.
    pub fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Every file under the uploads folder.
    pub fn all_uploaded_files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut folders = vec![self.uploads.clone()];
        while let Some(folder) = folders.pop() {
            for entry in fs::read_dir(&folder).into_iter().flatten().flatten() {
                let kind = entry.file_type().unwrap();
                if kind.is_dir() {
                    folders.push(entry.path());
                } else if kind.is_file() {
                    files.push(entry.path());
                }
            }
        }
        files.sort();
        files
    }

    /// GET with the application password: the status and the body.
    fn get(&self, path: &str) -> (u16, String) {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.address))
            .header("Authorization", self.authorization())
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let body = response.body_mut().read_to_string().unwrap();
        (response.status().as_u16(), body)
    }

    /// WordPress's installer, as its form posts it: the site and its administrator.
    fn install(&self) {
        let mut response = self
            .agent
            .post(format!("{}/wp-admin/install.php?step=2", self.address))
            .send_form([
                ("weblog_title", "ConsentCam harness"),
                ("user_name", self.user.as_str()),
                ("admin_password", ADMIN_PASSWORD),
                ("admin_password2", ADMIN_PASSWORD),
                ("pw_weak", "1"),
                ("admin_email", "admin@example.com"),
                ("blog_public", "0"),
            ])
            .unwrap();
        let body = response.body_mut().read_to_string().unwrap();
        assert!(
            response.status() == 200 && body.contains("WordPress has been installed"),
            "WordPress's installer: HTTP {}: {body}\n{}",
            response.status(),
            tail(&self.dir.path().join("php.log"))
        );
    }

    /// Logs the administrator in through wp-login.php; the cookies to send.
    fn log_in(&self) -> String {
        let response = self
            .agent
            .post(format!("{}/wp-login.php", self.address))
            // What wp-login.php's page sets, to see that cookies work.
            .header("Cookie", "wordpress_test_cookie=WP%20Cookie%20check")
            .send_form([
                ("log", self.user.as_str()),
                ("pwd", ADMIN_PASSWORD),
                ("wp-submit", "Log In"),
                ("redirect_to", &format!("{}/wp-admin/", self.address)),
                ("testcookie", "1"),
            ])
            .unwrap();
        assert_eq!(response.status(), 302, "logging in to WordPress");
        let mut jar = BTreeMap::new();
        for header in response.headers().get_all("set-cookie") {
            let pair = header.to_str().unwrap().split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=') {
                jar.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        assert!(
            jar.keys()
                .any(|name| name.starts_with("wordpress_logged_in_")),
            "WordPress set no login cookie: {jar:?}"
        );
        jar.iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A page of the logged-in site: the status and the body.
    fn get_logged_in(&self, cookies: &str, path: &str) -> (u16, String) {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.address))
            .header("Cookie", cookies)
            .call()
            .unwrap();
        let body = response.body_mut().read_to_string().unwrap();
        (response.status().as_u16(), body)
    }

    /// The REST API at /wp-json/, as on a real site. WordPress's installer turns pretty
    /// permalinks on itself when a request to one reaches it (here through the router,
    /// on a second PHP worker); else they are set under Settings → Permalinks.
    fn ensure_pretty_permalinks(&self, cookies: &str) {
        if self.rest_at_wp_json() {
            return;
        }
        self.save_permalinks(cookies, "/%postname%/");
        assert!(self.rest_at_wp_json(), "no REST API at /wp-json/");
    }

    /// Saves the permalink structure through Settings → Permalinks ("" for plain).
    fn save_permalinks(&self, cookies: &str, structure: &str) {
        let (status, page) = self.get_logged_in(cookies, "/wp-admin/options-permalink.php");
        assert_eq!(status, 200, "Settings → Permalinks: {page}");
        let nonce = input_value(&page, "_wpnonce").expect("the permalink form's nonce");
        let response = self
            .agent
            .post(format!("{}/wp-admin/options-permalink.php", self.address))
            .header("Cookie", cookies)
            .send_form([
                ("_wpnonce", nonce.as_str()),
                ("_wp_http_referer", "/wp-admin/options-permalink.php"),
                ("selection", structure),
                ("permalink_structure", structure),
                ("submit", "Save Changes"),
            ])
            .unwrap();
        assert_eq!(response.status(), 302, "saving the permalinks");
        // The page it leads back to is what rewrites WordPress's rules, as in a browser.
        let back = response.headers()["location"].to_str().unwrap();
        let back = back.strip_prefix(&self.address).unwrap_or(back).to_owned();
        let (status, page) = self.get_logged_in(cookies, &back);
        assert_eq!(status, 200, "Settings → Permalinks, saved: {page}");
    }

    fn rest_at_wp_json(&self) -> bool {
        let response = self
            .agent
            .get(format!("{}/wp-json/", self.address))
            .call()
            .unwrap();
        // With plain permalinks, /wp-json/ is the home page.
        let json = response
            .headers()
            .get("content-type")
            .and_then(|t| t.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"));
        response.status() == 200 && json
    }

    /// An application password, made as the profile page makes one: through the REST
    /// API with the login cookies and a REST nonce.
    fn make_app_password(&self, cookies: &str) -> String {
        let (status, nonce) =
            self.get_logged_in(cookies, "/wp-admin/admin-ajax.php?action=rest-nonce");
        assert_eq!(status, 200, "no REST nonce: {nonce}");
        let mut response = self
            .agent
            .post(format!(
                "{}/wp-json/wp/v2/users/me/application-passwords",
                self.address
            ))
            .header("Cookie", cookies)
            .header("X-WP-Nonce", nonce.trim())
            .send_form([("name", "consentcam tests")])
            .unwrap();
        let body = response.body_mut().read_to_string().unwrap();
        assert_eq!(response.status(), 201, "application password: {body}");
        let made: Value = serde_json::from_str(&body).unwrap();
        made["password"].as_str().unwrap().to_owned()
    }
}

impl Drop for WordPress {
    fn drop(&mut self) {
        self.stop();
        if let Some(mariadb) = self.mariadb.take() {
            mariadb.kill();
        }
    }
}

/// A server in a process group of its own, and a watchdog (`sh`, in the test's group but
/// deaf to Ctrl-C) that kills that whole group once its stdin closes: when
/// [`Guarded::kill`] closes it, or when the test process ends, however it ends. Then it
/// removes `remove`, if any.
struct Guarded {
    server: Child,
    watchdog: Child,
}

impl Guarded {
    fn spawn(mut command: Command, log: &Path, remove: Option<&Path>) -> Guarded {
        let log = fs::File::create(log).unwrap();
        let server = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(r#"trap "" INT HUP TERM QUIT; read _; kill -KILL "-$1"; [ -z "$2" ] || rm -rf "$2""#)
            .arg("sh")
            .arg(server.id().to_string())
            .arg(remove.unwrap_or(Path::new("")))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Guarded { server, watchdog }
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.server.try_wait().unwrap()
    }

    /// Kills the server's whole group and waits for it.
    fn kill(mut self) {
        drop(self.watchdog.stdin.take());
        let _ = self.watchdog.wait();
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// A private MariaDB on a Unix socket only, with the database `wordpress` and its user.
fn start_mariadb(dir: &Path, data: &Path, socket: &Path, root: bool) -> Guarded {
    let mut mariadbd = Command::new(program(&["mariadbd", "mysqld"]));
    mariadbd
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", socket.display()))
        .arg("--skip-networking")
        .arg(format!("--pid-file={}", dir.join("mariadb.pid").display()))
        .arg(format!("--log-error={}", dir.join("mariadb.err").display()));
    if root {
        mariadbd.arg("--user=root");
    }
    let mut mariadb = Guarded::spawn(mariadbd, &dir.join("mariadb.log"), Some(dir));
    let deadline = Instant::now() + PATIENCE;
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        if let Some(status) = mariadb.exited() {
            panic!(
                "mariadbd ended ({status}): {}",
                tail(&dir.join("mariadb.err"))
            );
        }
        assert!(Instant::now() < deadline, "mariadbd does not answer");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sql = format!(
        "CREATE DATABASE wordpress; \
         CREATE USER '{DB_USER}'@'localhost' IDENTIFIED BY '{DB_PASSWORD}'; \
         GRANT ALL ON wordpress.* TO '{DB_USER}'@'localhost';"
    );
    let made = Command::new(program(&["mariadb", "mysql"]))
        .arg("--no-defaults")
        .arg(format!("--socket={}", socket.display()))
        .arg("--user=root")
        .arg("--execute")
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "creating the database: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    mariadb
}

/// PHP with what WordPress needs here: MySQL, and GD to make the image sizes.
fn check_php() {
    let out = Command::new(program(&["php"]))
        .arg("-r")
        .arg(r#"foreach (["mysqli", "gd"] as $e) if (!extension_loaded($e)) echo "$e ";"#)
        .output()
        .expect("php (apt install php-cli php-mysql php-gd)");
    let missing = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && missing.is_empty(),
        "PHP lacks {missing}(apt install php-mysql php-gd)"
    );
}

/// The first of `names` in Debian's folders (/usr/sbin is not on a user's PATH), else on
/// the PATH.
fn program(names: &[&str]) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let folders: Vec<PathBuf> = [PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")]
        .into_iter()
        .chain(std::env::split_paths(&path))
        .collect();
    names
        .iter()
        .flat_map(|name| folders.iter().map(move |folder| folder.join(name)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("none of {names:?} is installed"))
}

/// Copies a tree as plain files and folders, symlinks followed (Debian's WordPress links
/// into /usr/share/javascript and /usr/share/php by relative paths, which would point
/// nowhere from the copy; and PHP would take a linked file's real folder for its own).
/// `skip` names entries at the top.
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let (source, target) = (entry.path(), to.join(&name));
        if fs::metadata(&source).unwrap().is_dir() {
            copy_tree(&source, &target, &[]);
        } else {
            fs::copy(&source, &target)
                .unwrap_or_else(|e| panic!("copying {}: {e}", source.display()));
        }
    }
}

/// The site's own wp-config.php (Debian's reads /etc/wordpress).
fn wp_config(address: &str, socket: &Path, dir: &Path) -> String {
    let quoted = |path: &Path| {
        let path = path.to_str().unwrap();
        assert!(!path.contains(['\'', '\\']), "a path PHP would misread");
        path.to_owned()
    };
    let mut salts = String::new();
    for name in [
        "AUTH_KEY",
        "SECURE_AUTH_KEY",
        "LOGGED_IN_KEY",
        "NONCE_KEY",
        "AUTH_SALT",
        "SECURE_AUTH_SALT",
        "LOGGED_IN_SALT",
        "NONCE_SALT",
    ] {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        salts.push_str(&format!("define( '{name}', '{hex}' );\n"));
    }
    format!(
        "<?php
// Written by the test harness (server/tests/common/wordpress.rs).
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', '{DB_USER}' );
define( 'DB_PASSWORD', '{DB_PASSWORD}' );
define( 'DB_HOST', 'localhost:{socket}' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
{salts}$table_prefix = 'wp_';
// Application passwords want HTTPS, but for a 'local' site.
define( 'WP_ENVIRONMENT_TYPE', 'local' );
define( 'WP_HOME', '{address}' );
define( 'WP_SITEURL', '{address}' );
define( 'WP_CONTENT_DIR', __DIR__ . '/wp-content' );
define( 'WP_DEFAULT_THEME', 'harness' );
define( 'DISABLE_WP_CRON', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
// Nothing asked of wordpress.org (translations, updates, news); loopback still is.
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_DISPLAY', false );
define( 'WP_DEBUG_LOG', '{log}' );
define( 'ABSPATH', __DIR__ . '/' );
require_once ABSPATH . 'wp-settings.php';
",
        socket = quoted(socket),
        log = quoted(&dir.join("wordpress-debug.log")),
    )
}

/// Debian packages no theme; without one the site shows a blank page.
const THEME_STYLE: &str = "/*
Theme Name: Harness
Description: The smallest theme that shows posts, for the tests.
*/
";

const THEME_INDEX: &str = "<!DOCTYPE html>
<html <?php language_attributes(); ?>><head><?php wp_head(); ?></head><body>
<?php while ( have_posts() ) { the_post(); the_title( '<h1>', '</h1>' ); the_content(); } ?>
<?php wp_footer(); ?></body></html>
";

/// For PHP's web server what WordPress's .htaccess asks of Apache: a file or folder that
/// is there is served as it is, any other path goes to index.php. (Without it PHP's
/// server falls back to the nearest index.php too, but answers 404 itself for a missing
/// path with a dot in its last part.)
const ROUTER: &str = "<?php
$path = rawurldecode( parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH ) );
if ( file_exists( $_SERVER['DOCUMENT_ROOT'] . $path ) ) {
	return false;
}
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['PHP_SELF']        = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
";

/// The `value` of the form input named `name` in a page.
fn input_value(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\""))?;
    let tag_start = page[..at].rfind('<')?;
    let tag = &page[tag_start..tag_start + page[tag_start..].find('>')?];
    let value = tag.split("value=\"").nth(1)?;
    Some(value[..value.find('"')?].to_owned())
}

/// The end of a log, for a failure's message.
fn tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let start = text.len().saturating_sub(4000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    format!("{}:\n{}", log.display(), &text[start..])
}
