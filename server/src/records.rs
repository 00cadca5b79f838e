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
    PhotoFacts, Provenance, ReasonCode, Severity,
};
use crate::domain::{AccountId, Channel, ConsentId, PersonId, PhotoId};
use crate::import::consent_csv::{self, ImportError, ImportReport};
use crate::store::audit::Action;
use crate::store::audit::{self, Entry};
use crate::store::consents;
use crate::store::partners;
use crate::store::publications;
use crate::store::{Result, StoreError, people, photos, requests};

pub(crate) fn log(
    conn: &Connection,
    actor: &str,
    action: Action,
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
        Action::PersonCreate,
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

/// When a change is made and what the rules are: for deciding again what it affects.
#[derive(Debug, Clone)]
pub struct AsOf<'a> {
    pub today: Date,
    pub policy: &'a ConsentPolicy,
}

/// An admin corrects a person's record. Lowering the vulnerable flag is a deliberate act
/// (C14): it needs `reason`, kept as a person note that the audit entry (who did it)
/// points to. Publications
/// the change makes no longer allowed (marked vulnerable, a date of birth that makes a
/// parent's form no longer count) become takedown tasks at once.
pub fn update_person(
    conn: &mut Connection,
    id: PersonId,
    person: &people::NewPerson,
    reason: &str,
    actor: &str,
    now: Timestamp,
    as_of: &AsOf<'_>,
) -> Result<()> {
    let tx = conn.transaction()?;
    let before = people::living(&tx, id)?;
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
        // The reason is free text (it may name people): kept as a note the entry points
        // to, so an erasure can remove it without touching the hash chain.
        let note = crate::store::retention::insert_person_note(
            &tx,
            id,
            "vulnerable_lowered",
            reason.trim(),
            now,
        )?;
        details["vulnerable_lowered_note"] = note.into();
    }
    log(
        &tx,
        actor,
        Action::PersonUpdate,
        format!("person:{id}"),
        details,
        now,
    )?;
    takedowns_due(&tx, Some(id), as_of.today, as_of.policy, actor, now)?;
    tx.commit()?;
    Ok(())
}

/// Records the day a person left (their forms are then kept for `[retention]
/// former_person_years`), or (None) that they have not left after all. Audited. A day
/// after `today` is refused.
pub fn set_left(
    conn: &mut Connection,
    id: PersonId,
    left_on: Option<Date>,
    today: Date,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    if left_on.is_some_and(|day| day > today) {
        return Err(StoreError::Invalid(
            "the day they left is in the future".into(),
        ));
    }
    let tx = conn.transaction()?;
    crate::store::retention::set_left_on(&tx, id, left_on)?;
    log(
        &tx,
        actor,
        Action::PersonLeft,
        format!("person:{id}"),
        serde_json::json!({ "left_on": left_on.map(|d| d.to_string()) }),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// The reasons that mean a person in a photo may no longer appear where it was published
/// (L1): their consent is gone, expired, withheld or outgrown, they are vulnerable, or they
/// are no longer on record.
const NO_LONGER_ALLOWED: [ReasonCode; 10] = [
    ReasonCode::NoConsent,
    ReasonCode::ConsentWithheld,
    ReasonCode::ConsentExpired,
    ReasonCode::ConsentWithdrawn,
    ReasonCode::OwnObjection,
    ReasonCode::ParentFormAfter18,
    ReasonCode::Vulnerable,
    ReasonCode::PersonNotOnRecord,
    ReasonCode::UnknownPerson,
    ReasonCode::Restricted,
];

/// Restricts a person's processing (Article 18), or lifts it, audited (ids only, like
/// the rest of the log); their publications become takedown tasks at once. Returns how
/// many.
pub fn set_restriction(
    conn: &mut Connection,
    id: PersonId,
    restricted: bool,
    actor: &str,
    now: Timestamp,
    as_of: &AsOf<'_>,
) -> Result<usize> {
    let tx = conn.transaction()?;
    let before = people::living(&tx, id)?;
    if before.restricted == restricted {
        return Err(StoreError::Conflict(if restricted {
            "this person is already restricted".into()
        } else {
            "this person is not restricted".into()
        }));
    }
    people::set_restricted(&tx, id, restricted)?;
    log(
        &tx,
        actor,
        if restricted {
            Action::PersonRestrict
        } else {
            Action::PersonRestrictionLifted
        },
        format!("person:{id}"),
        serde_json::json!({}),
        now,
    )?;
    let tasks = takedowns_due(&tx, Some(id), as_of.today, as_of.policy, actor, now)?;
    tx.commit()?;
    Ok(tasks)
}

/// Decides every live publication again (of photos tagging `person`, or all) as of
/// `today`, and makes each that would no longer be allowed a takedown task, with the
/// reason codes and an audit entry. Returns how many became tasks. Run it in the
/// transaction of the change that may have caused it.
pub fn takedowns_due(
    conn: &Connection,
    person: Option<PersonId>,
    today: Date,
    policy: &ConsentPolicy,
    actor: &str,
    now: Timestamp,
) -> Result<usize> {
    let mut tasks = 0;
    for publication in publications::live_publications(conn, person)? {
        let Ok(channel) = publication.channel.parse::<Channel>() else {
            tracing::warn!(
                publication = publication.id,
                "publication on an unknown channel"
            );
            continue;
        };
        let decision = decide_photo(conn, publication.photo_id, channel, today, policy)?;
        let mut codes: Vec<&str> = decision
            .reasons
            .iter()
            .filter(|r| r.severity == Severity::Blocks && NO_LONGER_ALLOWED.contains(&r.code))
            .map(|r| r.code.as_str())
            .collect();
        codes.dedup();
        if codes.is_empty() {
            continue;
        }
        if publications::mark_takedown(conn, publication.id, &codes.join(", "), now)? {
            tasks += 1;
            log(
                conn,
                actor,
                Action::PublicationTakedownDue,
                format!("photo:{}", publication.photo_id),
                serde_json::json!({
                    "publication": publication.id, "channel": publication.channel,
                    "reasons": codes,
                }),
                now,
            )?;
        }
    }
    Ok(tasks)
}

/// The sweep for causes that come with dates (a form that expires, a learner turning 18
/// with only a parent's form): every live publication decided again as of `today`. One
/// transaction; an audit entry with the count when it made any task.
pub fn sweep(
    conn: &mut Connection,
    today: Date,
    policy: &ConsentPolicy,
    actor: &str,
    now: Timestamp,
) -> Result<usize> {
    let tx = conn.transaction()?;
    let tasks = takedowns_due(&tx, None, today, policy, actor, now)?;
    if tasks > 0 {
        log(
            &tx,
            actor,
            Action::TakedownSweep,
            "publications".to_owned(),
            serde_json::json!({ "new_tasks": tasks, "as_of": today.to_string() }),
            now,
        )?;
    }
    tx.commit()?;
    Ok(tasks)
}

/// Records a signed form; a form that withholds what another allowed (the person's own
/// objection) turns the publications it affects into takedown tasks at once.
pub fn add_consent(
    conn: &mut Connection,
    consent: &consents::NewConsent,
    actor: &str,
    now: Timestamp,
    as_of: &AsOf<'_>,
) -> Result<ConsentId> {
    let tx = conn.transaction()?;
    people::living(&tx, consent.person_id)?;
    let id = consents::insert_consent(&tx, consent, now)?;
    log(
        &tx,
        actor,
        Action::ConsentAdd,
        format!("person:{}", consent.person_id),
        serde_json::json!({ "consent": id, "signer": consent.signer, "signed_on": consent.signed_on.to_string() }),
        now,
    )?;
    if consent.withdrawn_on.is_some() {
        publications::on_withdrawal(&tx, consent.person_id, actor, now)?;
    }
    takedowns_due(
        &tx,
        Some(consent.person_id),
        as_of.today,
        as_of.policy,
        actor,
        now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// What a withdrawal set in motion.
/// An admin corrects a form's signer name or expiry (what a CSV import never changes).
/// Audited without the name. Returns the person the form is about.
pub fn correct_consent(
    conn: &mut Connection,
    id: ConsentId,
    signer_name: &str,
    expires_on: Option<Date>,
    actor: &str,
    now: Timestamp,
) -> Result<PersonId> {
    let tx = conn.transaction()?;
    let before = consents::consent(&tx, id)?;
    people::living(&tx, before.person_id)?;
    let after = consents::correct_consent(&tx, id, signer_name, expires_on)?;
    log(
        &tx,
        actor,
        Action::ConsentCorrect,
        format!("person:{}", before.person_id),
        serde_json::json!({
            "consent": id,
            "signer_name_changed": before.signer_name != after.signer_name,
            "expires_on": after.expires_on.map(|d| d.to_string()),
        }),
        now,
    )?;
    tx.commit()?;
    Ok(before.person_id)
}

/// Attaches a stored scan (`path` under the data directory) to a form.
pub fn attach_evidence(
    conn: &mut Connection,
    id: ConsentId,
    path: &str,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    let form = consents::consent(&tx, id)?;
    people::living(&tx, form.person_id)?;
    consents::set_evidence(&tx, id, path)?;
    log(
        &tx,
        actor,
        Action::ConsentEvidence,
        format!("person:{}", form.person_id),
        serde_json::json!({ "consent": id }),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// Records that `actor` read a form's scan (sensitive: C15); returns the form.
pub fn view_scan(
    conn: &Connection,
    id: ConsentId,
    actor: &str,
    now: Timestamp,
) -> Result<consents::Consent> {
    let form = consents::consent(conn, id)?;
    if form.evidence_path.is_some() {
        log(
            conn,
            actor,
            Action::ConsentScanViewed,
            format!("person:{}", form.person_id),
            serde_json::json!({ "consent": id }),
            now,
        )?;
    }
    Ok(form)
}

/// Records that `actor` read a vulnerable or restricted person's record (sensitive);
/// anyone else's reading is not logged.
pub fn view_person(
    conn: &Connection,
    person: &people::Person,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    if person.vulnerable || person.restricted {
        log(
            conn,
            actor,
            Action::PersonViewed,
            format!("person:{}", person.id),
            serde_json::json!({}),
            now,
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Withdrawal {
    pub consent: consents::Consent,
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
    let consent = consents::withdraw_consent(&tx, id, on)?;
    log(
        &tx,
        actor,
        Action::ConsentWithdraw,
        format!("person:{}", consent.person_id),
        serde_json::json!({ "consent": id, "on": on.to_string() }),
        now,
    )?;
    let (takedown_tasks, approvals_voided) =
        publications::on_withdrawal(&tx, consent.person_id, actor, now)?;
    tx.commit()?;
    Ok(Withdrawal {
        consent,
        takedown_tasks,
        approvals_voided,
    })
}

/// Imports the consent CSV in one transaction; publications the imported changes make no
/// longer allowed become takedown tasks in the same transaction.
pub fn import_consents(
    conn: &mut Connection,
    bytes: &[u8],
    actor: &str,
    now: Timestamp,
    as_of: &AsOf<'_>,
) -> Result<ImportReport, ImportError> {
    let tx = conn.transaction().map_err(StoreError::from)?;
    let report = consent_csv::import(&tx, bytes, actor, now, as_of.today)?;
    takedowns_due(&tx, None, as_of.today, as_of.policy, actor, now)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(report)
}

/// Every channel: internal, each partner organisation, website, social.
pub fn channels(conn: &Connection) -> Result<Vec<(Channel, String)>> {
    let mut all = vec![(Channel::Internal, "Internal".to_owned())];
    all.extend(
        partners::partners(conn)?
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
        && !partners::partners(conn)?.iter().any(|p| p.id == id)
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
            Action::PhotoApprove
        } else {
            Action::PhotoReject
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
        Action::PhotoFaceDrawn,
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
        Action::PhotoFacesAck,
        format!("photo:{photo}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// One person on the renewal list.
#[derive(Debug, Clone, Serialize)]
pub struct RenewalRow {
    pub person: people::Person,
    #[serde(flatten)]
    pub renewal: consent::Renewal,
}

/// Forms that lapse within `days` days and learners who turn 18 then with only a
/// parent's form, soonest first.
pub fn renewals(
    conn: &Connection,
    today: Date,
    days: i32,
    policy: &ConsentPolicy,
) -> Result<Vec<RenewalRow>> {
    let everyone = people::search(conn, "", u32::MAX)?;
    let facts = everyone
        .iter()
        .map(|p| people::facts(conn, p.id))
        .collect::<Result<Vec<_>>>()?;
    let mut rows: Vec<RenewalRow> = consent::renewals_due(&facts, today, days, policy)
        .into_iter()
        .filter_map(|(id, renewal)| {
            everyone.iter().find(|p| p.id == id).map(|p| RenewalRow {
                person: p.clone(),
                renewal,
            })
        })
        .collect();
    rows.sort_by_key(|r| match r.renewal {
        consent::Renewal::FormExpires { on } | consent::Renewal::NeedsOwnForm { on } => on,
    });
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::consent::Verdict;
    use crate::domain::{ExternalRef, Name, Role, Scopes, SignerKind};
    use crate::store::open_in_memory;

    fn now() -> Timestamp {
        "2026-11-25T10:00:00Z".parse().unwrap()
    }

    fn person(conn: &Connection, r: &str, born: Date) -> PersonId {
        people::insert_person(
            conn,
            &people::NewPerson {
                ext_ref: ExternalRef::parse(r).unwrap(),
                given_name: Name::parse("Sam").unwrap(),
                family_name: Name::parse(r).unwrap(),
                date_of_birth: born,
                role: Role::Learner,
                vulnerable: false,
                may_sign_out: false,
            },
            now(),
        )
        .unwrap()
    }

    fn parent_form(conn: &Connection, who: PersonId, expires_on: Option<Date>) {
        consents::insert_consent(
            conn,
            &consents::NewConsent {
                person_id: who,
                signer: SignerKind::Parent,
                signer_name: "A Parent".into(),
                signed_on: date(2026, 9, 1),
                expires_on,
                withdrawn_on: None,
                scopes: Scopes {
                    internal: true,
                    partners: vec![],
                    website: true,
                    social: true,
                },
                evidence_path: None,
                source: "test".into(),
            },
            now(),
        )
        .unwrap();
    }

    /// A photo of `who` published on `channel`.
    fn published(conn: &Connection, who: PersonId, channel: Channel) -> i64 {
        let photo = photos::insert_photo(
            conn,
            &photos::NewPhoto {
                content_hash: format!("h{}{}", who.0, channel.code()),
                format: "jpeg".into(),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        photos::add_tag(conn, photo, Some(who), now()).unwrap();
        let decision = Decision {
            channel,
            on: date(2026, 11, 25),
            verdict: Verdict::Allowed,
            reasons: vec![],
        };
        let name = format!("p{}", photo.0);
        publications::insert_publication(conn, photo, channel, &name, None, &decision, now())
            .unwrap()
    }

    fn reasons_of_tasks(conn: &Connection) -> Vec<(i64, String)> {
        publications::open_takedowns(conn)
            .unwrap()
            .into_iter()
            .map(|p| (p.id, p.takedown_reason.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn the_sweep_finds_what_dates_make_no_longer_allowed_and_only_that() {
        let mut conn = open_in_memory().unwrap();
        let policy = ConsentPolicy::default();
        // A form that expires on 1 December; a learner who turns 18 on 30 November with
        // only a parent's form; a learner whose form stays good.
        let expiring = person(&conn, "L1", date(2012, 5, 5));
        parent_form(&conn, expiring, Some(date(2026, 12, 1)));
        let turning = person(&conn, "L2", date(2008, 11, 30));
        parent_form(&conn, turning, None);
        let fine = person(&conn, "L3", date(2012, 5, 5));
        parent_form(&conn, fine, None);
        let a = published(&conn, expiring, Channel::Website);
        let b = published(&conn, turning, Channel::Social);
        published(&conn, fine, Channel::Website);

        let sweep_on =
            |conn: &mut Connection, day| sweep(conn, day, &policy, "system", now()).unwrap();
        assert_eq!(sweep_on(&mut conn, date(2026, 11, 25)), 0);
        assert_eq!(sweep_on(&mut conn, date(2026, 11, 30)), 1);
        assert_eq!(
            reasons_of_tasks(&conn),
            [(b, "parent_form_after_18".into())]
        );
        assert_eq!(sweep_on(&mut conn, date(2026, 12, 2)), 1);
        let tasks = reasons_of_tasks(&conn);
        assert_eq!(tasks.len(), 2);
        assert!(
            tasks.iter().any(|(id, why)| *id == a && !why.is_empty()),
            "{tasks:?}"
        );
        // Nothing twice; the audit log has one entry per task and one per sweep that made any.
        assert_eq!(sweep_on(&mut conn, date(2026, 12, 3)), 0);
        let count = |action: Action| -> i64 {
            conn.query_row(
                "SELECT count(*) FROM audit_log WHERE action = ?1",
                [action.as_str()],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(count(Action::PublicationTakedownDue), 2);
        assert_eq!(count(Action::TakedownSweep), 2);
    }

    #[test]
    fn marking_someone_vulnerable_takes_down_public_copies_at_once_but_not_internal_ones() {
        let mut conn = open_in_memory().unwrap();
        let policy = ConsentPolicy::default();
        let who = person(&conn, "L1", date(2012, 5, 5));
        parent_form(&conn, who, None);
        let public = published(&conn, who, Channel::Website);
        published(&conn, who, Channel::Internal);
        let before = people::person(&conn, who).unwrap();
        let mut after = people::NewPerson {
            ext_ref: ExternalRef::parse(&before.ext_ref).unwrap(),
            given_name: Name::parse(&before.given_name).unwrap(),
            family_name: Name::parse(&before.family_name).unwrap(),
            date_of_birth: before.date_of_birth,
            role: before.role,
            vulnerable: true,
            may_sign_out: false,
        };
        let as_of = AsOf {
            today: date(2026, 11, 25),
            policy: &policy,
        };
        update_person(&mut conn, who, &after, "", "account:1", now(), &as_of).unwrap();
        assert_eq!(reasons_of_tasks(&conn), [(public, "vulnerable".into())]);
        // A date of birth corrected to make them an adult: the parent's form no longer
        // counts anywhere, so the internal copy goes too.
        after.date_of_birth = date(2000, 1, 1);
        update_person(&mut conn, who, &after, "", "account:1", now(), &as_of).unwrap();
        assert_eq!(reasons_of_tasks(&conn).len(), 2);
    }
}
