//! Tagging a whole photo in one go: every face's answer (a person, "not a face", or no
//! answer yet), which faces are covered, and whether everyone in it is tagged, checked
//! together and applied as one change or not at all.

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::Connection;
use serde_json::json;

use super::log;
use crate::domain::{PersonId, PhotoId};
use crate::rules::consent::FaceResolution;
use crate::store::audit::Action;
use crate::store::faces::{self, Face};
use crate::store::{Result, photos};

/// What the form says about one face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaceAnswer {
    pub face: i64,
    pub answer: FaceResolution,
    /// Paint over this face in published copies (a named person only).
    pub cover: bool,
}

/// The whole form: the faces it lists, and "everyone in this photo is tagged". Faces of
/// the photo it does not list keep what they had.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tagging {
    pub faces: Vec<FaceAnswer>,
    pub everyone_tagged: bool,
}

/// Why the form cannot be applied, next to the face it is about (`None`: the whole form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub face: Option<i64>,
    pub message: String,
}

fn problem(face: Option<i64>, message: impl Into<String>) -> Problem {
    Problem {
        face,
        message: message.into(),
    }
}

/// Checks a form against the photo's faces (in page order, numbered from 1): every face
/// it names is the photo's and named once, a person is in at most one face, only a named
/// person's face can be covered, and "everyone is tagged" needs an answer for every face.
pub fn check(faces: &[Face], tagging: &Tagging) -> Vec<Problem> {
    let number = |id: i64| faces.iter().position(|f| f.id == id).map(|n| n + 1);
    let mut problems = Vec::new();
    let mut seen: HashMap<i64, ()> = HashMap::new();
    let mut first_face_of: HashMap<PersonId, usize> = HashMap::new();
    for answer in &tagging.faces {
        if number(answer.face).is_none() {
            problems.push(problem(
                Some(answer.face),
                "this face is not on this photo (the page may be out of date: open it again)",
            ));
            continue;
        }
        if seen.insert(answer.face, ()).is_some() {
            problems.push(problem(Some(answer.face), "this face is in the form twice"));
            continue;
        }
        match answer.answer {
            FaceResolution::Person(p) => {
                let n = number(answer.face).unwrap_or_default();
                if let Some(first) = first_face_of.get(&p) {
                    problems.push(problem(
                        Some(answer.face),
                        format!("the same person as face {first}: a person is in a photo once"),
                    ));
                } else {
                    first_face_of.insert(p, n);
                }
            }
            FaceResolution::Dismissed | FaceResolution::Unresolved if answer.cover => {
                problems.push(problem(
                    Some(answer.face),
                    "only a named person's face can be covered: name them, or mark it not a face",
                ));
            }
            _ => {}
        }
    }
    // People on faces the form does not list stay where they are.
    for face in faces.iter().filter(|f| !seen.contains_key(&f.id)) {
        if let FaceResolution::Person(p) = face.resolution
            && let Some(answer) = tagging
                .faces
                .iter()
                .find(|a| a.answer == FaceResolution::Person(p))
        {
            problems.push(problem(
                Some(answer.face),
                format!(
                    "the same person as face {}: a person is in a photo once",
                    number(face.id).unwrap_or_default()
                ),
            ));
        }
    }
    if tagging.everyone_tagged {
        let open: Vec<i64> = faces
            .iter()
            .filter(|f| {
                let answer = tagging
                    .faces
                    .iter()
                    .find(|a| a.face == f.id)
                    .map_or(f.resolution, |a| a.answer);
                answer == FaceResolution::Unresolved
            })
            .map(|f| f.id)
            .collect();
        for &face in &open {
            problems.push(problem(
                Some(face),
                "no answer yet: name the person, or mark it not a face",
            ));
        }
        if !open.is_empty() {
            problems.push(problem(
                None,
                format!(
                    "everyone is tagged only once every face has an answer ({} without one)",
                    open.len()
                ),
            ));
        }
    }
    problems
}

/// What saving the form changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub assigned: usize,
    pub dismissed: usize,
    pub reset: usize,
    pub covered: usize,
    pub uncovered: usize,
    /// "Everyone is tagged" changed.
    pub confirmation_changed: bool,
}

impl Applied {
    pub fn changes(&self) -> usize {
        self.assigned
            + self.dismissed
            + self.reset
            + self.covered
            + self.uncovered
            + usize::from(self.confirmation_changed)
    }
}

/// Applies a tagging form to a photo in one transaction with one audit entry, or, when
/// [`check`] finds problems (against the faces as they are now), changes nothing and
/// returns them. A form that changes nothing writes nothing.
pub fn tag_photo(
    conn: &mut Connection,
    photo: PhotoId,
    tagging: &Tagging,
    actor: &str,
    now: Timestamp,
) -> Result<std::result::Result<Applied, Vec<Problem>>> {
    let tx = conn.transaction()?;
    let stored = photos::photo(&tx, photo)?;
    let current = faces::faces(&tx, photo)?;
    let problems = check(&current, tagging);
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let mut applied = Applied::default();
    // Faces that let go of a person first, so a person can move from one face to another.
    let mut answers: Vec<&FaceAnswer> = tagging.faces.iter().collect();
    answers.sort_by_key(|a| matches!(a.answer, FaceResolution::Person(_)));
    for answer in answers {
        let was = current
            .iter()
            .find(|f| f.id == answer.face)
            .map(|f| f.resolution);
        if was == Some(answer.answer) {
            continue;
        }
        faces::resolve_face(&tx, photo, answer.face, answer.answer, now)?;
        match answer.answer {
            FaceResolution::Person(_) => applied.assigned += 1,
            FaceResolution::Dismissed => applied.dismissed += 1,
            FaceResolution::Unresolved => applied.reset += 1,
        }
    }
    let tags = faces::tags(&tx, photo)?;
    for answer in &tagging.faces {
        let FaceResolution::Person(person) = answer.answer else {
            continue;
        };
        let Some(tag) = tags.iter().find(|t| t.person_id == Some(person)) else {
            continue;
        };
        if tag.covered != answer.cover {
            faces::set_covered(&tx, photo, tag.id, answer.cover, now)?;
            if answer.cover {
                applied.covered += 1;
            } else {
                applied.uncovered += 1;
            }
        }
    }
    if stored.people_confirmed != tagging.everyone_tagged {
        photos::set_people_confirmed(&tx, photo, tagging.everyone_tagged)?;
        applied.confirmation_changed = true;
    }
    if applied.changes() == 0 {
        return Ok(Ok(applied));
    }
    log(
        &tx,
        actor,
        Action::PhotoTagging,
        format!("photo:{photo}"),
        json!({
            "assigned": applied.assigned, "dismissed": applied.dismissed, "reset": applied.reset,
            "covered": applied.covered, "uncovered": applied.uncovered,
            "everyone_tagged": tagging.everyone_tagged,
        }),
        now,
    )?;
    tx.commit()?;
    Ok(Ok(applied))
}

/// Dismisses, in one go, every unresolved face of an import whose box is smaller than
/// `min_px` on its shorter side (nobody can be recognised from it). Returns how many.
pub fn dismiss_small_faces(
    conn: &mut Connection,
    session: Option<i64>,
    min_px: u32,
    actor: &str,
    now: Timestamp,
) -> Result<usize> {
    let tx = conn.transaction()?;
    let small = faces::small_unresolved_faces(&tx, session, min_px)?;
    for &(photo, face) in &small {
        faces::resolve_face(&tx, photo, face, FaceResolution::Dismissed, now)?;
    }
    if !small.is_empty() {
        let photos: std::collections::BTreeSet<i64> = small.iter().map(|(p, _)| p.0).collect();
        log(
            &tx,
            actor,
            Action::ImportDismissSmallFaces,
            session.map_or_else(|| "import:none".into(), |s| format!("session:{s}")),
            json!({ "faces": small.len(), "photos": photos, "min_px": min_px }),
            now,
        )?;
    }
    tx.commit()?;
    Ok(small.len())
}

/// Covers, in every photo of an import, the faces of `people` (the booked group's people
/// who must not be photographed, or not appear in public). Returns how many tags.
pub fn cover_people(
    conn: &mut Connection,
    session: Option<i64>,
    people: &[PersonId],
    actor: &str,
    now: Timestamp,
) -> Result<usize> {
    let tx = conn.transaction()?;
    let tags = faces::uncovered_tags_of(&tx, session, people)?;
    for &(photo, tag) in &tags {
        faces::set_covered(&tx, photo, tag, true, now)?;
    }
    if !tags.is_empty() {
        let photos: std::collections::BTreeSet<i64> = tags.iter().map(|(p, _)| p.0).collect();
        log(
            &tx,
            actor,
            Action::ImportCoverCautioned,
            session.map_or_else(|| "import:none".into(), |s| format!("session:{s}")),
            json!({ "tags": tags.len(), "photos": photos }),
            now,
        )?;
    }
    tx.commit()?;
    Ok(tags.len())
}

/// Confirms, after one look at their contact sheet, that nobody is in `photos`: each must
/// still be a photo the detector looked at and found no face in (or only faces dismissed),
/// with no tag; otherwise
/// nothing is confirmed and the first that is not is named.
pub fn confirm_without_people(
    conn: &mut Connection,
    photos_seen: &[PhotoId],
    actor: &str,
    now: Timestamp,
) -> Result<usize> {
    let tx = conn.transaction()?;
    let mut confirmed = 0;
    for &photo in photos_seen {
        let stored = photos::photo(&tx, photo)?;
        if stored.face_search != crate::rules::consent::FaceSearch::Done
            || faces::faces(&tx, photo)?
                .iter()
                .any(|f| f.resolution != FaceResolution::Dismissed)
            || !faces::tags(&tx, photo)?.is_empty()
        {
            return Err(crate::store::StoreError::Conflict(format!(
                "photo {photo} has faces or people in it now (or was not looked at by the \
                 detector): open it and tag it; nothing was confirmed"
            )));
        }
        if !stored.people_confirmed {
            photos::set_people_confirmed(&tx, photo, true)?;
            confirmed += 1;
        }
    }
    if confirmed > 0 {
        log(
            &tx,
            actor,
            Action::ImportConfirmWithoutPeople,
            "photos".into(),
            json!({ "photos": photos_seen, "confirmed": confirmed }),
            now,
        )?;
    }
    tx.commit()?;
    Ok(confirmed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::faces::FaceSource;

    const SAM: PersonId = PersonId(1);
    const ALEX: PersonId = PersonId(2);

    fn face(id: i64, resolution: FaceResolution) -> Face {
        Face {
            id,
            x: 0,
            y: 0,
            w: 40,
            h: 40,
            resolution,
            source: FaceSource::Detected,
        }
    }

    fn answer(face: i64, answer: FaceResolution, cover: bool) -> FaceAnswer {
        FaceAnswer {
            face,
            answer,
            cover,
        }
    }

    use FaceResolution::{Dismissed, Person, Unresolved};

    #[test]
    fn the_form_is_checked_as_a_whole_and_each_problem_is_put_next_to_its_face() {
        let photo = [
            face(10, Unresolved),
            face(11, Unresolved),
            face(12, Person(ALEX)),
        ];
        // (form, expected problems as (face, words in the message))
        type Expected = Vec<(Option<i64>, &'static str)>;
        let table: Vec<(Tagging, Expected)> = vec![
            (
                Tagging {
                    faces: vec![
                        answer(10, Person(SAM), true),
                        answer(11, Dismissed, false),
                        answer(12, Person(ALEX), false),
                    ],
                    everyone_tagged: true,
                },
                vec![],
            ),
            (
                Tagging {
                    faces: vec![
                        answer(10, Person(SAM), false),
                        answer(11, Person(SAM), false),
                    ],
                    everyone_tagged: false,
                },
                vec![(Some(11), "same person as face 1")],
            ),
            (
                // Alex is on face 3, which the form does not list.
                Tagging {
                    faces: vec![answer(10, Person(ALEX), false)],
                    everyone_tagged: false,
                },
                vec![(Some(10), "same person as face 3")],
            ),
            (
                Tagging {
                    faces: vec![answer(10, Dismissed, true)],
                    everyone_tagged: false,
                },
                vec![(Some(10), "only a named person's face can be covered")],
            ),
            (
                Tagging {
                    faces: vec![answer(10, Person(SAM), false)],
                    everyone_tagged: true,
                },
                vec![(Some(11), "no answer yet"), (None, "1 without one")],
            ),
            (
                Tagging {
                    faces: vec![answer(99, Dismissed, false)],
                    everyone_tagged: false,
                },
                vec![(Some(99), "not on this photo")],
            ),
            (
                Tagging {
                    faces: vec![answer(10, Dismissed, false), answer(10, Dismissed, false)],
                    everyone_tagged: false,
                },
                vec![(Some(10), "twice")],
            ),
        ];
        for (form, expected) in table {
            let got = check(&photo, &form);
            assert_eq!(got.len(), expected.len(), "{form:?}: {got:?}");
            for (problem, (face, words)) in got.iter().zip(&expected) {
                assert_eq!(problem.face, *face, "{form:?}: {got:?}");
                assert!(problem.message.contains(words), "{form:?}: {got:?}");
            }
        }
    }

    #[test]
    fn a_photo_without_faces_can_be_confirmed_and_a_person_can_move_between_faces() {
        assert!(
            check(
                &[],
                &Tagging {
                    faces: vec![],
                    everyone_tagged: true
                }
            )
            .is_empty()
        );
        let photo = [face(10, Person(SAM)), face(11, Unresolved)];
        let moved = Tagging {
            faces: vec![answer(10, Dismissed, false), answer(11, Person(SAM), true)],
            everyone_tagged: true,
        };
        assert_eq!(check(&photo, &moved), vec![]);
    }

    fn now() -> Timestamp {
        "2026-11-25T10:00:00Z".parse().unwrap()
    }

    fn learner(conn: &Connection, r: &str) -> PersonId {
        use crate::domain::{ExternalRef, Name, Role};
        crate::store::people::insert_person(
            conn,
            &crate::store::people::NewPerson {
                ext_ref: ExternalRef::parse(r).unwrap(),
                given_name: Name::parse("Sam").unwrap(),
                family_name: Name::parse(r).unwrap(),
                date_of_birth: jiff::civil::date(2008, 1, 1),
                role: Role::Learner,
                vulnerable: false,
                may_sign_out: false,
            },
            now(),
        )
        .unwrap()
    }

    fn entries(conn: &Connection) -> Vec<String> {
        crate::store::audit::list(conn, &crate::store::audit::Filter::default())
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }

    #[test]
    fn a_form_is_saved_whole_with_one_audit_entry_or_not_at_all() {
        let mut conn = crate::store::open_in_memory().unwrap();
        let (sam, alex) = (learner(&conn, "L1"), learner(&conn, "L2"));
        let photo = photos::insert_photo(
            &conn,
            &photos::NewPhoto {
                content_hash: "h1".into(),
                format: crate::domain::Format::Jpeg,
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        let ids: Vec<i64> = (0..3)
            .map(|i| {
                faces::insert_face(
                    &conn,
                    photo,
                    faces::FaceRect {
                        x: i * 100,
                        y: 0,
                        w: 50,
                        h: 50,
                    },
                    FaceSource::Detected,
                )
                .unwrap()
            })
            .collect();
        let before = entries(&conn).len();

        // Sam twice: refused, and nothing at all changed (face 1 not assigned either).
        let bad = Tagging {
            faces: vec![
                answer(ids[0], Person(sam), false),
                answer(ids[1], Person(sam), false),
                answer(ids[2], Dismissed, false),
            ],
            everyone_tagged: true,
        };
        let problems = tag_photo(&mut conn, photo, &bad, "account:1", now())
            .unwrap()
            .unwrap_err();
        assert_eq!(problems[0].face, Some(ids[1]));
        assert!(
            faces::faces(&conn, photo)
                .unwrap()
                .iter()
                .all(|f| f.resolution == Unresolved)
        );
        assert!(!photos::photo(&conn, photo).unwrap().people_confirmed);
        assert_eq!(entries(&conn).len(), before);

        let good = Tagging {
            faces: vec![
                answer(ids[0], Person(sam), true),
                answer(ids[1], Person(alex), false),
                answer(ids[2], Dismissed, false),
            ],
            everyone_tagged: true,
        };
        let applied = tag_photo(&mut conn, photo, &good, "account:1", now())
            .unwrap()
            .unwrap();
        assert_eq!(
            (applied.assigned, applied.dismissed, applied.covered),
            (2, 1, 1)
        );
        let tags = faces::tags(&conn, photo).unwrap();
        assert_eq!(tags.len(), 2);
        assert!(tags.iter().any(|t| t.person_id == Some(sam) && t.covered));
        assert!(tags.iter().any(|t| t.person_id == Some(alex) && !t.covered));
        assert!(photos::photo(&conn, photo).unwrap().people_confirmed);
        assert_eq!(
            entries(&conn).len(),
            before + 1,
            "one entry for the whole form"
        );
        assert_eq!(
            photos::status(&conn, photo).unwrap(),
            photos::PhotoStatus::Ready
        );

        // The same form again changes nothing and writes nothing.
        let again = tag_photo(&mut conn, photo, &good, "account:1", now())
            .unwrap()
            .unwrap();
        assert_eq!(again.changes(), 0);
        assert_eq!(entries(&conn).len(), before + 1);

        // Sam and Alex swap faces in one form; Sam stays covered on the new face.
        let swapped = Tagging {
            faces: vec![
                answer(ids[0], Person(alex), false),
                answer(ids[1], Person(sam), true),
                answer(ids[2], Dismissed, false),
            ],
            everyone_tagged: true,
        };
        tag_photo(&mut conn, photo, &swapped, "account:1", now())
            .unwrap()
            .unwrap();
        let now_faces = faces::faces(&conn, photo).unwrap();
        assert_eq!(now_faces[0].resolution, Person(alex));
        assert_eq!(now_faces[1].resolution, Person(sam));
        let tags = faces::tags(&conn, photo).unwrap();
        assert!(tags.iter().any(|t| t.person_id == Some(sam) && t.covered));
    }

    #[test]
    fn bulk_actions_on_an_import_dismiss_small_faces_cover_people_and_confirm_empty_photos() {
        let mut conn = crate::store::open_in_memory().unwrap();
        let sam = learner(&conn, "L1");
        let new_photo = |conn: &Connection, hash: &str| {
            photos::insert_photo(
                conn,
                &photos::NewPhoto {
                    content_hash: hash.into(),
                    format: crate::domain::Format::Jpeg,
                    ..Default::default()
                },
                now(),
            )
            .unwrap()
        };
        let crowd = new_photo(&conn, "h1");
        let face = |conn: &Connection, size: u32| {
            faces::insert_face(
                conn,
                crowd,
                faces::FaceRect {
                    x: 0,
                    y: 0,
                    w: size,
                    h: size,
                },
                FaceSource::Detected,
            )
            .unwrap()
        };
        let (tiny, big, named) = (face(&conn, 24), face(&conn, 120), face(&conn, 39));
        faces::resolve_face(&conn, crowd, named, Person(sam), now()).unwrap();

        // Only the unresolved face under 40 px goes; the named one stays named.
        assert_eq!(
            dismiss_small_faces(&mut conn, None, 40, "account:1", now()).unwrap(),
            1
        );
        let after = faces::faces(&conn, crowd).unwrap();
        let state = |id| after.iter().find(|f| f.id == id).unwrap().resolution;
        assert_eq!(state(tiny), Dismissed);
        assert_eq!(state(big), Unresolved);
        assert_eq!(state(named), Person(sam));

        assert_eq!(
            cover_people(&mut conn, None, &[sam], "account:1", now()).unwrap(),
            1
        );
        assert!(faces::tags(&conn, crowd).unwrap()[0].covered);
        assert_eq!(
            cover_people(&mut conn, None, &[sam], "account:1", now()).unwrap(),
            0
        );

        // The contact sheet: an empty photo the detector looked at is confirmed; one with a
        // face is refused and then nothing is confirmed.
        let empty = new_photo(&conn, "h2");
        photos::set_face_search(&conn, empty, crate::rules::consent::FaceSearch::Done).unwrap();
        assert_eq!(
            photos::without_faces(&conn, None)
                .unwrap()
                .iter()
                .map(|p| p.id)
                .collect::<Vec<_>>(),
            vec![empty]
        );
        let refused = confirm_without_people(&mut conn, &[empty, crowd], "account:1", now());
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains(&format!("photo {crowd}"))
        );
        assert!(!photos::photo(&conn, empty).unwrap().people_confirmed);
        assert_eq!(
            confirm_without_people(&mut conn, &[empty], "account:1", now()).unwrap(),
            1
        );
        assert!(photos::photo(&conn, empty).unwrap().people_confirmed);
        assert!(photos::without_faces(&conn, None).unwrap().is_empty());
        let words: Vec<String> = entries(&conn);
        for action in [
            "import.dismiss_small_faces",
            "import.cover_cautioned",
            "import.confirm_without_people",
        ] {
            assert_eq!(
                words.iter().filter(|w| *w == action).count(),
                1,
                "{action}: {words:?}"
            );
        }
    }
}
