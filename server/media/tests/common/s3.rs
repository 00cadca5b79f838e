//! A real S3-compatible server for tests: `s3s-fs` (crates.io, feature `binary`) serving
//! a folder on a loopback port. Found on `PATH`, or at `$CONSENTCAM_S3S_FS`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use consentcam_media::S3Settings;

const ACCESS_KEY: &str = "consentcam-test";
const SECRET_KEY: &str = "consentcam-test-secret";

/// The test server; killed when dropped.
pub struct S3Server {
    child: Option<Child>,
    root: PathBuf,
    port: u16,
}

fn binary() -> PathBuf {
    std::env::var_os("CONSENTCAM_S3S_FS").map_or_else(|| PathBuf::from("s3s-fs"), PathBuf::from)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl S3Server {
    /// Starts a server on a free port, its buckets folders under `root`; makes `bucket`.
    pub fn start(root: &Path, bucket: &str) -> Self {
        std::fs::create_dir_all(root.join(bucket)).expect("bucket folder");
        let mut server = Self {
            child: None,
            root: root.to_path_buf(),
            port: free_port(),
        };
        server.resume();
        server
    }

    /// Starts it again (same port, same data) after [`Self::stop`].
    pub fn resume(&mut self) {
        let child = Command::new(binary())
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--access-key")
            .arg(ACCESS_KEY)
            .arg("--secret-key")
            .arg(SECRET_KEY)
            .arg(&self.root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e}; install it with `cargo install --locked s3s-fs@0.14.1 --features binary` (or set CONSENTCAM_S3S_FS)",
                    binary().display()
                )
            });
        self.child = Some(child);
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "s3s-fs did not start listening"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it: every request fails until [`Self::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Its address.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The folder a bucket's objects are kept in (for checks from outside the API).
    pub fn folder(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }

    /// Settings for a client of `bucket`, retrying for at most `retry_for`.
    pub fn settings(&self, bucket: &str, retry_for: Duration) -> S3Settings {
        S3Settings {
            bucket: bucket.to_owned(),
            endpoint: Some(self.endpoint()),
            retry_for,
            ..test_settings()
        }
    }
}

impl S3Server {
    /// Writes the credentials file `[store] credentials_file` names, and returns the
    /// config's `[store]` section for `bucket` with it.
    pub fn store_section(&self, bucket: &str, credentials: &Path, kind: &str) -> String {
        let settings = test_settings();
        std::fs::write(
            credentials,
            format!(
                "access_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
                settings.access_key_id, settings.secret_access_key
            ),
        )
        .expect("write the credentials file");
        format!(
            "[store]\nkind = \"{kind}\"\nbucket = \"{bucket}\"\nendpoint = \"{}\"\nallow_http = true\ncredentials_file = {credentials:?}\n",
            self.endpoint()
        )
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The credentials every test server takes, with no bucket or endpoint yet.
pub fn test_settings() -> S3Settings {
    S3Settings {
        bucket: String::new(),
        endpoint: None,
        region: "us-east-1".into(),
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: SECRET_KEY.into(),
        allow_http: true,
        retry_for: Duration::from_secs(10),
    }
}
