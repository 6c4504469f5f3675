//! TLS for `medproof serve` (rustls with the ring provider): a PEM certificate chain and
//! its PEM private key, checked to belong together when the service starts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the certificate and key are.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM certificate chain, the server's certificate first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The rustls configuration of `files`: TLS 1.2 and 1.3, no client certificates.
/// Errors name the file and what is wrong with it (never the key's bytes).
pub fn server_config(files: &TlsFiles) -> Result<rustls::ServerConfig> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| pem_error(&files.cert, "certificate", e))?;
    if certs.is_empty() {
        return Err(anyhow!(
            "{}: no PEM certificate in it",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| pem_error(&files.key, "private key", e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .with_context(|| {
            format!(
                "{} and {} are not a certificate and its key",
                files.cert.display(),
                files.key.display()
            )
        })
}

fn pem_error(path: &Path, what: &str, e: rustls::pki_types::pem::Error) -> anyhow::Error {
    use rustls::pki_types::pem::Error as E;
    match e {
        E::Io(io) => anyhow!("cannot read {}: {io}", path.display()),
        E::NoItemsFound => anyhow!("{}: no PEM {what} in it", path.display()),
        other => anyhow!("{}: not a PEM {what}: {other}", path.display()),
    }
}
