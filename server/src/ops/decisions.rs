//! Consent decisions on the stored records, read-only: the pure decision of `consent` fed
//! with what the store says about a photo, a person and the channels, and the renewal
//! list. Changes are in `ops`.
use jiff::civil::Date;
use rusqlite::Connection;
use serde::Serialize;

use crate::domain::{Channel, PersonId, PhotoId};
use crate::rules::consent::{
    self, ApprovalFacts, ConsentPolicy, Decision, FaceResolution, FaceSearch, MediaState,
    PhotoFacts, Provenance,
};
use crate::store::partners;
use crate::store::{Result, people, photos};

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
    let register = people::register_names(conn, &facts.caption)?;
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
    let register = people::register_names(conn, &facts.caption)?;
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
