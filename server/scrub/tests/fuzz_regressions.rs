//! Every input the fuzzer ever flagged stays here as a regression test.
//!
//! `tests/regressions/` holds the inputs (crash files from `fuzz/artifacts/scrub/`,
//! renamed for what they exercise). Each must be refused or come out clean, by the same
//! property the fuzz target checks.

use consentcam_scrub::{ScrubError, check_clean, scrub};

#[test]
fn every_fuzz_finding_is_refused_or_comes_out_clean() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions directory") {
        let path = entry.expect("directory entry").path();
        let bytes = std::fs::read(&path).expect("read regression input");
        match scrub(&bytes) {
            Err(ScrubError::SelfCheck { what }) => {
                panic!("{}: output failed the self-check: {what}", path.display())
            }
            Err(_) => {}
            Ok(clean) => {
                check_clean(&clean.jpeg).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let again = scrub(&clean.jpeg).expect("own output accepted");
                assert_eq!(again.jpeg, clean.jpeg, "{}", path.display());
            }
        }
        checked += 1;
    }
    assert!(
        checked > 0,
        "no regression inputs found in {}",
        dir.display()
    );
}

/// The first finding: with the allow-list check switched off, a comment segment placed
/// between two progressive scans was copied through. The fuzz target caught it (a
/// deliberate fault, to prove the target can fail); this pins the behaviour.
#[test]
fn a_comment_between_scans_does_not_survive() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions/comment-between-scans.jpg");
    let bytes = std::fs::read(path).expect("read regression input");
    let clean = scrub(&bytes).expect("a well-formed progressive file is accepted");
    assert!(
        clean
            .report
            .removed_count(consentcam_scrub::MetadataKind::Comment)
            > 0
    );
    let comments = clean.jpeg.windows(2).filter(|w| *w == [0xFF, 0xFE]).count();
    assert_eq!(comments, 0, "a comment marker survived");
}
