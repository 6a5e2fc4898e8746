// Pure parsers for the raw outputs kept in the facts.

export { parseNvidiaSmi, SMI_FIELDS, type SmiGpu } from "../../lib/nvidia-smi.js";

/** "CUDA Version: 13.0" from nvidia-smi's banner (the newest CUDA the driver supports). */
export function parseSmiCudaVersion(banner: string): string | null {
  return /CUDA Version:\s*([0-9]+\.[0-9]+)/.exec(banner)?.[1] ?? null;
}

export interface LdEntry {
  soname: string;
  flags: string;
  path: string;
}

/** `ldconfig -p` lines: "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/wsl/lib/libcuda.so.1". */
export function parseLdconfig(text: string): LdEntry[] {
  const out: LdEntry[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$/.exec(line);
    if (m) out.push({ soname: m[1]!, flags: m[2]!, path: m[3]! });
  }
  return out;
}

/** "Cuda compilation tools, release 13.0, V13.0.88" -> "13.0". */
export function parseNvccVersion(text: string): string | null {
  return /release\s+([0-9]+\.[0-9]+)/.exec(text)?.[1] ?? null;
}

/** `nvcc --list-gpu-arch` -> ["compute_75", ...] -> [75, 80, ...] (family/arch-specific suffixes dropped). */
export function parseGpuArchList(text: string): number[] {
  const out = new Set<number>();
  for (const m of text.matchAll(/compute_(\d+)[af]?\b/g)) out.add(Number(m[1]));
  return [...out].sort((a, b) => a - b);
}

/** "9.0" -> 90, "12.0" -> 120. */
export function ccToSm(cc: string): number | null {
  const m = /^(\d+)\.(\d+)$/.exec(cc.trim());
  return m ? Number(m[1]) * 10 + Number(m[2]) : null;
}

/** Compares dotted versions numerically: negative, 0, positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** cuDriverGetVersion's integer (13000) -> "13.0". */
export function cudaIntToVersion(v: number): string {
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

/** PRETTY_NAME from /etc/os-release. */
export function parseOsRelease(text: string | null): string | null {
  if (!text) return null;
  return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? null;
}

export interface WslInfo {
  isWsl: boolean;
  /** 1 or 2 (from the kernel release), null when not WSL. */
  generation: 1 | 2 | null;
  /** The WSL package version from `wsl.exe --version`, e.g. "2.3.26.0". */
  version: string | null;
}

export function detectWsl(kernel: string, procVersion: string | null, wslVersionOutput: string | null): WslInfo {
  const text = `${kernel} ${procVersion ?? ""}`;
  if (!/microsoft/i.test(text)) return { isWsl: false, generation: null, version: null };
  const generation = /WSL2|microsoft-standard/i.test(text) ? 2 : 1;
  const version = wslVersionOutput ? (/WSL[^:\n]*:\s*([0-9][0-9.]+)/.exec(wslVersionOutput)?.[1] ?? null) : null;
  return { isWsl: true, generation, version };
}
