//! Commands about accounts, kiosks, partner organisations and sites.

use anyhow::{Context, Result, bail};
use consentcam::infra::config::Config;
use consentcam::infra::password;
use consentcam::store::{self, registry};
use jiff::Timestamp;

use super::{open_db, read_password};
use crate::UserCommand;

/// `kiosk-add NAME`.
pub(crate) fn kiosk_add(config: &Config, name: &str, now: Timestamp) -> Result<()> {
    let mut conn = open_db(config)?;
    let token = password::random_token();
    let id = consentcam::ops::registry::add_kiosk(
        &mut conn,
        name,
        &password::token_hash(&token),
        "cli",
        None,
        now,
    )?;
    println!("kiosk {id} ({name}) registered; its token (shown once):\n{token}");
    Ok(())
}

/// `kiosk-revoke NAME`.
pub(crate) fn kiosk_revoke(config: &Config, name: &str, now: Timestamp) -> Result<()> {
    let mut conn = open_db(config)?;
    let kiosk = registry::kiosk_by_name(&conn, name)?
        .with_context(|| format!("no kiosk named {name:?}"))?;
    consentcam::ops::registry::revoke_kiosk(&mut conn, kiosk.id, "cli", now)?;
    println!(
        "kiosk {} ({name}) revoked: its token no longer opens anything",
        kiosk.id
    );
    Ok(())
}

/// `kiosk-rotate NAME`.
pub(crate) fn kiosk_rotate(config: &Config, name: &str, now: Timestamp) -> Result<()> {
    let mut conn = open_db(config)?;
    let kiosk = registry::kiosk_by_name(&conn, name)?
        .with_context(|| format!("no kiosk named {name:?}"))?;
    let token = password::random_token();
    consentcam::ops::registry::rotate_kiosk(
        &mut conn,
        kiosk.id,
        &password::token_hash(&token),
        "cli",
        now,
    )?;
    println!(
        "kiosk {} ({name}) has a new token (shown once; put it in the kiosk's config):\n{token}",
        kiosk.id
    );
    Ok(())
}

/// `partner-add NAME`.
pub(crate) fn partner_add(config: &Config, name: &str, now: Timestamp) -> Result<()> {
    let mut conn = open_db(config)?;
    let id = consentcam::ops::registry::add_partner(&mut conn, name, "cli", now)?;
    println!("partner organisation {id} registered");
    Ok(())
}

/// `site-add NAME`.
pub(crate) fn site_add(config: &Config, name: &str, now: Timestamp) -> Result<()> {
    let mut conn = open_db(config)?;
    let id = consentcam::ops::sites::add_site(&mut conn, name, "cli", now)?;
    println!("site {id} added: {}", name.trim());
    Ok(())
}

/// `site-list`.
pub(crate) fn site_list(config: &Config) -> Result<()> {
    let conn = open_db(config)?;
    for site in store::sites::sites(&conn)? {
        println!("{}\t{}", site.id, site.name);
    }
    Ok(())
}

/// `site-assign`.
pub(crate) fn site_assign(config: &Config, args: crate::SiteAssign, now: Timestamp) -> Result<()> {
    let crate::SiteAssign {
        site,
        none: _,
        people,
        accounts,
        kiosks,
        devices,
        groups,
    } = args;
    use consentcam::store::sites::Kind;
    let mut conn = open_db(config)?;
    let mut records: Vec<(Kind, i64, String)> = Vec::new();
    for r in &people {
        let p = store::people::person_by_ref(&conn, r)?
            .with_context(|| format!("no person with the reference {r:?}"))?;
        records.push((Kind::Person, p.id.0, format!("person {r}")));
    }
    for name in &accounts {
        let a = registry::account_by_username(&conn, name)?
            .with_context(|| format!("no account named {name:?}"))?;
        records.push((Kind::Account, a.id.0, format!("account {name}")));
    }
    for name in &kiosks {
        let k = registry::kiosk_by_name(&conn, name)?
            .with_context(|| format!("no kiosk named {name:?}"))?;
        records.push((Kind::Kiosk, k.id, format!("kiosk {name}")));
    }
    records.extend(
        devices
            .iter()
            .map(|&d| (Kind::Device, d, format!("device {d}"))),
    );
    records.extend(
        groups
            .iter()
            .map(|&g| (Kind::Group, g, format!("group {g}"))),
    );
    if records.is_empty() {
        bail!("name what to put in the site: --person, --account, --kiosk, --device or --group");
    }
    for (kind, id, what) in records {
        consentcam::ops::sites::assign(&mut conn, kind, id, site.as_deref(), "cli", now)
            .with_context(|| format!("{what} was not moved"))?;
        println!("{what}: {}", site.as_deref().unwrap_or("no site"));
    }
    Ok(())
}

pub(crate) fn user(config: &Config, command: UserCommand, now: jiff::Timestamp) -> Result<()> {
    use consentcam::ops::registry as ops;
    let mut conn = open_db(config)?;
    let find = |conn: &rusqlite::Connection, username: &str| -> Result<registry::Account> {
        registry::account_by_username(conn, username)?
            .with_context(|| format!("no account named {username:?}"))
    };
    match command {
        UserCommand::Add { username, role } => {
            registry::check_username(&username)?;
            let hash = password::hash(&read_password()?)?;
            let account = ops::NewAccount {
                username: &username,
                password_hash: &hash,
                role,
                person: None,
            };
            let id = ops::add_account(&mut conn, &account, "cli", None, now)?;
            println!("account {id} ({username}, {role}) created");
        }
        UserCommand::List => {
            for a in registry::accounts(&conn)? {
                println!(
                    "{}\t{}\t{}{}",
                    a.id,
                    a.username,
                    a.role,
                    if a.disabled { "\tdisabled" } else { "" }
                );
            }
        }
        UserCommand::SetPassword { username } => {
            let account = find(&conn, &username)?;
            let hash = password::hash(&read_password()?)?;
            ops::set_password(&mut conn, account.id, &hash, "cli", now)?;
            println!("password changed");
        }
        UserCommand::SetEmail { username, address } => {
            let account = find(&conn, &username)?;
            ops::set_email(&mut conn, account.id, address.as_deref(), "cli", now)?;
            match address {
                Some(address) => println!("reminders for {username} go to {address}"),
                None => println!("{username} gets no reminders"),
            }
        }
        UserCommand::Disable { username } => {
            let account = find(&conn, &username)?;
            ops::update_account(&mut conn, account.id, account.role, true, None, "cli", now)?;
            println!("account {username} disabled");
        }
        UserCommand::ResetSecondFactor { username } => {
            let account = find(&conn, &username)?;
            if !account.second_factor {
                bail!("account {username} has no second factor");
            }
            ops::reset_second_factor(&mut conn, account.id, "cli", now)?;
            println!(
                "second factor of {username} turned off; its sessions have ended and it sets a new one up at /account/second-factor"
            );
        }
    }
    Ok(())
}
