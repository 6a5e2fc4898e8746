// cpu: what building the CPU engine needs: a C compiler, make, OpenBLAS (headers + library).
import { engineInfo, resolveLib } from "../derive.js";
import { combine, fail, firstLine, warn, type Check, type Verdict } from "./types.js";

const APT =
  "sudo apt-get install build-essential pkg-config libopenblas-dev (Fedora: sudo dnf install gcc make openblas-devel).";

export const cpuCheck: Check = {
  id: "cpu",
  title: "CPU backend build tools",
  needs: "cpu",
  run(f) {
    // Missing build tools only matter when the engine still has to be built.
    const built = engineInfo(f)?.backends.includes("cpu") ?? false;
    const missing = (what: string): Verdict =>
      built ? warn(`${what} (the engine is already built; needed only to rebuild)`, APT) : fail(what, APT);
    const findings: Verdict[] = [];
    if (!f.cc.path) findings.push(missing("no C compiler (cc/gcc) on PATH"));
    if (!f.make.path) findings.push(missing("make not found on PATH"));
    const pc = f.openblas.pkgConfig;
    const pcVersion = pc && pc.exitCode === 0 ? firstLine(pc.stdout) : null;
    if (f.openblas.headers.length === 0 && !pcVersion) findings.push(missing("OpenBLAS headers (cblas.h) not found"));
    const lib = resolveLib(f, "libopenblas.so.0");
    if (!lib && !pcVersion) findings.push(missing("libopenblas.so.0 is not in the loader cache"));
    const parts = [
      f.cc.path ? `${f.cc.path}: ${firstLine(f.cc.version?.stdout ?? "")}` : null,
      f.make.path ? `make: ${f.make.path}` : null,
      pcVersion || f.openblas.headers.length
        ? `OpenBLAS ${pcVersion ?? ""}${f.openblas.headers[0] ? ` (${f.openblas.headers[0]})` : ""}`.replace("  ", " ")
        : null,
    ].filter((x): x is string => x !== null);
    return combine(findings, parts.join("\n"));
  },
};
