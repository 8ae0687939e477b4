// Validates rendered Kubernetes manifests (multi-document YAML, e.g. `kubectl kustomize`
// output) against the Kubernetes API's JSON schemas, as packaged by npm's kubernetes-models
// (generated from the Kubernetes OpenAPI spec; see package.json for the version).
//   node validate-manifests.mjs rendered.yaml
// Prints one line per object ("ok Kind/name" or "invalid Kind/name: reasons") and exits 1
// when any object is invalid, has an unknown apiVersion/kind, or the YAML does not parse.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const path = process.argv[2];
if (!path) {
  console.error("usage: node validate-manifests.mjs RENDERED.yaml");
  process.exit(2);
}

// "apps/v1" + "Deployment" -> "kubernetes-models/apps/v1/Deployment"; core "v1" -> "v1".
function modulePath(apiVersion, kind) {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

let failed = false;
const docs = parseAllDocuments(readFileSync(path, "utf8"));
for (const doc of docs) {
  if (doc.errors.length > 0) {
    console.log(`invalid YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    failed = true;
    continue;
  }
  const object = doc.toJS();
  if (object == null) continue;
  const id = `${object.kind}/${object.metadata?.name ?? "?"}`;
  let Model;
  try {
    Model = (await import(modulePath(object.apiVersion, object.kind)))[object.kind];
  } catch (e) {
    console.log(`invalid ${id}: unknown apiVersion/kind ${object.apiVersion} ${object.kind}`);
    failed = true;
    continue;
  }
  try {
    new Model(object).validate();
    console.log(`ok ${id}`);
  } catch (e) {
    const reasons = (e.errors ?? [{ message: e.message }])
      .map((err) => `${err.instancePath ?? ""} ${err.message}`.trim())
      .join("; ");
    console.log(`invalid ${id}: ${reasons}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
