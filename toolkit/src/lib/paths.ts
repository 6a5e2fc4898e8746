// Where things are: the package root (found from this file, so it works from any cwd and from
// node_modules), the engine binary (VOX_ENGINE overrides), the schemas and fixtures.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let cachedRoot: string | undefined;

/** The directory holding vox's package.json (walks up from the compiled file). */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "vox") {
      cachedRoot = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`vox package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Path of the engine binary: $VOX_ENGINE, else engine/build/voxtral under the package root. */
export function engineBinary(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.VOX_ENGINE;
  if (override && override.length > 0) return resolve(override);
  return join(packageRoot(), "engine", "build", "voxtral");
}

export function schemaPath(name: string): string {
  return join(packageRoot(), "checks", "schemas", `${name}.schema.json`);
}

/** checks/tolerances.json: every limit of the checks, once. */
export function tolerancesPath(): string {
  return join(packageRoot(), "checks", "tolerances.json");
}

export function fixturesDir(): string {
  return join(packageRoot(), "checks", "fixtures");
}
