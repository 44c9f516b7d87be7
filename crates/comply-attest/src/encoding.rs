//! Base64 as attestations use it.
//!
//! DSSE allows the standard and the URL-safe alphabets, and protobuf JSON writers differ
//! on padding, so decoding accepts both alphabets with or without padding. Trailing bits
//! must still be zero: that keeps a truncated or mangled string (such as Chainloop's
//! `"payload": "INVALID"` test case) an error instead of a few bytes of garbage.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Decodes standard or URL-safe base64, padded or not.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .or_else(|first| URL_SAFE.decode(text).map_err(|_| first.to_string()))
}

/// Encodes with the standard alphabet and padding, as Go's protojson and DSSE do.
pub(crate) fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Whether `bytes` could be base64 text: used to recognise double-encoded signatures.
pub(crate) fn looks_like_text(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
}

/// One PEM block: its label and DER body.
pub(crate) struct PemBlock {
    pub(crate) label: String,
    pub(crate) der: Vec<u8>,
}

/// Every PEM block in `text`, in order, ignoring text around and between them.
///
/// Decoded here rather than with a strict RFC 7468 parser because PEM written by other
/// tools wraps lines at 64 or 76 columns, or uses CRLF, and all of it should be read.
pub(crate) fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, String> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after_begin = &rest[start + BEGIN.len()..];
        let label_end = after_begin
            .find(DASHES)
            .ok_or("the BEGIN line is not terminated by \"-----\"")?;
        let label = &after_begin[..label_end];
        let body_and_rest = &after_begin[label_end + DASHES.len()..];
        let end_line = format!("-----END {label}-----");
        let body_end = body_and_rest
            .find(&end_line)
            .ok_or_else(|| format!("no {end_line:?} line"))?;
        let body = &body_and_rest[..body_end];
        if body.contains(':') {
            return Err(format!(
                "the {label} block has RFC 1421 headers (a legacy encrypted key?), which are \
                 not supported"
            ));
        }
        let base64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = decode(&base64).map_err(|e| format!("the {label} block is not base64: {e}"))?;
        blocks.push(PemBlock {
            label: label.to_string(),
            der,
        });
        rest = &body_and_rest[body_end + end_line.len()..];
    }
    if blocks.is_empty() {
        return Err("not PEM: no \"-----BEGIN\" line".into());
    }
    Ok(blocks)
}
