//! Extractors for signed requests (see [`crate::auth`]): [`Signed<T>`] reads a JSON
//! body of at most the configured size, checks its content type, parses it and checks
//! the request's signature over the exact bytes received; [`Signer`] does the same for
//! a request without a body. Either answers a JSON 4xx on failure: 413, 415, 400, or
//! 401 `unauthenticated`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::AppState;
use crate::auth::{AuthError, Presented, KEY, NONCE, SIGNATURE, TIME};

/// A signed JSON body and the key that signed it.
pub struct Signed<T> {
    /// The signer's public key.
    pub signer: [u8; 32],
    /// The body.
    pub body: T,
}

/// The key that signed a request without a body.
pub struct Signer(pub [u8; 32]);

fn authenticate(req: &HttpRequest, body: &[u8]) -> Result<[u8; 32], ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::unavailable("not_ready", "the service is starting", 1))?;
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let presented = Presented {
        key: header(KEY),
        time: header(TIME),
        nonce: header(NONCE),
        signature: header(SIGNATURE),
    };
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    state
        .auth
        .check(
            &presented,
            req.method().as_str(),
            path,
            body,
            state.clock.now(),
        )
        .map_err(|e| {
            let code = match e {
                AuthError::Busy => return ApiError::unavailable("busy", e.to_string(), 1),
                AuthError::Replayed => "replayed_request",
                AuthError::Stale(_) => "stale_request",
                AuthError::Missing(_) | AuthError::BadSignature => "unauthenticated",
            };
            ApiError::new(StatusCode::UNAUTHORIZED, code, e.to_string())
        })
}

impl<T: DeserializeOwned + 'static> FromRequest for Signed<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let bytes = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let json = req
                .headers()
                .get(actix_web::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
            if !json {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "the body must be JSON, sent with Content-Type: application/json",
                ));
            }
            let bytes = bytes.await.map_err(|e| {
                let status = e.as_response_error().status_code();
                match status {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                        status,
                        "too_large",
                        "the body is larger than the service takes",
                    ),
                    _ => ApiError::malformed(format!("cannot read the body: {e}")),
                }
            })?;
            let body = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::malformed(format!("Json deserialize error: {e}")))?;
            let signer = authenticate(&req, &bytes)?;
            Ok(Signed { signer, body })
        })
    }
}

impl FromRequest for Signer {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticate(req, b"").map(Signer))
    }
}
