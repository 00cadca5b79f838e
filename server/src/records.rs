//! Record-keeping operations: each one change, in one transaction, with its audit entry.
//!
//! The web API and the CLI both call these; neither writes to the store directly. Time and
//! the actor are inputs.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::Connection;
use serde::Serialize;

use crate::consent::{
    self, ApprovalFacts, ConsentPolicy, Decision, FaceResolution, FaceSearch, MediaState,
    PhotoFacts, Provenance,
};
use crate::domain::{AccountId, Channel, ConsentId, PersonId, PhotoId};
use crate::import::consent_csv::{self, ImportError, ImportReport};
use crate::store::audit::{self, Entry};
use crate::store::{Result, StoreError, people, photos, requests};

pub(crate) fn log(
    conn: &Connection,
    actor: &str,
    action: &str,
    subject: String,
    details: serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    audit::append(
        conn,
        &Entry {
            at: now,
            actor,
            action,
            subject: &subject,
            details,
        },
    )
    .map(|_| ())
}

pub fn add_person(
    conn: &mut Connection,
    person: &people::NewPerson,
    actor: &str,
    now: Timestamp,
) -> Result<PersonId> {
    let tx = conn.transaction()?;
    let id = people::insert_person(&tx, person, now)?;
    log(
        &tx,
        actor,
        "person.create",
        format!("person:{id}"),
        serde_json::json!({ "role": person.role, "vulnerable": person.vulnerable }),
        now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// The names of the fields of `before` that `after` changes (never their values: they
/// may be names).
pub(crate) fn changed_fields(
    before: &people::Person,
    after: &people::NewPerson,
) -> Vec<&'static str> {
    [
        ("ref", before.ext_ref != after.ext_ref.as_str()),
        ("given_name", before.given_name != after.given_name.as_str()),
        (
            "family_name",
            before.family_name != after.family_name.as_str(),
        ),
        ("date_of_birth", before.date_of_birth != after.date_of_birth),
        ("role", before.role != after.role),
        ("vulnerable", before.vulnerable != after.vulnerable),
        ("may_sign_out", before.may_sign_out != after.may_sign_out),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect()
}

/// An admin corrects a person's record. Lowering the vulnerable flag is a deliberate act
/// (C14): it needs `reason`, which the audit entry keeps with who did it.
pub fn update_person(
    conn: &mut Connection,
    id: PersonId,
    person: &people::NewPerson,
    reason: &str,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    let before = people::person(&tx, id)?;
    let lowered = before.vulnerable && !person.vulnerable;
    if lowered && reason.trim().is_empty() {
        return Err(StoreError::Invalid(
            "this person is recorded as vulnerable: removing that needs a reason, which is kept \
             in the audit log"
                .into(),
        ));
    }
    let fields = changed_fields(&before, person);
    people::update_person(&tx, id, person, now)?;
    let mut details = serde_json::json!({
        "fields": fields, "role": person.role, "vulnerable": person.vulnerable,
    });
    if lowered {
        details["vulnerable_lowered_because"] = reason.trim().into();
    }
    log(
        &tx,
        actor,
        "person.update",
        format!("person:{id}"),
        details,
        now,
    )?;
    tx.commit()?;
    Ok(())
}

pub fn add_consent(
    conn: &mut Connection,
    consent: &people::NewConsent,
    actor: &str,
    now: Timestamp,
) -> Result<ConsentId> {
    let tx = conn.transaction()?;
    let id = people::insert_consent(&tx, consent, now)?;
    log(
        &tx,
        actor,
        "consent.add",
        format!("person:{}", consent.person_id),
        serde_json::json!({ "consent": id, "signer": consent.signer, "signed_on": consent.signed_on.to_string() }),
        now,
    )?;
    if consent.withdrawn_on.is_some() {
        photos::on_withdrawal(&tx, consent.person_id, actor, now)?;
    }
    tx.commit()?;
    Ok(id)
}

/// What a withdrawal set in motion.
#[derive(Debug, Clone, Serialize)]
pub struct Withdrawal {
    pub consent: people::Consent,
    pub takedown_tasks: usize,
    pub approvals_voided: usize,
}

pub fn withdraw_consent(
    conn: &mut Connection,
    id: ConsentId,
    on: Date,
    actor: &str,
    now: Timestamp,
) -> Result<Withdrawal> {
    let tx = conn.transaction()?;
    let consent = people::withdraw_consent(&tx, id, on)?;
    log(
        &tx,
        actor,
        "consent.withdraw",
        format!("person:{}", consent.person_id),
        serde_json::json!({ "consent": id, "on": on.to_string() }),
        now,
    )?;
    let (takedown_tasks, approvals_voided) =
        photos::on_withdrawal(&tx, consent.person_id, actor, now)?;
    tx.commit()?;
    Ok(Withdrawal {
        consent,
        takedown_tasks,
        approvals_voided,
    })
}

pub fn import_consents(
    conn: &mut Connection,
    bytes: &[u8],
    actor: &str,
    now: Timestamp,
    today: Date,
) -> Result<ImportReport, ImportError> {
    let tx = conn.transaction().map_err(StoreError::from)?;
    let report = consent_csv::import(&tx, bytes, actor, now, today)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(report)
}

/// Every channel: internal, each partner organisation, website, social.
pub fn channels(conn: &Connection) -> Result<Vec<(Channel, String)>> {
    let mut all = vec![(Channel::Internal, "Internal".to_owned())];
    all.extend(
        people::partners(conn)?
            .into_iter()
            .map(|p| (Channel::Partner(p.id), p.name)),
    );
    all.push((Channel::Website, "Website".into()));
    all.push((Channel::Social, "Social media".into()));
    Ok(all)
}

pub fn decide_photo(
    conn: &Connection,
    photo: PhotoId,
    channel: Channel,
    today: Date,
    policy: &ConsentPolicy,
) -> Result<Decision> {
    let (facts, people) = photos::facts(conn, photo)?;
    let register = people::register_names(conn)?;
    Ok(consent::decide(
        &facts, &people, &register, channel, today, policy,
    ))
}

/// One channel's decision, with the channel's display name.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelDecision {
    pub channel: Channel,
    pub channel_name: String,
    #[serde(flatten)]
    pub decision: Decision,
}

impl ChannelDecision {
    /// As `role` may read it (see [`Decision::for_staff`]).
    #[must_use]
    pub fn for_role(self, role: crate::domain::AccountRole) -> Self {
        if role == crate::domain::AccountRole::Staff {
            Self {
                decision: self.decision.for_staff(),
                ..self
            }
        } else {
            self
        }
    }
}

/// Every decision of `decisions` as `role` may read it.
pub fn for_role(
    decisions: Vec<ChannelDecision>,
    role: crate::domain::AccountRole,
) -> Vec<ChannelDecision> {
    decisions.into_iter().map(|d| d.for_role(role)).collect()
}

pub fn decide_all(
    conn: &Connection,
    photo: PhotoId,
    today: Date,
    policy: &ConsentPolicy,
) -> Result<Vec<ChannelDecision>> {
    let (facts, people) = photos::facts(conn, photo)?;
    let register = people::register_names(conn)?;
    Ok(channels(conn)?
        .into_iter()
        .map(|(channel, channel_name)| ChannelDecision {
            channel,
            channel_name,
            decision: consent::decide(&facts, &people, &register, channel, today, policy),
        })
        .collect())
}

/// Per channel, whether a photo of this person alone, fully tagged and approved, could go
/// there today, and why: the consent lookup's answer.
pub fn standing(
    conn: &Connection,
    person: PersonId,
    today: Date,
    policy: &ConsentPolicy,
) -> Result<Vec<ChannelDecision>> {
    let facts = people::facts(conn, person)?;
    let channels = channels(conn)?;
    let portrait = PhotoFacts {
        tagged: vec![person],
        unknown_people: 0,
        faces: vec![FaceResolution::Person(person)],
        people_confirmed: true,
        caption: String::new(),
        provenance: Provenance::Verified,
        provenance_acknowledged: false,
        media: MediaState::Publishable,
        fingerprint: "lookup".into(),
        approvals: channels
            .iter()
            .map(|(channel, _)| ApprovalFacts {
                channel: *channel,
                fingerprint: "lookup".into(),
                approved: true,
            })
            .collect(),
        covered: vec![],
        face_search: FaceSearch::Done,
        face_search_acknowledged: false,
    };
    let people = [facts];
    Ok(channels
        .into_iter()
        .map(|(channel, channel_name)| {
            let mut decision = consent::decide(&portrait, &people, &[], channel, today, policy);
            decision
                .reasons
                .retain(|r| r.code != consent::ReasonCode::Approved);
            ChannelDecision {
                channel,
                channel_name,
                decision,
            }
        })
        .collect())
}

/// A director approves or rejects a photo for a channel (C9). Approval is refused unless
/// nothing but the approval stands in the way; a rejection is always possible.
#[allow(clippy::too_many_arguments)]
pub fn decide_approval(
    conn: &mut Connection,
    photo: PhotoId,
    channel: Channel,
    approve: bool,
    note: &str,
    director: AccountId,
    today: Date,
    policy: &ConsentPolicy,
    now: Timestamp,
) -> Result<Decision> {
    if !channel.needs_approval() {
        return Err(StoreError::Invalid(format!(
            "{channel} needs no director's approval"
        )));
    }
    if let Channel::Partner(id) = channel
        && !people::partners(conn)?.iter().any(|p| p.id == id)
    {
        return Err(StoreError::NotFound {
            what: "partner organisation",
            id: id.0,
        });
    }
    let tx = conn.transaction()?;
    let (facts, people_facts) = photos::facts(&tx, photo)?;
    let register = people::register_names(&tx)?;
    let before = consent::decide(&facts, &people_facts, &register, channel, today, policy);
    if approve && !before.ready_for_approval() {
        let why: Vec<&str> = before.problems().map(|r| r.message.as_str()).collect();
        return Err(StoreError::Conflict(format!(
            "this photo cannot be approved for {channel} while: {}",
            why.join(" ")
        )));
    }
    if note.trim().is_empty() && !approve {
        return Err(StoreError::Invalid(
            "a rejection needs a note saying why".into(),
        ));
    }
    photos::record_approval(
        &tx,
        photo,
        channel,
        &facts.fingerprint,
        approve,
        note,
        director,
        now,
    )?;
    // The director has answered the staff's request(s) to publish there.
    let requests_closed = requests::close(&tx, photo, channel, now)?;
    log(
        &tx,
        &format!("account:{director}"),
        if approve {
            "photo.approve"
        } else {
            "photo.reject"
        },
        format!("photo:{photo}"),
        serde_json::json!({
            "channel": channel.code(), "fingerprint": facts.fingerprint,
            "requests_closed": requests_closed,
        }),
        now,
    )?;
    let (facts, people_facts) = photos::facts(&tx, photo)?;
    let after = consent::decide(&facts, &people_facts, &register, channel, today, policy);
    tx.commit()?;
    tracing::info!(photo = photo.0, channel = %channel, verdict = %after.verdict, approve, "director decision");
    Ok(after)
}

/// Staff draw a box around a face the detector missed (C13: a cover needs a box to
/// paint), optionally assigning it to a person at once. `rect` is in pixels of the upright
/// picture; it must lie inside it and be big enough to hold a face.
pub fn draw_face(
    conn: &mut Connection,
    photo: PhotoId,
    rect: photos::FaceRect,
    person: Option<PersonId>,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    const SMALLEST: u32 = 4;
    let tx = conn.transaction()?;
    let stored = photos::photo(&tx, photo)?;
    let (Some(w), Some(h)) = (stored.width, stored.height) else {
        return Err(StoreError::Conflict(
            "this photo's size is not known (it could not be analysed), so no box can be drawn \
             on it"
                .into(),
        ));
    };
    let (width, height) = crate::domain::upright_size(w, h, stored.orientation);
    if rect.w < SMALLEST || rect.h < SMALLEST {
        return Err(StoreError::Invalid(format!(
            "a face box must be at least {SMALLEST} x {SMALLEST} pixels"
        )));
    }
    if rect.x.saturating_add(rect.w) > width || rect.y.saturating_add(rect.h) > height {
        return Err(StoreError::Invalid(format!(
            "the box must lie inside the picture ({width} x {height} pixels)"
        )));
    }
    let face = photos::insert_face(&tx, photo, rect, photos::FaceSource::Drawn)?;
    if let Some(p) = person {
        photos::resolve_face(&tx, photo, face, FaceResolution::Person(p), now)?;
    } else {
        photos::void_approvals(&tx, photo, "tags changed", now)?;
    }
    log(
        &tx,
        actor,
        "photo.face_drawn",
        format!("photo:{photo}"),
        serde_json::json!({ "face": face, "person": person, "box": rect }),
        now,
    )?;
    tx.commit()?;
    Ok(face)
}

/// A director acknowledges, with a note, that a photo's faces were not looked for by the
/// detector (C12): someone looked at it and everyone in it is tagged.
pub fn acknowledge_faces(
    conn: &mut Connection,
    photo: PhotoId,
    director: AccountId,
    note: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    photos::acknowledge_faces(&tx, photo, director, note)?;
    log(
        &tx,
        &format!("account:{director}"),
        "photo.faces_ack",
        format!("photo:{photo}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(())
}
