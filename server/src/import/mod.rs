//! Bringing records in from outside: the signed consent forms as CSV.

pub mod consent_csv;
