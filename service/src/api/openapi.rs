//! The OpenAPI document, generated from the handlers' annotations and the wire types
//! (utoipa), served at `/openapi.json`; Swagger UI at `/docs/`, its assets inside the
//! binary (no CDN).

use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

use super::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "medproof",
        description = "Zero-knowledge audit and access proofs for health data. Writes are signed submissions (POST /v1/entries); private reads and proof jobs are signed requests: headers medproof-key, medproof-time, medproof-nonce and medproof-signature (Ed25519 over `medproof-request-v2\\n{ledger id, hex}\\n{METHOD}\\n{path and query}\\n{hex SHA-256 of the body}\\n{time}\\n{nonce}`). Every error is a JSON body {error_code, error_message}."
    ),
    paths(
        routes::healthz,
        routes::readyz,
        routes::ledger_info,
        routes::key,
        routes::submit,
        routes::entries,
        routes::entry,
        routes::latest_checkpoint,
        routes::checkpoint,
        routes::path,
        routes::log_checkpoint,
        routes::log_tile,
        routes::verifying_key,
        routes::log_cosigned,
        routes::log_proof,
        routes::log_info,
        routes::log_inclusion,
        routes::log_consistency,
        routes::verify,
        routes::audit,
        routes::history,
        routes::prove_record_inclusion,
        routes::prove_access,
        routes::prove_claim,
        routes::job,
    ),
    components(schemas(
        crate::wire::ErrorBody,
        crate::wire::SubmissionJson,
        crate::wire::ActionJson,
        crate::wire::Appended,
        crate::wire::LedgerInfo,
        crate::wire::LogInfo,
        crate::wire::InclusionProofJson,
        crate::wire::ConsistencyProofJson,
        crate::wire::GenesisKeyDoc,
        crate::wire::HistoryRequest,
        crate::wire::AccessHistory,
        crate::wire::AccessSeen,
        crate::input::RecordInclusionInput,
        crate::input::RecordJson,
        crate::input::AccessInput,
        crate::input::ConsentJson,
        crate::input::ClaimInput,
        crate::input::ClaimJson,
        crate::input::PolicyJson,
        crate::verify::Verdict,
        crate::verify::Check,
        crate::verify::FreshnessRule,
        routes::VerifyRequest,
        super::jobs::JobState,
    ))
)]
struct ApiDoc;

/// The document; without the prover routes when they are off.
pub fn spec(prover: bool) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    if !prover {
        doc.paths
            .paths
            .retain(|p, _| !p.starts_with("/v1/proofs/") && !p.starts_with("/v1/jobs/"));
    }
    doc
}

/// The document as JSON, made once.
pub struct Document(pub String);

/// `GET /openapi.json`.
pub async fn document(doc: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}
