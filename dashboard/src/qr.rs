//! Pictures of a pass's QR code: SVG for a web page, PNG for a download or an e-mail, and
//! Unicode half blocks for a terminal.
//!
//! Every picture is drawn from one module matrix, built at error correction level M and
//! surrounded by the 4-module quiet zone, so the three formats always show the same code.
//! PNGs are written by the `png` crate, deflated: a version-9 code at 8 pixels a module is
//! under a kilobyte, small enough for an e-mail attachment or a slow phone connection.

use qrcode::render::unicode::Dense1x2;
use qrcode::types::{Color, QrError as EncodeError};
use qrcode::{EcLevel, QrCode, Version};
use std::fmt::Write as _;

/// Error correction level of every pass QR code. M recovers about 15% of damaged modules,
/// enough for a scratched or dimmed phone screen, and keeps a typical pass at QR version 10
/// or lower (the budget of `protocol/tests/sizes.rs`); Q or H would push it past 10.
pub(crate) const QR_EC_LEVEL: EcLevel = EcLevel::M;

/// Light modules on each side of the code: the quiet zone ISO/IEC 18004 requires around a
/// (non-micro) QR code, without which scanners may not find the finder patterns.
const QUIET_ZONE: usize = 4;

/// The SVG's `width` and `height` in pixels per module: version 10 (57 modules plus the quiet
/// zone) comes out at 520 px, a comfortable size on screen; the `viewBox` lets CSS rescale it.
const SVG_PIXELS_PER_MODULE: usize = 8;

/// Smallest PNG scale: a module must be at least one pixel.
const MIN_PNG_SCALE: u32 = 1;

/// Largest PNG scale. At 32 pixels per module version 40 (177 modules plus the quiet zone)
/// is 5,920 pixels a side, about 4.4 MB of raw pixels: a caller-chosen scale (a query
/// parameter, say) cannot make the dashboard allocate more than that.
const MAX_PNG_SCALE: u32 = 32;

/// The bit of a white pixel in a 1-bit grayscale PNG row, for the leftmost pixel of a byte
/// (pixels fill a byte from its most significant bit; 0 is black, 1 is white).
const PNG_WHITE_BIT: u8 = 0x80;

/// Why a text cannot become a QR code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The text needs more than QR version 40 holds at error correction level M.
    #[error("the QR text is too long for a QR code at error correction M ({chars} characters)")]
    TooLong {
        /// Length of the refused text, so that the message says how far over it is.
        chars: usize,
    },
    /// The `qrcode` crate refused the text for another reason (it names none that a plain
    /// byte string can hit today; kept so a new one is reported, not hidden).
    #[error("cannot encode the QR text as a QR code: {0}")]
    Encode(#[source] EncodeError),
    /// The PNG encoder refused the picture (it should not: the size and format are fixed
    /// here; kept so a new refusal is reported, not hidden).
    #[error("cannot write the QR code as a PNG: {0}")]
    Png(String),
}

/// A pass's QR code, ready to be drawn in any of the formats below.
#[derive(Clone)]
pub struct QrImage {
    /// The module matrix, without the quiet zone (each picture adds it).
    code: QrCode,
}

impl QrImage {
    /// Encodes `text` at [`QR_EC_LEVEL`] in the smallest QR version that holds it.
    pub fn new(text: &str) -> Result<QrImage, QrError> {
        QrCode::with_error_correction_level(text.as_bytes(), QR_EC_LEVEL)
            .map(|code| QrImage { code })
            .map_err(|e| match e {
                EncodeError::DataTooLong => QrError::TooLong {
                    chars: text.chars().count(),
                },
                other => QrError::Encode(other),
            })
    }

    /// The QR version (1 to 40), which says how dense the code is and how far a cheap
    /// scanner can read it from.
    pub fn version(&self) -> i16 {
        match self.code.version() {
            Version::Normal(v) | Version::Micro(v) => v,
        }
    }

    /// Modules per side, without the quiet zone.
    pub(crate) fn width(&self) -> usize {
        self.code.width()
    }

    /// Modules per side, with the quiet zone on both sides.
    fn side(&self) -> usize {
        self.width() + 2 * QUIET_ZONE
    }

    /// Whether the module at (`x`, `y`) of the picture, quiet zone included, is dark.
    fn is_dark(&self, x: usize, y: usize) -> bool {
        match (x.checked_sub(QUIET_ZONE), y.checked_sub(QUIET_ZONE)) {
            (Some(x), Some(y)) if x < self.width() && y < self.width() => {
                self.code[(x, y)] == Color::Dark
            }
            _ => false,
        }
    }

    /// A standalone SVG document: a white square with the quiet zone, and one path that
    /// draws each horizontal run of dark modules as a rectangle. Coordinates are in modules.
    pub(crate) fn svg(&self) -> String {
        let side = self.side();
        let pixels = side * SVG_PIXELS_PER_MODULE;
        let mut path = String::new();
        for y in 0..side {
            let mut x = 0;
            while x < side {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < side && self.is_dark(x, y) {
                    x += 1;
                }
                let run = x - start;
                // Writing to a String cannot fail.
                let _ = write!(path, "M{start} {y}h{run}v1h-{run}z");
            }
        }
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{pixels}\" height=\"{pixels}\" \
             viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
             <path fill=\"#000\" d=\"{path}\"/></svg>"
        )
    }

    /// A 1-bit grayscale PNG file, quiet zone included, each module `scale` pixels a side.
    /// `scale` is clamped to 1..=32 (a module needs a pixel; 32 bounds the memory used).
    ///
    /// Rows are written unfiltered: each module row repeats `scale` times, which deflate
    /// already stores as back-references (measured: 877 bytes for a version-9 code at scale
    /// 8, against 1,197 with the `Up` filter that turns the repeats into zeros).
    pub(crate) fn png(&self, scale: u32) -> Result<Vec<u8>, QrError> {
        let scale = scale.clamp(MIN_PNG_SCALE, MAX_PNG_SCALE) as usize;
        let side = self.side();
        let pixels = side * scale;
        let row_len = pixels.div_ceil(u8::BITS as usize);

        // One row of bytes per module row, repeated `scale` times; pixels start dark (0).
        let mut raw = Vec::with_capacity(row_len * pixels);
        let mut row = vec![0u8; row_len];
        for y in 0..side {
            row.fill(0);
            for px in 0..pixels {
                if !self.is_dark(px / scale, y) {
                    row[px / u8::BITS as usize] |= PNG_WHITE_BIT >> (px % u8::BITS as usize);
                }
            }
            for _ in 0..scale {
                raw.extend_from_slice(&row);
            }
        }

        // At most 5,920 pixels a side (MAX_PNG_SCALE), so the size fits a u32.
        let size = pixels as u32;
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, size, size);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::Best);
        encoder.set_filter(png::FilterType::NoFilter);
        let failed = |e: png::EncodingError| QrError::Png(e.to_string());
        let mut writer = encoder.write_header().map_err(failed)?;
        writer.write_image_data(&raw).map_err(failed)?;
        writer.finish().map_err(failed)?;
        Ok(out)
    }

    /// The code as text for a terminal, two module rows per line in Unicode half blocks,
    /// quiet zone included. Light modules are drawn as blocks and dark ones as spaces, so
    /// the code scans on the usual dark terminal background.
    pub fn terminal(&self) -> String {
        self.code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build()
    }
}

impl std::fmt::Debug for QrImage {
    // `QrCode` has no `Debug`; its version and size say which code this is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrImage")
            .field("version", &self.version())
            .field("width", &self.width())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The base45 alphabet (RFC 9285), which is QR's alphanumeric set.
    const BASE45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

    /// Alphanumeric characters QR version 40 holds at level M (ISO/IEC 18004, table 7).
    const V40_M_ALPHANUMERIC: usize = 3_391;

    /// Base45 characters of the typical pass of `protocol/tests/sizes.rs` (194 bytes), which
    /// with its prefix makes 297 characters.
    const TYPICAL_BASE45_LEN: usize = 291;

    /// Base45 characters after the prefix of the longest text a version-9 code holds.
    const VERSION_9_BASE45_LEN: usize = 256;

    /// What a version-9 code at scale 8 (488 pixels a side) must stay under: its modules
    /// compress to well below a kilobyte, so 4 KB leaves room for another encoder version.
    const MAX_V9_SCALE_8_PNG_BYTES: usize = 4_096;

    /// A text of `len` base45 characters after the pass prefix, mixed so that the qrcode
    /// crate cannot shorten it with numeric segments, as real base45 of a signed pass.
    fn pass_text(len: usize) -> String {
        let mut text = String::from("BYGD1:");
        let mut state: u32 = 0x2545_f491;
        for _ in 0..len {
            // xorshift32: deterministic, and spread over the whole alphabet.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            text.push(char::from(BASE45[state as usize % BASE45.len()]));
        }
        text
    }

    fn typical() -> QrImage {
        QrImage::new(&pass_text(TYPICAL_BASE45_LEN)).expect("a typical pass fits a QR code")
    }

    /// Decodes a PNG as the `png` crate does (it checks every chunk's CRC and the Adler-32),
    /// returning the width and the luma of each pixel, row by row.
    fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut decoder = png::Decoder::new(bytes);
        // Expand 1-bit grayscale to one byte per pixel (0 or 255).
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().expect("a valid PNG header");
        let info = reader.info();
        assert_eq!(info.bit_depth, png::BitDepth::One);
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        let mut buf = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut buf).expect("valid PNG data");
        assert_eq!(frame.color_type, png::ColorType::Grayscale);
        assert_eq!(frame.bit_depth, png::BitDepth::Eight);
        buf.truncate(frame.buffer_size());
        (frame.width, frame.height, buf)
    }

    /// Checks the centre pixel of every module, quiet zone included, against the matrix.
    fn assert_png_matches(qr: &QrImage, scale: u32) {
        let (width, height, pixels) = decode_png(&qr.png(scale).unwrap());
        let side = qr.side();
        let scale = scale.clamp(MIN_PNG_SCALE, MAX_PNG_SCALE) as usize;
        assert_eq!(width as usize, side * scale);
        assert_eq!(height as usize, side * scale);
        for y in 0..side {
            for x in 0..side {
                let in_code = (QUIET_ZONE..QUIET_ZONE + qr.width()).contains(&x)
                    && (QUIET_ZONE..QUIET_ZONE + qr.width()).contains(&y);
                let dark = in_code && qr.code[(x - QUIET_ZONE, y - QUIET_ZONE)] == Color::Dark;
                let centre = (y * scale + scale / 2) * side * scale + x * scale + scale / 2;
                let expected = if dark { 0 } else { 255 };
                assert_eq!(
                    pixels[centre], expected,
                    "module ({x}, {y}) at scale {scale}"
                );
            }
        }
    }

    #[test]
    fn a_typical_pass_fits_qr_version_10_at_level_m() {
        let qr = typical();
        assert_eq!(qr.code.error_correction_level(), EcLevel::M);
        assert!(qr.version() <= 10, "version {}", qr.version());
        // ISO/IEC 18004: version v is 17 + 4v modules a side.
        assert_eq!(qr.width(), 17 + 4 * qr.version() as usize);
    }

    #[test]
    fn png_modules_equal_the_matrix_with_a_white_quiet_zone() {
        let qr = typical();
        for scale in [1, 3, 8] {
            assert_png_matches(&qr, scale);
        }
        // The quiet zone is white on every pixel, not just at module centres.
        let (width, _, pixels) = decode_png(&qr.png(2).unwrap());
        let border = QUIET_ZONE * 2;
        let width = width as usize;
        for (i, &p) in pixels.iter().enumerate() {
            let (x, y) = (i % width, i / width);
            if x < border || y < border || x >= width - border || y >= width - border {
                assert_eq!(p, 255, "quiet zone pixel ({x}, {y})");
            }
        }
    }

    #[test]
    fn png_scale_is_clamped_to_its_bounds() {
        let qr = typical();
        let side = qr.side() as u32;
        assert_eq!(decode_png(&qr.png(0).unwrap()).0, side * MIN_PNG_SCALE);
        assert_eq!(
            decode_png(&qr.png(u32::MAX).unwrap()).0,
            side * MAX_PNG_SCALE
        );
    }

    #[test]
    fn png_at_the_largest_scale_decodes_to_the_matrix() {
        assert_png_matches(&typical(), MAX_PNG_SCALE);
    }

    #[test]
    fn a_version_9_code_at_scale_8_is_a_small_deflated_png() {
        // The most characters a version-9 code holds at level M in the crate's encoding of
        // this text: one more makes it version 10.
        let qr = QrImage::new(&pass_text(VERSION_9_BASE45_LEN)).unwrap();
        assert_eq!(qr.version(), 9);
        let png = qr.png(8).unwrap();
        // The hand-written encoder's stored blocks made it 30,324 bytes.
        assert!(png.len() < MAX_V9_SCALE_8_PNG_BYTES, "{} bytes", png.len());
        assert_png_matches(&qr, 8);
    }

    #[test]
    fn png_with_a_damaged_chunk_is_refused_by_the_decoder() {
        // Shows the decoder really checks the CRCs the tests above rely on.
        let mut bytes = typical().png(1).unwrap();
        // The first byte of IHDR's data: after the signature, the chunk's length and type.
        let ihdr_data = 8 + 8;
        bytes[ihdr_data] ^= 1;
        let refused = png::Decoder::new(bytes.as_slice())
            .read_info()
            .and_then(|mut r| {
                let mut buf = vec![0; r.output_buffer_size()];
                r.next_frame(&mut buf).map(|_| ())
            })
            .is_err();
        assert!(refused);
    }

    #[test]
    fn svg_draws_one_rectangle_per_run_of_dark_modules() {
        let qr = typical();
        let svg = qr.svg();
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("shape-rendering=\"crispEdges\""));
        let side = qr.side();
        assert!(svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")));

        // Count the runs straight from the matrix.
        let w = qr.width();
        let mut runs = 0;
        for y in 0..w {
            for x in 0..w {
                let dark = qr.code[(x, y)] == Color::Dark;
                if dark && (x == 0 || qr.code[(x - 1, y)] == Color::Light) {
                    runs += 1;
                }
            }
        }

        // Paint every `M x y h n v1h-n z` of the path and compare with the matrix.
        let d = svg
            .split(" d=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the path has a d attribute");
        assert_eq!(svg.matches("<path").count(), 1);
        let mut painted = vec![false; side * side];
        let mut drawn = 0;
        for rect in d.split('z').filter(|r| !r.is_empty()) {
            let (at, rest) = rect
                .strip_prefix('M')
                .and_then(|r| r.split_once('h'))
                .expect("a move then a run");
            let (x, y) = at.split_once(' ').expect("x y");
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let (n, back) = rest.split_once("v1h-").expect("a one-module-high run");
            assert_eq!(n, back);
            let n: usize = n.parse().unwrap();
            for i in x..x + n {
                assert!(!painted[y * side + i], "module ({i}, {y}) drawn twice");
                painted[y * side + i] = true;
            }
            drawn += 1;
        }
        assert_eq!(drawn, runs);
        for y in 0..side {
            for x in 0..side {
                assert_eq!(painted[y * side + x], qr.is_dark(x, y), "module ({x}, {y})");
            }
        }
    }

    #[test]
    fn terminal_text_shows_the_matrix_inverted_with_a_quiet_zone() {
        let qr = typical();
        let text = qr.terminal();
        let side = qr.side();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), side.div_ceil(2));
        for (l, line) in lines.iter().enumerate() {
            let chars: Vec<char> = line.chars().collect();
            assert_eq!(chars.len(), side, "line {l}");
            for (x, &c) in chars.iter().enumerate() {
                // A block (light foreground) where the module is light.
                let (top, bottom) = match c {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    ' ' => (false, false),
                    other => panic!("unexpected {other:?}"),
                };
                let (y0, y1) = (2 * l, 2 * l + 1);
                assert_eq!(top, !qr.is_dark(x, y0), "module ({x}, {y0})");
                if y1 < side {
                    assert_eq!(bottom, !qr.is_dark(x, y1), "module ({x}, {y1})");
                }
            }
        }
        assert!(lines[0].chars().all(|c| c == '█'));
    }

    #[test]
    fn text_too_long_for_any_qr_version_is_an_error_not_a_panic() {
        let text = pass_text(4_000);
        let err = QrImage::new(&text).expect_err("too long");
        assert_eq!(err, QrError::TooLong { chars: 4_006 });
        assert_eq!(
            err.to_string(),
            "the QR text is too long for a QR code at error correction M (4006 characters)"
        );
        // Right at the edge: a full version 40 is drawn, one character more is refused.
        let prefix = "BYGD1:".len();
        let full = QrImage::new(&pass_text(V40_M_ALPHANUMERIC - prefix)).expect("fits");
        assert_eq!(full.version(), 40);
        assert!(QrImage::new(&pass_text(V40_M_ALPHANUMERIC + 1 - prefix)).is_err());
    }
}
