//! Files a logged-in user may see: photo previews and thumbnails, and the scanned consent
//! forms kept as evidence. Always `Cache-Control: no-store`; names never appear in file
//! names (evidence files get an opaque random name).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::NO_STORE;
use super::chrome::PageError;
use crate::domain::{ConsentId, PhotoId};
use crate::infra::archive::Archive;
use crate::store::faces;
use crate::store::photos;
use crate::web::AppState;
use crate::web::access::Path;
use crate::web::error::ApiError;
use consentcam_media::Bucket;

fn is_hex(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The archive key the import writes a photo's preview under (a metadata-free, upright
/// JPEG, 1600 px). `None` for a hash that is not plain hex, so no key can leave its area.
pub fn preview_key(content_hash: &str) -> Option<String> {
    is_hex(content_hash).then(|| Archive::preview_key(content_hash))
}

/// The archive key of a photo's thumbnail (a metadata-free, upright JPEG, 320 px).
pub fn thumbnail_key(content_hash: &str) -> Option<String> {
    is_hex(content_hash).then(|| Archive::thumbnail_key(content_hash))
}

/// Whether the photo's preview is in the archive (looked up with no connection held).
pub async fn has_preview(state: &AppState, content_hash: &str) -> bool {
    let Some(key) = preview_key(content_hash) else {
        return false;
    };
    let archive = state.archive().clone();
    tokio::task::spawn_blocking(move || archive.size(&key))
        .await
        .is_ok_and(|found| found.is_ok_and(|size| size.is_some()))
}

/// The photo's size as it is seen (EXIF orientations 5 to 8 turn it a quarter), which is
/// how face boxes and renditions are measured.
pub fn upright_size(photo: &photos::Photo) -> (u32, u32) {
    let w = photo.width.unwrap_or(1600).clamp(1, 20_000);
    let h = photo.height.unwrap_or(1200).clamp(1, 20_000);
    crate::domain::upright_size(w, h, photo.orientation)
}

/// What an uploaded evidence file is, by its first bytes (never by its name or the type
/// the browser claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    Pdf,
    Jpeg,
    Png,
}

impl EvidenceKind {
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Self::Png)
        } else {
            None
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }
}

/// Writes an evidence file under an opaque name and returns its path relative to the
/// data directory (what the consent record stores).
pub async fn save_evidence(archive: &Archive, bytes: Vec<u8>) -> Result<String, ApiError> {
    let kind = EvidenceKind::sniff(&bytes)
        .ok_or_else(|| ApiError::invalid("the signed form must be a PDF, JPEG or PNG file"))?;
    let key = format!(
        "evidence/{}.{}",
        &crate::infra::password::random_token()[..32],
        kind.extension()
    );
    let archive = archive.clone();
    let stored = key.clone();
    tokio::task::spawn_blocking(move || archive.write(&stored, &bytes))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("writing evidence: {e}")))?;
    Ok(key)
}

fn private_file(content_type: &'static str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(content_type),
            ),
            (header::CACHE_CONTROL, NO_STORE),
        ],
        bytes,
    )
        .into_response()
}

/// A neutral canvas with the photo's proportions, shown until the import has made the
/// file; with `faces`, their boxes are drawn on it (the thumbnail), numbered as on the
/// photo page.
fn placeholder(width: u32, height: u32, faces: &[faces::Face]) -> Response {
    let font = (width / 24).max(12);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\"><rect width=\"100%\" height=\"100%\" fill=\"#d5d9de\"/>\
         <text x=\"50%\" y=\"92%\" text-anchor=\"middle\" font-family=\"sans-serif\" \
         font-size=\"{font}\" fill=\"#5a6472\">preview not available yet</text>"
    );
    let stroke = (width / 200).max(2);
    for (n, face) in faces.iter().enumerate() {
        let colour = if face.resolution == crate::rules::consent::FaceResolution::Unresolved {
            "#b36b00"
        } else {
            "#1b7a3a"
        };
        svg.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"{colour}\" \
             stroke-width=\"{stroke}\"/><text x=\"{}\" y=\"{}\" font-family=\"sans-serif\" \
             font-size=\"{}\" font-weight=\"bold\" fill=\"{colour}\">{}</text>",
            face.x,
            face.y,
            face.w,
            face.h,
            face.x,
            face.y.saturating_sub(font / 3).max(font),
            font * 2,
            n + 1
        ));
    }
    svg.push_str("</svg>");
    private_file("image/svg+xml", svg.into_bytes())
}

async fn photo_file(
    state: AppState,
    id: i64,
    key_for: fn(&str) -> Option<String>,
    with_faces: bool,
) -> Result<Response, PageError> {
    let (photo, faces) = state
        .read(move |c| {
            let photo = photos::photo(c, PhotoId(id))?;
            let faces = if with_faces {
                faces::faces(c, photo.id)?
            } else {
                Vec::new()
            };
            Ok((photo, faces))
        })
        .await?;
    let bytes = match key_for(&photo.content_hash) {
        Some(key) => {
            let archive = state.archive().clone();
            match tokio::task::spawn_blocking(move || archive.get(&key)).await {
                Ok(Ok(found)) => found,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, photo = id, "a rendition could not be read");
                    None
                }
                Err(_) => None,
            }
        }
        None => None,
    };
    Ok(match bytes {
        Some(bytes) => private_file("image/jpeg", bytes),
        None => {
            let (width, height) = upright_size(&photo);
            placeholder(width, height, &faces)
        }
    })
}

pub async fn preview(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    photo_file(state, id, preview_key, false).await
}

pub async fn thumbnail(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    photo_file(state, id, thumbnail_key, true).await
}

/// The scanned form of a consent record. Every reading is in the audit log (who, which
/// form, when).
pub async fn evidence(
    State(state): State<AppState>,
    caller: crate::web::access::Caller,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let now = state.now();
    let consent = state
        .db(move |c| {
            Ok(crate::ops::people::view_scan(
                c,
                ConsentId(id),
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    let stored = consent
        .evidence_path
        .ok_or_else(|| ApiError::NotFound("this consent record has no scanned form".into()))?;
    let name = stored
        .strip_prefix("evidence/")
        .filter(|n| {
            n.split_once('.').is_some_and(|(stem, ext)| {
                is_hex(stem) && ext.bytes().all(|b| b.is_ascii_lowercase())
            })
        })
        .ok_or_else(|| ApiError::NotFound("the scanned form is not in the evidence store".into()))?
        .to_owned();
    let archive = state.archive().clone();
    let key = format!("evidence/{name}");
    let bytes = tokio::task::spawn_blocking(move || archive.get(&key))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("reading evidence: {e}")))?
        .ok_or_else(|| ApiError::NotFound("the scanned form file is missing".into()))?;
    let kind = EvidenceKind::sniff(&bytes).ok_or_else(|| {
        ApiError::Internal(format!("evidence of consent {id} has an unknown type"))
    })?;
    let mut response = private_file(kind.content_type(), bytes);
    if let Ok(value) = header::HeaderValue::from_str(&format!(
        "inline; filename=\"consent-form-{id}.{}\"",
        kind.extension()
    )) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::config::Config;

    #[test]
    fn evidence_is_recognised_by_its_first_bytes_only() {
        assert_eq!(EvidenceKind::sniff(b"%PDF-1.7\n"), Some(EvidenceKind::Pdf));
        assert_eq!(
            EvidenceKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(EvidenceKind::Jpeg)
        );
        assert_eq!(
            EvidenceKind::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(EvidenceKind::Png)
        );
        assert_eq!(EvidenceKind::sniff(b"<html>%PDF-"), None);
        assert_eq!(EvidenceKind::sniff(b""), None);
    }

    #[test]
    fn media_paths_refuse_anything_but_a_hex_hash() {
        assert!(preview_key("../../etc/passwd").is_none());
        assert!(preview_key("").is_none());
        let key = thumbnail_key("abcdef").unwrap();
        assert!(key.starts_with("renditions/"), "{key:?}");
        assert!(key.contains("abcdef"), "{key:?}");
    }

    #[tokio::test]
    async fn saved_evidence_gets_an_opaque_name_and_refuses_other_types() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let archive = Archive::local(&config.data_dir);
        let stored = save_evidence(&archive, b"%PDF-1.4 signed".to_vec())
            .await
            .unwrap();
        assert!(stored.starts_with("evidence/") && stored.ends_with(".pdf"));
        assert_eq!(
            std::fs::read(dir.path().join(&stored)).unwrap(),
            b"%PDF-1.4 signed"
        );
        assert!(
            save_evidence(&archive, b"MZ\x90\x00 not a form".to_vec())
                .await
                .is_err()
        );
    }
}
