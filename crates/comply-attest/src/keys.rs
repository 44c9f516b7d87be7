//! Public and private keys.
//!
//! Trusted keys arrive as PEM "PUBLIC KEY" (SPKI), which is what `cosign
//! generate-key-pair` writes and what `comply key generate` writes. A key is identified by
//! its fingerprint, `sha256:<hex>` of its SPKI DER, re-encoded from the parsed key so the
//! same key always has the same fingerprint whatever PEM it came in.
//!
//! Verification covers the algorithms seen in attestations and in the CAs that issue
//! their certificates (Ed25519, ECDSA P-256 and P-384, RSA); signing covers the two that
//! `comply key generate` offers (Ed25519 and ECDSA P-256).

use std::fmt;

use ed25519_dalek::Verifier as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{Decode, pem};
use x509_cert::spki::SubjectPublicKeyInfoRef;

use crate::encoding;
use crate::error::AttestError;

pub(crate) const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
pub(crate) const OID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(crate) const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub(crate) const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
pub(crate) const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The algorithm of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    Ed25519,
    EcdsaP256,
    EcdsaP384,
    Rsa,
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyAlgorithm::Ed25519 => "Ed25519",
            KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
            KeyAlgorithm::EcdsaP384 => "ECDSA P-384",
            KeyAlgorithm::Rsa => "RSA",
        })
    }
}

/// The hash a certificate signature algorithm uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }
}

#[derive(Clone)]
enum Verifying {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
}

/// A public key that can verify signatures.
#[derive(Clone)]
pub struct PublicKey {
    key: Verifying,
    spki: Vec<u8>,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm())
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl PublicKey {
    /// Reads a PEM "PUBLIC KEY" block (SPKI), such as `cosign.pub`.
    pub fn from_pem(text: &str) -> Result<Self, AttestError> {
        let (label, der) = decode_pem(text)?;
        match label.as_str() {
            "PUBLIC KEY" => Self::from_spki_der(&der),
            "CERTIFICATE" => Err(AttestError::BadKey(
                "this is a certificate, not a public key: trust it as a CA instead".into(),
            )),
            label if label.contains("PRIVATE KEY") => Err(AttestError::BadKey(
                "this is a private key: trust its public key instead".into(),
            )),
            other => Err(AttestError::BadKey(format!(
                "PEM block {other:?} is not a public key: expected \"PUBLIC KEY\""
            ))),
        }
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, AttestError> {
        let info = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| AttestError::BadKey(format!("not a SubjectPublicKeyInfo: {e}")))?;
        let bad = |e: &dyn fmt::Display| AttestError::BadKey(e.to_string());
        let key = match info.algorithm.oid {
            OID_ED25519 => Verifying::Ed25519(
                ed25519_dalek::VerifyingKey::try_from(info).map_err(|e| bad(&e))?,
            ),
            OID_EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| AttestError::BadKey("EC key without a named curve".into()))?;
                match curve {
                    OID_P256 => Verifying::P256(
                        p256::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| bad(&e))?,
                    ),
                    OID_P384 => Verifying::P384(
                        p384::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| bad(&e))?,
                    ),
                    other => {
                        return Err(AttestError::UnsupportedAlgorithm(format!(
                            "elliptic curve {} (supported: P-256, P-384, Ed25519)",
                            curve_name(other)
                        )));
                    }
                }
            }
            OID_RSA => Verifying::Rsa(rsa_key(info.subject_public_key.raw_bytes())?),
            other => {
                return Err(AttestError::UnsupportedAlgorithm(format!(
                    "public key algorithm {} (supported: Ed25519, ECDSA P-256/P-384, RSA)",
                    key_algorithm_name(other)
                )));
            }
        };
        let spki = match &key {
            Verifying::Ed25519(k) => k.to_public_key_der(),
            Verifying::P256(k) => k.to_public_key_der(),
            Verifying::P384(k) => k.to_public_key_der(),
            Verifying::Rsa(k) => k.to_public_key_der(),
        }
        .map_err(|e| bad(&e))?
        .into_vec();
        Ok(PublicKey { key, spki })
    }

    /// The key as a PEM "PUBLIC KEY" block.
    pub fn to_pem(&self) -> String {
        pem::encode_string("PUBLIC KEY", LineEnding::LF, &self.spki)
            .expect("a PEM label and DER body always encode")
    }

    /// The key's SubjectPublicKeyInfo, DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.key {
            Verifying::Ed25519(_) => KeyAlgorithm::Ed25519,
            Verifying::P256(_) => KeyAlgorithm::EcdsaP256,
            Verifying::P384(_) => KeyAlgorithm::EcdsaP384,
            Verifying::Rsa(_) => KeyAlgorithm::Rsa,
        }
    }

    /// `sha256:<hex>` of the SPKI DER; also the `keyid` comply writes into envelopes.
    pub fn fingerprint(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(&self.spki)))
    }

    /// Checks a DSSE signature over `message` (the PAE).
    ///
    /// ECDSA signatures may be ASN.1 DER (what cosign and Chainloop write) or fixed-size
    /// r||s (what some KMS and JOSE tooling write). A P-384 key is checked with SHA-384,
    /// its natural hash, and with SHA-256, cosign's default whatever the curve. RSA is
    /// PKCS#1 v1.5 with SHA-256, cosign's RSA scheme.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.key {
            Verifying::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
            Verifying::P256(key) => p256::ecdsa::Signature::from_der(signature)
                .or_else(|_| p256::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|sig| key.verify_prehash(&Sha256::digest(message), &sig).is_ok()),
            Verifying::P384(key) => p384::ecdsa::Signature::from_der(signature)
                .or_else(|_| p384::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|sig| {
                    key.verify_prehash(&Sha384::digest(message), &sig).is_ok()
                        || key.verify_prehash(&Sha256::digest(message), &sig).is_ok()
                }),
            Verifying::Rsa(key) => rsa_pkcs1v15(key, Hash::Sha256, message, signature),
        }
    }

    /// Checks a certificate signature made with `algorithm` (from the certificate's
    /// `signatureAlgorithm`). A key of another family than the algorithm never verifies.
    pub(crate) fn verify_x509(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        match (algorithm, &self.key) {
            (SignatureAlgorithm::Ed25519, Verifying::Ed25519(_)) => self.verify(message, signature),
            (SignatureAlgorithm::Ecdsa(hash), Verifying::P256(key)) => {
                p256::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|sig| key.verify_prehash(&hash.digest(message), &sig).is_ok())
            }
            (SignatureAlgorithm::Ecdsa(hash), Verifying::P384(key)) => {
                p384::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|sig| key.verify_prehash(&hash.digest(message), &sig).is_ok())
            }
            (SignatureAlgorithm::RsaPkcs1(hash), Verifying::Rsa(key)) => {
                rsa_pkcs1v15(key, hash, message, signature)
            }
            _ => false,
        }
    }
}

/// A certificate signature algorithm this crate can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureAlgorithm {
    Ed25519,
    Ecdsa(Hash),
    RsaPkcs1(Hash),
}

/// RSA keys between 2048 and 8192 bits: shorter ones are breakable, and the `rsa`
/// crate's default cap of 4096 bits would refuse some long-lived root CAs.
fn rsa_key(pkcs1_der: &[u8]) -> Result<rsa::RsaPublicKey, AttestError> {
    use rsa::traits::PublicKeyParts;
    let parts = rsa::pkcs1::RsaPublicKey::from_der(pkcs1_der)
        .map_err(|e| AttestError::BadKey(format!("not an RSA public key: {e}")))?;
    let key = rsa::RsaPublicKey::new_with_max_size(
        rsa::BigUint::from_bytes_be(parts.modulus.as_bytes()),
        rsa::BigUint::from_bytes_be(parts.public_exponent.as_bytes()),
        8192,
    )
    .map_err(|e| AttestError::BadKey(format!("unusable RSA public key: {e}")))?;
    if key.size() < 256 {
        return Err(AttestError::UnsupportedAlgorithm(format!(
            "RSA keys of {} bits (at least 2048 are required)",
            key.size() * 8
        )));
    }
    Ok(key)
}

fn rsa_pkcs1v15(key: &rsa::RsaPublicKey, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
    let scheme = match hash {
        Hash::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
        Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
        Hash::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
    };
    key.verify(scheme, &hash.digest(message), signature).is_ok()
}

#[derive(Clone)]
enum Signing {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

/// A private key that signs envelopes. Its `Debug` shows only the public fingerprint.
#[derive(Clone)]
pub struct SigningKey {
    key: Signing,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .field("fingerprint", &self.public().fingerprint())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new key from the operating system's random number generator.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, AttestError> {
        let mut seed = [0u8; 32];
        let key = match algorithm {
            KeyAlgorithm::Ed25519 => {
                fill_random(&mut seed)?;
                Signing::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
            KeyAlgorithm::EcdsaP256 => loop {
                fill_random(&mut seed)?;
                // Fails only for 0 or values above the group order: about 2^-32 of draws.
                if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&seed) {
                    break Signing::P256(key);
                }
            },
            other => {
                return Err(AttestError::UnsupportedAlgorithm(format!(
                    "cannot generate {other} keys (supported: Ed25519, ECDSA P-256)"
                )));
            }
        };
        seed.fill(0);
        std::hint::black_box(&seed);
        Ok(SigningKey { key })
    }

    /// Reads PKCS#8 "PRIVATE KEY" (Ed25519 or P-256) or SEC1 "EC PRIVATE KEY" (P-256).
    pub fn from_pem(text: &str) -> Result<Self, AttestError> {
        let (label, der) = decode_pem(text)?;
        let bad = |e: &dyn fmt::Display| AttestError::BadKey(e.to_string());
        let key = match label.as_str() {
            "PRIVATE KEY" => {
                let info = p256::pkcs8::PrivateKeyInfo::from_der(&der)
                    .map_err(|e| AttestError::BadKey(format!("not a PKCS#8 private key: {e}")))?;
                match info.algorithm.oid {
                    OID_ED25519 => Signing::Ed25519(
                        ed25519_dalek::SigningKey::from_pkcs8_der(&der).map_err(|e| bad(&e))?,
                    ),
                    OID_EC_PUBLIC_KEY => match info.algorithm.parameters_oid().ok() {
                        Some(OID_P256) => Signing::P256(
                            p256::ecdsa::SigningKey::from_pkcs8_der(&der).map_err(|e| bad(&e))?,
                        ),
                        other => {
                            return Err(AttestError::UnsupportedAlgorithm(format!(
                                "signing with elliptic curve {} (supported: P-256, Ed25519)",
                                other.map_or("(unnamed)".to_string(), curve_name)
                            )));
                        }
                    },
                    other => {
                        return Err(AttestError::UnsupportedAlgorithm(format!(
                            "signing with {} keys (supported: Ed25519, ECDSA P-256)",
                            key_algorithm_name(other)
                        )));
                    }
                }
            }
            "EC PRIVATE KEY" => {
                let secret = p256::SecretKey::from_sec1_der(&der).map_err(|e| {
                    AttestError::BadKey(format!("not a P-256 SEC1 private key: {e}"))
                })?;
                Signing::P256(secret.into())
            }
            label if label.contains("ENCRYPTED") => {
                return Err(AttestError::BadKey(format!(
                    "{label} is encrypted, which is not supported: use an unencrypted PKCS#8 \
                     key, such as one from `comply key generate`"
                )));
            }
            other => {
                return Err(AttestError::BadKey(format!(
                    "PEM block {other:?} is not a private key: expected \"PRIVATE KEY\" or \
                     \"EC PRIVATE KEY\""
                )));
            }
        };
        Ok(SigningKey { key })
    }

    /// The key as an unencrypted PKCS#8 "PRIVATE KEY" PEM block, as OpenSSL writes it.
    ///
    /// Ed25519 is written as PKCS#8 v1 (RFC 8410 §7: version 0, the seed only): the v2
    /// form ed25519-dalek produces, with the public key appended, is refused by OpenSSL 3
    /// and python-cryptography ("extra data").
    pub fn to_pem(&self) -> String {
        match &self.key {
            Signing::Ed25519(k) => {
                let mut der = ED25519_PKCS8_V1_PREFIX.to_vec();
                der.extend_from_slice(k.as_bytes());
                let pem = pem::encode_string("PRIVATE KEY", LineEnding::LF, &der)
                    .expect("a valid key always encodes");
                der.fill(0);
                std::hint::black_box(&der);
                pem
            }
            Signing::P256(k) => k
                .to_pkcs8_pem(LineEnding::LF)
                .expect("a valid key always encodes")
                .to_string(),
        }
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.key {
            Signing::Ed25519(_) => KeyAlgorithm::Ed25519,
            Signing::P256(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    pub fn public(&self) -> PublicKey {
        let key = match &self.key {
            Signing::Ed25519(k) => Verifying::Ed25519(k.verifying_key()),
            Signing::P256(k) => Verifying::P256(*k.verifying_key()),
        };
        let spki = match &key {
            Verifying::Ed25519(k) => k.to_public_key_der(),
            Verifying::P256(k) => k.to_public_key_der(),
            _ => unreachable!("signing keys are Ed25519 or P-256"),
        }
        .expect("a valid key always encodes")
        .into_vec();
        PublicKey { key, spki }
    }

    /// Signs `message`: Ed25519 raw, ECDSA P-256 (SHA-256, RFC 6979) as ASN.1 DER, the
    /// encoding cosign and Chainloop use.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.key {
            Signing::Ed25519(k) => {
                let signature: ed25519_dalek::Signature = k.sign(message);
                signature.to_bytes().to_vec()
            }
            Signing::P256(k) => {
                let signature: p256::ecdsa::Signature = k.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
        }
    }
}

/// SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }
/// up to the 32 seed bytes (RFC 8410 §10.3).
const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn fill_random(buffer: &mut [u8]) -> Result<(), AttestError> {
    getrandom::fill(buffer).map_err(|e| AttestError::NoRandomness(e.to_string()))
}

/// The first PEM block of `text`: its label and DER body.
pub(crate) fn decode_pem(text: &str) -> Result<(String, Vec<u8>), AttestError> {
    let block = encoding::pem_blocks(text)
        .map_err(AttestError::BadKey)?
        .swap_remove(0);
    Ok((block.label, block.der))
}

fn curve_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.132.0.10" => "secp256k1".into(),
        "1.3.132.0.35" => "P-521".into(),
        other => other.into(),
    }
}

fn key_algorithm_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.101.110" => "X25519".into(),
        "1.3.101.113" => "Ed448".into(),
        "1.2.840.10040.4.1" => "DSA".into(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS".into(),
        other => other.into(),
    }
}

/// The certificate signature algorithms webpki may use, backed by this crate's own
/// verifiers (RustCrypto), so path building needs no second crypto library.
pub(crate) static WEBPKI_ALGORITHMS: &[&dyn rustls_pki_types::SignatureVerificationAlgorithm] = {
    use rustls_pki_types::alg_id as id;
    &[
        &WebpkiAlg(
            id::ECDSA_P256,
            id::ECDSA_SHA256,
            SignatureAlgorithm::Ecdsa(Hash::Sha256),
        ),
        &WebpkiAlg(
            id::ECDSA_P256,
            id::ECDSA_SHA384,
            SignatureAlgorithm::Ecdsa(Hash::Sha384),
        ),
        &WebpkiAlg(
            id::ECDSA_P384,
            id::ECDSA_SHA256,
            SignatureAlgorithm::Ecdsa(Hash::Sha256),
        ),
        &WebpkiAlg(
            id::ECDSA_P384,
            id::ECDSA_SHA384,
            SignatureAlgorithm::Ecdsa(Hash::Sha384),
        ),
        &WebpkiAlg(id::ED25519, id::ED25519, SignatureAlgorithm::Ed25519),
        &WebpkiAlg(
            id::RSA_ENCRYPTION,
            id::RSA_PKCS1_SHA256,
            SignatureAlgorithm::RsaPkcs1(Hash::Sha256),
        ),
        &WebpkiAlg(
            id::RSA_ENCRYPTION,
            id::RSA_PKCS1_SHA384,
            SignatureAlgorithm::RsaPkcs1(Hash::Sha384),
        ),
        &WebpkiAlg(
            id::RSA_ENCRYPTION,
            id::RSA_PKCS1_SHA512,
            SignatureAlgorithm::RsaPkcs1(Hash::Sha512),
        ),
    ]
};

/// (public key algorithm, signature algorithm, how to check it)
#[derive(Debug)]
struct WebpkiAlg(
    rustls_pki_types::AlgorithmIdentifier,
    rustls_pki_types::AlgorithmIdentifier,
    SignatureAlgorithm,
);

impl rustls_pki_types::SignatureVerificationAlgorithm for WebpkiAlg {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), rustls_pki_types::InvalidSignature> {
        // webpki hands over the bare subjectPublicKey; rebuild the SubjectPublicKeyInfo
        // (its algorithm is the one this entry was matched on).
        let mut bits = Vec::with_capacity(public_key.len() + 1);
        bits.push(0);
        bits.extend_from_slice(public_key);
        let mut spki = der_tlv(0x30, self.0.as_ref());
        spki.extend(der_tlv(0x03, &bits));
        let spki = der_tlv(0x30, &spki);
        match PublicKey::from_spki_der(&spki) {
            Ok(key) if key.verify_x509(self.2, message, signature) => Ok(()),
            _ => Err(rustls_pki_types::InvalidSignature),
        }
    }

    fn public_key_alg_id(&self) -> rustls_pki_types::AlgorithmIdentifier {
        self.0
    }

    fn signature_alg_id(&self) -> rustls_pki_types::AlgorithmIdentifier {
        self.1
    }
}

/// One DER tag-length-value.
fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}
