// ci/gate.json: read, validate against checks/schemas/gate-config.schema.json, expand ${VAR} in
// paths, resolve them relative to the config file's folder, apply defaults.
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { InputError } from "../../lib/errors.js";
import { schemaErrors } from "../../lib/report.js";
import type { Tolerance, TierName } from "../../lib/tolerance.js";
import type { BuildBackend } from "../build/plan.js";
import type { BackendChoice } from "../../lib/backend.js";
import type { GateConfigSchema } from "../../generated/schemas.js";

export interface GateConfig {
  path: string;
  timeoutSeconds: number;
  build: { skip: boolean; backend: BuildBackend; arch: string };
  smoke: Array<{ model: string; audio?: string; backend: BackendChoice }>;
  accuracy: Array<{
    name: string;
    model: string;
    audio: string[];
    baseline: string;
    candidate: BackendChoice;
    tier: TierName;
    tolerance: Partial<Tolerance>;
    logitSteps: number;
    /** baseline "reference": the manifest of human transcripts and the pooled-WER limit */
    manifest?: string;
    maxWer?: number;
  }>;
}

/** The file as the schema describes it (generated from gate-config.schema.json). */
type RawConfig = GateConfigSchema;

const FIX = "Edit the gate config to match checks/schemas/gate-config.schema.json (GATE.md shows an example).";

/** `${VOX_MODEL}/x` -> the variable's value; an unset variable is an error (never an empty path). */
export function expandVars(p: string, configPath: string, env: NodeJS.ProcessEnv = process.env): string {
  return p.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === "")
      throw new InputError(
        `${configPath} uses \${${name}}, which is not set`,
        `Set ${name} (e.g. the runner's model folder) before running vox gate.`,
      );
    return v;
  });
}

/** Pure: validated raw JSON -> config with absolute paths (${VAR} expanded) and defaults. */
export function normalizeConfig(raw: unknown, path: string): GateConfig {
  const errors = schemaErrors("gate-config", raw);
  if (errors.length) throw new InputError(`${path} is not a valid gate config: ${errors.slice(0, 5).join("; ")}`, FIX);
  const c = raw as RawConfig;
  const dir = dirname(resolve(path));
  const abs = (p: string) => {
    const e = expandVars(p, path);
    return isAbsolute(e) ? e : resolve(dir, e);
  };
  // A baseline is a keyword or a report path; only paths are resolved.
  const baseline = (b: string) => (b === "cpu" || b === "golden" || b === "reference" ? b : abs(b));
  const noManifest = c.accuracy.find((a) => (a.baseline === "reference") !== (a.manifest !== undefined));
  if (noManifest)
    throw new InputError(
      `${path}: accuracy entry "${noManifest.name}" needs both "baseline": "reference" and "manifest", or neither`,
      FIX,
    );
  const names = c.accuracy.map((a) => a.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup)
    throw new InputError(
      `${path}: accuracy entry name "${dup}" is used twice`,
      "Give every accuracy entry its own name (it names its report).",
    );
  return {
    path: resolve(path),
    timeoutSeconds: c.timeoutSeconds ?? 300,
    build: { skip: c.build?.skip ?? false, backend: c.build?.backend ?? "cpu", arch: c.build?.arch ?? "native" },
    smoke: (c.smoke ?? []).map((s) => ({
      model: abs(s.model),
      ...(s.audio ? { audio: abs(s.audio) } : {}),
      backend: s.backend ?? "auto",
    })),
    accuracy: c.accuracy.map((a) => ({
      name: a.name,
      model: abs(a.model),
      audio: (a.audio ?? []).map(abs),
      baseline: baseline(a.baseline),
      candidate: a.candidate ?? "auto",
      tier: a.tier,
      tolerance: a.tolerance ?? {},
      logitSteps: a.logitSteps ?? 64,
      ...(a.manifest !== undefined ? { manifest: abs(a.manifest) } : {}),
      ...(a.maxWer !== undefined ? { maxWer: a.maxWer } : {}),
    })),
  };
}

export function loadGateConfig(path: string): GateConfig {
  if (!existsSync(path))
    throw new InputError(
      `gate config ${path} not found`,
      "Pass --config FILE (see ci/gate.json in the vox repository).",
      true,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(`${path} is not valid JSON: ${(e as Error).message}`, FIX);
  }
  return normalizeConfig(raw, path);
}
