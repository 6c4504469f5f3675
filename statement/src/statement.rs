//! The statements medproof proves, and their typed public inputs.
//!
//! Each statement has one public-input struct with private fields, a validating
//! constructor, and one `to_field_elements()` whose order is fixed by named constants.
//! The circuit allocates its public inputs in that same order; the verifier builds the
//! input vector from the struct, never from an array a client sent.

use std::collections::BTreeMap;

use crate::field::{fr_from_decimal, fr_to_decimal, FieldError};
use crate::Fr;

/// A statement medproof can prove, with the version of its circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Statement {
    /// "A record with this category is in the ledger's records tree."
    RecordInclusion,
    /// "This provider holds a valid, unrevoked consent for this category and purpose
    /// now, from the patient whose record this is."
    AccessAuthorization,
    /// "This claim, for this amount, meets this policy, and its record is on the ledger."
    ClaimCompliance,
}

/// Which of a checkpoint's roots a statement's proof is made against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerRoot {
    /// The records tree root.
    Records,
    /// The consents tree root.
    Consents,
}

impl Statement {
    /// Every statement, in a fixed order.
    pub const ALL: [Statement; 3] = [
        Statement::RecordInclusion,
        Statement::AccessAuthorization,
        Statement::ClaimCompliance,
    ];

    /// The statement's stable name, as it appears in bundles, manifests and the CLI.
    pub const fn name(self) -> &'static str {
        match self {
            Statement::RecordInclusion => "record-inclusion",
            Statement::AccessAuthorization => "access-authorization",
            Statement::ClaimCompliance => "claim-compliance",
        }
    }

    /// The version of the circuit; bumped whenever its constraints change.
    pub const fn version(self) -> u32 {
        match self {
            // 2: leaves wrapped with the committer's key; consents bound to the granter's
            // key; claims name their provider, bind a context and their policy.
            Statement::RecordInclusion => 2,
            Statement::AccessAuthorization => 2,
            Statement::ClaimCompliance => 2,
        }
    }

    /// The names of the public inputs, in circuit order.
    pub const fn input_names(self) -> &'static [&'static str] {
        match self {
            Statement::RecordInclusion => &RecordInclusionPublic::NAMES,
            Statement::AccessAuthorization => &AccessPublic::NAMES,
            Statement::ClaimCompliance => &ClaimPublic::NAMES,
        }
    }

    /// The ledger root the proof is made against: the public input's position, and which
    /// of the checkpoint's roots it must equal.
    pub const fn root_input(self) -> (usize, LedgerRoot) {
        match self {
            Statement::RecordInclusion => {
                (RecordInclusionPublic::RECORDS_ROOT, LedgerRoot::Records)
            }
            Statement::AccessAuthorization => (AccessPublic::CONSENTS_ROOT, LedgerRoot::Consents),
            Statement::ClaimCompliance => (ClaimPublic::RECORDS_ROOT, LedgerRoot::Records),
        }
    }

    /// The position of the input that binds the proof to one request: record inclusion's
    /// and claim compliance's `binding` (the verifier's challenge), access
    /// authorization's `request_binding` (the hash of the request).
    pub const fn binding_input(self) -> usize {
        match self {
            Statement::RecordInclusion => RecordInclusionPublic::BINDING,
            Statement::AccessAuthorization => AccessPublic::REQUEST_BINDING,
            Statement::ClaimCompliance => ClaimPublic::BINDING,
        }
    }

    /// Parses named decimal inputs for this statement into the circuit-order vector,
    /// checking names and ranges.
    pub fn parse_inputs(
        self,
        values: &BTreeMap<String, String>,
    ) -> Result<Vec<Fr>, PublicInputError> {
        Ok(match self {
            Statement::RecordInclusion => {
                RecordInclusionPublic::from_named(values)?.to_field_elements()
            }
            Statement::AccessAuthorization => AccessPublic::from_named(values)?.to_field_elements(),
            Statement::ClaimCompliance => ClaimPublic::from_named(values)?.to_field_elements(),
        })
    }

    /// The statement's stable one-byte code, as the ledger's genesis entry encodes it.
    pub const fn code(self) -> u8 {
        match self {
            Statement::RecordInclusion => 1,
            Statement::AccessAuthorization => 2,
            Statement::ClaimCompliance => 3,
        }
    }

    /// Looks a statement up by its [`Statement::code`].
    pub fn from_code(code: u8) -> Option<Statement> {
        Statement::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Looks a statement up by its name.
    pub fn from_name(name: &str) -> Option<Statement> {
        Statement::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl std::fmt::Display for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a set of named public inputs does not fit a statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicInputError {
    /// An input the statement needs is absent.
    #[error("missing public input `{0}`")]
    Missing(&'static str),
    /// An input the statement does not have.
    #[error("unexpected public input `{0}`")]
    Unexpected(String),
    /// An input that is not a canonical field element.
    #[error("public input `{name}`: {source}")]
    Field {
        /// The input's name.
        name: &'static str,
        /// What is wrong with its value.
        source: FieldError,
    },
    /// An input outside the range the statement allows.
    #[error("public input `{name}` is out of range: {reason}")]
    OutOfRange {
        /// The input's name.
        name: &'static str,
        /// The allowed range.
        reason: &'static str,
    },
}

/// Public inputs of a statement, typed.
pub trait PublicInputs: Sized {
    /// The statement these inputs belong to.
    const STATEMENT: Statement;
    /// The field elements in circuit order.
    fn to_field_elements(&self) -> Vec<Fr>;
    /// Parses named decimal values, checking the exact set of names and every range.
    fn from_named(values: &BTreeMap<String, String>) -> Result<Self, PublicInputError>;
    /// Named decimal values, in circuit order, for a bundle.
    fn to_named(&self) -> BTreeMap<String, String> {
        Self::STATEMENT
            .input_names()
            .iter()
            .zip(self.to_field_elements())
            .map(|(n, x)| (n.to_string(), fr_to_decimal(&x)))
            .collect()
    }
}

/// Checks that `values` holds exactly `names` and returns the parsed field elements.
fn parse_exact<const N: usize>(
    values: &BTreeMap<String, String>,
    names: &[&'static str; N],
) -> Result<[Fr; N], PublicInputError> {
    if let Some(extra) = values.keys().find(|k| !names.contains(&k.as_str())) {
        return Err(PublicInputError::Unexpected(extra.clone()));
    }
    let mut out = [Fr::from(0u64); N];
    for (slot, name) in out.iter_mut().zip(names) {
        let raw = values.get(*name).ok_or(PublicInputError::Missing(name))?;
        *slot = fr_from_decimal(raw).map_err(|source| PublicInputError::Field { name, source })?;
    }
    Ok(out)
}

/// Public inputs of record inclusion: "a record of this category is under this root,
/// and this proof is bound to this context".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordInclusionPublic {
    records_root: Fr,
    category: u32,
    binding: Fr,
}

impl RecordInclusionPublic {
    /// Position of the records root in the input vector.
    pub const RECORDS_ROOT: usize = 0;
    /// Position of the disclosed category.
    pub const CATEGORY: usize = 1;
    /// Position of the context binding.
    pub const BINDING: usize = 2;
    /// Number of public inputs.
    pub const LEN: usize = 3;
    /// Input names, indexed by the constants above.
    pub const NAMES: [&'static str; Self::LEN] = ["records_root", "category", "binding"];

    /// Builds the inputs. Every value of these types is valid.
    pub fn new(records_root: Fr, category: u32, binding: Fr) -> Self {
        Self {
            records_root,
            category,
            binding,
        }
    }

    /// The records tree root the proof claims membership in.
    pub fn records_root(&self) -> Fr {
        self.records_root
    }

    /// The category the prover discloses.
    pub fn category(&self) -> u32 {
        self.category
    }

    /// The context the proof is bound to (e.g. a verifier's challenge).
    pub fn binding(&self) -> Fr {
        self.binding
    }
}

impl PublicInputs for RecordInclusionPublic {
    const STATEMENT: Statement = Statement::RecordInclusion;

    fn to_field_elements(&self) -> Vec<Fr> {
        let mut v = vec![Fr::from(0u64); Self::LEN];
        v[Self::RECORDS_ROOT] = self.records_root;
        v[Self::CATEGORY] = Fr::from(self.category);
        v[Self::BINDING] = self.binding;
        v
    }

    fn from_named(values: &BTreeMap<String, String>) -> Result<Self, PublicInputError> {
        let x = parse_exact(values, &Self::NAMES)?;
        let category = code_u32(&x, &Self::NAMES, Self::CATEGORY)?;
        Ok(Self::new(x[Self::RECORDS_ROOT], category, x[Self::BINDING]))
    }
}

/// Public inputs of access authorization: "the provider `provider_ref` holds a consent,
/// in the consents tree under `consents_root`, for `category` and `purpose`, valid at
/// `now`, from the patient of the record committed as `record`; this proof answers the
/// request `request_binding`". The patient is not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessPublic {
    /// The consents tree root of a signed checkpoint.
    pub consents_root: Fr,
    /// The provider the consent must be granted to.
    pub provider_ref: Fr,
    /// The record category accessed.
    pub category: u32,
    /// The purpose of the access.
    pub purpose: u32,
    /// The time of the access, Unix seconds.
    pub now: u64,
    /// A hash of the access request (who, which record, when); binds the proof to it.
    pub request_binding: Fr,
    /// The commitment of the record accessed; its presence on the ledger is checked
    /// outside the circuit.
    pub record: Fr,
}

impl AccessPublic {
    /// Position of the consents root.
    pub const CONSENTS_ROOT: usize = 0;
    /// Position of the provider's reference.
    pub const PROVIDER_REF: usize = 1;
    /// Position of the category.
    pub const CATEGORY: usize = 2;
    /// Position of the purpose.
    pub const PURPOSE: usize = 3;
    /// Position of the access time.
    pub const NOW: usize = 4;
    /// Position of the request binding.
    pub const REQUEST_BINDING: usize = 5;
    /// Position of the record commitment.
    pub const RECORD: usize = 6;
    /// Number of public inputs.
    pub const LEN: usize = 7;
    /// Input names, indexed by the constants above.
    pub const NAMES: [&'static str; Self::LEN] = [
        "consents_root",
        "provider_ref",
        "category",
        "purpose",
        "now",
        "request_binding",
        "record",
    ];
}

impl PublicInputs for AccessPublic {
    const STATEMENT: Statement = Statement::AccessAuthorization;

    fn to_field_elements(&self) -> Vec<Fr> {
        let mut v = vec![Fr::from(0u64); Self::LEN];
        v[Self::CONSENTS_ROOT] = self.consents_root;
        v[Self::PROVIDER_REF] = self.provider_ref;
        v[Self::CATEGORY] = Fr::from(self.category);
        v[Self::PURPOSE] = Fr::from(self.purpose);
        v[Self::NOW] = Fr::from(self.now);
        v[Self::REQUEST_BINDING] = self.request_binding;
        v[Self::RECORD] = self.record;
        v
    }

    fn from_named(values: &BTreeMap<String, String>) -> Result<Self, PublicInputError> {
        let x = parse_exact(values, &Self::NAMES)?;
        Ok(Self {
            consents_root: x[Self::CONSENTS_ROOT],
            provider_ref: x[Self::PROVIDER_REF],
            category: code_u32(&x, &Self::NAMES, Self::CATEGORY)?,
            purpose: code_u32(&x, &Self::NAMES, Self::PURPOSE)?,
            now: int_u64(
                &x,
                &Self::NAMES,
                Self::NOW,
                "a time is a 64-bit count of seconds",
            )?,
            request_binding: x[Self::REQUEST_BINDING],
            record: x[Self::RECORD],
        })
    }
}

/// Public inputs of claim compliance: "a claim record under `records_root`, committed by
/// the provider `provider`, for exactly `claimed_amount`, meets the policy committed as
/// `policy`; its claim id under that policy is `claim_id`; this proof answers `binding`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimPublic {
    /// The records tree root of a signed checkpoint.
    pub records_root: Fr,
    /// The policy's commitment, as published on the ledger by the insurer.
    pub policy: Fr,
    /// The amount claimed, in minor currency units (cents).
    pub claimed_amount: u64,
    /// The claim's id: derived from the policy and the claim record's blinding, so one
    /// record yields one id per policy (a second claim on it is visible, and the ledger
    /// refuses it), and the id reveals nothing about the record.
    pub claim_id: Fr,
    /// The key_ref of the provider whose key committed the claim record.
    pub provider: Fr,
    /// The context the proof is bound to (the insurer's challenge).
    pub binding: Fr,
}

impl ClaimPublic {
    /// Position of the records root.
    pub const RECORDS_ROOT: usize = 0;
    /// Position of the policy commitment.
    pub const POLICY: usize = 1;
    /// Position of the claimed amount.
    pub const CLAIMED_AMOUNT: usize = 2;
    /// Position of the claim id.
    pub const CLAIM_ID: usize = 3;
    /// Position of the committing provider's key_ref.
    pub const PROVIDER: usize = 4;
    /// Position of the binding.
    pub const BINDING: usize = 5;
    /// Number of public inputs.
    pub const LEN: usize = 6;
    /// Input names, indexed by the constants above.
    pub const NAMES: [&'static str; Self::LEN] = [
        "records_root",
        "policy",
        "claimed_amount",
        "claim_id",
        "provider",
        "binding",
    ];
}

impl PublicInputs for ClaimPublic {
    const STATEMENT: Statement = Statement::ClaimCompliance;

    fn to_field_elements(&self) -> Vec<Fr> {
        let mut v = vec![Fr::from(0u64); Self::LEN];
        v[Self::RECORDS_ROOT] = self.records_root;
        v[Self::POLICY] = self.policy;
        v[Self::CLAIMED_AMOUNT] = Fr::from(self.claimed_amount);
        v[Self::CLAIM_ID] = self.claim_id;
        v[Self::PROVIDER] = self.provider;
        v[Self::BINDING] = self.binding;
        v
    }

    fn from_named(values: &BTreeMap<String, String>) -> Result<Self, PublicInputError> {
        let x = parse_exact(values, &Self::NAMES)?;
        Ok(Self {
            records_root: x[Self::RECORDS_ROOT],
            policy: x[Self::POLICY],
            claimed_amount: int_u64(
                &x,
                &Self::NAMES,
                Self::CLAIMED_AMOUNT,
                "an amount is a 64-bit count of minor units",
            )?,
            claim_id: x[Self::CLAIM_ID],
            provider: x[Self::PROVIDER],
            binding: x[Self::BINDING],
        })
    }
}

/// The value of `x` as a `u64`, if it is one (a public input that states a time or an
/// amount).
pub fn small_u64(x: &Fr) -> Option<u64> {
    let limbs = ark_ff::PrimeField::into_bigint(*x).0;
    limbs[1..].iter().all(|&l| l == 0).then_some(limbs[0])
}

/// Input `i` as a 32-bit code.
fn code_u32(x: &[Fr], names: &[&'static str], i: usize) -> Result<u32, PublicInputError> {
    small_u64(&x[i])
        .and_then(|v| u32::try_from(v).ok())
        .ok_or(PublicInputError::OutOfRange {
            name: names[i],
            reason: "a code is a 32-bit integer",
        })
}

/// Input `i` as a 64-bit integer.
fn int_u64(
    x: &[Fr],
    names: &[&'static str],
    i: usize,
    reason: &'static str,
) -> Result<u64, PublicInputError> {
    small_u64(&x[i]).ok_or(PublicInputError::OutOfRange {
        name: names[i],
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn codes_and_names_are_distinct_and_round_trip() {
        for s in Statement::ALL {
            assert_eq!(Statement::from_code(s.code()), Some(s));
            assert_eq!(Statement::from_name(s.name()), Some(s));
        }
        let codes: std::collections::BTreeSet<u8> =
            Statement::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes.len(), Statement::ALL.len());
        assert_eq!(Statement::from_code(0), None);
        assert_eq!(Statement::from_code(4), None);
    }

    #[test]
    fn record_inclusion_roundtrip_keeps_order() {
        let p = RecordInclusionPublic::new(Fr::from(11u64), 7, Fr::from(13u64));
        let v = p.to_field_elements();
        assert_eq!(v, vec![Fr::from(11u64), Fr::from(7u64), Fr::from(13u64)]);
        assert_eq!(RecordInclusionPublic::from_named(&p.to_named()), Ok(p));
    }

    #[test]
    fn record_inclusion_rejects_bad_sets() {
        let ok = [("records_root", "1"), ("category", "2"), ("binding", "3")];
        assert!(RecordInclusionPublic::from_named(&named(&ok)).is_ok());
        assert_eq!(
            RecordInclusionPublic::from_named(&named(&ok[..2])),
            Err(PublicInputError::Missing("binding"))
        );
        let mut extra = named(&ok);
        extra.insert("patient".into(), "4".into());
        assert_eq!(
            RecordInclusionPublic::from_named(&extra),
            Err(PublicInputError::Unexpected("patient".into()))
        );
        let big = named(&[
            ("records_root", "1"),
            ("category", "4294967296"),
            ("binding", "3"),
        ]);
        assert!(matches!(
            RecordInclusionPublic::from_named(&big),
            Err(PublicInputError::OutOfRange {
                name: "category",
                ..
            })
        ));
    }
}
