//! A real SMTP server on loopback (aiosmtpd, keeping a Maildir), shared by the test
//! suites that read back what was mailed.
#![allow(dead_code)] // each suite uses part of it

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Debian's python (with python3-aiosmtpd), not one a user put first on the path.
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A message as the mail server kept it.
#[derive(Debug, Clone)]
pub struct Kept {
    pub raw: String,
    pub message_id: String,
    pub to: String,
    pub subject: String,
    /// The raw text with quoted-printable soft breaks joined.
    pub text: String,
}

fn header(raw: &str, name: &str) -> String {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default()
}

/// A real SMTP server (aiosmtpd) on loopback keeping what it takes in a Maildir.
pub struct Sink {
    child: Option<Child>,
    pub port: u16,
    pub maildir: PathBuf,
    args: Vec<String>,
}

impl Sink {
    pub fn start(maildir: &Path, args: &[&str]) -> Sink {
        let mut sink = Sink {
            child: None,
            port: free_port(),
            maildir: maildir.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        };
        sink.resume();
        sink
    }

    /// Starts it again on the same port and Maildir.
    pub fn resume(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--maildir")
            .arg(&self.maildir)
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (apt install python3-aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        self.child = Some(child);
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn kept(&self) -> Vec<Kept> {
        let mut out = Vec::new();
        for folder in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(folder)) else {
                continue;
            };
            for entry in entries {
                let raw = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                let raw = raw.replace("\r\n", "\n").replace('\n', "\r\n");
                out.push(Kept {
                    message_id: header(&raw, "Message-ID"),
                    to: header(&raw, "To"),
                    subject: header(&raw, "Subject"),
                    text: raw.replace("=\r\n", "").replace("=3D", "="),
                    raw,
                });
            }
        }
        out
    }

    pub fn to(&self, address: &str) -> Vec<Kept> {
        self.kept()
            .into_iter()
            .filter(|k| k.to.contains(address))
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The first loopback link in a message's text (a personal link the server mailed).
pub fn link_in(text: &str) -> String {
    let start = text.find("http://127.0.0.1:").expect("a link in the mail");
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '<' || c == '"')
        .unwrap_or(rest.len());
    rest[..end].to_owned()
}
