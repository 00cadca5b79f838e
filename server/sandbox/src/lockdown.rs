//! Locking a worker down, once its libraries are initialised and before it reads any
//! untrusted byte: it dies with its parent, holds no descriptor but the three it was given,
//! may write no file, dump no core, and use only so much memory and CPU time; Landlock
//! takes away every file and network right where the kernel has it; the seccomp policy
//! ([`crate::policy`]) kills it at any forbidden call. Every step must succeed except
//! Landlock (a Raspberry Pi OS kernel has none): a worker that cannot be locked down says
//! so and decodes nothing.

use landlock::{ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetStatus, Scope};
use rustix::process::{Resource, Rlimit, Signal};

use crate::policy::{self, Arch};

/// The limits a worker runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Confinement {
    /// Address space (virtual memory: the decoders' threads reserve stacks and heaps).
    pub memory_bytes: u64,
    /// CPU time over the worker's life; past it the kernel stops it (`SIGXCPU`, then
    /// `SIGKILL`). The parent's wall-clock limit per file comes first.
    pub cpu_seconds: u64,
}

/// What the lockdown achieved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Applied {
    /// Landlock: "full", "partial" or "none" (the kernel has none).
    pub landlock: String,
}

/// Why a worker could not be locked down.
#[derive(Debug, thiserror::Error)]
pub enum LockdownError {
    /// The parent was gone before the death signal was set.
    #[error("the server that started this worker is gone")]
    ParentGone,
    /// A descriptor beyond standard input, output and error is open.
    #[error("descriptor {0} is open (only 0, 1 and 2 may be)")]
    InheritedDescriptor(String),
    /// The architecture has no policy.
    #[error("no seccomp policy for the {0} architecture")]
    Architecture(&'static str),
    /// A system call of the lockdown failed.
    #[error("{step}: {detail}")]
    Step {
        /// Which step.
        step: &'static str,
        /// The system's answer.
        detail: String,
    },
}

fn step(step: &'static str) -> impl Fn(std::fmt::Arguments<'_>) -> LockdownError {
    move |detail| LockdownError::Step {
        step,
        detail: detail.to_string(),
    }
}

/// Locks this process down. `parent` is the process id of the server that started it.
///
/// # Errors
/// Any step but Landlock failed: nothing untrusted may then be read.
pub fn lock_down(confinement: &Confinement, parent: u32) -> Result<Applied, LockdownError> {
    // Dies with the server; and the server must still be the one that started it.
    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
        .map_err(|e| step("the parent-death signal")(format_args!("{e}")))?;
    let ppid = rustix::process::getppid().map(|p| p.as_raw_nonzero().get());
    if ppid != i32::try_from(parent).ok() {
        return Err(LockdownError::ParentGone);
    }
    only_standard_descriptors()?;
    let limit = |resource, current, maximum| {
        rustix::process::setrlimit(
            resource,
            Rlimit {
                current: Some(current),
                maximum: Some(maximum),
            },
        )
    };
    let limits = [
        ("no core dumps", Resource::Core, 0, 0),
        ("no file written", Resource::Fsize, 0, 0),
        ("few descriptors", Resource::Nofile, 16, 16),
        (
            "CPU time",
            Resource::Cpu,
            confinement.cpu_seconds,
            confinement.cpu_seconds.saturating_add(5),
        ),
        (
            "memory",
            Resource::As,
            confinement.memory_bytes,
            confinement.memory_bytes,
        ),
    ];
    for (name, resource, current, maximum) in limits {
        limit(resource, current, maximum).map_err(|e| step(name)(format_args!("{e}")))?;
    }
    let landlock = landlock()?;
    let arch = Arch::native().ok_or(LockdownError::Architecture(std::env::consts::ARCH))?;
    let own = rustix::process::getpid().as_raw_nonzero().get();
    let programs =
        policy::programs(arch, own).map_err(|e| step("the seccomp policy")(format_args!("{e}")))?;
    for program in &programs {
        seccompiler::apply_filter_all_threads(program)
            .map_err(|e| step("the seccomp filter")(format_args!("{e}")))?;
    }
    Ok(Applied { landlock })
}

/// The descriptors open beyond 0, 1 and 2 (without the listing's own), with what each is.
fn extra_descriptors() -> Result<Vec<(i32, String)>, LockdownError> {
    let listing = std::fs::read_dir("/proc/self/fd")
        .map_err(|e| step("listing the open descriptors")(format_args!("{e}")))?;
    let mut out = Vec::new();
    for entry in listing.flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let target = std::fs::read_link(entry.path()).unwrap_or_default();
        if fd > 2 && !target.to_string_lossy().ends_with("/fd") {
            out.push((fd, target.display().to_string()));
        }
    }
    Ok(out)
}

/// Closes every descriptor this process was started with beyond 0, 1 and 2: one the
/// server (or whatever started the server) left open without close-on-exec would
/// otherwise be in the worker's reach. Call first thing, before any library opens one.
///
/// # Errors
/// The descriptors cannot be listed.
pub fn close_inherited_descriptors() -> Result<(), LockdownError> {
    for (fd, _) in extra_descriptors()? {
        // SAFETY: at the start of the worker's main, a descriptor above 2 was inherited
        // from the parent: nothing in this process owns or uses it, so taking ownership
        // and closing it cannot close a descriptor something else relies on.
        #[allow(unsafe_code)]
        let inherited =
            unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        drop(inherited);
    }
    Ok(())
}

/// Refuses to go on with any descriptor open beyond 0, 1 and 2 (a database or socket of
/// the server's, handed down by mistake, would be in the worker's reach).
fn only_standard_descriptors() -> Result<(), LockdownError> {
    match extra_descriptors()?.first() {
        Some((fd, what)) => Err(LockdownError::InheritedDescriptor(format!("{fd} ({what})"))),
        None => Ok(()),
    }
}

/// Every file and network right handled and none granted; signals and abstract sockets
/// scoped to the worker. Best effort: the status says how much the kernel enforced.
fn landlock() -> Result<String, LockdownError> {
    let abi = ABI::V6;
    let fail = |e: landlock::RulesetError| step("Landlock")(format_args!("{e}"));
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .map_err(fail)?
        .handle_access(AccessNet::from_all(abi))
        .map_err(fail)?
        .scope(Scope::from_all(abi))
        .map_err(fail)?
        .create()
        .map_err(fail)?
        .restrict_self()
        .map_err(fail)?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => "full",
        RulesetStatus::PartiallyEnforced => "partial",
        RulesetStatus::NotEnforced => "none",
    }
    .to_owned())
}
