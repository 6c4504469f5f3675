//! The parties of medproof's stories, acting on a ledger: a provider, a patient and an
//! insurer, each with an Ed25519 key registered for its role.
//!
//! Each action is what the party would do in production: the provider commits records
//! and claim records, the patient grants and revokes consents, the insurer publishes a
//! policy, and the provider assembles access and claim proof requests from the ledger's
//! latest checkpoint and logs its accesses. Only commitments, signatures and proof
//! bundles reach the ledger; the openings stay with the party that made them. The demo
//! and the tests tell their stories with it.

use anyhow::{anyhow, bail, Context, Result};
use ark_ff::UniformRand;
use ed25519_dalek::SigningKey;
use medproof_circuits::claim::ClaimWitness;
use medproof_circuits::codes::CodeSet;
use medproof_circuits::commit::{
    patient_ref, procedure_code, provider_ref, request_binding, ClaimOpening, ConsentOpening,
    ContentDigest, PolicyOpening, RecordOpening,
};
use medproof_ledger::{Action, Ledger, Role, Store, Submission, TreeId};
use medproof_prover::{AccessRequest, ClaimRequest};
use medproof_verifier::statement::{AccessPublic, ClaimPublic};
use medproof_verifier::{Checkpoint, Fr, ProofBundle};
use rand::{CryptoRng, RngCore};

/// A patient: a ledger key and the secret behind their pseudonym.
pub struct Patient {
    /// Signs grants and revocations.
    pub key: SigningKey,
    /// `patient_ref = H(TAG_PATIENT, secret)`.
    pub secret: Fr,
}

impl Patient {
    /// A new patient with fresh secrets.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self {
            key: SigningKey::generate(rng),
            secret: Fr::rand(rng),
        }
    }

    /// The patient's pseudonym.
    pub fn patient_ref(&self) -> Fr {
        patient_ref(self.secret)
    }
}

/// What a consent grants.
#[derive(Debug, Clone, Copy)]
pub struct ConsentTerms {
    /// Record category.
    pub category: u32,
    /// Purpose code.
    pub purpose: u32,
    /// First second of validity.
    pub valid_from: u64,
    /// Last second of validity.
    pub valid_until: u64,
}

/// A consent on the ledger: its opening (the patient shares it with the grantee) and
/// its leaf index.
#[derive(Clone)]
pub struct GrantedConsent {
    /// The opening.
    pub opening: ConsentOpening,
    /// Leaf index in the consents tree.
    pub index: u64,
}

/// A published policy: the opening the insurer gives the policyholder, and its codes.
#[derive(Clone)]
pub struct Policy {
    /// The opening.
    pub opening: PolicyOpening,
    /// The covered codes.
    pub codes: CodeSet,
}

/// The three parties and the ledger they act on.
pub struct Parties<S: Store> {
    /// The ledger.
    pub ledger: Ledger<S>,
    /// The provider's key.
    pub provider: SigningKey,
    /// The insurer's key.
    pub insurer: SigningKey,
    /// The patient.
    pub patient: Patient,
}

fn sign(action: Action, key: &SigningKey) -> Submission {
    Submission::sign(action, key)
}

impl<S: Store> Parties<S> {
    /// New parties, their keys registered on `ledger` in one batch.
    pub fn register<R: RngCore + CryptoRng>(mut ledger: Ledger<S>, rng: &mut R) -> Result<Self> {
        let provider = SigningKey::generate(rng);
        let insurer = SigningKey::generate(rng);
        let patient = Patient::generate(rng);
        let batch = [
            sign(
                Action::RegisterKey {
                    role: Role::Provider,
                },
                &provider,
            ),
            sign(
                Action::RegisterKey {
                    role: Role::Insurer,
                },
                &insurer,
            ),
            sign(
                Action::RegisterKey {
                    role: Role::Patient,
                },
                &patient.key,
            ),
        ];
        ledger
            .append(&batch)
            .context("registering the parties' keys")?;
        Ok(Self {
            ledger,
            provider,
            insurer,
            patient,
        })
    }

    /// The provider's public reference (the grantee of its consents).
    pub fn provider_ref(&self) -> Fr {
        provider_ref(&self.provider.verifying_key().to_bytes())
    }

    /// The provider commits records of the patient: `(category, resource bytes,
    /// created_at)` each. One batch, one checkpoint.
    pub fn commit_records<R: RngCore + CryptoRng>(
        &mut self,
        records: &[(u32, &[u8], u64)],
        rng: &mut R,
    ) -> Result<Vec<RecordOpening>> {
        let records: Vec<(u32, ContentDigest, u64)> = records
            .iter()
            .map(|&(category, bytes, created_at)| (category, ContentDigest::of(bytes), created_at))
            .collect();
        self.commit_records_with_digests(&records, rng)
    }

    /// The provider commits records of the patient given their content digests (e.g.
    /// from [`crate::fhir::content_digest`]): `(category, digest, created_at)` each.
    pub fn commit_records_with_digests<R: RngCore + CryptoRng>(
        &mut self,
        records: &[(u32, ContentDigest, u64)],
        rng: &mut R,
    ) -> Result<Vec<RecordOpening>> {
        let openings: Vec<RecordOpening> = records
            .iter()
            .map(|&(category, content_digest, created_at)| RecordOpening {
                patient_ref: self.patient.patient_ref(),
                category,
                content_digest,
                created_at,
                blinding: Fr::rand(rng),
            })
            .collect();
        let batch: Vec<Submission> = openings
            .iter()
            .map(|o| {
                sign(
                    Action::CommitRecord {
                        commitment: o.commitment(),
                    },
                    &self.provider,
                )
            })
            .collect();
        self.ledger.append(&batch).context("committing records")?;
        Ok(openings)
    }

    /// The patient grants the provider a consent.
    pub fn grant<R: RngCore + CryptoRng>(
        &mut self,
        terms: ConsentTerms,
        rng: &mut R,
    ) -> Result<GrantedConsent> {
        let opening = ConsentOpening {
            patient_ref: self.patient.patient_ref(),
            grantee: self.provider_ref(),
            category: terms.category,
            purpose: terms.purpose,
            valid_from: terms.valid_from,
            valid_until: terms.valid_until,
            blinding: Fr::rand(rng),
        };
        let receipt = self
            .ledger
            .append_one(sign(
                Action::GrantConsent {
                    commitment: opening.commitment(),
                },
                &self.patient.key,
            ))
            .context("granting consent")?;
        let index = receipt.leaf_indices[0].ok_or_else(|| anyhow!("a grant adds a leaf"))?;
        Ok(GrantedConsent { opening, index })
    }

    /// The patient revokes a consent: its leaf is emptied from the next checkpoint on.
    pub fn revoke(&mut self, consent: &GrantedConsent) -> Result<Checkpoint> {
        let receipt = self
            .ledger
            .append_one(sign(
                Action::RevokeConsent {
                    consent_index: consent.index,
                },
                &self.patient.key,
            ))
            .context("revoking consent")?;
        Ok(receipt.checkpoint)
    }

    /// The insurer publishes a policy covering `codes` for the patient.
    pub fn publish_policy<R: RngCore + CryptoRng>(
        &mut self,
        codes: &[&str],
        period: (u64, u64),
        limit: u64,
        rng: &mut R,
    ) -> Result<Policy> {
        let codes = CodeSet::new(codes)?;
        let opening = PolicyOpening {
            policyholder: self.patient.patient_ref(),
            codes_root: codes.root(),
            period_start: period.0,
            period_end: period.1,
            limit,
            blinding: Fr::rand(rng),
        };
        self.ledger
            .append_one(sign(
                Action::PublishPolicy {
                    commitment: opening.commitment(),
                },
                &self.insurer,
            ))
            .context("publishing the policy")?;
        Ok(Policy { opening, codes })
    }

    /// The provider commits a claim record for a service to the patient.
    pub fn commit_claim<R: RngCore + CryptoRng>(
        &mut self,
        code: &str,
        service_date: u64,
        amount: u64,
        document: &[u8],
        rng: &mut R,
    ) -> Result<ClaimOpening> {
        self.commit_claim_digest(code, service_date, amount, ContentDigest::of(document), rng)
    }

    /// [`Parties::commit_claim`] with the claim document's digest already computed.
    pub fn commit_claim_digest<R: RngCore + CryptoRng>(
        &mut self,
        code: &str,
        service_date: u64,
        amount: u64,
        content_digest: ContentDigest,
        rng: &mut R,
    ) -> Result<ClaimOpening> {
        let claim = ClaimOpening {
            patient_ref: self.patient.patient_ref(),
            code: procedure_code(code)?,
            service_date,
            amount,
            content_digest,
            blinding: Fr::rand(rng),
        };
        self.ledger
            .append_one(sign(
                Action::CommitRecord {
                    commitment: claim.commitment(),
                },
                &self.provider,
            ))
            .context("committing the claim record")?;
        Ok(claim)
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        Ok(self
            .ledger
            .latest_checkpoint()?
            .ok_or_else(|| anyhow!("the ledger has no checkpoint yet"))?
            .checkpoint)
    }

    /// The provider's request to prove access to `record` under `consent` at `now`,
    /// against the latest checkpoint.
    pub fn access_request<R: RngCore + CryptoRng>(
        &self,
        consent: &GrantedConsent,
        record: &RecordOpening,
        now: u64,
        rng: &mut R,
    ) -> Result<(AccessRequest, Checkpoint)> {
        let checkpoint = self.checkpoint()?;
        let path = self.ledger.consents().path(consent.index)?;
        let record_commitment = record.commitment();
        let provider = self.provider_ref();
        let public = AccessPublic {
            consents_root: checkpoint.consents_root,
            provider_ref: provider,
            category: record.category,
            purpose: consent.opening.purpose,
            now,
            request_binding: request_binding(provider, record_commitment, now, Fr::rand(rng)),
            record: record_commitment,
        };
        let request = AccessRequest {
            public,
            consent: consent.opening.clone(),
            path,
            record: record.clone(),
        };
        Ok((request, checkpoint))
    }

    /// The provider's request to prove that `claim` meets `policy`, against the latest
    /// checkpoint.
    pub fn claim_request(
        &self,
        claim: &ClaimOpening,
        policy: &Policy,
    ) -> Result<(ClaimRequest, Checkpoint)> {
        let checkpoint = self.checkpoint()?;
        let Some((TreeId::Records, _, Some(record_path))) =
            self.ledger.locate(&claim.commitment())?
        else {
            bail!("the claim record is not on the ledger");
        };
        // A code outside the set gets no path; the request then carries an empty one,
        // and the prover refuses the witness.
        let code_path = policy.codes.path(claim.code).unwrap_or_else(|| {
            medproof_circuits::merkle::MerklePath {
                index: 0,
                siblings: vec![Fr::from(0u64); medproof_circuits::codes::CODES_DEPTH],
            }
        });
        let public = ClaimPublic {
            records_root: checkpoint.records_root,
            policy: policy.opening.commitment(),
            claimed_amount: claim.amount,
            claim_id: claim.claim_id(),
        };
        let witness = ClaimWitness {
            claim: claim.clone(),
            record_path,
            policy: policy.opening.clone(),
            code_path,
        };
        Ok((ClaimRequest { public, witness }, checkpoint))
    }

    /// The provider logs an access with its proof bundle. Returns the entry's seq.
    pub fn log_access(&mut self, bundle: &ProofBundle) -> Result<u64> {
        Ok(self.log_accesses(std::slice::from_ref(bundle))?[0])
    }

    /// The provider logs accesses in one batch. Returns the entries' seqs.
    pub fn log_accesses(&mut self, bundles: &[ProofBundle]) -> Result<Vec<u64>> {
        let batch: Vec<Submission> = bundles
            .iter()
            .map(|b| {
                sign(
                    Action::LogAccess {
                        bundle: b.to_json().into_bytes(),
                    },
                    &self.provider,
                )
            })
            .collect();
        let receipt = self.ledger.append(&batch).context("logging accesses")?;
        Ok(receipt.seqs)
    }
}
