//! X.509 certificates: the leaf that signed an envelope, its intermediates, and the CAs
//! an organization trusts.
//!
//! Only what attestation verification needs is exposed: names for messages, the
//! validity window, the public key, and "was this certificate signed by that key". The
//! signed part (TBSCertificate) is kept as the exact bytes received, because re-encoding
//! a parsed certificate could change them and break its signature.

use std::fmt;
use std::ops::Range;

use sha2::{Digest, Sha256};
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{Decode, Encode, Header, Reader, SliceReader, pem};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};
use x509_cert::name::Name;

use crate::encoding;
use crate::error::AttestError;
use crate::keys::{PublicKey, SignatureAlgorithm};

const OID_SUBJECT_ALT_NAME: &str = "2.5.29.17";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";

/// A parsed X.509 certificate together with its DER bytes.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Range<usize>,
    parsed: x509_cert::Certificate,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .field("issuer", &self.issuer())
            .field("not_before_ms", &self.not_before_ms())
            .field("not_after_ms", &self.not_after_ms())
            .finish()
    }
}

impl Certificate {
    pub fn from_der(der: &[u8]) -> Result<Self, AttestError> {
        let bad = |reason: String| AttestError::BadCertificate {
            field: "certificate".into(),
            reason,
        };
        let parsed = x509_cert::Certificate::from_der(der).map_err(|e| bad(e.to_string()))?;
        let tbs = tbs_range(der).map_err(|e| bad(e.to_string()))?;
        Ok(Certificate {
            der: der.to_vec(),
            tbs,
            parsed,
        })
    }

    /// The first PEM block of a text, which must be a "CERTIFICATE".
    pub fn from_pem(text: &str) -> Result<Self, AttestError> {
        let block = encoding::pem_blocks(text)
            .map_err(pem_error)?
            .swap_remove(0);
        Self::from_pem_block(block)
    }

    /// Every PEM block of a text, each a "CERTIFICATE" (a chain file, leaf first).
    pub fn from_pem_chain(text: &str) -> Result<Vec<Self>, AttestError> {
        encoding::pem_blocks(text)
            .map_err(pem_error)?
            .into_iter()
            .map(Self::from_pem_block)
            .collect()
    }

    fn from_pem_block(block: encoding::PemBlock) -> Result<Self, AttestError> {
        if block.label != "CERTIFICATE" {
            return Err(pem_error(format!(
                "PEM block {:?} is not \"CERTIFICATE\"",
                block.label
            )));
        }
        Self::from_der(&block.der)
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn to_pem(&self) -> String {
        pem::encode_string("CERTIFICATE", LineEnding::LF, &self.der)
            .expect("a PEM label and DER body always encode")
    }

    /// `sha256:<hex>` of the DER.
    pub fn fingerprint(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(&self.der)))
    }

    /// The subject as an RFC 4514 string (`O=...,CN=...`); empty for Fulcio leaves.
    pub fn subject(&self) -> String {
        self.parsed.tbs_certificate.subject.to_string()
    }

    pub fn issuer(&self) -> String {
        self.parsed.tbs_certificate.issuer.to_string()
    }

    /// The e-mail, URI and DNS subject alternative names.
    pub fn subject_alt_names(&self) -> Vec<String> {
        let Some(ext) = self.extension(OID_SUBJECT_ALT_NAME) else {
            return Vec::new();
        };
        let Ok(names) = SubjectAltName::from_der(ext) else {
            return Vec::new();
        };
        names
            .0
            .iter()
            .filter_map(|name| match name {
                GeneralName::Rfc822Name(s) => Some(s.to_string()),
                GeneralName::DnsName(s) => Some(s.to_string()),
                GeneralName::UniformResourceIdentifier(s) => Some(s.to_string()),
                _ => None,
            })
            .collect()
    }

    /// Who this certificate identifies: its first subject alternative name (Fulcio puts
    /// the workload identity there and leaves the subject empty), else its subject.
    pub fn identity(&self) -> String {
        self.subject_alt_names()
            .into_iter()
            .next()
            .unwrap_or_else(|| self.describe())
    }

    /// The subject, or something else that names the certificate when it is empty.
    pub(crate) fn describe(&self) -> String {
        let subject = self.subject();
        if !subject.is_empty() {
            return subject;
        }
        self.subject_alt_names()
            .into_iter()
            .next()
            .unwrap_or_else(|| self.fingerprint())
    }

    pub fn not_before_ms(&self) -> i64 {
        let validity = &self.parsed.tbs_certificate.validity;
        validity.not_before.to_unix_duration().as_millis() as i64
    }

    pub fn not_after_ms(&self) -> i64 {
        let validity = &self.parsed.tbs_certificate.validity;
        validity.not_after.to_unix_duration().as_millis() as i64
    }

    /// Whether basicConstraints marks this certificate as a CA.
    pub fn is_ca(&self) -> bool {
        self.extension(OID_BASIC_CONSTRAINTS)
            .and_then(|ext| BasicConstraints::from_der(ext).ok())
            .is_some_and(|constraints| constraints.ca)
    }

    pub fn public_key(&self) -> Result<PublicKey, AttestError> {
        let spki = self
            .parsed
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| AttestError::BadCertificate {
                field: "certificate".into(),
                reason: e.to_string(),
            })?;
        PublicKey::from_spki_der(&spki)
    }

    pub(crate) fn subject_name(&self) -> &Name {
        &self.parsed.tbs_certificate.subject
    }

    pub(crate) fn issuer_name(&self) -> &Name {
        &self.parsed.tbs_certificate.issuer
    }

    /// Whether `issuer`'s key signed this certificate. An algorithm this crate cannot
    /// check is an error rather than `false`, so the caller can say so.
    pub(crate) fn is_signed_by(&self, issuer: &PublicKey) -> Result<bool, AttestError> {
        let algorithm = SignatureAlgorithm::from_oid(self.parsed.signature_algorithm.oid)?;
        let Some(signature) = self.parsed.signature.as_bytes() else {
            return Ok(false);
        };
        Ok(issuer.verify_x509(algorithm, &self.der[self.tbs.clone()], signature))
    }

    fn extension(&self, oid: &str) -> Option<&[u8]> {
        self.parsed
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|ext| ext.extn_id.to_string() == oid)
            .map(|ext| ext.extn_value.as_bytes())
    }
}

fn pem_error(reason: String) -> AttestError {
    AttestError::BadCertificate {
        field: "certificate".into(),
        reason,
    }
}

/// Where the TBSCertificate lies in a certificate's DER: the first element of the outer
/// SEQUENCE.
fn tbs_range(der: &[u8]) -> x509_cert::der::Result<Range<usize>> {
    let mut reader = SliceReader::new(der)?;
    let outer = Header::decode(&mut reader)?;
    let start = u32::from(outer.encoded_len()?) as usize;
    let tbs = reader.tlv_bytes()?;
    Ok(start..start + tbs.len())
}
