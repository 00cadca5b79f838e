//! Workers locked down for real: this test program is also the worker it starts (with the
//! supervisor's settings in its environment it serves requests instead of testing). Each
//! request asks the worker to do one thing after its lockdown; the test checks how the
//! supervisor saw it end. Runs the kernel's seccomp and, where it has it, Landlock.

use std::process::ExitCode;
use std::time::Duration;

use consentcam_sandbox::supervisor::{Failure, Pool, Settings, Worker};
use consentcam_sandbox::{Confinement, worker};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Do {
    act: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Done {
    said: String,
}

const MIB: u64 = 1024 * 1024;

/// What the worker does for a request, after its lockdown.
fn act(what: &str, payload: &[u8]) -> Done {
    let said = match what {
        "echo" => format!("{} bytes", payload.len()),
        "open" => format!("{:?}", std::fs::File::open("/etc/hostname").map(|_| ())),
        "create" => format!(
            "{:?}",
            std::fs::write("/tmp/consentcam-sandbox-escape", b"x")
        ),
        "socket" => format!(
            "{:?}",
            std::net::TcpStream::connect("127.0.0.1:9").map(|_| ())
        ),
        "exec" => format!("{:?}", std::process::Command::new("/bin/true").status()),
        "signal the server" => {
            let parent = rustix::process::getppid().expect("a parent");
            format!(
                "{:?}",
                rustix::process::kill_process(parent, rustix::process::Signal::TERM)
            )
        }
        "segfault" => {
            // Rust's own handler lets the first SIGSEGV that is not a fault pass (and puts
            // the default back); a decoder's real fault, or a second one, ends the process.
            let own = rustix::process::getpid();
            let segv = || rustix::process::kill_process(own, rustix::process::Signal::SEGV);
            format!("{:?} {:?}", segv(), segv())
        }
        "spin" => loop {
            std::hint::spin_loop();
        },
        "hog" => {
            // Twice the worker's memory, touched.
            let big = vec![1u8; usize::try_from(512 * MIB).unwrap()];
            format!("{}", big.iter().map(|b| u64::from(*b)).sum::<u64>())
        }
        "threads" => {
            let sums: Vec<u64> = (0..4u64)
                .map(|n| std::thread::spawn(move || (0..1000u64).map(|i| i * n).sum::<u64>()))
                .map(|t| t.join().unwrap())
                .collect();
            format!("{sums:?}")
        }
        "garbage" => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&u32::MAX.to_be_bytes());
            let _ = out.flush();
            std::thread::sleep(Duration::from_secs(5));
            "never".into()
        }
        other => format!("unknown act {other}"),
    };
    Done { said }
}

fn settings() -> Settings {
    Settings {
        program: std::env::current_exe().expect("this test's program"),
        args: Vec::new(),
        confinement: Confinement {
            memory_bytes: 256 * MIB,
            cpu_seconds: 30,
        },
        start_timeout: Duration::from_secs(10),
        requests_per_worker: 2,
        max_answer_bytes: MIB,
    }
}

fn ask(act: &str) -> Result<Done, Failure> {
    let settings = settings();
    let mut worker = Worker::start(&settings)?;
    worker
        .call(
            &settings,
            &Do { act: act.into() },
            b"payload",
            Duration::from_secs(2),
        )
        .map(|(done, _)| done)
}

type Check = (&'static str, fn() -> Result<(), String>);

fn expect(act: &str, wanted: &Failure) -> Result<(), String> {
    match ask(act) {
        Err(got) if &got == wanted => Ok(()),
        other => Err(format!("{act}: expected {wanted:?}, got {other:?}")),
    }
}

const CHECKS: &[Check] = &[
    ("a locked-down worker answers", || match ask("echo") {
        Ok(done) if done.said == "7 bytes" => Ok(()),
        other => Err(format!("{other:?}")),
    }),
    (
        "its threads still work (clone3 refused, clone for threads allowed)",
        || match ask("threads") {
            Ok(done) if done.said == "[0, 499500, 999000, 1498500]" => Ok(()),
            other => Err(format!("{other:?}")),
        },
    ),
    ("opening a file kills it", || {
        expect("open", &Failure::Violation)
    }),
    ("creating a file kills it", || {
        expect("create", &Failure::Violation)
    }),
    ("a socket kills it", || {
        expect("socket", &Failure::Violation)
    }),
    ("starting a program kills it", || {
        expect("exec", &Failure::Violation)
    }),
    (
        "signalling the server kills it, and the server lives",
        || expect("signal the server", &Failure::Violation),
    ),
    ("a segfault is a crash", || {
        expect("segfault", &Failure::Crashed("killed by SIGSEGV".into()))
    }),
    ("past its time it is killed", || {
        expect("spin", &Failure::Timeout(Duration::from_secs(2)))
    }),
    ("over its memory it dies, not the server", || {
        expect("hog", &Failure::Crashed("killed by SIGABRT".into()))
    }),
    (
        "an answer that is no frame is a protocol failure",
        || match ask("garbage") {
            Err(Failure::Protocol(why)) if why.contains("header") => Ok(()),
            other => Err(format!("{other:?}")),
        },
    ),
    ("a program that is not there is unavailable", || {
        let settings = Settings {
            program: "/nonexistent/consentcam".into(),
            ..settings()
        };
        match Worker::start(&settings) {
            Err(Failure::Unavailable(why)) if why.contains("cannot be started") => Ok(()),
            Err(other) => Err(format!("{other:?}")),
            Ok(_) => Err("started".into()),
        }
    }),
    (
        "a pool reuses a worker, replaces it after its requests and after a failure",
        || {
            let pool = Pool::new(settings());
            let pid = |act: &str| {
                pool.call(
                    &Do { act: act.into() },
                    b"",
                    Duration::from_secs(2),
                    |_: &Done| true,
                )
            };
            pid("echo").map_err(|e| e.to_string())?;
            pid("echo").map_err(|e| e.to_string())?;
            if pid("segfault") != Err(Failure::Crashed("killed by SIGSEGV".into())) {
                return Err("the third request did not crash".into());
            }
            // The next request is served by a new worker.
            match pid("echo") {
                Ok((done, _)) if done.said == "0 bytes" => Ok(()),
                other => Err(format!("after a crash: {other:?}")),
            }
        },
    ),
];

fn main() -> ExitCode {
    if std::env::var_os(worker::PARENT_ENV).is_some() {
        return worker::serve::<Do, Done>(
            MIB,
            || {},
            |request, payload| (act(&request.act, &payload), Vec::new()),
        );
    }
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut failed = 0;
    for (name, check) in CHECKS {
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        match check() {
            Ok(()) => println!("test {name} ... ok"),
            Err(why) => {
                println!("test {name} ... FAILED: {why}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        println!("test result: FAILED. {failed} failed");
        ExitCode::FAILURE
    } else {
        println!("test result: ok.");
        ExitCode::SUCCESS
    }
}
