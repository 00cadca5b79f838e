//! Seed data for `consentcam demo`: people whose consents exercise every rule, devices,
//! badges, accounts, a kiosk, custody and photos. Dates are relative to today so the
//! rules hold whenever the demo runs.
//!
//! Everything goes in through the same operations the API and CLI use (the consent forms
//! through the CSV importer), so the demo's audit log verifies. With a data directory, the
//! photos get real files (drawn scenes, [`pictures`]) in the photo store, with their
//! thumbnails and previews.

pub mod card;
pub mod pictures;

use std::path::Path;

use jiff::civil::Date;
use jiff::{Span, Timestamp, ToSpan};
use rusqlite::Connection;

use crate::domain::{AccountRole, Channel, PersonId, PhotoId};
use crate::ingest::MediaDirs;
use crate::store::{self, audit, custody, people, photos, registry};
use crate::web::password;
use crate::{groups, records};

/// What the demo prints so people can log in.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub logins: Vec<(String, String, AccountRole)>,
    pub kiosk_token: String,
}

/// The group the demo books iPad 1 for.
pub const DEMO_GROUP: &str = "L2 Construction";

/// The demo accounts' passwords (printed by the demo; never use them for real).
pub const DEMO_LOGINS: [(&str, &str, AccountRole); 3] = [
    ("staff", "staff-demo-password", AccountRole::Staff),
    ("director", "director-demo-password", AccountRole::Director),
    ("admin", "admin-demo-password", AccountRole::Admin),
];

fn ago(today: Date, span: Span) -> Date {
    today.checked_sub(span).unwrap_or(today)
}

/// The demo's consent CSV, dated around `today`.
pub fn consent_csv(today: Date) -> String {
    let d = |span: Span| ago(today, span).to_string();
    let aged = |years: i64, days: i64| ago(today, years.years().days(days)).to_string();
    let rows = [
        // A learner with a parent's consent for everything: allowed everywhere.
        format!(
            "L100,Amira,Hassan,{},learner,no,parent,Samira Hassan,{},yes,Hillside School,yes,yes,,",
            aged(15, 40),
            d(60.days())
        ),
        // Internal only: the website is withheld.
        format!(
            "L101,Ben,Carter,{},learner,no,parent,Joanne Carter,{},yes,,no,no,,",
            aged(16, 10),
            d(50.days())
        ),
        // Turned 18 last month with only a parent's form: it no longer counts.
        format!(
            "L102,Chloe,Davies,{},learner,no,parent,Mark Davies,{},yes,,yes,yes,,",
            aged(18, 30),
            d(200.days())
        ),
        // Parent says yes to all, the learner objects to social media on their own form.
        format!(
            "L103,Dev,Patel,{},learner,no,parent,Anil Patel,{},yes,Hillside School,yes,yes,,",
            aged(17, 100),
            d(90.days())
        ),
        format!(
            "L103,Dev,Patel,{},learner,no,self,,{},yes,Hillside School,yes,no,,",
            aged(17, 100),
            d(80.days())
        ),
        // Vulnerable, with full consent: never on the website or social media.
        format!(
            "L104,Ella,Brown,{},learner,yes,carer,Pat Green,{},yes,,yes,yes,,",
            aged(14, 5),
            d(30.days())
        ),
        // A form that expired last week.
        format!(
            "L105,Finn,O'Neill,{},learner,no,parent,Ruth O'Neill,{},yes,,yes,yes,{},",
            aged(15, 200),
            d(400.days()),
            d(7.days())
        ),
        // Withdrawn by the parent last week.
        format!(
            "L106,Grace,Li,{},learner,no,guardian,Wei Li,{},yes,,yes,yes,,{}",
            aged(16, 20),
            d(100.days()),
            d(7.days())
        ),
        // Staff who consented to everything.
        format!(
            "S200,Isla,Morgan,{},staff,no,self,Isla Morgan,{},yes,Hillside School;Riverside Academy,yes,yes,,",
            aged(34, 0),
            d(120.days())
        ),
        format!(
            "S201,Jack,Turner,{},staff,no,self,Jack Turner,{},yes,,no,no,,",
            aged(41, 0),
            d(120.days())
        ),
        // An employer who agreed to internal use and the website.
        format!(
            "E300,Kate,Evans,{},employer,no,self,Kate Evans,{},yes,,yes,no,,",
            aged(45, 0),
            d(20.days())
        ),
    ];
    let mut csv = String::from(
        "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on\n",
    );
    for row in rows {
        csv.push_str(&row);
        csv.push('\n');
    }
    csv
}

fn person(conn: &Connection, ext_ref: &str) -> anyhow::Result<PersonId> {
    Ok(people::person_by_ref(conn, ext_ref)?
        .ok_or_else(|| anyhow::anyhow!("demo person {ext_ref} missing"))?
        .id)
}

/// Seeds an empty database; the photos are catalogue rows without files.
pub fn seed(conn: &mut Connection, now: Timestamp, today: Date) -> anyhow::Result<Seeded> {
    seed_with_files(conn, None, now, today)
}

/// Seeds an empty database, and with `media` gives the JPEG photos real files in the
/// photo store with their renditions.
pub fn seed_with_files(
    conn: &mut Connection,
    media: Option<&MediaDirs>,
    now: Timestamp,
    today: Date,
) -> anyhow::Result<Seeded> {
    for name in ["Hillside School", "Riverside Academy"] {
        people::insert_partner(conn, name, now)?;
    }
    // Harry has no form at all.
    records::add_person(
        conn,
        &people::NewPerson {
            ext_ref: crate::domain::ExternalRef::parse("L107")?,
            given_name: crate::domain::Name::parse("Harry")?,
            family_name: crate::domain::Name::parse("Wilson")?,
            date_of_birth: ago(today, 16.years()),
            role: crate::domain::Role::Learner,
            vulnerable: false,
            may_sign_out: false,
        },
        "demo",
        now,
    )?;
    records::import_consents(conn, consent_csv(today).as_bytes(), "demo", now, today)?;

    let isla = person(conn, "S200")?;
    let jack = person(conn, "S201")?;
    let mut isla_record = people::person(conn, isla)?;
    isla_record.may_sign_out = true;
    people::update_person(
        conn,
        isla,
        &people::NewPerson {
            ext_ref: crate::domain::ExternalRef::parse(&isla_record.ext_ref)?,
            given_name: crate::domain::Name::parse(&isla_record.given_name)?,
            family_name: crate::domain::Name::parse(&isla_record.family_name)?,
            date_of_birth: isla_record.date_of_birth,
            role: isla_record.role,
            vulnerable: false,
            may_sign_out: true,
        },
        now,
    )?;

    let mut logins = Vec::new();
    let mut staff_account = None;
    for (username, pass, role) in DEMO_LOGINS {
        let hash = password::hash(pass)?;
        let person = (role == AccountRole::Staff).then_some(isla);
        let id = registry::insert_account(conn, username, &hash, role, person, now)?;
        if role == AccountRole::Staff {
            staff_account = Some(id);
        }
        logins.push((username.to_owned(), pass.to_owned(), role));
    }

    let camera = registry::insert_device(
        conn,
        &registry::NewDevice {
            label: "Camera 1".into(),
            make: "Canon".into(),
            model: "Canon EOS 250D".into(),
            serial: "012345678901".into(),
            tag_uid: consentcam_wire::TagUid::parse(consentcam_kiosk::demo::CAMERA_1)?,
            loan_minutes: 8 * 60,
        },
        now,
    )?;
    let ipad = registry::insert_device(
        conn,
        &registry::NewDevice {
            label: "iPad 1".into(),
            make: "Apple".into(),
            model: "iPad (9th generation)".into(),
            serial: "DMPXK2ABCD12".into(),
            tag_uid: consentcam_wire::TagUid::parse(consentcam_kiosk::demo::IPAD_1)?,
            loan_minutes: 4 * 60,
        },
        now,
    )?;
    registry::enrol_badge(
        conn,
        &consentcam_wire::TagUid::parse(consentcam_kiosk::demo::STAFF)?,
        isla,
        now,
    )?;
    registry::enrol_badge(
        conn,
        &consentcam_wire::TagUid::parse(consentcam_kiosk::demo::NO_PERMISSION)?,
        jack,
        now,
    )?;
    registry::enrol_badge(
        conn,
        &consentcam_wire::TagUid::parse(consentcam_kiosk::demo::LEARNER)?,
        person(conn, "L100")?,
        now,
    )?;

    let kiosk_token = password::random_token();
    let kiosk = registry::insert_kiosk(conn, "office", &password::token_hash(&kiosk_token), now)?;

    // Yesterday's trip: Camera 1 out with Isla from 09:00 to 15:00.
    let out_at = now.checked_sub(30.hours())?;
    let back_at = now.checked_sub(24.hours())?;
    let tx = conn.transaction()?;
    let events = [
        consentcam_wire::KioskEvent {
            event_id: "demo-1".into(),
            seq: 1,
            at: out_at,
            reader: "office-1".into(),
            kind: consentcam_wire::KioskEventKind::SignedOut {
                device_id: camera.0,
                person_id: isla.0,
                due_back: out_at.checked_add(8.hours())?,
                booking_id: None,
            },
        },
        consentcam_wire::KioskEvent {
            event_id: "demo-2".into(),
            seq: 2,
            at: back_at,
            reader: "office-1".into(),
            kind: consentcam_wire::KioskEventKind::Returned {
                device_id: camera.0,
                person_id: isla.0,
            },
        },
    ];
    for event in &events {
        custody::record_event(&tx, kiosk, event, now)?;
    }
    tx.commit()?;
    let session = custody::sessions_of_device(conn, camera)?
        .first()
        .map(|s| s.id)
        .ok_or_else(|| anyhow::anyhow!("demo session missing"))?;

    seed_photos(conn, media, session, camera, out_at, now, today)?;

    // Today Isla has iPad 1 booked for the L2 Construction class: signing it out at the
    // demo kiosk shows who of them must not be photographed.
    let class = groups::create_group(conn, DEMO_GROUP, "demo", now)?;
    let learners = [
        "L100", "L101", "L102", "L103", "L104", "L105", "L106", "L107",
    ]
    .iter()
    .map(|r| person(conn, r))
    .collect::<anyhow::Result<Vec<_>>>()?;
    groups::add_members(conn, class, &learners, "demo", now)?;
    groups::book(
        conn,
        &store::groups::NewBooking {
            group_id: class,
            holder: isla,
            device: Some(ipad),
            starts_at: now.checked_sub(1.hour())?,
            ends_at: now.checked_add(8.hours())?,
        },
        staff_account.ok_or_else(|| anyhow::anyhow!("demo staff account missing"))?,
        now,
    )?;
    audit::verify(conn)?;
    store::integrity_check(conn)?;
    Ok(Seeded {
        logins,
        kiosk_token,
    })
}

struct DemoPhoto<'a> {
    name: &'a str,
    people: &'a [&'a str],
    faces: usize,
    confirmed: bool,
    caption: &'a str,
    provenance: &'a str,
    format: &'a str,
}

/// Puts a demo picture into the photo store and writes its renditions; returns its hash
/// and size.
fn store_picture(media: &MediaDirs, bytes: &[u8]) -> anyhow::Result<(String, u64)> {
    let store = crate::ingest::open_store(media)?;
    let lock = store.lock()?;
    let staged = store.copy_in(&lock, bytes)?;
    let (hash, size) = (staged.hash(), staged.size());
    store.persist(&lock, staged)?;
    let analysis =
        consentcam_media::analyse_bytes(bytes, &consentcam_media::AnalysisOptions::default(), None);
    let hash = hash.to_string();
    if crate::ingest::write_renditions(media, &hash, &analysis)? != 2 {
        anyhow::bail!("a demo picture has no rendition");
    }
    Ok((hash, size))
}

#[allow(clippy::too_many_arguments)]
fn seed_photos(
    conn: &mut Connection,
    media: Option<&MediaDirs>,
    session: i64,
    camera: crate::domain::DeviceId,
    out_at: Timestamp,
    now: Timestamp,
    today: Date,
) -> anyhow::Result<()> {
    let demo_photos = [
        DemoPhoto {
            name: "IMG_0001.JPG",
            people: &["L100"],
            faces: 1,
            confirmed: true,
            caption: "Construction skills day",
            provenance: "verified",
            format: "jpeg",
        },
        DemoPhoto {
            name: "IMG_0002.JPG",
            people: &["L100", "L101", "L103"],
            faces: 3,
            confirmed: true,
            caption: "Team challenge",
            provenance: "verified",
            format: "jpeg",
        },
        DemoPhoto {
            name: "IMG_0003.JPG",
            people: &["L104"],
            faces: 1,
            confirmed: true,
            caption: "",
            provenance: "verified",
            format: "jpeg",
        },
        DemoPhoto {
            name: "IMG_0004.JPG",
            people: &["L100"],
            faces: 2,
            confirmed: false,
            caption: "",
            provenance: "verified",
            format: "jpeg",
        },
        DemoPhoto {
            name: "IMG_0005.JPG",
            people: &["S200"],
            faces: 1,
            confirmed: true,
            caption: "Well done Isla!",
            provenance: "verified",
            format: "jpeg",
        },
        DemoPhoto {
            name: "IMG_0006.JPG",
            people: &["E300"],
            faces: 1,
            confirmed: true,
            caption: "Our employer partners",
            provenance: "outside_sign_out",
            format: "jpeg",
        },
        DemoPhoto {
            name: "IMG_0007.HEIC",
            people: &["S200"],
            faces: 1,
            confirmed: true,
            caption: "",
            provenance: "verified",
            format: "heic",
        },
    ];
    for (n, demo) in demo_photos.iter().enumerate() {
        let (content_hash, byte_size) = match media {
            Some(media) if demo.format == "jpeg" => {
                store_picture(media, &pictures::picture(n, demo.faces))?
            }
            _ => (format!("demo{n:060}"), 6_500_000),
        };
        let tx = conn.transaction()?;
        let id = photos::insert_photo(
            &tx,
            &photos::NewPhoto {
                content_hash,
                byte_size,
                format: demo.format.into(),
                original_name: demo.name.into(),
                custody_session_id: Some(session),
                device_id: Some(camera),
                taken_at: Some(out_at.checked_add((n as i64 + 1).hours())?),
                camera_make: Some("Canon".into()),
                camera_model: Some("Canon EOS 250D".into()),
                camera_serial: Some("012345678901".into()),
                orientation: Some(1),
                gps_present: false,
                width: Some(pictures::WIDTH),
                height: Some(pictures::HEIGHT),
                provenance: demo.provenance.into(),
                damage: None,
                face_search: crate::consent::FaceSearch::Done,
            },
            now,
        )?;
        for face in 0..demo.faces {
            let (x, y, w, h) = pictures::face_box(face);
            let face_id = photos::insert_face(
                &tx,
                id,
                photos::FaceRect { x, y, w, h },
                photos::FaceSource::Detected,
            )?;
            if let Some(ext_ref) = demo.people.get(face) {
                let person = person(&tx, ext_ref)?;
                photos::resolve_face(
                    &tx,
                    id,
                    face_id,
                    crate::consent::FaceResolution::Person(person),
                    now,
                )?;
            }
        }
        photos::set_caption(&tx, id, demo.caption, now)?;
        photos::set_people_confirmed(&tx, id, demo.confirmed)?;
        audit::append(
            &tx,
            &audit::Entry {
                at: now,
                actor: "demo",
                action: "photo.import",
                subject: &format!("photo:{id}"),
                details: serde_json::json!({ "session": session }),
            },
        )?;
        tx.commit()?;
    }
    // The demo photos are described above: nothing left to analyse.
    conn.execute("UPDATE photos SET analysed_at = ?1", [now.to_string()])?;
    // The director already approved Amira's portrait for the website.
    let director = registry::account_by_username(conn, "director")?
        .ok_or_else(|| anyhow::anyhow!("demo director missing"))?;
    let amira_photo = PhotoId(1);
    let policy = crate::consent::ConsentPolicy::default();
    records::decide_approval(
        conn,
        amira_photo,
        Channel::Website,
        true,
        "Good photo, consent checked",
        director.id,
        today,
        &policy,
        now,
    )?;
    Ok(())
}

/// What `consentcam demo` prints. `{url}` is replaced by the address it listens on.
pub fn banner(seeded: &Seeded, data_dir: &Path) -> String {
    let mut text = String::from("consentcam demo is running at {url}\n\nLog in with:\n");
    for (user, pass, role) in &seeded.logins {
        text.push_str(&format!("  {:<9} {user:<9} / {pass}\n", role.as_str()));
    }
    text.push_str(&format!(
        "\nSimulated kiosk: {{url}}/demo/kiosk (log in first)\n\
         Kiosk API token (for a real consentcam-kiosk):\n  {}\n\
         Data (deleted when you stop the demo): {}\nStop with Ctrl-C.",
        seeded.kiosk_token,
        data_dir.display()
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{ReasonCode, Verdict};
    use jiff::civil::date;

    #[test]
    fn the_demo_seeds_people_whose_consents_exercise_the_rules() {
        let mut conn = store::open_in_memory().unwrap();
        let today = date(2026, 11, 25);
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        seed(&mut conn, now, today).unwrap();
        let policy = crate::consent::ConsentPolicy::default();
        let website = |r: &str| {
            let id = people::person_by_ref(&conn, r).unwrap().unwrap().id;
            records::standing(&conn, id, today, &policy)
                .unwrap()
                .into_iter()
                .find(|c| c.channel == Channel::Website)
                .unwrap()
                .decision
        };
        assert_eq!(website("L100").verdict, Verdict::Allowed);
        assert!(website("L101").has(ReasonCode::ConsentWithheld));
        assert!(website("L102").has(ReasonCode::ParentFormAfter18));
        assert!(website("L104").has(ReasonCode::Vulnerable));
        assert!(website("L105").has(ReasonCode::ConsentExpired));
        assert!(website("L106").has(ReasonCode::ConsentWithdrawn));
        assert!(website("L107").has(ReasonCode::NoConsent));
        let photo_decision = |id: i64, channel| {
            records::decide_photo(&conn, PhotoId(id), channel, today, &policy).unwrap()
        };
        assert_eq!(
            photo_decision(1, Channel::Website).verdict,
            Verdict::Allowed
        );
        assert_eq!(
            photo_decision(2, Channel::Website).verdict,
            Verdict::Blocked
        );
        assert!(photo_decision(4, Channel::Internal).has(ReasonCode::FaceUnresolved));
        assert!(photo_decision(5, Channel::Internal).has(ReasonCode::CaptionNamesPerson));
        assert!(photo_decision(6, Channel::Website).has(ReasonCode::ProvenanceOutsideSignOut));
        assert!(photo_decision(7, Channel::Internal).has(ReasonCode::FormatNotPublishable));
        assert!(audit::verify(&conn).unwrap().problems.is_empty());

        // The booked class: four not to photograph, three not for public channels.
        let roster = groups::kiosk_roster(&conn, now, &jiff::tz::TimeZone::UTC, &policy).unwrap();
        let booking = &roster.bookings[0];
        assert_eq!((booking.group.as_str(), booking.members), (DEMO_GROUP, 8));
        let count = |kind| {
            booking
                .cautions
                .iter()
                .filter(|c| c.caution == kind)
                .count()
        };
        assert_eq!(count(consentcam_wire::CautionKind::NoPhotos), 4);
        assert_eq!(count(consentcam_wire::CautionKind::NotPublic), 3);
    }

    #[test]
    fn with_a_data_directory_the_demo_photos_are_real_files_that_publish() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = store::open(&dir.path().join("records.db")).unwrap();
        let media = MediaDirs::under(dir.path());
        let today = date(2026, 11, 25);
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        seed_with_files(&mut conn, Some(&media), now, today).unwrap();
        let photo = photos::photo(&conn, PhotoId(1)).unwrap();
        let original = crate::publish::original_path(dir.path(), &photo.content_hash);
        let bytes = std::fs::read(&original).unwrap();
        assert_eq!(bytes.len() as u64, photo.byte_size as u64);
        assert!(media.thumbnail(&photo.content_hash).is_file());
        assert!(media.preview(&photo.content_hash).is_file());
        // Amira's approved portrait goes to the website outbox.
        let published = crate::publish::publish(
            &mut conn,
            &original,
            &crate::publish::outbox(dir.path()),
            PhotoId(1),
            Channel::Website,
            &crate::publish::PublishOptions::default(),
            None,
            today,
            &crate::consent::ConsentPolicy::default(),
            now,
        )
        .unwrap();
        assert!(published.path.is_file());
        assert!(audit::verify(&conn).unwrap().problems.is_empty());
    }
}
