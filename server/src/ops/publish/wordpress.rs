//! Publishing to a WordPress site (`[deliver.<channel>] kind = "wordpress"`), through the
//! REST API of WordPress core with an application password.
//!
//! A delivery puts the clean copy into the site's media library under its opaque name
//! (also its title), with the approved caption (which never holds a name) as caption and
//! alt text, and, if asked, starts a draft post holding it. What the site holds is
//! recorded the moment it holds it ([`deliver`]'s `record`), and every try first looks for
//! an earlier upload of the same name: a try cut off after WordPress took the file (a
//! timeout, the server killed) never leads to a second upload.
//!
//! A takedown ([`remove`]) deletes the media item for good (`?force=true`, which removes
//! every size WordPress made of it), then checks from outside that the item and every
//! address the site served it at are gone; until then the removal is tried again and the
//! takedown task cannot be marked done.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use crate::infra::config::{Endpoint, EndpointKind};
use crate::store::deliveries::{Delivery, Remote};

/// A media item as the site describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub id: i64,
    pub title: String,
    /// The upload's address and each size's.
    pub urls: Vec<String>,
}

/// Who the server is at the site, and what it may do there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub site_name: String,
    pub user: String,
    /// Capabilities the publishing needs that the user lacks.
    pub missing: Vec<&'static str>,
}

/// A WordPress site's REST API; the real one is [`HttpSite`], tests use their own.
pub trait Site: Send + Sync {
    /// Media items titled exactly `title`.
    fn find(&self, title: &str) -> Result<Vec<Media>, String>;
    /// Uploads a JPEG as `file_name`, titled `title`, with its caption and alt text.
    fn upload(
        &self,
        file_name: &str,
        title: &str,
        jpeg: &[u8],
        caption: &str,
    ) -> Result<Media, String>;
    /// The media item `id`; `None` when the site has no such item.
    fn media(&self, id: i64) -> Result<Option<Media>, String>;
    /// Deletes media item `id` for good; `Ok` when it is gone (or already was).
    fn delete(&self, id: i64) -> Result<(), String>;
    /// Whether anyone asking for `url` still gets the file.
    fn served(&self, url: &str) -> Result<bool, String>;
    /// The draft post whose slug is `slug`, in any state.
    fn find_post(&self, slug: &str) -> Result<Option<i64>, String>;
    /// Starts a draft post with the slug `slug` holding `media` and its caption.
    fn draft_post(&self, slug: &str, media: &Media, caption: &str) -> Result<i64, String>;
    /// Who the server logs in as, for the connection check.
    fn account(&self, draft_post: bool) -> Result<Account, String>;
}

/// The opaque name without its extension: the media item's title and the draft post's
/// slug.
pub fn stem(opaque_name: &str) -> &str {
    opaque_name
        .rsplit_once('.')
        .map_or(opaque_name, |(stem, _)| stem)
}

/// Sends one delivery: the copy into the media library once, then the draft post if
/// asked. `record` keeps what the site holds as soon as it holds it; the result is what
/// it holds at the end.
///
/// # Errors
/// Why the site did not take it (the delivery is tried again later).
pub fn deliver(
    site: &dyn Site,
    d: &Delivery,
    jpeg: &[u8],
    caption: &str,
    draft_post: bool,
    record: &mut dyn FnMut(&Remote) -> Result<(), String>,
) -> Result<Remote, String> {
    let title = stem(&d.opaque_name);
    let mut remote = d.remote.clone();
    if remote.media_id.is_none() {
        let found = site.find(title)?;
        let media = match found.split_first() {
            Some((first, extra)) => {
                // Never more than one: an extra copy is deleted before anything else.
                for media in extra {
                    site.delete(media.id)?;
                }
                first.clone()
            }
            None => site.upload(&d.opaque_name, title, jpeg, caption)?,
        };
        remote.media_id = Some(media.id);
        remote.urls = media.urls;
        record(&remote)?;
    }
    if draft_post && remote.draft_post_id.is_none() {
        let post = match site.find_post(title)? {
            Some(id) => id,
            None => {
                let media = Media {
                    id: remote.media_id.unwrap_or_default(),
                    title: title.to_owned(),
                    urls: remote.urls.clone(),
                };
                site.draft_post(title, &media, caption)?
            }
        };
        remote.draft_post_id = Some(post);
        record(&remote)?;
    }
    Ok(remote)
}

/// Removes a delivered copy for good and checks it is gone: the media item (and any
/// other item of the same name), then every address the site served it at.
///
/// # Errors
/// What is still there, or why the site could not be asked (tried again later).
pub fn remove(site: &dyn Site, d: &Delivery) -> Result<(), String> {
    let mut ids: Vec<i64> = d.remote.media_id.into_iter().collect();
    let mut urls = d.remote.urls.clone();
    for media in site.find(stem(&d.opaque_name))? {
        if !ids.contains(&media.id) {
            ids.push(media.id);
            urls.extend(media.urls);
        }
    }
    for id in ids {
        if let Some(media) = site.media(id)? {
            urls.extend(media.urls);
        }
        site.delete(id)?;
        if site.media(id)?.is_some() {
            return Err(format!(
                "WordPress still lists media item {id} after deleting it"
            ));
        }
    }
    urls.sort();
    urls.dedup();
    for url in &urls {
        if site.served(url)? {
            return Err(format!(
                "WordPress deleted the item but {url} still answers (a cache in front of the site may keep it)"
            ));
        }
    }
    Ok(())
}

/// The real site, reached over HTTP(S) with the user's application password.
pub struct HttpSite {
    agent: ureq::Agent,
    /// The REST API's root, without a trailing slash: `<url>/wp-json` or a `rest_root`.
    root: String,
    authorization: String,
}

/// What a request to the site's REST API got back.
struct Answer {
    status: u16,
    body: Value,
}

impl HttpSite {
    /// The site of `endpoint` (kind `wordpress`), its application password read now.
    ///
    /// # Errors
    /// Not a WordPress endpoint, or the password file cannot be read.
    pub fn new(endpoint: &Endpoint) -> Result<Self, String> {
        if endpoint.kind != EndpointKind::Wordpress {
            return Err(format!("{} is not a WordPress site", endpoint.url));
        }
        let user = endpoint.user.as_deref().unwrap_or_default();
        let password = endpoint
            .secret()?
            .ok_or("no password_file for the WordPress site")?;
        let root = endpoint
            .rest_root
            .clone()
            .unwrap_or_else(|| format!("{}/wp-json", endpoint.url.trim_end_matches('/')));
        Ok(Self {
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(60)))
                .http_status_as_error(false)
                .max_idle_age(Duration::from_secs(
                    consentcam_wire::IDLE_CONNECTION_SECONDS,
                ))
                .build()
                .into(),
            root: root.trim_end_matches('/').to_owned(),
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
        })
    }

    fn route(&self, path: &str, query: &[(&str, &str)]) -> String {
        route(&self.root, path, query)
    }

    fn answer(
        &self,
        what: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, String> {
        let mut response =
            response.map_err(|e| format!("cannot reach the WordPress site ({what}): {e}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| format!("the WordPress site's answer ({what}) was cut off: {e}"))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer { status, body })
    }

    fn get(&self, what: &str, url: &str) -> Result<Answer, String> {
        let response = self
            .agent
            .get(url)
            .header("Authorization", &self.authorization)
            .call();
        self.answer(what, response)
    }

    /// The JSON of a GET that must answer 200.
    fn get_ok(&self, what: &str, url: &str) -> Result<Answer, String> {
        Self::accepted(what, self.get(what, url)?)
    }

    /// The answer when its status is 200 or 201; otherwise why not.
    fn accepted(what: &str, answer: Answer) -> Result<Answer, String> {
        if matches!(answer.status, 200 | 201) {
            Ok(answer)
        } else {
            Err(refusal(what, &answer))
        }
    }
}

/// `root` + `path` + `query`, for a root that is a path (`.../wp-json`) or itself a query
/// (`.../?rest_route=`).
pub fn route(root: &str, path: &str, query: &[(&str, &str)]) -> String {
    let mut url = format!("{root}{path}");
    let mut joiner = if root.contains('?') { '&' } else { '?' };
    for (key, value) in query {
        url.push(joiner);
        url.extend(form_urlencoded::byte_serialize(key.as_bytes()));
        url.push('=');
        url.extend(form_urlencoded::byte_serialize(value.as_bytes()));
        joiner = '&';
    }
    url
}

/// Why an answer is not what was asked for: the status and WordPress's own message.
fn refusal(what: &str, answer: &Answer) -> String {
    let said = answer["message"].as_str().unwrap_or_default();
    let hint = match answer.status {
        401 => " (check the user name and its application password)",
        403 => " (the user may not do this: give it the Author role or above)",
        404 if answer["code"] == "rest_no_route" || answer.body.is_null() => {
            " (is the REST API at this address? a site with plain permalinks needs rest_root = \"<url>/?rest_route=\")"
        }
        _ => "",
    };
    format!(
        "WordPress answered HTTP {} to {what}{}{hint}",
        answer.status,
        if said.is_empty() {
            String::new()
        } else {
            format!(": {said}")
        }
    )
}

impl std::ops::Index<&str> for Answer {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        &self.body[key]
    }
}

/// A media item from the REST API's JSON: its id, title and every address of a file.
fn media_of(item: &Value) -> Option<Media> {
    let mut urls: Vec<String> = item["source_url"]
        .as_str()
        .map(str::to_owned)
        .into_iter()
        .collect();
    if let Some(sizes) = item["media_details"]["sizes"].as_object() {
        urls.extend(
            sizes
                .values()
                .filter_map(|size| size["source_url"].as_str().map(str::to_owned)),
        );
    }
    urls.sort();
    urls.dedup();
    Some(Media {
        id: item["id"].as_i64()?,
        title: item["title"]["raw"]
            .as_str()
            .or_else(|| item["title"]["rendered"].as_str())
            .unwrap_or_default()
            .to_owned(),
        urls,
    })
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

impl Site for HttpSite {
    fn find(&self, title: &str) -> Result<Vec<Media>, String> {
        let url = self.route(
            "/wp/v2/media",
            &[("search", title), ("context", "edit"), ("per_page", "100")],
        );
        let answer = self.get_ok("a search of the media library", &url)?;
        Ok(answer
            .body
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(media_of)
                    .filter(|m| m.title == title)
                    .collect()
            })
            .unwrap_or_default())
    }

    fn upload(
        &self,
        file_name: &str,
        title: &str,
        jpeg: &[u8],
        caption: &str,
    ) -> Result<Media, String> {
        let url = self.route(
            "/wp/v2/media",
            &[
                ("title", title),
                ("caption", caption),
                ("alt_text", caption),
            ],
        );
        let response = self
            .agent
            .post(&url)
            .header("Authorization", &self.authorization)
            .header("Content-Type", "image/jpeg")
            .header(
                "Content-Disposition",
                &format!("attachment; filename=\"{file_name}\""),
            )
            .send(jpeg);
        let answer = Self::accepted("the upload", self.answer("the upload", response)?)?;
        media_of(&answer.body)
            .ok_or_else(|| "WordPress's answer to the upload names no media item".into())
    }

    fn media(&self, id: i64) -> Result<Option<Media>, String> {
        let url = self.route(&format!("/wp/v2/media/{id}"), &[("context", "edit")]);
        let answer = self.get("a look at the media item", &url)?;
        match answer.status {
            200 => Ok(media_of(&answer.body)),
            404 | 410 => Ok(None),
            _ => Err(refusal("a look at the media item", &answer)),
        }
    }

    fn delete(&self, id: i64) -> Result<(), String> {
        let url = self.route(&format!("/wp/v2/media/{id}"), &[("force", "true")]);
        let response = self
            .agent
            .delete(&url)
            .header("Authorization", &self.authorization)
            .call();
        let answer = self.answer("the deletion", response)?;
        match answer.status {
            200 | 404 | 410 => Ok(()),
            _ => Err(refusal("the deletion", &answer)),
        }
    }

    fn served(&self, url: &str) -> Result<bool, String> {
        // Asked as anyone would, without the password.
        let response = self.agent.get(url).call();
        let answer = self.answer("a look at the file's address", response)?;
        match answer.status {
            200..=299 => Ok(true),
            404 | 410 => Ok(false),
            status => Err(format!(
                "{url} answered HTTP {status}: whether it is gone cannot be told"
            )),
        }
    }

    fn find_post(&self, slug: &str) -> Result<Option<i64>, String> {
        let url = self.route(
            "/wp/v2/posts",
            &[
                ("slug", slug),
                ("status", "draft,pending,publish,future,private"),
                ("context", "edit"),
            ],
        );
        let answer = self.get_ok("a search of the posts", &url)?;
        Ok(answer
            .body
            .as_array()
            .and_then(|posts| posts.first())
            .and_then(|post| post["id"].as_i64()))
    }

    fn draft_post(&self, slug: &str, media: &Media, caption: &str) -> Result<i64, String> {
        let src = media
            .urls
            .iter()
            .find(|u| u.contains(slug))
            .cloned()
            .unwrap_or_default();
        let (src, caption_html) = (escape_html(&src), escape_html(caption));
        let figure = format!(
            "<!-- wp:image {{\"id\":{id}}} -->\n<figure class=\"wp-block-image\"><img src=\"{src}\" alt=\"{caption_html}\" class=\"wp-image-{id}\"/>{figcaption}</figure>\n<!-- /wp:image -->",
            id = media.id,
            figcaption = if caption.is_empty() {
                String::new()
            } else {
                format!("<figcaption class=\"wp-element-caption\">{caption_html}</figcaption>")
            }
        );
        let body = serde_json::json!({
            "slug": slug,
            "status": "draft",
            "title": if caption.is_empty() { "New photo" } else { caption },
            "content": figure,
            "featured_media": media.id,
        });
        let response = self
            .agent
            .post(&self.route("/wp/v2/posts", &[]))
            .header("Authorization", &self.authorization)
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes());
        let answer = Self::accepted("the draft post", self.answer("the draft post", response)?)?;
        answer["id"]
            .as_i64()
            .ok_or_else(|| "WordPress's answer to the draft post names no post".into())
    }

    fn account(&self, draft_post: bool) -> Result<Account, String> {
        let site = self.get_ok("the REST API's index", &self.route("/", &[]))?;
        let me = self.get_ok(
            "a look at the user",
            &self.route("/wp/v2/users/me", &[("context", "edit")]),
        )?;
        let mut needed = vec!["upload_files", "delete_posts", "delete_published_posts"];
        if draft_post {
            needed.push("edit_posts");
        }
        let missing = needed
            .into_iter()
            .filter(|cap| me["capabilities"][*cap] != Value::Bool(true))
            .collect();
        Ok(Account {
            site_name: site["name"].as_str().unwrap_or_default().to_owned(),
            user: me["username"]
                .as_str()
                .or_else(|| me["name"].as_str())
                .unwrap_or_default()
                .to_owned(),
            missing,
        })
    }
}

/// The connection check (`consentcam deliver-test`, the admin's page): a sentence saying
/// what works, or why not.
///
/// # Errors
/// What is wrong, in a sentence an admin can act on.
pub fn check(site: &dyn Site, draft_post: bool) -> Result<String, String> {
    let account = site.account(draft_post)?;
    if !account.missing.is_empty() {
        return Err(format!(
            "logged in to {:?} as {}, who lacks {}: give the user the Author role or above",
            account.site_name,
            account.user,
            account.missing.join(", ")
        ));
    }
    Ok(format!(
        "logged in to {:?} as {}, who may upload and delete media{}",
        account.site_name,
        account.user,
        if draft_post { " and write drafts" } else { "" }
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::domain::Channel;
    use crate::store::deliveries::DeliveryState;

    /// A site in memory that can be told to fail the next call of a kind.
    #[derive(Default)]
    struct Fake {
        items: Mutex<Vec<Media>>,
        posts: Mutex<Vec<(i64, String)>>,
        next_id: Mutex<i64>,
        /// Calls that fail once each, in order: "upload-after" takes the file and then
        /// fails as a timeout would.
        fail: Mutex<Vec<&'static str>>,
        uploads: Mutex<usize>,
        /// Addresses still served after the item went (a cache).
        cached: Mutex<Vec<String>>,
    }

    impl Fake {
        fn failing(&self, call: &'static str) -> bool {
            let mut fail = self.fail.lock().unwrap();
            if fail.first() == Some(&call) {
                fail.remove(0);
                return true;
            }
            false
        }
        fn id(&self) -> i64 {
            let mut next = self.next_id.lock().unwrap();
            *next += 1;
            *next
        }
    }

    impl Site for Fake {
        fn find(&self, title: &str) -> Result<Vec<Media>, String> {
            Ok(self
                .items
                .lock()
                .unwrap()
                .iter()
                .filter(|m| m.title == title)
                .cloned()
                .collect())
        }
        fn upload(&self, file: &str, title: &str, _: &[u8], _: &str) -> Result<Media, String> {
            if self.failing("upload") {
                return Err("timed out".into());
            }
            *self.uploads.lock().unwrap() += 1;
            let id = self.id();
            let media = Media {
                id,
                title: title.into(),
                urls: vec![
                    format!("https://s/{file}"),
                    format!("https://s/{title}-300x200.jpg"),
                ],
            };
            self.items.lock().unwrap().push(media.clone());
            if self.failing("upload-after") {
                return Err("timed out".into());
            }
            Ok(media)
        }
        fn media(&self, id: i64) -> Result<Option<Media>, String> {
            Ok(self
                .items
                .lock()
                .unwrap()
                .iter()
                .find(|m| m.id == id)
                .cloned())
        }
        fn delete(&self, id: i64) -> Result<(), String> {
            if self.failing("delete") {
                return Err("WordPress answered HTTP 500 to the deletion".into());
            }
            self.items.lock().unwrap().retain(|m| m.id != id);
            Ok(())
        }
        fn served(&self, url: &str) -> Result<bool, String> {
            let items = self.items.lock().unwrap();
            Ok(items.iter().any(|m| m.urls.iter().any(|u| u == url))
                || self.cached.lock().unwrap().iter().any(|u| u == url))
        }
        fn find_post(&self, slug: &str) -> Result<Option<i64>, String> {
            Ok(self
                .posts
                .lock()
                .unwrap()
                .iter()
                .find(|p| p.1 == slug)
                .map(|p| p.0))
        }
        fn draft_post(&self, slug: &str, _: &Media, _: &str) -> Result<i64, String> {
            let id = self.id();
            self.posts.lock().unwrap().push((id, slug.into()));
            if self.failing("post-after") {
                return Err("timed out".into());
            }
            Ok(id)
        }
        fn account(&self, _: bool) -> Result<Account, String> {
            Ok(Account {
                site_name: "School".into(),
                user: "consentcam".into(),
                missing: vec![],
            })
        }
    }

    fn delivery(remote: Remote) -> Delivery {
        Delivery {
            publication_id: 1,
            url: "https://s".into(),
            state: DeliveryState::Pending,
            attempts: 0,
            last_error: None,
            next_attempt_at: jiff::Timestamp::UNIX_EPOCH,
            delivered_at: None,
            channel: Channel::Website,
            opaque_name: "ab12cd.jpg".into(),
            taken_down: false,
            kind: EndpointKind::Wordpress,
            remote,
        }
    }

    /// Delivers until it goes through, as the forwarder's retries would, keeping what
    /// `record` was given between tries.
    fn deliver_until_done(site: &Fake, draft: bool) -> (Remote, usize) {
        let mut kept = Remote::default();
        for tries in 1..10 {
            let d = delivery(kept.clone());
            let mut record = |r: &Remote| {
                kept = r.clone();
                Ok(())
            };
            if let Ok(remote) = deliver(site, &d, b"jpeg", "A day out", draft, &mut record) {
                return (remote, tries);
            }
        }
        panic!("never delivered");
    }

    #[test]
    fn a_try_cut_off_after_the_site_took_the_file_never_uploads_it_twice() {
        for (fail, tries) in [
            (vec![], 1),
            (vec!["upload"], 2),
            (vec!["upload-after"], 2),
            (vec!["upload-after", "post-after"], 3),
        ] {
            let site = Fake::default();
            *site.fail.lock().unwrap() = fail.clone();
            let (remote, took) = deliver_until_done(&site, true);
            assert_eq!(took, tries, "{fail:?}");
            assert_eq!(*site.uploads.lock().unwrap(), 1, "{fail:?}: uploaded once");
            assert_eq!(site.items.lock().unwrap().len(), 1, "{fail:?}");
            assert_eq!(
                site.posts.lock().unwrap().len(),
                1,
                "{fail:?}: one draft post"
            );
            assert_eq!(remote.media_id, Some(site.items.lock().unwrap()[0].id));
            assert_eq!(remote.urls.len(), 2);
            assert!(remote.draft_post_id.is_some());
        }
    }

    #[test]
    fn a_removal_deletes_every_item_of_the_name_and_is_done_only_when_every_address_is_gone() {
        let site = Fake::default();
        let (remote, _) = deliver_until_done(&site, false);
        // Someone uploaded the same file again by hand.
        site.items.lock().unwrap().push(Media {
            id: 99,
            title: "ab12cd".into(),
            urls: vec!["https://s/ab12cd-1.jpg".into()],
        });
        let d = delivery(remote.clone());
        *site.fail.lock().unwrap() = vec!["delete"];
        let err = remove(&site, &d).unwrap_err();
        assert!(err.contains("HTTP 500"), "{err}");
        // A cache still serves one size: not done, and it says which.
        site.cached
            .lock()
            .unwrap()
            .push("https://s/ab12cd-300x200.jpg".into());
        let err = remove(&site, &d).unwrap_err();
        assert!(
            err.contains("https://s/ab12cd-300x200.jpg still answers"),
            "{err}"
        );
        assert!(site.items.lock().unwrap().is_empty(), "both items deleted");
        site.cached.lock().unwrap().clear();
        remove(&site, &d).unwrap();
        // Already gone: done again at once.
        remove(&site, &d).unwrap();
    }

    #[test]
    fn routes_work_with_pretty_and_plain_permalinks() {
        assert_eq!(
            route(
                "https://s.example/wp-json",
                "/wp/v2/media",
                &[("search", "a b"), ("force", "true")]
            ),
            "https://s.example/wp-json/wp/v2/media?search=a+b&force=true"
        );
        assert_eq!(
            route(
                "https://s.example/?rest_route=",
                "/wp/v2/media/4",
                &[("force", "true")]
            ),
            "https://s.example/?rest_route=/wp/v2/media/4&force=true"
        );
        assert_eq!(stem("ab12.jpg"), "ab12");
        assert_eq!(stem("noext"), "noext");
    }

    #[test]
    fn the_check_names_what_the_user_may_not_do() {
        struct Author;
        impl Site for Author {
            fn find(&self, _: &str) -> Result<Vec<Media>, String> {
                unreachable!()
            }
            fn upload(&self, _: &str, _: &str, _: &[u8], _: &str) -> Result<Media, String> {
                unreachable!()
            }
            fn media(&self, _: i64) -> Result<Option<Media>, String> {
                unreachable!()
            }
            fn delete(&self, _: i64) -> Result<(), String> {
                unreachable!()
            }
            fn served(&self, _: &str) -> Result<bool, String> {
                unreachable!()
            }
            fn find_post(&self, _: &str) -> Result<Option<i64>, String> {
                unreachable!()
            }
            fn draft_post(&self, _: &str, _: &Media, _: &str) -> Result<i64, String> {
                unreachable!()
            }
            fn account(&self, _: bool) -> Result<Account, String> {
                Ok(Account {
                    site_name: "School".into(),
                    user: "c".into(),
                    missing: vec!["upload_files"],
                })
            }
        }
        let err = check(&Author, false).unwrap_err();
        assert!(err.contains("lacks upload_files"), "{err}");
        assert!(
            check(&Fake::default(), true)
                .unwrap()
                .contains("write drafts")
        );
    }
}
