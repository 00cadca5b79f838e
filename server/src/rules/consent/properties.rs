//! Property tests for the invariants the rules must never break.

use jiff::ToSpan;
use jiff::civil::{Date, date};
use proptest::prelude::*;

use super::*;
use crate::domain::{PartnerId, Scopes};

const TODAY: Date = date(2026, 11, 25);

fn day(offset: i64) -> Date {
    TODAY.checked_add(offset.days()).unwrap_or(TODAY)
}

fn channel() -> impl Strategy<Value = Channel> {
    prop_oneof![
        Just(Channel::Internal),
        (1i64..3).prop_map(|id| Channel::Partner(PartnerId(id))),
        Just(Channel::Website),
        Just(Channel::Social),
    ]
}

fn scopes() -> impl Strategy<Value = Scopes> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(internal, a, b, website, social)| Scopes {
            internal,
            partners: [(a, PartnerId(1)), (b, PartnerId(2))]
                .into_iter()
                .filter_map(|(on, id)| on.then_some(id))
                .collect(),
            website,
            social,
        })
}

fn form(id: i64) -> impl Strategy<Value = ConsentForm> {
    (
        prop_oneof![
            Just(SignerKind::Parent),
            Just(SignerKind::Guardian),
            Just(SignerKind::Carer),
            Just(SignerKind::Myself)
        ],
        -800i64..30,
        proptest::option::of(-400i64..400),
        proptest::option::of(-400i64..60),
        scopes(),
    )
        .prop_map(
            move |(signer, signed, expires, withdrawn, scopes)| ConsentForm {
                id: ConsentId(id),
                signer,
                signed_on: day(signed),
                expires_on: expires.map(day),
                withdrawn_on: withdrawn.map(|w| day(signed + w.abs())),
                scopes,
            },
        )
}

fn person(id: i64) -> impl Strategy<Value = PersonFacts> {
    (
        -(30 * 366i64)..-(10 * 365i64),
        any::<bool>(),
        proptest::collection::vec(form(0), 0..4),
    )
        .prop_map(move |(born, vulnerable, forms)| PersonFacts {
            id: PersonId(id),
            given_name: format!("G{id}x"),
            family_name: format!("F{id}y"),
            born: day(born),
            role: Role::Learner,
            vulnerable,
            restricted: false,
            forms: forms
                .into_iter()
                .enumerate()
                .map(|(n, f)| ConsentForm {
                    id: ConsentId(id * 10 + n as i64),
                    ..f
                })
                .collect(),
        })
}

fn people() -> impl Strategy<Value = Vec<PersonFacts>> {
    proptest::collection::vec(any::<u8>(), 0..5).prop_flat_map(|ids| {
        ids.iter()
            .enumerate()
            .map(|(n, _)| person(n as i64 + 1))
            .collect::<Vec<_>>()
    })
}

fn photo_of(people: &[PersonFacts], approved: bool, confirmed: bool) -> PhotoFacts {
    let tagged: Vec<PersonId> = people.iter().map(|p| p.id).collect();
    PhotoFacts {
        faces: tagged
            .iter()
            .map(|&id| FaceResolution::Person(id))
            .collect(),
        tagged,
        unknown_people: 0,
        people_confirmed: confirmed,
        caption: String::new(),
        provenance: Provenance::Verified,
        provenance_acknowledged: false,
        media: MediaState::Publishable,
        fingerprint: "fp".into(),
        approvals: if approved {
            [
                Channel::Partner(PartnerId(1)),
                Channel::Partner(PartnerId(2)),
                Channel::Website,
                Channel::Social,
            ]
            .into_iter()
            .map(|channel| ApprovalFacts {
                channel,
                fingerprint: "fp".into(),
                approved: true,
            })
            .collect()
        } else {
            vec![]
        },
        covered: vec![],
        face_search: FaceSearch::Done,
        face_search_acknowledged: false,
    }
}

fn verdict(photo: &PhotoFacts, people: &[PersonFacts], channel: Channel) -> Verdict {
    decide(
        photo,
        people,
        &[],
        channel,
        TODAY,
        &ConsentPolicy::default(),
    )
    .verdict
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_person_without_any_form_is_never_allowed(
        mut people in people(), channel in channel(), which in any::<prop::sample::Index>(),
    ) {
        prop_assume!(!people.is_empty());
        let i = which.index(people.len());
        people[i].forms.clear();
        let photo = photo_of(&people, true, true);
        prop_assert_ne!(verdict(&photo, &people, channel), Verdict::Allowed);
    }

    #[test]
    fn a_person_whose_forms_all_expired_is_never_allowed(
        mut people in people(), channel in channel(), which in any::<prop::sample::Index>(),
        expired_ago in 0i64..500,
    ) {
        prop_assume!(!people.is_empty());
        let i = which.index(people.len());
        for f in &mut people[i].forms {
            f.expires_on = Some(day(-expired_ago));
        }
        let photo = photo_of(&people, true, true);
        prop_assert_ne!(verdict(&photo, &people, channel), Verdict::Allowed);
    }

    #[test]
    fn a_person_whose_forms_are_all_withdrawn_is_never_allowed(
        mut people in people(), channel in channel(), which in any::<prop::sample::Index>(),
        withdrawn_ago in 0i64..500,
    ) {
        prop_assume!(!people.is_empty());
        let i = which.index(people.len());
        for f in &mut people[i].forms {
            f.withdrawn_on = Some(day(-withdrawn_ago).max(f.signed_on));
        }
        let photo = photo_of(&people, true, true);
        prop_assert_ne!(verdict(&photo, &people, channel), Verdict::Allowed);
    }

    #[test]
    fn adding_a_person_never_turns_a_refusal_into_allowed(
        people in people(), extra in person(9), channel in channel(),
        approved in any::<bool>(), confirmed in any::<bool>(),
    ) {
        let before = photo_of(&people, approved, confirmed);
        prop_assume!(verdict(&before, &people, channel) != Verdict::Allowed);
        let mut more = people.clone();
        more.push(extra);
        let mut after = photo_of(&more, approved, confirmed);
        after.fingerprint = before.fingerprint.clone();
        prop_assert_ne!(verdict(&after, &more, channel), Verdict::Allowed);
    }

    #[test]
    fn allowed_means_everyone_has_granted_consent_and_nobody_vulnerable_is_public(
        people in people(), channel in channel(),
    ) {
        let photo = photo_of(&people, true, true);
        if verdict(&photo, &people, channel) == Verdict::Allowed {
            for p in &people {
                let standing = effective_consent(
                    &p.forms, p.born, channel, TODAY, &ConsentPolicy::default(),
                );
                prop_assert!(standing.is_granted(), "{:?}", standing);
                prop_assert!(!(p.vulnerable && channel.is_public()));
            }
        }
    }
}
