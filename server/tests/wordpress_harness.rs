//! The real WordPress the publishing tests stand on (tests/common/wordpress.rs): it
//! starts, installs itself, takes an upload with an application password made through
//! WordPress itself, deletes every file of it again, and goes away and comes back.
//!
//! Needs Debian's `wordpress`, `php-cli`, `php-mysql`, `php-gd` and `mariadb-server`.

#[path = "common/wordpress.rs"]
mod wordpress;

use std::time::{Duration, Instant};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A 1200×900 JPEG: bigger than WordPress's "large" size, so it makes every smaller one.
fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(1200, 900, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&img)
        .unwrap();
    jpeg
}

#[test]
fn a_real_wordpress_starts_installs_and_takes_an_upload_with_an_application_password() {
    let started = Instant::now();
    let mut wp = wordpress::shared();
    eprintln!("wordpress::shared() took {:.2?}", started.elapsed());
    let agent = agent();
    let before = wp.all_uploaded_files();

    let jpeg = photo();
    let mut response = agent
        .post(format!("{}/wp-json/wp/v2/media", wp.address))
        .header("Authorization", wp.authorization())
        .header("Content-Disposition", "attachment; filename=\"x.jpg\"")
        .header("Content-Type", "image/jpeg")
        .send(&jpeg[..])
        .unwrap();
    let body = response.body_mut().read_to_string().unwrap();
    assert_eq!(response.status(), 201, "{body}");
    let item: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = item["id"].as_u64().unwrap();

    let files = wp.files_of_media(id);
    assert!(files.len() > 1, "no sizes made (php-gd?): {files:?}");
    assert!(files.iter().all(|f| f.is_file()), "{files:?}");
    let original = wp
        .uploads
        .join(item["media_details"]["file"].as_str().unwrap());
    assert_eq!(std::fs::read(&original).unwrap(), jpeg, "kept as sent");
    let uploaded = wp.all_uploaded_files();
    assert!(files.iter().all(|f| uploaded.contains(f)), "{uploaded:?}");
    assert!(wp.media_list().iter().any(|m| m["id"] == id));
    assert_eq!(wp.media(id).unwrap()["id"], id);

    let mut response = agent
        .delete(format!(
            "{}/wp-json/wp/v2/media/{id}?force=true",
            wp.address
        ))
        .header("Authorization", wp.authorization())
        .call()
        .unwrap();
    let body = response.body_mut().read_to_string().unwrap();
    assert_eq!(response.status(), 200, "{body}");
    assert!(files.iter().all(|f| !f.exists()), "left behind: {files:?}");
    assert_eq!(wp.all_uploaded_files(), before);
    assert!(wp.media(id).is_none());
    assert!(!wp.media_list().iter().any(|m| m["id"] == id));

    let rest = format!("{}/wp-json/", wp.address);
    wp.stop();
    assert!(agent.get(&rest).call().is_err(), "answered while stopped");
    wp.resume();
    let response = agent.get(&rest).call().unwrap();
    assert_eq!(response.status(), 200);
    assert!(wp.media(id).is_none(), "the database stayed");
}
