//! Which reminders are due, to whom, and what they say: pure. The worker gathers the
//! counts, asks [`plan`] and queues what it gives; each reminder's key makes the outbox
//! take it once.
//!
//! A reminder says how many and links to the page; it never names a person, shows a
//! photo or a date of birth, and counts only what the recipient's site and role may see.

use std::collections::BTreeMap;

use jiff::civil::DateTime;
use jiff::{SignedDuration, Timestamp};

use crate::domain::AccountRole;

/// The reminders there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A device past its due time: to whoever holds it, at once and then daily; to
    /// directors once it is past the grace period.
    DeviceOverdue,
    /// Photos waiting for a director's approval: a daily digest to directors.
    ApprovalsWaiting,
    /// Open takedown tasks: to admins when one opens, and daily while any is open.
    Takedowns,
    /// Consent forms lapsing soon and learners turning 18 with only a parent's form: a
    /// weekly digest to admins.
    Renewals,
    /// Messages the mail server refused or that could not be sent in time: daily to
    /// admins.
    MailFailed,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::DeviceOverdue,
        Kind::ApprovalsWaiting,
        Kind::Takedowns,
        Kind::Renewals,
        Kind::MailFailed,
    ];

    /// Its name in the records and forms.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Kind::DeviceOverdue => "device_overdue",
            Kind::ApprovalsWaiting => "approvals_waiting",
            Kind::Takedowns => "takedowns",
            Kind::Renewals => "renewals",
            Kind::MailFailed => "mail_failed",
        }
    }

    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// What the account page calls it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Kind::DeviceOverdue => "A device is overdue (one you hold, or any for directors)",
            Kind::ApprovalsWaiting => "Photos waiting for approval (daily)",
            Kind::Takedowns => "Takedown tasks (when one opens, then daily)",
            Kind::Renewals => "Consent lapsing and learners turning 18 (weekly)",
            Kind::MailFailed => "Mail that could not be delivered (daily)",
        }
    }

    /// Whether an account of `role` may get it at all: the page it links to is one the
    /// role may open.
    #[must_use]
    pub fn open_to(self, role: AccountRole) -> bool {
        match self {
            Kind::DeviceOverdue => true,
            Kind::ApprovalsWaiting => role == AccountRole::Director,
            Kind::Takedowns | Kind::Renewals => {
                matches!(role, AccountRole::Director | AccountRole::Admin)
            }
            Kind::MailFailed => role == AccountRole::Admin,
        }
    }

    /// Whether it is on for `role` until the account says otherwise.
    #[must_use]
    pub fn on_by_default(self, role: AccountRole) -> bool {
        match self {
            Kind::DeviceOverdue => true,
            Kind::ApprovalsWaiting => role == AccountRole::Director,
            Kind::Takedowns | Kind::Renewals | Kind::MailFailed => role == AccountRole::Admin,
        }
    }
}

/// An account that may get reminders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub account: i64,
    pub role: AccountRole,
    /// `None`: sees every site.
    pub site: Option<i64>,
    pub email: String,
    /// What the account turned on or off.
    pub chosen: BTreeMap<Kind, bool>,
    /// A mail server refused the address for good: nothing goes to it until it changes.
    pub refused: bool,
}

impl Recipient {
    /// Whether the account gets `kind`.
    #[must_use]
    pub fn wants(&self, kind: Kind) -> bool {
        !self.refused
            && kind.open_to(self.role)
            && self
                .chosen
                .get(&kind)
                .copied()
                .unwrap_or_else(|| kind.on_by_default(self.role))
    }

    /// Whether a record of site `site` counts for this account.
    #[must_use]
    pub fn sees(&self, site: Option<i64>) -> bool {
        self.site.is_none() || self.site == site
    }
}

/// A device not back by its due time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    /// The sign-out.
    pub session: i64,
    pub device: i64,
    pub device_label: String,
    pub site: Option<i64>,
    pub due_back: Timestamp,
    /// The due time as the configured zone reads it (`17:00 on Mon 7 Dec`).
    pub due_local: String,
    /// The account of the person who holds it, if they have one.
    pub holder: Option<i64>,
}

/// Something counted, with the site it belongs to and an id that grows as new ones come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub id: i64,
    pub site: Option<i64>,
}

/// What the records hold now, as reminders need it. A list left empty is one not looked
/// at (see [`wanted`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub overdue: Vec<Overdue>,
    /// Open requests for publication.
    pub approvals: Vec<Item>,
    /// Open takedown tasks.
    pub takedowns: Vec<Item>,
    /// People whose form lapses soon (`id`: the person).
    pub lapsing: Vec<Item>,
    /// Learners turning 18 soon with only a parent's form.
    pub turning_18: Vec<Item>,
    /// Messages that failed.
    pub failed_mail: Vec<Item>,
}

/// When reminders go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Digests go from this hour of the local day.
    pub digest_hour: i8,
    /// Directors hear of an overdue device once it is this late.
    pub overdue_grace: SignedDuration,
}

/// One reminder to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub kind: Kind,
    pub account: i64,
    pub site: Option<i64>,
    pub to: String,
    /// Once per key, ever.
    pub key: String,
    pub subject: String,
    /// The body's sentences, without the link.
    pub lines: Vec<String>,
    /// The page it points to, under the server's address (`/approvals`).
    pub path: String,
}

/// The period a digest belongs to, if it is time for it: the local date for a daily
/// one, the ISO week for a weekly one; none before the digest hour.
fn period(kind: Kind, local: DateTime, schedule: Schedule) -> Option<String> {
    if local.hour() < schedule.digest_hour {
        return None;
    }
    Some(match kind {
        Kind::Renewals => {
            let week = local.date().iso_week_date();
            format!("{}-W{:02}", week.year(), week.week())
        }
        _ => local.date().to_string(),
    })
}

/// Which kinds' facts [`plan`] needs now: one is wanted by someone, and for digests it
/// is time. The worker gathers only these (the renewal list reads every person).
#[must_use]
pub fn wanted(recipients: &[Recipient], local: DateTime, schedule: Schedule) -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|&kind| recipients.iter().any(|r| r.wants(kind)))
        .filter(|&kind| match kind {
            Kind::DeviceOverdue | Kind::Takedowns => true,
            _ => period(kind, local, schedule).is_some(),
        })
        .collect()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The reminders due at `now` (`local`: the same instant in the configured zone).
#[must_use]
pub fn plan(
    recipients: &[Recipient],
    facts: &Facts,
    now: Timestamp,
    local: DateTime,
    schedule: Schedule,
) -> Vec<Reminder> {
    let today = local.date().to_string();
    let mut out = Vec::new();
    for r in recipients {
        let mut add = |kind: Kind, key: String, subject: String, lines: Vec<String>, path: &str| {
            out.push(Reminder {
                kind,
                account: r.account,
                site: r.site,
                to: r.email.clone(),
                key: format!("{}:{}:{key}", kind.code(), r.account),
                subject,
                lines,
                path: path.to_owned(),
            });
        };
        if r.wants(Kind::DeviceOverdue) {
            // The holder: each device they hold, at once and then daily.
            for o in facts
                .overdue
                .iter()
                .filter(|o| o.holder == Some(r.account) && o.due_back <= now)
            {
                add(
                    Kind::DeviceOverdue,
                    format!("held:{}:{today}", o.session),
                    format!("{} is overdue: please bring it back", o.device_label),
                    vec![format!(
                        "The device you signed out, {}, was due back at {} and has not \
                         been signed in.",
                        o.device_label, o.due_local
                    )],
                    &format!("/devices/{}", o.device),
                );
            }
            // Directors: every device of their site past the grace period; again when
            // another one joins, and daily.
            if r.role == AccountRole::Director {
                let late: Vec<&Overdue> = facts
                    .overdue
                    .iter()
                    .filter(|o| r.sees(o.site))
                    .filter(|o| {
                        o.due_back
                            .checked_add(schedule.overdue_grace)
                            .is_ok_and(|t| t <= now)
                    })
                    .collect();
                if let Some(newest) = late.iter().map(|o| o.session).max() {
                    let count = plural(late.len(), "device is", "devices are");
                    add(
                        Kind::DeviceOverdue,
                        format!("all:{today}:{newest}"),
                        format!("{count} overdue"),
                        vec![format!(
                            "{count} still signed out, more than {} hours past the time \
                             they were due back.",
                            schedule.overdue_grace.as_hours()
                        )],
                        "/",
                    );
                }
            }
        }
        let seen = |items: &[Item]| -> Vec<Item> {
            items.iter().copied().filter(|i| r.sees(i.site)).collect()
        };
        if r.wants(Kind::ApprovalsWaiting)
            && let Some(day) = period(Kind::ApprovalsWaiting, local, schedule)
        {
            let waiting = seen(&facts.approvals);
            if !waiting.is_empty() {
                let count = plural(waiting.len(), "request", "requests");
                add(
                    Kind::ApprovalsWaiting,
                    day,
                    format!("{count} for publication waiting for your approval"),
                    vec![format!(
                        "{count} to publish a photo are waiting for a director's decision."
                    )],
                    "/approvals",
                );
            }
        }
        if r.wants(Kind::Takedowns) {
            let open = seen(&facts.takedowns);
            if let Some(newest) = open.iter().map(|i| i.id).max() {
                let count = plural(open.len(), "takedown task is", "takedown tasks are");
                add(
                    Kind::Takedowns,
                    format!("{today}:{newest}"),
                    format!("{count} open"),
                    vec![format!(
                        "{count} open: a published photo must come down from where it \
                         was published."
                    )],
                    "/takedowns",
                );
            }
        }
        if r.wants(Kind::Renewals)
            && let Some(week) = period(Kind::Renewals, local, schedule)
        {
            let (lapsing, adult) = (seen(&facts.lapsing), seen(&facts.turning_18));
            if !lapsing.is_empty() || !adult.is_empty() {
                let mut lines = Vec::new();
                if !lapsing.is_empty() {
                    lines.push(format!(
                        "{} soon.",
                        plural(lapsing.len(), "consent form lapses", "consent forms lapse")
                    ));
                }
                if !adult.is_empty() {
                    lines.push(format!(
                        "{} 18 soon with only a parent's form: they need their own.",
                        plural(adult.len(), "learner turns", "learners turn")
                    ));
                }
                add(
                    Kind::Renewals,
                    week,
                    format!(
                        "Consent to renew: {}",
                        plural(lapsing.len() + adult.len(), "person", "people")
                    ),
                    lines,
                    "/renewals",
                );
            }
        }
        if r.wants(Kind::MailFailed)
            && let Some(day) = period(Kind::MailFailed, local, schedule)
        {
            let failed = seen(&facts.failed_mail);
            if !failed.is_empty() {
                let count = plural(failed.len(), "message", "messages");
                add(
                    Kind::MailFailed,
                    day,
                    format!("{count} could not be delivered"),
                    vec![format!(
                        "{count} from consentcam could not be delivered; an address may \
                         need correcting."
                    )],
                    "/admin/mail",
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(local: &str) -> (Timestamp, DateTime) {
        let dt: DateTime = local.parse().unwrap();
        (
            dt.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp(),
            dt,
        )
    }

    fn recipient(account: i64, role: AccountRole, site: Option<i64>) -> Recipient {
        Recipient {
            account,
            role,
            site,
            email: format!("a{account}@school.example"),
            chosen: BTreeMap::new(),
            refused: false,
        }
    }

    const SCHEDULE: Schedule = Schedule {
        digest_hour: 7,
        overdue_grace: SignedDuration::from_hours(12),
    };

    fn keys(reminders: &[Reminder]) -> Vec<String> {
        reminders.iter().map(|r| r.key.clone()).collect()
    }

    #[test]
    fn defaults_follow_the_role_and_a_choice_overrides_them() {
        let mut staff = recipient(1, AccountRole::Staff, None);
        let director = recipient(2, AccountRole::Director, None);
        let admin = recipient(3, AccountRole::Admin, None);
        // (kind, staff, director, admin)
        let table = [
            (Kind::DeviceOverdue, true, true, true),
            (Kind::ApprovalsWaiting, false, true, false),
            (Kind::Takedowns, false, false, true),
            (Kind::Renewals, false, false, true),
            (Kind::MailFailed, false, false, true),
        ];
        for (kind, s, d, a) in table {
            assert_eq!(
                (staff.wants(kind), director.wants(kind), admin.wants(kind)),
                (s, d, a),
                "{kind:?}"
            );
        }
        // A staff account cannot turn on what links to a page it may not open.
        staff.chosen.insert(Kind::ApprovalsWaiting, true);
        staff.chosen.insert(Kind::DeviceOverdue, false);
        assert!(!staff.wants(Kind::ApprovalsWaiting));
        assert!(!staff.wants(Kind::DeviceOverdue));
        let mut refused = admin.clone();
        refused.refused = true;
        assert!(Kind::ALL.iter().all(|&k| !refused.wants(k)));
    }

    #[test]
    fn an_overdue_device_reaches_its_holder_at_once_and_directors_after_the_grace() {
        let holder = recipient(1, AccountRole::Staff, Some(1));
        let north_director = recipient(2, AccountRole::Director, Some(1));
        let south_director = recipient(3, AccountRole::Director, Some(2));
        let trust_director = recipient(4, AccountRole::Director, None);
        let everyone = [holder, north_director, south_director, trust_director];
        let (due, _) = at("2026-12-07T17:00:00");
        let facts = Facts {
            overdue: vec![Overdue {
                session: 9,
                device: 3,
                device_label: "Camera 1".into(),
                site: Some(1),
                due_back: due,
                due_local: "17:00 on Mon 7 Dec".into(),
                holder: Some(1),
            }],
            ..Facts::default()
        };
        // (local time, keys)
        let cases: [(&str, Vec<&str>); 4] = [
            ("2026-12-07T16:59:00", vec![]),
            (
                "2026-12-07T17:30:00",
                vec!["device_overdue:1:held:9:2026-12-07"],
            ),
            (
                "2026-12-08T05:00:00",
                vec![
                    "device_overdue:1:held:9:2026-12-08",
                    "device_overdue:2:all:2026-12-08:9",
                    "device_overdue:4:all:2026-12-08:9",
                ],
            ),
            (
                "2026-12-08T09:00:00",
                vec![
                    "device_overdue:1:held:9:2026-12-08",
                    "device_overdue:2:all:2026-12-08:9",
                    "device_overdue:4:all:2026-12-08:9",
                ],
            ),
        ];
        for (when, expected) in cases {
            let (now, local) = at(when);
            let planned = plan(&everyone, &facts, now, local, SCHEDULE);
            assert_eq!(keys(&planned), expected, "at {when}");
        }
        let (now, local) = at("2026-12-08T09:00:00");
        let planned = plan(&everyone, &facts, now, local, SCHEDULE);
        assert_eq!(
            planned[0].subject,
            "Camera 1 is overdue: please bring it back"
        );
        assert_eq!(planned[0].path, "/devices/3");
        assert!(planned[0].lines[0].contains("due back at 17:00 on Mon 7 Dec"));
        assert_eq!(planned[1].subject, "1 device is overdue");
    }

    #[test]
    fn digests_wait_for_their_hour_count_only_the_site_and_change_key_by_period() {
        let north_admin = recipient(1, AccountRole::Admin, Some(1));
        let trust_admin = recipient(2, AccountRole::Admin, None);
        let director = recipient(3, AccountRole::Director, Some(1));
        let everyone = [north_admin, trust_admin, director];
        let item = |id, site| Item { id, site };
        let facts = Facts {
            approvals: vec![item(1, Some(1)), item(2, Some(2))],
            takedowns: vec![item(5, Some(2)), item(6, Some(1))],
            lapsing: vec![item(10, Some(1)), item(11, None)],
            turning_18: vec![item(12, Some(1))],
            failed_mail: vec![item(40, Some(2))],
            ..Facts::default()
        };
        let (now, local) = at("2026-12-09T06:00:00");
        let early = plan(&everyone, &facts, now, local, SCHEDULE);
        // Takedowns go at any hour; digests wait for 7:00.
        assert_eq!(
            keys(&early),
            ["takedowns:1:2026-12-09:6", "takedowns:2:2026-12-09:6"]
        );
        assert_eq!(early[0].subject, "1 takedown task is open");
        assert_eq!(early[1].subject, "2 takedown tasks are open");
        let (now, local) = at("2026-12-09T07:00:00");
        let planned = plan(&everyone, &facts, now, local, SCHEDULE);
        assert_eq!(
            keys(&planned),
            [
                "takedowns:1:2026-12-09:6",
                "renewals:1:2026-W50",
                "takedowns:2:2026-12-09:6",
                "renewals:2:2026-W50",
                "mail_failed:2:2026-12-09",
                "approvals_waiting:3:2026-12-09",
            ]
        );
        let north_renewals = &planned[1];
        assert_eq!(north_renewals.subject, "Consent to renew: 2 people");
        assert_eq!(
            north_renewals.lines,
            [
                "1 consent form lapses soon.",
                "1 learner turns 18 soon with only a parent's form: they need their own."
            ]
        );
        assert_eq!(planned[3].subject, "Consent to renew: 3 people");
        assert_eq!(
            planned[5].subject,
            "1 request for publication waiting for your approval"
        );
        // The same week: the weekly key is the same, so the outbox takes it once.
        let (now, local) = at("2026-12-13T20:00:00");
        let sunday = plan(&everyone, &facts, now, local, SCHEDULE);
        assert!(keys(&sunday).contains(&"renewals:1:2026-W50".to_owned()));
        assert_eq!(
            wanted(&everyone, local, SCHEDULE),
            Kind::ALL.to_vec(),
            "after the hour every kind someone wants"
        );
        let (_, local) = at("2026-12-14T06:59:00");
        assert_eq!(
            wanted(&everyone, local, SCHEDULE),
            [Kind::DeviceOverdue, Kind::Takedowns]
        );
    }
}
