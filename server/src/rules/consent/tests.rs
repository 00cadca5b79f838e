//! Table tests: one row per rule, boundary and combination.

use jiff::civil::{Date, date};

use super::*;
use crate::domain::{PartnerId, Scopes};

const TODAY: Date = date(2026, 11, 25);
const SCHOOL_A: PartnerId = PartnerId(1);
const SCHOOL_B: PartnerId = PartnerId(2);
const CHANNELS: [Channel; 4] = [
    Channel::Internal,
    Channel::Partner(SCHOOL_A),
    Channel::Website,
    Channel::Social,
];

fn all_scopes() -> Scopes {
    Scopes {
        internal: true,
        partners: vec![SCHOOL_A],
        website: true,
        social: true,
    }
}

fn no_scopes() -> Scopes {
    Scopes::default()
}

fn form(id: i64, signer: SignerKind, signed_on: Date, scopes: Scopes) -> ConsentForm {
    ConsentForm {
        id: ConsentId(id),
        signer,
        signed_on,
        expires_on: None,
        withdrawn_on: None,
        scopes,
    }
}

/// A 15-year-old learner with a parent's form for everything, signed in September.
fn learner(id: i64) -> PersonFacts {
    PersonFacts {
        id: PersonId(id),
        given_name: format!("Given{id}"),
        family_name: format!("Family{id}"),
        born: date(2011, 3, 14),
        role: Role::Learner,
        vulnerable: false,
        restricted: false,
        forms: vec![form(
            id * 100,
            SignerKind::Parent,
            date(2026, 9, 1),
            all_scopes(),
        )],
    }
}

/// A photo of `people`, every face assigned, confirmed, no caption, from a registered
/// camera in a sign-out window, approved for every external channel.
fn photo_of(people: &[PersonFacts]) -> PhotoFacts {
    let tagged: Vec<PersonId> = people.iter().map(|p| p.id).collect();
    PhotoFacts {
        faces: tagged
            .iter()
            .map(|&id| FaceResolution::Person(id))
            .collect(),
        tagged,
        unknown_people: 0,
        people_confirmed: true,
        caption: String::new(),
        provenance: Provenance::Verified,
        provenance_acknowledged: false,
        media: MediaState::Publishable,
        fingerprint: "fp-1".into(),
        approvals: CHANNELS
            .iter()
            .filter(|c| c.needs_approval())
            .map(|&channel| ApprovalFacts {
                channel,
                fingerprint: "fp-1".into(),
                approved: true,
            })
            .collect(),
        covered: vec![],
        face_search: FaceSearch::Done,
        face_search_acknowledged: false,
    }
}

fn register_of(people: &[PersonFacts]) -> Vec<RegisteredName> {
    people
        .iter()
        .map(|p| RegisteredName {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
        })
        .collect()
}

struct Case {
    name: &'static str,
    people: Vec<PersonFacts>,
    photo: PhotoFacts,
    /// Registered people who are not in the photo.
    others: Vec<PersonFacts>,
    channel: Channel,
    on: Date,
    verdict: Verdict,
    codes: &'static [ReasonCode],
}

fn case(name: &'static str, people: Vec<PersonFacts>) -> Case {
    Case {
        name,
        photo: photo_of(&people),
        people,
        others: vec![],
        channel: Channel::Website,
        on: TODAY,
        verdict: Verdict::Allowed,
        codes: &[],
    }
}

impl Case {
    fn photo(mut self, change: impl FnOnce(&mut PhotoFacts)) -> Self {
        change(&mut self.photo);
        self
    }
    fn person(mut self, index: usize, change: impl FnOnce(&mut PersonFacts)) -> Self {
        change(&mut self.people[index]);
        self
    }
    fn others(mut self, others: Vec<PersonFacts>) -> Self {
        self.others = others;
        self
    }
    fn on(mut self, on: Date) -> Self {
        self.on = on;
        self
    }
    fn channel(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }
    fn expect(mut self, verdict: Verdict, codes: &'static [ReasonCode]) -> Self {
        self.verdict = verdict;
        self.codes = codes;
        self
    }
}

fn turning_18_today() -> PersonFacts {
    PersonFacts {
        born: date(2008, 11, 25),
        ..learner(1)
    }
}

fn cases() -> Vec<Case> {
    use ReasonCode as R;
    use Verdict::*;
    vec![
        case("allows a learner with a parent's consent", vec![learner(1)])
            .expect(Allowed, &[R::ConsentGiven, R::Approved]),
        case("allows a photo of nobody once confirmed", vec![]).expect(Allowed, &[R::Approved]),
        // F2: the detector found no face, which is not "nobody" until staff say so.
        case(
            "a photo the detector found no face in holds until confirmed empty",
            vec![],
        )
        .photo(|ph| ph.people_confirmed = false)
        .expect(NeedsReview, &[R::PeopleNotConfirmed]),
        // C3: age
        case(
            "a parent's form still counts the day before the 18th birthday",
            vec![turning_18_today()],
        )
        .on(date(2026, 11, 24))
        .expect(Allowed, &[R::ConsentGiven]),
        case(
            "a parent's form stops counting on the 18th birthday itself",
            vec![turning_18_today()],
        )
        .expect(Blocked, &[R::ParentFormAfter18]),
        case(
            "an 18-year-old's own form counts from the birthday",
            vec![turning_18_today()],
        )
        .person(0, |p| {
            p.forms.push(form(
                7,
                SignerKind::Myself,
                date(2026, 11, 25),
                all_scopes(),
            ))
        })
        .expect(Allowed, &[R::ConsentGiven]),
        case(
            "an adult learner with only a parent's form from years ago is blocked",
            vec![learner(1)],
        )
        .person(0, |p| p.born = date(2000, 1, 1))
        .expect(Blocked, &[R::ParentFormAfter18]),
        case(
            "a learner under 18 cannot consent for themself",
            vec![learner(1)],
        )
        .person(0, |p| {
            p.forms = vec![form(7, SignerKind::Myself, date(2026, 9, 1), all_scopes())]
        })
        .expect(Blocked, &[R::NoConsent]),
        case(
            "an adult member of staff consents for themself",
            vec![learner(1)],
        )
        .person(0, |p| {
            p.role = Role::Staff;
            p.born = date(1980, 5, 5);
            p.forms = vec![form(7, SignerKind::Myself, date(2026, 9, 1), all_scopes())];
        })
        .expect(Allowed, &[R::ConsentGiven]),
        case(
            "a guardian's and a carer's form count like a parent's",
            vec![learner(1), learner(2)],
        )
        .person(0, |p| p.forms[0].signer = SignerKind::Guardian)
        .person(1, |p| p.forms[0].signer = SignerKind::Carer)
        .expect(Allowed, &[R::ConsentGiven]),
        // C3: expiry
        case(
            "a form counts the day before its expiry date",
            vec![learner(1)],
        )
        .person(0, |p| p.forms[0].expires_on = Some(date(2026, 11, 26)))
        .expect(Allowed, &[R::ConsentGiven]),
        case(
            "a form no longer counts on its expiry date itself",
            vec![learner(1)],
        )
        .person(0, |p| p.forms[0].expires_on = Some(TODAY))
        .expect(Blocked, &[R::ConsentExpired]),
        case(
            "a form without expiry lasts 365 days from signing, not the 365th",
            vec![learner(1)],
        )
        .person(0, |p| p.forms[0].signed_on = date(2025, 11, 25))
        .expect(Blocked, &[R::ConsentExpired]),
        case("a form without expiry counts on day 364", vec![learner(1)])
            .person(0, |p| p.forms[0].signed_on = date(2025, 11, 26))
            .expect(Allowed, &[R::ConsentGiven]),
        case(
            "a form signed after the decision date does not count yet",
            vec![learner(1)],
        )
        .person(0, |p| p.forms[0].signed_on = date(2026, 11, 26))
        .expect(Blocked, &[R::NoConsent]),
        // C3: withdrawal
        case(
            "a withdrawal dated the decision day blocks",
            vec![learner(1)],
        )
        .person(0, |p| p.forms[0].withdrawn_on = Some(TODAY))
        .expect(Blocked, &[R::ConsentWithdrawn]),
        case(
            "a withdrawal dated tomorrow does not block today",
            vec![learner(1)],
        )
        .person(0, |p| p.forms[0].withdrawn_on = Some(date(2026, 11, 26)))
        .expect(Allowed, &[R::ConsentGiven]),
        case(
            "withdrawing the newest form does not revive an older one",
            vec![learner(1)],
        )
        .person(0, |p| {
            p.forms
                .push(form(8, SignerKind::Parent, date(2026, 10, 1), all_scopes()));
            p.forms[1].withdrawn_on = Some(date(2026, 11, 1));
        })
        .expect(Blocked, &[R::ConsentWithdrawn]),
        case(
            "a form signed after a withdrawal counts again",
            vec![learner(1)],
        )
        .person(0, |p| {
            p.forms[0].withdrawn_on = Some(date(2026, 10, 1));
            p.forms
                .push(form(8, SignerKind::Parent, date(2026, 10, 2), all_scopes()));
        })
        .expect(Allowed, &[R::ConsentGiven]),
        case(
            "a learner's own withdrawal overrides a parent's consent",
            vec![learner(1)],
        )
        .person(0, |p| {
            let mut own = form(8, SignerKind::Myself, date(2026, 9, 2), all_scopes());
            own.withdrawn_on = Some(date(2026, 11, 1));
            p.forms.push(own);
        })
        .expect(Blocked, &[R::ConsentWithdrawn]),
        // C3: latest form and objections
        case(
            "the latest parent form decides, even when it says no",
            vec![learner(1)],
        )
        .person(0, |p| {
            p.forms
                .push(form(8, SignerKind::Parent, date(2026, 10, 1), no_scopes()))
        })
        .expect(Blocked, &[R::ConsentWithheld]),
        case(
            "a learner's own objection overrides a parent's consent",
            vec![learner(1)],
        )
        .person(0, |p| {
            let scopes = Scopes {
                website: false,
                ..all_scopes()
            };
            p.forms
                .push(form(8, SignerKind::Myself, date(2026, 9, 2), scopes));
        })
        .expect(Blocked, &[R::OwnObjection]),
        case(
            "a learner's objection to the website leaves internal use alone",
            vec![learner(1)],
        )
        .person(0, |p| {
            let scopes = Scopes {
                website: false,
                ..all_scopes()
            };
            p.forms
                .push(form(8, SignerKind::Myself, date(2026, 9, 2), scopes));
        })
        .channel(Channel::Internal)
        .expect(Allowed, &[R::ConsentGiven]),
        // C1: partners are named
        case("a partner named on the form is allowed", vec![learner(1)])
            .channel(Channel::Partner(SCHOOL_A))
            .expect(Allowed, &[R::ConsentGiven, R::Approved]),
        case(
            "consent for one partner school is not consent for another",
            vec![learner(1)],
        )
        .photo(|ph| {
            ph.approvals.push(ApprovalFacts {
                channel: Channel::Partner(SCHOOL_B),
                fingerprint: "fp-1".into(),
                approved: true,
            })
        })
        .channel(Channel::Partner(SCHOOL_B))
        .expect(Blocked, &[R::ConsentWithheld]),
        // C4: vulnerable
        case(
            "a vulnerable person with full consent never goes on the website",
            vec![learner(1)],
        )
        .person(0, |p| p.vulnerable = true)
        .expect(Blocked, &[R::Vulnerable, R::ConsentGiven]),
        case(
            "a vulnerable person with full consent never goes on social media",
            vec![learner(1)],
        )
        .person(0, |p| p.vulnerable = true)
        .channel(Channel::Social)
        .expect(Blocked, &[R::Vulnerable]),
        case(
            "a vulnerable person with consent may be used internally",
            vec![learner(1)],
        )
        .person(0, |p| p.vulnerable = true)
        .channel(Channel::Internal)
        .expect(Allowed, &[R::ConsentGiven]),
        // C5: groups
        case(
            "one of five without consent blocks the group photo",
            (1..=5).map(learner).collect(),
        )
        .person(3, |p| p.forms.clear())
        .expect(Blocked, &[R::NoConsent, R::ConsentGiven]),
        case(
            "five people who all have consent are allowed",
            (1..=5).map(learner).collect(),
        )
        .expect(Allowed, &[R::ConsentGiven]),
        // C6: faces and tags
        case(
            "an unresolved face holds the photo for review",
            vec![learner(1)],
        )
        .photo(|ph| ph.faces.push(FaceResolution::Unresolved))
        .expect(NeedsReview, &[R::FaceUnresolved]),
        case(
            "an unresolved face holds even internal use",
            vec![learner(1)],
        )
        .photo(|ph| ph.faces.push(FaceResolution::Unresolved))
        .channel(Channel::Internal)
        .expect(NeedsReview, &[R::FaceUnresolved]),
        case("a dismissed face does not hold the photo", vec![learner(1)])
            .photo(|ph| ph.faces.push(FaceResolution::Dismissed))
            .expect(Allowed, &[R::ConsentGiven]),
        case(
            "an unconfirmed people list holds the photo",
            vec![learner(1)],
        )
        .photo(|ph| ph.people_confirmed = false)
        .expect(NeedsReview, &[R::PeopleNotConfirmed]),
        case(
            "an unknown person blocks every channel, internal too",
            vec![learner(1)],
        )
        .photo(|ph| ph.unknown_people = 1)
        .channel(Channel::Internal)
        .expect(Blocked, &[R::UnknownPerson]),
        case("a tagged person without a record blocks", vec![learner(1)])
            .photo(|ph| ph.tagged.push(PersonId(99)))
            .expect(Blocked, &[R::PersonNotOnRecord]),
        // C7: provenance
        case(
            "a photo outside every sign-out window needs review for the website",
            vec![learner(1)],
        )
        .photo(|ph| ph.provenance = Provenance::OutsideSignOut)
        .expect(NeedsReview, &[R::ProvenanceOutsideSignOut]),
        case(
            "a photo outside every sign-out window may be used internally",
            vec![learner(1)],
        )
        .photo(|ph| ph.provenance = Provenance::OutsideSignOut)
        .channel(Channel::Internal)
        .expect(Allowed, &[R::ConsentGiven]),
        case(
            "a photo from an unregistered device needs review for a partner",
            vec![learner(1)],
        )
        .photo(|ph| ph.provenance = Provenance::UnregisteredDevice)
        .channel(Channel::Partner(SCHOOL_A))
        .expect(NeedsReview, &[R::ProvenanceUnregisteredDevice]),
        case(
            "a photo without camera data needs review for social media",
            vec![learner(1)],
        )
        .photo(|ph| ph.provenance = Provenance::Unknown)
        .channel(Channel::Social)
        .expect(NeedsReview, &[R::ProvenanceUnknown]),
        case(
            "an acknowledged provenance warning no longer holds the photo",
            vec![learner(1)],
        )
        .photo(|ph| {
            ph.provenance = Provenance::OutsideSignOut;
            ph.provenance_acknowledged = true;
        })
        .expect(Allowed, &[R::ProvenanceAcknowledged]),
        // C8: captions
        case(
            "a caption with a tagged person's given name blocks",
            vec![learner(1)],
        )
        .photo(|ph| ph.caption = "Well done given1 on the day!".into())
        .expect(Blocked, &[R::CaptionNamesPerson]),
        case(
            "a caption with a tagged person's family name blocks",
            vec![learner(1)],
        )
        .photo(|ph| ph.caption = "The FAMILY1 team".into())
        .expect(Blocked, &[R::CaptionNamesPerson]),
        case(
            "a caption with the full name of someone not in the photo blocks",
            vec![learner(1)],
        )
        .others(vec![learner(2)])
        .photo(|ph| ph.caption = "Thanks to Given2 Family2 for the cake".into())
        .expect(Blocked, &[R::CaptionNamesPerson]),
        case(
            "a name inside a longer word is not a name",
            vec![learner(1)],
        )
        .photo(|ph| ph.caption = "Given1ness and Family1s".into())
        .expect(Allowed, &[R::ConsentGiven]),
        case("a caption without names is fine", vec![learner(1)])
            .photo(|ph| ph.caption = "Construction skills day".into())
            .expect(Allowed, &[R::ConsentGiven]),
        // C9: approval
        case(
            "an external channel needs a director's approval",
            vec![learner(1)],
        )
        .photo(|ph| ph.approvals.clear())
        .expect(NeedsReview, &[R::ApprovalMissing]),
        case("internal use needs no approval", vec![learner(1)])
            .photo(|ph| ph.approvals.clear())
            .channel(Channel::Internal)
            .expect(Allowed, &[R::ConsentGiven]),
        case(
            "a changed tag or caption voids the approval",
            vec![learner(1)],
        )
        .photo(|ph| ph.fingerprint = "fp-2".into())
        .expect(NeedsReview, &[R::ApprovalVoid]),
        case("a director's rejection blocks", vec![learner(1)])
            .photo(|ph| ph.approvals.iter_mut().for_each(|a| a.approved = false))
            .expect(Blocked, &[R::RejectedByDirector]),
        case(
            "an approval for the website is not one for social media",
            vec![learner(1)],
        )
        .photo(|ph| ph.approvals.retain(|a| a.channel == Channel::Website))
        .channel(Channel::Social)
        .expect(NeedsReview, &[R::ApprovalMissing]),
        // C11: formats
        case(
            "a format the scrubber cannot handle is blocked",
            vec![learner(1)],
        )
        .photo(|ph| {
            ph.media = MediaState::Unsupported {
                format: "HEIC".into(),
            }
        })
        .channel(Channel::Internal)
        .expect(Blocked, &[R::FormatNotPublishable]),
        case("a damaged file is blocked", vec![learner(1)])
            .photo(|ph| {
                ph.media = MediaState::Damaged {
                    reason: "truncated".into(),
                }
            })
            .expect(Blocked, &[R::FileDamaged]),
        // Covering faces
        case(
            "a covered face needs no consent",
            vec![learner(1), learner(2)],
        )
        .person(1, |p| p.forms.clear())
        .photo(|ph| ph.covered = vec![PersonId(2)])
        .expect(Allowed, &[R::FaceCovered, R::ConsentGiven]),
        case(
            "a vulnerable person stays off the website even with the face covered",
            vec![learner(1)],
        )
        .person(0, |p| p.vulnerable = true)
        .photo(|ph| ph.covered = vec![PersonId(1)])
        .expect(Blocked, &[R::Vulnerable, R::FaceCovered]),
        // C14: restricted
        case(
            "a restricted person is used nowhere, not even internally with full consent",
            vec![learner(1)],
        )
        .person(0, |p| p.restricted = true)
        .channel(Channel::Internal)
        .expect(Blocked, &[R::Restricted]),
        case(
            "a restricted person stays blocked with the face covered",
            vec![learner(1)],
        )
        .person(0, |p| p.restricted = true)
        .photo(|ph| ph.covered = vec![PersonId(1)])
        .expect(Blocked, &[R::Restricted, R::FaceCovered]),
        case(
            "a cover without a face box to paint holds the photo for review (C13)",
            vec![learner(1), learner(2)],
        )
        .person(1, |p| p.forms.clear())
        .photo(|ph| {
            ph.covered = vec![PersonId(2)];
            ph.faces
                .retain(|f| *f != FaceResolution::Person(PersonId(2)));
        })
        .expect(NeedsReview, &[R::CoverAreaUnknown, R::ConsentGiven]),
        case(
            "a cover without a box holds the photo even where the person has consent",
            vec![learner(1)],
        )
        .photo(|ph| {
            ph.covered = vec![PersonId(1)];
            ph.faces.clear();
        })
        .channel(Channel::Internal)
        .expect(NeedsReview, &[R::CoverAreaUnknown]),
        case(
            "a face box of the covered person (drawn or detected) lets the cover stand in",
            vec![learner(1)],
        )
        .person(0, |p| p.forms.clear())
        .photo(|ph| ph.covered = vec![PersonId(1)])
        .channel(Channel::Internal)
        .expect(Allowed, &[R::FaceCovered]),
        // Faces never looked for (C12)
        case(
            "a photo not analysed yet needs review on the internal channel too",
            vec![],
        )
        .photo(|ph| ph.face_search = FaceSearch::NotYet)
        .channel(Channel::Internal)
        .expect(NeedsReview, &[R::FacesNotLookedFor]),
        case(
            "a photo imported without face detection and nobody tagged needs review",
            vec![],
        )
        .photo(|ph| ph.face_search = FaceSearch::Skipped)
        .channel(Channel::Internal)
        .expect(NeedsReview, &[R::FacesNotLookedFor]),
        case(
            "a photo whose picture could not be decoded for detection needs review",
            vec![learner(1)],
        )
        .photo(|ph| ph.face_search = FaceSearch::Failed)
        .expect(NeedsReview, &[R::FacesNotLookedFor]),
        case(
            "a director's acknowledgement stands in for detection that was skipped",
            vec![learner(1)],
        )
        .photo(|ph| {
            ph.face_search = FaceSearch::Skipped;
            ph.face_search_acknowledged = true;
        })
        .expect(Allowed, &[R::FacesAcknowledged]),
        case(
            "no acknowledgement stands in for face boxes known to be wrong",
            vec![learner(1)],
        )
        .photo(|ph| {
            ph.face_search = FaceSearch::Redo;
            ph.face_search_acknowledged = true;
        })
        .channel(Channel::Internal)
        .expect(NeedsReview, &[R::FacesNotLookedFor]),
        case(
            "skipped detection does not hide a missing consent",
            vec![learner(1)],
        )
        .person(0, |p| p.forms.clear())
        .photo(|ph| ph.face_search = FaceSearch::Skipped)
        .expect(Blocked, &[R::FacesNotLookedFor, R::NoConsent]),
        // Combinations
        case(
            "every problem is reported, not just the first",
            vec![learner(1), learner(2)],
        )
        .person(0, |p| p.vulnerable = true)
        .person(1, |p| p.forms.clear())
        .photo(|ph| {
            ph.faces.push(FaceResolution::Unresolved);
            ph.caption = "given1".into();
            ph.provenance = Provenance::UnregisteredDevice;
            ph.approvals.clear();
        })
        .expect(
            Blocked,
            &[
                R::Vulnerable,
                R::NoConsent,
                R::FaceUnresolved,
                R::CaptionNamesPerson,
                R::ProvenanceUnregisteredDevice,
                R::ApprovalMissing,
            ],
        ),
    ]
}

#[test]
fn every_rule_decides_as_the_table_says() {
    let policy = ConsentPolicy::default();
    let mut failures = Vec::new();
    for case in cases() {
        let mut everyone = case.people.clone();
        everyone.extend(case.others.iter().cloned());
        let decision = decide(
            &case.photo,
            &case.people,
            &register_of(&everyone),
            case.channel,
            case.on,
            &policy,
        );
        let missing: Vec<_> = case.codes.iter().filter(|c| !decision.has(**c)).collect();
        if decision.verdict != case.verdict || !missing.is_empty() {
            failures.push(format!(
                "{}: expected {:?} with {:?}, got {:?} with {:?}",
                case.name,
                case.verdict,
                case.codes,
                decision.verdict,
                decision.reasons.iter().map(|r| r.code).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn reasons_about_people_name_the_person_they_are_about() {
    let mut people: Vec<PersonFacts> = (1..=5).map(learner).collect();
    people[3].forms.clear();
    let photo = photo_of(&people);
    let decision = decide(
        &photo,
        &people,
        &register_of(&people),
        Channel::Website,
        TODAY,
        &ConsentPolicy::default(),
    );
    let missing: Vec<_> = decision
        .reasons
        .iter()
        .filter(|r| r.code == ReasonCode::NoConsent)
        .collect();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].person, Some(PersonId(4)));
    assert!(missing[0].message.contains("Given4 Family4"));
    assert!(missing[0].message.contains("under 18"));
}

#[test]
fn approval_is_possible_only_when_nothing_but_approval_is_missing() {
    let people = vec![learner(1)];
    let register = register_of(&people);
    let policy = ConsentPolicy::default();
    let mut photo = photo_of(&people);
    photo.approvals.clear();
    let waiting = decide(&photo, &people, &register, Channel::Website, TODAY, &policy);
    assert_eq!(waiting.verdict, Verdict::NeedsReview);
    assert!(waiting.ready_for_approval());

    photo.faces.push(FaceResolution::Unresolved);
    let untagged = decide(&photo, &people, &register, Channel::Website, TODAY, &policy);
    assert!(!untagged.ready_for_approval());

    let mut blocked_people = people.clone();
    blocked_people[0].forms.clear();
    let blocked = decide(
        &photo_of(&blocked_people),
        &blocked_people,
        &register,
        Channel::Website,
        TODAY,
        &policy,
    );
    assert!(!blocked.ready_for_approval());
}

#[test]
fn the_fingerprint_changes_with_tags_caption_or_content_but_not_tag_order() {
    let base = fingerprint("abc", &[PersonId(1), PersonId(2)], 0, &[], "Sports day");
    assert_eq!(
        base,
        fingerprint("abc", &[PersonId(2), PersonId(1)], 0, &[], "Sports day")
    );
    for other in [
        fingerprint("abd", &[PersonId(1), PersonId(2)], 0, &[], "Sports day"),
        fingerprint("abc", &[PersonId(1)], 0, &[], "Sports day"),
        fingerprint("abc", &[PersonId(1), PersonId(2)], 1, &[], "Sports day"),
        fingerprint(
            "abc",
            &[PersonId(1), PersonId(2)],
            0,
            &[PersonId(2)],
            "Sports day",
        ),
        fingerprint("abc", &[PersonId(1), PersonId(2)], 0, &[], "Sports day!"),
    ] {
        assert_ne!(base, other);
    }
}

#[test]
fn the_verdict_is_the_heaviest_reason() {
    let reasons = |severities: &[Severity]| {
        severities
            .iter()
            .map(|&severity| Reason {
                code: ReasonCode::ConsentGiven,
                severity,
                person: None,
                message: String::new(),
                for_staff: None,
            })
            .collect::<Vec<_>>()
    };
    let verdict =
        |s: &[Severity]| Decision::from_reasons(Channel::Internal, TODAY, reasons(s)).verdict;
    assert_eq!(verdict(&[]), Verdict::Allowed);
    assert_eq!(verdict(&[Severity::Info]), Verdict::Allowed);
    assert_eq!(
        verdict(&[Severity::Info, Severity::NeedsReview]),
        Verdict::NeedsReview
    );
    assert_eq!(
        verdict(&[Severity::Blocks, Severity::NeedsReview, Severity::Info]),
        Verdict::Blocked
    );
}
