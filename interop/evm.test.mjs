// medproof's Solidity verifiers on a real EVM node (anvil, started here), compiled by
// solc (WebAssembly), driven through JSON-RPC by ethers. Run by interop/evm.sh:
//   MEDPROOF=path/to/medproof MEDPROOF_EVM_WORK=DIR MEDPROOF_NPM_DIR=DIR node --test evm.test.mjs
// where DIR/data is a demo's data dir and DIR/out its bundles.
//  - for each statement a real proof verifies on chain (uncompressed and compressed);
//  - a tampered input, an input plus r, a coordinate plus q and swapped G2 limbs revert;
//  - the same bundle, valid and tampered, gets the same verdict from `medproof verify`,
//    `snarkjs groth16 verify` (through `medproof export snarkjs`) and the contract;
//  - the gas of each call, measured from transaction receipts, beside snarkjs's own
//    verifier template rendered here for the same keys (GPL-3.0: rendered at test time,
//    never committed). MEDPROOF_EVM_GAS=FILE writes the figures as JSON.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const need = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const medproof = need("MEDPROOF");
const work = need("MEDPROOF_EVM_WORK");
const npmDir = need("MEDPROOF_NPM_DIR");
const data = path.join(work, "data");
const require = createRequire(path.join(npmDir, "package.json"));
const { ethers } = require("ethers");
const solc = require("solc");
const ejs = require("ejs");
const arch = { x64: "amd64", arm64: "arm64" }[process.arch];
const anvilBin = path.join(
  path.dirname(require.resolve(`@foundry-rs/anvil-linux-${arch}/package.json`)),
  "bin",
  "anvil",
);
const snarkjsBin = path.join(npmDir, "node_modules", ".bin", "snarkjs");

// BN254's scalar field (public inputs) and base field (coordinates).
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

// One demo bundle per statement, and the index of a small public input of each.
const STATEMENTS = [
  { bundle: "record-inclusion-1.json", small: "category" },
  { bundle: "access-0.json", small: "category" },
  { bundle: "claim.json", small: "claimed_amount" },
];

let anvil;
let rpcUrl;
let provider;
let signer;
const deployed = {}; // contract name -> ethers.Contract (medproof's, gnark's template)
const snarkjsDeployed = {}; // statement -> ethers.Contract (snarkjs's template)
const gas = { verifyProof: {}, verifyCompressedProof: {}, snarkjs_verifyProof: {} };

const run = (args) => execFileSync(medproof, args, { encoding: "utf8" });
const calldataOf = (bundlePath) =>
  JSON.parse(run(["export", "calldata", bundlePath, "--data-dir", data]));

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function compile(sources) {
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(Object.entries(sources).map(([n, content]) => [n, { content }])),
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  return output.contracts;
}

async function deploy(compiled) {
  const factory = new ethers.ContractFactory(compiled.abi, compiled.evm.bytecode.object, signer);
  const contract = await factory.deploy();
  await contract.waitForDeployment();
  return contract;
}

// The name of the custom error a call reverted with (`ProofInvalid`, ...).
function revertName(contract, error) {
  const data = error?.data ?? error?.info?.error?.data;
  if (typeof data !== "string" || data === "0x") return `no revert data (${error?.shortMessage ?? error})`;
  return contract.interface.parseError(data)?.name ?? `unknown revert ${data}`;
}

async function reverts(contract, call, expected) {
  await assert.rejects(call, (error) => {
    assert.equal(revertName(contract, error), expected);
    return true;
  });
}

// Gas used by a transaction that makes the call (a view call, sent for its receipt),
// and what the call returned. The gas limit is fixed: snarkjs's verifier answers `false`
// when a precompile runs out of gas instead of reverting, so a limit from eth_estimateGas
// would measure that failure path.
async function gasUsed(contract, method, args) {
  const data = contract.interface.encodeFunctionData(method, args);
  const tx = await signer.sendTransaction({
    to: await contract.getAddress(),
    data,
    gasLimit: 3_000_000,
  });
  const receipt = await tx.wait();
  assert.equal(receipt.status, 1);
  const trace = await provider.send("debug_traceTransaction", [
    tx.hash,
    { disableStack: true, disableMemory: true, disableStorage: true },
  ]);
  assert.equal(trace.failed, false);
  return { gas: Number(receipt.gasUsed), returned: "0x" + trace.returnValue.replace(/^0x/, "") };
}

const hex32 = (x) => "0x" + x.toString(16).padStart(64, "0");

before(async () => {
  const port = await freePort();
  anvil = spawn(anvilBin, ["--port", String(port), "--silent"], { stdio: "ignore" });
  const network = ethers.Network.from(31337); // anvil's chain id
  rpcUrl = `http://127.0.0.1:${port}`;
  provider = new ethers.JsonRpcProvider(rpcUrl, network, {
    staticNetwork: network,
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await provider.getBlockNumber();
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`anvil did not answer: ${e}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  signer = await provider.getSigner(0);
  gas.hardfork = (await provider.send("anvil_nodeInfo", [])).hardFork;

  const sol = path.join(work, "sol");
  run(["export", "solidity", "--data-dir", data, "--out", sol]);
  const sources = Object.fromEntries(
    fs.readdirSync(sol).map((f) => [f, fs.readFileSync(path.join(sol, f), "utf8")]),
  );
  assert.deepEqual(Object.keys(sources).sort(), [
    "AccessAuthorizationVerifier.sol",
    "ClaimComplianceVerifier.sol",
    "MedproofAnchor.sol",
    "RecordInclusionVerifier.sol",
  ]);
  const compiled = compile(sources);
  for (const [file, contracts] of Object.entries(compiled)) {
    const name = file.replace(/\.sol$/, "");
    if (name.endsWith("Verifier")) deployed[name] = await deploy(contracts[name]);
  }

  // snarkjs's verifier template, rendered with snarkjs's own verification_key.json.
  const template = fs.readFileSync(
    path.join(npmDir, "node_modules", "snarkjs", "templates", "verifier_groth16.sol.ejs"),
    "utf8",
  );
  for (const { bundle } of STATEMENTS) {
    const dir = path.join(work, `sj-${bundle}`);
    run(["export", "snarkjs", path.join(work, "out", bundle), "--data-dir", data, "--out", dir]);
    const vk = JSON.parse(fs.readFileSync(path.join(dir, "verification_key.json"), "utf8"));
    const out = compile({ "Groth16Verifier.sol": ejs.render(template, vk) });
    snarkjsDeployed[bundle] = await deploy(out["Groth16Verifier.sol"].Groth16Verifier);
  }
});

after(() => {
  anvil?.kill();
  const file = process.env.MEDPROOF_EVM_GAS;
  if (file) fs.writeFileSync(file, JSON.stringify(gas, null, 2) + "\n");
  console.log(`gas used (transaction receipts, anvil): ${JSON.stringify(gas, null, 2)}`);
});

for (const { bundle, small } of STATEMENTS) {
  const bundlePath = () => path.join(work, "out", bundle);

  test(`${bundle}: the proof verifies on chain; its gas is measured`, async () => {
    const cd = calldataOf(bundlePath());
    const contract = deployed[cd.contract];
    assert.ok(contract, `no contract ${cd.contract}`);
    // The exported calldata, as is: selector and ABI encoding.
    assert.equal(await provider.call({ to: await contract.getAddress(), data: cd.calldata }), "0x");
    await contract.verifyProof(cd.proof, cd.input);
    await contract.verifyCompressedProof(cd.compressed_proof, cd.input);
    // The contract's own compression agrees with the export's.
    assert.deepEqual(
      (await contract.compressProof(cd.proof)).map((x) => hex32(x)),
      cd.compressed_proof,
    );
    // Both return nothing: not reverting is the answer.
    const full = await gasUsed(contract, "verifyProof", [cd.proof, cd.input]);
    const compressed = await gasUsed(contract, "verifyCompressedProof", [
      cd.compressed_proof,
      cd.input,
    ]);
    assert.equal(full.returned, "0x");
    assert.equal(compressed.returned, "0x");
    gas.verifyProof[cd.statement] = full.gas;
    gas.verifyCompressedProof[cd.statement] = compressed.gas;
  });

  test(`${bundle}: a tampered input reverts with ProofInvalid`, async () => {
    const cd = calldataOf(bundlePath());
    const contract = deployed[cd.contract];
    for (let i = 0; i < cd.input.length; i++) {
      const input = [...cd.input];
      input[i] = hex32((BigInt(input[i]) + 1n) % R);
      await reverts(contract, contract.verifyProof(cd.proof, input), "ProofInvalid");
    }
  });

  test(`${bundle}: an input plus r reverts with PublicInputNotInField`, async () => {
    const cd = calldataOf(bundlePath());
    const contract = deployed[cd.contract];
    const i = cd.input_names.indexOf(small);
    assert.ok(i >= 0);
    const value = BigInt(cd.input[i]);
    // Small enough that value + r is below q too: the EVM's ECMUL takes any 256-bit
    // scalar and reduces it, so only the contract's own range check can refuse this.
    assert.ok(value + R < Q, `${small} = ${value} is not small`);
    const input = [...cd.input];
    input[i] = hex32(value + R);
    await reverts(contract, contract.verifyProof(cd.proof, input), "PublicInputNotInField");
    await reverts(
      contract,
      contract.verifyCompressedProof(cd.compressed_proof, input),
      "PublicInputNotInField",
    );
  });

  test(`${bundle}: a coordinate plus q, and swapped G2 limbs, revert`, async () => {
    const cd = calldataOf(bundlePath());
    const contract = deployed[cd.contract];
    // Every coordinate of A, B and C (B's four limbs included) plus q: the same point to
    // a reducing implementation, refused by the precompile.
    for (let i = 0; i < 8; i++) {
      const proof = [...cd.proof];
      proof[i] = hex32(BigInt(proof[i]) + Q);
      await reverts(contract, contract.verifyProof(proof, cd.input), "ProofInvalid");
      await reverts(contract, contract.compressProof(proof), "ProofInvalid");
    }
    // B with each coordinate's limbs in arkworks' order (real part first), not EIP-197's.
    const swapped = [...cd.proof];
    [swapped[2], swapped[3]] = [cd.proof[3], cd.proof[2]];
    [swapped[4], swapped[5]] = [cd.proof[5], cd.proof[4]];
    await reverts(contract, contract.verifyProof(swapped, cd.input), "ProofInvalid");
    // A replaced by another point of the curve (the generator): the pairing fails.
    const other = [...cd.proof];
    [other[0], other[1]] = [hex32(1n), hex32(2n)];
    await reverts(contract, contract.verifyProof(other, cd.input), "ProofInvalid");
  });

  test(`${bundle}: medproof, snarkjs and the contract agree, valid and tampered`, async () => {
    // The tampered twin: the binding (the verifier's challenge) changed by one.
    const original = JSON.parse(fs.readFileSync(bundlePath(), "utf8"));
    const tampered = structuredClone(original);
    const key = original.statement === "access-authorization" ? "request_binding" : "binding";
    tampered.public_inputs[key] = ((BigInt(original.public_inputs[key]) + 1n) % R).toString();
    const tamperedPath = path.join(work, `tampered-${bundle}`);
    fs.writeFileSync(tamperedPath, JSON.stringify(tampered));

    for (const [file, expected] of [
      [bundlePath(), true],
      [tamperedPath, false],
    ]) {
      // medproof, with a window and skew wide enough that only the proof decides.
      const verify = spawnSync(
        medproof,
        ["verify", file, "--data-dir", data, "--window", "100000000", "--skew", "100000000"],
        { encoding: "utf8" },
      );
      assert.ok(verify.status === 0 || verify.status === 1, verify.stderr + verify.stdout);
      const byMedproof = verify.status === 0;

      const dir = path.join(work, `sj-check-${path.basename(file)}`);
      run(["export", "snarkjs", file, "--data-dir", data, "--out", dir]);
      const sj = spawnSync(
        snarkjsBin,
        ["groth16", "verify", "verification_key.json", "public.json", "proof.json"],
        { cwd: dir, encoding: "utf8" },
      );
      const bySnarkjs = /OK!/.test(sj.stdout) && sj.status === 0;

      const cd = calldataOf(file);
      const contract = deployed[cd.contract];
      let byContract = true;
      try {
        await contract.verifyProof(cd.proof, cd.input);
      } catch (error) {
        assert.equal(revertName(contract, error), "ProofInvalid");
        byContract = false;
      }

      // snarkjs's template answers with a boolean instead of reverting.
      const byTemplate = await snarkjsDeployed[bundle].verifyProof(
        [cd.proof[0], cd.proof[1]],
        [
          [cd.proof[2], cd.proof[3]],
          [cd.proof[4], cd.proof[5]],
        ],
        [cd.proof[6], cd.proof[7]],
        cd.input,
      );

      const verdicts = { byMedproof, bySnarkjs, byContract, byTemplate };
      assert.deepEqual(
        verdicts,
        { byMedproof: expected, bySnarkjs: expected, byContract: expected, byTemplate: expected },
        `${path.basename(file)}: ${verify.stdout}${verify.stderr}`,
      );
      if (expected) {
        const measured = await gasUsed(
          snarkjsDeployed[bundle],
          "verifyProof",
          [
            [cd.proof[0], cd.proof[1]],
            [
              [cd.proof[2], cd.proof[3]],
              [cd.proof[4], cd.proof[5]],
            ],
            [cd.proof[6], cd.proof[7]],
            cd.input,
          ],
        );
        assert.equal(BigInt(measured.returned), 1n, "snarkjs's verifier did not answer true");
        gas.snarkjs_verifyProof[cd.statement] = measured.gas;
      }
    }
  });
}

// The anchoring contract (MedproofAnchor.sol, written by `medproof export solidity`):
// the ledger's account anchors the demo's checkpoints; proofs verify against anchored,
// fresh roots. Steps in order: the node's clock only moves forward.
test("anchoring: only the ledger, only increasing seq; proofs against fresh anchored roots", async (t) => {
  const WINDOW = 7200;
  const SKEW = 3600;
  const ledgerAccount = await provider.getSigner(1);
  const stranger = signer; // account 0
  const ledgerKey = "0x" + fs.readFileSync(path.join(data, "ledger.pub"), "utf8").trim();
  const compiled = compile({
    "MedproofAnchor.sol": fs.readFileSync(path.join(work, "sol", "MedproofAnchor.sol"), "utf8"),
  })["MedproofAnchor.sol"].MedproofAnchor;
  gas.anchorDeployBytes = compiled.evm.bytecode.object.length / 2;
  const factory = new ethers.ContractFactory(compiled.abi, compiled.evm.bytecode.object, signer);
  const anchorContract = await factory.deploy(
    await ledgerAccount.getAddress(),
    ledgerKey,
    WINDOW,
    SKEW,
    await deployed.RecordInclusionVerifier.getAddress(),
    await deployed.AccessAuthorizationVerifier.getAddress(),
    await deployed.ClaimComplianceVerifier.getAddress(),
  );
  await anchorContract.waitForDeployment();
  const asLedger = anchorContract.connect(ledgerAccount);
  const asStranger = anchorContract.connect(stranger);
  // Reverts from the anchor or, bubbled up, from a verifier. A transaction is checked by
  // its `staticCall` (eth_call): ethers sends an unlocked account's transaction without
  // estimating it first, so a reverting one is mined and fails only at `wait()`.
  const errors = new ethers.Interface([
    ...compiled.abi.filter((x) => x.type === "error"),
    "error ProofInvalid()",
    "error PublicInputNotInField()",
  ]);
  const revertsWith = (call, name) =>
    assert.rejects(call, (error) => {
      const data = error?.data ?? error?.info?.error?.data;
      assert.equal(errors.parseError(data)?.name, name, error?.shortMessage);
      return true;
    });
  const advance = async (seconds) => {
    await provider.send("evm_increaseTime", [seconds]);
    await provider.send("evm_mine", []);
  };

  const bundles = Object.fromEntries(
    ["record-inclusion-1.json", "access-0.json", "claim.json"].map((b) => {
      const file = path.join(work, "out", b);
      return [b, { checkpoint: JSON.parse(fs.readFileSync(file, "utf8")).checkpoint, cd: calldataOf(file) }];
    }),
  );
  const ri = bundles["record-inclusion-1.json"];
  const access = bundles["access-0.json"];
  const claim = bundles["claim.json"];
  const tuple = (c) => [c.seq, "0x" + c.chain_head, BigInt(c.records_root), BigInt(c.consents_root), c.time];
  const signature = (c) => "0x" + c.signature;
  // The bytes the ledger signs, rebuilt here from the checkpoint's fields.
  const signedBytes = (c) => {
    const u64 = (x) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(x));
      return b;
    };
    const word = (x) => Buffer.from(BigInt(x).toString(16).padStart(64, "0"), "hex");
    return Buffer.concat([
      Buffer.from("medproof.checkpoint.v1"),
      u64(c.seq),
      Buffer.from(c.chain_head, "hex"),
      word(c.records_root),
      word(c.consents_root),
      u64(c.time),
    ]);
  };
  const { createPublicKey, createHash, verify: edVerify } = await import("node:crypto");
  const ledgerPub = createPublicKey({
    key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(ledgerKey.slice(2), "hex")]),
    format: "der",
    type: "spki",
  });
  // What an off-chain auditor does with the chain's events: every anchored checkpoint's
  // signature, checked against ledger.pub.
  const auditEvents = async () => {
    // To the node's latest block, asked now (ethers caches the block number).
    const latest = Number(await provider.send("eth_blockNumber", []));
    const events = await anchorContract.queryFilter(anchorContract.filters.Anchored(), 0, latest);
    return events.map((e) => {
      const [seq, chainHead, recordsRoot, consentsRoot, time, sig] = e.args;
      const c = {
        seq: Number(seq),
        chain_head: chainHead.slice(2),
        records_root: recordsRoot,
        consents_root: consentsRoot,
        time: Number(time),
      };
      return { seq: c.seq, signed: edVerify(null, signedBytes(c), ledgerPub, Buffer.from(sig.slice(2), "hex")) };
    });
  };

  const gasOf = async (tx) => Number((await (await tx).wait()).gasUsed);
  gas.anchor = {};
  gas.verifyAgainstAnchor = {};

  await t.test("nothing is fresh before the first anchor", async () => {
    await revertsWith(asStranger.verifyRecordInclusion(ri.cd.proof, ri.cd.input), "RootNotFresh");
  });

  await t.test("another sender is refused; the ledger's account anchors", async () => {
    await revertsWith(asStranger.anchor.staticCall(tuple(ri.checkpoint), signature(ri.checkpoint)), "NotLedger");
    // Sent anyway, it is mined and fails.
    await assert.rejects(
      (await asStranger.anchor(tuple(ri.checkpoint), signature(ri.checkpoint), { gasLimit: 500_000 })).wait(),
      /reverted/,
    );
    gas.anchor.first = await gasOf(asLedger.anchor(tuple(ri.checkpoint), signature(ri.checkpoint)));
    assert.equal(await anchorContract.latestSeq(), BigInt(ri.checkpoint.seq));
    const [digest, anchoredAt] = await anchorContract.anchors(ri.checkpoint.seq);
    const expected = "0x" + createHash("sha256").update(signedBytes(ri.checkpoint)).digest("hex");
    assert.equal(digest, expected);
    assert.equal(await anchorContract.checkpointDigest(tuple(ri.checkpoint)), expected);
    assert.ok(anchoredAt > 0n);
  });

  await t.test("the same seq, a lower seq, a root out of the field, a short signature: refused", async () => {
    const c = ri.checkpoint;
    await revertsWith(asLedger.anchor.staticCall(tuple(c), signature(c)), "SeqNotIncreasing");
    await revertsWith(asLedger.anchor.staticCall(tuple({ ...c, seq: c.seq - 1 }), signature(c)), "SeqNotIncreasing");
    const next = { ...c, seq: c.seq + 100 };
    await revertsWith(asLedger.anchor.staticCall(tuple({ ...next, records_root: R.toString() }), signature(c)), "RootNotInField");
    await revertsWith(asLedger.anchor.staticCall(tuple(next), "0x" + c.signature.slice(2)), "BadSignatureLength");
  });

  await t.test("a proof against the latest anchored root verifies; tampered, it reverts", async () => {
    await asStranger.verifyRecordInclusion(ri.cd.proof, ri.cd.input);
    gas.verifyAgainstAnchor["record-inclusion"] = (
      await gasUsed(asStranger, "verifyRecordInclusion", [ri.cd.proof, ri.cd.input])
    ).gas;
    const input = [...ri.cd.input];
    input[2] = hex32((BigInt(input[2]) + 1n) % R);
    await revertsWith(asStranger.verifyRecordInclusion(ri.cd.proof, input), "ProofInvalid");
    // A root that was never anchored (the proof's own, changed) is refused first.
    const other = [...ri.cd.input];
    other[0] = hex32((BigInt(other[0]) + 1n) % R);
    await revertsWith(asStranger.verifyRecordInclusion(ri.cd.proof, other), "RootNotFresh");
  });

  await t.test("access and claims against their checkpoints", async () => {
    await revertsWith(asStranger.verifyAccessAuthorization(access.cd.proof, access.cd.input), "RootNotFresh");
    await gasOf(asLedger.anchor(tuple(access.checkpoint), signature(access.checkpoint)));
    await asStranger.verifyAccessAuthorization(access.cd.proof, access.cd.input);
    gas.verifyAgainstAnchor["access-authorization"] = (
      await gasUsed(asStranger, "verifyAccessAuthorization", [access.cd.proof, access.cd.input])
    ).gas;
    gas.anchor.next = await gasOf(asLedger.anchor(tuple(claim.checkpoint), signature(claim.checkpoint)));
    await asStranger.verifyClaimCompliance(claim.cd.proof, claim.cd.input);
    gas.verifyAgainstAnchor["claim-compliance"] = (
      await gasUsed(asStranger, "verifyClaimCompliance", [claim.cd.proof, claim.cd.input])
    ).gas;
    // Superseded by the claim's checkpoint, less than the window ago: still fresh.
    assert.notEqual(ri.checkpoint.records_root, claim.checkpoint.records_root);
    await asStranger.verifyRecordInclusion(ri.cd.proof, ri.cd.input);
    await asStranger.verifyAccessAuthorization(access.cd.proof, access.cd.input);
  });

  await t.test("an access proof whose now is beyond the skew is refused", async () => {
    await advance(SKEW + 1);
    await revertsWith(asStranger.verifyAccessAuthorization(access.cd.proof, access.cd.input), "NowOutOfSkew");
    await asStranger.verifyRecordInclusion(ri.cd.proof, ri.cd.input);
  });

  await t.test("a root superseded beyond the window is refused; the latest is not", async () => {
    await advance(WINDOW - SKEW);
    await revertsWith(asStranger.verifyRecordInclusion(ri.cd.proof, ri.cd.input), "RootNotFresh");
    await revertsWith(asStranger.verifyAccessAuthorization(access.cd.proof, access.cd.input), "RootNotFresh");
    await asStranger.verifyClaimCompliance(claim.cd.proof, claim.cd.input);
    assert.equal(await anchorContract.recordsRootFresh(BigInt(ri.checkpoint.records_root)), false);
    assert.equal(await anchorContract.recordsRootFresh(BigInt(claim.checkpoint.records_root)), true);
  });

  await t.test("off-chain, the events' signatures check against ledger.pub; a forged one does not", async () => {
    assert.deepEqual(await auditEvents(), [
      { seq: ri.checkpoint.seq, signed: true },
      { seq: access.checkpoint.seq, signed: true },
      { seq: claim.checkpoint.seq, signed: true },
    ]);
    // The ledger's Ethereum key alone (not its Ed25519 key) anchors a made-up root: the
    // chain accepts it, and every auditor of the events sees the signature fail.
    const forged = { ...claim.checkpoint, seq: claim.checkpoint.seq + 1, records_root: "12345" };
    await gasOf(asLedger.anchor(tuple(forged), signature(claim.checkpoint)));
    assert.deepEqual((await auditEvents()).at(-1), { seq: forged.seq, signed: false });
  });
});

// `medproof anchor` (Rust: alloy's EIP-1559 transactions and secp256k1 signer) posts the
// ledger's checkpoints to a fresh anchor contract; `medproof verify --anchor-rpc` then
// requires them, and a forked copy of the ledger cannot match the chain.
test("medproof anchor posts the checkpoints; verify requires them; a fork does not match", async () => {
  const rpc = rpcUrl;
  const keyFile = path.join(work, "anchor.key");
  const account = run(["anchor", "key", "--key", keyFile]).trim();
  assert.match(account, /^0x[0-9a-fA-F]{40}$/);
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
  await provider.send("anvil_setBalance", [account, "0x8ac7230489e80000"]); // 10 ether
  const compiled = compile({
    "MedproofAnchor.sol": fs.readFileSync(path.join(work, "sol", "MedproofAnchor.sol"), "utf8"),
  })["MedproofAnchor.sol"].MedproofAnchor;
  const deploy = async (ledgerKeyHex) => {
    const factory = new ethers.ContractFactory(compiled.abi, compiled.evm.bytecode.object, signer);
    const c = await factory.deploy(
      account,
      ledgerKeyHex,
      600,
      120,
      await deployed.RecordInclusionVerifier.getAddress(),
      await deployed.AccessAuthorizationVerifier.getAddress(),
      await deployed.ClaimComplianceVerifier.getAddress(),
    );
    await c.waitForDeployment();
    return c.getAddress();
  };
  const ledgerKey = "0x" + fs.readFileSync(path.join(data, "ledger.pub"), "utf8").trim();
  const contract = await deploy(ledgerKey);
  const chain = ["--rpc", rpc, "--contract", contract];
  const exit = (args) => spawnSync(medproof, args, { encoding: "utf8" });

  // A copy of the data dir forks from here: each copy signs its own next checkpoint.
  const fork = path.join(work, "data-fork");
  fs.cpSync(data, fork, { recursive: true });
  // And a backup from here, restored after the ledger grew: a rollback.
  const backup = path.join(work, "data-backup");
  fs.cpSync(data, backup, { recursive: true });

  assert.match(run(["anchor", "status", "--data-dir", data, ...chain]), /nothing anchored yet/);
  const claimBundle = path.join(work, "out", "claim.json");
  const verifyArgs = (file, dir) => [
    "verify", file, "--data-dir", dir, "--window", "100000000", "--skew", "100000000",
    "--anchor-rpc", rpc, "--anchor-contract", contract,
  ];
  let v = exit(verifyArgs(claimBundle, data));
  assert.equal(v.status, 1, v.stderr + v.stdout);
  assert.match(v.stderr, /not anchored on chain/);

  // Another key than the contract's ledger account: refused before any transaction.
  const otherKey = path.join(work, "other.key");
  run(["anchor", "key", "--key", otherKey]);
  v = exit(["anchor", "post", "--data-dir", data, ...chain, "--key", otherKey]);
  assert.equal(v.status, 2, v.stderr);
  assert.match(v.stderr, /accepts anchors only from/);

  const posted = run(["anchor", "post", "--data-dir", data, ...chain, "--key", keyFile]);
  const lines = posted.trim().split("\n");
  const checkpoints = JSON.parse(run(["ledger", "checkpoint", "--data-dir", data])).number + 1;
  assert.equal(lines.length, checkpoints, posted);
  gas.anchorByMedproof = lines.map((l) => Number(/\((?:transaction \S+, )?(\d+) gas\)/.exec(l)[1]));
  assert.match(run(["anchor", "post", "--data-dir", data, ...chain, "--key", keyFile]), /nothing to anchor/);
  v = exit(verifyArgs(claimBundle, data));
  assert.equal(v.status, 0, v.stderr + v.stdout);
  assert.match(v.stdout, /chain\s+checkpoint \d+ anchored by/);

  // The ledger and its copy each sign a checkpoint at the same seq, a second apart.
  run(["ledger", "heartbeat", "--data-dir", fork, "--max-age", "0"]);
  await new Promise((r) => setTimeout(r, 1100));
  run(["ledger", "heartbeat", "--data-dir", data, "--max-age", "0"]);
  const ours = JSON.parse(run(["ledger", "checkpoint", "--data-dir", data])).checkpoint;
  const theirs = JSON.parse(run(["ledger", "checkpoint", "--data-dir", fork])).checkpoint;
  assert.equal(ours.seq, theirs.seq);
  assert.notEqual(ours.signature, theirs.signature);
  assert.match(run(["anchor", "post", "--data-dir", data, ...chain, "--key", keyFile]), /anchored checkpoint/);

  // The fork: its operator cannot anchor it, and `status` says it forked (exit 1).
  v = exit(["anchor", "status", "--data-dir", fork, ...chain]);
  assert.equal(v.status, 1, v.stderr + v.stdout);
  assert.match(v.stderr, /another checkpoint at seq \d+: the ledger forked or was rolled back/);
  v = exit(["anchor", "post", "--data-dir", fork, ...chain, "--key", keyFile]);
  assert.equal(v.status, 1, v.stderr + v.stdout);
  // The backup holds no checkpoint at the anchored seq: rolled back.
  v = exit(["anchor", "status", "--data-dir", backup, ...chain]);
  assert.equal(v.status, 1, v.stderr + v.stdout);
  assert.match(v.stderr, /where this ledger has none: it forked or was rolled back/);

  // The audit of the ledger closes on its anchored checkpoint; the copy's does not.
  const audited = path.join(work, "audit.json");
  v = exit(["audit", "--data-dir", data, "--report", audited, "--anchor-rpc", rpc, "--anchor-contract", contract]);
  assert.equal(v.status, 0, v.stderr + v.stdout);
  let report = JSON.parse(fs.readFileSync(audited, "utf8"));
  assert.equal(report.passed, true);
  assert.equal(report.anchor.seq, ours.seq);
  assert.ok(report.anchor.anchored_at > 0);
  assert.equal(report.anchor.problem, undefined);
  v = exit(["audit", "--data-dir", fork, "--report", audited, "--anchor-rpc", rpc, "--anchor-contract", contract]);
  assert.equal(v.status, 1, v.stderr + v.stdout);
  report = JSON.parse(fs.readFileSync(audited, "utf8"));
  assert.equal(report.passed, false);
  assert.match(report.anchor.problem, /forked or was rolled back/);

  // A bundle carrying the fork's checkpoint (signed by the same ledger key, fresh, with
  // the claim's records root) is valid to a light verifier that does not ask the chain,
  // and not valid to one that does.
  const light = path.join(work, "light");
  fs.mkdirSync(light);
  for (const f of ["keys", "ledger.pub", "genesis.json"]) {
    fs.cpSync(path.join(data, f), path.join(light, f), { recursive: true });
  }
  const forked = JSON.parse(fs.readFileSync(claimBundle, "utf8"));
  assert.equal(forked.checkpoint.records_root, theirs.records_root);
  forked.checkpoint = theirs;
  const forkedBundle = path.join(work, "forked-claim.json");
  fs.writeFileSync(forkedBundle, JSON.stringify(forked));
  const withoutChain = verifyArgs(forkedBundle, light).slice(0, -4);
  v = exit(withoutChain);
  assert.equal(v.status, 0, v.stderr + v.stdout);
  v = exit(verifyArgs(forkedBundle, light));
  assert.equal(v.status, 1, v.stderr + v.stdout);
  assert.match(v.stderr, /another checkpoint at seq/);
  // The ledger's own checkpoint at that seq is accepted by the same light verifier.
  forked.checkpoint = ours;
  fs.writeFileSync(forkedBundle, JSON.stringify(forked));
  v = exit(verifyArgs(forkedBundle, light));
  assert.equal(v.status, 0, v.stderr + v.stdout);

  // A contract deployed for another ledger key is refused by `post`.
  const foreign = await deploy("0x" + "11".repeat(32));
  v = exit(["anchor", "post", "--data-dir", data, "--rpc", rpc, "--contract", foreign, "--key", keyFile]);
  assert.equal(v.status, 2, v.stderr);
  assert.match(v.stderr, /anchors the ledger with key/);
});
