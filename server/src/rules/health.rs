//! What `/health` says: the server answers, and whether what it needs is well. Pure: the
//! facts are gathered at the edge (a query, a probe of the storage, the free disk).

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// What was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub database_ok: bool,
    /// The photo storage (the data directory, or the bucket) answered in time.
    pub storage_ok: bool,
    /// Free bytes on the disk that holds the records (`None`: could not be read).
    pub free_bytes: Option<u64>,
    /// The free space a card upload never takes (`[limits] free_space_reserve_mib`).
    pub reserve_bytes: u64,
    /// When the newest backup found whole was made.
    pub newest_backup: Option<Timestamp>,
    /// A backup older than this is stale (`[backup] stale_hours`).
    pub stale_after: SignedDuration,
    pub now: Timestamp,
}

/// The answer: `ok` only when every part is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// `ok` or `failing`.
    pub database: &'static str,
    /// `ok` or `unreachable`.
    pub storage: &'static str,
    /// `ok`, `low` (under twice the reserve) or `unknown`.
    pub disk: &'static str,
    pub free_disk_mib: Option<u64>,
    /// `ok`, `stale` or `none` (never backed up).
    pub backup: &'static str,
    pub last_backup: Option<Timestamp>,
}

impl Health {
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

/// Under twice the reserve: warned of before uploads start being refused at the reserve,
/// and before the disk is full.
#[must_use]
pub fn disk_is_low(free_bytes: u64, reserve_bytes: u64) -> bool {
    free_bytes < reserve_bytes.saturating_mul(2)
}

#[must_use]
pub fn judge(f: &Facts) -> Health {
    let database = if f.database_ok { "ok" } else { "failing" };
    let storage = if f.storage_ok { "ok" } else { "unreachable" };
    // Warn before uploads start being refused at the reserve.
    let disk = match f.free_bytes {
        None => "unknown",
        Some(free) if disk_is_low(free, f.reserve_bytes) => "low",
        Some(_) => "ok",
    };
    let backup = match f.newest_backup {
        None => "none",
        Some(made) if f.now.duration_since(made) > f.stale_after => "stale",
        Some(_) => "ok",
    };
    let all_ok = [database, storage, disk, backup].iter().all(|s| *s == "ok");
    Health {
        status: if all_ok { "ok" } else { "degraded" },
        database,
        storage,
        disk,
        free_disk_mib: f.free_bytes.map(|b| b / (1024 * 1024)),
        backup,
        last_backup: f.newest_backup,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_is_judged_and_any_one_wrong_degrades() {
        let now: Timestamp = "2026-12-06T12:00:00Z".parse().unwrap();
        let well = Facts {
            database_ok: true,
            storage_ok: true,
            free_bytes: Some(10 << 30),
            reserve_bytes: 1 << 30,
            newest_backup: Some("2026-12-06T02:30:00Z".parse().unwrap()),
            stale_after: SignedDuration::from_hours(36),
            now,
        };
        type Holds = fn(&Health) -> bool;
        let cases: [(&str, Facts, Holds); 8] = [
            ("all well", well, |h| {
                h.is_ok() && h.free_disk_mib == Some(10240)
            }),
            (
                "database",
                Facts {
                    database_ok: false,
                    ..well
                },
                |h| h.database == "failing",
            ),
            (
                "storage",
                Facts {
                    storage_ok: false,
                    ..well
                },
                |h| h.storage == "unreachable",
            ),
            (
                "disk under twice the reserve",
                Facts {
                    free_bytes: Some((2 << 30) - 1),
                    ..well
                },
                |h| h.disk == "low",
            ),
            (
                "disk unreadable",
                Facts {
                    free_bytes: None,
                    ..well
                },
                |h| h.disk == "unknown",
            ),
            (
                "never backed up",
                Facts {
                    newest_backup: None,
                    ..well
                },
                |h| h.backup == "none",
            ),
            (
                "backup two days old",
                Facts {
                    newest_backup: Some("2026-12-04T11:00:00Z".parse().unwrap()),
                    ..well
                },
                |h| h.backup == "stale",
            ),
            (
                "backup 35 hours old",
                Facts {
                    newest_backup: Some("2026-12-05T01:00:00Z".parse().unwrap()),
                    ..well
                },
                |h| h.is_ok(),
            ),
        ];
        for (name, facts, holds) in cases {
            let health = judge(&facts);
            assert!(holds(&health), "{name}: {health:?}");
            if name != "all well" && name != "backup 35 hours old" {
                assert_eq!(health.status, "degraded", "{name}");
            }
        }
    }
}
