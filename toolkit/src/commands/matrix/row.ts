// Reports -> one matrix row: the environment (from the reports' shared environment block), the
// status of each of doctor / build / smoke / accuracy found among them, and the bench's speed on the
// 180 s clip (else its longest), preferring the CUDA backend. Pure.
// Per check the NEWEST report by its own time (createdAt; doctor: generatedAt) decides, whatever the
// order of the files on the command line; a gate report carries its build / smoke / accuracy stages
// (the worst stage of each kind; skipped stages carry nothing). A check no report carries keeps the
// environment's earlier row's status (addRow), so a partial report set updates only what it carries.
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
  data: {
    kind?: unknown;
    environment?: Environment;
    status?: unknown;
    summary?: { failed?: number; warnings?: number };
  } & Record<string, unknown>;
}

/** A report's verdict: `status` for build/smoke/accuracy, the summary counts for doctor. */
export function statusOf(r: LoadedReport["data"]): Status {
  if (r.kind === "doctor") {
    const s = r.summary ?? {};
    return (s.failed ?? 0) > 0 ? "fail" : (s.warnings ?? 0) > 0 ? "warn" : "pass";
  }
  return r.status === "pass" || r.status === "fail" || r.status === "error" || r.status === "warn" ? r.status : "error";
}

type Check = (typeof CHECKS)[number];
const RANK: Record<Status, number> = { "not run": 0, pass: 1, warn: 2, fail: 3, error: 4 };

/** The report's own time: createdAt, or doctor's generatedAt; null when absent or not a date. */
function reportTime(r: LoadedReport["data"]): number | null {
  const t = typeof r.createdAt === "string" ? r.createdAt : typeof r.generatedAt === "string" ? r.generatedAt : null;
  const ms = t === null ? NaN : Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

/** The check verdicts one report carries: its own kind, or a gate's stages (worst per kind). */
function carried(r: LoadedReport["data"]): Partial<Record<Check, Status>> {
  if (r.kind === "gate") {
    const out: Partial<Record<Check, Status>> = {};
    const stages = Array.isArray(r.stages) ? (r.stages as Array<{ stage?: unknown; status?: unknown }>) : [];
    for (const s of stages) {
      const kind = CHECKS.find((c) => c === s.stage);
      if (!kind || s.status === "skip") continue;
      const st: Status = s.status === "pass" || s.status === "fail" ? s.status : "error";
      if (out[kind] === undefined || RANK[st] > RANK[out[kind]!]) out[kind] = st;
    }
    return out;
  }
  const kind = CHECKS.find((c) => c === r.kind);
  return kind ? { [kind]: statusOf(r) } : {};
}

/** Per check, the status of the newest report carrying it (ties: the later one given). */
export function newestStatuses(reports: readonly LoadedReport[]): {
  status: MatrixRow["status"];
  statusAt: NonNullable<MatrixRow["statusAt"]>;
} {
  const best: Partial<Record<Check, { t: number; status: Status }>> = {};
  for (const r of reports) {
    const t = reportTime(r.data) ?? -Infinity;
    for (const [c, st] of Object.entries(carried(r.data)) as Array<[Check, Status]>) {
      if (best[c] === undefined || t >= best[c]!.t) best[c] = { t, status: st };
    }
  }
  const status = Object.fromEntries(CHECKS.map((c) => [c, best[c]?.status ?? "not run"])) as MatrixRow["status"];
  const statusAt: NonNullable<MatrixRow["statusAt"]> = {};
  for (const c of CHECKS) if (best[c] && Number.isFinite(best[c]!.t)) statusAt[c] = new Date(best[c]!.t).toISOString();
  return { status, statusAt };
}

/** The environment facts that make a row distinct: the machine's software and hardware, not the
 *  engine's commit, so a newer measurement of the same environment replaces its row (the history of
 *  measurements is engine/PERF.md's). */
function rowKey(e: Environment): string {
  const g = e.gpus[0];
  return [
    e.os.distro ?? e.os.platform,
    e.os.release,
    e.os.wsl ? `WSL${e.os.wsl}` : "",
    g ? `${g.name} ${g.computeCapability ?? ""}` : "no GPU",
    e.driver.version ?? "",
    e.cuda.nvccVersion ?? "",
    e.cuda.cublasVersion ?? "",
  ]
    .filter((x) => x !== "")
    .join(" | ");
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
    model:
      b.model.source === "synthetic"
        ? `synthetic-${b.model.size}-${b.model.seed}`
        : (b.model.dir.split(/[\\/]/).filter(Boolean).at(-1) ?? b.model.dir),
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
  const benches = reports.filter((r) => r.data.kind === "bench");
  const bench = benches.reduce<LoadedReport | undefined>(
    (a, r) => (a && (reportTime(a.data) ?? 0) > (reportTime(r.data) ?? 0) ? a : r),
    undefined,
  );
  const env = (bench ?? withEnv[0])?.data.environment;
  if (!env) throw new Error("none of the reports carries an environment block");
  const hosts = new Set(withEnv.map((r) => r.data.environment!.host));
  if (hosts.size > 1)
    throw new Error(
      `the reports come from ${hosts.size} different machines (host hashes ${[...hosts].join(", ")}); add one machine's reports at a time`,
    );
  const { status, statusAt } = newestStatuses(reports);
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
    statusAt,
    bench: bench ? benchSummary(bench.data as unknown as BenchReport) : null,
    reports: reports.map((r) => r.name),
  };
}

/** Adds the row, merged into an earlier row of the same environment: a check the new reports do not
 *  carry ("not run"), or carry from an older report than the row's, keeps the row's status; no bench
 *  keeps the row's bench. */
export function addRow(m: Matrix, row: MatrixRow): Matrix {
  const old = m.rows.find((r) => r.key === row.key);
  let merged = row;
  if (old) {
    const status = { ...row.status };
    const statusAt = { ...(row.statusAt ?? {}) };
    for (const c of CHECKS) {
      const oldAt = old.statusAt?.[c];
      const newAt = row.statusAt?.[c];
      const newerOld = oldAt !== undefined && (newAt === undefined || Date.parse(oldAt) > Date.parse(newAt));
      if (row.status[c] === "not run" || (newerOld && old.status[c] !== "not run")) {
        status[c] = old.status[c];
        if (oldAt !== undefined) statusAt[c] = oldAt;
        else delete statusAt[c];
      }
    }
    merged = {
      ...row,
      status,
      statusAt,
      bench: row.bench ?? old.bench,
      reports: [...new Set([...old.reports, ...row.reports])],
    };
  }
  return { schemaVersion: 1, rows: [...m.rows.filter((r) => r.key !== row.key), merged] };
}
