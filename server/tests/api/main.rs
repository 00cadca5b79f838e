//! Black-box tests of the JSON API over HTTP on loopback, each on a fresh database.

mod auth;
mod groups;
mod helpers;
mod kiosk;
mod limits;
mod mail;
mod parents;
mod people;
mod photos;
mod publish;
mod real_photos;
mod sandbox;
mod second_factor;
#[path = "../common/smtp.rs"]
mod smtp;
mod ui;
