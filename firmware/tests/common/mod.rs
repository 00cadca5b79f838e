#![allow(dead_code)]

pub mod fake_server;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "consentcam-kiosk-test-{}-{label}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A command running the kiosk binary. In the cross tests (an aarch64 build on another
/// host, run by qemu-user with the cross sysroot) a child aarch64 process cannot be
/// exec'd directly without binfmt_misc, so it goes through qemu-aarch64 there.
pub fn kiosk_command(args: &[&str]) -> std::process::Command {
    use std::path::Path;
    use std::process::Command;
    let exe = env!("CARGO_BIN_EXE_consentcam-kiosk");
    let sysroot = "/usr/aarch64-linux-gnu";
    let emulated = cfg!(target_arch = "aarch64")
        && Path::new(sysroot).join("lib").is_dir()
        && !Path::new("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists();
    let mut command = if emulated {
        let mut qemu = Command::new("qemu-aarch64");
        qemu.args(["-L", sysroot, exe]);
        qemu
    } else {
        Command::new(exe)
    };
    command.args(args);
    command
}
