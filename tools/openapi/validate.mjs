// Validates an OpenAPI document against the official OpenAPI 3.1 JSON schema
// (strict: every $ref must resolve) and exits non-zero on any finding.
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
const validator = new Validator({ strict: true });
const result = await validator.validate(file);
if (validator.version !== "3.1") {
  console.error(`${file}: expected an OpenAPI 3.1 document, found ${validator.version}`);
  process.exit(1);
}
if (!result.valid) {
  console.error(`${file}: ${result.errors.length ?? 0} error(s)`);
  console.error(JSON.stringify(result.errors, null, 2));
  process.exit(1);
}
const refs = validator.resolveRefs();
if (!refs) {
  console.error(`${file}: unresolvable $ref`);
  process.exit(1);
}
console.log(`${file}: valid OpenAPI ${validator.version}, 0 errors`);
