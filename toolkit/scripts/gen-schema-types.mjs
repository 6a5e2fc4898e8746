// Generates toolkit/src/generated/schemas.ts, the TypeScript types of every checks/schemas/*.schema.json
// (json-schema-to-typescript), before tsc runs (npm run build / prepare / test). The output is git-ignored:
// it is rebuilt from the schemas on every build, so it cannot go stale. Type names: each schema file's
// PascalCase name plus "Schema" for its root ("BenchSchema"), each $defs key in PascalCase for shared parts.
// A def referenced from several files ("common.schema.json#/$defs/counts") is one type ("Counts"): every
// file is read once (the resolver below), so each $ref lands on the same object.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "json-schema-to-typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const schemasDir = join(root, "checks", "schemas");
const outFile = join(root, "toolkit", "src", "generated", "schemas.ts");
const pascal = (s) => s.replace(/(^|[-_.])([a-z0-9])/g, (_, __, c) => c.toUpperCase());

/** A copy of the schema whose titles are type names (the prose title becomes the description). */
function named(schema, name) {
  const out = { ...schema, title: name };
  if (schema.title && !schema.description) out.description = schema.title;
  if (schema.$defs) {
    out.$defs = Object.fromEntries(Object.entries(schema.$defs).map(([k, v]) => [k, named(v, pascal(k))]));
  }
  return out;
}

const files = readdirSync(schemasDir)
  .filter((f) => f.endsWith(".schema.json"))
  .sort();
const schemas = new Map(
  files.map((f) => [
    f,
    named(JSON.parse(readFileSync(join(schemasDir, f), "utf8")), `${pascal(f.replace(/\.schema\.json$/, ""))}Schema`),
  ]),
);
// One root that refers to every schema, so a schema used by others ($ref "environment.schema.json") is declared once.
const all = {
  title: "AllSchemas",
  type: "object",
  additionalProperties: false,
  properties: Object.fromEntries(files.map((f) => [f, { $ref: f }])),
};
const ts = await compile(all, "AllSchemas", {
  bannerComment: "// Generated from checks/schemas by toolkit/scripts/gen-schema-types.mjs. Do not edit.",
  additionalProperties: false,
  strictIndexSignatures: true,
  unreachableDefinitions: true,
  ignoreMinAndMaxItems: true,
  $refOptions: {
    resolve: {
      file: false,
      http: false,
      schemas: {
        order: 1,
        canRead: (f) => schemas.has(f.url.split("/").pop()),
        read: (f) => schemas.get(f.url.split("/").pop()),
      },
    },
  },
  cwd: schemasDir,
});
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(`${outFile}.tmp`, ts);
renameSync(`${outFile}.tmp`, outFile);
