//! The consent decision (rules C1-C11 of the design): may this photo go to this channel on
//! this date?
//!
//! A pure function of plain data. It reads no clock, no database and no file: the caller
//! gathers the facts ([`PhotoFacts`], the [`PersonFacts`] of everyone tagged, the register's
//! names) and gets a [`Decision`] with every reason. The default is to refuse: anything
//! missing or unknown is a reason that blocks or holds the photo for review.

mod caution;
mod form;
#[cfg(test)]
mod properties;
mod renewal;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{Channel, ConsentId, PersonId, Role, Scopes, SignerKind, is_adult_on};

pub use caution::{Caution, caution};
pub use form::{ConsentPolicy, FormStanding, effective_consent};
pub use renewal::{Renewal, due as renewals_due};

/// One signed consent form, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentForm {
    pub id: ConsentId,
    pub signer: SignerKind,
    pub signed_on: Date,
    /// Last day is the day before: on `expires_on` the form no longer counts.
    pub expires_on: Option<Date>,
    /// On `withdrawn_on` and after, the form no longer counts.
    pub withdrawn_on: Option<Date>,
    pub scopes: Scopes,
}

/// A registered person and their consent forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonFacts {
    pub id: PersonId,
    pub given_name: String,
    pub family_name: String,
    pub born: Date,
    pub role: Role,
    pub vulnerable: bool,
    /// Processing restricted (C14): blocked on every channel.
    pub restricted: bool,
    pub forms: Vec<ConsentForm>,
}

impl PersonFacts {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

/// What staff have said about one face the detector found (C6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "person_id", rename_all = "snake_case")]
pub enum FaceResolution {
    Unresolved,
    Person(PersonId),
    /// Not a face, or not identifiable.
    Dismissed,
}

/// Where the photo came from (C7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// A registered device, inside one of its sign-out windows.
    Verified,
    /// The camera's make/model/serial match no registered device.
    UnregisteredDevice,
    /// A registered device, but taken outside every sign-out window.
    OutsideSignOut,
    /// No usable EXIF to tell.
    #[default]
    Unknown,
}

impl Provenance {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Verified => "verified",
            Provenance::UnregisteredDevice => "unregistered_device",
            Provenance::OutsideSignOut => "outside_sign_out",
            Provenance::Unknown => "unknown",
        }
    }
}

impl std::str::FromStr for Provenance {
    type Err = crate::domain::ParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            Provenance::Verified,
            Provenance::UnregisteredDevice,
            Provenance::OutsideSignOut,
            Provenance::Unknown,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
        .ok_or_else(|| crate::domain::ParseError(format!("unknown provenance {text:?}")))
    }
}

/// Whether the photo's faces were looked for (C12). Until they were, nobody can say who
/// is in it, so "no face tagged" proves nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceSearch {
    /// The detector ran on the picture (it may have found nobody).
    Done,
    /// The photo is not analysed yet.
    #[default]
    NotYet,
    /// Analysed without face detection.
    Skipped,
    /// The picture could not be decoded, so no detector could run.
    Failed,
    /// The stored face boxes are known to be wrong; detection must run again. A director's
    /// acknowledgement does not stand in for it: covers would be painted in the wrong place.
    Redo,
}

impl FaceSearch {
    /// The stored word (`pending` for [`FaceSearch::NotYet`]).
    pub fn as_str(self) -> &'static str {
        match self {
            FaceSearch::Done => "done",
            FaceSearch::NotYet => "pending",
            FaceSearch::Skipped => "skipped",
            FaceSearch::Failed => "failed",
            FaceSearch::Redo => "redo",
        }
    }
}

impl std::str::FromStr for FaceSearch {
    type Err = crate::domain::ParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            FaceSearch::Done,
            FaceSearch::NotYet,
            FaceSearch::Skipped,
            FaceSearch::Failed,
            FaceSearch::Redo,
        ]
        .into_iter()
        .find(|f| f.as_str() == text)
        .ok_or_else(|| crate::domain::ParseError(format!("unknown face search state {text:?}")))
    }
}

/// Whether the stored file can be published at all (C11, I6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MediaState {
    /// A JPEG the scrubber handles.
    Publishable,
    /// Stored and tracked, but the scrubber does not handle this format yet.
    Unsupported { format: String },
    /// Corrupt, truncated or hostile: kept, never published.
    Damaged { reason: String },
}

/// A director's word on a photo for a channel, bound to the photo's fingerprint (C9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalFacts {
    pub channel: Channel,
    pub fingerprint: String,
    pub approved: bool,
}

/// Everything about one photo that the rules look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoFacts {
    /// Everyone tagged, through a face or added by hand.
    pub tagged: Vec<PersonId>,
    /// Tags of "unknown (not on the register)".
    pub unknown_people: usize,
    pub faces: Vec<FaceResolution>,
    /// Staff confirmed that everyone in the photo is tagged.
    pub people_confirmed: bool,
    pub caption: String,
    pub provenance: Provenance,
    /// A director acknowledged the provenance warning with a note.
    pub provenance_acknowledged: bool,
    pub media: MediaState,
    /// See [`fingerprint`]; approvals bind to it.
    pub fingerprint: String,
    /// The latest approval or rejection per channel, if any.
    pub approvals: Vec<ApprovalFacts>,
    /// People whose faces will be covered with a solid fill in the published file; their
    /// consent is then not needed for it, provided a face box of theirs says where to
    /// paint (C13).
    pub covered: Vec<PersonId>,
    /// Whether faces were looked for (C12).
    pub face_search: FaceSearch,
    /// A director acknowledged, with a note, that this photo's faces were not looked for.
    pub face_search_acknowledged: bool,
}

/// The three answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allowed,
    NeedsReview,
    Blocked,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Allowed => "allowed",
            Verdict::NeedsReview => "needs review",
            Verdict::Blocked => "blocked",
        })
    }
}

/// How much a reason weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Explains why something is fine.
    Info,
    NeedsReview,
    Blocks,
}

/// Stable machine codes for reasons. Never renumber or rename: they are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    ConsentGiven,
    NoConsent,
    ConsentWithheld,
    ConsentExpired,
    ConsentWithdrawn,
    OwnObjection,
    ParentFormAfter18,
    Vulnerable,
    FaceCovered,
    PersonNotOnRecord,
    UnknownPerson,
    FaceUnresolved,
    PeopleNotConfirmed,
    CaptionNamesPerson,
    ProvenanceUnregisteredDevice,
    ProvenanceOutsideSignOut,
    ProvenanceUnknown,
    ProvenanceAcknowledged,
    ApprovalMissing,
    ApprovalVoid,
    RejectedByDirector,
    Approved,
    FormatNotPublishable,
    FileDamaged,
    FacesNotLookedFor,
    FacesAcknowledged,
    CoverAreaUnknown,
    /// What staff see instead of [`ReasonCode::Vulnerable`]: the caution, not the reason
    /// (see [`Decision::for_staff`]).
    NotPublic,
    /// The person's processing is restricted (Article 18, C14).
    Restricted,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::ConsentGiven => "consent_given",
            ReasonCode::NoConsent => "no_consent",
            ReasonCode::ConsentWithheld => "consent_withheld",
            ReasonCode::ConsentExpired => "consent_expired",
            ReasonCode::ConsentWithdrawn => "consent_withdrawn",
            ReasonCode::OwnObjection => "own_objection",
            ReasonCode::ParentFormAfter18 => "parent_form_after_18",
            ReasonCode::Vulnerable => "vulnerable",
            ReasonCode::FaceCovered => "face_covered",
            ReasonCode::PersonNotOnRecord => "person_not_on_record",
            ReasonCode::UnknownPerson => "unknown_person",
            ReasonCode::FaceUnresolved => "face_unresolved",
            ReasonCode::PeopleNotConfirmed => "people_not_confirmed",
            ReasonCode::CaptionNamesPerson => "caption_names_person",
            ReasonCode::ProvenanceUnregisteredDevice => "provenance_unregistered_device",
            ReasonCode::ProvenanceOutsideSignOut => "provenance_outside_sign_out",
            ReasonCode::ProvenanceUnknown => "provenance_unknown",
            ReasonCode::ProvenanceAcknowledged => "provenance_acknowledged",
            ReasonCode::ApprovalMissing => "approval_missing",
            ReasonCode::ApprovalVoid => "approval_void",
            ReasonCode::RejectedByDirector => "rejected_by_director",
            ReasonCode::Approved => "approved",
            ReasonCode::FormatNotPublishable => "format_not_publishable",
            ReasonCode::FileDamaged => "file_damaged",
            ReasonCode::FacesNotLookedFor => "faces_not_looked_for",
            ReasonCode::FacesAcknowledged => "faces_acknowledged",
            ReasonCode::CoverAreaUnknown => "cover_area_unknown",
            ReasonCode::NotPublic => "not_public",
            ReasonCode::Restricted => "restricted",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason: a stable code, its weight, the person it is about, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub severity: Severity,
    pub person: Option<PersonId>,
    pub message: String,
    /// The sentence staff see instead, where the reason itself is for directors and
    /// admins only (a vulnerable person: staff are told the caution, not why).
    #[serde(skip)]
    pub for_staff: Option<String>,
}

/// The answer with everything that led to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub channel: Channel,
    pub on: Date,
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
}

impl Decision {
    /// The decision as staff may read it: reasons meant for directors and admins only
    /// (a person's vulnerability) become the caution they imply. The verdict is the same.
    #[must_use]
    pub fn for_staff(mut self) -> Self {
        for reason in &mut self.reasons {
            if let Some(message) = reason.for_staff.take() {
                reason.code = ReasonCode::NotPublic;
                reason.message = message;
            }
        }
        self
    }

    fn from_reasons(channel: Channel, on: Date, reasons: Vec<Reason>) -> Self {
        let verdict = reasons
            .iter()
            .map(|r| match r.severity {
                Severity::Info => Verdict::Allowed,
                Severity::NeedsReview => Verdict::NeedsReview,
                Severity::Blocks => Verdict::Blocked,
            })
            .max()
            .unwrap_or(Verdict::Allowed);
        Self {
            channel,
            on,
            verdict,
            reasons,
        }
    }

    /// The codes of the reasons that stand in the way (not the informational ones).
    pub fn problems(&self) -> impl Iterator<Item = &Reason> {
        self.reasons.iter().filter(|r| r.severity > Severity::Info)
    }

    pub fn has(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }

    /// Whether a director may approve now: nothing stands in the way but the approval
    /// itself (C9: approval is impossible unless the decision is otherwise Allowed).
    pub fn ready_for_approval(&self) -> bool {
        self.problems().all(|r| {
            matches!(
                r.code,
                ReasonCode::ApprovalMissing | ReasonCode::ApprovalVoid
            )
        })
    }
}

/// The fingerprint an approval binds to: the photo's content, its tags and its caption
/// (C9). Any change to them gives another fingerprint and so voids the approval.
pub fn fingerprint(
    content_hash: &str,
    tagged: &[PersonId],
    unknown_people: usize,
    covered: &[PersonId],
    caption: &str,
) -> String {
    let mut tagged: Vec<i64> = tagged.iter().map(|p| p.0).collect();
    tagged.sort_unstable();
    tagged.dedup();
    let mut covered: Vec<i64> = covered.iter().map(|p| p.0).collect();
    covered.sort_unstable();
    covered.dedup();
    let canonical = serde_json::json!({
        "content": content_hash,
        "tagged": tagged,
        "unknown": unknown_people,
        "covered": covered,
        "caption": caption,
    });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A registered person's names, for the caption check (C8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredName {
    pub given_name: String,
    pub family_name: String,
}

/// Decides whether `photo` may go to `channel` on `on`.
///
/// `people` must hold the facts of everyone in `photo.tagged`; a tagged person missing from
/// it blocks the photo. `register` holds every registered person's names (C8).
pub fn decide(
    photo: &PhotoFacts,
    people: &[PersonFacts],
    register: &[RegisteredName],
    channel: Channel,
    on: Date,
    policy: &ConsentPolicy,
) -> Decision {
    let mut reasons = Vec::new();
    media_reasons(photo, &mut reasons);
    people_reasons(photo, people, channel, on, policy, &mut reasons);
    caption_reasons(photo, people, register, &mut reasons);
    provenance_reasons(photo, channel, &mut reasons);
    approval_reasons(photo, channel, &mut reasons);
    Decision::from_reasons(channel, on, reasons)
}

fn reason(
    code: ReasonCode,
    severity: Severity,
    person: Option<PersonId>,
    message: String,
) -> Reason {
    Reason {
        code,
        severity,
        person,
        message,
        for_staff: None,
    }
}

fn channel_words(channel: Channel) -> &'static str {
    match channel {
        Channel::Internal => "internal use (learning platform, internal display)",
        Channel::Partner(_) => "sharing with this partner organisation",
        Channel::Website => "the website",
        Channel::Social => "the organisation's social media",
    }
}

fn media_reasons(photo: &PhotoFacts, reasons: &mut Vec<Reason>) {
    match &photo.media {
        MediaState::Publishable => {}
        MediaState::Unsupported { format } => reasons.push(reason(
            ReasonCode::FormatNotPublishable,
            Severity::Blocks,
            None,
            format!(
                "This is a {format} file. It is kept, but only still photos (JPEG, PNG, HEIC) \
                 can be published without their metadata, so it cannot be published."
            ),
        )),
        MediaState::Damaged { reason: why } => reasons.push(reason(
            ReasonCode::FileDamaged,
            Severity::Blocks,
            None,
            format!("The file could not be read safely ({why}). It is kept but never published."),
        )),
    }
}

fn people_reasons(
    photo: &PhotoFacts,
    people: &[PersonFacts],
    channel: Channel,
    on: Date,
    policy: &ConsentPolicy,
    reasons: &mut Vec<Reason>,
) {
    if photo.unknown_people > 0 {
        reasons.push(reason(
            ReasonCode::UnknownPerson,
            Severity::Blocks,
            None,
            format!(
                "{} person(s) in the photo are tagged as not on the register; nobody can have \
                 given consent for them.",
                photo.unknown_people
            ),
        ));
    }
    face_search_reasons(photo, reasons);
    let unresolved = photo
        .faces
        .iter()
        .filter(|f| matches!(f, FaceResolution::Unresolved))
        .count();
    if unresolved > 0 {
        reasons.push(reason(
            ReasonCode::FaceUnresolved,
            Severity::NeedsReview,
            None,
            format!(
                "{unresolved} face(s) found in the photo are not yet assigned to a person or \
                 dismissed."
            ),
        ));
    }
    if !photo.people_confirmed {
        reasons.push(reason(
            ReasonCode::PeopleNotConfirmed,
            Severity::NeedsReview,
            None,
            "Staff have not yet confirmed that everyone in the photo is tagged.".into(),
        ));
    }

    let by_id: HashMap<PersonId, &PersonFacts> = people.iter().map(|p| (p.id, p)).collect();
    let mut seen = Vec::new();
    for &id in &photo.tagged {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let Some(person) = by_id.get(&id) else {
            reasons.push(reason(
                ReasonCode::PersonNotOnRecord,
                Severity::Blocks,
                Some(id),
                format!("Person #{id} is tagged but has no record, so no consent can be found."),
            ));
            continue;
        };
        // A restricted person is used nowhere, covered or not (C14).
        if person.restricted {
            reasons.push(reason(
                ReasonCode::Restricted,
                Severity::Blocks,
                Some(id),
                format!(
                    "{} is restricted (a request to restrict the use of their data): no photo of them is used anywhere until an admin lifts it.",
                    person.full_name()
                ),
            ));
        }
        // A vulnerable person stays off public channels even with the face covered: a body,
        // clothes or a place can still identify them.
        if channel.is_public() && person.vulnerable {
            let mut vulnerable = reason(
                ReasonCode::Vulnerable,
                Severity::Blocks,
                Some(id),
                format!(
                    "{} is recorded as vulnerable and never appears on {}, whatever the consent.",
                    person.full_name(),
                    channel_words(channel)
                ),
            );
            vulnerable.for_staff = Some(format!(
                "{} must not appear on the website or the organisation's social media; a director or the safeguarding lead knows why.",
                person.full_name()
            ));
            reasons.push(vulnerable);
        }
        if photo.covered.contains(&id) && !photo.faces.contains(&FaceResolution::Person(id)) {
            reasons.push(reason(
                ReasonCode::CoverAreaUnknown,
                Severity::NeedsReview,
                Some(id),
                format!(
                    "{}'s face is to be covered, but no face box of theirs says where: draw \
                     the box around their face on the photo page, or stop covering them.",
                    person.full_name()
                ),
            ));
            continue;
        }
        if photo.covered.contains(&id) {
            reasons.push(reason(
                ReasonCode::FaceCovered,
                Severity::Info,
                Some(id),
                format!(
                    "{}'s face will be covered with a solid block in the published file.",
                    person.full_name()
                ),
            ));
            continue;
        }
        reasons.push(consent_reason(person, channel, on, policy));
    }
}

fn face_search_reasons(photo: &PhotoFacts, reasons: &mut Vec<Reason>) {
    let why = match photo.face_search {
        FaceSearch::Done => return,
        FaceSearch::Redo => {
            reasons.push(reason(
                ReasonCode::FacesNotLookedFor,
                Severity::NeedsReview,
                None,
                "The face boxes stored for this photo are known to be wrong; the face \
                 detector must run on it again (consentcam detect-faces) before it can be \
                 checked."
                    .into(),
            ));
            return;
        }
        FaceSearch::NotYet => "has not been analysed yet",
        FaceSearch::Skipped => "was imported without face detection",
        FaceSearch::Failed => "could not be decoded for face detection",
    };
    if photo.face_search_acknowledged {
        reasons.push(reason(
            ReasonCode::FacesAcknowledged,
            Severity::Info,
            None,
            format!(
                "The photo {why}; a director acknowledged with a note that everyone in it is \
                 tagged."
            ),
        ));
    } else {
        reasons.push(reason(
            ReasonCode::FacesNotLookedFor,
            Severity::NeedsReview,
            None,
            format!(
                "The photo {why}, so nobody has looked for every face in it. Run face \
                 detection, or a director acknowledges with a note."
            ),
        ));
    }
}

fn consent_reason(
    person: &PersonFacts,
    channel: Channel,
    on: Date,
    policy: &ConsentPolicy,
) -> Reason {
    let name = person.full_name();
    let what = channel_words(channel);
    let adult = is_adult_on(person.born, on);
    let standing = effective_consent(&person.forms, person.born, channel, on, policy);
    let id = Some(person.id);
    match standing {
        FormStanding::Granted {
            form,
            signer,
            signed_on,
        } => reason(
            ReasonCode::ConsentGiven,
            Severity::Info,
            id,
            format!(
                "{name} has consent for {what}: form #{form} signed by {} on {signed_on}.",
                signer_words(signer)
            ),
        ),
        FormStanding::Objected { form, signed_on } => reason(
            ReasonCode::OwnObjection,
            Severity::Blocks,
            id,
            format!(
                "{name} said no to {what} on their own form #{form} signed on {signed_on}; \
                 this overrides any consent from a parent."
            ),
        ),
        FormStanding::Withheld {
            form,
            signer,
            signed_on,
        } => reason(
            ReasonCode::ConsentWithheld,
            Severity::Blocks,
            id,
            format!(
                "{name}'s current form #{form} (signed by {} on {signed_on}) does not give \
                 consent for {what}.",
                signer_words(signer)
            ),
        ),
        FormStanding::ParentFormAfter18 { turned_18 } => reason(
            ReasonCode::ParentFormAfter18,
            Severity::Blocks,
            id,
            format!(
                "{name} turned 18 on {turned_18}; a parent's form no longer counts and they \
                 have not signed one themself."
            ),
        ),
        FormStanding::Withdrawn { on: withdrawn } => reason(
            ReasonCode::ConsentWithdrawn,
            Severity::Blocks,
            id,
            format!("{name}'s consent was withdrawn on {withdrawn}."),
        ),
        FormStanding::Expired { on: expired } => reason(
            ReasonCode::ConsentExpired,
            Severity::Blocks,
            id,
            format!("{name}'s consent expired on {expired}; a new form is needed."),
        ),
        FormStanding::Missing => reason(
            ReasonCode::NoConsent,
            Severity::Blocks,
            id,
            if adult {
                format!("{name} has no signed consent form of their own.")
            } else {
                format!(
                    "{name} is under 18 and has no current consent form from a parent, \
                     guardian or carer."
                )
            },
        ),
    }
}

fn signer_words(signer: SignerKind) -> &'static str {
    match signer {
        SignerKind::Parent => "a parent",
        SignerKind::Guardian => "a guardian",
        SignerKind::Carer => "a carer",
        SignerKind::Myself => "the person themself",
    }
}

/// Lower-cased words of a text, split at anything that is not a letter, digit, apostrophe
/// or hyphen inside a word.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}' || c == '-'))
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether the words of `name` appear in `caption_words` as consecutive words.
fn contains_phrase(caption_words: &[String], name: &str) -> bool {
    let name_words = words(name);
    !name_words.is_empty()
        && caption_words
            .windows(name_words.len())
            .any(|window| window == name_words.as_slice())
}

fn caption_reasons(
    photo: &PhotoFacts,
    people: &[PersonFacts],
    register: &[RegisteredName],
    reasons: &mut Vec<Reason>,
) {
    let caption_words = words(&photo.caption);
    if caption_words.is_empty() {
        return;
    }
    for person in people.iter().filter(|p| photo.tagged.contains(&p.id)) {
        for (part, which) in [
            (&person.given_name, "given"),
            (&person.family_name, "family"),
        ] {
            if contains_phrase(&caption_words, part) {
                reasons.push(reason(
                    ReasonCode::CaptionNamesPerson,
                    Severity::Blocks,
                    Some(person.id),
                    format!(
                        "The caption contains {:?}, the {which} name of someone tagged in the \
                         photo. No published photo may carry a name.",
                        part
                    ),
                ));
            }
        }
    }
    if let Some(named) = register.iter().find(|n| {
        contains_phrase(
            &caption_words,
            &format!("{} {}", n.given_name, n.family_name),
        )
    }) {
        reasons.push(reason(
            ReasonCode::CaptionNamesPerson,
            Severity::Blocks,
            None,
            format!(
                "The caption contains the full name of a registered person ({} {}). No \
                 published photo may carry a name.",
                named.given_name, named.family_name
            ),
        ));
    }
}

fn provenance_reasons(photo: &PhotoFacts, channel: Channel, reasons: &mut Vec<Reason>) {
    let (code, words) = match photo.provenance {
        Provenance::Verified => return,
        Provenance::UnregisteredDevice => (
            ReasonCode::ProvenanceUnregisteredDevice,
            "was not taken with a registered device: personal devices must not be used for photos",
        ),
        Provenance::OutsideSignOut => (
            ReasonCode::ProvenanceOutsideSignOut,
            "was taken outside every sign-out of the device it came from",
        ),
        Provenance::Unknown => (
            ReasonCode::ProvenanceUnknown,
            "has no camera data to show which device took it or when",
        ),
    };
    if photo.provenance_acknowledged {
        reasons.push(reason(
            ReasonCode::ProvenanceAcknowledged,
            Severity::Info,
            None,
            format!("The photo {words}; a director acknowledged this with a note."),
        ));
    } else if channel.is_external() {
        reasons.push(reason(
            code,
            Severity::NeedsReview,
            None,
            format!(
                "The photo {words}. A director must acknowledge this with a note before it \
                 leaves the organisation."
            ),
        ));
    }
}

fn approval_reasons(photo: &PhotoFacts, channel: Channel, reasons: &mut Vec<Reason>) {
    if !channel.needs_approval() {
        return;
    }
    let latest = photo.approvals.iter().rev().find(|a| a.channel == channel);
    let (code, severity, message) = match latest {
        None => (
            ReasonCode::ApprovalMissing,
            Severity::NeedsReview,
            format!(
                "A director has not approved this photo for {}.",
                channel_words(channel)
            ),
        ),
        Some(a) if a.fingerprint != photo.fingerprint => (
            ReasonCode::ApprovalVoid,
            Severity::NeedsReview,
            "The photo, its tags or its caption changed after the director's decision, so it \
             no longer counts; a director must look again."
                .to_owned(),
        ),
        Some(a) if !a.approved => (
            ReasonCode::RejectedByDirector,
            Severity::Blocks,
            format!(
                "A director rejected this photo for {}.",
                channel_words(channel)
            ),
        ),
        Some(_) => (
            ReasonCode::Approved,
            Severity::Info,
            format!(
                "A director approved this photo for {}.",
                channel_words(channel)
            ),
        ),
    };
    reasons.push(reason(code, severity, None, message));
}
