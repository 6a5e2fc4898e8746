// Reports -> one matrix row: the environment (from the reports' shared environment block), the
// status of each of doctor / build / smoke / accuracy found among them, and the bench's speed on the
// 180 s clip (else its longest), preferring the CUDA backend. Pure.
import type { Environment } from "../../lib/environment.js";
import type { BenchReport } from "../bench/types.js";
import type { MatrixSchema, Row, Status } from "../../generated/schemas.js";

export type { Status };
const CHECKS = ["doctor", "build", "smoke", "accuracy"] as const;

export type MatrixRow = Row;

/** Generated from checks/schemas (the schema is the authority). */
export type Matrix = MatrixSchema;

export interface LoadedReport {
  name: string;
  data: { kind?: unknown; environment?: Environment; status?: unknown; summary?: { failed?: number; warnings?: number } } & Record<string, unknown>;
}

/** A report's verdict: `status` for build/smoke/accuracy, the summary counts for doctor. */
export function statusOf(r: LoadedReport["data"]): Status {
  if (r.kind === "doctor") {
    const s = r.summary ?? {};
    return (s.failed ?? 0) > 0 ? "fail" : (s.warnings ?? 0) > 0 ? "warn" : "pass";
  }
  return r.status === "pass" || r.status === "fail" || r.status === "error" || r.status === "warn" ? r.status : "error";
}

/** The environment facts that make a row distinct. */
function rowKey(e: Environment): string {
  const g = e.gpus[0];
  return [e.os.distro ?? e.os.platform, e.os.release, e.os.wsl ? `WSL${e.os.wsl}` : "", g ? `${g.name} ${g.computeCapability ?? ""}` : "no GPU", e.driver.version ?? "", e.cuda.nvccVersion ?? "", e.cuda.cublasVersion ?? "", e.engine.commit ?? ""].filter((x) => x !== "").join(" | ");
}

function benchSummary(b: BenchReport): MatrixRow["bench"] {
  const ok = b.results.filter((r) => r.stats !== null);
  if (ok.length === 0) return null;
  const longest = Math.max(...ok.map((r) => r.clip.seconds));
  const target = ok.some((r) => Math.abs(r.clip.seconds - 180) < 0.5) ? 180 : longest;
  const atTarget = ok.filter((r) => Math.abs(r.clip.seconds - target) < 0.5);
  const pick = atTarget.find((r) => r.backend === "cuda") ?? atTarget[0]!;
  const s = pick.stats!;
  return {
    backend: pick.backend,
    model: b.model.source === "synthetic" ? `synthetic-${b.model.size}-${b.model.seed}` : (b.model.dir.split(/[\\/]/).filter(Boolean).at(-1) ?? b.model.dir),
    clipSeconds: pick.clip.seconds,
    xRealTime: s.xRealTime.median,
    msPerStep: s.msPerStep.median,
    floorMsPerStep: pick.derived?.floorMsPerStep ?? null,
    encoderAdapterMs: s.encoderAdapterMs.median,
    repeat: b.settings.repeat,
  };
}

/** Builds the row; throws Error when the reports come from different machines or none has an environment. */
export function makeRow(reports: readonly LoadedReport[], now = new Date()): MatrixRow {
  const withEnv = reports.filter((r) => r.data.environment);
  const bench = reports.find((r) => r.data.kind === "bench");
  const env = (bench ?? withEnv[0])?.data.environment;
  if (!env) throw new Error("none of the reports carries an environment block");
  const hosts = new Set(withEnv.map((r) => r.data.environment!.host));
  if (hosts.size > 1) throw new Error(`the reports come from ${hosts.size} different machines (host hashes ${[...hosts].join(", ")}); add one machine's reports at a time`);
  const status = Object.fromEntries(CHECKS.map((c) => {
    const latest = reports.filter((r) => r.data.kind === c).at(-1);
    return [c, latest ? statusOf(latest.data) : "not run"];
  })) as MatrixRow["status"];
  const g = env.gpus[0];
  return {
    key: rowKey(env),
    addedAt: now.toISOString(),
    os: { distro: env.os.distro, kernel: env.os.release, wsl: env.os.wsl, arch: env.os.arch },
    gpu: g ? { name: g.name, computeCapability: g.computeCapability, memoryMb: g.totalMb } : null,
    driver: env.driver.version,
    cudaDriver: env.driver.cudaVersion,
    cudaToolkit: env.cuda.nvccVersion,
    cublas: env.cuda.cublasVersion,
    engineCommit: env.engine.commit,
    toolkitCommit: env.toolkit.commit,
    status,
    bench: bench ? benchSummary(bench.data as unknown as BenchReport) : null,
    reports: reports.map((r) => r.name),
  };
}

/** Adds the row, replacing an earlier row of the same environment. */
export function addRow(m: Matrix, row: MatrixRow): Matrix {
  return { schemaVersion: 1, rows: [...m.rows.filter((r) => r.key !== row.key), row] };
}
