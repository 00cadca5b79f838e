//! Web sessions kept in the records database, so a restart does not log everyone out.
//!
//! Only the session id (in an HttpOnly cookie) leaves the server.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::Connection;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};

use crate::store::sessions;

#[derive(Debug, Clone)]
pub struct SqliteSessionStore {
    /// The writing connection: new, saved and ended sessions.
    db: Arc<Mutex<Connection>>,
    /// Reading connections: every request's session is read through one of them, so no
    /// request waits for the writer just to learn who is asking.
    readers: crate::store::Readers,
}

impl SqliteSessionStore {
    pub fn new(db: Arc<Mutex<Connection>>, readers: crate::store::Readers) -> Self {
        Self { db, readers }
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> crate::store::Result<T> + Send + 'static,
    ) -> Result<T> {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = readers.get().map_err(|e| Error::Backend(e.to_string()))?;
            f(&conn).map_err(|e| Error::Backend(e.to_string()))
        })
        .await
        .map_err(|e| Error::Backend(e.to_string()))?
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> crate::store::Result<T> + Send + 'static,
    ) -> Result<T> {
        self.run_store(f)
            .await?
            .map_err(|e| Error::Backend(e.to_string()))
    }

    /// As [`Self::run`], the store's own error kept apart.
    async fn run_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> crate::store::Result<T> + Send + 'static,
    ) -> Result<crate::store::Result<T>> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let conn = db
                .lock()
                .map_err(|_| Error::Backend("database lock poisoned".into()))?;
            Ok(f(&conn))
        })
        .await
        .map_err(|e| Error::Backend(e.to_string()))?
    }

    async fn store(&self, record: &Record) -> Result<crate::store::Result<()>> {
        let id = record.id.to_string();
        let data = serde_json::to_vec(record).map_err(|e| Error::Encode(e.to_string()))?;
        let expires = record.expiry_date.unix_timestamp();
        self.run_store(move |c| sessions::save(c, &id, &data, expires))
            .await
    }
}

#[async_trait]
impl SessionStore for SqliteSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Sessions that ran out go when new ones are made (reading skips them).
        let now = crate::infra::clock::system_now().as_second();
        self.run(move |c| sessions::clear_expired(c, now)).await?;
        loop {
            let id = record.id.to_string();
            if !self.run(move |c| sessions::exists(c, &id)).await? {
                break;
            }
            record.id = Id::default();
        }
        self.store(record)
            .await?
            .map_err(|e| Error::Backend(e.to_string()))
    }

    async fn save(&self, record: &Record) -> Result<()> {
        match self.store(record).await? {
            // Every page refreshes its session's expiry: on a full disk that write fails
            // and the page is still served (reading goes on); the session keeps the
            // expiry it had. A new session (a login) is refused ([`Self::create`]).
            Err(e) if e.is_disk_full() => {
                tracing::warn!("a session's expiry was not refreshed: the disk is full");
                Ok(())
            }
            other => other.map_err(|e| Error::Backend(e.to_string())),
        }
    }

    async fn load(&self, session_id: &Id) -> Result<Option<Record>> {
        let id = session_id.to_string();
        let now = crate::infra::clock::system_now().as_second();
        let data = self.read(move |c| sessions::load(c, &id, now)).await?;
        data.map(|d| serde_json::from_slice(&d).map_err(|e| Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, session_id: &Id) -> Result<()> {
        let id = session_id.to_string();
        self.run(move |c| sessions::delete(c, &id)).await
    }
}

/// One of an account's sessions, as its owner sees it. The session id never leaves the
/// server: a handle (a hash of it) names the session instead.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OwnSession {
    pub handle: String,
    /// When it ends if unused (Unix seconds).
    pub expires_at: i64,
    /// The session this request comes from.
    pub current: bool,
}

/// The handle a session is shown by: a hash of its id.
pub fn handle_of(id: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(id.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The live sessions of `account`; `current` is the id of the asking session.
pub fn sessions_of(
    conn: &Connection,
    account: crate::domain::AccountId,
    current: Option<&str>,
    now: i64,
) -> crate::store::Result<Vec<(String, OwnSession)>> {
    Ok(sessions::live(conn, now)?
        .into_iter()
        .filter(|(_, data, _)| {
            serde_json::from_slice::<Record>(data).is_ok_and(|record| {
                record
                    .data
                    .get(super::access::SESSION_KEY)
                    .and_then(|user| user.get("account_id"))
                    .and_then(serde_json::Value::as_i64)
                    == Some(account.0)
            })
        })
        .map(|(id, _, expires_at)| {
            let own = OwnSession {
                handle: handle_of(&id),
                expires_at,
                current: current == Some(id.as_str()),
            };
            (id, own)
        })
        .collect())
}

/// The id of the live session of `account` named by `handle`, if it has one.
pub fn own_session(
    conn: &Connection,
    account: crate::domain::AccountId,
    handle: &str,
    now: i64,
) -> crate::store::Result<Option<String>> {
    Ok(sessions_of(conn, account, None, now)?
        .into_iter()
        .find(|(_, own)| own.handle == handle)
        .map(|(id, _)| id))
}
