//! FHIR R4 in, commitments out: consents from `Consent` resources, claim records from
//! `Claim` resources, and content digests over any resource's canonical JSON.
//!
//! Only what a statement needs is read; every other element is ignored. A resource that
//! lacks a needed element, or uses one in a way medproof does not support, gets an error
//! that names the element (its FHIR path), never its value: a value may be personal data.
//!
//! | medproof | FHIR R4 `Consent` |
//! | --- | --- |
//! | (must be) | `status` = `active`, `provision.type` = `permit` |
//! | grantee | `provision.actor[0].reference.reference` (exactly one actor), else `performer[0].reference` |
//! | category | `provision.class[0].code` or `category[0].coding[0].code`, an observation-category code ([`CATEGORIES`]) |
//! | purpose | `provision.purpose[0].code` (exactly one), a v3-ActReason code ([`PURPOSES`]) |
//! | valid_from, valid_until | `provision.period.start`, `.end` (a date means its first / last second, UTC) |
//! | patient_ref | not read from the resource: the patient's own secret makes it |
//!
//! | medproof | FHIR R4 `Claim` |
//! | --- | --- |
//! | code | `item[0].productOrService.coding[0].code` (exactly one item) |
//! | service_date | `item[0].servicedDate`, else `billablePeriod.start` |
//! | amount | `total.value`, else `item[0].net.value`, in minor units (cents; at most 2 decimals) |
//! | content_digest | SHA-256 of the resource's canonical JSON |

use serde_json::Value;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

use medproof_circuits::commit::ContentDigest;

/// Record categories: FHIR observation-category codes
/// (`http://terminology.hl7.org/CodeSystem/observation-category`) and their numbers.
pub const CATEGORIES: [(&str, u32); 9] = [
    ("laboratory", 1),
    ("imaging", 2),
    ("vital-signs", 3),
    ("procedure", 4),
    ("exam", 5),
    ("therapy", 6),
    ("social-history", 7),
    ("survey", 8),
    ("activity", 9),
];

/// Purposes of use: v3-ActReason codes
/// (`http://terminology.hl7.org/CodeSystem/v3-ActReason`) and their numbers.
pub const PURPOSES: [(&str, u32); 6] = [
    ("TREAT", 1),
    ("ETREAT", 2),
    ("HPAYMT", 3),
    ("HOPERAT", 4),
    ("HRESCH", 5),
    ("PUBHLTH", 6),
];

/// The number of a category code.
pub fn category_number(code: &str) -> Option<u32> {
    CATEGORIES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The number of a purpose code.
pub fn purpose_number(code: &str) -> Option<u32> {
    PURPOSES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// Why a resource cannot be mapped. Names the element, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirError {
    /// Not JSON, or not a JSON object.
    #[error("not a FHIR resource: {0}")]
    NotJson(String),
    /// `resourceType` is not the expected one.
    #[error("resourceType: expected `{expected}`")]
    WrongType {
        /// The expected type.
        expected: &'static str,
    },
    /// A needed element is absent.
    #[error("{0}: missing")]
    Missing(String),
    /// An element has the wrong JSON type or an invalid value.
    #[error("{path}: {reason}")]
    Invalid {
        /// The element's FHIR path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A valid FHIR construct medproof does not support.
    #[error("{path}: not supported: {reason}")]
    Unsupported {
        /// The element's FHIR path.
        path: String,
        /// What is not supported.
        reason: String,
    },
}

fn invalid(path: &str, reason: impl Into<String>) -> FhirError {
    FhirError::Invalid {
        path: path.into(),
        reason: reason.into(),
    }
}

fn unsupported(path: &str, reason: impl Into<String>) -> FhirError {
    FhirError::Unsupported {
        path: path.into(),
        reason: reason.into(),
    }
}

/// Parses a resource and checks its type.
fn parse(text: &str, expected: &'static str) -> Result<Value, FhirError> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        // serde's message may quote input; keep only its position.
        FhirError::NotJson(format!("line {}, column {}", e.line(), e.column()))
    })?;
    if !v.is_object() {
        return Err(FhirError::NotJson("not a JSON object".into()));
    }
    match v.get("resourceType").and_then(Value::as_str) {
        Some(t) if t == expected => Ok(v),
        Some(_) => Err(FhirError::WrongType { expected }),
        None => Err(FhirError::Missing("resourceType".into())),
    }
}

/// The element at a dotted path (`a.b[0].c`), or `Missing`.
fn at<'a>(v: &'a Value, path: &str) -> Result<&'a Value, FhirError> {
    let mut cur = v;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        cur = cur
            .get(name)
            .ok_or_else(|| FhirError::Missing(path.into()))?;
        if let Some(i) = index {
            cur = cur.get(i).ok_or_else(|| FhirError::Missing(path.into()))?;
        }
    }
    Ok(cur)
}

fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, FhirError> {
    at(v, path)?
        .as_str()
        .ok_or_else(|| invalid(path, "expected a string"))
}

/// The first path that is present.
fn first_string<'a>(v: &'a Value, paths: &[&str]) -> Result<(&'a str, String), FhirError> {
    for p in paths {
        match string(v, p) {
            Ok(s) => return Ok((s, p.to_string())),
            Err(FhirError::Missing(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(FhirError::Missing(paths.join(" or ")))
}

/// An array element that must hold exactly one item.
fn exactly_one(v: &Value, path: &str, what: &str) -> Result<(), FhirError> {
    match at(v, path)?.as_array() {
        Some(a) if a.len() == 1 => Ok(()),
        Some(a) if a.is_empty() => Err(FhirError::Missing(format!("{path}[0]"))),
        Some(_) => Err(unsupported(
            path,
            format!("exactly one {what} is supported"),
        )),
        None => Err(invalid(path, "expected an array")),
    }
}

/// A FHIR `date` or `dateTime` as Unix seconds. A date alone is its first second
/// (`end_of_day`: its last), in UTC. A partial date (year, year-month) is refused.
pub fn fhir_time(text: &str, path: &str, end_of_day: bool) -> Result<u64, FhirError> {
    let t = if text.len() == 10 {
        let date = Date::parse(text, format_description!("[year]-[month]-[day]"))
            .map_err(|_| invalid(path, "expected a date YYYY-MM-DD or a dateTime"))?;
        let time = if end_of_day {
            Time::from_hms(23, 59, 59).map_err(|_| invalid(path, "bad time"))?
        } else {
            Time::MIDNIGHT
        };
        date.with_time(time).assume_utc()
    } else if text.len() < 10 {
        return Err(unsupported(path, "a partial date (year or year-month)"));
    } else {
        OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|_| invalid(path, "expected a dateTime with a time zone"))?
    };
    u64::try_from(t.unix_timestamp()).map_err(|_| invalid(path, "before 1970"))
}

/// The resource's canonical JSON: object keys sorted, no insignificant whitespace,
/// numbers as serde_json writes them. Two copies of a resource that differ only in key
/// order or spacing have the same canonical form, hence the same digest.
pub fn canonical_json(text: &str) -> Result<String, FhirError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| FhirError::NotJson(format!("line {}, column {}", e.line(), e.column())))?;
    // serde_json's map is ordered by key (no `preserve_order`), so this is sorted.
    serde_json::to_string(&v).map_err(|e| FhirError::NotJson(e.to_string()))
}

/// SHA-256 of the resource's canonical JSON.
pub fn content_digest(text: &str) -> Result<ContentDigest, FhirError> {
    Ok(ContentDigest(
        Sha256::digest(canonical_json(text)?.as_bytes()).into(),
    ))
}

/// What a FHIR `Consent` grants; the grantee is the FHIR reference of the provider,
/// which the caller resolves to the provider's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirConsent {
    /// The actor's reference, e.g. `Organization/hospital-a`.
    pub grantee: String,
    /// Category number.
    pub category: u32,
    /// Purpose number.
    pub purpose: u32,
    /// First second of validity.
    pub valid_from: u64,
    /// Last second of validity.
    pub valid_until: u64,
}

/// Maps a FHIR R4 `Consent` (see the module docs).
pub fn consent_from_fhir(text: &str) -> Result<FhirConsent, FhirError> {
    let v = parse(text, "Consent")?;
    if string(&v, "status")? != "active" {
        return Err(unsupported(
            "status",
            "only an active consent can be granted",
        ));
    }
    if string(&v, "provision.type")? != "permit" {
        return Err(unsupported("provision.type", "only `permit` provisions"));
    }
    let grantee = match at(&v, "provision.actor") {
        Ok(_) => {
            exactly_one(&v, "provision.actor", "actor")?;
            string(&v, "provision.actor[0].reference.reference")?
        }
        Err(FhirError::Missing(_)) => string(&v, "performer[0].reference")?,
        Err(e) => return Err(e),
    }
    .to_string();
    let (class, class_path) = first_string(
        &v,
        &["provision.class[0].code", "category[0].coding[0].code"],
    )?;
    let category = category_number(class).ok_or_else(|| {
        unsupported(
            &class_path,
            "not an observation-category code medproof knows",
        )
    })?;
    exactly_one(&v, "provision.purpose", "purpose")?;
    let purpose = purpose_number(string(&v, "provision.purpose[0].code")?).ok_or_else(|| {
        unsupported(
            "provision.purpose[0].code",
            "not a v3-ActReason code medproof knows",
        )
    })?;
    let valid_from = fhir_time(
        string(&v, "provision.period.start")?,
        "provision.period.start",
        false,
    )?;
    let valid_until = fhir_time(
        string(&v, "provision.period.end")?,
        "provision.period.end",
        true,
    )?;
    if valid_until < valid_from {
        return Err(invalid("provision.period", "ends before it starts"));
    }
    Ok(FhirConsent {
        grantee,
        category,
        purpose,
        valid_from,
        valid_until,
    })
}

/// What a FHIR `Claim` bills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirClaim {
    /// The procedure code.
    pub code: String,
    /// Date of service, Unix seconds.
    pub service_date: u64,
    /// Amount in minor units.
    pub amount: u64,
    /// Digest of the canonical JSON.
    pub content_digest: ContentDigest,
}

/// Maps a FHIR R4 `Claim` (see the module docs).
pub fn claim_from_fhir(text: &str) -> Result<FhirClaim, FhirError> {
    let v = parse(text, "Claim")?;
    exactly_one(&v, "item", "item")?;
    let code = string(&v, "item[0].productOrService.coding[0].code")?.to_string();
    medproof_circuits::commit::procedure_code(&code)
        .map_err(|e| invalid("item[0].productOrService.coding[0].code", e.to_string()))?;
    let (date, date_path) = first_string(&v, &["item[0].servicedDate", "billablePeriod.start"])?;
    let service_date = fhir_time(date, &date_path, false)?;
    let amount_path = if at(&v, "total.value").is_ok() {
        "total.value"
    } else {
        "item[0].net.value"
    };
    let amount = minor_units(at(&v, amount_path)?, amount_path)?;
    Ok(FhirClaim {
        code,
        service_date,
        amount,
        content_digest: content_digest(text)?,
    })
}

/// A FHIR decimal money value in minor units (cents): non-negative, at most two
/// decimals.
fn minor_units(v: &Value, path: &str) -> Result<u64, FhirError> {
    if let Some(u) = v.as_u64() {
        return u
            .checked_mul(100)
            .ok_or_else(|| invalid(path, "amount too large"));
    }
    let x = v
        .as_f64()
        .ok_or_else(|| invalid(path, "expected a number"))?;
    let cents = (x * 100.0).round();
    if !(0.0..1.8e19).contains(&cents) || (x * 100.0 - cents).abs() > 1e-6 {
        return Err(invalid(
            path,
            "expected a non-negative amount with at most two decimals",
        ));
    }
    Ok(cents as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONSENT: &str = include_str!("../../samples/fhir/consent.json");
    const CLAIM: &str = include_str!("../../samples/fhir/claim.json");

    #[test]
    fn sample_consent_maps() {
        let c = consent_from_fhir(CONSENT).unwrap();
        assert_eq!(c.grantee, "Organization/hospital-a");
        assert_eq!((c.category, c.purpose), (1, 1));
        assert_eq!(c.valid_from, 1_767_225_600); // 2026-01-01T00:00:00Z
        assert_eq!(c.valid_until, 1_798_761_599); // 2026-12-31T23:59:59Z
    }

    #[test]
    fn sample_claim_maps() {
        let c = claim_from_fhir(CLAIM).unwrap();
        assert_eq!(c.code, "99213");
        assert_eq!(c.amount, 12_550);
        assert_eq!(c.service_date, 1_772_323_200); // 2026-03-01
                                                   // Key order and spacing do not change the digest; a value does.
        let v: Value = serde_json::from_str(CLAIM).unwrap();
        let compact = serde_json::to_string(&v).unwrap();
        assert_eq!(content_digest(&compact).unwrap(), c.content_digest);
        let changed = CLAIM.replace("99213", "99214");
        assert_ne!(content_digest(&changed).unwrap(), c.content_digest);
    }

    /// Replaces the first occurrence of `from` (which must be present).
    fn edit(text: &str, from: &str, to: &str) -> String {
        assert!(text.contains(from), "{from}");
        text.replacen(from, to, 1)
    }

    #[test]
    fn bad_consents_name_the_element() {
        let cases = [
            (edit(CONSENT, "\"Consent\"", "\"Patient\""), "resourceType"),
            (edit(CONSENT, "\"active\"", "\"draft\""), "status"),
            (edit(CONSENT, "\"permit\"", "\"deny\""), "provision.type"),
            (
                edit(CONSENT, "\"TREAT\"", "\"FRAUD\""),
                "provision.purpose[0].code",
            ),
            (
                edit(CONSENT, "\"laboratory\"", "\"astrology\""),
                "provision.class[0].code",
            ),
            (
                edit(CONSENT, "\"2026-12-31\"", "\"2026-12\""),
                "provision.period.end",
            ),
            (
                edit(CONSENT, "\"2026-12-31\"", "\"2025-12-31\""),
                "provision.period",
            ),
            (
                edit(CONSENT, "\"2026-01-01\"", "\"tomorrow\""),
                "provision.period.start",
            ),
            (
                edit(CONSENT, "\"start\"", "\"begin\""),
                "provision.period.start",
            ),
            ("[1,2]".to_string(), "not a FHIR resource"),
            ("{\"resourceType\":".to_string(), "not a FHIR resource"),
        ];
        for (text, path) in cases {
            let e = consent_from_fhir(&text).unwrap_err().to_string();
            assert!(e.starts_with(path), "{path}: {e}");
        }
        // Two purposes: one is supported.
        let two = edit(
            CONSENT,
            "\"purpose\": [",
            "\"purpose\": [{\"system\": \"http://terminology.hl7.org/CodeSystem/v3-ActReason\", \"code\": \"HRESCH\"},",
        );
        let e = consent_from_fhir(&two).unwrap_err().to_string();
        assert!(
            e.contains("provision.purpose") && e.contains("exactly one"),
            "{e}"
        );
        // The error never carries the patient reference.
        let e = consent_from_fhir(&edit(CONSENT, "\"permit\"", "\"deny\"")).unwrap_err();
        assert!(!e.to_string().contains("Patient/"));
    }

    #[test]
    fn bad_claims_name_the_element() {
        const TOTAL: &str = "\"total\": { \"value\": 125.50";
        let cases = [
            (
                edit(CLAIM, TOTAL, "\"total\": { \"value\": 125.505"),
                "total.value",
            ),
            (
                edit(CLAIM, TOTAL, "\"total\": { \"value\": -1"),
                "total.value",
            ),
            (
                edit(CLAIM, TOTAL, "\"total\": { \"value\": \"125.50\""),
                "total.value",
            ),
            (
                edit(CLAIM, "\"2026-03-01\"", "\"2026\""),
                "item[0].servicedDate",
            ),
            (
                edit(CLAIM, "\"99213\"", "\"\""),
                "item[0].productOrService.coding[0].code",
            ),
            (edit(CLAIM, "\"Claim\"", "\"Consent\""), "resourceType"),
        ];
        for (text, path) in cases {
            let e = claim_from_fhir(&text).unwrap_err().to_string();
            assert!(e.starts_with(path), "{path}: {e}");
        }
    }
}
