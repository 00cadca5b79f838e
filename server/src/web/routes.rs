//! Every route of the application and what it needs, in one table the access middleware
//! ([`super::access`]) enforces and the authorization tests walk. A route missing from
//! it is refused for everyone, so a new route cannot go live unclassified.

use serde::Serialize;

use crate::domain::AccountRole;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Anyone: the login and the health check.
    Public,
    /// A kiosk's bearer token.
    Kiosk,
    /// Any logged-in account.
    Staff,
    /// A director (editorial decisions).
    Director,
    /// An admin (records, badges, devices, accounts).
    Admin,
    /// A director or an admin (audit log, takedowns).
    Oversight,
}

impl Access {
    pub fn admits(self, role: AccountRole) -> bool {
        match self {
            Access::Public | Access::Staff => true,
            Access::Kiosk => false,
            Access::Director => role == AccountRole::Director,
            Access::Admin => role == AccountRole::Admin,
            Access::Oversight => matches!(role, AccountRole::Director | AccountRole::Admin),
        }
    }
}

/// Every API route: method, path pattern, access.
pub const API_ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/health", Access::Public),
    ("POST", "/api/v1/login", Access::Public),
    ("POST", "/api/v1/logout", Access::Staff),
    ("GET", "/api/v1/session", Access::Staff),
    ("GET", "/api/v1/sessions", Access::Staff),
    ("POST", "/api/v1/sessions/{handle}/end", Access::Staff),
    ("GET", "/api/v1/people", Access::Staff),
    ("POST", "/api/v1/people", Access::Admin),
    ("POST", "/api/v1/people/search", Access::Staff),
    ("GET", "/api/v1/people/{id}", Access::Staff),
    ("PUT", "/api/v1/people/{id}", Access::Admin),
    ("POST", "/api/v1/people/{id}/restriction", Access::Admin),
    ("PUT", "/api/v1/people/{id}/left", Access::Admin),
    ("POST", "/api/v1/people/{id}/erase", Access::Admin),
    ("GET", "/api/v1/people/{id}/consents", Access::Staff),
    ("POST", "/api/v1/people/{id}/consents", Access::Admin),
    ("GET", "/api/v1/people/{id}/custody", Access::Staff),
    ("POST", "/api/v1/consents/{id}/withdraw", Access::Admin),
    ("GET", "/api/v1/people/{id}/contacts", Access::Admin),
    ("POST", "/api/v1/people/{id}/contacts", Access::Admin),
    (
        "DELETE",
        "/api/v1/people/{id}/contacts/{contact}",
        Access::Admin,
    ),
    (
        "POST",
        "/api/v1/people/{id}/consent-requests",
        Access::Admin,
    ),
    (
        "POST",
        "/api/v1/groups/{id}/consent-requests",
        Access::Admin,
    ),
    ("GET", "/api/v1/consent-requests", Access::Admin),
    ("POST", "/api/v1/consent-requests", Access::Admin),
    ("GET", "/api/v1/consent-wording", Access::Admin),
    ("PUT", "/api/v1/consent-wording", Access::Admin),
    ("POST", "/api/v1/consents/import", Access::Admin),
    ("POST", "/api/v1/lookup", Access::Staff),
    ("GET", "/api/v1/partners", Access::Staff),
    ("POST", "/api/v1/partners", Access::Admin),
    ("GET", "/api/v1/devices", Access::Staff),
    ("POST", "/api/v1/devices", Access::Admin),
    ("GET", "/api/v1/devices/{id}/custody", Access::Staff),
    ("GET", "/api/v1/badges", Access::Admin),
    ("POST", "/api/v1/badges", Access::Admin),
    ("POST", "/api/v1/badges/{id}/active", Access::Admin),
    ("GET", "/api/v1/accounts", Access::Admin),
    ("POST", "/api/v1/accounts", Access::Admin),
    ("PUT", "/api/v1/accounts/{id}", Access::Admin),
    ("PUT", "/api/v1/accounts/{id}/email", Access::Admin),
    ("GET", "/api/v1/account/reminders", Access::Staff),
    ("PUT", "/api/v1/account/reminders", Access::Staff),
    ("GET", "/api/v1/mail", Access::Admin),
    ("POST", "/api/v1/mail/{id}/send-again", Access::Admin),
    ("GET", "/api/v1/kiosks", Access::Admin),
    ("POST", "/api/v1/kiosks", Access::Admin),
    ("POST", "/api/v1/kiosks/{id}/revoke", Access::Admin),
    ("POST", "/api/v1/kiosks/{id}/rotate", Access::Admin),
    ("GET", "/api/v1/kiosk-events/refused", Access::Admin),
    ("GET", "/api/v1/custody", Access::Staff),
    ("GET", "/api/v1/groups", Access::Staff),
    ("POST", "/api/v1/groups", Access::Staff),
    ("GET", "/api/v1/groups/{id}", Access::Staff),
    ("PUT", "/api/v1/groups/{id}", Access::Staff),
    ("POST", "/api/v1/groups/{id}/members", Access::Staff),
    (
        "DELETE",
        "/api/v1/groups/{id}/members/{person}",
        Access::Staff,
    ),
    ("GET", "/api/v1/bookings", Access::Staff),
    ("POST", "/api/v1/bookings", Access::Staff),
    ("POST", "/api/v1/bookings/{id}/cancel", Access::Staff),
    ("GET", "/api/v1/photos", Access::Staff),
    ("GET", "/api/v1/photos/{id}", Access::Staff),
    ("GET", "/api/v1/photos/{id}/decisions", Access::Staff),
    ("POST", "/api/v1/photos/{id}/faces", Access::Staff),
    ("PUT", "/api/v1/photos/{id}/faces/{face}", Access::Staff),
    (
        "POST",
        "/api/v1/photos/{id}/faces/acknowledgement",
        Access::Director,
    ),
    ("POST", "/api/v1/photos/{id}/tags", Access::Staff),
    ("DELETE", "/api/v1/photos/{id}/tags/{tag}", Access::Staff),
    (
        "PUT",
        "/api/v1/photos/{id}/tags/{tag}/covered",
        Access::Staff,
    ),
    ("PUT", "/api/v1/photos/{id}/caption", Access::Staff),
    ("PUT", "/api/v1/photos/{id}/confirmation", Access::Staff),
    ("POST", "/api/v1/photos/{id}/approvals", Access::Director),
    ("POST", "/api/v1/photos/{id}/provenance", Access::Director),
    ("POST", "/api/v1/photos/{id}/publish", Access::Director),
    ("GET", "/api/v1/takedowns", Access::Oversight),
    ("POST", "/api/v1/takedowns/{id}/done", Access::Oversight),
    ("GET", "/api/v1/audit", Access::Oversight),
    ("GET", "/api/v1/kiosk/roster", Access::Kiosk),
    ("GET", "/api/v1/kiosk/card-files/{hash}", Access::Kiosk),
    ("PUT", "/api/v1/kiosk/card-files/{hash}", Access::Kiosk),
    ("POST", "/api/v1/kiosk/events", Access::Kiosk),
];

/// The simulated kiosk's routes, in a build with the demo.
#[cfg(feature = "demo")]
pub const DEMO_ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/demo/kiosk", Access::Staff),
    ("GET", "/demo/kiosk/screen.png", Access::Staff),
    ("POST", "/demo/kiosk/tap", Access::Staff),
    ("POST", "/demo/kiosk/press", Access::Staff),
    ("POST", "/demo/kiosk/card", Access::Staff),
];
#[cfg(not(feature = "demo"))]
pub const DEMO_ROUTES: &[(&str, &str, Access)] = &[];

/// Every route of the application: the API's and the web UI's.
pub fn all_routes() -> impl Iterator<Item = &'static (&'static str, &'static str, Access)> {
    API_ROUTES
        .iter()
        .chain(PAGE_ROUTES.iter())
        .chain(DEMO_ROUTES.iter())
}

/// Every page route: method, path pattern, access.
pub const PAGE_ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/login", Access::Public),
    ("POST", "/login", Access::Public),
    ("GET", "/login/code", Access::Public),
    ("POST", "/login/code", Access::Public),
    ("GET", "/static/app.css", Access::Public),
    ("GET", "/static/picker.js", Access::Public),
    ("GET", "/people/picker", Access::Staff),
    ("POST", "/logout", Access::Staff),
    ("GET", "/account", Access::Staff),
    ("GET", "/account/second-factor", Access::Staff),
    ("POST", "/account/second-factor", Access::Staff),
    (
        "POST",
        "/account/second-factor/recovery-codes",
        Access::Staff,
    ),
    ("POST", "/account/sessions/{handle}/end", Access::Staff),
    ("POST", "/account/reminders", Access::Staff),
    ("GET", "/", Access::Staff),
    ("GET", "/devices/{id}", Access::Staff),
    ("GET", "/imports", Access::Staff),
    ("GET", "/imports/{id}", Access::Staff),
    ("GET", "/photos", Access::Staff),
    ("GET", "/photos/{id}", Access::Staff),
    ("GET", "/photos/{id}/preview", Access::Staff),
    ("GET", "/photos/{id}/thumbnail", Access::Staff),
    ("POST", "/photos/{id}/faces/{face}", Access::Staff),
    ("POST", "/photos/{id}/tagging", Access::Staff),
    ("POST", "/imports/{id}/dismiss-small-faces", Access::Staff),
    ("POST", "/imports/{id}/cover-cautioned", Access::Staff),
    ("GET", "/imports/{id}/without-people", Access::Staff),
    ("POST", "/imports/{id}/without-people", Access::Staff),
    ("GET", "/photos/{id}/draw", Access::Staff),
    ("POST", "/photos/{id}/draw", Access::Staff),
    (
        "POST",
        "/photos/{id}/faces-acknowledgement",
        Access::Director,
    ),
    ("POST", "/photos/{id}/tags", Access::Staff),
    ("POST", "/photos/{id}/tags/{tag}/remove", Access::Staff),
    ("POST", "/photos/{id}/tags/{tag}/covered", Access::Staff),
    ("POST", "/photos/{id}/caption", Access::Staff),
    ("POST", "/photos/{id}/confirmation", Access::Staff),
    ("POST", "/photos/{id}/requests", Access::Staff),
    ("POST", "/photos/{id}/approvals", Access::Director),
    ("POST", "/photos/{id}/publish", Access::Director),
    ("POST", "/photos/{id}/provenance", Access::Director),
    ("GET", "/approvals", Access::Director),
    ("GET", "/groups", Access::Staff),
    ("POST", "/groups", Access::Staff),
    ("GET", "/groups/{id}", Access::Staff),
    ("POST", "/groups/{id}", Access::Staff),
    ("POST", "/groups/{id}/members", Access::Staff),
    (
        "POST",
        "/groups/{id}/members/{person}/remove",
        Access::Staff,
    ),
    ("POST", "/groups/{id}/bookings", Access::Staff),
    ("POST", "/bookings/{id}/cancel", Access::Staff),
    ("GET", "/lookup", Access::Staff),
    ("POST", "/lookup", Access::Staff),
    ("GET", "/people/{id}", Access::Staff),
    ("POST", "/people/{id}", Access::Admin),
    ("POST", "/people/{id}/restriction", Access::Admin),
    ("POST", "/people/{id}/left", Access::Admin),
    ("POST", "/people/{id}/erase", Access::Admin),
    ("GET", "/people/{id}/export.zip", Access::Admin),
    ("POST", "/people/{id}/consents", Access::Admin),
    ("POST", "/people/{id}/contacts", Access::Admin),
    (
        "POST",
        "/people/{id}/contacts/{contact}/remove",
        Access::Admin,
    ),
    ("POST", "/people/{id}/consent-requests", Access::Admin),
    ("POST", "/groups/{id}/consent-requests", Access::Admin),
    ("POST", "/renewals/requests", Access::Admin),
    ("POST", "/consents/{id}", Access::Admin),
    ("POST", "/consents/{id}/withdraw", Access::Admin),
    ("POST", "/consents/{id}/evidence", Access::Admin),
    ("GET", "/consents/{id}/evidence", Access::Admin),
    ("GET", "/takedowns", Access::Oversight),
    ("GET", "/renewals", Access::Oversight),
    ("GET", "/renewals.csv", Access::Oversight),
    ("POST", "/takedowns/{id}/done", Access::Oversight),
    ("GET", "/audit", Access::Oversight),
    ("GET", "/audit.csv", Access::Oversight),
    ("GET", "/admin/people", Access::Admin),
    ("POST", "/admin/people", Access::Admin),
    ("GET", "/admin/accounts", Access::Admin),
    ("POST", "/admin/accounts", Access::Admin),
    ("POST", "/admin/accounts/{id}", Access::Admin),
    ("POST", "/admin/accounts/{id}/email", Access::Admin),
    ("GET", "/admin/consent-wording", Access::Admin),
    ("POST", "/admin/consent-wording", Access::Admin),
    ("GET", "/admin/publishing", Access::Admin),
    ("POST", "/admin/publishing/check", Access::Admin),
    ("GET", "/admin/mail", Access::Admin),
    ("POST", "/admin/mail/test", Access::Admin),
    ("POST", "/admin/mail/{id}/send-again", Access::Admin),
    ("GET", "/admin/badges", Access::Admin),
    ("POST", "/admin/badges", Access::Admin),
    ("POST", "/admin/badges/{id}/active", Access::Admin),
    ("GET", "/admin/devices", Access::Admin),
    ("POST", "/admin/devices", Access::Admin),
    ("GET", "/admin/kiosks", Access::Admin),
    ("POST", "/admin/kiosks", Access::Admin),
    ("POST", "/admin/kiosks/{id}/rotate", Access::Admin),
    ("POST", "/admin/kiosks/{id}/revoke", Access::Admin),
    ("GET", "/admin/partners", Access::Admin),
    ("POST", "/admin/partners", Access::Admin),
    ("GET", "/admin/import", Access::Admin),
    ("POST", "/admin/import", Access::Admin),
    ("GET", "/admin/sites", Access::Admin),
    ("POST", "/admin/sites", Access::Admin),
    ("POST", "/admin/sites/assign", Access::Admin),
];
