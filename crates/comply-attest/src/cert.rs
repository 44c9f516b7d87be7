//! X.509 certificates: the leaf that signed an envelope, its intermediates, and the CAs
//! an organization trusts.
//!
//! Only what attestation verification needs is exposed: names for messages, the
//! validity window, the public key and the signing usage. The DER is kept as received:
//! chains are checked by rustls-webpki over those exact bytes (see `verify`).

use std::fmt;

use sha2::{Digest, Sha256};
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{Decode, Encode, pem};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
};

use crate::encoding;
use crate::error::AttestError;
use crate::keys::PublicKey;

const OID_SUBJECT_ALT_NAME: &str = "2.5.29.17";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EXTENDED_KEY_USAGE: &str = "2.5.29.37";
/// id-kp-codeSigning (RFC 5280 §4.2.1.12).
pub(crate) const OID_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
/// Its DER content bytes, as webpki compares them.
pub(crate) const EKU_CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

/// A parsed X.509 certificate together with its DER bytes.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
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
        Ok(Certificate {
            der: der.to_vec(),
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

    /// Why this certificate may not sign attestations, or `None` when it may: its
    /// extended key usage must include code signing (as Fulcio's and Chainloop's leaves
    /// do), and a key usage extension, when present, must allow digital signatures.
    /// webpki checks the extended key usage along the path but leaves key usage of end
    /// entities alone, so both are checked here for a clear reason.
    pub fn signing_usage_problem(&self) -> Option<String> {
        let eku = self
            .extension(OID_EXTENDED_KEY_USAGE)
            .map(ExtendedKeyUsage::from_der);
        match eku {
            None => {
                return Some(
                    "it has no extended key usage; a signing certificate must be for code signing (1.3.6.1.5.5.7.3.3)".into(),
                );
            }
            Some(Err(e)) => return Some(format!("its extended key usage cannot be read: {e}")),
            Some(Ok(eku)) if !eku.0.iter().any(|oid| oid.to_string() == OID_CODE_SIGNING) => {
                let found: Vec<String> = eku.0.iter().map(ToString::to_string).collect();
                return Some(format!(
                    "it is not for code signing (extended key usage {}; 1.3.6.1.5.5.7.3.3 is required)",
                    found.join(", ")
                ));
            }
            Some(Ok(_)) => {}
        }
        match self.extension(OID_KEY_USAGE).map(KeyUsage::from_der) {
            Some(Ok(usage)) if !usage.0.contains(KeyUsages::DigitalSignature) => {
                Some("its key usage does not allow digital signatures".into())
            }
            Some(Err(e)) => Some(format!("its key usage cannot be read: {e}")),
            _ => None,
        }
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
