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
        "kiosk {} ({name}) has a new token (shown once; put it in the kiosk's token file):\n{token}",
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
    let counted = |n: i64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    for s in store::sites::summaries(&conn)? {
        println!(
            "{}\t{}\t{}, {}, {}, {}, {}, {}",
            s.id,
            s.name,
            counted(s.people, "person").replace("persons", "people"),
            counted(s.photos, "photo"),
            counted(s.accounts, "account"),
            counted(s.devices, "device"),
            counted(s.kiosks, "kiosk"),
            counted(s.groups, "group"),
        );
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
        unassigned,
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
    for name in &devices {
        records.push((
            Kind::Device,
            device_named(&conn, name)?,
            format!("device {name}"),
        ));
    }
    for name in &groups {
        records.push((
            Kind::Group,
            group_named(&conn, name)?,
            format!("group {name}"),
        ));
    }
    if unassigned {
        records.extend(
            consentcam::ops::sites::unassigned(&conn)?
                .into_iter()
                .map(|(kind, id)| (kind, id, format!("{} {id}", kind.what()))),
        );
    }
    if records.is_empty() {
        bail!(
            "name what to put in the site: --person, --account, --kiosk, --device, --group \
             or --unassigned (nothing is in no site)"
        );
    }
    let moves: Vec<(Kind, i64)> = records.iter().map(|(k, id, _)| (*k, *id)).collect();
    consentcam::ops::sites::assign_all(&mut conn, &moves, site.as_deref(), "cli", now)
        .context("nothing was moved")?;
    for (_, _, what) in &records {
        println!("{what}: {}", site.as_deref().unwrap_or("no site"));
    }
    println!("{} record(s) moved", records.len());
    Ok(())
}

/// A device named by its label, or by its id as `device-list` prints it.
fn device_named(conn: &rusqlite::Connection, name: &str) -> Result<i64> {
    let devices = registry::devices(conn)?;
    devices
        .iter()
        .find(|d| d.label == name.trim())
        .or_else(|| {
            devices
                .iter()
                .find(|d| Some(d.id.0) == name.trim().parse().ok())
        })
        .map(|d| d.id.0)
        .with_context(|| format!("no device labelled {name:?} (device-list lists them)"))
}

/// A group named by its name, or by its id as `group-list` prints it.
fn group_named(conn: &rusqlite::Connection, name: &str) -> Result<i64> {
    let groups = store::groups::groups(conn, true)?;
    groups
        .iter()
        .find(|g| g.name == name.trim())
        .or_else(|| {
            groups
                .iter()
                .find(|g| Some(g.id.0) == name.trim().parse().ok())
        })
        .map(|g| g.id.0)
        .with_context(|| format!("no group named {name:?} (group-list lists them)"))
}

/// `kiosk-list`.
pub(crate) fn kiosk_list(config: &Config) -> Result<()> {
    let conn = open_db(config)?;
    for k in registry::kiosks(&conn)? {
        println!(
            "{}\t{}\t{}",
            k.id,
            k.name,
            if k.revoked_at.is_some() {
                "revoked"
            } else {
                "active"
            }
        );
    }
    Ok(())
}

/// `device-add`.
pub(crate) fn device_add(
    config: &Config,
    device: registry::NewDevice,
    now: Timestamp,
) -> Result<()> {
    let mut conn = open_db(config)?;
    let id = consentcam::ops::registry::add_device(&mut conn, &device, "cli", None, now)?;
    println!("device {id} ({}) registered", device.label);
    Ok(())
}

/// `device-list`.
pub(crate) fn device_list(config: &Config) -> Result<()> {
    let conn = open_db(config)?;
    for d in registry::devices(&conn)? {
        println!(
            "{}\t{}\t{}\t{} min",
            d.id, d.label, d.tag_uid, d.loan_minutes
        );
    }
    Ok(())
}

/// `badge-add UID --person REF [--may-sign-out]`.
pub(crate) fn badge_add(
    config: &Config,
    uid: &str,
    reference: &str,
    may_sign_out: bool,
    now: Timestamp,
) -> Result<()> {
    let uid =
        consentcam_wire::TagUid::parse(uid).map_err(|e| anyhow::anyhow!("badge {uid:?}: {e}"))?;
    let mut conn = open_db(config)?;
    let person = store::people::person_by_ref(&conn, reference)?
        .with_context(|| format!("no person with the reference {reference:?}"))?;
    let id = consentcam::ops::registry::enrol_badge(&mut conn, &uid, person.id, "cli", now)?;
    println!("badge {id} enrolled for {reference}");
    if may_sign_out && !person.may_sign_out {
        let policy = config.policy();
        let today =
            jiff::Zoned::new(now, consentcam::infra::clock::time_zone(&config.time_zone)).date();
        consentcam::ops::people::update_person(
            &mut conn,
            person.id,
            &store::people::NewPerson {
                ext_ref: consentcam::domain::ExternalRef::parse(&person.ext_ref)?,
                given_name: consentcam::domain::Name::parse(&person.given_name)?,
                family_name: consentcam::domain::Name::parse(&person.family_name)?,
                date_of_birth: person.date_of_birth,
                role: person.role,
                vulnerable: person.vulnerable,
                may_sign_out: true,
            },
            "",
            "cli",
            now,
            &consentcam::ops::people::AsOf {
                today,
                policy: &policy,
            },
        )?;
        println!("{reference} may now sign devices out");
    }
    Ok(())
}

/// `badge-list`.
pub(crate) fn badge_list(config: &Config) -> Result<()> {
    let conn = open_db(config)?;
    for b in registry::badges(&conn)? {
        let person = store::people::person(&conn, b.person_id)?;
        println!(
            "{}\t{}\t{}\t{}",
            b.id,
            b.uid,
            person.ext_ref,
            if b.active { "active" } else { "off" }
        );
    }
    Ok(())
}

/// `group-add NAME [--person REF,...]`.
pub(crate) fn group_add(
    config: &Config,
    name: &str,
    references: &[String],
    now: Timestamp,
) -> Result<()> {
    let mut conn = open_db(config)?;
    let mut members = Vec::new();
    for r in references {
        let p = store::people::person_by_ref(&conn, r)?
            .with_context(|| format!("no person with the reference {r:?}; no group was made"))?;
        members.push(p.id);
    }
    let id = consentcam::ops::groups::create_group(&mut conn, name, "cli", None, now)?;
    let added = consentcam::ops::groups::add_members(&mut conn, id, &members, "cli", now)?;
    println!("group {id} ({}) made with {added} member(s)", name.trim());
    Ok(())
}

/// `group-list`.
pub(crate) fn group_list(config: &Config) -> Result<()> {
    let conn = open_db(config)?;
    for g in store::groups::groups(&conn, true)? {
        println!(
            "{}\t{}\t{} member(s){}",
            g.id,
            g.name,
            g.members,
            if g.archived { "\tarchived" } else { "" }
        );
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
