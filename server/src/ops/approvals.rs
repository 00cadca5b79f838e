//! A director's decisions on photos (C9) and the takedowns that follow when a live
//! publication is no longer allowed: at once after a change, and by the daily sweep for
//! causes that come with dates.
use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::Connection;

use crate::domain::{AccountId, Channel, PersonId, PhotoId};
use crate::rules::consent::{self, ConsentPolicy, Decision, ReasonCode, Severity};
use crate::store::audit::Action;
use crate::store::partners;
use crate::store::publications;
use crate::store::{Result, StoreError, people, photos, requests};

use super::log;
use crate::ops::decisions::decide_photo;
use crate::store::approvals;

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

/// A director approves or rejects a photo for a channel (C9). Approval is refused unless
/// nothing but the approval stands in the way; a rejection is always possible.
/// The director is the account acting (`ctx.by`).
pub fn decide_approval(
    conn: &mut Connection,
    photo: PhotoId,
    channel: Channel,
    approve: bool,
    note: &str,
    ctx: &crate::ops::Ctx,
) -> Result<Decision> {
    let (today, policy, now) = (ctx.today, &ctx.policy, ctx.now);
    let director: AccountId = ctx.by.ok_or_else(|| {
        StoreError::Invalid("an approval is a director's: no account acts".into())
    })?;
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
    let register = people::register_names(&tx, &facts.caption)?;
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
    approvals::record_approval(
        &tx,
        &approvals::NewApproval {
            photo,
            channel,
            fingerprint: &facts.fingerprint,
            approved: approve,
            note,
            director,
        },
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
        let channel = publication.channel;
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

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::domain::{ExternalRef, Name, Role, Scopes, SignerKind};
    use crate::ops::people::{AsOf, update_person};
    use crate::rules::consent::Verdict;
    use crate::store::consents;
    use crate::store::faces;
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
                format: crate::domain::Format::Jpeg,
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        faces::add_tag(conn, photo, Some(who), now()).unwrap();
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
    fn a_form_lapsing_by_date_starts_the_websites_deletion_as_a_withdrawal_does() {
        use crate::infra::config::EndpointKind;
        use crate::store::deliveries::{self, DeliveryState};
        let mut conn = open_in_memory().unwrap();
        let expiring = person(&conn, "L1", date(2012, 5, 5));
        parent_form(&conn, expiring, Some(date(2026, 12, 1)));
        let publication = published(&conn, expiring, Channel::Website);
        let url = "https://www.school.example";
        deliveries::insert(&conn, publication, url, EndpointKind::Wordpress, now()).unwrap();
        deliveries::mark_delivered(&conn, publication, now()).unwrap();
        assert_eq!(deliveries::start_removals(&conn, now()).unwrap(), 0);
        assert_eq!(
            deliveries::removal_outstanding(&conn, publication).unwrap(),
            None
        );

        let policy = ConsentPolicy::default();
        sweep(&mut conn, date(2026, 12, 2), &policy, "system", now()).unwrap();
        assert!(
            deliveries::removal_outstanding(&conn, publication)
                .unwrap()
                .unwrap()
                .contains("the website still has this photo")
        );
        assert_eq!(deliveries::start_removals(&conn, now()).unwrap(), 1);
        let d = deliveries::delivery(&conn, publication).unwrap().unwrap();
        assert_eq!(d.state, DeliveryState::Removing);
        assert_eq!(
            deliveries::due(&conn, now()).unwrap().len(),
            1,
            "due at once"
        );
        deliveries::mark_removed(&conn, publication, now()).unwrap();
        assert_eq!(
            deliveries::removal_outstanding(&conn, publication).unwrap(),
            None
        );
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
