// Khronos glTF-Validator (npm gltf-validator) on one .glb: prints the report's JSON to stdout.
//   node gltf_validate.js <path-to-node_modules/gltf-validator> file.glb
const fs = require("fs");
const validator = require(process.argv[2]);
const data = new Uint8Array(fs.readFileSync(process.argv[3]));
validator.validateBytes(data, { maxIssues: 100 })
  .then((report) => { process.stdout.write(JSON.stringify(report)); })
  .catch((e) => { process.stderr.write(String(e)); process.exit(2); });
