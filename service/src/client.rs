//! A client of `medproof serve`, for `medproof client …`, the demo and the tests:
//! HTTP/1.1 or HTTPS (ureq, rustls), JSON in and out. Any status is an answer ([`Reply`]); only a
//! connection that fails is an error.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use ed25519_dalek::SigningKey;
use medproof_ledger::{Envelope, Submission};
use serde::Serialize;
use serde_json::Value;

use crate::wire::{ErrorBody, SubmissionJson};

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Location`, if any.
    pub location: Option<String>,
    /// `Retry-After` seconds, if any.
    pub retry_after: Option<u64>,
    /// The body (JSON, or a string for anything else; `null` when empty).
    pub body: Value,
}

impl Reply {
    /// The error body of a 4xx or 5xx, if it is one.
    pub fn error(&self) -> Option<ErrorBody> {
        (self.status >= 400)
            .then(|| serde_json::from_value(self.body.clone()).ok())
            .flatten()
    }

    /// The body, if the status is 2xx; else an error naming the code and message.
    pub fn ok(self) -> Result<Value> {
        if (200..300).contains(&self.status) {
            return Ok(self.body);
        }
        Err(match self.error() {
            Some(e) => anyhow!("{} ({}): {}", self.status, e.error_code, e.error_message),
            None => anyhow!("HTTP {}: {}", self.status, self.body),
        })
    }
}

/// An answer read as bytes.
#[derive(Debug, Clone)]
pub struct Bytes {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// `Cache-Control`.
    pub cache_control: String,
    /// The body.
    pub body: Vec<u8>,
}

/// A client of one service.
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    /// The ledger's id, read once from `/v1/ledger` (signed requests name it).
    ledger_id: std::sync::Arc<std::sync::OnceLock<[u8; 32]>>,
}

impl Client {
    /// A client of the service at `base` (`http://127.0.0.1:8080`); an `https` service
    /// must have a certificate from a public authority (see [`Client::with_ca`]).
    pub fn new(base: &str) -> Self {
        Self::with_roots(base, ureq::tls::RootCerts::WebPki)
    }

    /// A client that trusts, for `https`, only the certificates in the PEM `ca`
    /// (the service's own self-signed certificate, or a private authority).
    pub fn with_ca(base: &str, ca_pem: &[u8]) -> Result<Self> {
        let certs = ureq::tls::parse_pem(ca_pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<Vec<_>, _>>()
            .context("the CA file is not PEM")?;
        if certs.is_empty() {
            return Err(anyhow!("the CA file holds no PEM certificate"));
        }
        Ok(Self::with_roots(
            base,
            ureq::tls::RootCerts::new_with_certs(&certs),
        ))
    }

    fn with_roots(base: &str, roots: ureq::tls::RootCerts) -> Self {
        let tls = ureq::tls::TlsConfig::builder().root_certs(roots).build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .tls_config(tls)
            .build()
            .into();
        Self {
            base: base.trim_end_matches('/').to_string(),
            agent,
            ledger_id: Default::default(),
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Result<Reply> {
        let r = self
            .agent
            .get(format!("{}{path}", self.base))
            .call()
            .with_context(|| format!("GET {}{path}", self.base))?;
        reply(r)
    }

    /// `GET path` for bytes (the transparency log's checkpoint and tiles): the status,
    /// the `Content-Type` and `Cache-Control` headers, and the body.
    pub fn get_bytes(&self, path: &str) -> Result<Bytes> {
        let r = self
            .agent
            .get(format!("{}{path}", self.base))
            .call()
            .with_context(|| format!("GET {}{path}", self.base))?;
        bytes(r)
    }

    /// `POST path` with raw bytes and a content type, the answer read as bytes (a
    /// witness's `add-checkpoint`).
    pub fn post_bytes(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Bytes> {
        bytes(self.send_raw(path, content_type, body)?)
    }

    fn send_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<ureq::http::Response<ureq::Body>> {
        self.agent
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .send(body)
            .with_context(|| format!("POST {}{path}", self.base))
    }

    /// `POST path` with a JSON body.
    pub fn post<T: Serialize>(&self, path: &str, body: &T) -> Result<Reply> {
        let r = self
            .agent
            .post(format!("{}{path}", self.base))
            .send_json(body)
            .with_context(|| format!("POST {}{path}", self.base))?;
        reply(r)
    }

    /// `POST path` with raw bytes and a content type (tests of malformed input).
    pub fn post_raw(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Reply> {
        reply(self.send_raw(path, content_type, body)?)
    }

    /// Any method, with an optional body and content type (tests of malformed input).
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Reply> {
        self.raw_signed(method, path, content_type, body, None)
    }

    /// `GET path`, signed by `key` (a private read).
    pub fn signed_get(&self, path: &str, key: &SigningKey) -> Result<Reply> {
        self.raw_signed("GET", path, None, b"", Some(key))
    }

    /// `POST path` with a JSON body, signed by `key`.
    pub fn signed_post<T: Serialize>(
        &self,
        path: &str,
        body: &T,
        key: &SigningKey,
    ) -> Result<Reply> {
        let bytes = serde_json::to_vec(body)?;
        self.raw_signed("POST", path, Some("application/json"), &bytes, Some(key))
    }

    /// Any request, signed by `key` if given (see [`crate::auth`]).
    pub fn raw_signed(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        key: Option<&SigningKey>,
    ) -> Result<Reply> {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(key) = key {
            let now = medproof_ledger::Clock::now(&medproof_ledger::SystemClock);
            let request = crate::auth::Request {
                ledger_id: &self.ledger_id()?,
                method,
                path,
                body,
            };
            for (name, value) in crate::auth::headers(key, &request, now) {
                req = req.header(name, value);
            }
        }
        let req = req
            .body(body.to_vec())
            .context("cannot build the request")?;
        let r = self
            .agent
            .run(req)
            .with_context(|| format!("{method} {}{path}", self.base))?;
        reply(r)
    }

    /// The ledger's id (read once).
    pub fn ledger_id(&self) -> Result<[u8; 32]> {
        if let Some(id) = self.ledger_id.get() {
            return Ok(*id);
        }
        let (id, _) = self.ledger_now()?;
        Ok(*self.ledger_id.get_or_init(|| id))
    }

    /// The ledger's id and its time, from `/v1/ledger`.
    fn ledger_now(&self) -> Result<([u8; 32], u64)> {
        let info = self.get("/v1/ledger")?.ok()?;
        let id = info["ledger_id"]
            .as_str()
            .and_then(|h| crate::wire::hex_bytes::<32>("ledger_id", h).ok())
            .ok_or_else(|| anyhow!("the service's /v1/ledger has no ledger id"))?;
        Ok((id, info["time"].as_u64().unwrap_or(0)))
    }

    /// The envelope to sign submissions for this ledger with: its id, and an expiry
    /// `secs` after the ledger's time (read from the service, whose clock rules).
    pub fn envelope(&self, secs: u64) -> Result<Envelope> {
        let (id, time) = self.ledger_now()?;
        Ok(Envelope {
            ledger_id: id,
            expires: time.saturating_add(secs),
        })
    }

    /// `POST /v1/entries`.
    pub fn submit(&self, submission: &Submission) -> Result<Reply> {
        self.post("/v1/entries", &SubmissionJson::of(submission))
    }

    /// Polls a job (as its owner, `key`) until it is done or failed (or `timeout`
    /// passes).
    pub fn wait_job(&self, location: &str, key: &SigningKey, timeout: Duration) -> Result<Value> {
        let start = std::time::Instant::now();
        loop {
            let v = self.signed_get(location, key)?.ok()?;
            match v["status"].as_str() {
                Some("done") | Some("failed") => return Ok(v),
                _ if start.elapsed() > timeout => {
                    return Err(anyhow!("job {location} not done after {timeout:?}"))
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

/// An answer read as bytes, with its content type and cache control.
fn bytes(mut r: ureq::http::Response<ureq::Body>) -> Result<Bytes> {
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (content_type, cache_control) = (header("content-type"), header("cache-control"));
    let body = r
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_vec()
        .context("cannot read the answer")?;
    Ok(Bytes {
        status: r.status().as_u16(),
        content_type,
        cache_control,
        body,
    })
}

fn reply(mut r: ureq::http::Response<ureq::Body>) -> Result<Reply> {
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let location = header("location");
    let retry_after = header("retry-after").and_then(|s| s.parse().ok());
    let status = r.status().as_u16();
    let text = r
        .body_mut()
        .read_to_string()
        .context("cannot read the answer")?;
    let body = match text.is_empty() {
        true => Value::Null,
        false => serde_json::from_str(&text).unwrap_or(Value::String(text)),
    };
    Ok(Reply {
        status,
        location,
        retry_after,
        body,
    })
}
