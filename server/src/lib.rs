//! consentcam: camera custody and photo consent.
//!
//! Dependencies point one way: `web` and `cli` -> `import` / `publish` -> `store` and
//! `consent` -> `domain`.

pub mod archive;
pub mod backup;
pub mod clock;
pub mod config;
pub mod consent;
pub mod decisions;
pub mod demo;
pub mod domain;
pub mod erasure;
pub mod files;
pub mod groups;
pub mod import;
pub mod ingest;
pub mod kiosk_checks;
pub mod ops;
pub mod publish;
pub mod retention;
pub mod store;
pub mod subject_access;
pub mod web;

/// The server's own source files, for the tests that keep its layers in order.
#[cfg(test)]
pub(crate) mod source_tree {
    /// Every file under `src/<folder>` (`""` for all of `src`), as its path relative to
    /// that folder (`/`-separated) and its text, sorted by path.
    pub(crate) fn files(folder: &str) -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(folder);
        let mut stack = vec![root.clone()];
        let mut out = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let name = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
        out.sort();
        out
    }
}
