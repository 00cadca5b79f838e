//! consentcam: camera custody and photo consent.
//!
//! The crate is in layers, each a folder, and a module imports only from its own layer
//! or those below it (a test enforces it, and that no modules
//! import each other round in a circle; see `layer_check.rs`):
//!
//! 1. [`domain`]: the types every layer speaks (ids, names, roles, channels).
//! 2. [`rules`]: pure rules (consent, kiosk events, retention, geometry): no I/O.
//! 3. [`store`]: SQL, and nothing else.
//! 4. [`infra`]: configuration, the photo archive, private files, the clock.
//! 5. [`ops`]: operations, the only code that writes.
//! 6. [`web`]: HTTP: extract, call one operation or read, render.
//! 7. [`demo`] and the `consentcam` binary's commands (`src/cli`): the top.

pub mod demo;
pub mod domain;
pub mod infra;
pub mod ops;
pub mod rules;
pub mod store;
pub mod web;

#[cfg(test)]
mod layer_check;

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
