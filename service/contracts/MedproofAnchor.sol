// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// The verifiers `medproof export solidity` writes (gnark's template): each returns
/// nothing and reverts when the proof does not verify.
interface IRecordInclusionVerifier {
    function verifyProof(uint256[8] calldata proof, uint256[3] calldata input) external view;
}

interface IAccessAuthorizationVerifier {
    function verifyProof(uint256[8] calldata proof, uint256[7] calldata input) external view;
}

interface IClaimComplianceVerifier {
    function verifyProof(uint256[8] calldata proof, uint256[6] calldata input) external view;
}

/// @title medproof checkpoint anchor
/// @notice The ledger posts its signed checkpoints here, from its own Ethereum account
/// and with strictly increasing seq, so that the roots it vouched for, and when, cannot
/// be taken back: a rolled-back or forked ledger cannot produce a checkpoint that matches
/// the chain. Contracts verify a statement's proof against a root anchored here and fresh
/// by block time (the latest, or superseded less than `window` seconds ago).
/// @dev The EVM has no Ed25519 precompile, so the contract cannot check the checkpoint's
/// signature: it trusts `ledger`, the ledger's Ethereum account, and puts the signature
/// in each `Anchored` event, so that anyone can check it off-chain against the ledger's
/// Ed25519 key (`ledgerKey`); an event whose signature does not verify shows that the
/// Ethereum key, not the ledger's, signed it.
contract MedproofAnchor {
    /// BN254's scalar field: roots and public inputs are below it.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// A checkpoint, field for field as the ledger signs it.
    struct Checkpoint {
        uint64 seq;
        bytes32 chainHead;
        uint256 recordsRoot;
        uint256 consentsRoot;
        uint64 time;
    }

    /// What the contract keeps of an anchored checkpoint.
    struct Anchor {
        /// SHA-256 of the checkpoint's signed bytes (`checkpointDigest`).
        bytes32 digest;
        /// The block time it was anchored at.
        uint64 anchoredAt;
    }

    /// The only account that may anchor.
    address public immutable ledger;
    /// The ledger's Ed25519 public key (`ledger.pub`), for off-chain checks of the events.
    bytes32 public immutable ledgerKey;
    /// How long a superseded root stays fresh, in seconds.
    uint64 public immutable window;
    /// How far an access proof's `now` may be from the block time, in seconds.
    uint64 public immutable skew;
    IRecordInclusionVerifier public immutable recordInclusion;
    IAccessAuthorizationVerifier public immutable accessAuthorization;
    IClaimComplianceVerifier public immutable claimCompliance;

    /// Whether a checkpoint was anchored yet.
    bool public anchored;
    /// The seq of the latest anchored checkpoint.
    uint64 public latestSeq;
    /// The latest anchored checkpoint's roots.
    uint256 public latestRecordsRoot;
    uint256 public latestConsentsRoot;
    /// When each root stopped being the latest (0: never the latest, or still is).
    mapping(uint256 => uint64) public recordsSupersededAt;
    mapping(uint256 => uint64) public consentsSupersededAt;
    /// The anchored checkpoints, by seq.
    mapping(uint64 => Anchor) public anchors;

    /// A checkpoint was anchored; `signature` is the ledger's Ed25519 signature of it.
    event Anchored(
        uint64 indexed seq,
        bytes32 chainHead,
        uint256 recordsRoot,
        uint256 consentsRoot,
        uint64 time,
        bytes signature
    );

    /// The sender is not the ledger's account.
    error NotLedger();
    /// The seq is not above the latest anchored one.
    error SeqNotIncreasing(uint64 latest, uint64 seq);
    /// A root at or above the scalar field modulus.
    error RootNotInField();
    /// An Ed25519 signature is 64 bytes.
    error BadSignatureLength();
    /// The proof's root is not anchored, or was superseded `window` or more ago.
    error RootNotFresh(uint256 root);
    /// An access proof's `now` is more than `skew` from the block time.
    error NowOutOfSkew(uint256 proofNow, uint256 blockTime);

    constructor(
        address ledger_,
        bytes32 ledgerKey_,
        uint64 window_,
        uint64 skew_,
        IRecordInclusionVerifier recordInclusion_,
        IAccessAuthorizationVerifier accessAuthorization_,
        IClaimComplianceVerifier claimCompliance_
    ) {
        ledger = ledger_;
        ledgerKey = ledgerKey_;
        window = window_;
        skew = skew_;
        recordInclusion = recordInclusion_;
        accessAuthorization = accessAuthorization_;
        claimCompliance = claimCompliance_;
    }

    /// SHA-256 of the bytes the ledger signs for a checkpoint: the domain
    /// `medproof.checkpoint.v1`, seq (8 bytes), chain head, both roots (32 bytes each,
    /// big-endian) and time (8 bytes).
    function checkpointDigest(Checkpoint calldata c) public pure returns (bytes32) {
        return sha256(
            abi.encodePacked(
                "medproof.checkpoint.v1", c.seq, c.chainHead, c.recordsRoot, c.consentsRoot, c.time
            )
        );
    }

    /// Anchors a checkpoint: only from `ledger`, only above the latest seq.
    function anchor(Checkpoint calldata c, bytes calldata signature) external {
        if (msg.sender != ledger) revert NotLedger();
        if (anchored && c.seq <= latestSeq) revert SeqNotIncreasing(latestSeq, c.seq);
        if (c.recordsRoot >= R || c.consentsRoot >= R) revert RootNotInField();
        if (signature.length != 64) revert BadSignatureLength();
        uint64 time = uint64(block.timestamp);
        if (anchored) {
            if (c.recordsRoot != latestRecordsRoot) recordsSupersededAt[latestRecordsRoot] = time;
            if (c.consentsRoot != latestConsentsRoot) {
                consentsSupersededAt[latestConsentsRoot] = time;
            }
        }
        anchored = true;
        latestSeq = c.seq;
        latestRecordsRoot = c.recordsRoot;
        latestConsentsRoot = c.consentsRoot;
        anchors[c.seq] = Anchor(checkpointDigest(c), time);
        emit Anchored(c.seq, c.chainHead, c.recordsRoot, c.consentsRoot, c.time, signature);
    }

    /// Whether `root` is the latest records root, or was superseded less than `window` ago.
    function recordsRootFresh(uint256 root) public view returns (bool) {
        return fresh(root, latestRecordsRoot, recordsSupersededAt[root]);
    }

    /// Whether `root` is the latest consents root, or was superseded less than `window` ago.
    function consentsRootFresh(uint256 root) public view returns (bool) {
        return fresh(root, latestConsentsRoot, consentsSupersededAt[root]);
    }

    function fresh(uint256 root, uint256 latest, uint64 supersededAt) internal view returns (bool) {
        if (!anchored) return false;
        if (root == latest) return true;
        return supersededAt != 0 && block.timestamp < uint256(supersededAt) + window;
    }

    /// Reverts unless the record-inclusion proof verifies against a fresh records root
    /// (input[0]). The caller checks the binding (input[2]) is the challenge it issued.
    function verifyRecordInclusion(uint256[8] calldata proof, uint256[3] calldata input)
        external
        view
    {
        if (!recordsRootFresh(input[0])) revert RootNotFresh(input[0]);
        recordInclusion.verifyProof(proof, input);
    }

    /// Reverts unless the access-authorization proof verifies against a fresh consents
    /// root (input[0]) and its `now` (input[4]) is within `skew` of the block time. The
    /// caller checks the provider, record and request binding are the ones it expects.
    function verifyAccessAuthorization(uint256[8] calldata proof, uint256[7] calldata input)
        external
        view
    {
        if (!consentsRootFresh(input[0])) revert RootNotFresh(input[0]);
        uint256 proofNow = input[4];
        uint256 blockTime = block.timestamp;
        // In this order: `proofNow + skew` cannot overflow once `proofNow` is below.
        if (proofNow > blockTime + skew || proofNow + skew < blockTime) {
            revert NowOutOfSkew(proofNow, blockTime);
        }
        accessAuthorization.verifyProof(proof, input);
    }

    /// Reverts unless the claim-compliance proof verifies against a fresh records root
    /// (input[0]). The caller checks the policy, amount, claim id and binding.
    function verifyClaimCompliance(uint256[8] calldata proof, uint256[6] calldata input)
        external
        view
    {
        if (!recordsRootFresh(input[0])) revert RootNotFresh(input[0]);
        claimCompliance.verifyProof(proof, input);
    }
}
