// libcuda: where the loader takes libcuda.so.1 from (the engine dlopens that soname), and whether
// it initialises (cuInit, cuDriverGetVersion through the probe). On WSL2 the driver lives in
// /usr/lib/wsl/lib; the two classic breakages are the toolkit's stubs/libcuda.so (a link-time
// stub: every call returns CUDA_ERROR_STUB_LIBRARY = 34) and a native Linux driver installed
// inside WSL whose libcuda shadows the WSL one.
import { engineInfo, ldEntries, ldLibraryPath, probe, resolveLib, wsl, WSL_LIB } from "../derive.js";
import type { Facts } from "../facts.js";
import { cudaIntToVersion } from "../parse.js";
import { combine, fail, warn, type Check, type Verdict } from "./types.js";

/** CUresult codes worth explaining (cuda.h). */
const CU_ERRORS: Record<number, { what: string; fix: string }> = {
  3: {
    what: "CUDA_ERROR_NOT_INITIALIZED",
    fix: "Reboot (WSL2: wsl --shutdown in PowerShell); check dmesg for NVRM errors.",
  },
  34: {
    what: "CUDA_ERROR_STUB_LIBRARY: the toolkit's stub libcuda was loaded instead of the driver",
    fix: "Remove every .../stubs directory from LD_LIBRARY_PATH and /etc/ld.so.conf.d, then sudo ldconfig.",
  },
  46: {
    what: "CUDA_ERROR_DEVICE_UNAVAILABLE: the GPU is busy or in exclusive mode",
    fix: "Check nvidia-smi -q | grep 'Compute Mode' and stop the process holding the GPU.",
  },
  100: {
    what: "CUDA_ERROR_NO_DEVICE: the driver sees no GPU",
    fix: "Check nvidia-smi and CUDA_VISIBLE_DEVICES (unset it, or set it to a listed index).",
  },
  803: {
    what: "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: libcuda does not match the loaded kernel driver",
    fix: "Reboot after a driver update, or remove the duplicate driver package so library and kernel module match.",
  },
  804: {
    what: "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE: a forward-compatibility libcuda is used on a GPU that does not support it",
    fix: "Remove the cuda-compat package from LD_LIBRARY_PATH / ld.so.conf.d.",
  },
  999: { what: "CUDA_ERROR_UNKNOWN", fix: "Reboot (WSL2: wsl --shutdown); update the driver." },
};

const STUB_FIX = (dir: string) =>
  `Remove ${dir} from LD_LIBRARY_PATH (and from any /etc/ld.so.conf.d/*.conf, then sudo ldconfig). The stub is for linking only. README: Troubleshooting libcuda.`;
const SHADOW_FIX =
  "Never install a Linux NVIDIA driver inside WSL2: sudo apt-get remove --purge 'libnvidia-compute-*' 'nvidia-driver-*' 'libnvidia-gl-*' && sudo ldconfig (keep the CUDA toolkit: install cuda-toolkit-13-0, not cuda or cuda-drivers). README: WSL2 setup.";
const WSL_CACHE_FIX = `echo ${WSL_LIB} | sudo tee /etc/ld.so.conf.d/ld.wsl.conf && sudo ldconfig (or export LD_LIBRARY_PATH=${WSL_LIB}:$LD_LIBRARY_PATH).`;

function wslFindings(f: Facts): Verdict[] {
  const out: Verdict[] = [];
  const files = f.libDirs[WSL_LIB];
  if (!files) {
    out.push(
      fail(
        `${WSL_LIB} does not exist: the Windows NVIDIA driver is not exposed to WSL`,
        "Install or update the NVIDIA driver on Windows (R525 or newer), then wsl --shutdown in PowerShell. README: WSL2 setup.",
      ),
    );
    return out;
  }
  if (!files.includes("libcuda.so.1")) {
    out.push(
      fail(
        `${WSL_LIB} has no libcuda.so.1 (found: ${files.join(", ") || "nothing"})`,
        "Reinstall the NVIDIA driver on Windows, then wsl --shutdown. README: WSL2 setup.",
      ),
    );
  }
  const entries = ldEntries(f, "libcuda.so.1");
  const native = entries.filter((e) => !e.path.startsWith(`${WSL_LIB}/`) && !e.path.includes("/stubs/"));
  const first = entries[0];
  if (first && native.includes(first)) {
    out.push(
      fail(
        `a native Linux libcuda (${first.path}) comes before ${WSL_LIB}/libcuda.so.1 in the loader cache: it shadows the WSL driver and cannot reach the GPU`,
        SHADOW_FIX,
      ),
    );
  } else if (native.length > 0) {
    out.push(
      warn(
        `a native Linux driver library is installed (${native.map((e) => e.path).join(", ")}); the WSL one wins for now, but a later ldconfig can flip that`,
        SHADOW_FIX,
      ),
    );
  }
  if (
    !entries.some((e) => e.path.startsWith(`${WSL_LIB}/`)) &&
    !ldLibraryPath(f).some((d) => d.replace(/\/$/, "") === WSL_LIB)
  ) {
    out.push(
      fail(
        `${WSL_LIB} is neither in the loader cache (ldconfig -p) nor in LD_LIBRARY_PATH, so dlopen("libcuda.so.1") cannot find the driver`,
        WSL_CACHE_FIX,
      ),
    );
  }
  return out;
}

export const libcudaCheck: Check = {
  id: "libcuda",
  title: "CUDA driver library (libcuda)",
  needs: "cuda",
  run(f) {
    const findings: Verdict[] = [];
    const isWsl = wsl(f).isWsl;
    // Stub libraries reachable by the loader.
    for (const d of ldLibraryPath(f)) {
      if (/\/stubs\/?$/.test(d) && f.libDirs[d]?.some((n) => n.startsWith("libcuda.so"))) {
        findings.push(
          fail(
            `LD_LIBRARY_PATH contains ${d}, whose libcuda.so is the toolkit's stub (CUDA_ERROR_STUB_LIBRARY, 34)`,
            STUB_FIX(d),
          ),
        );
      }
    }
    for (const e of ldEntries(f, "libcuda.so.1").concat(ldEntries(f, "libcuda.so"))) {
      if (e.path.includes("/stubs/"))
        findings.push(
          fail(
            `the loader cache lists the stub ${e.path} (CUDA_ERROR_STUB_LIBRARY, 34)`,
            STUB_FIX(e.path.replace(/\/[^/]+$/, "")),
          ),
        );
    }
    if (isWsl) findings.push(...wslFindings(f));

    const resolved = resolveLib(f, "libcuda.so.1");
    if (!resolved && !isWsl) {
      findings.push(
        fail(
          "libcuda.so.1 is not in the loader cache nor in LD_LIBRARY_PATH: no NVIDIA driver is installed",
          "Install the NVIDIA driver (Ubuntu: sudo ubuntu-drivers install), reboot. Without a GPU: --backend cpu.",
        ),
      );
    }
    const where = resolved ? `libcuda.so.1 -> ${resolved.path} (${resolved.via})` : "libcuda.so.1 not resolved";

    // What actually happens when it is loaded.
    const p = probe(f);
    const info = engineInfo(f);
    let probed = "";
    if (p) {
      const lc = p.libcuda;
      if (lc.error) {
        // Not found at all is already a finding above; a library that is there but does not load is its own.
        if (resolved || findings.length === 0)
          findings.push(
            fail(
              `dlopen("libcuda.so.1") failed: ${lc.error}`,
              isWsl ? WSL_CACHE_FIX : "Install the NVIDIA driver, or add its library folder to LD_LIBRARY_PATH.",
            ),
          );
      } else if (typeof lc.init !== "number") {
        findings.push(
          warn(
            `the driver probe loaded ${lc.path ?? "libcuda.so.1"} but reported no cuInit result`,
            "Run npx vox-doctor --save-facts facts.json and report it with that file.",
          ),
        );
      } else if (lc.init !== 0) {
        const known = CU_ERRORS[lc.init ?? -1];
        findings.push(
          fail(
            `cuInit failed with ${lc.init} (${known?.what ?? lc.init_name ?? "an unlisted CUresult"}) using ${lc.path ?? "libcuda.so.1"}`,
            known?.fix ?? "Update the driver; check dmesg.",
          ),
        );
      } else
        probed = `cuInit ok: ${lc.path}, driver supports CUDA ${cudaIntToVersion(lc.driver_version ?? 0)}, ${lc.devices} device(s)`;
      if (lc.path && /\/stubs\//.test(lc.path) && lc.init === 0)
        findings.push(fail(`loaded the stub ${lc.path}`, STUB_FIX(lc.path)));
    } else if (info?.cuda) {
      if (!info.cuda.available)
        findings.push(
          fail(
            `the engine's CUDA loader: ${info.cuda.reason ?? "not available"}`,
            "See the reason; README: Troubleshooting libcuda.",
          ),
        );
      else probed = `engine loader: ${info.cuda.libcuda}, driver ${cudaIntToVersion(info.cuda.driver_version ?? 0)}`;
    } else {
      findings.push(
        warn(
          `cuInit not tried (${f.cudaProbe.skipped ?? "probe failed"}; engine not built)`,
          "Install a C compiler (sudo apt-get install build-essential) so vox-doctor can probe the driver, or build the engine.",
        ),
      );
    }
    return combine(findings, [where, probed].filter((s) => s).join("\n"));
  },
};
