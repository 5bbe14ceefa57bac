// Decrypts the keystores lpops wrote (ethers_diff_test) with ethers: both directions agree.
// Usage: node verify_ours.mjs <ours.json>
import { readFileSync } from "node:fs";
import { decryptKeystoreJsonSync } from "ethers";

const ours = JSON.parse(readFileSync(process.argv[2], "utf8"));
if (ours.length === 0) throw new Error("no keystores to verify");
for (const k of ours) {
  const account = decryptKeystoreJsonSync(k.json, k.password);
  if (account.address !== k.address) throw new Error(`ethers decrypted ${account.address}, expected ${k.address}`);
}
console.log(`ethers decrypted ${ours.length} lpops keystores`);
