// Generates random cases with ethers (an independent implementation) for the differential
// test of chain/: keys and EIP-55, legacy and EIP-1559 transactions, Livepeer tickets, ABI
// values (nested dynamic tuples included), packed encodings and keystores.
// Usage: node cases.mjs <out.json> [seed]
import { writeFileSync } from "node:fs";
import {
  AbiCoder, Interface, Transaction, Wallet, getAddress, hexlify, keccak256, solidityPacked,
  solidityPackedKeccak256, toUtf8Bytes, encryptKeystoreJsonSync, zeroPadValue, toBeHex, concat, getBytes,
} from "ethers";

const out = process.argv[2];
if (!out) {
  console.error("usage: node cases.mjs <out.json> [seed]");
  process.exit(2);
}
const seed = Number(process.argv[3] ?? process.env.LPOPS_DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));

// mulberry32: small, seedable, good enough to pick test cases.
let state = seed >>> 0;
function rand32() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
const below = (n) => rand32() % n;
const pick = (xs) => xs[below(xs.length)];
function bytes(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = below(256);
  return b;
}
function bigOfBits(bits) {
  // Biased towards edges: zero, small, all ones, random.
  const mode = below(5);
  if (mode === 0) return 0n;
  if (mode === 1) return BigInt(below(1000)) & ((1n << BigInt(bits)) - 1n);
  if (mode === 2) return (1n << BigInt(bits)) - 1n;
  let v = 0n;
  for (let i = 0; i < bits; i += 8) v = (v << 8n) | BigInt(below(256));
  return v & ((1n << BigInt(bits)) - 1n);
}
function privateKey() {
  for (;;) {
    const k = hexlify(bytes(32));
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const v = BigInt(k);
    if (v > 0n && v < n) return k;
  }
}
const address = () => getAddress(hexlify(bytes(20)));
const dec = (v) => v.toString(10);

// --- keys, EIP-55 ---
const keys = [];
for (let i = 0; i < 100; i++) {
  const k = privateKey();
  const w = new Wallet(k);
  const digest = hexlify(bytes(32));
  keys.push({ private_key: k, address: w.address, digest, signature: w.signingKey.sign(digest).serialized });
}
const eip55 = [];
for (let i = 0; i < 100; i++) {
  const a = address();
  eip55.push({ lower: a.toLowerCase(), checksummed: a });
}

// --- transactions ---
function accessList() {
  const list = [];
  for (let i = below(3); i > 0; i--) {
    const keys = [];
    for (let j = below(3); j > 0; j--) keys.push(hexlify(bytes(32)));
    list.push({ address: address(), storageKeys: keys });
  }
  return list;
}
const transactions = [];
for (let i = 0; i < 200; i++) {
  const k = privateKey();
  const w = new Wallet(k);
  const type = i % 2 === 0 ? 0 : 2;
  const fields = {
    type,
    chainId: BigInt(pick([1, 42161, 31337, 421614, 1 + below(2 ** 31)])),
    nonce: below(5) === 0 ? 0 : below(2 ** 31),
    gasLimit: BigInt(21000 + below(10_000_000)),
    to: below(10) === 0 ? null : address(),
    value: bigOfBits(pick([8, 64, 128, 256])) % (1n << 255n),
    data: hexlify(bytes(pick([0, 0, 1, 4, 36, 100, 600]))),
  };
  if (type === 0) {
    fields.gasPrice = bigOfBits(pick([32, 64, 128]));
  } else {
    fields.maxPriorityFeePerGas = bigOfBits(pick([32, 64]));
    fields.maxFeePerGas = fields.maxPriorityFeePerGas + bigOfBits(64);
    fields.accessList = accessList();
  }
  const tx = Transaction.from(fields);
  const raw = w.signingKey.sign(tx.unsignedHash);
  tx.signature = raw;
  transactions.push({
    private_key: k,
    type,
    chain_id: dec(fields.chainId),
    nonce: dec(BigInt(fields.nonce)),
    gas: dec(fields.gasLimit),
    gas_price: dec(fields.gasPrice ?? 0n),
    max_priority_fee_per_gas: dec(fields.maxPriorityFeePerGas ?? 0n),
    max_fee_per_gas: dec(fields.maxFeePerGas ?? 0n),
    to: fields.to,
    value: dec(fields.value),
    data: fields.data,
    access_list: (fields.accessList ?? []).map((e) => ({ address: e.address, storage_keys: e.storageKeys })),
    signing_hash: tx.unsignedHash,
    raw: tx.serialized,
    hash: tx.hash,
    from: w.address,
  });
}

// --- tickets ---
const broker = new Interface([
  "function redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes) ticket, bytes sig, uint256 recipientRand)",
  "function batchRedeemWinningTickets((address,address,uint256,uint256,uint256,bytes32,bytes)[] tickets, bytes[] sigs, uint256[] recipientRands)",
]);
const tickets = [];
for (let i = 0; i < 100; i++) {
  const k = privateKey();
  const w = new Wallet(k);
  const rand = bigOfBits(256);
  const t = {
    recipient: address(),
    sender: w.address,
    faceValue: bigOfBits(pick([64, 128, 256])),
    winProb: below(2) ? (1n << 256n) - 1n : bigOfBits(256),
    senderNonce: bigOfBits(pick([32, 256])),
    recipientRandHash: keccak256(zeroPadValue(toBeHex(rand), 32)),
    auxData: hexlify(bytes(64)),
  };
  const hash = solidityPackedKeccak256(
    ["address", "address", "uint256", "uint256", "uint256", "bytes32", "bytes"],
    [t.recipient, t.sender, t.faceValue, t.winProb, t.senderNonce, t.recipientRandHash, t.auxData]);
  const sig = w.signMessageSync(Uint8Array.from(Buffer.from(hash.slice(2), "hex")));
  const tuple = [t.recipient, t.sender, t.faceValue, t.winProb, t.senderNonce, t.recipientRandHash, t.auxData];
  const wins = BigInt(solidityPackedKeccak256(["bytes", "uint256"], [sig, rand])) < t.winProb;
  tickets.push({
    private_key: k,
    recipient: t.recipient,
    face_value: dec(t.faceValue),
    win_prob: dec(t.winProb),
    sender_nonce: dec(t.senderNonce),
    recipient_rand: dec(rand),
    recipient_rand_hash: t.recipientRandHash,
    aux_data: t.auxData,
    hash,
    signature: sig,
    wins,
    redeem_calldata: broker.encodeFunctionData("redeemWinningTicket", [tuple, sig, rand]),
    batch_calldata: broker.encodeFunctionData("batchRedeemWinningTickets", [[tuple, tuple], [sig, sig], [rand, rand]]),
  });
}

// --- ABI values ---
const INT_BITS = Array.from({ length: 32 }, (_, i) => 8 * (i + 1));
function randomType(depth) {
  const r = below(depth > 2 ? 10 : 16);
  if (r < 2) return `uint${pick(INT_BITS)}`;
  if (r < 4) return `int${pick(INT_BITS)}`;
  if (r === 4) return "address";
  if (r === 5) return "bool";
  if (r === 6) return `bytes${1 + below(32)}`;
  if (r === 7) return "bytes";
  if (r === 8 || r === 9) return "string";
  if (r < 12) return `${randomType(depth + 1)}[]`;
  if (r < 14) return `${randomType(depth + 1)}[${1 + below(3)}]`;
  const n = 1 + below(4);
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(randomType(depth + 1));
  return `(${parts.join(",")})`;
}
// Splits "(a,(b,c)[],d)" into its top-level components.
function components(t) {
  const inner = t.slice(1, -1);
  const out = [];
  let level = 0, start = 0;
  for (let i = 0; i <= inner.length; i++) {
    if (i === inner.length || (inner[i] === "," && level === 0)) {
      out.push(inner.slice(start, i));
      start = i + 1;
    } else if (inner[i] === "(") level++;
    else if (inner[i] === ")") level--;
  }
  return out;
}
const STRING_POOL = ["", "a", "héllo", "日本語", "emoji 🚀", "x".repeat(33), "line\nbreak", "quote\"s"];
// Returns [ethers value, JSON description for the C++ side].
function randomValue(t) {
  let m;
  if ((m = t.match(/^(.*)\[(\d*)\]$/)) && !t.endsWith(")")) {
    const n = m[2] === "" ? below(4) : Number(m[2]);
    const pairs = Array.from({ length: n }, () => randomValue(m[1]));
    return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
  }
  if (t.startsWith("(")) {
    const pairs = components(t).map(randomValue);
    return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
  }
  if ((m = t.match(/^uint(\d+)$/))) {
    const v = bigOfBits(Number(m[1]));
    return [v, dec(v)];
  }
  if ((m = t.match(/^int(\d+)$/))) {
    const bits = Number(m[1]);
    let v = bigOfBits(bits - 1);
    if (below(2)) v = -v - (below(2) ? 1n : 0n);
    return [v, dec(v)];
  }
  if (t === "address") {
    const a = address();
    return [a, a.toLowerCase()];
  }
  if (t === "bool") {
    const b = below(2) === 1;
    return [b, b];
  }
  if ((m = t.match(/^bytes(\d+)$/))) {
    const b = hexlify(bytes(Number(m[1])));
    return [b, b];
  }
  if (t === "bytes") {
    const b = hexlify(bytes(pick([0, 1, 31, 32, 33, 64, 100])));
    return [b, b];
  }
  if (t === "string") {
    const s = pick(STRING_POOL);
    return [s, hexlify(toUtf8Bytes(s))];
  }
  throw new Error(`unhandled type ${t}`);
}
// Tuples and T[k] inside a type string need fixed-array suffixes applied to tuples too:
// randomValue handles "(..)[]" through the first branch because it ends with "]".
function randomValueTop(t) {
  if (/\]$/.test(t)) {
    const m = t.match(/^(.*)\[(\d*)\]$/);
    const n = m[2] === "" ? below(4) : Number(m[2]);
    const pairs = Array.from({ length: n }, () => randomValueTop(m[1]));
    return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
  }
  if (t.startsWith("(")) {
    const pairs = components(t).map(randomValueTop);
    return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
  }
  return randomValue(t);
}
const coder = AbiCoder.defaultAbiCoder();
const abi = [];
for (let i = 0; i < 300; i++) {
  const types = Array.from({ length: 1 + below(4) }, () => randomType(0));
  const pairs = types.map(randomValueTop);
  abi.push({ types, values: pairs.map((p) => p[1]), encoded: coder.encode(types, pairs.map((p) => p[0])) });
}

// --- packed (static elementary types, bytes, string, arrays of static elementary types) ---
function packedType() {
  const r = below(9);
  if (r < 2) return `uint${pick(INT_BITS)}`;
  if (r < 4) return `int${pick(INT_BITS)}`;
  if (r === 4) return "address";
  if (r === 5) return "bool";
  if (r === 6) return `bytes${1 + below(32)}`;
  if (r === 7) return pick(["bytes", "string"]);
  return `${pick(["uint" + pick(INT_BITS), "address", "bool", "bytes" + (1 + below(32))])}[${pick(["", "2"])}]`;
}
const packed = [];
for (let i = 0; i < 150; i++) {
  const types = Array.from({ length: 1 + below(5) }, packedType);
  const pairs = types.map(randomValueTop);
  packed.push({ types, values: pairs.map((p) => p[1]), encoded: solidityPacked(types, pairs.map((p) => p[0])) });
}

// --- keystores (small KDF costs: the cases check format and arithmetic, not strength) ---
const keystores = [];
for (let i = 0; i < 6; i++) {
  const k = privateKey();
  const w = new Wallet(k);
  const password = pick(["", "pw", "pässwörd", "long password ".repeat(4)]);
  const json = encryptKeystoreJsonSync({ address: w.address, privateKey: k }, password, { scrypt: { N: 1 << (10 + below(3)) } });
  keystores.push({ json, password, private_key: k, address: w.address });
}

// --- transparency log: audit keys, entry hashes, checkpoint commitments and signatures ---
// Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) for the
// values used here (strings, integers, objects) is JSON.stringify with sorted keys.
function canonical(v) {
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  if (v !== null && typeof v === "object")
    return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
  return JSON.stringify(v);
}
const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const REASONS = ["", "credit", "adjustment", "payout", "tab\there", "ctl\u0001", "ünïcode ✓", "line\u2028sep"];
const audits = [];
for (let i = 0; i < 60; i++) {
  const main = privateKey();
  const I = BigInt(keccak256(concat([main, toUtf8Bytes("payments-tee-core:audit:v1")])));
  const auditKey = zeroPadValue(toBeHex((I % (CURVE_N - 1n)) + 1n), 32);
  const w = new Wallet(auditKey);
  const seq = 1 + below(1_000_000);
  const chainHead = hexlify(bytes(32));
  const root = hexlify(bytes(32));
  const head = solidityPackedKeccak256(["string", "bytes32", "bytes32"], ["payments-tee-core:checkpoint-head:v1", chainHead, root]);
  const chainId = pick([1, 42161, 31337]);
  const contract = below(3) === 0 ? "0x0000000000000000000000000000000000000000" : address();
  const message = solidityPackedKeccak256(["string", "address", "uint256", "bytes32", "uint256", "address"],
    ["payments-tee-core:checkpoint:v1", w.address, seq, head, chainId, contract]);
  const negative = below(2) === 1;
  const payload = {
    schema: "payments-tee-core:audit:v1", seq, prev_hash: chainHead, timestamp: "2026-01-08T12:00:00." + String(below(1e6)).padStart(6, "0") + "Z",
    kind: pick(["credit", "adjustment", "payout_debit", "policy"]), event_id: "workload:" + pick(STRING_POOL),
    orchestrator_id: pick(STRING_POOL) || "orch", recipient: address().toLowerCase(),
    delta_wei: (negative ? "-" : "") + dec(bigOfBits(128)), balance_wei: dec(bigOfBits(128)),
  };
  const reason = pick(REASONS);
  if (reason) payload.reason = reason;
  if (below(2)) payload.metadata = { workload_id: pick(STRING_POOL), duration_ms: String(below(1e6)), nested: { z: 1, a: pick(STRING_POOL) } };
  audits.push({
    main_key: main, audit_address: w.address, seq, chain_head: chainHead, merkle_root: root, head_hash: head,
    chain_id: chainId, contract, message_hash: message, signature: w.signMessageSync(getBytes(message)),
    payload, entry_hash: keccak256(toUtf8Bytes(canonical(payload))),
  });
}

// --- orchestrator credentials: the delegate's signed auth hash, and ledger-tree leaves ---
const credentials = [];
for (let i = 0; i < 40; i++) {
  const delegate = new Wallet(privateKey());
  const id = pick(STRING_POOL) || "orch-" + i;
  const owner = address();
  const nonce = hexlify(bytes(32));
  const expiresAt = 1 + below(2 ** 31);
  const authHash = solidityPackedKeccak256(["string", "string", "address", "address", "bytes32", "uint256"],
    ["payments-orchestrator-credential:auth:v1", id, owner, delegate.address, nonce, expiresAt]);
  // A balance of either sign; the leaf's int256 is two's complement for debts.
  const magnitude = bigOfBits(200);
  const balance = below(4) === 0 && magnitude > 0n ? -magnitude : magnitude;
  const orchHash = keccak256(toUtf8Bytes(id));
  const leaf = keccak256(AbiCoder.defaultAbiCoder().encode(["string", "bytes32", "address", "int256"],
    ["payments-tee-core:ledger:v1", orchHash, owner, balance]));
  credentials.push({
    orchestrator_id: id, owner, delegate_key: delegate.privateKey, delegate: delegate.address, nonce, expires_at: expiresAt,
    auth_hash: authHash, signature: delegate.signMessageSync(getBytes(authHash)), balance_wei: balance.toString(),
    orch_hash: orchHash, leaf_hash: leaf,
  });
}

writeFileSync(out, JSON.stringify({ seed, keys, eip55, transactions, tickets, abi, packed, keystores, audits, credentials }));
console.log(`ethers cases written to ${out} (seed ${seed}: rerun with LPOPS_DIFF_SEED=${seed})`);
