//! Loading refuses every kind of damaged or mismatched key directory, naming the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use medproof_params::{
    insecure_seeded_setup, insecure_seeded_setup_with, load, load_verifying_key, CeremonyEntry,
    LoadOptions, Manifest, ParamsError, Reduction,
};
use medproof_verifier::Statement;

const S: Statement = Statement::RecordInclusion;
const OK: LoadOptions = LoadOptions {
    allow_insecure: true,
};

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn fresh(base: &Path, name: &str) -> PathBuf {
    let d = base.join(name);
    copy_dir(&base.join("orig"), &d);
    d
}

fn edit_manifest(dir: &Path, f: impl FnOnce(&mut Manifest)) {
    let mut m = Manifest::read(dir).unwrap();
    f(&mut m);
    fs::write(
        dir.join("manifest.json"),
        serde_json::to_string(&m).unwrap(),
    )
    .unwrap();
}

#[test]
fn load_checks_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let manifest = insecure_seeded_setup(&base.join("orig"), &[S], 1).unwrap();
    let entry = manifest.entry(S).unwrap().clone();
    assert!(manifest.insecure);

    // Intact keys load, and both files agree.
    let keys = load(&base.join("orig"), S, OK).unwrap();
    assert_eq!(keys.verifying_key.id(), entry.vk_id);
    assert_eq!(keys.shape.num_constraints, entry.constraints);
    assert_eq!(
        load_verifying_key(&base.join("orig"), S, OK).unwrap(),
        keys.verifying_key
    );

    // Insecure keys are refused unless allowed.
    assert!(matches!(
        load(&base.join("orig"), S, LoadOptions::default()),
        Err(ParamsError::Insecure(_))
    ));

    // A missing manifest, a missing key file.
    let d = fresh(base, "no-manifest");
    fs::remove_file(d.join("manifest.json")).unwrap();
    assert!(
        matches!(load(&d, S, OK), Err(ParamsError::Missing(p)) if p.ends_with("manifest.json"))
    );
    let d = fresh(base, "no-pk");
    fs::remove_file(d.join("record-inclusion.pk")).unwrap();
    assert!(
        matches!(load(&d, S, OK), Err(ParamsError::Missing(p)) if p.ends_with("record-inclusion.pk"))
    );

    // A truncated proving key.
    let d = fresh(base, "truncated");
    let pk = d.join("record-inclusion.pk");
    let bytes = fs::read(&pk).unwrap();
    fs::write(&pk, &bytes[..bytes.len() - 10]).unwrap();
    let err = load(&d, S, OK).unwrap_err();
    assert!(
        matches!(&err, ParamsError::Size { path, .. } if path.ends_with("record-inclusion.pk")),
        "{err}"
    );

    // One altered byte in the verifying key, same size.
    let d = fresh(base, "altered");
    let vk = d.join("record-inclusion.vk");
    let mut bytes = fs::read(&vk).unwrap();
    bytes[40] ^= 1;
    fs::write(&vk, &bytes).unwrap();
    let err = load_verifying_key(&d, S, OK).unwrap_err();
    assert!(
        matches!(&err, ParamsError::Hash { path } if path.ends_with("record-inclusion.vk")),
        "{err}"
    );

    // An altered file with a manifest updated to match: the content no longer decodes
    // (or is a different key), and that is reported too.
    let d = fresh(base, "altered-consistent");
    let vk = d.join("record-inclusion.vk");
    let mut bytes = fs::read(&vk).unwrap();
    bytes[40] ^= 1;
    fs::write(&vk, &bytes).unwrap();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    edit_manifest(&d, |m| m.keys[0].verifying_key.sha256 = sha);
    let err = load_verifying_key(&d, S, OK).unwrap_err();
    assert!(
        matches!(&err, ParamsError::Decode { .. } | ParamsError::KeyId { .. }),
        "{err}"
    );

    // Keys for another circuit: digest or version mismatch.
    let d = fresh(base, "digest");
    edit_manifest(&d, |m| m.keys[0].digest = "00".repeat(32));
    assert!(matches!(load(&d, S, OK), Err(ParamsError::Digest { .. })));
    let d = fresh(base, "version");
    edit_manifest(&d, |m| m.keys[0].version += 1);
    assert!(matches!(load(&d, S, OK), Err(ParamsError::Version { .. })));

    // A manifest that is not JSON, or lacks the statement.
    let d = fresh(base, "garbage");
    fs::write(d.join("manifest.json"), "{").unwrap();
    assert!(matches!(load(&d, S, OK), Err(ParamsError::Manifest { .. })));
    let d = fresh(base, "empty");
    edit_manifest(&d, |m| m.keys.clear());
    assert!(matches!(
        load(&d, S, OK),
        Err(ParamsError::NotInManifest(_))
    ));
}

#[test]
fn keys_name_their_reduction_and_an_h_query_for_another_domain_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    // `setup` writes keys over the mixed-radix domain: 5,506 rows in 6,144 points.
    let manifest = insecure_seeded_setup(&base.join("orig"), &[S], 2).unwrap();
    let entry = manifest.entry(S).unwrap();
    assert_eq!(entry.reduction, Some(Reduction::LibsnarkMixedRadix));
    let keys = load(&base.join("orig"), S, OK).unwrap();
    assert_eq!(keys.reduction, Reduction::LibsnarkMixedRadix);
    assert_eq!(keys.proving_key.h_query.len(), 6_143);

    // The same keys under an entry naming another reduction, or none (which means
    // libsnark's over a power of two, as entries written before the field read): the
    // H query has the wrong length for it, and loading says so.
    for (name, r) in [
        ("none", None),
        ("libsnark", Some(Reduction::Libsnark)),
        ("circom", Some(Reduction::Circom)),
    ] {
        let d = fresh(base, name);
        edit_manifest(&d, |m| m.keys[0].reduction = r);
        let err = load(&d, S, OK).unwrap_err();
        assert!(
            matches!(&err, ParamsError::Decode { reason, .. } if reason.contains("H query has 6143 points")),
            "{name}: {err}"
        );
    }

    // An entry naming a ceremony (which names its reduction) and a reduction besides:
    // which one the keys were made for is not for loading to guess.
    let d = fresh(base, "twice");
    edit_manifest(&d, |m| {
        m.keys[0].ceremony = Some(CeremonyEntry {
            reduction: Reduction::LibsnarkMixedRadix,
            circuit_hash: "00".repeat(64),
            transcript: "00".repeat(64),
            contributions: Vec::new(),
        })
    });
    let err = load(&d, S, OK).unwrap_err();
    assert!(
        matches!(&err, ParamsError::Decode { reason, .. } if reason.contains("names a reduction twice")),
        "{err}"
    );

    // Keys as `setup` wrote them before (power of two, no reduction in the entry) load
    // as libsnark's.
    let old = base.join("old");
    insecure_seeded_setup_with(&old, &[S], 2, Reduction::Libsnark).unwrap();
    edit_manifest(&old, |m| m.keys[0].reduction = None);
    let text = fs::read_to_string(old.join("manifest.json")).unwrap();
    assert!(!text.contains("reduction"), "{text}");
    let keys = load(&old, S, OK).unwrap();
    assert_eq!(keys.reduction, Reduction::Libsnark);
    assert_eq!(keys.proving_key.h_query.len(), 8_191);
}
