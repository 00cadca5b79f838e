//! The dashboard (who has what, overdue devices, work waiting), a device's custody history
//! and the takedown tasks.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use tower_sessions::Session;

use super::chrome::{Chrome, PageError, finish, render};
use crate::domain::DeviceId;
use crate::store::publications;
use crate::store::{custody, overview, people, registry, requests, sites};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::error::ApiError;

/// One sign-out, ready to show.
pub struct CustodyRow {
    pub session_id: i64,
    pub device_id: i64,
    pub device: String,
    pub holder_id: i64,
    pub holder: String,
    pub out_at: String,
    pub due_back: String,
    pub returned_at: Option<String>,
    pub overdue: bool,
    pub photos: usize,
    /// The group the sign-out was booked for: id and name.
    pub group: Option<(i64, String)>,
}

/// Turns sign-outs into rows (names and labels looked up, times made local).
pub fn custody_rows(
    state: &AppState,
    c: &rusqlite::Connection,
    sessions: Vec<custody::Session>,
) -> Result<Vec<CustodyRow>, ApiError> {
    let now = state.now();
    sessions
        .into_iter()
        .map(|s| {
            let device = registry::device(c, s.device_id)?;
            let holder = people::person(c, s.person_id)?;
            let group = match s.booking_id {
                Some(b) => {
                    let booking = crate::store::groups::booking(c, b)?;
                    Some((booking.group_id.0, booking.group_name))
                }
                None => None,
            };
            Ok(CustodyRow {
                group,
                session_id: s.id,
                device_id: device.id.0,
                device: device.label,
                holder_id: holder.id.0,
                holder: format!("{} {}", holder.given_name, holder.family_name),
                out_at: state.local_time(s.out_at),
                due_back: state.local_time(s.due_back),
                returned_at: s.returned_at.map(|t| state.local_time(t)),
                overdue: s.is_overdue(now),
                photos: overview::photo_count(c, Some(s.id))?,
            })
        })
        .collect()
}

/// A publication that has to come down.
pub struct TakedownRow {
    pub id: i64,
    pub photo_id: i64,
    pub channel: String,
    pub published_at: String,
    pub since: String,
    pub reason: String,
    /// Where the copy at the channel's web endpoint stands, when it has one: "being
    /// deleted from the website (last try: ...)" until it is gone.
    pub endpoint: Option<String>,
}

/// What a takedown's row says of the channel's web endpoint.
fn endpoint_state(delivery: Option<&str>, error: Option<&str>) -> Option<String> {
    let said = match delivery? {
        "delivered" | "removing" => "the website still has it: the server is deleting it",
        "removed" => "deleted from the website",
        "withheld" => "never sent to the website",
        _ => "not yet sent to the website, and never will be",
    };
    Some(match error {
        Some(e) if delivery != Some("removed") => format!("{said} (last try: {e})"),
        _ => said.to_owned(),
    })
}

/// The open takedown tasks an account of `site` sees (`None`: every site's).
fn takedown_rows(
    state: &AppState,
    c: &rusqlite::Connection,
    site: Option<i64>,
) -> Result<Vec<TakedownRow>, ApiError> {
    let local = |t: jiff::Timestamp| super::photos::local(state, t);
    Ok(publications::open_takedowns_in(c, site)?
        .into_iter()
        .map(|p| TakedownRow {
            id: p.id,
            photo_id: p.photo_id.0,
            channel: p.channel.code(),
            published_at: local(p.published_at),
            since: p.takedown_since.map(local).unwrap_or_default(),
            reason: p.takedown_reason.unwrap_or_default(),
            endpoint: endpoint_state(p.delivery.as_deref(), p.delivery_error.as_deref()),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    c: Chrome,
    out: Vec<CustodyRow>,
    overdue: usize,
    devices: Vec<registry::Device>,
    needs_tagging: usize,
    approvals_waiting: usize,
    takedowns: Vec<TakedownRow>,
    /// People on the renewal list (directors and admins only).
    renewals: usize,
    /// Bookings for groups in the next 24 hours (or going on now).
    bookings: Vec<super::groups::BookingRow>,
    /// The free MiB of the records' disk, when it is low (as `/health` judges it).
    disk_low_mib: Option<u64>,
    reserve_mib: u64,
}

pub async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let oversight = c.is_oversight();
    let st = state.clone();
    let now = state.now();
    // An account of a site sees its site's cameras, bookings, photos and tasks only.
    let site = caller.account.site_id;
    let (out, devices, needs_tagging, approvals_waiting, takedowns, bookings) = state
        .read(move |conn| {
            let upcoming =
                crate::store::groups::upcoming(conn, now, jiff::SignedDuration::from_hours(24))?;
            let bookings = sites::retain_visible(conn, site, upcoming, |b| {
                (sites::Kind::Group, b.group_id.0)
            })?
            .into_iter()
            .map(|b| super::groups::booking_row(&st, b, now))
            .collect();
            let open = sites::retain_visible(conn, site, custody::open_sessions(conn)?, |s| {
                (sites::Kind::Device, s.device_id.0)
            })?;
            let out = custody_rows(&st, conn, open)?;
            let needs_tagging = overview::needing_tags(conn, None, site)?;
            let takedowns = if oversight {
                takedown_rows(&st, conn, site)?
            } else {
                Vec::new()
            };
            let devices = sites::retain_visible(conn, site, registry::devices(conn)?, |d| {
                (sites::Kind::Device, d.id.0)
            })?;
            let approvals = sites::retain_visible(conn, site, requests::open(conn)?, |r| {
                (sites::Kind::Photo, r.photo_id.0)
            })?;
            Ok((
                out,
                devices,
                needs_tagging,
                approvals.len(),
                takedowns,
                bookings,
            ))
        })
        .await?;
    let overdue = out.iter().filter(|o| o.overdue).count();
    let renewals = if oversight {
        super::renewals::due(&state, caller.account.site_id)
            .await?
            .len()
    } else {
        0
    };
    let limits = &state.config().limits;
    let disk_low_mib = crate::infra::files::available_bytes(&state.config().data_dir)
        .ok()
        .filter(|&free| crate::rules::health::disk_is_low(free, limits.free_space_reserve_bytes()))
        .map(|free| free / (1024 * 1024));
    render(&Dashboard {
        disk_low_mib,
        reserve_mib: limits.free_space_reserve_mib,
        renewals,
        c,
        out,
        overdue,
        devices,
        needs_tagging,
        approvals_waiting,
        takedowns,
        bookings,
    })
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    c: Chrome,
    device: registry::Device,
    history: Vec<CustodyRow>,
}

pub async fn device(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let st = state.clone();
    let (device, history) = state
        .read(move |conn| {
            let device = registry::device(conn, DeviceId(id))?;
            let mut sessions = custody::sessions_of_device(conn, DeviceId(id))?;
            sessions.reverse();
            Ok((device, custody_rows(&st, conn, sessions)?))
        })
        .await?;
    render(&DevicePage { c, device, history })
}

#[derive(Template)]
#[template(path = "takedowns.html")]
struct TakedownsPage {
    c: Chrome,
    takedowns: Vec<TakedownRow>,
}

pub async fn takedowns(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let st = state.clone();
    let site = caller.account.site_id;
    let takedowns = state
        .read(move |conn| takedown_rows(&st, conn, site))
        .await?;
    render(&TakedownsPage { c, takedowns })
}

pub async fn takedown_done(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let result = crate::web::api::photos::finish_takedown(&state, &caller, id)
        .await
        .map(|done| {
            let mut message = String::from("Taken down: ");
            message.push_str(if done.outbox_removed {
                "the outbox copy is removed"
            } else {
                "the outbox copy was already gone"
            });
            if done.endpoint_asked {
                message.push_str("; the channel's web endpoint is being asked to remove its copy");
            }
            message.push('.');
            message
        });
    finish(&session, result, "/takedowns").await
}

#[cfg(test)]
mod tests {
    use crate::store::{self, custody, overview, photos, registry};
    use crate::web::api::photos::{PhotoStatus, status};

    #[test]
    fn the_counts_agree_with_the_gallery_badges_on_the_demo_data() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::infra::config::Config {
            data_dir: dir.path().to_path_buf(),
            ..crate::infra::config::Config::default()
        };
        let mut conn = store::open(&config.db_path()).unwrap();
        let now = "2026-11-25T10:00:00Z".parse().unwrap();
        crate::demo::seed_with_photos(&mut conn, &config, now, jiff::civil::date(2026, 11, 25))
            .unwrap();
        let mut sessions = vec![None];
        for device in registry::devices(&conn).unwrap() {
            for s in custody::sessions_of_device(&conn, device.id).unwrap() {
                sessions.push(Some(s.id));
            }
        }
        for session in sessions {
            let all = photos::photos(&conn, session, 10_000).unwrap();
            let badges = all
                .iter()
                .filter(|p| status(&conn, p).unwrap() == PhotoStatus::NeedsTagging)
                .count();
            assert_eq!(
                overview::needing_tags(&conn, session, None).unwrap(),
                badges
            );
            assert_eq!(overview::photo_count(&conn, session).unwrap(), all.len());
        }
        // The photo with an unassigned face, and the class photo nobody has tagged yet.
        assert_eq!(overview::needing_tags(&conn, None, None).unwrap(), 2);
    }
}
