//! `consentcam import-consents FILE.csv`: one row per signed form.
//!
//! Header (any column order, all required):
//! `ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on`
//! and, optionally, who answers for the person online: `contact_name`,
//! `contact_relationship` (parent, guardian, carer or self) and `contact_email` (all three
//! or none on a row; the same address for a person twice is one contact).
//!
//! The import is all-or-nothing: every row is checked first and every bad row is reported
//! with its line number (the file's own: the header is line 1); one bad row and nothing is
//! written. People are matched by `ref`. An import never changes who a person is (name,
//! role, date of birth) and never lowers the vulnerable flag (C14): such rows are errors,
//! and the record is corrected by an admin on the person's page. It may raise the flag.
//! Each person it creates or changes gets an audit entry (ids and field names only).
//! A form already imported (same person, signer, signer name and signing day) is left
//! alone, so importing the same file twice changes nothing; if the file now carries a
//! withdrawal date for it, the withdrawal is recorded and its effects follow.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::{ExternalRef, Name, PartnerId, Role, Scopes, SignerKind, parse_date};
use crate::store::audit::Action;
use crate::store::audit::{self, Entry};
use crate::store::consents;
use crate::store::partners;
use crate::store::publications;
use crate::store::sites::{self, Kind};
use crate::store::{StoreError, people};

/// The columns, in the documented order.
pub const COLUMNS: [&str; 15] = [
    "ref",
    "given_name",
    "family_name",
    "date_of_birth",
    "role",
    "vulnerable",
    "signer",
    "signer_name",
    "signed_on",
    "internal",
    "partners",
    "website",
    "social",
    "expires_on",
    "withdrawn_on",
];

/// One bad row (or the header, line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} bad row(s); nothing was imported:\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RowError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub people_created: usize,
    pub people_updated: usize,
    pub forms_added: usize,
    pub forms_withdrawn: usize,
    pub forms_unchanged: usize,
    /// Contacts (who answers online) added from the optional contact columns.
    pub contacts_added: usize,
}

/// A row that parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FormRow {
    line: u64,
    ext_ref: ExternalRef,
    given_name: Name,
    family_name: Name,
    date_of_birth: Date,
    role: Role,
    vulnerable: bool,
    signer: SignerKind,
    signer_name: String,
    signed_on: Date,
    internal: bool,
    partners: Vec<String>,
    website: bool,
    social: bool,
    expires_on: Option<Date>,
    withdrawn_on: Option<Date>,
    contact: Option<crate::store::parents::NewContact>,
}

/// The optional contact columns: all three or none.
fn contact(
    get: &dyn Fn(&str) -> String,
) -> Result<Option<crate::store::parents::NewContact>, String> {
    let (name, relationship, email) = (
        get("contact_name").trim().to_owned(),
        get("contact_relationship").trim().to_owned(),
        get("contact_email").trim().to_owned(),
    );
    if name.is_empty() && relationship.is_empty() && email.is_empty() {
        return Ok(None);
    }
    if name.is_empty() || relationship.is_empty() || email.is_empty() {
        return Err(
            "contact_name, contact_relationship and contact_email go together: give all three or none"
                .into(),
        );
    }
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err("contact_name must be at most 200 printable characters".into());
    }
    let relationship = relationship
        .parse::<SignerKind>()
        .map_err(|e| format!("contact_relationship: {}", e.0))?;
    crate::store::registry::check_email(&email)
        .map_err(|_| "contact_email is not a mail address (name@school.example)".to_owned())?;
    Ok(Some(crate::store::parents::NewContact {
        name,
        relationship,
        email,
    }))
}

fn flag(text: &str, field: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        other => Err(format!("{field} must be yes or no, not {other:?}")),
    }
}

fn optional_date(text: &str, field: &str) -> Result<Option<Date>, String> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        parse_date(text, field).map(Some).map_err(|e| e.0)
    }
}

/// Checks one record; every problem in it is reported, not just the first.
fn parse_row(line: u64, get: &dyn Fn(&str) -> String, today: Date) -> Result<FormRow, Vec<String>> {
    let mut problems = Vec::new();
    macro_rules! field {
        ($expr:expr) => {
            match $expr {
                Ok(v) => Some(v),
                Err(e) => {
                    problems.push(e.to_string());
                    None
                }
            }
        };
    }
    let ext_ref = field!(ExternalRef::parse(&get("ref")));
    let given_name =
        field!(Name::parse(&get("given_name")).map_err(|e| format!("given_name: {e}")));
    let family_name =
        field!(Name::parse(&get("family_name")).map_err(|e| format!("family_name: {e}")));
    let date_of_birth = field!(parse_date(&get("date_of_birth"), "date_of_birth"));
    let role = field!(get("role").parse::<Role>());
    let vulnerable = field!(flag(&get("vulnerable"), "vulnerable"));
    let signer = if get("signer").trim().is_empty() {
        problems.push("signer is missing (parent, guardian, carer or self)".into());
        None
    } else {
        field!(get("signer").parse::<SignerKind>())
    };
    let signer_name = get("signer_name").trim().to_owned();
    if signer.is_some_and(SignerKind::is_on_behalf) && signer_name.is_empty() {
        problems.push(
            "signer_name is missing: a parent's, guardian's or carer's form must say who signed it"
                .into(),
        );
    }
    if signer_name.chars().count() > 200 || signer_name.chars().any(char::is_control) {
        problems.push("signer_name must be at most 200 printable characters".into());
    }
    let signed_on = field!(parse_date(&get("signed_on"), "signed_on"));
    let internal = field!(flag(&get("internal"), "internal"));
    let website = field!(flag(&get("website"), "website"));
    let social = field!(flag(&get("social"), "social"));
    let partners: Vec<String> = get("partners")
        .split(';')
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let expires_on = field!(optional_date(&get("expires_on"), "expires_on"));
    let withdrawn_on = field!(optional_date(&get("withdrawn_on"), "withdrawn_on"));
    let contact = field!(contact(get));

    if let Some(born) = date_of_birth
        && born > today
    {
        problems.push(format!("date_of_birth {born} is in the future"));
    }
    if let Some(signed) = signed_on {
        if signed > today {
            problems.push(format!("signed_on {signed} is in the future"));
        }
        if let Some(Some(expires)) = expires_on
            && expires <= signed
        {
            problems.push(format!(
                "expires_on {expires} is not after signed_on {signed}"
            ));
        }
        if let Some(Some(withdrawn)) = withdrawn_on
            && withdrawn < signed
        {
            problems.push(format!(
                "withdrawn_on {withdrawn} is before signed_on {signed}"
            ));
        }
    }
    if let Some(Some(withdrawn)) = withdrawn_on
        && withdrawn > today
    {
        problems.push(format!("withdrawn_on {withdrawn} is in the future"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    match (
        ext_ref,
        given_name,
        family_name,
        date_of_birth,
        role,
        vulnerable,
        signer,
        signed_on,
        internal,
        website,
        social,
        expires_on,
        withdrawn_on,
    ) {
        (
            Some(ext_ref),
            Some(given_name),
            Some(family_name),
            Some(date_of_birth),
            Some(role),
            Some(vulnerable),
            Some(signer),
            Some(signed_on),
            Some(internal),
            Some(website),
            Some(social),
            Some(expires_on),
            Some(withdrawn_on),
        ) => Ok(FormRow {
            line,
            ext_ref,
            given_name,
            family_name,
            date_of_birth,
            role,
            vulnerable,
            signer,
            signer_name,
            signed_on,
            internal,
            partners,
            website,
            social,
            expires_on,
            withdrawn_on,
            contact: contact.flatten(),
        }),
        _ => Err(vec!["row could not be read".into()]),
    }
}

/// The line of the file (the header is line 1, as editors and spreadsheets count) that
/// byte `offset` is on. Counted here rather than taken from the CSV reader, whose count
/// drifts with Windows line ends; a line ends at LF, CR LF, or a lone CR.
fn line_at(bytes: &[u8], offset: u64) -> u64 {
    let end = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let before = &bytes[..end];
    let breaks = before
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && before.get(i + 1) != Some(&b'\n')))
        .count();
    breaks as u64 + 1
}

/// Parses the whole file; `Err` lists every bad row.
fn parse(bytes: &[u8], today: Date) -> Result<Vec<FormRow>, Vec<RowError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| {
            vec![RowError {
                line: 1,
                message: format!("cannot read the header row: {e}"),
            }]
        })?
        .clone();
    let index: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_ascii_lowercase(), i))
        .collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !index.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return Err(vec![RowError {
            line: 1,
            message: format!(
                "the header row lacks column(s) {}; it must have: {}",
                missing.join(", "),
                COLUMNS.join(",")
            ),
        }]);
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e
                    .position()
                    .map_or(n as u64 + 2, |p| line_at(bytes, p.byte()));
                errors.push(RowError {
                    line,
                    message: format!("cannot read the row: {e}"),
                });
                continue;
            }
        };
        let line = record
            .position()
            .map_or(n as u64 + 2, |p| line_at(bytes, p.byte()));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |name: &str| {
            index
                .get(name)
                .and_then(|&i| record.get(i))
                .unwrap_or("")
                .to_owned()
        };
        match parse_row(line, &get, today) {
            Ok(row) => rows.push(row),
            Err(problems) => errors.push(RowError {
                line,
                message: problems.join("; "),
            }),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: 1,
            message: "the file has a header but no rows".into(),
        });
    }
    cross_check(&rows, &mut errors);
    if errors.is_empty() {
        Ok(rows)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// Rows for the same ref must agree about the person; the same form may appear only once.
fn cross_check(rows: &[FormRow], errors: &mut Vec<RowError>) {
    let mut first: HashMap<&str, &FormRow> = HashMap::new();
    let mut forms: HashMap<(&str, SignerKind, &str, Date), u64> = HashMap::new();
    for row in rows {
        match first.get(row.ext_ref.as_str()) {
            None => {
                first.insert(row.ext_ref.as_str(), row);
            }
            Some(earlier) => {
                let mut differs = Vec::new();
                if earlier.date_of_birth != row.date_of_birth {
                    differs.push("date_of_birth");
                }
                if earlier.given_name != row.given_name || earlier.family_name != row.family_name {
                    differs.push("name");
                }
                if earlier.role != row.role {
                    differs.push("role");
                }
                if earlier.vulnerable != row.vulnerable {
                    differs.push("vulnerable");
                }
                if !differs.is_empty() {
                    errors.push(RowError {
                        line: row.line,
                        message: format!(
                            "ref {} appears on line {} with a different {}",
                            row.ext_ref,
                            earlier.line,
                            differs.join(" and ")
                        ),
                    });
                }
            }
        }
        let key = (
            row.ext_ref.as_str(),
            row.signer,
            row.signer_name.as_str(),
            row.signed_on,
        );
        if let Some(line) = forms.insert(key, row.line) {
            errors.push(RowError {
                line: row.line,
                message: format!(
                    "the same form (same person, signer and signing day) is already on line {line}"
                ),
            });
        }
    }
}

/// One person's creation or change by the import, in the audit log: ids and field names,
/// never names.
fn person_audit(
    tx: &Transaction<'_>,
    actor: &str,
    id: crate::domain::PersonId,
    action: Action,
    fields: &[&str],
    person: &people::NewPerson,
    now: Timestamp,
) -> Result<(), StoreError> {
    audit::append(
        tx,
        &Entry {
            at: now,
            actor,
            action,
            subject: &format!("person:{id}"),
            details: serde_json::json!({
                "fields": fields, "role": person.role, "vulnerable": person.vulnerable,
                "via": "consent import",
            }),
        },
    )?;
    Ok(())
}

/// Imports `bytes` (the CSV file) in `tx`. On `Err` the caller must roll back; nothing of
/// the file is then kept.
pub fn import(
    tx: &Transaction<'_>,
    bytes: &[u8],
    actor: &str,
    site: Option<i64>,
    now: Timestamp,
    today: Date,
) -> Result<ImportReport, ImportError> {
    let rows = parse(bytes, today).map_err(ImportError::Rows)?;
    let file_hash: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let partner_ids: HashMap<String, PartnerId> = partners::partners(tx)?
        .into_iter()
        .map(|p| (p.name.to_lowercase(), p.id))
        .collect();
    let mut errors = Vec::new();
    let mut report = ImportReport {
        rows: rows.len(),
        ..ImportReport::default()
    };
    let mut withdrawn_people = Vec::new();
    let mut person_ids = HashMap::new();

    for row in &rows {
        let mut partners = Vec::new();
        let unknown: Vec<&str> = row
            .partners
            .iter()
            .filter(|name| match partner_ids.get(&name.to_lowercase()) {
                Some(id) => {
                    partners.push(*id);
                    false
                }
                None => true,
            })
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            errors.push(RowError {
                line: row.line,
                message: format!(
                    "partner organisation(s) {} are not registered; add them first or fix the spelling",
                    unknown.iter().map(|u| format!("{u:?}")).collect::<Vec<_>>().join(", ")
                ),
            });
            continue;
        }
        let person = people::NewPerson {
            ext_ref: row.ext_ref.clone(),
            given_name: row.given_name.clone(),
            family_name: row.family_name.clone(),
            date_of_birth: row.date_of_birth,
            role: row.role,
            vulnerable: row.vulnerable,
            may_sign_out: false,
        };
        let person_id = match person_ids.get(row.ext_ref.as_str()) {
            Some(&id) => id,
            None => {
                let id = match people::person_by_ref(tx, row.ext_ref.as_str())? {
                    None if crate::store::retention::ref_was_erased(tx, row.ext_ref.as_str())? => {
                        errors.push(RowError {
                            line: row.line,
                            message: format!(
                                "ref {} belonged to a person who was erased; remove the row \
                                 (or register them again by hand if they came back)",
                                row.ext_ref
                            ),
                        });
                        continue;
                    }
                    None => {
                        report.people_created += 1;
                        let id = people::insert_person(tx, &person, now)?;
                        crate::ops::sites::place_new(tx, Kind::Person, id.0, site)?;
                        person_audit(tx, actor, id, Action::PersonCreate, &[], &person, now)?;
                        id
                    }
                    Some(existing)
                        if !sites::visible(
                            site,
                            sites::site_of(tx, Kind::Person, existing.id.0)?.flatten(),
                        ) =>
                    {
                        errors.push(RowError {
                            line: row.line,
                            message: format!(
                                "ref {} is another site's person: their forms are imported \
                                 there, or by an account of every site",
                                row.ext_ref
                            ),
                        });
                        continue;
                    }
                    Some(existing) if existing.date_of_birth != row.date_of_birth => {
                        errors.push(RowError {
                            line: row.line,
                            message: format!(
                                "ref {} is already registered with date of birth {}, not {}; \
                                 correct the record first if the file is right",
                                row.ext_ref, existing.date_of_birth, row.date_of_birth
                            ),
                        });
                        continue;
                    }
                    Some(existing) => {
                        let wanted = people::NewPerson {
                            may_sign_out: existing.may_sign_out,
                            ..person
                        };
                        let fields = crate::ops::people::changed_fields(&existing, &wanted);
                        let identity: Vec<&str> = fields
                            .iter()
                            .copied()
                            .filter(|f| *f != "vulnerable")
                            .collect();
                        if !identity.is_empty() {
                            errors.push(RowError {
                                line: row.line,
                                message: format!(
                                    "ref {} is registered with a different {}; an import never \
                                     changes who a person is: if the file is right, correct the \
                                     record on the person's page first",
                                    row.ext_ref,
                                    identity.join(" and ")
                                ),
                            });
                            continue;
                        }
                        if existing.vulnerable && !row.vulnerable {
                            errors.push(RowError {
                                line: row.line,
                                message: format!(
                                    "ref {} is recorded as vulnerable and an import never lowers \
                                     that: an admin can, on the person's page, with a reason \
                                     (or set vulnerable to yes in the file)",
                                    row.ext_ref
                                ),
                            });
                            continue;
                        }
                        if !fields.is_empty() {
                            // Only the vulnerable flag, raised.
                            people::update_person(tx, existing.id, &wanted, now)?;
                            person_audit(
                                tx,
                                actor,
                                existing.id,
                                Action::PersonUpdate,
                                &fields,
                                &wanted,
                                now,
                            )?;
                            report.people_updated += 1;
                        }
                        existing.id
                    }
                };
                person_ids.insert(row.ext_ref.as_str(), id);
                id
            }
        };
        let scopes = Scopes {
            internal: row.internal,
            partners,
            website: row.website,
            social: row.social,
        };
        if let Some(contact) = &row.contact {
            let known = crate::store::parents::contacts_of(tx, person_id)?
                .iter()
                .any(|c| c.email.eq_ignore_ascii_case(&contact.email));
            crate::store::parents::add_contact(tx, person_id, contact, now)?;
            if !known {
                report.contacts_added += 1;
            }
        }
        match consents::consent_by_key(tx, person_id, row.signer, &row.signer_name, row.signed_on)?
        {
            None => {
                consents::insert_consent(
                    tx,
                    &consents::NewConsent {
                        person_id,
                        signer: row.signer,
                        signer_name: row.signer_name.clone(),
                        signed_on: row.signed_on,
                        expires_on: row.expires_on,
                        withdrawn_on: row.withdrawn_on,
                        scopes,
                        evidence_path: None,
                        source: format!("csv:{}:{}", &file_hash[..16], row.line),
                    },
                    now,
                )?;
                report.forms_added += 1;
                if row.withdrawn_on.is_some() {
                    withdrawn_people.push(person_id);
                }
            }
            Some(existing) => {
                let mut existing_partners = existing.scopes.partners.clone();
                existing_partners.sort();
                let mut new_partners = scopes.partners.clone();
                new_partners.sort();
                let same_terms = existing.expires_on == row.expires_on
                    && existing.scopes.internal == scopes.internal
                    && existing.scopes.website == scopes.website
                    && existing.scopes.social == scopes.social
                    && existing_partners == new_partners;
                if !same_terms {
                    errors.push(RowError {
                        line: row.line,
                        message: format!(
                            "this form (signed on {}) is already recorded as #{} with different \
                             scopes or expiry; a signed form cannot change: record a new form instead",
                            row.signed_on, existing.id
                        ),
                    });
                    continue;
                }
                match (existing.withdrawn_on, row.withdrawn_on) {
                    (None, Some(on)) => {
                        consents::withdraw_consent(tx, existing.id, on)?;
                        report.forms_withdrawn += 1;
                        withdrawn_people.push(person_id);
                    }
                    (Some(stored), Some(file)) if stored != file => errors.push(RowError {
                        line: row.line,
                        message: format!(
                            "form #{} was already withdrawn on {stored}, the file says {file}",
                            existing.id
                        ),
                    }),
                    (Some(stored), None) => errors.push(RowError {
                        line: row.line,
                        message: format!(
                            "form #{} was withdrawn on {stored}; a withdrawal cannot be undone by \
                             an import: record a new form instead",
                            existing.id
                        ),
                    }),
                    _ => report.forms_unchanged += 1,
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    withdrawn_people.sort();
    withdrawn_people.dedup();
    for person in withdrawn_people {
        publications::on_withdrawal(tx, person, actor, now)?;
    }
    audit::append(
        tx,
        &Entry {
            at: now,
            actor,
            action: Action::ConsentImport,
            subject: &format!("file:{}", &file_hash[..16]),
            details: serde_json::to_value(&report).unwrap_or_default(),
        },
    )?;
    Ok(report)
}

/// Imports the consent CSV in one transaction; publications the imported changes make no
/// longer allowed become takedown tasks in the same transaction. Imported by an account
/// of a site, the people it adds belong to that site and it may name no one of another.
pub fn import_consents(
    conn: &mut Connection,
    bytes: &[u8],
    actor: &str,
    site: Option<i64>,
    now: Timestamp,
    as_of: &crate::ops::people::AsOf<'_>,
) -> Result<ImportReport, ImportError> {
    let tx = conn.transaction().map_err(StoreError::from)?;
    let report = import(&tx, bytes, actor, site, now, as_of.today)?;
    crate::ops::approvals::takedowns_due(&tx, None, as_of.today, as_of.policy, actor, now)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(report)
}

#[cfg(test)]
mod tests;
