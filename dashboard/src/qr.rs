//! Pictures of a pass's QR code: SVG for a web page, PNG for a download or an e-mail, and
//! Unicode half blocks for a terminal.
//!
//! Every picture is drawn from one module matrix, built at error correction level M and
//! surrounded by the 4-module quiet zone, so the three formats always show the same code.
//! The PNG encoder is written here (stored deflate blocks, no compression) so that the
//! dashboard carries no image crate for a picture of a few kilobytes.

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

/// The 8 bytes every PNG file starts with (PNG spec, section 5.2).
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// One bit per pixel: a QR code has only two colours.
const PNG_BIT_DEPTH: u8 = 1;

/// PNG colour type 0, grayscale: with a bit depth of 1, bit 0 is black and bit 1 is white.
const PNG_COLOUR_GRAYSCALE: u8 = 0;

/// PNG compression method 0 (zlib deflate), the only one defined.
const PNG_COMPRESSION_DEFLATE: u8 = 0;

/// PNG filter method 0 (adaptive, one filter type byte per row), the only one defined.
const PNG_FILTER_METHOD_ADAPTIVE: u8 = 0;

/// PNG interlace method 0: none. Adam7 would only help a progressive download.
const PNG_INTERLACE_NONE: u8 = 0;

/// Filter type 0 (None) before each row: with stored deflate blocks nothing is compressed,
/// so predicting rows would gain nothing.
const PNG_ROW_FILTER_NONE: u8 = 0;

/// The bit of a white pixel in a 1-bit grayscale PNG row, for the leftmost pixel of a byte
/// (pixels fill a byte from its most significant bit).
const PNG_WHITE_BIT: u8 = 0x80;

/// zlib header (RFC 1950): CM 8 (deflate) with CINFO 7 (32 KiB window), then FLEVEL 0
/// ("fastest", true of stored blocks) and an FCHECK that makes `0x7801` a multiple of 31.
const ZLIB_HEADER: [u8; 2] = [0x78, 0x01];

/// The most data one stored deflate block holds: its LEN field is 16 bits (RFC 1951, 3.2.4).
const STORED_BLOCK_MAX: usize = u16::MAX as usize;

/// Header byte of a stored deflate block that is not the last: BFINAL 0, BTYPE 00.
const STORED_BLOCK: u8 = 0b000;

/// Header byte of the last stored deflate block: BFINAL 1, BTYPE 00.
const STORED_BLOCK_FINAL: u8 = 0b001;

/// Bytes a stored block adds to its data: the header byte (padded to a byte boundary), LEN
/// and NLEN.
const STORED_BLOCK_OVERHEAD: usize = 5;

/// Adler-32's modulus (RFC 1950, 9): the largest prime below 2^16.
const ADLER_MOD: u32 = 65_521;

/// Bytes of an IHDR chunk's data: width and height (4 bytes each), then five 1-byte fields.
const IHDR_LEN: usize = 13;

/// Bytes a PNG chunk adds to its data: length, type and CRC, 4 bytes each.
const CHUNK_OVERHEAD: usize = 12;

/// Chunks in the file: IHDR, one IDAT and IEND.
const CHUNK_COUNT: usize = 3;

/// CRC-32 generator polynomial of PNG and zlib (ISO 3309), in reversed (LSB-first) form.
const CRC32_POLY: u32 = 0xedb8_8320;

/// A byte-indexed CRC-32 table: one entry per value of a byte.
const CRC32_TABLE_LEN: usize = 1 << u8::BITS;

/// CRC-32 of each byte value, built at compile time so a 4 MB IDAT takes a table look-up per
/// byte instead of eight shifts.
const CRC32_TABLE: [u32; CRC32_TABLE_LEN] = crc32_table();

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
    pub(crate) fn png(&self, scale: u32) -> Vec<u8> {
        let scale = scale.clamp(MIN_PNG_SCALE, MAX_PNG_SCALE) as usize;
        let side = self.side();
        let pixels = side * scale;
        let row_len = pixels.div_ceil(u8::BITS as usize);

        // One row of bytes per module row, repeated `scale` times; pixels start dark (0).
        let mut raw = Vec::with_capacity((1 + row_len) * pixels);
        let mut row = vec![0u8; row_len];
        for y in 0..side {
            row.fill(0);
            for px in 0..pixels {
                if !self.is_dark(px / scale, y) {
                    row[px / u8::BITS as usize] |= PNG_WHITE_BIT >> (px % u8::BITS as usize);
                }
            }
            for _ in 0..scale {
                raw.push(PNG_ROW_FILTER_NONE);
                raw.extend_from_slice(&row);
            }
        }

        // At most 5,920 pixels a side (MAX_PNG_SCALE), so the size fits a u32.
        let size = (pixels as u32).to_be_bytes();
        let mut ihdr = Vec::with_capacity(IHDR_LEN);
        ihdr.extend_from_slice(&size);
        ihdr.extend_from_slice(&size);
        ihdr.extend_from_slice(&[
            PNG_BIT_DEPTH,
            PNG_COLOUR_GRAYSCALE,
            PNG_COMPRESSION_DEFLATE,
            PNG_FILTER_METHOD_ADAPTIVE,
            PNG_INTERLACE_NONE,
        ]);

        let idat = zlib_stored(&raw);
        let mut png = Vec::with_capacity(
            PNG_SIGNATURE.len() + ihdr.len() + idat.len() + CHUNK_COUNT * CHUNK_OVERHEAD,
        );
        png.extend_from_slice(&PNG_SIGNATURE);
        push_chunk(&mut png, b"IHDR", &ihdr);
        push_chunk(&mut png, b"IDAT", &idat);
        push_chunk(&mut png, b"IEND", &[]);
        png
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

/// Appends a PNG chunk: length, type, data and the CRC-32 of type and data.
fn push_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // The largest chunk, the IDAT at MAX_PNG_SCALE, is about 4.4 MB: far below u32::MAX.
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    png.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// `data` as a zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let blocks = data.len().div_ceil(STORED_BLOCK_MAX).max(1);
    let mut out = Vec::with_capacity(
        ZLIB_HEADER.len() + data.len() + blocks * STORED_BLOCK_OVERHEAD + size_of::<u32>(),
    );
    out.extend_from_slice(&ZLIB_HEADER);
    let mut rest = data;
    loop {
        let (block, tail) = rest.split_at(rest.len().min(STORED_BLOCK_MAX));
        let last = tail.is_empty();
        out.push(if last {
            STORED_BLOCK_FINAL
        } else {
            STORED_BLOCK
        });
        // A block holds at most STORED_BLOCK_MAX = u16::MAX bytes.
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
        if last {
            break;
        }
        rest = tail;
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// Adler-32 (RFC 1950), the checksum that ends a zlib stream.
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % ADLER_MOD;
        b = (b + a) % ADLER_MOD;
    }
    (b << u16::BITS) | a
}

/// Builds [`CRC32_TABLE`].
const fn crc32_table() -> [u32; CRC32_TABLE_LEN] {
    let mut table = [0u32; CRC32_TABLE_LEN];
    let mut n = 0;
    while n < CRC32_TABLE_LEN {
        let mut c = n as u32;
        let mut bit = 0;
        while bit < u8::BITS {
            c = if c & 1 != 0 {
                CRC32_POLY ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

/// CRC-32 (ISO 3309, as PNG uses it) of the concatenation of `parts`.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = u32::MAX;
    for part in parts {
        for &byte in *part {
            crc = CRC32_TABLE[usize::from(crc as u8 ^ byte)] ^ (crc >> u8::BITS);
        }
    }
    crc ^ u32::MAX
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
        let (width, height, pixels) = decode_png(&qr.png(scale));
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
        let (width, _, pixels) = decode_png(&qr.png(2));
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
        assert_eq!(decode_png(&qr.png(0)).0, side * MIN_PNG_SCALE);
        assert_eq!(decode_png(&qr.png(u32::MAX)).0, side * MAX_PNG_SCALE);
    }

    #[test]
    fn png_larger_than_one_stored_block_decodes_with_valid_checksums() {
        let qr = typical();
        let scale = MAX_PNG_SCALE;
        let side = qr.side() * scale as usize;
        let raw_len = (1 + side.div_ceil(u8::BITS as usize)) * side;
        assert!(raw_len > 3 * STORED_BLOCK_MAX, "raw data {raw_len} bytes");
        assert_png_matches(&qr, scale);
    }

    #[test]
    fn png_with_a_damaged_chunk_is_refused_by_the_decoder() {
        // Shows the decoder really checks the CRCs the test above relies on.
        let mut bytes = typical().png(1);
        let ihdr_data = PNG_SIGNATURE.len() + 8;
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
    fn checksums_match_their_published_check_values() {
        // The "check" values of the CRC catalogue and of RFC 1950's worked examples.
        assert_eq!(crc32(&[b"123456789"]), 0xcbf4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(adler32(b""), 1);
        // Long enough for both sums to wrap their modulus many times (values from zlib).
        let long: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(adler32(&long), 0x84cb_a994);
        assert_eq!(crc32(&[&long]), 0xb353_b8fa);
    }

    #[test]
    fn zlib_stream_splits_into_stored_blocks_of_at_most_65535_bytes() {
        let data: Vec<u8> = (0..2 * STORED_BLOCK_MAX + 10).map(|i| i as u8).collect();
        let z = zlib_stored(&data);
        assert_eq!(&z[..2], &ZLIB_HEADER);
        let mut at = ZLIB_HEADER.len();
        let mut out = Vec::new();
        let mut blocks = 0;
        loop {
            let header = z[at];
            let len = u16::from_le_bytes([z[at + 1], z[at + 2]]);
            let nlen = u16::from_le_bytes([z[at + 3], z[at + 4]]);
            assert_eq!(nlen, !len);
            at += STORED_BLOCK_OVERHEAD;
            out.extend_from_slice(&z[at..at + usize::from(len)]);
            at += usize::from(len);
            blocks += 1;
            if header == STORED_BLOCK_FINAL {
                break;
            }
            assert_eq!(header, STORED_BLOCK);
        }
        assert_eq!(blocks, 3);
        assert_eq!(out, data);
        assert_eq!(&z[at..], &adler32(&data).to_be_bytes());
        // An empty stream still has its one final block.
        assert_eq!(
            zlib_stored(&[]),
            [0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0, 0, 0, 1]
        );
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
