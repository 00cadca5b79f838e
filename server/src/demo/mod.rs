//! Seed data for `consentcam demo`: people whose consents exercise every rule, devices,
//! badges, accounts, a kiosk, custody and photos. Dates are relative to today so the
//! rules hold whenever the demo runs.
//!
//! Everything goes in through the same operations the API and CLI use (the consent forms
//! through the CSV importer), so the demo's audit log verifies. With a data directory, the
//! photos get real files (drawn scenes, [`pictures`]) in the photo store, with their
//! thumbnails and previews.

pub mod card;
#[cfg(feature = "demo")]
pub mod kiosk_page;
pub mod pictures;

use std::path::Path;

use jiff::civil::Date;
use jiff::{SignedDuration, Span, Timestamp, ToSpan};
use rusqlite::Connection;

use crate::domain::{AccountRole, Channel, PersonId, PhotoId};
use crate::infra::password;
use crate::ops::{self, groups};
use crate::store::audit::Action;
use crate::store::faces;
use crate::store::partners;
use crate::store::{self, audit, people, photos, registry};

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

/// Seeds an empty database with records only: people, forms, devices, badges, accounts,
/// a kiosk, custody and a booking; no photos (they come from a card import, which needs a
/// data directory: [`seed_with_photos`]).
pub fn seed(conn: &mut Connection, now: Timestamp, today: Date) -> anyhow::Result<Seeded> {
    seed_records(conn, None, now, today)
}

/// Seeds an empty database as [`seed`] does, then imports the demo camera's card into the
/// data directory of `config` through the real import (face detection included) and
/// tags its photos the way staff would.
pub fn seed_with_photos(
    conn: &mut Connection,
    config: &crate::infra::config::Config,
    now: Timestamp,
    today: Date,
) -> anyhow::Result<Seeded> {
    seed_records(conn, Some(config), now, today)
}

fn seed_records(
    conn: &mut Connection,
    config: Option<&crate::infra::config::Config>,
    now: Timestamp,
    today: Date,
) -> anyhow::Result<Seeded> {
    for name in ["Hillside School", "Riverside Academy"] {
        partners::insert_partner(conn, name, now)?;
    }
    // Harry has no form at all.
    ops::people::add_person(
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
        None,
        now,
    )?;
    let policy = crate::rules::consent::ConsentPolicy::default();
    ops::consent_csv::import_consents(
        conn,
        consent_csv(today).as_bytes(),
        "demo",
        None,
        now,
        &ops::people::AsOf {
            today,
            policy: &policy,
        },
    )?;

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
            tag_uid: consentcam_wire::TagUid::parse(consentcam_wire::demo_tags::CAMERA_1)?,
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
            tag_uid: consentcam_wire::TagUid::parse(consentcam_wire::demo_tags::IPAD_1)?,
            loan_minutes: 4 * 60,
        },
        now,
    )?;
    registry::enrol_badge(
        conn,
        &consentcam_wire::TagUid::parse(consentcam_wire::demo_tags::STAFF)?,
        isla,
        now,
    )?;
    registry::enrol_badge(
        conn,
        &consentcam_wire::TagUid::parse(consentcam_wire::demo_tags::NO_PERMISSION)?,
        jack,
        now,
    )?;
    registry::enrol_badge(
        conn,
        &consentcam_wire::TagUid::parse(consentcam_wire::demo_tags::LEARNER)?,
        person(conn, "L100")?,
        now,
    )?;

    let kiosk_token = password::random_token();
    let kiosk = registry::insert_kiosk(conn, "office", &password::token_hash(&kiosk_token), now)?;

    // Yesterday's trip: Camera 1 out with Isla from 09:00 to 15:00.
    let out_at = now.checked_sub(30.hours())?;
    let back_at = now.checked_sub(24.hours())?;
    let events = vec![
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
    let receipt = ops::custody::record_batch(
        conn,
        kiosk,
        &consentcam_wire::EventBatch {
            events,
            sent_at: Some(now),
        },
        now,
    )?;
    anyhow::ensure!(
        receipt.recorded.len() == 2,
        "the demo's sign-out was not recorded: {receipt:?}"
    );
    if let Some(config) = config {
        import_demo_card(conn, config, camera, out_at, now, today)?;
    }

    // Today Isla has iPad 1 booked for the L2 Construction class: signing it out at the
    // demo kiosk shows who of them must not be photographed.
    let class = groups::create_group(conn, DEMO_GROUP, "demo", None, now)?;
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

/// A photo on the demo's camera card: a part of the built-in real group photo (see
/// `consentcam_media::sample`), and what staff have done with it since.
struct DemoPhoto<'a> {
    name: &'a str,
    /// The part of the group photo, and how many faces the detector finds in it.
    crop: Option<pictures::Crop>,
    faces: usize,
    /// EXIF orientation the camera stored it with.
    orientation: u16,
    /// Who staff assigned the detected faces to, in the detector's order.
    people: &'a [&'a str],
    confirmed: bool,
    caption: &'a str,
    /// Taken this long after the sign-out began (outside it for the last one).
    taken_after: SignedDuration,
}

const DEMO_PHOTOS: [DemoPhoto<'static>; 7] = [
    DemoPhoto {
        name: "IMG_0001.JPG",
        crop: Some((600, 235, 160, 190)),
        faces: 1,
        orientation: 1,
        people: &["L100"],
        confirmed: true,
        caption: "Construction skills day",
        taken_after: SignedDuration::from_hours(1),
    },
    DemoPhoto {
        name: "IMG_0002.JPG",
        crop: Some((80, 180, 280, 160)),
        faces: 3,
        orientation: 1,
        people: &["L100", "L101", "L103"],
        confirmed: true,
        caption: "Team challenge",
        taken_after: SignedDuration::from_hours(2),
    },
    DemoPhoto {
        name: "IMG_0003.JPG",
        crop: Some((240, 235, 110, 140)),
        faces: 1,
        orientation: 6,
        people: &["L104"],
        confirmed: true,
        caption: "",
        taken_after: SignedDuration::from_hours(3),
    },
    DemoPhoto {
        name: "IMG_0004.JPG",
        crop: Some((830, 160, 160, 180)),
        faces: 2,
        orientation: 1,
        people: &["L100"],
        confirmed: false,
        caption: "",
        taken_after: SignedDuration::from_hours(4),
    },
    DemoPhoto {
        name: "IMG_0005.JPG",
        crop: Some((1320, 225, 130, 170)),
        faces: 1,
        orientation: 1,
        people: &["S200"],
        confirmed: true,
        caption: "Well done Isla!",
        taken_after: SignedDuration::from_hours(5),
    },
    DemoPhoto {
        name: "IMG_0006.JPG",
        crop: None,
        faces: consentcam_media::sample::GROUP_PHOTO_FACES,
        orientation: 1,
        people: &[],
        confirmed: false,
        caption: "",
        taken_after: SignedDuration::from_mins(330),
    },
    DemoPhoto {
        name: "IMG_0007.JPG",
        crop: Some((1110, 225, 120, 160)),
        faces: 1,
        orientation: 1,
        people: &["E300"],
        confirmed: true,
        caption: "Our employer partners",
        // After the camera came back: outside every sign-out.
        taken_after: SignedDuration::from_hours(8),
    },
];

/// The demo card's HEIC photo (one face, during the sign-out): analysed like the JPEGs,
/// and left for staff to tag.
const DEMO_HEIC: &str = "IMG_0008.HEIC";

/// Writes yesterday's card of Camera 1 (real faces, the camera's EXIF) and imports it the
/// way the Pi's import service does: attribution, crash-safe copy, analysis with face
/// detection. Then does what staff would have done since: assigns the faces the detector
/// found, captions, confirms; and the director approves Amira's portrait.
fn import_demo_card(
    conn: &mut Connection,
    config: &crate::infra::config::Config,
    camera: crate::domain::DeviceId,
    out_at: Timestamp,
    now: Timestamp,
    today: Date,
) -> anyhow::Result<()> {
    let device = registry::devices(conn)?
        .into_iter()
        .find(|d| d.id == camera)
        .ok_or_else(|| anyhow::anyhow!("demo camera missing"))?;
    let tz = crate::infra::clock::time_zone(&config.time_zone);
    let root = config.data_dir.join("demo-cards").join("seed");
    let folder = root.join("DCIM").join("100CANON");
    std::fs::create_dir_all(&folder)?;
    for demo in &DEMO_PHOTOS {
        let camera = pictures::CameraTags {
            make: &device.make,
            model: &device.model,
            serial: &device.serial,
            taken: tz.to_datetime(out_at.checked_add(demo.taken_after)?),
        };
        let scale = if demo.crop.is_some() { 4 } else { 2 };
        std::fs::write(
            folder.join(demo.name),
            pictures::group_photo(demo.crop, scale, demo.orientation, &camera),
        )?;
    }
    let camera_tags = pictures::CameraTags {
        make: &device.make,
        model: &device.model,
        serial: &device.serial,
        taken: tz.to_datetime(out_at.checked_add(SignedDuration::from_mins(50))?),
    };
    std::fs::write(
        folder.join(DEMO_HEIC),
        pictures::group_photo_heic(Some((1320, 225, 130, 170)), 4, &camera_tags),
    )?;
    let job = crate::ops::ingest::CardJob {
        mount: &root,
        device: Some(camera),
        wipe: false,
        faces: true,
        progress_file: None,
    };
    crate::ops::ingest::import_card(conn, config, &job, &mut |_| {}, now)?;

    let staff = "demo";
    for demo in &DEMO_PHOTOS {
        let id = demo_photo(conn, demo.name)?;
        let faces = faces::faces(conn, id)?;
        if faces.len() != demo.faces {
            anyhow::bail!(
                "the detector found {} faces in demo photo {}, not {}",
                faces.len(),
                demo.name,
                demo.faces
            );
        }
        let tx = conn.transaction()?;
        for (face, ext_ref) in faces.iter().zip(demo.people) {
            let resolution = crate::rules::consent::FaceResolution::Person(person(&tx, ext_ref)?);
            faces::resolve_face(&tx, id, face.id, resolution, now)?;
            ops::log(
                &tx,
                staff,
                Action::PhotoFace,
                format!("photo:{id}"),
                serde_json::json!({ "face": face.id, "resolution": resolution }),
                now,
            )?;
        }
        photos::set_caption(&tx, id, demo.caption, now)?;
        photos::set_people_confirmed(&tx, id, demo.confirmed)?;
        ops::log(
            &tx,
            staff,
            Action::PhotoConfirmPeople,
            format!("photo:{id}"),
            serde_json::json!({ "confirmed": demo.confirmed, "caption_length": demo.caption.len() }),
            now,
        )?;
        tx.commit()?;
    }
    // The director already approved Amira's portrait for the website.
    let director = registry::account_by_username(conn, "director")?
        .ok_or_else(|| anyhow::anyhow!("demo director missing"))?;
    ops::approvals::decide_approval(
        conn,
        demo_photo(conn, DEMO_PHOTOS[0].name)?,
        Channel::Website,
        true,
        "Good photo, consent checked",
        &ops::Ctx {
            by: Some(director.id),
            today,
            now,
            policy: crate::rules::consent::ConsentPolicy::default(),
        },
    )?;
    Ok(())
}

/// The demo photo imported from the card file `name`.
pub fn demo_photo(conn: &Connection, name: &str) -> anyhow::Result<PhotoId> {
    photos::photo_by_original_name(conn, &format!("DCIM/100CANON/{name}"))?
        .ok_or_else(|| anyhow::anyhow!("demo photo {name} was not imported"))
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
    use crate::rules::consent::{ReasonCode, Verdict};
    use jiff::civil::date;

    #[test]
    fn the_demo_seeds_people_whose_consents_exercise_the_rules() {
        let mut conn = store::open_in_memory().unwrap();
        let today = date(2026, 11, 25);
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        seed(&mut conn, now, today).unwrap();
        let policy = crate::rules::consent::ConsentPolicy::default();
        let website = |r: &str| {
            let id = people::person_by_ref(&conn, r).unwrap().unwrap().id;
            crate::ops::decisions::standing(&conn, id, today, &policy)
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
        assert!(audit::verify(&conn).unwrap().problems.is_empty());

        // The booked class: four not to photograph, three not for public channels.
        let roster = groups::kiosk_roster(
            &conn,
            now,
            &jiff::tz::TimeZone::UTC,
            &policy,
            &consentcam_tagkey::KioskKey::demo(),
        )
        .unwrap();
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
}
