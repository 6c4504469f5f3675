//! The handlers: each parses, calls one library use case, and answers. Reads take the
//! ledger's read lock for one atomic read; writes go through the one writer.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use medproof_prover::ProofRequest;
use medproof_verifier::{fr_from_decimal, ProofBundle, Statement};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::ApiError;
use super::jobs::JobsError;
use super::signed::{Signed, Signer};
use super::writer::{Outcome, QueueError};
use super::AppState;
use crate::input::{AccessInput, ClaimInput, RecordInclusionInput};
use crate::verify::{verify_bundle, Anchor};
use crate::wire::{self, ErrorBody, LedgerInfo, SubmissionJson};
use medproof_ledger::{Ledger, RocksStore};
use medproof_verifier::Checkpoint;

/// Entries a range answers at most (a longer range is truncated, not refused).
pub const MAX_RANGE: u64 = 256;

type Result<T> = std::result::Result<T, ApiError>;

fn read(
    state: &AppState,
) -> std::sync::RwLockReadGuard<'_, medproof_ledger::Ledger<medproof_ledger::RocksStore>> {
    state.ledger.read().unwrap_or_else(|p| p.into_inner())
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!("ledger read failed: {e}");
    ApiError::unavailable(
        "ledger_unavailable",
        "the ledger could not be read; try again",
        5,
    )
}

/// `GET /healthz`: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process answers")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the ledger can be written and the writer runs.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "Ready"), (status = 503, description = "The writer is not running", body = ErrorBody)))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse> {
    let poisoned = read(&state).is_poisoned();
    if poisoned || !state.writer.is_alive() {
        return Err(ApiError::unavailable(
            "not_ready",
            "the ledger writer is not running",
            5,
        ));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}

/// `GET /v1/ledger`: what a party needs to sign submissions and check checkpoints.
#[utoipa::path(get, path = "/v1/ledger", tag = "ledger", responses((status = 200, description = "The ledger's identity", body = LedgerInfo)))]
pub async fn ledger_info(state: web::Data<AppState>) -> Result<HttpResponse> {
    let l = read(&state);
    let id = l.id().ok_or_else(|| internal("no genesis"))?;
    let info = LedgerInfo {
        ledger_id: hex::encode(id),
        public_key: hex::encode(l.public_key().to_bytes()),
        entries: l.len(),
        time: state.clock.now(),
        registrars: l.registrars().iter().map(hex::encode).collect(),
        keys: l
            .genesis()
            .map(|g| g.keys.iter().map(wire::GenesisKeyDoc::of).collect())
            .unwrap_or_default(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(info))
}

/// `GET /v1/keys/{key}`: a key's role and standing (admission, suspension).
#[utoipa::path(get, path = "/v1/keys/{key}", tag = "ledger", params(("key" = String, Path, description = "Ed25519 public key, 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")), responses((status = 200, description = "Role and standing", body = Object), (status = 400, description = "Malformed", body = ErrorBody), (status = 404, description = "Not registered", body = ErrorBody)))]
pub async fn key(state: web::Data<AppState>, key: web::Path<String>) -> Result<HttpResponse> {
    let k: [u8; 32] =
        wire::hex_bytes("key", &key).map_err(|e| ApiError::malformed(e.to_string()))?;
    let standing = read(&state)
        .key_standing(&k)
        .ok_or_else(|| ApiError::not_found("the key is not registered"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(json!({
            "key": hex::encode(k),
            "role": standing.role.name(),
            "suspended": standing.suspended,
        })))
}

/// `POST /v1/entries`: a signed submission. 201 with the entry's `Location` and the
/// checkpoint after it; 409 with the existing entry's `Location` for a repeat.
#[utoipa::path(post, path = "/v1/entries", tag = "ledger", request_body = SubmissionJson, responses((status = 201, description = "Appended; Location names the entry", body = crate::wire::Appended), (status = 400, description = "Malformed", body = ErrorBody), (status = 403, description = "The signer may not do this", body = ErrorBody), (status = 409, description = "Done before; Location names the entry", body = ErrorBody), (status = 413, description = "Too large", body = ErrorBody), (status = 415, description = "Not JSON", body = ErrorBody), (status = 422, description = "Cannot apply", body = ErrorBody), (status = 503, description = "Write queue full; Retry-After", body = ErrorBody)))]
pub async fn submit(
    state: web::Data<AppState>,
    body: web::Json<SubmissionJson>,
) -> Result<HttpResponse> {
    let submission = body
        .parse()
        .map_err(|e| ApiError::malformed(e.to_string()))?;
    let kind = submission.action.name();
    let rx = state.writer.submit(submission).map_err(|e| match e {
        QueueError::Full => ApiError::unavailable("write_queue_full", "the write queue is full", 1),
        QueueError::Stopped => ApiError::unavailable("stopping", "the service is stopping", 5),
    })?;
    let outcome = rx
        .await
        .map_err(|_| ApiError::unavailable("stopping", "the service is stopping", 5))?;
    match outcome {
        Outcome::Appended(a, checkpoint) => {
            tracing::info!(kind, seq = a.seq, "entry appended");
            Ok(HttpResponse::Created()
                .insert_header((header::LOCATION, format!("/v1/entries/{}", a.seq)))
                .json(wire::Appended {
                    seq: a.seq,
                    leaf_index: a.leaf_index,
                    checkpoint: checkpoint.to_json(),
                }))
        }
        Outcome::Refused(refusal, existing) => {
            tracing::info!(kind, code = refusal.code(), "submission refused");
            Err(ApiError::refused(&refusal, existing))
        }
        Outcome::Failed(_) => Err(ApiError::unavailable(
            "ledger_unavailable",
            "the ledger could not write; nothing was appended",
            5,
        )),
    }
}

/// `GET /v1/entries/{seq}`: one entry; immutable, so cacheable with its hash as `ETag`.
#[utoipa::path(get, path = "/v1/entries/{seq}", tag = "ledger", params(("seq" = u64, Path, description = "Sequence number")), responses((status = 200, description = "The entry; ETag is its hash", body = Object), (status = 304, description = "Not modified"), (status = 400, description = "Malformed", body = ErrorBody), (status = 404, description = "No such entry", body = ErrorBody)))]
pub async fn entry(
    req: HttpRequest,
    state: web::Data<AppState>,
    seq: web::Path<u64>,
) -> Result<HttpResponse> {
    let seq = seq.into_inner();
    let l = read(&state);
    let e = l.entry(seq).map_err(internal)?.ok_or_else(|| {
        ApiError::not_found(format!("no entry {seq} (the ledger has {})", l.len()))
    })?;
    drop(l);
    let etag = format!("\"{}\"", hex::encode(e.hash()));
    let cached = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut r = match cached {
        true => HttpResponse::NotModified(),
        false => HttpResponse::Ok(),
    };
    r.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"));
    Ok(match cached {
        true => r.finish(),
        false => r.json(wire::entry_json(&e)),
    })
}

/// The query of `GET /v1/entries`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Range {
    /// First seq (default 0).
    #[serde(default)]
    pub start: u64,
    /// Entries at most (default and cap [`MAX_RANGE`]).
    pub limit: Option<u64>,
}

/// `GET /v1/entries?start=S&limit=N`: a range of entries, capped at [`MAX_RANGE`];
/// `next` is where the following page starts (absent at the end).
#[utoipa::path(get, path = "/v1/entries", tag = "ledger", params(Range), responses((status = 200, description = "Entries and the next page's start", body = Object), (status = 400, description = "Malformed", body = ErrorBody)))]
pub async fn entries(state: web::Data<AppState>, range: web::Query<Range>) -> Result<HttpResponse> {
    let limit = range.limit.unwrap_or(MAX_RANGE).clamp(1, MAX_RANGE);
    let l = read(&state);
    let end = range.start.saturating_add(limit).min(l.len());
    let mut out = Vec::new();
    for seq in range.start..end {
        let e = l
            .entry(seq)
            .map_err(internal)?
            .ok_or_else(|| internal("entry missing"))?;
        out.push(wire::entry_json(&e));
    }
    let next = (end < l.len()).then_some(end.max(range.start));
    Ok(HttpResponse::Ok().json(json!({ "entries": out, "next": next })))
}

/// `GET /v1/checkpoints/latest`: never cached.
#[utoipa::path(get, path = "/v1/checkpoints/latest", tag = "ledger", responses((status = 200, description = "The latest signed checkpoint", body = Object), (status = 404, description = "None yet", body = ErrorBody)))]
pub async fn latest_checkpoint(state: web::Data<AppState>) -> Result<HttpResponse> {
    let info = read(&state)
        .latest_checkpoint()
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found("the ledger has no checkpoint yet"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(wire::checkpoint_json(&info)))
}

/// `GET /v1/checkpoints/{seq}`: the checkpoint entry at seq (its `superseded_at` can
/// change once, so it is not cached as immutable).
#[utoipa::path(get, path = "/v1/checkpoints/{seq}", tag = "ledger", params(("seq" = u64, Path, description = "A checkpoint entry's seq")), responses((status = 200, description = "The checkpoint", body = Object), (status = 400, description = "Malformed", body = ErrorBody), (status = 404, description = "Not a checkpoint", body = ErrorBody)))]
pub async fn checkpoint(state: web::Data<AppState>, seq: web::Path<u64>) -> Result<HttpResponse> {
    let seq = seq.into_inner();
    let info = read(&state)
        .checkpoint_at(seq)
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found(format!("entry {seq} is not a checkpoint")))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(wire::checkpoint_json(&info)))
}

/// `GET /checkpoint`: the latest C2SP checkpoint of the ledger's transparency log, a
/// signed note (<https://c2sp.org/tlog-tiles>): mutable, cached for a second at most.
#[utoipa::path(get, path = "/checkpoint", tag = "transparency log", responses((status = 200, description = "The signed note", content_type = "text/plain; charset=utf-8", body = String)))]
pub async fn log_checkpoint(state: web::Data<AppState>) -> Result<HttpResponse> {
    let cp = read(&state).tlog_checkpoint().map_err(internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "max-age=1"))
        .body(cp.note))
}

/// `GET /tile/<L>/<N>[.p/<W>]` and `GET /tile/entries/<N>[.p/<W>]`: the transparency
/// log's hash tiles and entry bundles (C2SP tlog-tiles), immutable.
#[utoipa::path(get, path = "/tile/{level}/{index}", tag = "transparency log", params(("level" = String, Path, description = "The tile level (0 to 63) or `entries`", pattern = "^([0-9]|[1-5][0-9]|6[0-3]|entries)$"), ("index" = String, Path, description = "The tile index in 3-digit path elements (`x001/x234/067`), with `.p/<W>` for a partial tile", pattern = "^(x[0-9]{3}/)*[0-9]{3}([.]p/[1-9][0-9]{0,2})?$")), responses((status = 200, description = "The tile", content_type = "application/octet-stream", body = Vec<u8>), (status = 400, description = "Not a tile path", body = ErrorBody), (status = 404, description = "The log does not hold all of the tile yet", body = ErrorBody)))]
pub async fn log_tile(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let path = req.match_info().query("tile");
    let tile = medproof_ledger::tlog::TilePath::parse(path).ok_or_else(|| {
        ApiError::malformed("not a tile path: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")
    })?;
    let ledger = read(&state);
    let bytes = ledger.tile(&tile).map_err(internal)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "the log has {} entries: it does not hold all of {} yet",
            ledger.len(),
            tile.path()
        ))
    })?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(bytes))
}

/// `GET /v1/verifying-keys/{statement}`: the statement's Groth16 verifying key
/// (arkworks, compressed), immutable. Whoever fetches it checks its SHA-256 against the
/// `vk_id` the ledger's signed genesis names, so it needs no trust in this server.
#[utoipa::path(get, path = "/v1/verifying-keys/{statement}", tag = "ledger", params(("statement" = String, Path, description = "`record-inclusion`, `access-authorization` or `claim-compliance`", pattern = "^(record-inclusion|access-authorization|claim-compliance)$")), responses((status = 200, description = "The key; its SHA-256 is the genesis's vk_id", content_type = "application/octet-stream", body = Vec<u8>), (status = 404, description = "No such statement", body = ErrorBody)))]
pub async fn verifying_key(
    state: web::Data<AppState>,
    statement: web::Path<String>,
) -> Result<HttpResponse> {
    let name = statement.into_inner();
    let key = Statement::from_name(&name)
        .and_then(|s| state.verifier.key(s))
        .ok_or_else(|| {
            ApiError::not_found(
                "no such statement: record-inclusion, access-authorization or claim-compliance",
            )
        })?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(key.key().to_compressed()))
}

/// `GET /v1/log`: the transparency log's name, note verifier key and latest checkpoint.
#[utoipa::path(get, path = "/v1/log", tag = "transparency log", responses((status = 200, description = "The log", body = wire::LogInfo)))]
pub async fn log_info(state: web::Data<AppState>) -> Result<HttpResponse> {
    let cosigned = state.cosigned.latest().is_some();
    let info = wire::log_info(&*read(&state), cosigned).map_err(internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(info))
}

fn log_refusal(e: medproof_ledger::LedgerError) -> ApiError {
    match e {
        medproof_ledger::LedgerError::Tlog(e @ medproof_ledger::tlog::TlogError::OutOfRange(_)) => {
            ApiError::malformed(e.to_string())
        }
        e => internal(e),
    }
}

/// Where an inclusion proof is asked for.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The entry's seq.
    pub index: u64,
    /// Entries in the tree (default: all).
    pub size: Option<u64>,
}

/// `GET /v1/log/inclusion?index=I&size=N`: the RFC 6962 proof that entry I is in the
/// log's tree of N entries.
#[utoipa::path(get, path = "/v1/log/inclusion", tag = "transparency log", params(InclusionQuery), responses((status = 200, description = "The proof", body = wire::InclusionProofJson), (status = 400, description = "Malformed, or not in the tree", body = ErrorBody)))]
pub async fn log_inclusion(
    state: web::Data<AppState>,
    q: web::Query<InclusionQuery>,
) -> Result<HttpResponse> {
    let ledger = read(&state);
    let size = q.size.unwrap_or(ledger.len());
    let proof = wire::inclusion_json(&*ledger, q.index, size).map_err(log_refusal)?;
    Ok(HttpResponse::Ok().json(proof))
}

/// `GET /v1/log/cosigned`: the latest checkpoint of the log with the cosignatures of
/// the witnesses this service pushes it to (a signed note).
#[utoipa::path(get, path = "/v1/log/cosigned", tag = "transparency log", responses((status = 200, description = "The cosigned note", content_type = "text/plain; charset=utf-8", body = String), (status = 404, description = "No witness has cosigned a checkpoint yet", body = ErrorBody)))]
pub async fn log_cosigned(state: web::Data<AppState>) -> Result<HttpResponse> {
    let note = state.cosigned.latest().ok_or_else(|| {
        ApiError::not_found("no witness has cosigned a checkpoint of this log yet")
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "max-age=1"))
        .body(note))
}

/// Which checkpoint a log proof is asked for.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogProofQuery {
    /// The checkpoint entry's seq (a bundle's `checkpoint.seq`).
    pub seq: u64,
}

/// `GET /v1/log/proof?seq=S`: a bundle's `log` for its checkpoint entry S: the latest
/// cosigned checkpoint and the RFC 6962 inclusion proof of entry S in it, for verifiers
/// that require witnesses.
#[utoipa::path(get, path = "/v1/log/proof", tag = "transparency log", params(LogProofQuery), responses((status = 200, description = "The log proof (a bundle's `log`)", body = Object), (status = 400, description = "Malformed, or not a checkpoint entry", body = ErrorBody), (status = 404, description = "No cosigned checkpoint holds it yet", body = ErrorBody)))]
pub async fn log_proof(
    state: web::Data<AppState>,
    q: web::Query<LogProofQuery>,
) -> Result<HttpResponse> {
    let note = state.cosigned.latest().ok_or_else(|| {
        ApiError::not_found("no witness has cosigned a checkpoint of this log yet")
    })?;
    let ledger = read(&state);
    let info = ledger
        .checkpoint_at(q.seq)
        .map_err(internal)?
        .ok_or_else(|| ApiError::malformed(format!("entry {} is not a checkpoint", q.seq)))?;
    match crate::ledger_cli::log_proof_of(&*ledger, &info.checkpoint, &note).map_err(internal)? {
        Ok(proof) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .json(proof)),
        Err(why) => Err(ApiError::not_found(why)),
    }
}

/// Between which trees a consistency proof is asked for.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// Entries in the older tree.
    #[param(minimum = 1)]
    pub old: u64,
    /// Entries in the newer tree (default: all).
    pub new: Option<u64>,
}

/// `GET /v1/log/consistency?old=M&new=N`: the RFC 6962 proof that the log's tree of N
/// entries extends its tree of M.
#[utoipa::path(get, path = "/v1/log/consistency", tag = "transparency log", params(ConsistencyQuery), responses((status = 200, description = "The proof", body = wire::ConsistencyProofJson), (status = 400, description = "Malformed, or sizes the log does not have", body = ErrorBody)))]
pub async fn log_consistency(
    state: web::Data<AppState>,
    q: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse> {
    let ledger = read(&state);
    let new = q.new.unwrap_or(ledger.len());
    let proof = wire::consistency_json(&*ledger, q.old, new).map_err(log_refusal)?;
    Ok(HttpResponse::Ok().json(proof))
}

/// `GET /v1/paths/{commitment}`: where a commitment is, with its Merkle path and the
/// signed checkpoint it is against, read together.
#[utoipa::path(get, path = "/v1/paths/{commitment}", tag = "ledger", params(("commitment" = String, Path, description = "Decimal field element", pattern = "^[0-9]{1,77}$")), responses((status = 200, description = "Tree, index, path and the checkpoint it is against", body = Object), (status = 400, description = "Malformed", body = ErrorBody), (status = 404, description = "Not on the ledger", body = ErrorBody)))]
pub async fn path(
    state: web::Data<AppState>,
    commitment: web::Path<String>,
) -> Result<HttpResponse> {
    let c = fr_from_decimal(&commitment)
        .map_err(|e| ApiError::malformed(format!("commitment: {e}")))?;
    let doc = wire::path_json(&*read(&state), &c)
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found("the commitment is not on the ledger"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(doc))
}

/// The body of `POST /v1/verify`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The proof bundle.
    #[schema(value_type = Object)]
    pub bundle: ProofBundle,
    /// The binding the proof must answer (decimal), if the caller issued one.
    #[serde(default)]
    pub expect_binding: Option<String>,
}

/// `POST /v1/verify`: checks a bundle against this ledger (fails closed) and says
/// which checks passed and why the first failed one did. 200 either way: the verdict is
/// the answer; 400/422 only for a bundle that cannot be read.
#[utoipa::path(post, path = "/v1/verify", tag = "verify", request_body = VerifyRequest, responses((status = 200, description = "The verdict: each check and why the first failed one did", body = crate::verify::Verdict), (status = 400, description = "Malformed", body = ErrorBody), (status = 415, description = "Not JSON", body = ErrorBody), (status = 422, description = "The bundle cannot be read", body = ErrorBody)))]
pub async fn verify(
    state: web::Data<AppState>,
    body: web::Json<VerifyRequest>,
) -> Result<HttpResponse> {
    let VerifyRequest {
        bundle,
        expect_binding,
    } = body.into_inner();
    let expect_binding = expect_binding
        .map(|b| {
            fr_from_decimal(&b).map_err(|e| ApiError::malformed(format!("expect_binding: {e}")))
        })
        .transpose()?;
    let verdict = web::block(move || {
        let l = read(&state);
        let anchor = Anchor {
            key: Some(l.public_key()),
            ledger: Some(&*l),
            rules: state.rules,
            now: state.clock.now(),
            expect_binding,
            allow_unanchored: false,
            genesis: None,
            witnesses: &state.witnesses,
            required_witnesses: state.required_witnesses,
        };
        verify_bundle(&state.verifier, &bundle, &anchor)
    })
    .await
    .map_err(|_| ApiError::unavailable("busy", "try again", 1))?
    .map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_bundle",
            e.to_string(),
        )
    })?;
    Ok(HttpResponse::Ok().json(verdict))
}

fn queue_error(e: JobsError) -> ApiError {
    match e {
        JobsError::Full => ApiError::unavailable(
            "proof_queue_full",
            "the proof queue is full; retry later",
            2,
        ),
        JobsError::Stopped => ApiError::unavailable("stopping", "the prover is stopping", 5),
    }
}

fn accepted(id: &str) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/jobs/{id}")))
        .json(json!({ "job": id, "status": "queued", "location": format!("/v1/jobs/{id}") }))
}

/// A proof input the service proves against its ledger's latest checkpoint.
pub trait ProofInput: serde::de::DeserializeOwned + 'static {
    /// The provider the proof will name (hex key), if the statement names one: only
    /// that key may ask for it.
    fn provider(&self) -> Option<&str> {
        None
    }

    /// The request and the checkpoint its roots are from.
    fn request(&self, ledger: &Ledger<RocksStore>) -> anyhow::Result<(ProofRequest, Checkpoint)>;
}

impl ProofInput for RecordInclusionInput {
    fn request(&self, ledger: &Ledger<RocksStore>) -> anyhow::Result<(ProofRequest, Checkpoint)> {
        if self.has_leaves() {
            anyhow::bail!(
                "the service proves against its ledger: send the record's opening without `leaves`"
            );
        }
        match self.to_request(Some(ledger))? {
            (r, Some(cp)) => Ok((ProofRequest::RecordInclusion(r), cp)),
            (_, None) => anyhow::bail!("no checkpoint with the path"),
        }
    }
}

impl ProofInput for AccessInput {
    fn provider(&self) -> Option<&str> {
        Some(&self.provider)
    }

    fn request(&self, ledger: &Ledger<RocksStore>) -> anyhow::Result<(ProofRequest, Checkpoint)> {
        let (r, cp) = self.to_request(ledger)?;
        Ok((ProofRequest::Access(r), cp))
    }
}

impl ProofInput for ClaimInput {
    fn provider(&self) -> Option<&str> {
        Some(&self.provider)
    }

    fn request(&self, ledger: &Ledger<RocksStore>) -> anyhow::Result<(ProofRequest, Checkpoint)> {
        let (r, cp) = self.to_request(ledger)?;
        Ok((ProofRequest::Claim(r), cp))
    }
}

/// The standing of a request's signer: registered on the ledger and not suspended
/// (403 `unknown_key` or `suspended` otherwise).
fn standing(state: &AppState, signer: &[u8; 32]) -> Result<medproof_ledger::rules::KeyStatus> {
    use medproof_ledger::Refusal;
    match read(state).key_standing(signer) {
        None => Err(ApiError::refused(&Refusal::UnknownKey, None)),
        Some(k) if k.suspended => Err(ApiError::refused(&Refusal::Suspended, None)),
        Some(k) => Ok(k),
    }
}

/// `POST /v1/history`, a signed request by a registered patient's key: the logged
/// accesses to the records it names (see [`wire::HistoryRequest`] for why the patient
/// names them), each with who accessed, when, for which category and purpose, and
/// whether the audit of its entry counts it as authorized (and if not, why). At most 64
/// records a request and 256 accesses an answer (`truncated` says when more exist).
/// 403 for a key that is not a patient's.
#[utoipa::path(post, path = "/v1/history", tag = "patients", request_body = wire::HistoryRequest, responses((status = 200, description = "The accesses", body = wire::AccessHistory), (status = 400, description = "Malformed", body = ErrorBody), (status = 401, description = "Not a signed request", body = ErrorBody), (status = 403, description = "Not a registered patient's key", body = ErrorBody)))]
pub async fn history(
    state: web::Data<AppState>,
    signed: Signed<wire::HistoryRequest>,
) -> Result<HttpResponse> {
    use medproof_ledger::{Refusal, Role};
    let Signed { signer, body } = signed;
    let key = standing(&state, &signer)?;
    if key.role != Role::Patient {
        return Err(ApiError::refused(
            &Refusal::WrongRole {
                needed: Role::Patient.name(),
                found: key.role.name(),
            },
            None,
        ));
    }
    let records = body
        .parse()
        .map_err(|e| ApiError::malformed(e.to_string()))?;
    // The reads and each access's audit, off the HTTP workers, on the audit pool.
    let history = web::block(move || {
        state
            .audit_pool
            .install(|| access_history(&state, &records))
    })
    .await
    .map_err(|_| ApiError::unavailable("busy", "try again", 1))??;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(history))
}

/// The accesses logged to `records`, each judged by the audit of its entry.
fn access_history(
    state: &AppState,
    records: &[medproof_verifier::Fr],
) -> Result<wire::AccessHistory> {
    let ledger = read(state);
    let key = ledger.public_key();
    let mut history = wire::AccessHistory {
        accesses: Vec::new(),
        truncated: false,
        ledger_len: ledger.len(),
    };
    // At most MAX_HISTORY_ACCESSES in all, however many records are named: the reads
    // hold the ledger's read lock, which the writer waits for.
    for record in records {
        let room = wire::MAX_HISTORY_ACCESSES - history.accesses.len();
        // One more than there is room for tells whether there are more.
        let mut entries = ledger.accesses_of(record, room + 1).map_err(internal)?;
        if entries.len() > room {
            entries.truncate(room);
            history.truncated = true;
        }
        let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
        let problems = medproof_ledger::audit::check_logged_accesses(
            &ledger,
            &state.verifier,
            &key,
            &seqs,
            state.rules,
        )
        .map_err(internal)?;
        for (e, problem) in entries.iter().zip(problems) {
            history.accesses.push(
                wire::AccessSeen::of(e, problem.map(|p| p.reason))
                    .ok_or_else(|| internal(format!("entry {} is not a readable access", e.seq)))?,
            );
        }
        if history.truncated {
            break;
        }
    }
    Ok(history)
}

/// `POST /v1/proofs/{statement}`, a signed request by a key registered on the ledger
/// and not suspended: a party's openings (see [`crate::input`]), proved against the
/// ledger's latest checkpoint, which the bundle carries. 202 with the job's `Location`,
/// readable by the signer only; 403 for an unknown or suspended key, or when the input
/// names another provider than the signer; 422 `not_provable` when the openings
/// do not fit the ledger.
pub async fn prove<I: ProofInput>(
    state: web::Data<AppState>,
    signed: Signed<I>,
) -> Result<HttpResponse> {
    let Signed { signer, body } = signed;
    // Only keys on the ledger prove: a quota per key means nothing if any fresh key
    // may ask.
    standing(&state, &signer)?;
    if let Err(wait) = state.quota.take(&signer) {
        return Err(ApiError::over_quota(wait.as_secs().max(1)));
    }
    if body
        .provider()
        .is_some_and(|p| !p.eq_ignore_ascii_case(&hex::encode(signer)))
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a provider proves in its own name: sign the request with the key the input names",
        ));
    }
    let jobs = state
        .jobs
        .clone()
        .ok_or_else(|| ApiError::not_found("this service does not prove"))?;
    let (request, checkpoint) = body.request(&read(&state)).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_provable",
            format!("{e:#}"),
        )
    })?;
    let id = jobs
        .submit(request, Some(checkpoint), signer)
        .map_err(queue_error)?;
    Ok(accepted(&id))
}

/// `POST /v1/proofs/record-inclusion`: see [`prove`].
#[utoipa::path(post, path = "/v1/proofs/record-inclusion", tag = "proofs", request_body = RecordInclusionInput, responses((status = 202, description = "Queued; Location names the job", body = Object), (status = 400, description = "Malformed", body = ErrorBody), (status = 401, description = "Not a signed request", body = ErrorBody), (status = 403, description = "The input names another provider", body = ErrorBody), (status = 422, description = "The openings do not fit the ledger", body = ErrorBody), (status = 503, description = "Queue full; Retry-After", body = ErrorBody)))]
pub async fn prove_record_inclusion(
    state: web::Data<AppState>,
    signed: Signed<RecordInclusionInput>,
) -> Result<HttpResponse> {
    prove(state, signed).await
}

/// `POST /v1/proofs/access`: see [`prove`].
#[utoipa::path(post, path = "/v1/proofs/access", tag = "proofs", request_body = AccessInput, responses((status = 202, description = "Queued; Location names the job", body = Object), (status = 400, description = "Malformed", body = ErrorBody), (status = 401, description = "Not a signed request", body = ErrorBody), (status = 403, description = "The input names another provider", body = ErrorBody), (status = 422, description = "The openings do not fit the ledger", body = ErrorBody), (status = 503, description = "Queue full; Retry-After", body = ErrorBody)))]
pub async fn prove_access(
    state: web::Data<AppState>,
    signed: Signed<AccessInput>,
) -> Result<HttpResponse> {
    prove(state, signed).await
}

/// `POST /v1/proofs/claim`: see [`prove`].
#[utoipa::path(post, path = "/v1/proofs/claim", tag = "proofs", request_body = ClaimInput, responses((status = 202, description = "Queued; Location names the job", body = Object), (status = 400, description = "Malformed", body = ErrorBody), (status = 401, description = "Not a signed request", body = ErrorBody), (status = 403, description = "The input names another provider", body = ErrorBody), (status = 422, description = "The openings do not fit the ledger", body = ErrorBody), (status = 503, description = "Queue full; Retry-After", body = ErrorBody)))]
pub async fn prove_claim(
    state: web::Data<AppState>,
    signed: Signed<ClaimInput>,
) -> Result<HttpResponse> {
    prove(state, signed).await
}

/// `GET /v1/jobs/{id}`, a signed request by the key that created the job: its state;
/// when done, its bundle.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "proofs", params(("id" = String, Path, description = "Job id")), responses((status = 200, description = "The job's state; when done, its bundle", body = super::jobs::JobState), (status = 401, description = "Not a signed request", body = ErrorBody), (status = 403, description = "Another key's job", body = ErrorBody), (status = 404, description = "No such job", body = ErrorBody)))]
pub async fn job(
    state: web::Data<AppState>,
    id: web::Path<String>,
    signer: Signer,
) -> Result<HttpResponse> {
    let jobs = state
        .jobs
        .as_ref()
        .ok_or_else(|| ApiError::not_found("this service does not prove"))?;
    let (owner, s) = jobs
        .get(&id)
        .ok_or_else(|| ApiError::not_found("no such job (finished jobs are kept 15 minutes)"))?;
    if owner != signer.0 {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the job belongs to another key",
        ));
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(s))
}

/// Entries one audit request covers at most (the audit holds the ledger's read lock, so
/// the writer waits for it; a longer period is audited page by page).
pub const MAX_AUDIT: u64 = 4096;

/// The query of `GET /v1/audit`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditRange {
    /// First entry of the period.
    pub from: u64,
    /// One past the last entry (at most `from` + 4,096; default: that or the end).
    pub to: Option<u64>,
}

/// `GET /v1/audit?from=F&to=T`: a regulator's audit of a period of the access log (the
/// chain between signed checkpoints, every access proof batch-verified and fresh at its
/// entry's time), on the audit pool so that it does not take the provers' threads.
#[utoipa::path(get, path = "/v1/audit", tag = "verify", params(AuditRange), responses((status = 200, description = "The audit report", body = Object), (status = 400, description = "Malformed", body = ErrorBody), (status = 422, description = "The period cannot be audited (past the end, too long, no closing checkpoint)", body = ErrorBody)))]
pub async fn audit(
    state: web::Data<AppState>,
    range: web::Query<AuditRange>,
) -> Result<HttpResponse> {
    let from = range.from;
    let to = match range.to {
        Some(to) if to.saturating_sub(from) > MAX_AUDIT => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "range_too_long",
                format!("an audit request covers at most {MAX_AUDIT} entries: audit the period page by page"),
            ))
        }
        Some(to) => to,
        None => from.saturating_add(MAX_AUDIT).min(read(&state).len()),
    };
    let report = web::block(move || {
        let l = read(&state);
        let opts = medproof_ledger::audit::AuditOptions {
            from,
            to,
            rules: state.rules,
            batch: medproof_ledger::audit::DEFAULT_BATCH,
        };
        let key = l.public_key();
        state
            .audit_pool
            .install(|| medproof_ledger::audit::audit(&l, &state.verifier, &key, &opts, &|_, _| {}))
    })
    .await
    .map_err(|_| ApiError::unavailable("busy", "try again", 1))?
    .map_err(|e| match e {
        medproof_ledger::audit::AuditError::Ledger(e) => internal(e),
        e => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_auditable",
            e.to_string(),
        ),
    })?;
    Ok(HttpResponse::Ok().json(report))
}

/// Any path the API does not have.
pub async fn not_found() -> Result<HttpResponse> {
    Err(ApiError::not_found("no such resource"))
}
