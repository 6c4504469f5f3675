//! Witness assembly, one function per statement: a party's openings plus what the
//! ledger holds (a Merkle path and the signed checkpoint it is against, read together)
//! make a proof request. The CLI, the service's proof jobs, the demo and the story
//! tests all assemble here. The prover checks the witness; a request assembled from an
//! opening that does not fit the ledger (a revoked consent, a record committed by
//! someone else) is refused there.

use anyhow::{anyhow, bail, Result};
use medproof_circuits::access::AccessWitness;
use medproof_circuits::claim::ClaimWitness;
use medproof_circuits::codes::{CodeSet, CODES_TREE};
use medproof_circuits::commit::{
    consent_leaf, key_ref, request_binding, ClaimOpening, ConsentOpening, PolicyOpening,
    RecordOpening,
};
use medproof_circuits::merkle::MerklePath;
use medproof_ledger::{Ledger, Store, TreeId};
use medproof_prover::{AccessRequest, ClaimRequest, RecordInclusionRequest};
use medproof_verifier::statement::{AccessPublic, ClaimPublic, RecordInclusionPublic};
use medproof_verifier::{Checkpoint, Fr};

/// The record's inclusion in the records tree, against the latest checkpoint, bound to
/// `binding` (the verifier's challenge).
pub fn record_inclusion<S: Store>(
    ledger: &Ledger<S>,
    record: RecordOpening,
    binding: Fr,
) -> Result<(RecordInclusionRequest, Checkpoint)> {
    let a = ledger
        .anchored_path(&record.commitment())?
        .ok_or_else(|| anyhow!("the record's commitment is not on the ledger"))?;
    if a.tree != TreeId::Records {
        bail!("the commitment is on the ledger, but not as a record");
    }
    let public = RecordInclusionPublic::new(a.checkpoint.records_root, record.category, binding);
    Ok((
        RecordInclusionRequest {
            public,
            record,
            committer: key_ref(&a.added_by),
            path: a.path,
        },
        a.checkpoint,
    ))
}

/// What a provider needs to prove an access: the consent the patient shared with it
/// (opening and leaf index), the patient's key and pseudonym salt, and the record.
#[derive(Clone)]
pub struct AccessOpenings {
    /// The consent's opening.
    pub consent: ConsentOpening,
    /// Its leaf index in the consents tree.
    pub consent_index: u64,
    /// The patient's (granter's) Ed25519 public key.
    pub granter: [u8; 32],
    /// The salt of the patient's pseudonym.
    pub patient_salt: Fr,
    /// The record's opening.
    pub record: RecordOpening,
}

/// Whether the consent `o` names is on the ledger as granted by `o.granter` and not
/// revoked: a service says which is wrong before it spends a prover on a witness that
/// cannot satisfy the statement (the circuit refuses it either way).
pub fn check_consent<S: Store>(ledger: &Ledger<S>, o: &AccessOpenings) -> Result<()> {
    let leaf = ledger
        .consents()
        .leaf(o.consent_index)
        .ok_or_else(|| anyhow!("there is no consent #{} on the ledger", o.consent_index))?;
    if leaf == Fr::from(0u64) {
        bail!("consent #{} was revoked", o.consent_index);
    }
    if leaf != consent_leaf(key_ref(&o.granter), o.consent.commitment()) {
        bail!(
            "consent #{} is not this consent granted by this patient's key",
            o.consent_index
        );
    }
    Ok(())
}

/// `provider`'s access to the record at `now`, answering the data holder's challenge
/// `nonce`, against the latest checkpoint.
pub fn access<S: Store>(
    ledger: &Ledger<S>,
    provider: &[u8; 32],
    o: AccessOpenings,
    now: u64,
    nonce: Fr,
) -> Result<(AccessRequest, Checkpoint)> {
    if o.consent_index >= ledger.consents().len() {
        bail!("there is no consent #{} on the ledger", o.consent_index);
    }
    let (checkpoint, path, _) = ledger.path_with_checkpoint(TreeId::Consents, o.consent_index)?;
    let record = o.record.commitment();
    let provider_ref = key_ref(provider);
    let public = AccessPublic {
        consents_root: checkpoint.consents_root,
        provider_ref,
        category: o.record.category,
        purpose: o.consent.purpose,
        now,
        request_binding: request_binding(provider_ref, record, now, nonce),
        record,
    };
    let witness = AccessWitness {
        consent: o.consent,
        granter: key_ref(&o.granter),
        patient_salt: o.patient_salt,
        path,
        record: o.record,
    };
    Ok((AccessRequest { public, witness }, checkpoint))
}

/// `provider`'s proof that `claim` (a record it committed) meets `policy` (whose
/// covered codes are `codes`), bound to the insurer's challenge `binding`, against the
/// latest checkpoint.
pub fn claim<S: Store>(
    ledger: &Ledger<S>,
    provider: &[u8; 32],
    claim: ClaimOpening,
    policy: PolicyOpening,
    codes: &CodeSet,
    binding: Fr,
) -> Result<(ClaimRequest, Checkpoint)> {
    let Some(a) = ledger
        .anchored_path(&claim.commitment())?
        .filter(|a| a.tree == TreeId::Records)
    else {
        bail!("the claim record is not on the ledger");
    };
    // A code outside the set gets no path; the request then carries an empty one, and
    // the prover refuses the witness.
    let code_path = codes.path(claim.code).unwrap_or_else(|| MerklePath {
        index: 0,
        siblings: vec![vec![Fr::from(0u64); CODES_TREE.arity() - 1]; CODES_TREE.depth()],
    });
    let policy_commitment = policy.commitment();
    let public = ClaimPublic {
        records_root: a.checkpoint.records_root,
        policy: policy_commitment,
        claimed_amount: claim.amount,
        claim_id: claim.claim_id(policy_commitment),
        provider: key_ref(provider),
        binding,
    };
    let witness = ClaimWitness {
        claim,
        record_path: a.path,
        policy,
        code_path,
    };
    Ok((ClaimRequest { public, witness }, a.checkpoint))
}
