//! Trust material from certificates, read here so that setting up trust needs no
//! openssl: a leaf certificate's public key, and a bundle of CA certificates split into
//! one certificate each (the server trusts CA certificates one by one).

use crate::error::{CliError, Result};
use std::path::Path;
use x509_cert::Certificate;
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{DecodePem, EncodePem};

fn read(file: &Path) -> Result<String> {
    std::fs::read_to_string(file)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))
}

/// Every certificate of a PEM file, each as its own PEM text, in file order.
pub fn certificates(file: &Path) -> Result<Vec<String>> {
    let text = read(file)?;
    let certs = Certificate::load_pem_chain(text.as_bytes()).map_err(|e| {
        CliError::usage(format!(
            "{}: not a PEM certificate or bundle of certificates: {e}",
            file.display()
        ))
    })?;
    if certs.is_empty() {
        return Err(CliError::usage(format!(
            "{} holds no certificate",
            file.display()
        )));
    }
    certs
        .iter()
        .map(|c| {
            c.to_pem(LineEnding::LF)
                .map_err(|e| CliError::failed(format!("re-encoding a certificate: {e}")))
        })
        .collect()
}

/// The `PUBLIC KEY` PEM of a leaf certificate (the first certificate of the file).
pub fn leaf_public_key(file: &Path) -> Result<String> {
    let text = read(file)?;
    let cert = Certificate::from_pem(text.as_bytes())
        .map_err(|e| CliError::usage(format!("{}: not a PEM certificate: {e}", file.display())))?;
    cert.tbs_certificate
        .subject_public_key_info
        .to_pem(LineEnding::LF)
        .map_err(|e| CliError::failed(format!("encoding the certificate's public key: {e}")))
}
