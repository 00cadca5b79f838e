//! Subject access (L4): everything held about one person, as one zip a parent can read.
//!
//! `index.html` (readable in any browser) and `person.json` (the same data for a
//! machine), the scans of their consent forms, and every photo they are tagged in with
//! every other face painted solid black and the metadata scrubbed. Nothing in it names
//! anyone else: other people's tags, captions (which may name people) and signers' names
//! are left out; the audit entries are the ones about this person, and hold ids only.
//!
//! [`gather`] reads the database; [`build`] reads files and encodes, with no database
//! connection, so a caller holding a lock keeps it only for the first.

use std::io::Write;
use std::path::{Path, PathBuf};

use askama::Template;
use serde::Serialize;

use crate::domain::PersonId;
use crate::infra::archive::Archive;
use crate::rules::consent::FaceResolution;
use crate::store::consents;
use crate::store::faces;
use crate::store::publications;
use crate::store::{self, audit, custody, people, photos};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("cannot write the export: {0}")]
    Zip(String),
}

/// One of the person's forms.
#[derive(Debug, Clone, Serialize)]
pub struct Form {
    pub id: i64,
    pub signer: String,
    pub signed_on: String,
    pub expires_on: Option<String>,
    pub withdrawn_on: Option<String>,
    pub internal: bool,
    pub partners: usize,
    pub website: bool,
    pub social: bool,
    /// The scan's name in the zip, if there is one.
    pub scan: Option<String>,
    #[serde(skip)]
    scan_path: Option<String>,
}

/// Where one photo went.
#[derive(Debug, Clone, Serialize)]
pub struct Publication {
    pub channel: String,
    pub published_at: jiff::Timestamp,
    pub takedown_since: Option<jiff::Timestamp>,
    pub taken_down_at: Option<jiff::Timestamp>,
}

/// One photo the person is tagged in.
#[derive(Debug, Clone, Serialize)]
pub struct Photo {
    pub id: i64,
    pub taken_at: Option<jiff::Timestamp>,
    pub imported_at: jiff::Timestamp,
    /// Its name in the zip, or why it is not there.
    pub file: Option<String>,
    pub not_included: Option<String>,
    /// Faces of other people painted out.
    pub others_covered: usize,
    pub publications: Vec<Publication>,
    #[serde(skip)]
    content_hash: String,
    #[serde(skip)]
    covers: Vec<consentcam_scrub::Cover>,
    /// A still photo that decodes (JPEG, PNG, HEIC) and can be exported as a clean JPEG.
    #[serde(skip)]
    still: bool,
    #[serde(skip)]
    format: crate::domain::Format,
    #[serde(skip)]
    orientation: Option<u16>,
}

/// One sign-out (staff only).
#[derive(Debug, Clone, Serialize)]
pub struct SignOut {
    pub device: i64,
    pub out_at: String,
    pub returned_at: Option<String>,
}

/// An audit entry about the person.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub details: serde_json::Value,
}

/// A note kept about the person (e.g. why the vulnerable flag was lowered).
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub kind: String,
    pub text: String,
    pub written_at: String,
}

/// Everything held about the person, as read from the database.
#[derive(Debug, Clone, Serialize)]
pub struct Gathered {
    pub made_at: String,
    pub person: people::Person,
    pub forms: Vec<Form>,
    pub photos: Vec<Photo>,
    pub sign_outs: Vec<SignOut>,
    pub notes: Vec<Note>,
    pub audit: Vec<Event>,
}

/// Reads what is held about `id` for an export, and records the export (`person.exported`)
/// in the same transaction: the one way an export is made.
pub fn gather_for_export(
    conn: &mut rusqlite::Connection,
    id: PersonId,
    actor: &str,
    now: jiff::Timestamp,
) -> Result<Gathered, ExportError> {
    let tx = conn.transaction().map_err(store::StoreError::from)?;
    let gathered = gather(&tx, id, now)?;
    crate::ops::log(
        &tx,
        actor,
        crate::store::audit::Action::PersonExported,
        format!("person:{id}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit().map_err(store::StoreError::from)?;
    Ok(gathered)
}

/// Reads what is held about `id`.
pub fn gather(
    conn: &rusqlite::Connection,
    id: PersonId,
    now: jiff::Timestamp,
) -> Result<Gathered, ExportError> {
    let person = people::person(conn, id)?;
    let forms = consents::consents_of(conn, id)?
        .into_iter()
        .map(|f| {
            let ext = f
                .evidence_path
                .as_deref()
                .and_then(|p| p.rsplit_once('.'))
                .map(|(_, e)| e.to_owned());
            Form {
                id: f.id.0,
                signer: f.signer.as_str().to_owned(),
                signed_on: f.signed_on.to_string(),
                expires_on: f.expires_on.map(|d| d.to_string()),
                withdrawn_on: f.withdrawn_on.map(|d| d.to_string()),
                internal: f.scopes.internal,
                partners: f.scopes.partners.len(),
                website: f.scopes.website,
                social: f.scopes.social,
                scan: ext.map(|e| format!("scans/consent-form-{}.{e}", f.id.0)),
                scan_path: f.evidence_path,
            }
        })
        .collect();
    let mut photos_out = Vec::new();
    for photo in photos::photos_of_person(conn, id)? {
        let covers: Vec<_> = faces::faces(conn, photo.id)?
            .iter()
            .filter(|f| f.resolution != FaceResolution::Person(id))
            .map(|f| crate::ops::publish::stored_cover(&photo, f))
            .collect();
        let publications = publications::publications_of_photo(conn, photo.id)?
            .into_iter()
            .map(|p| Publication {
                channel: p.channel.code(),
                published_at: p.published_at,
                takedown_since: p.takedown_since,
                taken_down_at: p.takedown_done_at,
            })
            .collect();
        photos_out.push(Photo {
            id: photo.id.0,
            taken_at: photo.taken_at,
            imported_at: photo.imported_at,
            file: None,
            not_included: None,
            others_covered: covers.len(),
            publications,
            still: photo.format.is_publishable() && photo.damage.is_none(),
            format: photo.format,
            orientation: photo.orientation,
            content_hash: photo.content_hash,
            covers,
        });
    }
    let sign_outs = custody::sessions_of_person(conn, id)?
        .into_iter()
        .map(|s| SignOut {
            device: s.device_id.0,
            out_at: s.out_at.to_string(),
            returned_at: s.returned_at.map(|t| t.to_string()),
        })
        .collect();
    let audit = audit::list(
        conn,
        &audit::Filter {
            subject: Some(format!("person:{id}")),
            limit: Some(u32::MAX),
            ..audit::Filter::default()
        },
    )?
    .into_iter()
    .map(|r| Event {
        at: r.at,
        actor: r.actor,
        action: r.action,
        details: r.details,
    })
    .collect();
    Ok(Gathered {
        made_at: now.to_string(),
        person,
        forms,
        photos: photos_out,
        sign_outs,
        notes: store::retention::person_notes(conn, id)?
            .into_iter()
            .map(|(_, kind, text, written_at)| Note {
                kind,
                text,
                written_at,
            })
            .collect(),
        audit,
    })
}

#[derive(Template)]
#[template(path = "subject_access.html")]
struct Index<'a> {
    g: &'a Gathered,
}

fn zip_error(e: impl std::fmt::Display) -> ExportError {
    ExportError::Zip(e.to_string())
}

/// Builds the zip: photos covered and scrubbed, scans, `index.html`, `person.json`.
pub fn build(
    mut gathered: Gathered,
    archive: &Archive,
    sandbox: &crate::infra::config::SandboxSettings,
) -> Result<Vec<u8>, ExportError> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let add = |zip: &mut zip::ZipWriter<_>, name: &str, bytes: &[u8]| {
        zip.start_file(name, options).map_err(zip_error)?;
        zip.write_all(bytes).map_err(zip_error)
    };
    for form in &mut gathered.forms {
        let (Some(name), Some(stored)) = (&form.scan, &form.scan_path) else {
            continue;
        };
        match archive.read(stored).and_then(|found| {
            found.ok_or_else(|| crate::store::StoreError::Invalid("it is not there".into()))
        }) {
            Ok(bytes) => add(&mut zip, name, &bytes)?,
            Err(e) => {
                tracing::warn!(form = form.id, error = %e, "a scan named by a form is missing");
                form.scan = None;
            }
        }
    }
    for photo in &mut gathered.photos {
        if !photo.still {
            photo.not_included =
                Some("not a readable still photo (kept in the photo store as it came)".into());
            continue;
        }
        let painted = crate::ops::publish::read_original(archive, &photo.content_hash)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                crate::ops::publish::clean_copy(
                    &bytes,
                    photo.format,
                    photo.orientation,
                    &photo.covers,
                    &Default::default(),
                    sandbox,
                )
                .map_err(|e| e.to_string())
            });
        match painted {
            Ok(clean) => {
                let name = format!("photos/photo-{}.jpg", photo.id);
                add(&mut zip, &name, &clean.jpeg)?;
                photo.file = Some(name);
            }
            Err(why) => {
                tracing::warn!(photo = photo.id, %why, "a photo could not go into the export");
                photo.not_included = Some(format!("could not be prepared: {why}"));
            }
        }
    }
    let json = serde_json::to_vec_pretty(&gathered).map_err(zip_error)?;
    add(&mut zip, "person.json", &json)?;
    let html = Index { g: &gathered }.render().map_err(zip_error)?;
    add(&mut zip, "index.html", html.as_bytes())?;
    Ok(zip.finish().map_err(zip_error)?.into_inner())
}

/// Where the CLI writes: refuses to replace a file.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    crate::infra::files::write_new(path, bytes)
}
