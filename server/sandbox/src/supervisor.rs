//! The server's side: start a worker (a fresh program, never a fork of the server), wait
//! for it to say it is locked down, send it requests and take its answers within a time
//! limit, and tell how it ended when it does not answer: killed for a forbidden call, past
//! its time, crashed, or talking nonsense. A [`Pool`] keeps workers for reuse, retires each
//! after a number of requests or any failure, and waits longer before each new start
//! while workers keep failing.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::frame::{self, FrameError};
use crate::lockdown::Confinement;
use crate::worker::{CONFINEMENT_ENV, Hello, PARENT_ENV};

/// How to start a worker and what it may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The program (usually this server's own binary).
    pub program: PathBuf,
    /// Its arguments (the subcommand that makes it a worker).
    pub args: Vec<OsString>,
    /// Its limits.
    pub confinement: Confinement,
    /// How long it may take to start and lock down.
    pub start_timeout: Duration,
    /// Requests a worker serves before it is replaced.
    pub requests_per_worker: u32,
    /// The largest answer payload accepted.
    pub max_answer_bytes: u64,
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The worker could not be started or locked down.
    #[error("the sandbox is unavailable: {0}")]
    Unavailable(String),
    /// It was killed at a forbidden system call.
    #[error("the worker made a forbidden system call and was killed")]
    Violation,
    /// It did not answer in time (or used up its CPU time) and was killed.
    #[error("the worker did not answer within {0:?} and was killed")]
    Timeout(Duration),
    /// It died: a signal or an exit.
    #[error("the worker crashed: {0}")]
    Crashed(String),
    /// It answered something that is not an answer, and was killed.
    #[error("the worker's answer did not read: {0}")]
    Protocol(String),
}

type Answer = Result<(serde_json::Value, Vec<u8>), FrameError>;

/// One running worker.
pub struct Worker {
    child: Child,
    requests: Option<SyncSender<Vec<u8>>>,
    answers: Receiver<Answer>,
    served: u32,
}

/// A signal's name, for the few a worker dies of.
fn signal_name(signal: i32) -> String {
    let name = match signal {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

/// What a worker writes on its standard error, in the server's log: the first 64 KiB of
/// it, a line at a time; the rest is read and dropped (a worker never blocks on it).
fn log_lines(pid: u32, stderr: std::process::ChildStderr) {
    use std::io::{BufRead, Read};
    let mut lines = std::io::BufReader::new(stderr.take(64 * 1024));
    let mut line = String::new();
    while matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
        if !line.trim().is_empty() {
            tracing::warn!(worker = pid, "{}", line.trim_end());
        }
        line.clear();
    }
    let _ = std::io::copy(&mut lines.into_inner().into_inner(), &mut std::io::sink());
}

/// What an ended worker's status says.
#[must_use]
pub fn judge_exit(status: ExitStatus, cpu_limit: Duration) -> Failure {
    match (status.signal(), status.code()) {
        (Some(31), _) => Failure::Violation,
        (Some(24), _) => Failure::Timeout(cpu_limit),
        (Some(signal), _) => Failure::Crashed(format!("killed by {}", signal_name(signal))),
        (None, Some(code)) => Failure::Crashed(format!("exited with status {code}")),
        (None, None) => Failure::Crashed("ended".into()),
    }
}

impl Worker {
    /// Starts a worker and waits until it is locked down.
    ///
    /// # Errors
    /// [`Failure::Unavailable`] when it cannot be started or locked down in time.
    pub fn start(settings: &Settings) -> Result<Self, Failure> {
        let confinement = serde_json::to_string(&settings.confinement)
            .map_err(|e| Failure::Unavailable(e.to_string()))?;
        let mut child = Command::new(&settings.program)
            .args(&settings.args)
            .env_clear()
            .env(PARENT_ENV, std::process::id().to_string())
            .env(CONFINEMENT_ENV, confinement)
            // glibc reserves 64 MiB of address space per thread's arena: two keep the
            // address-space limit for the pictures themselves.
            .env("MALLOC_ARENA_MAX", "2")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // A pipe, never the server's own stderr: that may be a file, which a worker
            // (no file may grow) could not write to, and a worker's chatter is capped.
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                Failure::Unavailable(format!(
                    "{} cannot be started: {e}",
                    settings.program.display()
                ))
            })?;
        if let Some(stderr) = child.stderr.take() {
            let pid = child.id();
            let _ = std::thread::Builder::new()
                .name("sandbox-stderr".into())
                .spawn(move || log_lines(pid, stderr));
        }
        let (Some(mut stdin), Some(mut stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Failure::Unavailable("the worker has no pipes".into()));
        };
        let (request_tx, request_rx) = mpsc::sync_channel::<Vec<u8>>(1);
        std::thread::Builder::new()
            .name("sandbox-writer".into())
            .spawn(move || {
                for bytes in request_rx {
                    if stdin
                        .write_all(&bytes)
                        .and_then(|()| stdin.flush())
                        .is_err()
                    {
                        break;
                    }
                }
            })
            .map_err(|e| Failure::Unavailable(e.to_string()))?;
        let (answer_tx, answer_rx) = mpsc::sync_channel::<Answer>(1);
        let max = settings.max_answer_bytes;
        std::thread::Builder::new()
            .name("sandbox-reader".into())
            .spawn(move || {
                loop {
                    let answer = frame::read::<serde_json::Value>(&mut stdout, max);
                    let end = answer.is_err();
                    if answer_tx.send(answer).is_err() || end {
                        break;
                    }
                }
            })
            .map_err(|e| Failure::Unavailable(e.to_string()))?;
        let mut worker = Self {
            child,
            requests: Some(request_tx),
            answers: answer_rx,
            served: 0,
        };
        let hello = match worker.answers.recv_timeout(settings.start_timeout) {
            Ok(Ok((hello, _))) => serde_json::from_value::<Hello>(hello)
                .map_err(|e| Failure::Unavailable(format!("the worker's greeting: {e}"))),
            Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                let failure = worker.ended(settings);
                Err(Failure::Unavailable(format!(
                    "the worker did not start: {failure}"
                )))
            }
            Err(RecvTimeoutError::Timeout) => Err(Failure::Unavailable(format!(
                "the worker did not start within {:?}",
                settings.start_timeout
            ))),
        }?;
        match hello {
            Hello::Ready(applied) => {
                tracing::debug!(landlock = %applied.landlock, pid = worker.child.id(), "sandboxed worker ready");
                Ok(worker)
            }
            Hello::Unavailable(why) => Err(Failure::Unavailable(why)),
        }
    }

    /// The worker's process id.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends one request and waits at most `timeout` for its answer. On any failure the
    /// worker is dead or killed; drop it.
    ///
    /// # Errors
    /// How the worker failed.
    pub fn call<Req: Serialize, Resp: DeserializeOwned>(
        &mut self,
        settings: &Settings,
        request: &Req,
        payload: &[u8],
        timeout: Duration,
    ) -> Result<(Resp, Vec<u8>), Failure> {
        let mut bytes = Vec::with_capacity(payload.len() + 256);
        frame::write(&mut bytes, request, payload).map_err(|e| Failure::Protocol(e.to_string()))?;
        let sent = self.requests.as_ref().map(|r| r.send(bytes));
        if !matches!(sent, Some(Ok(()))) {
            return Err(self.ended(settings));
        }
        let answer = match self.answers.recv_timeout(timeout) {
            Ok(Ok(answer)) => answer,
            Ok(Err(FrameError::Closed | FrameError::Io(_)))
            | Err(RecvTimeoutError::Disconnected) => return Err(self.ended(settings)),
            Ok(Err(e)) => {
                self.kill();
                return Err(Failure::Protocol(e.to_string()));
            }
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                return Err(Failure::Timeout(timeout));
            }
        };
        let (header, payload) = answer;
        match serde_json::from_value(header) {
            Ok(answer) => {
                self.served += 1;
                Ok((answer, payload))
            }
            Err(e) => {
                self.kill();
                Err(Failure::Protocol(e.to_string()))
            }
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// How a worker that stopped answering ended (killed if it lingers).
    fn ended(&mut self, settings: &Settings) -> Failure {
        self.requests = None;
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    return judge_exit(
                        status,
                        Duration::from_secs(settings.confinement.cpu_seconds),
                    );
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => {
                    self.kill();
                    return Failure::Crashed("closed its output and was killed".into());
                }
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing its input ends a healthy worker; a stuck one is killed.
        self.requests = None;
        self.kill();
    }
}

/// Workers kept for reuse.
pub struct Pool {
    settings: Settings,
    idle: Mutex<Vec<Worker>>,
    /// Failures in a row (reset by an answer).
    failing: Mutex<u32>,
}

impl Pool {
    /// A pool that starts workers as they are needed.
    #[must_use]
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            idle: Mutex::new(Vec::new()),
            failing: Mutex::new(0),
        }
    }

    /// Its settings.
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Sends a request to an idle worker, or a new one, within `timeout`. The worker is
    /// kept for the next request only if the answer came and `reuse` says it may be (a
    /// decoder that met a damaged file is replaced all the same).
    ///
    /// # Errors
    /// How the request failed; a failed worker is gone.
    pub fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        request: &Req,
        payload: &[u8],
        timeout: Duration,
        reuse: impl Fn(&Resp) -> bool,
    ) -> Result<(Resp, Vec<u8>), Failure> {
        let idle = self.idle.lock().map(|mut idle| idle.pop()).ok().flatten();
        let mut worker = match idle {
            Some(worker) => worker,
            None => {
                self.back_off();
                match Worker::start(&self.settings) {
                    Ok(worker) => worker,
                    Err(failure) => {
                        self.failed();
                        return Err(failure);
                    }
                }
            }
        };
        let answer = worker.call(&self.settings, request, payload, timeout);
        match &answer {
            Ok((resp, _)) => {
                if let Ok(mut failing) = self.failing.lock() {
                    *failing = 0;
                }
                if reuse(resp)
                    && worker.served < self.settings.requests_per_worker
                    && let Ok(mut idle) = self.idle.lock()
                {
                    idle.push(worker);
                }
            }
            Err(failure) => {
                tracing::warn!(%failure, "a sandboxed worker failed");
                self.failed();
            }
        }
        answer
    }

    fn failed(&self) {
        if let Ok(mut failing) = self.failing.lock() {
            *failing = failing.saturating_add(1);
        }
    }

    /// While workers keep failing, wait before starting the next: 50 ms after one
    /// failure, doubling, at most 5 s.
    fn back_off(&self) {
        let failing = self.failing.lock().map_or(0, |f| *f);
        if failing > 0 {
            let wait = Duration::from_millis(50u64 << failing.min(7).saturating_sub(1))
                .min(Duration::from_secs(5));
            std::thread::sleep(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exit_status_names_the_failure() {
        let cpu = Duration::from_secs(60);
        let signal = |s: i32| ExitStatus::from_raw(s);
        let code = |c: i32| ExitStatus::from_raw(c << 8);
        assert_eq!(judge_exit(signal(31), cpu), Failure::Violation);
        assert_eq!(judge_exit(signal(24), cpu), Failure::Timeout(cpu));
        assert_eq!(
            judge_exit(signal(11), cpu),
            Failure::Crashed("killed by SIGSEGV".into())
        );
        assert_eq!(
            judge_exit(signal(6), cpu),
            Failure::Crashed("killed by SIGABRT".into())
        );
        assert_eq!(
            judge_exit(code(101), cpu),
            Failure::Crashed("exited with status 101".into())
        );
    }
}
