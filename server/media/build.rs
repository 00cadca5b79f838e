//! Embeds the face detector's model: rustface ships it inside its crate, so ask cargo
//! where that crate's sources are and copy the model into OUT_DIR for `include_bytes!`.
//! Nothing is downloaded and nothing is committed.

use std::path::{Path, PathBuf};
use std::process::Command;

const MODEL: &str = "model/seeta_fd_frontal_v1.0.bin";

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let dir = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "rustface")
        .and_then(|p| p["manifest_path"].as_str())
        .and_then(|m| Path::new(m).parent().map(Path::to_path_buf))
        .expect("rustface is a dependency");
    let model = dir.join(MODEL);
    std::fs::copy(&model, out.join("seeta_fd_frontal_v1.0.bin"))
        .unwrap_or_else(|e| panic!("copy {}: {e}", model.display()));
    let sample = dir.join("test.png");
    std::fs::copy(&sample, out.join("group-photo.png"))
        .unwrap_or_else(|e| panic!("copy {}: {e}", sample.display()));
    println!("cargo:rustc-env=CONSENTCAM_RUSTFACE_DIR={}", dir.display());
    println!("cargo:rerun-if-changed=build.rs");
}
