//! The `consentcam` commands, one module per family; `main.rs` parses the command line
//! and calls one of them. Each opens what it needs, calls the library's operations and
//! prints what they did.

pub(crate) mod people;
pub(crate) mod photos;
pub(crate) mod records;
pub(crate) mod registry;
pub(crate) mod server;

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, Result, bail};
use consentcam::infra::config::Config;
use consentcam::infra::password;
use consentcam::store;

use crate::Cli;

pub(crate) fn load_config(cli: &Cli) -> Result<Config> {
    let mut config = match &cli.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(dir) = &cli.data_dir {
        config.data_dir = dir.clone();
    }
    Ok(config)
}

pub(crate) fn open_db(config: &Config) -> Result<rusqlite::Connection> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {} (set data_dir in the config or --data-dir)",
            config.data_dir.display()
        )
    })?;
    store::open(&config.db_path()).with_context(|| {
        format!(
            "cannot open the records database {}",
            config.db_path().display()
        )
    })
}

/// A new password: at a terminal, typed twice without being shown (a mismatch changes
/// nothing); otherwise one line of standard input (a script's pipe).
pub(crate) fn read_password() -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let first = rpassword::prompt_password(format!(
            "Password (at least {} characters, not shown): ",
            password::MIN_PASSWORD_CHARS
        ))
        .context("cannot read the password from the terminal")?;
        let again = rpassword::prompt_password("The same password again: ")
            .context("cannot read the password from the terminal")?;
        if first != again {
            bail!("the two passwords differ; nothing was changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
