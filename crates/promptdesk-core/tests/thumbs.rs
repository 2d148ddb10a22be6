//! The thumbnail cache: size and aspect, cache hits that never read the source again, a
//! missing or damaged source as an error (never a panic), and the worker pool's order
//! (the most recently requested first), dedup and cancel.

extern crate promptdesk_core as promptdesk;

use promptdesk::outputs::sha256_hex;
use promptdesk::thumbs::{
    THUMBNAIL_SIDE, ThumbError, ThumbnailPool, cached_thumbnail, ensure_thumbnail, make_thumbnail,
    thumbnail_path,
};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A w x h RGB image with smooth colour (different for each `tint`).
fn rgb(w: u32, h: u32, tint: u8) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            tint.wrapping_add(((x ^ y) & 0x1f) as u8),
        ])
    })
}

fn encode(image: &image::RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn png(w: u32, h: u32, tint: u8) -> Vec<u8> {
    encode(&rgb(w, h, tint), image::ImageFormat::Png)
}

fn decoded_size(jpeg: &[u8]) -> (u32, u32) {
    assert!(jpeg.starts_with(&[0xff, 0xd8, 0xff]), "a JPEG");
    let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).unwrap();
    (img.width(), img.height())
}

/// Writes `bytes` under `dir` and returns its path and SHA-256.
fn source(dir: &Path, name: &str, bytes: &[u8]) -> (PathBuf, String) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    (path, sha256_hex(bytes))
}

#[test]
fn a_1024_square_png_becomes_a_256_square_jpeg() {
    let thumb = make_thumbnail(&png(1024, 1024, 0), THUMBNAIL_SIDE).unwrap();
    assert_eq!(decoded_size(&thumb), (256, 256));
    assert!(thumb.len() < 64 << 10, "{} bytes", thumb.len());
}

#[test]
fn the_long_side_is_bounded_and_the_aspect_kept() {
    // Portrait and landscape SD sizes, a JPEG and a WebP among them.
    let cases = [
        (png(832, 1216, 1), (175, 256)),
        (png(1536, 640, 2), (256, 107)),
        (
            encode(&rgb(768, 512, 3), image::ImageFormat::Jpeg),
            (256, 171),
        ),
        (
            encode(&rgb(640, 960, 4), image::ImageFormat::WebP),
            (171, 256),
        ),
    ];
    for (bytes, want) in cases {
        let (w, h) = decoded_size(&make_thumbnail(&bytes, 256).unwrap());
        assert!(w <= 256 && h <= 256);
        assert!(
            w.abs_diff(want.0) <= 1 && h.abs_diff(want.1) <= 1,
            "{w}x{h}, want about {want:?}"
        );
    }
    // A small image is never enlarged.
    assert_eq!(
        decoded_size(&make_thumbnail(&png(100, 60, 5), 256).unwrap()),
        (100, 60)
    );
    // Other sizes on request.
    assert_eq!(
        decoded_size(&make_thumbnail(&png(1024, 512, 6), 64).unwrap()),
        (64, 32)
    );
}

#[test]
fn damaged_or_foreign_bytes_are_errors_not_panics() {
    let good = png(64, 64, 7);
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    for b in &mut flipped[mid..mid + 16] {
        *b ^= 0xa5;
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text", b"not an image at all".to_vec()),
        ("cut short", good[..good.len() / 3].to_vec()),
        ("header only", good[..40].to_vec()),
        ("flipped bytes", flipped),
        ("gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec()),
        (
            "jpeg header only",
            vec![0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F'],
        ),
        (
            "riff not webp",
            b"RIFF\x10\x00\x00\x00WEBPVP8 junkjunk".to_vec(),
        ),
    ];
    for (what, bytes) in cases {
        match make_thumbnail(&bytes, 256) {
            Err(ThumbError::Decode { path: None, reason }) => {
                assert!(!reason.is_empty(), "{what}")
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    // A PNG header claiming a huge image is refused before any decoding.
    let mut huge = good.clone();
    huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    assert!(make_thumbnail(&huge, 256).is_err());
}

#[test]
fn a_cache_hit_does_not_read_or_decode_the_source_again() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (src, sha) = source(tmp.path(), "a.png", &png(1024, 768, 8));
    assert_eq!(cached_thumbnail(&data, &sha), None);
    let path = ensure_thumbnail(&data, &sha, &src).unwrap();
    assert_eq!(cached_thumbnail(&data, &sha), Some(path.clone()));
    assert_eq!(path, thumbnail_path(&data, &sha));
    assert!(path.starts_with(data.join("thumbs").join(&sha[..2])));
    assert_eq!(
        decoded_size(&std::fs::read(&path).unwrap()),
        (256, 192),
        "4:3 kept"
    );
    let made = std::fs::metadata(&path).unwrap().modified().unwrap();
    // No temp files left beside it.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    // The source moved away (or replaced by junk): the cached thumbnail still answers, as it
    // was (not written again).
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&src, b"junk").unwrap();
    let again = ensure_thumbnail(&data, &sha, &src).unwrap();
    assert_eq!(again, path);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), made);
    std::fs::remove_file(&src).unwrap();
    assert_eq!(ensure_thumbnail(&data, &sha, &src).unwrap(), path);
    // Upper-case hashes find the same thumbnail.
    assert_eq!(
        ensure_thumbnail(&data, &sha.to_ascii_uppercase(), &src).unwrap(),
        path
    );
}

#[test]
fn a_missing_or_damaged_source_is_a_clear_error_and_caches_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let missing = tmp.path().join("outputs").join("gone.png");
    let sha = "0".repeat(64);
    let e = ensure_thumbnail(&data, &sha, &missing).unwrap_err();
    assert!(matches!(e, ThumbError::SourceMissing { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("{}: the image file is missing", missing.display())
    );

    let (bad, bad_sha) = source(tmp.path(), "bad.png", &png(64, 64, 9)[..50]);
    let e = ensure_thumbnail(&data, &bad_sha, &bad).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{}: cannot decode the image: ", bad.display())),
        "{e}"
    );
    assert!(!thumbnail_path(&data, &bad_sha).exists());

    let e = ensure_thumbnail(&data, "../../escape", &bad).unwrap_err();
    assert!(matches!(e, ThumbError::BadKey { .. }), "{e:?}");
    let e = ensure_thumbnail(&data, &sha, tmp.path()).unwrap_err();
    assert!(matches!(e, ThumbError::Read { .. }), "a folder: {e:?}");
}

/// `n` PNG sources with their hashes.
fn sources(dir: &Path, prefix: &str, n: usize) -> Vec<(PathBuf, String)> {
    (0..n)
        .map(|i| {
            // Distinct images: the width from the number, the colour from the prefix.
            let tint = prefix
                .bytes()
                .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
            let bytes = png(64 + i as u32, 64, tint);
            source(dir, &format!("{prefix}{i}.png"), &bytes)
        })
        .collect()
}

fn next(pool: &ThumbnailPool) -> promptdesk::thumbs::ThumbnailDone {
    pool.recv_timeout(Duration::from_secs(30))
        .expect("a result within 30 s")
}

#[test]
fn the_pool_makes_the_most_recently_requested_first() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let offscreen = sources(tmp.path(), "off", 12);
    let visible = sources(tmp.path(), "vis", 4);
    let pool = ThumbnailPool::new(&data, 1);
    pool.pause();
    // Scrolled past earlier, one by one.
    for (path, sha) in &offscreen {
        assert!(pool.request(sha, path));
    }
    // The screen now: a batch, in screen order, then one more (the one under the pointer).
    let batch: Vec<(&str, &Path)> = visible[..3]
        .iter()
        .map(|(p, s)| (s.as_str(), p.as_path()))
        .collect();
    assert_eq!(pool.request_many(batch), 3);
    assert!(pool.request(&visible[3].1, &visible[3].0));
    // Asking again for a queued one does not queue it twice.
    assert!(pool.request(&offscreen[0].1, &offscreen[0].0));
    assert_eq!(pool.queued(), 16);
    pool.resume();

    let order: Vec<String> = (0..16).map(|_| next(&pool).sha256).collect();
    let want_first = [
        &offscreen[0].1, // asked again last
        &visible[3].1,
        &visible[0].1,
        &visible[1].1,
        &visible[2].1,
    ];
    assert_eq!(
        order[..5].iter().collect::<Vec<_>>(),
        want_first,
        "the most recent requests first"
    );
    // Then the older ones, newest first.
    let rest: Vec<&String> = offscreen[1..].iter().rev().map(|(_, s)| s).collect();
    assert_eq!(order[5..].iter().collect::<Vec<_>>(), rest);
    assert!(pool.try_recv().is_none(), "each image once");
    for (_, sha) in offscreen.iter().chain(&visible) {
        assert!(thumbnail_path(&data, sha).is_file());
    }
}

#[test]
fn the_pool_cancels_stale_requests_and_reports_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let images = sources(tmp.path(), "img", 10);
    let pool = ThumbnailPool::new(&data, 2);
    let notified = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = notified.clone();
    pool.set_notify(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    pool.pause();
    for (path, sha) in &images {
        pool.request(sha, path);
    }
    assert!(pool.cancel(&images[0].1));
    assert!(!pool.cancel(&images[0].1), "already cancelled");
    // Scrolled on: only images 5.. are still near the screen.
    let keep: Vec<&str> = images[5..].iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(pool.retain(|sha| keep.contains(&sha)), 4);
    let missing = tmp.path().join("missing.png");
    pool.request(&"f".repeat(64), &missing);
    assert_eq!(pool.queued(), 6);
    pool.resume();

    let mut done: Vec<_> = (0..6).map(|_| next(&pool)).collect();
    assert!(pool.recv_timeout(Duration::from_millis(300)).is_none());
    let failed = done.remove(
        done.iter()
            .position(|d| d.result.is_err())
            .expect("one error"),
    );
    assert_eq!(failed.source, missing);
    assert!(matches!(
        failed.result,
        Err(ThumbError::SourceMissing { .. })
    ));
    let mut got: Vec<&str> = done.iter().map(|d| d.sha256.as_str()).collect();
    got.sort();
    let mut want = keep.clone();
    want.sort();
    assert_eq!(got, want);
    for d in &done {
        assert_eq!(
            d.result.as_ref().unwrap(),
            &thumbnail_path(&data, &d.sha256)
        );
    }
    for (_, sha) in &images[..5] {
        assert!(!thumbnail_path(&data, sha).exists(), "cancelled: not made");
    }
    assert_eq!(notified.load(std::sync::atomic::Ordering::SeqCst), 6);
    assert_eq!((pool.queued(), pool.in_progress()), (0, 0));

    // Cleared, then dropped with work queued: the drop does not hang.
    pool.pause();
    for (path, sha) in &images[..5] {
        pool.request(sha, path);
    }
    pool.clear();
    assert_eq!(pool.queued(), 0);
    for (path, sha) in &images[..5] {
        pool.request(sha, path);
    }
    pool.resume();
    drop(pool);
}
