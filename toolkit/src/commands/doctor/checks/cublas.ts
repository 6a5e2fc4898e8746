// cublas: libcublas and libcublasLt loadable (the engine dlopens .so.13, then .so.12), the same
// major version, and not newer than the CUDA version the driver supports.
import { driverCuda, probe, resolveLib, type ProbeLib } from "../derive.js";
import type { Facts } from "../facts.js";
import { combine, fail, pass, type Check, type Verdict } from "./types.js";

const SONAMES = {
  cublas: ["libcublas.so.13", "libcublas.so.12"],
  cublasLt: ["libcublasLt.so.13", "libcublasLt.so.12"],
} as const;

/** Directories (not on the loader path) that hold a cuBLAS library anyway. */
function onDiskOnly(f: Facts, name: "cublas" | "cublasLt"): string[] {
  return Object.entries(f.libDirs)
    .filter(([d, files]) => !d.includes("stubs") && files?.some((n) => SONAMES[name].some((s) => n === s)))
    .map(([d]) => d);
}

function describe(lib: ProbeLib): string {
  const version = lib.version && lib.version[0]! >= 0 ? ` (version ${lib.version.join(".")})` : "";
  // Found only through the engine's fixed fallback paths: vox works, other programs may not.
  const fixed = lib.opened?.startsWith("/")
    ? `; found at the fixed path ${lib.opened}, not through the loader cache (sudo ldconfig registers it)`
    : "";
  return `${lib.soname} -> ${lib.path}${version}${fixed}`;
}

export const cublasCheck: Check = {
  id: "cublas",
  title: "cuBLAS libraries",
  needs: "cuda",
  run(f) {
    const findings: Verdict[] = [];
    const lines: string[] = [];
    const majors: Record<string, number> = {};
    const p = probe(f);
    for (const name of ["cublas", "cublasLt"] as const) {
      const lib = p?.[name];
      if (lib && !lib.error && lib.soname) {
        lines.push(describe(lib));
        majors[name] = Number(/\.so\.(\d+)$/.exec(lib.soname)?.[1]);
        continue;
      }
      // No probe result: what the loader would find, untested.
      const found = SONAMES[name].map((s) => ({ s, r: resolveLib(f, s) })).find((x) => x.r);
      if (!lib && found) {
        lines.push(`${found.s} -> ${found.r!.path} (${found.r!.via}; not load-tested)`);
        majors[name] = Number(/\.so\.(\d+)$/.exec(found.s)?.[1]);
        continue;
      }
      const disk = onDiskOnly(f, name);
      findings.push(
        fail(
          `lib${name}.so.13 / .so.12 cannot be loaded${lib?.error ? ` (${lib.error})` : ""}${disk.length ? `; present in ${disk.join(", ")} but not on the loader path` : ""}`,
          disk.length
            ? `export LD_LIBRARY_PATH=${disk[0]}:$LD_LIBRARY_PATH (or echo ${disk[0]} | sudo tee /etc/ld.so.conf.d/cuda.conf && sudo ldconfig).`
            : "Install cuBLAS: sudo apt-get install libcublas-13-0 (from NVIDIA's CUDA repository; on WSL2 use the WSL-Ubuntu repository). README: Troubleshooting cublas.",
        ),
      );
    }
    if (majors.cublas && majors.cublasLt && majors.cublas !== majors.cublasLt) {
      findings.push(
        fail(
          `libcublas is version ${majors.cublas} but libcublasLt is ${majors.cublasLt}: they must come from the same CUDA release`,
          "Install matching packages (libcublas-13-0 ships both) and remove the stray copy from LD_LIBRARY_PATH.",
        ),
      );
    }
    const drv = driverCuda(f);
    const major = majors.cublas ?? majors.cublasLt;
    if (drv && major && major > Number(drv.split(".")[0])) {
      findings.push(
        fail(
          `cuBLAS ${major} needs a driver supporting CUDA ${major}.0, this driver supports CUDA ${drv} ("CUDA driver version is insufficient", cudaErrorInsufficientDriver 35)`,
          `Update the NVIDIA driver (CUDA ${major}.0 needs R${major === 13 ? "580" : "525"} or newer; on WSL2 update the Windows driver), or install libcublas-${drv.split(".")[0]}-x.`,
        ),
      );
    }
    return findings.length ? combine(findings, lines.join("\n")) : pass(lines.join("\n"));
  },
};
