//! The ledger's rules, in one place: who may submit what. Pure: the state a rule needs
//! comes in through [`State`], and [`check`] answers with the [`Effect`] the submission
//! has, or the [`Refusal`] a user reads. `Ledger::append` and `ledger verify` both call
//! it, so what is appended and what is verified later cannot drift apart.
//!
//! | action | who may submit it | refused when |
//! | --- | --- | --- |
//! | register key | anyone, for the patient role only | the key is registered; another role (it needs a registrar) |
//! | admit key | a registrar named in the genesis | not a registrar; the key is registered; the patient role |
//! | suspend key | a registrar | not a registrar; the key is not registered, or suspended already; a patient's key (a patient's power to revoke comes from its own key, and no registrar can take it away) |
//! | commit record | an admitted provider | the commitment is on the ledger; the records tree is full |
//! | grant consent | a registered patient | the commitment is on the ledger; the consents tree is full |
//! | revoke consent | the patient whose key granted it | no such consent; granted by another key; revoked already |
//! | publish policy | an admitted insurer | the commitment is on the ledger |
//! | log access | an admitted provider | not an access proof by the signer; the binding is not the one the request's nonce gives; the binding was logged before |
//! | submit claim | the insurer that published the policy | the claim id was submitted before under that policy (an id is bound to its policy, so another insurer's submission under its own policy blocks nothing) |
//!
//! Every submission must carry a valid signature, name this ledger's id, not have
//! expired at the ledger's time, not be a replay, and come from a key that is not
//! suspended.

use std::collections::{HashMap, HashSet};

use medproof_circuits::commit::{consent_leaf, key_ref, record_leaf, request_binding};
use medproof_circuits::merkle::LEDGER_TREE;
use medproof_verifier::bundle::DecodedBundle;
use medproof_verifier::checkpoint::fr_to_be32;
use medproof_verifier::statement::AccessPublic;
use medproof_verifier::{Fr, ProofBundle, Statement};

use crate::codec::claim_key;
use crate::entry::{Action, Role, Submission};

/// Why a submission was refused. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The signature does not verify under the signer's key.
    #[error("the signature does not verify")]
    BadSignature,
    /// Signed for another ledger.
    #[error("the submission is signed for another ledger")]
    OtherLedger,
    /// Its expiry has passed.
    #[error("the submission expired at {expires}, and the ledger's time is {now}")]
    Expired {
        /// Its expiry.
        expires: u64,
        /// The ledger's time.
        now: u64,
    },
    /// This exact signed submission was taken before.
    #[error("this signed submission was already taken (replay)")]
    Replay,
    /// The signer has no registered key.
    #[error("the signer's key is not registered")]
    UnknownKey,
    /// The signer's key was suspended by a registrar.
    #[error("the signer's key is suspended")]
    Suspended,
    /// The signer's key is registered for another role.
    #[error("a {needed} key is required, the signer is registered as {found}")]
    WrongRole {
        /// The role the action needs.
        needed: &'static str,
        /// The signer's role.
        found: &'static str,
    },
    /// A key registered itself for a role that only a registrar can admit.
    #[error("a {0} key must be admitted by a registrar; only patients register themselves")]
    NeedsAdmission(&'static str),
    /// An admission or suspension by a key that is not a registrar.
    #[error("only a registrar named in the ledger's genesis may admit or suspend keys")]
    NotRegistrar,
    /// A registrar tried to admit a patient.
    #[error(
        "patients register their own keys; a registrar admits providers, insurers and regulators"
    )]
    AdmitPatient,
    /// The key is registered already.
    #[error("the key is already registered")]
    AlreadyRegistered,
    /// The key to suspend is not registered.
    #[error("the key to suspend is not registered")]
    NotRegistered,
    /// A registrar tried to suspend a patient.
    #[error("a patient's key cannot be suspended: its consents and revocations are its own")]
    SuspendPatient,
    /// The key is suspended already.
    #[error("the key is already suspended")]
    AlreadySuspended,
    /// The commitment is on the ledger already.
    #[error("the commitment is already on the ledger")]
    DuplicateCommitment,
    /// No consent at this index.
    #[error("no consent at index {0}")]
    NoSuchConsent(u64),
    /// The consent was granted by someone else.
    #[error("consent {0} was not granted by the signer")]
    NotGranter(u64),
    /// The consent is revoked already.
    #[error("consent {0} is already revoked")]
    AlreadyRevoked(u64),
    /// The access entry's bundle is not a proof bundle.
    #[error("the access entry's bundle is not a valid proof bundle: {0}")]
    BadBundle(String),
    /// The access entry's proof is not an access-authorization proof.
    #[error("an access is logged with an access-authorization proof, not a `{0}` proof")]
    NotAnAccessProof(String),
    /// The access entry's proof names another provider than its signer.
    #[error("the access proof is for another provider than the signer")]
    NotTheSignersAccess,
    /// The proof's request binding is not the hash of the request the entry names.
    #[error("the access proof's request binding is not the hash of this request (provider, record, time and nonce): it answers another request")]
    BindingMismatch,
    /// The same request binding was logged before.
    #[error("an access with this request binding was logged before: a proof answers one request")]
    DuplicateBinding,
    /// The policy of a claim was not published by the signer.
    #[error("the claim's policy was not published by the signer")]
    NotYourPolicy,
    /// The claim id was submitted before.
    #[error("this claim was submitted before: a claim is paid once")]
    ClaimAlreadySubmitted,
    /// A tree has no room left.
    #[error("the {0} tree is full")]
    TreeFull(&'static str),
}

impl Refusal {
    /// A stable, machine-readable name for the refusal (the service's `error_code`).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::BadSignature => "bad_signature",
            Refusal::OtherLedger => "other_ledger",
            Refusal::Expired { .. } => "expired",
            Refusal::Replay => "replay",
            Refusal::UnknownKey => "unknown_key",
            Refusal::Suspended => "suspended",
            Refusal::WrongRole { .. } => "wrong_role",
            Refusal::NeedsAdmission(_) => "not_admitted",
            Refusal::NotRegistrar => "not_registrar",
            Refusal::AdmitPatient => "admit_patient",
            Refusal::AlreadyRegistered => "already_registered",
            Refusal::NotRegistered => "not_registered",
            Refusal::SuspendPatient => "suspend_patient",
            Refusal::AlreadySuspended => "already_suspended",
            Refusal::DuplicateCommitment => "duplicate_commitment",
            Refusal::NoSuchConsent(_) => "no_such_consent",
            Refusal::NotGranter(_) => "not_granter",
            Refusal::AlreadyRevoked(_) => "already_revoked",
            Refusal::BadBundle(_) => "bad_bundle",
            Refusal::NotAnAccessProof(_) => "not_an_access_proof",
            Refusal::NotTheSignersAccess => "not_the_signers_access",
            Refusal::BindingMismatch => "binding_mismatch",
            Refusal::DuplicateBinding => "duplicate_binding",
            Refusal::NotYourPolicy => "not_your_policy",
            Refusal::ClaimAlreadySubmitted => "claim_already_submitted",
            Refusal::TreeFull(_) => "tree_full",
        }
    }
}

/// A registered key's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyStatus {
    /// Its role.
    pub role: Role,
    /// Whether a registrar suspended it.
    pub suspended: bool,
}

/// A consent's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentStatus {
    /// The key that granted it.
    pub granter: [u8; 32],
    /// Whether it was revoked.
    pub revoked: bool,
}

/// What the rules need to know about the ledger.
pub trait State {
    /// The ledger's id (the genesis hash).
    fn ledger_id(&self) -> [u8; 32];
    /// Whether `key` is a registrar named in the genesis.
    fn is_registrar(&self, key: &[u8; 32]) -> bool;
    /// A registered key's standing.
    fn key(&self, key: &[u8; 32]) -> Option<KeyStatus>;
    /// Whether a signed submission with this replay id was taken.
    fn seen(&self, replay_id: &[u8; 32]) -> bool;
    /// Whether the commitment is on the ledger (in any tree or as a policy).
    fn has_commitment(&self, commitment: &Fr) -> bool;
    /// Leaves in the records tree.
    fn records_len(&self) -> u64;
    /// Leaves in the consents tree.
    fn consents_len(&self) -> u64;
    /// The consent at `index`.
    fn consent(&self, index: u64) -> Option<ConsentStatus>;
    /// The key that published `policy`, if it is a published policy.
    fn policy_publisher(&self, policy: &Fr) -> Option<[u8; 32]>;
    /// Whether an access with this request binding was logged.
    fn binding_logged(&self, binding: &Fr) -> bool;
    /// Whether this claim id was submitted under this policy.
    fn claim_submitted(&self, policy: &Fr, claim_id: &Fr) -> bool;
}

/// What an accepted submission does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A key joins with a role.
    Register {
        /// The key.
        key: [u8; 32],
        /// Its role.
        role: Role,
    },
    /// A key is suspended.
    Suspend {
        /// The key.
        key: [u8; 32],
    },
    /// A record joins the records tree, wrapped with its committer's key.
    Record {
        /// The record commitment.
        commitment: Fr,
        /// The leaf: `H(TAG_RECORD_LEAF, committer key_ref, commitment)`.
        leaf: Fr,
    },
    /// A consent joins the consents tree, wrapped with its granter's key.
    Consent {
        /// The consent commitment.
        commitment: Fr,
        /// The leaf: `H(TAG_CONSENT_LEAF, granter key_ref, commitment)`.
        leaf: Fr,
        /// The granter.
        granter: [u8; 32],
    },
    /// A consent's leaf is emptied.
    Revoke {
        /// Its index.
        index: u64,
    },
    /// A policy is published.
    Policy {
        /// Its commitment.
        commitment: Fr,
    },
    /// An access is logged.
    Access {
        /// Its request binding.
        binding: Fr,
        /// The record accessed.
        record: Fr,
    },
    /// A claim is submitted.
    Claim {
        /// The policy it was made under.
        policy: Fr,
        /// Its id.
        claim_id: Fr,
    },
}

fn require(status: Option<KeyStatus>, needed: Role) -> Result<(), Refusal> {
    match status {
        None => Err(Refusal::UnknownKey),
        Some(k) if k.role == needed => Ok(()),
        Some(k) => Err(Refusal::WrongRole {
            needed: needed.name(),
            found: k.role.name(),
        }),
    }
}

/// What a submission determines on its own, before any state is read: its signature's
/// check, its replay id, the tree leaf it would add (wrapped with its signer's key) and,
/// for an access entry, the binding recomputed from its bundle and nonce. These are the
/// costly parts (Ed25519, Poseidon, curve-point decoding); a batch or a chain walk
/// prepares its submissions in parallel, then checks them in order with [`check`].
#[derive(Debug, Clone)]
pub struct Prepared {
    signature_ok: bool,
    replay_id: [u8; 32],
    leaf: Option<Fr>,
    access: Option<Result<AccessRef, Refusal>>,
}

impl Prepared {
    /// Prepares `s`.
    pub fn of(s: &Submission) -> Self {
        Self::with_signer_ref(s, &|| key_ref(&s.signer))
    }

    /// Prepares every submission of `batch` in parallel, computing each distinct
    /// signer's key_ref once (a batch usually comes from a few keys).
    pub fn all(batch: &[&Submission]) -> Vec<Self> {
        use rayon::prelude::*;
        let signers: HashSet<[u8; 32]> = batch.iter().map(|s| s.signer).collect();
        let refs: HashMap<[u8; 32], Fr> =
            signers.into_par_iter().map(|k| (k, key_ref(&k))).collect();
        batch
            .par_iter()
            .map(|s| Self::with_signer_ref(s, &|| refs[&s.signer]))
            .collect()
    }

    fn with_signer_ref(s: &Submission, by: &(dyn Fn() -> Fr + Sync)) -> Self {
        let (leaf, access) = match &s.action {
            Action::CommitRecord { commitment } => (Some(record_leaf(by(), *commitment)), None),
            Action::GrantConsent { commitment } => (Some(consent_leaf(by(), *commitment)), None),
            Action::LogAccess { bundle, nonce } => {
                (None, Some(access_ref(bundle, &s.signer, nonce)))
            }
            _ => (None, None),
        };
        Self {
            signature_ok: s.signature_ok(),
            replay_id: s.replay_id(),
            leaf,
            access,
        }
    }

    /// The replay id.
    pub fn replay_id(&self) -> [u8; 32] {
        self.replay_id
    }
}

/// Checks one submission, prepared by [`Prepared::of`], against the ledger's state at
/// ledger time `now`.
pub fn check(
    state: &impl State,
    s: &Submission,
    now: u64,
    prepared: &Prepared,
) -> Result<Effect, Refusal> {
    if !prepared.signature_ok {
        return Err(Refusal::BadSignature);
    }
    if s.envelope.ledger_id != state.ledger_id() {
        return Err(Refusal::OtherLedger);
    }
    if s.envelope.expires < now {
        return Err(Refusal::Expired {
            expires: s.envelope.expires,
            now,
        });
    }
    let replay_id = &prepared.replay_id;
    if state.seen(replay_id) {
        return Err(Refusal::Replay);
    }
    let status = state.key(&s.signer);
    if status.is_some_and(|k| k.suspended) {
        return Err(Refusal::Suspended);
    }
    let unique = |c: &Fr| {
        if state.has_commitment(c) {
            Err(Refusal::DuplicateCommitment)
        } else {
            Ok(())
        }
    };
    Ok(match &s.action {
        Action::RegisterKey { role } => {
            if status.is_some() || state.is_registrar(&s.signer) {
                return Err(Refusal::AlreadyRegistered);
            }
            if *role != Role::Patient {
                return Err(Refusal::NeedsAdmission(role.name()));
            }
            Effect::Register {
                key: s.signer,
                role: *role,
            }
        }
        Action::AdmitKey { key, role } => {
            if !state.is_registrar(&s.signer) {
                return Err(Refusal::NotRegistrar);
            }
            if *role == Role::Patient {
                return Err(Refusal::AdmitPatient);
            }
            if state.key(key).is_some() || state.is_registrar(key) {
                return Err(Refusal::AlreadyRegistered);
            }
            Effect::Register {
                key: *key,
                role: *role,
            }
        }
        Action::SuspendKey { key } => {
            if !state.is_registrar(&s.signer) {
                return Err(Refusal::NotRegistrar);
            }
            match state.key(key) {
                None => return Err(Refusal::NotRegistered),
                Some(k) if k.role == Role::Patient => return Err(Refusal::SuspendPatient),
                Some(k) if k.suspended => return Err(Refusal::AlreadySuspended),
                Some(_) => {}
            }
            Effect::Suspend { key: *key }
        }
        Action::CommitRecord { commitment } => {
            require(status, Role::Provider)?;
            unique(commitment)?;
            if state.records_len() >= LEDGER_TREE.capacity() {
                return Err(Refusal::TreeFull("records"));
            }
            Effect::Record {
                commitment: *commitment,
                leaf: prepared
                    .leaf
                    .unwrap_or_else(|| record_leaf(key_ref(&s.signer), *commitment)),
            }
        }
        Action::GrantConsent { commitment } => {
            require(status, Role::Patient)?;
            unique(commitment)?;
            if state.consents_len() >= LEDGER_TREE.capacity() {
                return Err(Refusal::TreeFull("consents"));
            }
            Effect::Consent {
                commitment: *commitment,
                leaf: prepared
                    .leaf
                    .unwrap_or_else(|| consent_leaf(key_ref(&s.signer), *commitment)),
                granter: s.signer,
            }
        }
        Action::RevokeConsent { consent_index } => {
            require(status, Role::Patient)?;
            let i = *consent_index;
            let c = state.consent(i).ok_or(Refusal::NoSuchConsent(i))?;
            if c.granter != s.signer {
                return Err(Refusal::NotGranter(i));
            }
            if c.revoked {
                return Err(Refusal::AlreadyRevoked(i));
            }
            Effect::Revoke { index: i }
        }
        Action::PublishPolicy { commitment } => {
            require(status, Role::Insurer)?;
            unique(commitment)?;
            Effect::Policy {
                commitment: *commitment,
            }
        }
        Action::LogAccess { bundle, nonce } => {
            require(status, Role::Provider)?;
            let access = match &prepared.access {
                Some(a) => a.clone()?,
                None => access_ref(bundle, &s.signer, nonce)?,
            };
            if state.binding_logged(&access.binding) {
                return Err(Refusal::DuplicateBinding);
            }
            Effect::Access {
                binding: access.binding,
                record: access.record,
            }
        }
        Action::SubmitClaim { policy, claim_id } => {
            require(status, Role::Insurer)?;
            if state.policy_publisher(policy) != Some(s.signer) {
                return Err(Refusal::NotYourPolicy);
            }
            if state.claim_submitted(policy, claim_id) {
                return Err(Refusal::ClaimAlreadySubmitted);
            }
            Effect::Claim {
                policy: *policy,
                claim_id: *claim_id,
            }
        }
    })
}

/// What an access entry names: the request binding its proof answers and the record it
/// accessed (the proof's public record commitment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessRef {
    /// The request binding.
    pub binding: Fr,
    /// The accessed record's commitment.
    pub record: Fr,
}

/// Checks an access entry's bundle: a well-formed access-authorization proof bundle, for
/// the provider that signs the entry, whose request binding is the hash of the request
/// the entry names (that provider, the proof's record and time, and `nonce`). Returns
/// the binding and the record. The proof itself is checked by verifiers and the audit.
pub fn access_ref(bundle: &[u8], signer: &[u8; 32], nonce: &Fr) -> Result<AccessRef, Refusal> {
    // An entry holds at most this much bundle; a larger one would be written and then
    // never decode, closing the ledger.
    if bundle.len() > crate::entry::MAX_BUNDLE_BYTES {
        return Err(Refusal::BadBundle(format!(
            "{} bytes, larger than the {} an entry holds",
            bundle.len(),
            crate::entry::MAX_BUNDLE_BYTES
        )));
    }
    let text = std::str::from_utf8(bundle).map_err(|_| Refusal::BadBundle("not UTF-8".into()))?;
    let decoded = ProofBundle::from_json(text)
        .and_then(|b| b.decode())
        .map_err(|e| Refusal::BadBundle(e.to_string()))?;
    decoded_access_ref(&decoded, signer, nonce)
}

/// [`access_ref`] for a bundle already decoded.
pub fn decoded_access_ref(
    decoded: &DecodedBundle,
    signer: &[u8; 32],
    nonce: &Fr,
) -> Result<AccessRef, Refusal> {
    if decoded.statement != Statement::AccessAuthorization {
        return Err(Refusal::NotAnAccessProof(decoded.statement.name().into()));
    }
    let provider = key_ref(signer);
    let inputs = &decoded.inputs;
    if inputs[AccessPublic::PROVIDER_REF] != provider {
        return Err(Refusal::NotTheSignersAccess);
    }
    let now = decoded
        .now()
        .ok_or_else(|| Refusal::BadBundle("no time".into()))?;
    let expected = request_binding(provider, inputs[AccessPublic::RECORD], now, *nonce);
    if inputs[AccessPublic::REQUEST_BINDING] != expected {
        return Err(Refusal::BindingMismatch);
    }
    Ok(AccessRef {
        binding: expected,
        record: inputs[AccessPublic::RECORD],
    })
}

/// A state with the effects of the submissions before it in a batch laid over it, so
/// that a batch is checked whole before anything is written.
pub struct Pending<'a, S: State> {
    base: &'a S,
    keys: HashMap<[u8; 32], KeyStatus>,
    seen: HashSet<[u8; 32]>,
    commitments: HashSet<[u8; 32]>,
    records: u64,
    consents: Vec<[u8; 32]>,
    revoked: HashSet<u64>,
    policies: HashMap<[u8; 32], [u8; 32]>,
    bindings: HashSet<[u8; 32]>,
    claims: HashSet<[u8; 64]>,
}

impl<'a, S: State> Pending<'a, S> {
    /// Nothing pending over `base`.
    pub fn new(base: &'a S) -> Self {
        Self {
            base,
            keys: HashMap::new(),
            seen: HashSet::new(),
            commitments: HashSet::new(),
            records: 0,
            consents: Vec::new(),
            revoked: HashSet::new(),
            policies: HashMap::new(),
            bindings: HashSet::new(),
            claims: HashSet::new(),
        }
    }

    /// Records an accepted submission's effect.
    pub fn apply(&mut self, effect: &Effect, signer: &[u8; 32], replay_id: [u8; 32]) {
        self.seen.insert(replay_id);
        match effect {
            Effect::Register { key, role } => {
                self.keys.insert(
                    *key,
                    KeyStatus {
                        role: *role,
                        suspended: false,
                    },
                );
            }
            Effect::Suspend { key } => {
                if let Some(k) = self.key(key) {
                    self.keys.insert(
                        *key,
                        KeyStatus {
                            suspended: true,
                            ..k
                        },
                    );
                }
            }
            Effect::Record { commitment, .. } => {
                self.commitments.insert(fr_to_be32(commitment));
                self.records += 1;
            }
            Effect::Consent {
                commitment,
                granter,
                ..
            } => {
                self.commitments.insert(fr_to_be32(commitment));
                self.consents.push(*granter);
            }
            Effect::Revoke { index } => {
                self.revoked.insert(*index);
            }
            Effect::Policy { commitment } => {
                let c = fr_to_be32(commitment);
                self.commitments.insert(c);
                self.policies.insert(c, *signer);
            }
            Effect::Access { binding, .. } => {
                self.bindings.insert(fr_to_be32(binding));
            }
            Effect::Claim { policy, claim_id } => {
                self.claims.insert(claim_key(policy, claim_id));
            }
        }
    }
}

impl<S: State> State for Pending<'_, S> {
    fn ledger_id(&self) -> [u8; 32] {
        self.base.ledger_id()
    }
    fn is_registrar(&self, key: &[u8; 32]) -> bool {
        self.base.is_registrar(key)
    }
    fn key(&self, key: &[u8; 32]) -> Option<KeyStatus> {
        self.keys.get(key).copied().or_else(|| self.base.key(key))
    }
    fn seen(&self, replay_id: &[u8; 32]) -> bool {
        self.seen.contains(replay_id) || self.base.seen(replay_id)
    }
    fn has_commitment(&self, c: &Fr) -> bool {
        self.commitments.contains(&fr_to_be32(c)) || self.base.has_commitment(c)
    }
    fn records_len(&self) -> u64 {
        self.base.records_len() + self.records
    }
    fn consents_len(&self) -> u64 {
        self.base.consents_len() + self.consents.len() as u64
    }
    fn consent(&self, index: u64) -> Option<ConsentStatus> {
        let known = self.base.consents_len();
        let status = if index < known {
            self.base.consent(index)?
        } else {
            ConsentStatus {
                granter: *self.consents.get(usize::try_from(index - known).ok()?)?,
                revoked: false,
            }
        };
        Some(ConsentStatus {
            revoked: status.revoked || self.revoked.contains(&index),
            ..status
        })
    }
    fn policy_publisher(&self, policy: &Fr) -> Option<[u8; 32]> {
        self.policies
            .get(&fr_to_be32(policy))
            .copied()
            .or_else(|| self.base.policy_publisher(policy))
    }
    fn binding_logged(&self, b: &Fr) -> bool {
        self.bindings.contains(&fr_to_be32(b)) || self.base.binding_logged(b)
    }
    fn claim_submitted(&self, policy: &Fr, id: &Fr) -> bool {
        self.claims.contains(&claim_key(policy, id)) || self.base.claim_submitted(policy, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Envelope;
    use ed25519_dalek::SigningKey;

    /// An empty ledger with one registrar.
    struct Empty;

    const ID: [u8; 32] = [7; 32];

    fn registrar() -> SigningKey {
        SigningKey::from_bytes(&[1; 32])
    }

    impl State for Empty {
        fn ledger_id(&self) -> [u8; 32] {
            ID
        }
        fn is_registrar(&self, key: &[u8; 32]) -> bool {
            *key == registrar().verifying_key().to_bytes()
        }
        fn key(&self, _: &[u8; 32]) -> Option<KeyStatus> {
            None
        }
        fn seen(&self, _: &[u8; 32]) -> bool {
            false
        }
        fn has_commitment(&self, _: &Fr) -> bool {
            false
        }
        fn records_len(&self) -> u64 {
            0
        }
        fn consents_len(&self) -> u64 {
            0
        }
        fn consent(&self, _: u64) -> Option<ConsentStatus> {
            None
        }
        fn policy_publisher(&self, _: &Fr) -> Option<[u8; 32]> {
            None
        }
        fn binding_logged(&self, _: &Fr) -> bool {
            false
        }
        fn claim_submitted(&self, _: &Fr, _: &Fr) -> bool {
            false
        }
    }

    const NOW: u64 = 1_000;

    fn signed(action: Action, key: &SigningKey) -> Submission {
        Submission::sign(
            action,
            key,
            Envelope {
                ledger_id: ID,
                expires: NOW + 60,
            },
        )
    }

    /// Runs `subs` through the rules as one batch; returns each result.
    fn run(subs: &[Submission]) -> Vec<Result<Effect, Refusal>> {
        let base = Empty;
        let mut p = Pending::new(&base);
        subs.iter()
            .map(|s| {
                let prepared = Prepared::of(s);
                let r = check(&p, s, NOW, &prepared);
                if let Ok(e) = &r {
                    p.apply(e, &s.signer, prepared.replay_id());
                }
                r
            })
            .collect()
    }

    fn last(subs: &[Submission]) -> Result<Effect, Refusal> {
        run(subs).pop().unwrap()
    }

    fn admit(key: &SigningKey, role: Role) -> Submission {
        signed(
            Action::AdmitKey {
                key: key.verifying_key().to_bytes(),
                role,
            },
            &registrar(),
        )
    }

    #[test]
    fn envelope_rules() {
        let patient = SigningKey::from_bytes(&[2; 32]);
        let reg = Action::RegisterKey {
            role: Role::Patient,
        };
        assert!(last(&[signed(reg.clone(), &patient)]).is_ok());
        let elsewhere = Submission::sign(
            reg.clone(),
            &patient,
            Envelope {
                ledger_id: [8; 32],
                expires: NOW,
            },
        );
        assert_eq!(last(&[elsewhere]), Err(Refusal::OtherLedger));
        let expired = Submission::sign(
            reg.clone(),
            &patient,
            Envelope {
                ledger_id: ID,
                expires: NOW - 1,
            },
        );
        assert!(matches!(last(&[expired]), Err(Refusal::Expired { .. })));
        let s = signed(reg.clone(), &patient);
        assert_eq!(last(&[s.clone(), s.clone()]), Err(Refusal::Replay));
        let mut bad = s;
        bad.signature[0] ^= 1;
        assert_eq!(last(&[bad]), Err(Refusal::BadSignature));
    }

    #[test]
    fn only_patients_register_themselves_and_registrars_admit_the_rest() {
        let k = SigningKey::from_bytes(&[3; 32]);
        for role in [Role::Provider, Role::Insurer, Role::Regulator] {
            assert_eq!(
                last(&[signed(Action::RegisterKey { role }, &k)]),
                Err(Refusal::NeedsAdmission(role.name()))
            );
            assert!(last(&[admit(&k, role)]).is_ok());
            // Not by anyone else.
            let other = SigningKey::from_bytes(&[4; 32]);
            let by_other = signed(
                Action::AdmitKey {
                    key: k.verifying_key().to_bytes(),
                    role,
                },
                &other,
            );
            assert_eq!(last(&[by_other]), Err(Refusal::NotRegistrar));
        }
        assert_eq!(
            last(&[admit(&k, Role::Patient)]),
            Err(Refusal::AdmitPatient)
        );
        assert_eq!(
            last(&[admit(&k, Role::Provider), admit(&k, Role::Insurer)]),
            Err(Refusal::AlreadyRegistered)
        );
    }

    #[test]
    fn a_suspended_key_submits_nothing() {
        let provider = SigningKey::from_bytes(&[3; 32]);
        let suspend = signed(
            Action::SuspendKey {
                key: provider.verifying_key().to_bytes(),
            },
            &registrar(),
        );
        let commit = |c: u64| {
            signed(
                Action::CommitRecord {
                    commitment: Fr::from(c),
                },
                &provider,
            )
        };
        assert!(last(&[admit(&provider, Role::Provider), commit(1)]).is_ok());
        assert_eq!(
            last(&[admit(&provider, Role::Provider), suspend.clone(), commit(1)]),
            Err(Refusal::Suspended)
        );
        assert_eq!(
            last(std::slice::from_ref(&suspend)),
            Err(Refusal::NotRegistered)
        );
        // A patient's key is not the registrar's to suspend: its revocations must land.
        let patient = SigningKey::from_bytes(&[9; 32]);
        let register = signed(
            Action::RegisterKey {
                role: Role::Patient,
            },
            &patient,
        );
        let suspend_patient = signed(
            Action::SuspendKey {
                key: patient.verifying_key().to_bytes(),
            },
            &registrar(),
        );
        assert_eq!(
            last(&[register, suspend_patient]),
            Err(Refusal::SuspendPatient)
        );
        assert_eq!(
            last(&[
                admit(&provider, Role::Provider),
                suspend.clone(),
                signed(
                    Action::SuspendKey {
                        key: provider.verifying_key().to_bytes()
                    },
                    &registrar()
                )
            ]),
            Err(Refusal::AlreadySuspended)
        );
    }

    #[test]
    fn leaves_are_wrapped_with_the_signers_key_and_consents_revoked_by_their_granter() {
        let provider = SigningKey::from_bytes(&[3; 32]);
        let patient = SigningKey::from_bytes(&[5; 32]);
        let other = SigningKey::from_bytes(&[6; 32]);
        let reg = |k: &SigningKey| {
            signed(
                Action::RegisterKey {
                    role: Role::Patient,
                },
                k,
            )
        };
        let c = Fr::from(9u64);
        let record = signed(Action::CommitRecord { commitment: c }, &provider);
        match last(&[admit(&provider, Role::Provider), record.clone()]) {
            Ok(Effect::Record { leaf, .. }) => {
                assert_eq!(leaf, record_leaf(key_ref(&record.signer), c))
            }
            other => panic!("{other:?}"),
        }
        // The same commitment twice, and a patient committing a record.
        let again = signed(Action::CommitRecord { commitment: c }, &provider);
        assert_eq!(
            last(&[admit(&provider, Role::Provider), record, again]),
            Err(Refusal::DuplicateCommitment)
        );
        let by_patient = signed(Action::CommitRecord { commitment: c }, &patient);
        assert!(matches!(
            last(&[reg(&patient), by_patient]),
            Err(Refusal::WrongRole { .. })
        ));
        let grant = signed(Action::GrantConsent { commitment: c }, &patient);
        match last(&[reg(&patient), grant.clone()]) {
            Ok(Effect::Consent { leaf, granter, .. }) => {
                assert_eq!(granter, grant.signer);
                assert_eq!(leaf, consent_leaf(key_ref(&grant.signer), c));
            }
            other => panic!("{other:?}"),
        }
        let revoke = |k: &SigningKey| signed(Action::RevokeConsent { consent_index: 0 }, k);
        assert_eq!(
            last(&[reg(&patient), reg(&other), grant.clone(), revoke(&other)]),
            Err(Refusal::NotGranter(0))
        );
        assert_eq!(
            last(&[
                reg(&patient),
                grant.clone(),
                revoke(&patient),
                revoke(&patient)
            ]),
            Err(Refusal::AlreadyRevoked(0))
        );
        assert_eq!(
            last(&[reg(&patient), revoke(&patient)]),
            Err(Refusal::NoSuchConsent(0))
        );
    }

    #[test]
    fn claims_are_submitted_once_by_the_policys_insurer() {
        let insurer = SigningKey::from_bytes(&[3; 32]);
        let rival = SigningKey::from_bytes(&[4; 32]);
        let policy = Fr::from(5u64);
        let publish = signed(Action::PublishPolicy { commitment: policy }, &insurer);
        let submit = |k: &SigningKey| {
            signed(
                Action::SubmitClaim {
                    policy,
                    claim_id: Fr::from(6u64),
                },
                k,
            )
        };
        let setup = [
            admit(&insurer, Role::Insurer),
            admit(&rival, Role::Insurer),
            publish,
        ];
        let mut batch = setup.to_vec();
        batch.push(submit(&insurer));
        assert!(last(&batch).is_ok());
        batch.push(submit(&insurer));
        assert_eq!(last(&batch), Err(Refusal::ClaimAlreadySubmitted));
        let mut batch = setup.to_vec();
        batch.push(submit(&rival));
        assert_eq!(last(&batch), Err(Refusal::NotYourPolicy));
        // The rival names the same claim id under a policy of its own: that blocks
        // nothing, since an id is bound to its policy.
        let own = Fr::from(50u64);
        let mut batch = setup.to_vec();
        batch.push(signed(Action::PublishPolicy { commitment: own }, &rival));
        batch.push(signed(
            Action::SubmitClaim {
                policy: own,
                claim_id: Fr::from(6u64),
            },
            &rival,
        ));
        batch.push(submit(&insurer));
        assert!(last(&batch).is_ok());
    }
}
