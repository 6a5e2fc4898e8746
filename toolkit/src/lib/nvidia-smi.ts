// The one nvidia-smi collector (vox-doctor's gpu facts and every report's environment block): where it is
// (PATH, else WSL2's /usr/lib/wsl/lib/nvidia-smi), the query and the banner, each with a 15 s limit (a driver
// in a bad state can hang it). Never throws: a missing nvidia-smi gives nulls.
import { existsSync } from "node:fs";
import { type CmdFact, runCommand, which } from "./exec.js";

/** The query the collector runs; parseNvidiaSmi expects these columns in this order. */
export const SMI_FIELDS = [
  "index",
  "name",
  "uuid",
  "driver_version",
  "compute_cap",
  "memory.total",
  "memory.free",
  "pci.bus_id",
] as const;

export interface SmiGpu {
  index: number;
  name: string;
  uuid: string;
  driver: string;
  cc: string; // "9.0"
  totalMb: number;
  freeMb: number;
  busId: string;
}

/** `nvidia-smi --query-gpu=<SMI_FIELDS> --format=csv,noheader,nounits` -> one record per GPU. */
export function parseNvidiaSmi(csv: string): SmiGpu[] {
  return csv
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((line) => {
      const c = line.split(",").map((s) => s.trim());
      if (c.length < SMI_FIELDS.length) throw new Error(`unexpected nvidia-smi line: ${line}`);
      const num = (s: string) => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : NaN);
      return {
        index: num(c[0]!),
        name: c[1]!,
        uuid: c[2]!,
        driver: c[3]!,
        cc: c[4]!,
        totalMb: num(c[5]!),
        freeMb: num(c[6]!),
        busId: c[7]!,
      };
    });
}

const WSL_SMI = "/usr/lib/wsl/lib/nvidia-smi";
const TIMEOUT_MS = 15_000;

export interface NvidiaSmiFacts {
  /** `nvidia-smi --query-gpu=<SMI_FIELDS> --format=csv,noheader,nounits`; null when nvidia-smi is not found */
  query: CmdFact | null;
  /** `nvidia-smi` plain output (its banner has "CUDA Version: 13.0"); null when not found */
  banner: CmdFact | null;
}

export async function collectNvidiaSmi(env: NodeJS.ProcessEnv = process.env): Promise<NvidiaSmiFacts> {
  const smi = which("nvidia-smi", env.PATH) ?? (existsSync(WSL_SMI) ? WSL_SMI : null);
  if (!smi) return { query: null, banner: null };
  const [query, banner] = await Promise.all([
    runCommand(smi, [`--query-gpu=${SMI_FIELDS.join(",")}`, "--format=csv,noheader,nounits"], {
      timeoutMs: TIMEOUT_MS,
    }),
    runCommand(smi, [], { timeoutMs: TIMEOUT_MS }),
  ]);
  return { query, banner };
}

/** The environment block's GPU lines ("index, name, driver, cc, totalMb") from the query; null when there is
 *  none or it cannot be parsed (the doctor's gpu check reports that). */
export function environmentSmiCsv(query: CmdFact | null): string | null {
  if (query?.exitCode !== 0) return null;
  try {
    const list = parseNvidiaSmi(query.stdout);
    return list.length ? list.map((g) => [g.index, g.name, g.driver, g.cc, g.totalMb].join(", ")).join("\n") : null;
  } catch {
    return null;
  }
}
