//! Importing 10,000 consent forms into a fresh database file.
//!
//! `cargo bench -p consentcam --bench import`

use std::hint::black_box;

use consentcam::ops;
use consentcam::store;
use consentcam::store::partners;
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::civil::date;

fn csv(rows: usize) -> String {
    let mut text = String::from(
        "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on\n",
    );
    for n in 0..rows {
        let signer = if n % 3 == 0 { "self" } else { "parent" };
        let partners = if n % 4 == 0 {
            "Hillside School;Riverside Academy"
        } else {
            ""
        };
        text.push_str(&format!(
            "R{n:05},Given{n},Family{n},20{:02}-0{}-1{},learner,{},{signer},Signer {n},2026-0{}-0{},yes,{partners},{},no,,\n",
            n % 15 + 5,
            n % 9 + 1,
            n % 9,
            if n % 17 == 0 { "yes" } else { "no" },
            n % 9 + 1,
            n % 9 + 1,
            if n % 2 == 0 { "yes" } else { "no" },
        ));
    }
    text
}

fn import_10k(c: &mut Criterion) {
    let bytes = csv(10_000).into_bytes();
    let now = "2026-11-25T10:00:00Z".parse().unwrap();
    let today = date(2026, 11, 25);
    let mut group = c.benchmark_group("consent import");
    group.sample_size(10);
    group.bench_function("10,000 rows into a fresh database file", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let conn = store::open(&dir.path().join("records.db")).unwrap();
                partners::insert_partner(&conn, "Hillside School", now).unwrap();
                partners::insert_partner(&conn, "Riverside Academy", now).unwrap();
                (dir, conn)
            },
            |(dir, mut conn)| {
                let policy = consentcam::rules::consent::ConsentPolicy::default();
                let as_of = ops::people::AsOf {
                    today,
                    policy: &policy,
                };
                let report = ops::consent_csv::import_consents(
                    &mut conn, &bytes, "bench", None, now, &as_of,
                )
                .unwrap();
                assert_eq!(report.forms_added, 10_000);
                black_box((dir, report))
            },
            criterion::BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, import_10k);
criterion_main!(benches);
