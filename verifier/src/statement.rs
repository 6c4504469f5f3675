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
}

impl Statement {
    /// Every statement, in a fixed order.
    pub const ALL: [Statement; 1] = [Statement::RecordInclusion];

    /// The statement's stable name, as it appears in bundles, manifests and the CLI.
    pub const fn name(self) -> &'static str {
        match self {
            Statement::RecordInclusion => "record-inclusion",
        }
    }

    /// The version of the circuit; bumped whenever its constraints change.
    pub const fn version(self) -> u32 {
        match self {
            Statement::RecordInclusion => 1,
        }
    }

    /// The names of the public inputs, in circuit order.
    pub const fn input_names(self) -> &'static [&'static str] {
        match self {
            Statement::RecordInclusion => &RecordInclusionPublic::NAMES,
        }
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
    /// Named decimal values, in circuit order, for a bundle.
    fn to_named(&self) -> BTreeMap<String, String>;
    /// Parses named decimal values, checking the exact set of names and every range.
    fn from_named(values: &BTreeMap<String, String>) -> Result<Self, PublicInputError>;
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

    fn to_named(&self) -> BTreeMap<String, String> {
        Self::NAMES
            .iter()
            .zip(self.to_field_elements())
            .map(|(n, x)| (n.to_string(), fr_to_decimal(&x)))
            .collect()
    }

    fn from_named(values: &BTreeMap<String, String>) -> Result<Self, PublicInputError> {
        let x = parse_exact(values, &Self::NAMES)?;
        let category = small_u32(&x[Self::CATEGORY]).ok_or(PublicInputError::OutOfRange {
            name: Self::NAMES[Self::CATEGORY],
            reason: "a category is a 32-bit code",
        })?;
        Ok(Self::new(x[Self::RECORDS_ROOT], category, x[Self::BINDING]))
    }
}

/// The value of `x` as a `u32`, if it is one.
fn small_u32(x: &Fr) -> Option<u32> {
    let limbs = ark_ff::PrimeField::into_bigint(*x).0;
    if limbs[1..].iter().any(|&l| l != 0) {
        return None;
    }
    u32::try_from(limbs[0]).ok()
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
