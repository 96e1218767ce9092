// Asks permsd's batch API through the official OPA TypeScript SDK (@styra/opa, evaluateBatch),
// with a batch of good and refused inputs, and prints what the SDK returned as JSON.
// Usage: node batch.mjs URL TOKEN
import { OPAClient } from "@styra/opa";

const [url, token] = process.argv.slice(2);
const opa = new OPAClient(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
const out = {};
try {
  out.mixed = await opa.evaluateBatch("permsets/allow", {
    alice: { user: "alice", instance: "records", permission: "record=read", resource: { id: "record-1" } },
    bob: { user: "bob", instance: "records", permission: "record=write", resource: { id: "record-1" } },
    refused: { user: "alice", instance: "records", permission: "record=read", time: "2026-01-01T00:00:00Z" },
  });
} catch (err) {
  out.mixedError = String(err);
}
try {
  out.allGood = await opa.evaluateBatch("permsets/allow", {
    a: { user: "alice", instance: "records", permission: "record=write", resource: { id: "record-1" } },
  });
} catch (err) {
  out.allGoodError = String(err);
}
try {
  await opa.evaluateBatch("permsets/allow", {
    ok: { user: "alice", instance: "records", permission: "record=read" },
    refused: { user: "alice", instance: "records", permission: "record=read", time: "x" },
  }, { rejectMixed: true });
  out.rejectMixed = "resolved";
} catch (err) {
  out.rejectMixed = "rejected";
}
console.log(JSON.stringify(out));
