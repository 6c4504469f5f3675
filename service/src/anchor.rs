//! Anchoring checkpoints on an EVM chain: the ledger's Ethereum account posts its signed
//! checkpoints to `MedproofAnchor.sol` through a JSON-RPC endpoint, and verifiers ask the
//! contract whether a checkpoint is anchored.
//!
//! Transactions are EIP-1559, built and RLP-encoded by `alloy-consensus` and signed by
//! `alloy-signer-local` (secp256k1); calls are ABI-encoded by `alloy-sol-types`, whose
//! `sol!` reads the ABI from the contract's own source (`contracts/MedproofAnchor.sol`),
//! so the two cannot drift. The JSON-RPC requests themselves are plain JSON over ureq.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_network::eip2718::Encodable2718;
use alloy_network::TxSignerSync;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolInterface};
use anyhow::{anyhow, bail, Context, Result};
use medproof_verifier::checkpoint::fr_to_be32;
use medproof_verifier::Checkpoint;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The contract's ABI, read by alloy from the contract's own source.
mod abi {
    #![allow(missing_docs)]
    alloy_sol_types::sol!("contracts/MedproofAnchor.sol");
}

use abi::MedproofAnchor as IMedproofAnchor;
use abi::MedproofAnchor::Checkpoint as AnchorCheckpoint;

/// The ledger's Ethereum key: 64 hex digits (an optional `0x`) in a file of mode 0600.
pub fn load_key(path: &Path) -> Result<PrivateKeySigner> {
    let mode = fs::metadata(path)
        .with_context(|| format!("cannot read the Ethereum key {}", path.display()))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{}: the Ethereum key is accessible to other users (mode {mode:o}); run `chmod 600` on it",
            path.display()
        );
    }
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the Ethereum key {}", path.display()))?;
    let text = text.trim();
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let bytes = hex::decode(digits)
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| {
            anyhow!(
                "{}: not an Ethereum key (expected 64 hex digits)",
                path.display()
            )
        })?;
    PrivateKeySigner::from_slice(&bytes)
        .map_err(|_| anyhow!("{}: not a valid secp256k1 key", path.display()))
}

/// Creates a new Ethereum key at `path` (mode 0600; never over an existing file) and
/// returns its account.
pub fn create_key(path: &Path) -> Result<Address> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let signer = PrivateKeySigner::random();
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist)", path.display()))?;
    writeln!(f, "0x{}", hex::encode(signer.to_bytes()))
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(signer.address())
}

/// SHA-256 of a checkpoint's signed bytes: what the contract keeps by seq.
pub fn checkpoint_digest(c: &Checkpoint) -> B256 {
    let bytes = Checkpoint::signing_bytes(
        c.seq,
        &c.chain_head,
        &c.records_root,
        &c.consents_root,
        c.time,
    );
    B256::from_slice(&Sha256::digest(bytes))
}

fn anchor_checkpoint(c: &Checkpoint) -> AnchorCheckpoint {
    AnchorCheckpoint {
        seq: c.seq,
        chainHead: B256::from(c.chain_head),
        recordsRoot: U256::from_be_bytes(fr_to_be32(&c.records_root)),
        consentsRoot: U256::from_be_bytes(fr_to_be32(&c.consents_root)),
        time: c.time,
    }
}

/// A JSON-RPC error, with the contract's revert decoded when there is one.
fn rpc_error(method: &str, error: &Value) -> anyhow::Error {
    let message = error["message"].as_str().unwrap_or("no message");
    let data = error["data"]
        .as_str()
        .or_else(|| error["data"]["data"].as_str());
    if let Some(reason) = data.and_then(revert_reason) {
        return anyhow!("{method}: the contract refused: {reason}");
    }
    anyhow!("{method}: {message}")
}

/// The name of a `MedproofAnchor` error in revert data (hex), if it is one.
pub fn revert_reason(data: &str) -> Option<String> {
    let bytes = hex::decode(data.strip_prefix("0x").unwrap_or(data)).ok()?;
    use IMedproofAnchor::MedproofAnchorErrors as E;
    Some(match E::abi_decode(&bytes).ok()? {
        E::NotLedger(_) => "NotLedger (the key is not the contract's ledger account)".into(),
        E::SeqNotIncreasing(e) => {
            format!(
                "SeqNotIncreasing (seq {} is not above the latest anchored, {})",
                e.seq, e.latest
            )
        }
        E::RootNotInField(_) => "RootNotInField".into(),
        E::BadSignatureLength(_) => "BadSignatureLength".into(),
        E::RootNotFresh(e) => format!("RootNotFresh ({})", e.root),
        E::NowOutOfSkew(e) => format!("NowOutOfSkew (now {}, block {})", e.proofNow, e.blockTime),
    })
}

/// A receipt of a mined anchoring transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The checkpoint's seq.
    pub seq: u64,
    /// The transaction hash.
    pub tx: B256,
    /// Gas it used.
    pub gas_used: u64,
    /// The block it is in.
    pub block: u64,
}

/// What the contract holds for a seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchored {
    /// SHA-256 of the anchored checkpoint's signed bytes.
    pub digest: B256,
    /// Block time it was anchored at.
    pub anchored_at: u64,
}

/// A `MedproofAnchor` contract behind a JSON-RPC endpoint.
pub struct AnchorContract {
    url: String,
    contract: Address,
    agent: ureq::Agent,
    /// How long to wait for a transaction to be mined.
    pub receipt_timeout: Duration,
}

impl AnchorContract {
    /// The contract at `contract` (0x and 40 hex digits) through the endpoint `url`.
    pub fn new(url: &str, contract: &str) -> Result<Self> {
        let contract: Address = contract
            .parse()
            .map_err(|_| anyhow!("{contract}: not a contract address (0x and 40 hex digits)"))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Ok(Self {
            url: url.to_string(),
            contract,
            agent,
            receipt_timeout: Duration::from_secs(300),
        })
    }

    /// The contract's address.
    pub fn address(&self) -> Address {
        self.contract
    }

    fn rpc(&self, method: &str, params: Value) -> Result<Value> {
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut response = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send_json(&request)
            .with_context(|| {
                format!("{method}: cannot reach the JSON-RPC endpoint {}", self.url)
            })?;
        let status = response.status();
        let body: Value = response
            .body_mut()
            .read_json()
            .with_context(|| format!("{method}: the endpoint answered {status} without JSON"))?;
        if let Some(error) = body.get("error").filter(|e| !e.is_null()) {
            return Err(rpc_error(method, error));
        }
        body.get("result")
            .cloned()
            .ok_or_else(|| anyhow!("{method}: the endpoint answered {status} without a result"))
    }

    fn quantity(&self, method: &str, params: Value) -> Result<u128> {
        let v = self.rpc(method, params)?;
        parse_quantity(&v).ok_or_else(|| anyhow!("{method}: not a quantity: {v}"))
    }

    fn call<C: SolCall>(&self, call: C) -> Result<C::Return> {
        let data = format!("0x{}", hex::encode(call.abi_encode()));
        let result = self.rpc(
            "eth_call",
            json!([{"to": self.contract.to_string(), "data": data}, "latest"]),
        )?;
        let bytes = result
            .as_str()
            .and_then(|s| hex::decode(s.strip_prefix("0x").unwrap_or(s)).ok())
            .ok_or_else(|| anyhow!("eth_call: not hex: {result}"))?;
        if bytes.is_empty() {
            bail!(
                "eth_call: {} has no contract code, or is not a MedproofAnchor",
                self.contract
            );
        }
        C::abi_decode_returns(&bytes).map_err(|e| {
            anyhow!(
                "eth_call: {} does not answer as a MedproofAnchor: {e}",
                self.contract
            )
        })
    }

    /// The latest anchored seq, or `None` before the first anchor.
    pub fn latest_seq(&self) -> Result<Option<u64>> {
        if !self.call(IMedproofAnchor::anchoredCall {})? {
            return Ok(None);
        }
        Ok(Some(self.call(IMedproofAnchor::latestSeqCall {})?))
    }

    /// The anchor at `seq`, or `None` if that seq was not anchored.
    pub fn anchored(&self, seq: u64) -> Result<Option<Anchored>> {
        // The public mapping's getter: (digest, anchoredAt).
        let r = self.call(IMedproofAnchor::anchorsCall(seq))?;
        Ok((r._1 != 0).then_some(Anchored {
            digest: r._0,
            anchored_at: r._1,
        }))
    }

    /// The account the contract accepts anchors from, and the Ed25519 key it names.
    pub fn ledger(&self) -> Result<(Address, [u8; 32])> {
        let account = self.call(IMedproofAnchor::ledgerCall {})?;
        let key = self.call(IMedproofAnchor::ledgerKeyCall {})?;
        Ok((account, key.0))
    }

    /// Posts `checkpoint` from `signer`'s account and waits until it is mined.
    pub fn post(&self, signer: &PrivateKeySigner, checkpoint: &Checkpoint) -> Result<Posted> {
        let input = IMedproofAnchor::anchorCall {
            c: anchor_checkpoint(checkpoint),
            signature: Bytes::copy_from_slice(&checkpoint.signature),
        }
        .abi_encode();
        let from = signer.address();
        let data = format!("0x{}", hex::encode(&input));
        let chain_id = self.quantity("eth_chainId", json!([]))?;
        let nonce = self.quantity(
            "eth_getTransactionCount",
            json!([from.to_string(), "pending"]),
        )?;
        // A refusal (another account, an old seq) shows here, decoded, before any fee.
        let gas = self.quantity(
            "eth_estimateGas",
            json!([{"from": from.to_string(), "to": self.contract.to_string(), "data": data}]),
        )?;
        let block = self.rpc("eth_getBlockByNumber", json!(["latest", false]))?;
        let base_fee = parse_quantity(&block["baseFeePerGas"]).unwrap_or(0);
        let priority = self
            .quantity("eth_maxPriorityFeePerGas", json!([]))
            .unwrap_or(1_000_000_000);
        let mut tx = TxEip1559 {
            chain_id: u64::try_from(chain_id).context("eth_chainId: out of range")?,
            nonce: u64::try_from(nonce).context("eth_getTransactionCount: out of range")?,
            // A margin over the estimate: storage refunds and warm slots can move it.
            gas_limit: u64::try_from(gas.saturating_mul(5) / 4).unwrap_or(u64::MAX),
            max_fee_per_gas: base_fee.saturating_mul(2).saturating_add(priority),
            max_priority_fee_per_gas: priority,
            to: TxKind::Call(self.contract),
            value: U256::ZERO,
            access_list: Default::default(),
            input: input.into(),
        };
        let signature = signer
            .sign_transaction_sync(&mut tx)
            .map_err(|e| anyhow!("cannot sign the transaction: {e}"))?;
        let envelope: TxEnvelope = tx.into_signed(signature).into();
        let raw = format!("0x{}", hex::encode(envelope.encoded_2718()));
        let hash = self.rpc("eth_sendRawTransaction", json!([raw]))?;
        let hash: B256 = hash
            .as_str()
            .and_then(|h| h.parse().ok())
            .ok_or_else(|| anyhow!("eth_sendRawTransaction: not a hash: {hash}"))?;
        let receipt = self.wait_for_receipt(hash)?;
        if receipt["status"].as_str() != Some("0x1") {
            bail!(
                "transaction {hash} anchoring seq {} was mined but failed",
                checkpoint.seq
            );
        }
        Ok(Posted {
            seq: checkpoint.seq,
            tx: hash,
            gas_used: parse_quantity(&receipt["gasUsed"]).unwrap_or(0) as u64,
            block: parse_quantity(&receipt["blockNumber"]).unwrap_or(0) as u64,
        })
    }

    fn wait_for_receipt(&self, hash: B256) -> Result<Value> {
        let start = Instant::now();
        loop {
            let receipt = self.rpc(
                "eth_getTransactionReceipt",
                json!([format!("0x{}", hex::encode(hash))]),
            )?;
            if !receipt.is_null() {
                return Ok(receipt);
            }
            if start.elapsed() > self.receipt_timeout {
                bail!(
                    "transaction {hash} was not mined within {} s; it may still be",
                    self.receipt_timeout.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Checks that `checkpoint` is anchored at its seq, with the same signed fields.
    pub fn check(&self, checkpoint: &Checkpoint) -> Result<Anchored, AnchorMismatch> {
        let anchored = self
            .anchored(checkpoint.seq)
            .map_err(|e| AnchorMismatch::Unreachable(format!("{e:#}")))?
            .ok_or(AnchorMismatch::NotAnchored(checkpoint.seq))?;
        if anchored.digest != checkpoint_digest(checkpoint) {
            return Err(AnchorMismatch::Different(checkpoint.seq));
        }
        Ok(anchored)
    }
}

/// Why a checkpoint does not match the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorMismatch {
    /// The contract holds nothing at that seq.
    #[error("checkpoint {0} is not anchored on chain")]
    NotAnchored(u64),
    /// The contract holds another checkpoint at that seq: a fork or a rollback.
    #[error(
        "the chain anchors another checkpoint at seq {0}: the ledger forked or was rolled back"
    )]
    Different(u64),
    /// The endpoint could not be asked.
    #[error("cannot read the anchor: {0}")]
    Unreachable(String),
}

/// A JSON-RPC quantity (`"0x..."`).
fn parse_quantity(v: &Value) -> Option<u128> {
    let s = v.as_str()?.strip_prefix("0x")?;
    u128::from_str_radix(s, 16).ok()
}

/// Which of the ledger's checkpoints to post: those after `anchored` (the latest
/// anchored seq) whose number (1 for the first checkpoint) is a multiple of `every`.
/// `history` is every checkpoint's seq, oldest first.
pub fn to_post(history: &[u64], anchored: Option<u64>, every: u64) -> Vec<u64> {
    let every = every.max(1);
    history
        .iter()
        .enumerate()
        .filter(|(i, seq)| {
            (*i as u64 + 1).is_multiple_of(every) && anchored.is_none_or(|a| **seq > a)
        })
        .map(|(_, seq)| *seq)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::SolError;

    #[test]
    fn checkpoints_to_post() {
        let history = [3, 5, 9, 12, 20];
        assert_eq!(to_post(&history, None, 1), vec![3, 5, 9, 12, 20]);
        assert_eq!(to_post(&history, Some(9), 1), vec![12, 20]);
        assert_eq!(to_post(&history, None, 2), vec![5, 12]);
        assert_eq!(to_post(&history, Some(5), 2), vec![12]);
        assert_eq!(to_post(&history, Some(20), 1), Vec::<u64>::new());
        assert_eq!(to_post(&history, None, 0), to_post(&history, None, 1));
    }

    #[test]
    fn reverts_are_named() {
        let data = IMedproofAnchor::SeqNotIncreasing { latest: 9, seq: 5 }.abi_encode();
        let reason = revert_reason(&format!("0x{}", hex::encode(data))).unwrap();
        assert!(
            reason.contains("seq 5 is not above the latest anchored, 9"),
            "{reason}"
        );
        let data = IMedproofAnchor::NotLedger {}.abi_encode();
        assert!(revert_reason(&hex::encode(data))
            .unwrap()
            .starts_with("NotLedger"));
        assert_eq!(revert_reason("0x08c379a0"), None);
        assert_eq!(revert_reason("not hex"), None);
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity(&json!("0x1a")), Some(26));
        assert_eq!(parse_quantity(&json!("26")), None);
        assert_eq!(parse_quantity(&json!(26)), None);
    }

    #[test]
    fn a_key_file_round_trips_and_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eth.key");
        let address = create_key(&path).unwrap();
        assert_eq!(load_key(&path).unwrap().address(), address);
        // Never over an existing key.
        assert!(create_key(&path).is_err());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_key(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        let other = dir.path().join("bad.key");
        fs::write(&other, "0x1234\n").unwrap();
        fs::set_permissions(&other, fs::Permissions::from_mode(0o600)).unwrap();
        let err = load_key(&other).unwrap_err().to_string();
        assert!(err.contains("64 hex digits"), "{err}");
        assert!(!err.contains("1234"), "the key is not echoed: {err}");
    }
}
