-- Whether a photo's faces were ever looked for (rule C12), and where each face box came
-- from (rule C13: a cover needs a box to paint).
--
-- photos.face_detection:
--   pending  not analysed yet
--   done     the detector ran on the picture (it may have found no face)
--   skipped  analysed without face detection (import-card --no-faces)
--   failed   the picture could not be decoded, so no detector could run
--   redo     the stored boxes are known to be wrong and detection must run again
-- A director may acknowledge a photo whose faces were not looked for, with a note.
--
-- Face boxes are in pixels of the upright picture at full size (as people see it).
-- faces.source: 'detected' by the detector, or 'drawn' by staff around a face it missed.

ALTER TABLE photos ADD COLUMN face_detection TEXT NOT NULL DEFAULT 'pending'
    CHECK (face_detection IN ('pending', 'done', 'skipped', 'failed', 'redo'));
ALTER TABLE photos ADD COLUMN faces_ack_by INTEGER REFERENCES accounts (id);
ALTER TABLE photos ADD COLUMN faces_ack_note TEXT;
ALTER TABLE faces ADD COLUMN source TEXT NOT NULL DEFAULT 'detected'
    CHECK (source IN ('detected', 'drawn'));

-- Photos analysed before this column existed: the analysis' audit entry says whether the
-- detector ran ("faces" is a count) or not (null).
UPDATE photos SET face_detection = CASE
    WHEN (SELECT json_extract(a.details, '$.faces') FROM audit_log a
          WHERE a.action = 'photo.analyse' AND a.subject = 'photo:' || photos.id
          ORDER BY a.id DESC LIMIT 1) IS NOT NULL THEN 'done'
    WHEN EXISTS (SELECT 1 FROM faces f WHERE f.photo_id = photos.id) THEN 'done'
    ELSE 'skipped' END
WHERE analysed_at IS NOT NULL;

-- Earlier versions stored detected boxes as fractions truncated to whole pixels: every
-- such box is at most 1 x 1 pixel at the top-left corner. They cannot be recomputed from
-- what is stored; the detector runs again on the original (`consentcam detect-faces`,
-- also run by `serve` at start).
UPDATE photos SET face_detection = 'redo'
WHERE id IN (SELECT photo_id FROM faces WHERE w <= 1 AND h <= 1 AND x <= 1 AND y <= 1);
