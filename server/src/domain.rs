//! Domain words shared by the rules, the store and the web layer.
//!
//! Types here parse, they do not merely validate: a value of one of these types is always
//! well-formed. No I/O, no database, no HTTP.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Why a piece of text is not the domain value it was meant to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A registered person (learner, staff, employer, visitor).
    PersonId
);
id_type!(
    /// A partner organisation (a commissioning school or organisation).
    PartnerId
);
id_type!(
    /// A signed consent form.
    ConsentId
);
id_type!(
    /// A photo in the store.
    PhotoId
);
id_type!(
    /// A web UI account.
    AccountId
);
id_type!(
    /// A registered device (camera, video camera, iPad).
    DeviceId
);
id_type!(
    /// A group of people photographed together: a class, a trip.
    GroupId
);
id_type!(
    /// A booking of a device for a group.
    BookingId
);

/// What a person is to the organisation (consent CSV `role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Learner,
    Staff,
    Employer,
    Visitor,
}

/// Who signed a consent form (consent CSV `signer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerKind {
    Parent,
    Guardian,
    Carer,
    /// The person themself.
    #[serde(rename = "self")]
    Myself,
}

impl SignerKind {
    /// Parent, guardian or carer: someone signing on the person's behalf.
    pub fn is_on_behalf(self) -> bool {
        !matches!(self, SignerKind::Myself)
    }
}

/// Web UI roles, in increasing power. A director can do what staff can; an admin keeps the
/// records but does not take editorial decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    Staff,
    Director,
    Admin,
}

macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }, $what:literal) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseError(format!(
                        concat!("unknown ", $what, " {:?}; expected one of: {}"),
                        text,
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

    };
}

text_enum!(Role { Learner => "learner", Staff => "staff", Employer => "employer", Visitor => "visitor" }, "role");
text_enum!(SignerKind { Parent => "parent", Guardian => "guardian", Carer => "carer", Myself => "self" }, "signer");
text_enum!(AccountRole { Staff => "staff", Director => "director", Admin => "admin" }, "account role");

/// What kind of file a photo is, as kept in the catalogue. JPEG, PNG and HEIC stills can
/// be published (see [`Format::is_publishable`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Jpeg,
    Png,
    Heic,
    Raw,
    Video,
    Gif,
    Webp,
    Empty,
    #[default]
    Unknown,
}

text_enum!(Format { Jpeg => "jpeg", Png => "png", Heic => "heic", Raw => "raw", Video => "video", Gif => "gif", Webp => "webp", Empty => "empty", Unknown => "unknown" }, "format");

impl Format {
    /// The still photos that can be published: a JPEG is scrubbed; a PNG or HEIC is
    /// decoded and goes out as a new JPEG made from its pixels (C11).
    pub fn is_publishable(self) -> bool {
        matches!(self, Format::Jpeg | Format::Png | Format::Heic)
    }
}

/// Where a photo may go (C1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "partner_id", rename_all = "snake_case")]
pub enum Channel {
    /// Learning platform, internal display.
    Internal,
    /// One named partner school or organisation.
    Partner(PartnerId),
    /// The organisation's website.
    Website,
    /// The organisation's own social media accounts.
    Social,
}

impl Channel {
    /// Channels that take a photo outside the organisation.
    pub fn is_external(self) -> bool {
        !matches!(self, Channel::Internal)
    }

    /// Channels open to the public, where vulnerable people never appear (C4).
    pub fn is_public(self) -> bool {
        matches!(self, Channel::Website | Channel::Social)
    }

    /// Channels that need a director's approval (C9).
    pub fn needs_approval(self) -> bool {
        self.is_external()
    }

    /// Stable text form: `internal`, `partner:7`, `website`, `social`.
    pub fn code(self) -> String {
        match self {
            Channel::Internal => "internal".into(),
            Channel::Partner(id) => format!("partner:{id}"),
            Channel::Website => "website".into(),
            Channel::Social => "social".into(),
        }
    }
}

impl FromStr for Channel {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        match text {
            "internal" => Ok(Channel::Internal),
            "website" => Ok(Channel::Website),
            "social" => Ok(Channel::Social),
            _ => text
                .strip_prefix("partner:")
                .and_then(|id| id.parse().ok())
                .map(|id| Channel::Partner(PartnerId(id)))
                .ok_or_else(|| {
                    ParseError(format!(
                        "unknown channel {text:?}; expected internal, website, social or partner:<id>"
                    ))
                }),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// What one consent form grants. A scope not granted is withheld.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Scopes {
    pub internal: bool,
    /// The named partner organisations; consent to one is not consent to another.
    pub partners: Vec<PartnerId>,
    pub website: bool,
    pub social: bool,
}

impl Scopes {
    pub fn grants(&self, channel: Channel) -> bool {
        match channel {
            Channel::Internal => self.internal,
            Channel::Partner(id) => self.partners.contains(&id),
            Channel::Website => self.website,
            Channel::Social => self.social,
        }
    }
}

/// An organisation's external reference for a person (the consent CSV `ref`): 1 to 64
/// printable characters, no surrounding space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExternalRef(String);

impl ExternalRef {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(ParseError("ref is empty".into()));
        }
        if trimmed.chars().count() > 64 {
            return Err(ParseError("ref is longer than 64 characters".into()));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ParseError("ref contains control characters".into()));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExternalRef {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ExternalRef> for String {
    fn from(value: ExternalRef) -> Self {
        value.0
    }
}

impl fmt::Display for ExternalRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A given or family name: 1 to 100 characters, no control characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(ParseError("name is empty".into()));
        }
        if trimmed.chars().count() > 100 {
            return Err(ParseError("name is longer than 100 characters".into()));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ParseError("name contains control characters".into()));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Name {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Name> for String {
    fn from(value: Name) -> Self {
        value.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses an ISO date (`YYYY-MM-DD`) with a message a person can act on.
/// The size of a picture as people see it: stored `width` x `height`, turned a quarter
/// for EXIF orientations 5 to 8. Face boxes are measured in it.
pub fn upright_size(width: u32, height: u32, orientation: Option<u16>) -> (u32, u32) {
    if matches!(orientation, Some(5..=8)) {
        (height, width)
    } else {
        (width, height)
    }
}

pub fn parse_date(text: &str, field: &str) -> Result<Date, ParseError> {
    let trimmed = text.trim();
    if trimmed.len() != 10 {
        return Err(ParseError(format!(
            "{field} {trimmed:?} is not a date in the form YYYY-MM-DD"
        )));
    }
    trimmed.parse::<Date>().map_err(|_| {
        ParseError(format!(
            "{field} {trimmed:?} is not a real date in the form YYYY-MM-DD"
        ))
    })
}

/// The day a person born on `born` turns `years` old. Someone born on 29 February comes of
/// age on 1 March in a common year (as in UK law).
pub fn birthday(born: Date, years: i16) -> Date {
    let year = born.year() + years;
    Date::new(year, born.month(), born.day())
        .unwrap_or_else(|_| Date::new(year, 3, 1).unwrap_or(born))
}

/// Whether a person born on `born` is 18 or over on `on`.
pub fn is_adult_on(born: Date, on: Date) -> bool {
    on >= birthday(born, 18)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_person_is_adult_from_the_18th_birthday_itself() {
        let born = date(2008, 11, 25);
        assert!(!is_adult_on(born, date(2026, 11, 24)));
        assert!(is_adult_on(born, date(2026, 11, 25)));
    }

    #[test]
    fn a_leap_day_baby_comes_of_age_on_the_first_of_march() {
        let born = date(2008, 2, 29);
        assert!(!is_adult_on(born, date(2026, 2, 28)));
        assert!(is_adult_on(born, date(2026, 3, 1)));
    }

    #[test]
    fn channels_parse_from_their_codes_and_back() {
        for channel in [
            Channel::Internal,
            Channel::Partner(PartnerId(7)),
            Channel::Website,
            Channel::Social,
        ] {
            assert_eq!(channel.code().parse::<Channel>().unwrap(), channel);
        }
        assert!("partner:x".parse::<Channel>().is_err());
        assert!("facebook".parse::<Channel>().is_err());
    }

    #[test]
    fn enums_parse_case_insensitively_and_explain_refusals() {
        assert_eq!("Learner".parse::<Role>().unwrap(), Role::Learner);
        assert_eq!("SELF".parse::<SignerKind>().unwrap(), SignerKind::Myself);
        let err = "pupil".parse::<Role>().unwrap_err();
        assert!(err.0.contains("learner, staff, employer, visitor"), "{err}");
    }

    #[test]
    fn dates_must_be_iso_and_real() {
        assert_eq!(
            parse_date("2026-02-28", "signed_on").unwrap(),
            date(2026, 2, 28)
        );
        assert!(parse_date("2026-02-30", "signed_on").is_err());
        assert!(parse_date("28/02/2026", "signed_on").is_err());
        assert!(parse_date("2026-2-8", "signed_on").is_err());
    }
}

/// What answers at an endpoint's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    /// Our own protocol: the copy POSTed as JSON, removed with DELETE.
    #[default]
    Http,
    /// A WordPress site: the copy goes into its media library through the REST API,
    /// and is deleted from it for good on a takedown.
    Wordpress,
}

impl EndpointKind {
    const ALL: [EndpointKind; 2] = [EndpointKind::Http, EndpointKind::Wordpress];

    pub fn code(self) -> &'static str {
        match self {
            EndpointKind::Http => "http",
            EndpointKind::Wordpress => "wordpress",
        }
    }

    /// The kind whose [`code`](Self::code) is `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}
