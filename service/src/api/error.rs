//! The API's errors: every refusal is a 4xx (or a 503 when the service is full) with a
//! JSON [`ErrorBody`]; nothing a client sends produces a 5xx.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use medproof_ledger::Refusal;

use crate::wire::ErrorBody;

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    location: Option<String>,
    retry_after: Option<u64>,
    allow: Option<&'static str>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.body.error_code, self.body.error_message)
    }
}

impl ApiError {
    /// An answer with `status`, a stable `code` and a message for a person.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error_code: code.into(),
                error_message: message.into(),
            },
            location: None,
            retry_after: None,
            allow: None,
        }
    }

    /// 400 `malformed`.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503 `unavailable`: the service cannot answer now (a full queue, a stopped
    /// writer); the client may retry after `retry_after` seconds.
    pub fn unavailable(code: &str, message: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message);
        e.retry_after = Some(retry_after);
        e
    }

    /// 429 `over_quota`: the client used up its quota; it may retry after `retry_after`
    /// seconds.
    pub fn over_quota(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "over_quota",
            "this key started more proof jobs than its quota allows; retry later",
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// 405 with the methods the resource allows.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this resource allows {allow}"),
        );
        e.allow = Some(allow);
        e
    }

    /// A submission the ledger refused; `existing` is the entry that already holds
    /// what it repeats (a 409 then carries its `Location`).
    pub fn refused(refusal: &Refusal, existing: Option<u64>) -> Self {
        let status = refusal_status(refusal);
        let mut e = Self::new(status, refusal.code(), refusal.to_string());
        e.location = existing.map(|seq| format!("/v1/entries/{seq}"));
        e
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }
}

/// The HTTP status of a refusal: 403 when the signer may not do it, 409 when it was
/// done before, 422 when it is well-formed but cannot apply, 400 for a bad signature.
pub fn refusal_status(r: &Refusal) -> StatusCode {
    use Refusal::*;
    match r {
        BadSignature => StatusCode::BAD_REQUEST,
        UnknownKey
        | Suspended
        | WrongRole { .. }
        | NeedsAdmission(_)
        | NotRegistrar
        | NotGranter(_)
        | NotTheSignersAccess
        | NotYourPolicy => StatusCode::FORBIDDEN,
        Replay
        | AlreadyRegistered
        | AlreadySuspended
        | DuplicateCommitment
        | AlreadyRevoked(_)
        | DuplicateBinding
        | ClaimAlreadySubmitted => StatusCode::CONFLICT,
        OtherLedger
        | Expired { .. }
        | AdmitPatient
        | NotRegistered
        | SuspendPatient
        | NoSuchConsent(_)
        | BadBundle(_)
        | NotAnAccessProof(_)
        | BindingMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        TreeFull(_) => StatusCode::INSUFFICIENT_STORAGE,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        super::metrics::refused(&self.body.error_code);
        let mut r = HttpResponse::build(self.status);
        r.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(l) = &self.location {
            r.insert_header((header::LOCATION, l.as_str()));
        }
        if let Some(s) = self.retry_after {
            r.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        if let Some(a) = self.allow {
            r.insert_header((header::ALLOW, a));
        }
        r.json(&self.body)
    }
}
