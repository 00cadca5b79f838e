//! The kiosk's own view of badges, devices and who holds what: the last roster synced from
//! the server, plus the sign-outs and returns decided here since. Pure data; no I/O.
//!
//! The roster names badges and device tags by their keyed hash (see `consentcam-tagkey`):
//! a tapped UID is hashed with this kiosk's key and looked up, so no UID is kept here or
//! in the cached roster on the SD card.

use std::collections::BTreeMap;

use consentcam_tagkey::KioskKey;
use consentcam_wire::{
    BadgeKind, OpenCustody, Roster, RosterBadge, RosterBooking, RosterDevice, TagUid,
};
use jiff::Timestamp;

/// Who or what a tapped UID is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tapped {
    Unknown,
    Learner,
    Staff { person_id: i64, may_sign_out: bool },
    Device { device_id: i64 },
}

/// A device that is out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Custody {
    pub person_id: i64,
    pub since: Timestamp,
    pub due_back: Timestamp,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalRoster {
    /// The key the roster's hashes are made with; without one nothing is recognised.
    key: Option<KioskKey>,
    /// By keyed hash of the UID.
    badges: BTreeMap<String, RosterBadge>,
    /// In the order the server listed them (the order on the idle screen).
    devices: Vec<RosterDevice>,
    custody: BTreeMap<i64, Custody>,
    bookings: Vec<RosterBooking>,
    synced_at: Option<Timestamp>,
}

impl LocalRoster {
    /// An empty roster of a kiosk with `key` (before the first sync).
    pub fn empty(key: &KioskKey) -> Self {
        Self {
            key: Some(key.clone()),
            ..Self::default()
        }
    }

    /// The view of `roster`, whose hashes are made with `key`.
    pub fn from_roster(roster: &Roster, key: &KioskKey) -> Self {
        Self {
            key: Some(key.clone()),
            badges: roster
                .badges
                .iter()
                .map(|b| (b.uid_hash.clone(), b.clone()))
                .collect(),
            devices: roster.devices.clone(),
            custody: roster
                .open_custody
                .iter()
                .map(|c: &OpenCustody| {
                    (
                        c.device_id,
                        Custody {
                            person_id: c.person_id,
                            since: c.since,
                            due_back: c.due_back,
                        },
                    )
                })
                .collect(),
            bookings: roster.bookings.clone(),
            synced_at: Some(roster.generated_at),
        }
    }

    /// A newer roster from the same server, with the same key.
    pub fn refreshed(&self, roster: &Roster) -> Self {
        match &self.key {
            Some(key) => Self::from_roster(roster, key),
            None => Self::default(),
        }
    }

    /// When the server produced the roster this view started from.
    pub fn synced_at(&self) -> Option<Timestamp> {
        self.synced_at
    }

    pub fn resolve(&self, uid: &TagUid) -> Tapped {
        let Some(key) = &self.key else {
            return Tapped::Unknown;
        };
        let hash = key.tag(uid.as_str());
        if let Some(badge) = self.badges.get(&hash) {
            return match badge.kind {
                BadgeKind::Learner => Tapped::Learner,
                BadgeKind::Staff => Tapped::Staff {
                    person_id: badge.person_id,
                    may_sign_out: badge.may_sign_out,
                },
            };
        }
        match self.devices.iter().find(|d| d.tag_hash == hash) {
            Some(device) => Tapped::Device {
                device_id: device.device_id,
            },
            None => Tapped::Unknown,
        }
    }

    pub fn devices(&self) -> &[RosterDevice] {
        &self.devices
    }

    pub fn device(&self, device_id: i64) -> Option<&RosterDevice> {
        self.devices.iter().find(|d| d.device_id == device_id)
    }

    /// The screen label of a device ("Camera 1"), or its id if it left the roster.
    pub fn device_label(&self, device_id: i64) -> String {
        self.device(device_id)
            .map(|d| d.label.clone())
            .unwrap_or_else(|| format!("Device #{device_id}"))
    }

    /// The screen name of a staff member ("J. Smith"), or their id if unknown here.
    pub fn person_name(&self, person_id: i64) -> String {
        self.badges
            .values()
            .find(|b| b.person_id == person_id && !b.display_name.is_empty())
            .map(|b| b.display_name.clone())
            .unwrap_or_else(|| format!("Person #{person_id}"))
    }

    pub fn custody(&self, device_id: i64) -> Option<Custody> {
        self.custody.get(&device_id).copied()
    }

    /// The devices a person holds, in roster order.
    pub fn held_by(&self, person_id: i64) -> Vec<i64> {
        self.devices
            .iter()
            .filter(|d| {
                self.custody(d.device_id)
                    .is_some_and(|c| c.person_id == person_id)
            })
            .map(|d| d.device_id)
            .collect()
    }

    /// Devices past their due-back time at `now`, in roster order.
    pub fn overdue(&self, now: Timestamp) -> Vec<(i64, Custody)> {
        self.devices
            .iter()
            .filter_map(|d| self.custody(d.device_id).map(|c| (d.device_id, c)))
            .filter(|(_, c)| c.due_back <= now)
            .collect()
    }

    /// The booking a sign-out of `device_id` by `person_id` at `at` belongs to: the
    /// person's booking whose window holds `at`, one for this very device preferred over
    /// one for any device, then the earliest.
    pub fn booking_for(
        &self,
        person_id: i64,
        device_id: i64,
        at: Timestamp,
    ) -> Option<&RosterBooking> {
        self.bookings
            .iter()
            .filter(|b| {
                b.person_id == person_id
                    && b.device_id.is_none_or(|d| d == device_id)
                    && b.starts_at <= at
                    && at < b.ends_at
            })
            .min_by_key(|b| (b.device_id.is_none(), b.starts_at, b.booking_id))
    }

    pub fn sign_out(&mut self, device_id: i64, custody: Custody) {
        self.custody.insert(device_id, custody);
    }

    pub fn sign_in(&mut self, device_id: i64) -> Option<Custody> {
        self.custody.remove(&device_id)
    }
}
