use jiff::civil::date;
use rusqlite::Connection;

use super::*;
use crate::store::consents;
use crate::store::open_in_memory;
use crate::store::partners;
use crate::store::{faces, photos, publications};

const HEADER: &str = "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on";

fn now() -> Timestamp {
    "2026-11-25T10:00:00Z".parse().unwrap()
}

fn today() -> Date {
    date(2026, 11, 25)
}

fn csv(rows: &[&str]) -> Vec<u8> {
    let mut text = String::from(HEADER);
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text.into_bytes()
}

fn db() -> Connection {
    let conn = open_in_memory().unwrap();
    partners::insert_partner(&conn, "Hillside School", now()).unwrap();
    partners::insert_partner(&conn, "Riverside Academy", now()).unwrap();
    conn
}

fn run(conn: &mut Connection, bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let tx = conn.transaction().unwrap();
    let result = import(&tx, bytes, "cli", None, now(), today());
    if result.is_ok() {
        tx.commit().unwrap();
    }
    result
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn row_errors(result: Result<ImportReport, ImportError>) -> Vec<RowError> {
    match result {
        Err(ImportError::Rows(rows)) => rows,
        other => panic!("expected row errors, got {other:?}"),
    }
}

const GOOD: [&str; 3] = [
    "L001,Robin,Okafor,2010-04-01,learner,no,parent,Ada Okafor,2026-09-01,yes,Hillside School;Riverside Academy,yes,no,,",
    "L001,Robin,Okafor,2010-04-01,learner,no,self,,2026-09-02,yes,,no,no,,",
    "S001,\"Kim, Jr\",Lee,1980-02-29,staff,no,self,Kim Lee,2026-01-10,yes,,yes,yes,2027-01-10,",
];

#[test]
fn a_good_file_creates_people_and_forms_with_their_partners() {
    let mut conn = db();
    let report = run(&mut conn, &csv(&GOOD)).unwrap();
    assert_eq!(
        report,
        ImportReport {
            rows: 3,
            people_created: 2,
            forms_added: 3,
            ..ImportReport::default()
        }
    );
    let robin = people::person_by_ref(&conn, "L001").unwrap().unwrap();
    let forms = consents::consents_of(&conn, robin.id).unwrap();
    assert_eq!(forms.len(), 2);
    assert_eq!(forms[0].scopes.partners.len(), 2);
    assert_eq!(forms[1].signer, SignerKind::Myself);
    let kim = people::person_by_ref(&conn, "S001").unwrap().unwrap();
    assert_eq!(kim.given_name, "Kim, Jr");
    assert_eq!(kim.role, Role::Staff);
}

#[test]
fn the_same_file_twice_changes_nothing() {
    let mut conn = db();
    run(&mut conn, &csv(&GOOD)).unwrap();
    let before: Vec<i64> = ["people", "consent_records", "consent_partners"]
        .iter()
        .map(|t| count(&conn, t))
        .collect();
    let again = run(&mut conn, &csv(&GOOD)).unwrap();
    assert_eq!(again.forms_unchanged, 3);
    assert_eq!(
        again.forms_added + again.people_created + again.people_updated,
        0
    );
    let after: Vec<i64> = ["people", "consent_records", "consent_partners"]
        .iter()
        .map(|t| count(&conn, t))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn every_bad_row_is_reported_with_its_line_and_nothing_is_written() {
    let mut conn = db();
    let bytes = csv(&[
        GOOD[0],
        "L002,Sam,Ng,2010-13-01,learner,no,parent,P Ng,2026-09-01,yes,,yes,yes,,",
        "L003,Ali,Khan,2011-01-01,pupil,no,parent,P Khan,2026-09-01,yes,,yes,yes,,",
        "L004,Jo,Day,2011-01-01,learner,no,,,2026-09-01,yes,,yes,yes,,",
        "L001,Robin,Okafor,2010-05-01,learner,no,carer,C Smith,2026-09-03,yes,,yes,yes,,",
        "L005,Lee,Ray,2011-01-01,learner,maybe,parent,P Ray,2026-09-01,yes,Unknown School,yes,yes,,",
        "L006,Max,Fox,2011-01-01,learner,no,parent,P Fox,2027-01-01,yes,,yes,yes,,",
    ]);
    let errors = row_errors(run(&mut conn, &bytes));
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 8], "{errors:?}");
    let text = |line: u64| {
        errors
            .iter()
            .find(|e| e.line == line)
            .unwrap()
            .message
            .clone()
    };
    assert!(text(3).contains("date_of_birth"), "{}", text(3));
    assert!(text(4).contains("unknown role"), "{}", text(4));
    assert!(text(5).contains("signer is missing"), "{}", text(5));
    assert!(text(6).contains("different date_of_birth"), "{}", text(6));
    assert!(
        text(7).contains("vulnerable must be yes or no"),
        "{}",
        text(7)
    );
    assert!(text(8).contains("in the future"), "{}", text(8));
    assert_eq!(count(&conn, "people"), 0);
    assert_eq!(count(&conn, "consent_records"), 0);
    assert_eq!(count(&conn, "audit_log"), 0);
}

#[test]
fn an_unregistered_partner_is_refused_by_name() {
    let mut conn = db();
    let bytes = csv(&[
        "L005,Lee,Ray,2011-01-01,learner,no,parent,P Ray,2026-09-01,yes,Hillside School;St Elsewhere,yes,yes,,",
    ]);
    let errors = row_errors(run(&mut conn, &bytes));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 2);
    assert!(
        errors[0].message.contains("\"St Elsewhere\""),
        "{}",
        errors[0].message
    );
    assert_eq!(count(&conn, "people"), 0);
}

#[test]
fn a_ref_already_registered_with_another_birth_date_is_refused() {
    let mut conn = db();
    run(&mut conn, &csv(&GOOD[..1])).unwrap();
    let bytes = csv(&[
        "L001,Robin,Okafor,2010-04-02,learner,no,parent,Ada Okafor,2026-10-01,yes,,yes,no,,",
    ]);
    let errors = row_errors(run(&mut conn, &bytes));
    assert!(
        errors[0]
            .message
            .contains("already registered with date of birth 2010-04-01")
    );
}

#[test]
fn a_missing_column_is_reported_on_line_one() {
    let mut conn = db();
    let errors = row_errors(run(&mut conn, b"ref,given_name\nL1,Robin\n"));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 1);
    assert!(errors[0].message.contains("family_name"));
}

#[test]
fn a_row_with_the_wrong_number_of_fields_is_reported() {
    let mut conn = db();
    let errors = row_errors(run(&mut conn, &csv(&[GOOD[0], "L009,too,few"])));
    assert_eq!(errors[0].line, 3);
}

#[test]
fn an_excel_bom_and_crlf_line_ends_are_accepted() {
    let mut conn = db();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(
        String::from_utf8(csv(&GOOD))
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes(),
    );
    assert_eq!(run(&mut conn, &bytes).unwrap().forms_added, 3);
}

#[test]
fn a_withdrawal_added_to_the_file_is_recorded_and_makes_takedown_tasks() {
    let mut conn = db();
    run(&mut conn, &csv(&GOOD)).unwrap();
    let robin = people::person_by_ref(&conn, "L001").unwrap().unwrap();
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
    faces::add_tag(&conn, photo, Some(robin.id), now()).unwrap();
    let decision = crate::rules::consent::Decision {
        channel: crate::domain::Channel::Website,
        on: today(),
        verdict: crate::rules::consent::Verdict::Allowed,
        reasons: vec![],
    };
    publications::insert_publication(
        &conn,
        photo,
        crate::domain::Channel::Website,
        "x1",
        None,
        &decision,
        now(),
    )
    .unwrap();

    let withdrawn = GOOD[0].to_owned() + "2026-11-20";
    let report = run(&mut conn, &csv(&[&withdrawn, GOOD[1], GOOD[2]])).unwrap();
    assert_eq!(report.forms_withdrawn, 1);
    let forms = consents::consents_of(&conn, robin.id).unwrap();
    assert_eq!(forms[0].withdrawn_on, Some(date(2026, 11, 20)));
    assert_eq!(publications::open_takedowns(&conn).unwrap().len(), 1);
}

#[test]
fn a_signed_form_cannot_change_its_scopes_on_reimport() {
    let mut conn = db();
    run(&mut conn, &csv(&GOOD)).unwrap();
    let changed = GOOD[0].replace(",yes,no,,", ",yes,yes,,");
    let errors = row_errors(run(&mut conn, &csv(&[&changed])));
    assert!(
        errors[0].message.contains("cannot change"),
        "{}",
        errors[0].message
    );
}

#[test]
fn lines_are_the_files_own_whatever_the_line_ends() {
    let rows = [
        GOOD[0],
        "L002,Sam,Ng,2010-13-01,learner,no,parent,P Ng,2026-09-01,yes,,yes,yes,,",
    ];
    let plain = String::from_utf8(csv(&rows)).unwrap();
    let variants = [
        (plain.clone(), 3),
        (plain.replace('\n', "\r\n"), 3),
        (format!("\u{feff}{}", plain.replace('\n', "\r\n")), 3),
        (plain.replace('\n', "\r"), 3),
        (plain.replacen('\n', "\n\n", 1), 4),
    ];
    for (text, line) in variants {
        let mut conn = db();
        let errors = row_errors(run(&mut conn, text.as_bytes()));
        assert_eq!(
            errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            vec![line],
            "{text:?}: {errors:?}"
        );
    }
    // A quoted field over two lines (a name with a line break: refused on its own line)
    // moves the next row down one.
    let mut conn = db();
    let text = plain.replacen(",Okafor,", ",\"Oka\nfor\",", 1);
    let errors = row_errors(run(&mut conn, text.as_bytes()));
    assert_eq!(
        errors.iter().map(|e| e.line).collect::<Vec<_>>(),
        vec![2, 4]
    );
}

#[test]
fn a_repeated_ref_names_the_line_it_first_appears_on() {
    let mut conn = db();
    let bytes = String::from_utf8(csv(&[
        GOOD[0],
        "L001,Robin,Okafor,2010-05-01,learner,no,carer,C Smith,2026-09-03,yes,,yes,yes,,",
    ]))
    .unwrap()
    .replace('\n', "\r\n");
    let errors = row_errors(run(&mut conn, bytes.as_bytes()));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, 3);
    assert!(
        errors[0].message.contains("appears on line 2"),
        "{}",
        errors[0].message
    );
}

fn vulnerable_of(conn: &Connection, ext_ref: &str) -> bool {
    people::person_by_ref(conn, ext_ref)
        .unwrap()
        .unwrap()
        .vulnerable
}

#[test]
fn a_later_file_never_lowers_the_vulnerable_flag() {
    let mut conn = db();
    run(
        &mut conn,
        &csv(&["L007,Jo,Day,2011-01-01,learner,yes,parent,P Day,2026-09-01,yes,,yes,yes,,"]),
    )
    .unwrap();
    let later = csv(&[
        "L001,Robin,Okafor,2010-04-01,learner,no,parent,Ada Okafor,2026-09-01,yes,,yes,no,,",
        "L007,Jo,Day,2011-01-01,learner,no,parent,P Day,2026-10-01,yes,,yes,yes,,",
    ]);
    let audit_before = count(&conn, "audit_log");
    let errors = row_errors(run(&mut conn, &later));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, 3);
    assert!(
        errors[0].message.contains("never lowers"),
        "{}",
        errors[0].message
    );
    assert!(vulnerable_of(&conn, "L007"));
    assert_eq!(count(&conn, "consent_records"), 1);
    assert_eq!(count(&conn, "audit_log"), audit_before);
}

#[test]
fn a_later_file_may_raise_the_vulnerable_flag_and_the_change_is_audited_without_names() {
    let mut conn = db();
    run(&mut conn, &csv(&GOOD[..1])).unwrap();
    let report = run(
        &mut conn,
        &csv(&[
            "L001,Robin,Okafor,2010-04-01,learner,yes,parent,Ada Okafor,2026-10-01,yes,,yes,no,,",
        ]),
    )
    .unwrap();
    assert_eq!(report.people_updated, 1);
    assert!(vulnerable_of(&conn, "L001"));
    let (details, subject): (String, String) = conn
        .query_row(
            "SELECT details, subject FROM audit_log WHERE action = 'person.update'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["fields"], serde_json::json!(["vulnerable"]));
    assert!(subject.starts_with("person:"));
    let all: String = conn
        .query_row("SELECT group_concat(details) FROM audit_log", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!all.contains("Robin") && !all.contains("Okafor"), "{all}");
}

#[test]
fn a_later_file_with_another_name_or_role_for_a_ref_is_refused() {
    let mut conn = db();
    run(&mut conn, &csv(&GOOD[..1])).unwrap();
    let errors = row_errors(run(
        &mut conn,
        &csv(&[
            "L001,Robyn,Okafor,2010-04-01,learner,no,parent,Ada Okafor,2026-10-01,yes,,yes,no,,",
        ]),
    ));
    assert!(
        errors[0].message.contains("different given_name"),
        "{}",
        errors[0].message
    );
    let errors = row_errors(run(
        &mut conn,
        &csv(&["L001,Robin,Okafor,2010-04-01,staff,no,self,,2026-10-01,yes,,yes,no,,"]),
    ));
    assert!(
        errors[0].message.contains("different role"),
        "{}",
        errors[0].message
    );
    assert_eq!(
        people::person_by_ref(&conn, "L001")
            .unwrap()
            .unwrap()
            .given_name,
        "Robin"
    );
}

#[test]
fn the_optional_contact_columns_add_who_answers_online_and_are_checked() {
    let mut conn = db();
    let header = format!("{HEADER},contact_name,contact_relationship,contact_email");
    let file = format!(
        "{header}\n\
         L001,Robin,Okafor,2010-04-01,learner,no,parent,Ada Okafor,2026-09-01,yes,,no,no,,,Ada Okafor,parent,ada@home.example\n\
         L001,Robin,Okafor,2010-04-01,learner,no,parent,Ada Okafor,2026-09-02,yes,,yes,no,,,Ada Okafor,parent,ADA@home.example\n\
         L002,Sam,Ng,2011-05-01,learner,no,parent,Kim Ng,2026-09-01,yes,,no,no,,,,,\n"
    );
    let report = run(&mut conn, file.as_bytes()).unwrap();
    assert_eq!(
        report.contacts_added, 1,
        "the same address twice is one contact"
    );
    assert_eq!(count(&conn, "person_contacts"), 1);
    // The file without the columns still imports (backward compatible), as before.
    assert_eq!(report.forms_added, 3);

    let bad = format!(
        "{header}\n\
         L003,Ann,Lee,2011-05-01,learner,no,parent,Jo Lee,2026-09-01,yes,,no,no,,,Jo Lee,,jo@home.example\n\
         L004,Bo,Lee,2011-05-01,learner,no,parent,Jo Lee,2026-09-01,yes,,no,no,,,Jo Lee,aunt,jo@home.example\n\
         L005,Cy,Lee,2011-05-01,learner,no,parent,Jo Lee,2026-09-01,yes,,no,no,,,Jo Lee,parent,not-an-address\n"
    );
    let errors = row_errors(run(&mut conn, bad.as_bytes()));
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 3, 4]);
    assert!(errors[0].message.contains("go together"), "{errors:?}");
    assert!(
        errors[1].message.contains("contact_relationship"),
        "{errors:?}"
    );
    assert!(errors[2].message.contains("contact_email"), "{errors:?}");
    assert_eq!(count(&conn, "person_contacts"), 1, "nothing written");
}
