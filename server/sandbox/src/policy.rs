//! The seccomp policy of a locked-down worker: the system calls it may never make, by name,
//! compiled for x86_64 or aarch64 (a name is the same call on both; the numbers differ).
//!
//! A block list, ended by the kernel killing the process (`SIGSYS`): a decoder that tries
//! to open a file, make or use a socket, start a program, start another process, reach
//! another process (signals, `ptrace`, its memory), or the kernel's wider surface
//! (`io_uring`, `bpf`, modules, mounts, namespaces) dies at that call, and its death says
//! why. Everything a decoder needs (memory, threads, reading and writing the descriptors it
//! was given, time) stays allowed. A second filter answers `clone3` with "not implemented"
//! so the C library falls back to `clone`, whose flags a filter can read: `clone` is
//! allowed for threads only.

use seccompiler::{BpfProgram, TargetArch};

/// An architecture the policy is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// x86-64 (a VM).
    X86_64,
    /// AArch64 (a Raspberry Pi).
    Aarch64,
}

impl Arch {
    /// The architecture this program runs on, if the policy knows it.
    #[must_use]
    pub fn native() -> Option<Self> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Self::X86_64),
            "aarch64" => Some(Self::Aarch64),
            _ => None,
        }
    }

    fn target(self) -> TargetArch {
        match self {
            Self::X86_64 => TargetArch::x86_64,
            Self::Aarch64 => TargetArch::aarch64,
        }
    }
}

/// `CLONE_THREAD`: a new thread of this process, not a new process.
const CLONE_THREAD: u64 = 0x0001_0000;
/// `ENOSYS`: the answer to `clone3`.
const ENOSYS: i32 = 38;

/// Calls never allowed, on every architecture.
const FORBIDDEN: &[&str] = &[
    // Files: opening, making, changing or removing one by name.
    "openat",
    "openat2",
    "open_by_handle_at",
    "name_to_handle_at",
    "mknodat",
    "unlinkat",
    "renameat",
    "renameat2",
    "mkdirat",
    "linkat",
    "symlinkat",
    "fchmodat",
    "fchmodat2",
    "fchownat",
    "truncate",
    "memfd_create",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    // The network and other processes' sockets.
    "socket",
    "socketpair",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    // Programs and other processes.
    "execve",
    "execveat",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "tkill",
    "pidfd_open",
    "pidfd_send_signal",
    "pidfd_getfd",
    "setns",
    "unshare",
    // The kernel's wider surface.
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "personality",
];

/// The same, for the calls only x86-64 has (older forms of the ones above).
const FORBIDDEN_X86_64: &[&str] = &[
    "open", "creat", "mknod", "unlink", "rename", "mkdir", "rmdir", "link", "symlink", "chmod",
    "chown", "lchown", "fork", "vfork",
];

/// Why the policy could not be built.
#[derive(Debug, thiserror::Error)]
#[error("the seccomp policy does not compile for {arch:?}: {detail}")]
pub struct PolicyError {
    arch: Arch,
    detail: String,
}

/// The policy as seccompiler's JSON, for a process whose id is `own_pid` (it may signal
/// itself, as `abort` does, and nobody else).
fn json(arch: Arch, own_pid: i32) -> serde_json::Value {
    let mut forbidden: Vec<serde_json::Value> = FORBIDDEN
        .iter()
        .chain(if arch == Arch::X86_64 {
            FORBIDDEN_X86_64
        } else {
            &[]
        })
        .map(|name| serde_json::json!({ "syscall": name }))
        .collect();
    let not_own = |index: u8| serde_json::json!([{ "index": index, "type": "dword", "op": "ne", "val": own_pid }]);
    forbidden.push(serde_json::json!({ "syscall": "kill", "args": not_own(0) }));
    forbidden.push(serde_json::json!({ "syscall": "tgkill", "args": not_own(0) }));
    forbidden.push(serde_json::json!({
        "syscall": "clone",
        "args": [{ "index": 0, "type": "qword", "op": { "masked_eq": CLONE_THREAD }, "val": 0 }],
    }));
    serde_json::json!({
        "confine": {
            "mismatch_action": "allow",
            "match_action": "kill_process",
            "filter": forbidden,
        },
        "clone3": {
            "mismatch_action": "allow",
            "match_action": { "errno": ENOSYS },
            "filter": [{ "syscall": "clone3" }],
        },
    })
}

/// The filters to install, in order: the block list, then `clone3`'s answer.
///
/// # Errors
/// A name the architecture does not know (a mistake in the lists above).
pub fn programs(arch: Arch, own_pid: i32) -> Result<Vec<BpfProgram>, PolicyError> {
    let text = json(arch, own_pid).to_string();
    let mut compiled =
        seccompiler::compile_from_json(text.as_bytes(), arch.target()).map_err(|e| {
            PolicyError {
                arch,
                detail: e.to_string(),
            }
        })?;
    ["confine", "clone3"]
        .iter()
        .map(|name| {
            compiled.remove(*name).ok_or_else(|| PolicyError {
                arch,
                detail: format!("no filter named {name}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use seccompiler::sock_filter;

    const RET_KILL_PROCESS: u32 = 0x8000_0000;
    const RET_ERRNO: u32 = 0x0005_0000;
    const RET_ALLOW: u32 = 0x7fff_0000;
    const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
    const AUDIT_ARCH_AARCH64: u32 = 183 | 0x8000_0000 | 0x4000_0000;

    /// Runs a classic BPF program on a `seccomp_data` as the kernel would: the call's
    /// number, the architecture, and six arguments.
    fn run(program: &[sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let mut data = Vec::with_capacity(64);
        data.extend_from_slice(&nr.to_le_bytes());
        data.extend_from_slice(&arch.to_le_bytes());
        data.extend_from_slice(&0u64.to_le_bytes());
        for a in args {
            data.extend_from_slice(&a.to_le_bytes());
        }
        let (mut acc, mut pc) = (0u32, 0usize);
        loop {
            let i = &program[pc];
            let k = i.k;
            pc += 1;
            match i.code {
                // LD | W | ABS
                0x20 => {
                    let at = k as usize;
                    acc = u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
                }
                // ALU | AND | K
                0x54 => acc &= k,
                // JMP | JA
                0x05 => pc += k as usize,
                // JMP | JEQ, JGT, JGE | K
                0x15 | 0x25 | 0x35 => {
                    let taken = match i.code {
                        0x15 => acc == k,
                        0x25 => acc > k,
                        _ => acc >= k,
                    };
                    pc += usize::from(if taken { i.jt } else { i.jf });
                }
                // RET | K
                0x06 => return k,
                other => panic!("an instruction the test does not know: {other:#x}"),
            }
        }
    }

    /// A few calls' numbers, from the kernel's tables for each architecture.
    struct Numbers {
        audit: u32,
        read: u32,
        write: u32,
        mmap: u32,
        openat: u32,
        socket: u32,
        connect: u32,
        execve: u32,
        clone: u32,
        clone3: u32,
        kill: u32,
        tgkill: u32,
        io_uring_setup: u32,
    }

    const X86_64: Numbers = Numbers {
        audit: AUDIT_ARCH_X86_64,
        read: 0,
        write: 1,
        mmap: 9,
        openat: 257,
        socket: 41,
        connect: 42,
        execve: 59,
        clone: 56,
        clone3: 435,
        kill: 62,
        tgkill: 234,
        io_uring_setup: 425,
    };

    const AARCH64: Numbers = Numbers {
        audit: AUDIT_ARCH_AARCH64,
        read: 63,
        write: 64,
        mmap: 222,
        openat: 56,
        socket: 198,
        connect: 203,
        execve: 221,
        clone: 220,
        clone3: 435,
        kill: 129,
        tgkill: 131,
        io_uring_setup: 425,
    };

    fn verdicts(arch: Arch, n: &Numbers) {
        let pid = 4242;
        let programs = programs(arch, pid).unwrap();
        // The kernel runs every filter and keeps the strictest answer.
        let judge = |nr: u32, args: [u64; 6]| {
            let answers: Vec<u32> = programs.iter().map(|p| run(p, n.audit, nr, args)).collect();
            if answers.contains(&RET_KILL_PROCESS) {
                RET_KILL_PROCESS
            } else {
                answers
                    .into_iter()
                    .min_by_key(|a| if *a == RET_ALLOW { 1 } else { 0 })
                    .unwrap()
            }
        };
        let none = [0; 6];
        let thread = 0x003d_0f00; // glibc's flags for pthread_create: CLONE_THREAD among them.
        let table: &[(&str, u32, [u64; 6], u32)] = &[
            ("read", n.read, none, RET_ALLOW),
            ("write", n.write, none, RET_ALLOW),
            ("mmap", n.mmap, none, RET_ALLOW),
            ("openat", n.openat, none, RET_KILL_PROCESS),
            ("socket", n.socket, none, RET_KILL_PROCESS),
            ("connect", n.connect, none, RET_KILL_PROCESS),
            ("execve", n.execve, none, RET_KILL_PROCESS),
            ("io_uring_setup", n.io_uring_setup, none, RET_KILL_PROCESS),
            (
                "clone for a thread",
                n.clone,
                [thread, 0, 0, 0, 0, 0],
                RET_ALLOW,
            ),
            (
                "clone for a process",
                n.clone,
                [17, 0, 0, 0, 0, 0],
                RET_KILL_PROCESS,
            ),
            ("clone3", n.clone3, none, RET_ERRNO | 38),
            ("kill of itself", n.kill, [4242, 6, 0, 0, 0, 0], RET_ALLOW),
            (
                "kill of another",
                n.kill,
                [4241, 9, 0, 0, 0, 0],
                RET_KILL_PROCESS,
            ),
            (
                "kill of every process",
                n.kill,
                [u64::from(u32::MAX), 9, 0, 0, 0, 0],
                RET_KILL_PROCESS,
            ),
            (
                "tgkill of itself (abort)",
                n.tgkill,
                [4242, 4242, 6, 0, 0, 0],
                RET_ALLOW,
            ),
            (
                "tgkill of another",
                n.tgkill,
                [1, 1, 9, 0, 0, 0],
                RET_KILL_PROCESS,
            ),
        ];
        for (what, nr, args, expected) in table {
            assert_eq!(judge(*nr, *args), *expected, "{arch:?}: {what}");
        }
        // Another architecture's calls (a 32-bit entry) are refused outright.
        let foreign = run(&programs[0], 0x4000_0003, n.read, none);
        assert_ne!(
            foreign, RET_ALLOW,
            "{arch:?}: a foreign architecture's call"
        );
    }

    #[test]
    fn the_x86_64_filter_allows_decoding_and_kills_files_sockets_exec_and_processes() {
        verdicts(Arch::X86_64, &X86_64);
    }

    #[test]
    fn the_aarch64_filter_allows_decoding_and_kills_files_sockets_exec_and_processes() {
        verdicts(Arch::Aarch64, &AARCH64);
    }

    #[test]
    fn x86_64_only_calls_are_in_its_filter_and_not_asked_of_aarch64() {
        // `open` (2) exists on x86-64 only; aarch64 has no such name and must still build.
        let x86 = programs(Arch::X86_64, 1).unwrap();
        assert_eq!(run(&x86[0], AUDIT_ARCH_X86_64, 2, [0; 6]), RET_KILL_PROCESS);
        assert!(programs(Arch::Aarch64, 1).is_ok());
    }
}
