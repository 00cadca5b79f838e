//! Progress events: what the kiosk's bar and the web UI's live count are fed.

mod common;

use std::sync::Arc;

use common::{Rng, SqliteCatalogue};
use consentcam_media::{ImportEvent, ImportOptions, OsStorage, Outcome, Store, import_card};

#[test]
fn events_count_up_to_a_finish_the_kiosk_can_show() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let card = tmp.path().join("card");
    let mut rng = Rng::new(5);
    // Twelve files, one of them 20 MiB so it reports progress while it copies.
    common::write_card(&card, 12, &mut rng, |r, i| {
        if i == 3 {
            20 * 1024 * 1024
        } else {
            r.range(1_000, 9_000) as usize
        }
    });
    let root = tmp.path().join("store");
    let store = Store::open(&root, Arc::new(OsStorage)).expect("store");
    let mut cat = SqliteCatalogue::open(&root.join("c.sqlite")).expect("db");
    let mut events = Vec::new();
    let report = import_card(
        &card,
        &store,
        &mut cat,
        &ImportOptions::default(),
        &mut |e| {
            events.push(e.clone());
        },
    )
    .expect("import");

    assert!(matches!(
        events.first(),
        Some(ImportEvent::Scanned { files: 12, .. })
    ));
    assert!(matches!(
        events.last(),
        Some(ImportEvent::Finished {
            stored: 12,
            duplicates: 0,
            refused: 0
        })
    ));
    let done: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            ImportEvent::FileDone {
                index, files: 12, ..
            } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(done, (1..=12).collect::<Vec<_>>());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ImportEvent::Copying { index: 4, .. }))
    );
    let fractions: Vec<f32> = events.iter().filter_map(ImportEvent::fraction).collect();
    assert!(
        fractions.windows(2).all(|w| w[0] <= w[1]),
        "the bar never goes back"
    );
    assert!((fractions.last().copied().unwrap_or(0.0) - 1.0).abs() < f32::EPSILON);
    assert_eq!(report.count(Outcome::Stored), 12);

    // The web UI reads the same events as JSON.
    let json = serde_json::to_value(&events[1]).expect("json");
    assert!(json["event"].is_string());

    // A second run over the same card stores nothing new.
    let mut again = Vec::new();
    import_card(
        &card,
        &store,
        &mut cat,
        &ImportOptions::default(),
        &mut |e| again.push(e.clone()),
    )
    .expect("re-import");
    assert!(matches!(
        again.last(),
        Some(ImportEvent::Finished {
            stored: 0,
            duplicates: 12,
            refused: 0
        })
    ));
}

#[test]
fn background_analysis_reports_every_stored_photo() {
    use common::photos::{self, PhotoSpec};
    use consentcam_media::{BackgroundOptions, spawn_analysis};
    use std::sync::Mutex;

    let tmp = tempfile::tempdir().expect("tempdir");
    let card = tmp.path().join("card");
    std::fs::create_dir_all(&card).expect("card");
    for i in 0..3u64 {
        let jpeg = photos::photo(320, 240, i, &PhotoSpec::default());
        std::fs::write(card.join(format!("IMG_{i}.JPG")), jpeg).expect("write");
    }
    std::fs::write(card.join("clip.MP4"), b"\0\0\0\x20ftypisom\0\0\x02\0isom").expect("write");
    let root = tmp.path().join("store");
    let store = Store::open(&root, Arc::new(OsStorage)).expect("store");
    let mut cat = SqliteCatalogue::open(&root.join("c.sqlite")).expect("db");
    let report = import_card(
        &card,
        &store,
        &mut cat,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .expect("import");
    let hashes: Vec<_> = report.files.iter().filter_map(|f| f.hash).collect();
    let results = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&results);
    let handle = spawn_analysis(
        store,
        hashes.clone(),
        BackgroundOptions {
            threads: 2,
            ..BackgroundOptions::default()
        },
        consentcam_media::Decoders::in_process(),
        move |hash, analysis| sink.lock().expect("results").push((hash, analysis)),
    );
    handle.join().expect("workers finish");
    let results = results.lock().expect("results");
    assert_eq!(results.len(), hashes.len());
    let publishable = results.iter().filter(|(_, a)| a.publishable()).count();
    assert_eq!(
        publishable, 3,
        "three JPEGs; the video is kept but not publishable"
    );
    assert!(
        results
            .iter()
            .filter(|(_, a)| a.publishable())
            .all(|(_, a)| a.faces.is_some() && a.thumbnail.is_some())
    );
}
