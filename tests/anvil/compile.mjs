// Compiles a Solidity file with solc (npm) and prints {"abi": [...], "bytecode": "0x..."} for
// the named contract. Usage: node compile.mjs <file.sol> <ContractName>
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import solc from "solc";

const [file, name] = process.argv.slice(2);
const source = basename(file);
const input = {
  language: "Solidity",
  sources: { [source]: { content: readFileSync(file, "utf8") } },
  settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors ?? []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const contract = output.contracts[source][name];
if (!contract) {
  console.error(`no contract ${name} in ${file}`);
  process.exit(1);
}
console.log(JSON.stringify({ abi: contract.abi, bytecode: "0x" + contract.evm.bytecode.object }));
