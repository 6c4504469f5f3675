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
  provider = new ethers.JsonRpcProvider(`http://127.0.0.1:${port}`, network, {
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
  assert.equal(Object.keys(sources).length, 3);
  const compiled = compile(sources);
  for (const [file, contracts] of Object.entries(compiled)) {
    const name = file.replace(/\.sol$/, "");
    deployed[name] = await deploy(contracts[name]);
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
