//! The parties of medproof's stories, acting on a ledger: a registrar, a provider, a
//! patient and an insurer, each with an Ed25519 key. The patient registers itself; the
//! registrar (named in the ledger's genesis) admits the provider and the insurer.
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
use medproof_circuits::codes::CodeSet;
use medproof_circuits::commit::{
    key_ref, patient_ref, procedure_code, provider_ref, ClaimOpening, ConsentOpening,
    ContentDigest, PolicyOpening, RecordOpening,
};
use medproof_ledger::{Action, Ledger, Role, Store, Submission};
use medproof_prover::{AccessRequest, ClaimRequest};
use medproof_verifier::checkpoint::fr_to_be32;
use medproof_verifier::statement::ClaimPublic;
use medproof_verifier::{Checkpoint, Fr, ProofBundle};
use rand::{CryptoRng, RngCore};
use std::collections::HashMap;
use std::sync::Mutex;

/// A patient: a ledger key and the salt of their pseudonym.
pub struct Patient {
    /// Signs grants and revocations.
    pub key: SigningKey,
    /// `patient_ref = H(TAG_PATIENT, key_ref, salt)`; the patient shares it with the
    /// providers it consents to, who need it to prove access.
    pub salt: Fr,
}

impl Patient {
    /// A new patient with fresh secrets.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self {
            key: SigningKey::generate(rng),
            salt: Fr::rand(rng),
        }
    }

    /// The key_ref of the patient's ledger key.
    pub fn key_ref(&self) -> Fr {
        key_ref(&self.key.verifying_key().to_bytes())
    }

    /// The patient's pseudonym, derived from their ledger key.
    pub fn patient_ref(&self) -> Fr {
        patient_ref(self.key_ref(), self.salt)
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

/// How long a signed submission stays valid, in seconds of ledger time.
pub const SUBMISSION_VALIDITY_SECS: u64 = 600;

/// The parties and the ledger they act on.
pub struct Parties<S: Store> {
    /// The ledger.
    pub ledger: Ledger<S>,
    /// The registrar's key (named in the ledger's genesis).
    pub registrar: SigningKey,
    /// The provider's key.
    pub provider: SigningKey,
    /// The insurer's key.
    pub insurer: SigningKey,
    /// The patient.
    pub patient: Patient,
    /// The nonce of each access request the provider made, by its request binding: the
    /// access log entry names it, and the ledger recomputes the binding from it.
    nonces: Mutex<HashMap<[u8; 32], Fr>>,
}

impl<S: Store> Parties<S> {
    /// `action` signed by `key` for this ledger, valid for
    /// [`SUBMISSION_VALIDITY_SECS`].
    pub fn sign(&self, action: Action, key: &SigningKey) -> Result<Submission> {
        Ok(Submission::sign(
            action,
            key,
            self.ledger.envelope(SUBMISSION_VALIDITY_SECS)?,
        ))
    }

    /// New parties on `ledger`: the patient registers itself, and `registrar` admits the
    /// provider and the insurer, in one batch.
    pub fn register<R: RngCore + CryptoRng>(
        ledger: Ledger<S>,
        registrar: SigningKey,
        rng: &mut R,
    ) -> Result<Self> {
        let mut parties = Self {
            ledger,
            registrar,
            provider: SigningKey::generate(rng),
            insurer: SigningKey::generate(rng),
            patient: Patient::generate(rng),
            nonces: Mutex::new(HashMap::new()),
        };
        let admit = |key: &SigningKey, role| Action::AdmitKey {
            key: key.verifying_key().to_bytes(),
            role,
        };
        let batch = [
            parties.sign(admit(&parties.provider, Role::Provider), &parties.registrar)?,
            parties.sign(admit(&parties.insurer, Role::Insurer), &parties.registrar)?,
            parties.sign(
                Action::RegisterKey {
                    role: Role::Patient,
                },
                &parties.patient.key,
            )?,
        ];
        parties
            .ledger
            .append(&batch)
            .context("registering the parties' keys")?;
        Ok(parties)
    }

    /// The registrar admits `key` for `role` (a provider, insurer or regulator). Returns
    /// the entry's seq.
    pub fn admit(&mut self, key: &ed25519_dalek::VerifyingKey, role: Role) -> Result<u64> {
        let admit = self.sign(
            Action::AdmitKey {
                key: key.to_bytes(),
                role,
            },
            &self.registrar,
        )?;
        let receipt = self.ledger.append_one(admit).context("admitting the key")?;
        Ok(receipt.seqs[0])
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
                self.sign(
                    Action::CommitRecord {
                        commitment: o.commitment(),
                    },
                    &self.provider,
                )
            })
            .collect::<Result<_>>()?;
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
        let grant = self.sign(
            Action::GrantConsent {
                commitment: opening.commitment(),
            },
            &self.patient.key,
        )?;
        let receipt = self.ledger.append_one(grant).context("granting consent")?;
        let index = receipt.leaf_indices[0].ok_or_else(|| anyhow!("a grant adds a leaf"))?;
        Ok(GrantedConsent { opening, index })
    }

    /// The patient revokes a consent: its leaf is emptied from the next checkpoint on.
    /// Returns the receipt: the signed checkpoint that contains the revocation.
    pub fn revoke(&mut self, consent: &GrantedConsent) -> Result<Checkpoint> {
        let revoke = self.sign(
            Action::RevokeConsent {
                consent_index: consent.index,
            },
            &self.patient.key,
        )?;
        let receipt = self.ledger.append_one(revoke).context("revoking consent")?;
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
        let publish = self.sign(
            Action::PublishPolicy {
                commitment: opening.commitment(),
            },
            &self.insurer,
        )?;
        self.ledger
            .append_one(publish)
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
        let commit = self.sign(
            Action::CommitRecord {
                commitment: claim.commitment(),
            },
            &self.provider,
        )?;
        self.ledger
            .append_one(commit)
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
    /// against the latest checkpoint, with a fresh nonce (the data holder's challenge),
    /// which the provider keeps to log the access.
    pub fn access_request<R: RngCore + CryptoRng>(
        &self,
        consent: &GrantedConsent,
        record: &RecordOpening,
        now: u64,
        rng: &mut R,
    ) -> Result<(AccessRequest, Checkpoint)> {
        self.access_request_with_nonce(consent, record, now, Fr::rand(rng))
    }

    /// [`Parties::access_request`] answering the challenge `nonce`.
    pub fn access_request_with_nonce(
        &self,
        consent: &GrantedConsent,
        record: &RecordOpening,
        now: u64,
        nonce: Fr,
    ) -> Result<(AccessRequest, Checkpoint)> {
        let (request, checkpoint) = crate::assemble::access(
            &self.ledger,
            &self.provider.verifying_key().to_bytes(),
            crate::assemble::AccessOpenings {
                consent: consent.opening.clone(),
                consent_index: consent.index,
                granter: self.patient.key.verifying_key().to_bytes(),
                patient_salt: self.patient.salt,
                record: record.clone(),
            },
            now,
            nonce,
        )?;
        self.nonces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(fr_to_be32(&request.public.request_binding), nonce);
        Ok((request, checkpoint))
    }

    /// The provider's request to prove that `claim` meets `policy`, against the latest
    /// checkpoint.
    /// `binding` is the insurer's challenge.
    pub fn claim_request(
        &self,
        claim: &ClaimOpening,
        policy: &Policy,
        binding: Fr,
    ) -> Result<(ClaimRequest, Checkpoint)> {
        crate::assemble::claim(
            &self.ledger,
            &self.provider.verifying_key().to_bytes(),
            claim.clone(),
            policy.opening.clone(),
            &policy.codes,
            binding,
        )
    }

    /// The provider logs an access with its proof bundle. Returns the entry's seq.
    pub fn log_access(&mut self, bundle: &ProofBundle) -> Result<u64> {
        Ok(self.log_accesses(std::slice::from_ref(bundle))?[0])
    }

    /// The provider logs accesses in one batch, each with the nonce of its request.
    /// Returns the entries' seqs.
    pub fn log_accesses(&mut self, bundles: &[ProofBundle]) -> Result<Vec<u64>> {
        let bindings = bundles
            .iter()
            .map(|b| {
                b.public_inputs
                    .get("request_binding")
                    .and_then(|x| medproof_verifier::fr_from_decimal(x).ok())
                    .map(|x| fr_to_be32(&x))
                    .ok_or_else(|| anyhow!("not an access bundle"))
            })
            .collect::<Result<Vec<_>>>()?;
        let logged = {
            let nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
            bundles
                .iter()
                .zip(&bindings)
                .map(|(b, binding)| {
                    let nonce = nonces
                        .get(binding)
                        .copied()
                        .ok_or_else(|| anyhow!("the provider made no request with this binding"))?;
                    Ok((b.clone(), nonce))
                })
                .collect::<Result<Vec<_>>>()?
        };
        let seqs = self.log_accesses_with_nonces(&logged)?;
        // Logged: the provider no longer needs the nonces (a second log is refused).
        let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        for binding in &bindings {
            nonces.remove(binding);
        }
        Ok(seqs)
    }

    /// The provider logs accesses naming the given nonces. Returns the entries' seqs.
    pub fn log_accesses_with_nonces(&mut self, logged: &[(ProofBundle, Fr)]) -> Result<Vec<u64>> {
        let batch: Vec<Submission> = logged
            .iter()
            .map(|(b, nonce)| {
                self.sign(
                    Action::LogAccess {
                        bundle: b.to_json().into_bytes(),
                        nonce: *nonce,
                    },
                    &self.provider,
                )
            })
            .collect::<Result<_>>()?;
        let receipt = self.ledger.append(&batch).context("logging accesses")?;
        Ok(receipt.seqs)
    }

    /// The insurer, having checked a claim proof, records its claim id on the ledger
    /// (the ledger refuses the same claim id a second time). Returns the entry's seq.
    pub fn submit_claim(&mut self, bundle: &ProofBundle) -> Result<u64> {
        let decoded = bundle.decode()?;
        if decoded.statement != medproof_verifier::Statement::ClaimCompliance {
            bail!("not a claim-compliance bundle");
        }
        let submit = self.sign(
            Action::SubmitClaim {
                policy: decoded.inputs[ClaimPublic::POLICY],
                claim_id: decoded.inputs[ClaimPublic::CLAIM_ID],
            },
            &self.insurer,
        )?;
        let receipt = self
            .ledger
            .append_one(submit)
            .context("submitting the claim")?;
        Ok(receipt.seqs[0])
    }
}
