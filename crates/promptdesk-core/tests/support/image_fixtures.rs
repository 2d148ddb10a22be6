//! Image files as the tools that make Stable Diffusion images write them, built by hand for
//! the image import's tests: real, decodable PNG, JPEG and WebP images (encoded with the
//! `image` crate) with the metadata put in the way each tool puts it.
//!
//! - PNG text chunks (`tEXt`, or UTF-8 `iTXt` when asked or when the text is not Latin-1);
//! - A1111's JPEG and WebP metadata: an EXIF `UserComment` (`UNICODE\0` + UTF-16) as piexif
//!   writes it (a big-endian TIFF with UTF-16BE text), or little-endian for other writers;
//!   WebP in the extended format (`VP8X` with the EXIF flag, the image chunk, `EXIF`).
//!
//! [`fixtures`] lists the committed files of `tests/fixtures/images/`; the `fixtures_are_
//! up_to_date` test checks them against it (`PROMPTDESK_UPDATE_FIXTURES=1` rewrites them).
//! Include with `#[path = "support/image_fixtures.rs"] mod image_fixtures;`; it needs
//! `image`, `crc32fast` and `serde_json`.

#![allow(dead_code)]

use std::io::Cursor;

/// A flat-coloured RGB image, `w` x `h`, in `format`.
pub fn encode(w: u32, h: u32, rgb: [u8; 3], format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            rgb[0].wrapping_add((x * 3) as u8),
            rgb[1].wrapping_add((y * 5) as u8),
            rgb[2],
        ])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .expect("encodes");
    out.into_inner()
}

use promptdesk_core::outputs::push_png_chunk as push_chunk;

/// How a PNG text is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// `tEXt` (Latin-1).
    Plain,
    /// Uncompressed UTF-8 `iTXt`.
    International,
}

/// A PNG `w` x `h` with the text chunks right after the header.
pub fn png(w: u32, h: u32, rgb: [u8; 3], texts: &[(&str, &str, Text)]) -> Vec<u8> {
    let plain = encode(w, h, rgb, image::ImageFormat::Png);
    // The header chunk is the first after the 8-byte signature: 4 + 4 + 13 + 4 bytes.
    let ihdr_end = 8 + 25;
    let mut out = plain[..ihdr_end].to_vec();
    for (keyword, text, kind) in texts {
        let mut data = keyword.as_bytes().to_vec();
        data.push(0);
        let latin1 = text.chars().all(|c| (c as u32) < 256);
        if *kind == Text::Plain && latin1 {
            data.extend(text.chars().map(|c| c as u32 as u8));
            push_chunk(&mut out, b"tEXt", &data);
        } else {
            // Not compressed, compression method 0, no language, no translated keyword.
            data.extend_from_slice(&[0, 0, 0, 0]);
            data.extend_from_slice(text.as_bytes());
            push_chunk(&mut out, b"iTXt", &data);
        }
    }
    out.extend_from_slice(&plain[ihdr_end..]);
    out
}

/// A TIFF structure (what follows `Exif\0\0`) holding only an Exif IFD with a
/// `UserComment` of `comment` in UTF-16 (`UNICODE\0` prefix), in the byte order asked.
pub fn exif_user_comment(comment: &str, big_endian: bool) -> Vec<u8> {
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut value = b"UNICODE\0".to_vec();
    for unit in comment.encode_utf16() {
        value.extend_from_slice(&u16b(unit));
    }
    let mut t = Vec::new();
    t.extend_from_slice(if big_endian { b"MM" } else { b"II" });
    t.extend_from_slice(&u16b(42));
    t.extend_from_slice(&u32b(8));
    // IFD0 at 8: one entry, the Exif IFD pointer.
    let exif_ifd = 8 + 2 + 12 + 4;
    t.extend_from_slice(&u16b(1));
    t.extend_from_slice(&u16b(0x8769));
    t.extend_from_slice(&u16b(4));
    t.extend_from_slice(&u32b(1));
    t.extend_from_slice(&u32b(exif_ifd));
    t.extend_from_slice(&u32b(0));
    // The Exif IFD: one entry, UserComment (UNDEFINED), its value after the IFD.
    let data_at = exif_ifd + 2 + 12 + 4;
    t.extend_from_slice(&u16b(1));
    t.extend_from_slice(&u16b(0x9286));
    t.extend_from_slice(&u16b(7));
    t.extend_from_slice(&u32b(value.len() as u32));
    t.extend_from_slice(&u32b(data_at));
    t.extend_from_slice(&u32b(0));
    t.extend_from_slice(&value);
    t
}

/// A JPEG `w` x `h` with an EXIF `UserComment` (APP1 right after the start marker).
pub fn jpeg(w: u32, h: u32, rgb: [u8; 3], comment: Option<&str>, big_endian: bool) -> Vec<u8> {
    let plain = encode(w, h, rgb, image::ImageFormat::Jpeg);
    let Some(comment) = comment else {
        return plain;
    };
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&exif_user_comment(comment, big_endian));
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((segment.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&plain[2..]);
    out
}

fn riff_chunk(out: &mut Vec<u8>, fourcc: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(fourcc);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

/// A (lossless) WebP `w` x `h`; with a comment, in the extended format with an `EXIF` chunk
/// holding a `UserComment` (`exif_header`: with JPEG's `Exif\0\0` in front, as some writers
/// do).
pub fn webp(w: u32, h: u32, rgb: [u8; 3], comment: Option<&str>, exif_header: bool) -> Vec<u8> {
    let plain = encode(w, h, rgb, image::ImageFormat::WebP);
    let Some(comment) = comment else {
        return plain;
    };
    // The plain file is RIFF, size, WEBP, then its one image chunk.
    let image_chunk = &plain[12..];
    let mut body = b"WEBP".to_vec();
    let mut vp8x = vec![0x08, 0, 0, 0]; // the EXIF flag
    vp8x.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
    riff_chunk(&mut body, b"VP8X", &vp8x);
    body.extend_from_slice(image_chunk);
    let mut exif = if exif_header {
        b"Exif\0\0".to_vec()
    } else {
        Vec::new()
    };
    exif.extend_from_slice(&exif_user_comment(comment, true));
    riff_chunk(&mut body, b"EXIF", &exif);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

pub const W: u32 = 64;
pub const H: u32 = 48;

pub const A1111_TEXT: &str = "a lighthouse at dusk, oil painting\nNegative prompt: blurry, lowres\nSteps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234567, Size: 832x1216, Model hash: 31e35c80fc, Model: sdxl_base, Clip skip: 2, Version: v1.10.1";
pub const A1111_ITXT_TEXT: &str = "港の灯台, 夕暮れ\nNegative prompt: ぼやけ\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 64x48, Model: anime_v3";
pub const A1111_JPEG_TEXT: &str = "ein Kätzchen im Schnee, 猫\nNegative prompt: text\nSteps: 25, Sampler: DPM++ 2M Karras, CFG scale: 5, Seed: 987654321, Size: 1024x1024, Model: juggernautXL";
pub const A1111_WEBP_TEXT: &str = "a red fox, winter forest\nSteps: 30, Sampler: Euler, Schedule type: Automatic, CFG scale: 4.5, Seed: 5, Size: 768x768, Model: flux_dev";
/// The job id in `promptdesk.png`'s chunk.
pub const PROMPTDESK_JOB_ID: &str = "01932f6e-7b1a-7c3d-9e2f-0123456789ab";

pub fn comfy_prompt() -> serde_json::Value {
    serde_json::json!({
        "3": {"class_type": "KSampler", "inputs": {
            "seed": ["11", 0], "steps": 24, "cfg": 7.5, "sampler_name": "euler_ancestral",
            "scheduler": "karras", "denoise": 1.0, "model": ["4", 0],
            "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "dreamshaper_8.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a castle on a hill, 城", "clip": ["10", 0]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "watermark", "clip": ["10", 0]}},
        "10": {"class_type": "CLIPSetLastLayer", "inputs": {"stop_at_clip_layer": -2, "clip": ["4", 1]}},
        "11": {"class_type": "Seed (rgthree)", "inputs": {"seed": 8566257}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}}
    })
}

/// A UI workflow as ComfyUI saves beside the graph (its prompt differs, to show the graph
/// run wins over the workflow saved).
pub fn comfy_workflow() -> serde_json::Value {
    serde_json::json!({
        "last_node_id": 9, "last_link_id": 9,
        "nodes": [
            {"id": 6, "type": "CLIPTextEncode", "widgets_values": ["from the workflow"], "inputs": []},
            {"id": 3, "type": "KSampler", "widgets_values": [1, "fixed", 20, 8, "euler", "normal", 1],
             "inputs": [{"name": "positive", "link": 4}]},
            {"id": 9, "type": "SaveImage", "widgets_values": ["ComfyUI"], "inputs": [{"name": "images", "link": 9}]}
        ],
        "links": [[4, 6, 0, 3, 1, "CONDITIONING"], [9, 3, 0, 9, 0, "IMAGE"]],
        "version": 0.4
    })
}

pub fn invokeai_metadata() -> serde_json::Value {
    serde_json::json!({
        "app_version": "5.6.0", "generation_mode": "sdxl_txt2img",
        "positive_prompt": "a cozy cabin in the woods", "negative_prompt": "people",
        "width": 1024, "height": 1024, "seed": 3400881859u64, "rand_device": "cpu",
        "cfg_scale": 6.0, "cfg_rescale_multiplier": 0, "steps": 32, "scheduler": "dpmpp_2m_k",
        "clip_skip": 0,
        "model": {"key": "c9f4f0a6", "hash": "blake3:abc", "name": "Juggernaut XL v9", "base": "sdxl", "type": "main"},
        "loras": []
    })
}

pub fn swarm_parameters() -> serde_json::Value {
    serde_json::json!({
        "sui_image_params": {
            "prompt": "a photo of a cat, ネコ", "negativeprompt": "dog",
            "model": "OfficialStableDiffusion/sd_xl_base_1.0", "seed": "17", "steps": 20,
            "cfgscale": "7.0", "aspectratio": "1:1", "width": 1024, "height": 1024,
            "sampler": "dpmpp_2m_sde", "scheduler": "karras", "clipstopatlayer": -1,
            "swarm_version": "0.9.3.1"
        },
        "sui_extra_data": {"date": "2024-11-13", "generation_time": "6.11 (prep) and 4.84 (gen) seconds"}
    })
}

pub fn promptdesk_link() -> String {
    serde_json::json!({"job_id": PROMPTDESK_JOB_ID, "key": "3", "variant": 2, "seed": 77})
        .to_string()
}

/// The committed fixtures of `tests/fixtures/images/`: (file name, bytes).
pub fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let comfy_prompt = comfy_prompt().to_string();
    let comfy_workflow = comfy_workflow().to_string();
    let invoke = invokeai_metadata().to_string();
    let swarm = serde_json::to_string_pretty(&swarm_parameters()).unwrap();
    let link = promptdesk_link();
    let a1111 = png(
        W,
        H,
        [10, 20, 30],
        &[("parameters", A1111_TEXT, Text::Plain)],
    );
    let mut damaged = a1111.clone();
    damaged.truncate(damaged.len() - 40);
    vec![
        ("a1111.png", a1111),
        (
            "a1111_itxt.png",
            png(
                W,
                H,
                [11, 20, 30],
                &[("parameters", A1111_ITXT_TEXT, Text::International)],
            ),
        ),
        (
            "a1111.jpg",
            jpeg(W, H, [12, 20, 30], Some(A1111_JPEG_TEXT), true),
        ),
        (
            "a1111_little_endian.jpeg",
            jpeg(W, H, [13, 20, 30], Some(A1111_JPEG_TEXT), false),
        ),
        (
            "a1111.webp",
            webp(W, H, [14, 20, 30], Some(A1111_WEBP_TEXT), false),
        ),
        (
            "comfyui.png",
            png(
                W,
                H,
                [15, 20, 30],
                &[
                    ("prompt", &comfy_prompt, Text::Plain),
                    ("workflow", &comfy_workflow, Text::Plain),
                ],
            ),
        ),
        (
            "invokeai.png",
            png(
                W,
                H,
                [16, 20, 30],
                &[("invokeai_metadata", &invoke, Text::Plain)],
            ),
        ),
        (
            "swarmui.png",
            png(
                W,
                H,
                [17, 20, 30],
                &[("parameters", &swarm, Text::International)],
            ),
        ),
        (
            "promptdesk.png",
            png(
                W,
                H,
                [18, 20, 30],
                &[
                    (
                        "parameters",
                        "a harbour at night\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 77, Size: 64x48",
                        Text::Plain,
                    ),
                    ("promptdesk", &link, Text::Plain),
                ],
            ),
        ),
        ("plain.png", png(W, H, [19, 20, 30], &[])),
        ("plain.webp", webp(W, H, [20, 20, 30], None, false)),
        ("damaged.png", damaged),
        (
            "not_an_image.jpg",
            b"this is a text file with a .jpg name\n".to_vec(),
        ),
    ]
}
