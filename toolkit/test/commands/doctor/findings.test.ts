// Every doctor finding's own severity and fix, one broken fact at a time on a healthy machine's
// captured facts: the finding must be in its check's `findings` with that status (a check's overall
// status alone can come from another finding), the fix must be its own, the other checks must still
// pass, and no message may print "undefined".
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runChecks } from "../../../src/commands/doctor/checks/index.js";
import type { Verdict } from "../../../src/commands/doctor/checks/types.js";
import { collectModel } from "../../../src/commands/doctor/collect.js";
import type { Facts } from "../../../src/commands/doctor/facts.js";
import { packageRoot } from "../../../src/lib/paths.js";
import { cmd, engineInfoCmd, ldconfigWithout, linuxH100, probeOk, text, wslRtx4090 } from "./scenarios.js";

interface Finding {
  name: string;
  facts: () => Facts;
  check: string;
  status: "warn" | "fail";
  detail: RegExp;
  fix: RegExp;
  /** other checks this breakage also fails, by design */
  alsoFails?: string[];
}

/** The machine's healthy probe answer with another libcuda result (cuBLAS as it was). */
function setProbe(f: Facts, libcuda: object): void {
  const out = JSON.parse(f.cudaProbe.run!.stdout) as Record<string, unknown>;
  f.cudaProbe.run = cmd("cuda-probe", JSON.stringify({ ...out, libcuda }));
}
const wsl = (change: (f: Facts) => void) => () => {
  const f = wslRtx4090();
  change(f);
  return f;
};
const linux = (change: (f: Facts) => void) => () => {
  const f = linuxH100();
  change(f);
  return f;
};
const noLibcudaInCache = (f: Facts) => {
  f.ldconfig = ldconfigWithout("libcuda");
};

const FINDINGS: Finding[] = [
  {
    name: "stub libcuda through LD_LIBRARY_PATH, while the probe itself still loads the real driver",
    facts: wsl((f) => {
      f.env.LD_LIBRARY_PATH = "/usr/local/cuda/lib64/stubs";
    }),
    check: "libcuda",
    status: "fail",
    detail: /LD_LIBRARY_PATH contains \/usr\/local\/cuda\/lib64\/stubs, whose libcuda\.so is the toolkit's stub/,
    fix: /^Remove \/usr\/local\/cuda\/lib64\/stubs from LD_LIBRARY_PATH/,
  },
  {
    name: "stub in the loader cache",
    facts: wsl((f) => {
      f.ldconfig = cmd("ldconfig -p", text("ldconfig-wsl2-stub.txt"));
    }),
    check: "libcuda",
    status: "fail",
    detail: /the loader cache lists the stub .*stubs\/libcuda\.so/,
    fix: /^Remove \/usr\/local\/cuda\/targets\/x86_64-linux\/lib\/stubs/,
  },
  {
    name: "native libcuda shadowing the WSL one",
    facts: wsl((f) => {
      f.ldconfig = cmd("ldconfig -p", text("ldconfig-wsl2-shadowed.txt"));
    }),
    check: "libcuda",
    status: "fail",
    detail: /comes before \/usr\/lib\/wsl\/lib\/libcuda\.so\.1 .*shadows the WSL driver/,
    fix: /apt-get remove --purge/,
  },
  {
    name: "/usr/lib/wsl/lib not in the loader cache",
    facts: wsl((f) => {
      f.ldconfig = cmd("ldconfig -p", text("ldconfig-wsl2-nocache.txt"));
    }),
    check: "libcuda",
    status: "fail",
    detail: /\/usr\/lib\/wsl\/lib is neither in the loader cache/,
    fix: /ld\.wsl\.conf && sudo ldconfig/,
  },
  {
    name: "/usr/lib/wsl/lib missing",
    facts: wsl((f) => {
      f.libDirs["/usr/lib/wsl/lib"] = null;
    }),
    check: "libcuda",
    status: "fail",
    detail: /\/usr\/lib\/wsl\/lib does not exist/,
    fix: /driver on Windows/,
  },
  {
    name: "/usr/lib/wsl/lib without libcuda.so.1",
    facts: wsl((f) => {
      f.libDirs["/usr/lib/wsl/lib"] = ["libnvidia-ml.so.1"];
    }),
    check: "libcuda",
    status: "fail",
    detail: /\/usr\/lib\/wsl\/lib has no libcuda\.so\.1/,
    fix: /Reinstall the NVIDIA driver on Windows/,
  },
  {
    name: "no driver on native Linux: one finding, no 'cuInit failed with undefined'",
    facts: linux((f) => {
      noLibcudaInCache(f);
      f.libDirs["/usr/lib/x86_64-linux-gnu"] = ["libopenblas.so.0"];
      setProbe(f, { error: "libcuda.so.1: cannot open shared object file: No such file or directory" });
    }),
    check: "libcuda",
    status: "fail",
    detail: /^libcuda\.so\.1 is not in the loader cache nor in LD_LIBRARY_PATH: no NVIDIA driver is installed$/,
    fix: /ubuntu-drivers install/,
  },
  {
    name: "libcuda found but dlopen fails",
    facts: linux((f) => {
      setProbe(f, { error: "libcuda.so.1: wrong ELF class: ELFCLASS32" });
    }),
    check: "libcuda",
    status: "fail",
    detail: /dlopen\("libcuda\.so\.1"\) failed: libcuda\.so\.1: wrong ELF class/,
    fix: /Install the NVIDIA driver, or add its library folder/,
  },
  {
    name: "cuInit 100: no device",
    facts: linux((f) => {
      setProbe(f, { path: "/usr/lib/x86_64-linux-gnu/libcuda.so.1", init: 100, init_name: "CUDA_ERROR_NO_DEVICE" });
    }),
    check: "libcuda",
    status: "fail",
    detail: /cuInit failed with 100 \(CUDA_ERROR_NO_DEVICE/,
    fix: /CUDA_VISIBLE_DEVICES/,
  },
  {
    name: "cuInit with an unlisted code",
    facts: linux((f) => {
      setProbe(f, { path: "/usr/lib/x86_64-linux-gnu/libcuda.so.1", init: 222 });
    }),
    check: "libcuda",
    status: "fail",
    detail: /cuInit failed with 222 \(an unlisted CUresult\) using \/usr\/lib/,
    fix: /Update the driver; check dmesg/,
  },
  {
    name: "the probe answers without a cuInit result",
    facts: linux((f) => {
      setProbe(f, { path: "/usr/lib/x86_64-linux-gnu/libcuda.so.1" });
    }),
    check: "libcuda",
    status: "warn",
    detail: /the driver probe loaded \/usr\/lib\/x86_64-linux-gnu\/libcuda\.so\.1 but reported no cuInit result/,
    fix: /--save-facts/,
  },
  {
    name: "the probe printed an empty object (cut short): named, not a crash of the check",
    facts: linux((f) => {
      f.cudaProbe.run = cmd("cuda-probe", "{}");
    }),
    check: "libcuda",
    status: "fail",
    detail: /dlopen\("libcuda\.so\.1"\) failed: the probe reported nothing for it/,
    fix: /Install the NVIDIA driver/,
    alsoFails: ["cublas"],
  },
  {
    name: "WSL 1",
    facts: wsl((f) => {
      f.platform.kernel = "4.4.0-22621-Microsoft";
      f.platform.procVersion = "Linux version 4.4.0-22621-Microsoft (Microsoft@Microsoft.com)";
    }),
    check: "platform",
    status: "fail",
    detail: /WSL 1 has no GPU access/,
    fix: /wsl --set-version <distro> 2/,
    alsoFails: ["libcuda"],
  },
  {
    name: "not Linux",
    facts: linux((f) => {
      f.platform.os = "darwin";
    }),
    check: "platform",
    status: "fail",
    detail: /this is darwin/,
    fix: /wsl --install/,
  },
  {
    name: "no glibc",
    facts: linux((f) => {
      f.platform.glibc = null;
    }),
    check: "platform",
    status: "warn",
    detail: /need glibc/,
    fix: /glibc distribution/,
  },
  {
    name: "nvidia-smi missing",
    facts: linux((f) => {
      f.nvidiaSmi = null;
      f.nvidiaSmiBanner = null;
    }),
    check: "gpu",
    status: "fail",
    detail: /nvidia-smi not found/,
    fix: /ubuntu-drivers install/,
    alsoFails: ["toolkit", "engine"],
  },
  {
    name: "nvidia-smi hangs",
    facts: linux((f) => {
      f.nvidiaSmi = cmd("nvidia-smi", "", null, { timedOut: true, error: "timed out after 15000 ms" });
    }),
    check: "gpu",
    status: "fail",
    detail: /did not answer \(timed out\)/,
    fix: /Reboot/,
    alsoFails: ["toolkit", "engine"],
  },
  {
    name: "too little GPU memory",
    facts: linux((f) => {
      f.nvidiaSmi = cmd("nvidia-smi --query-gpu=...", text("smi-rtx5090-lowmem.csv"));
      f.model = collectModel("/nonexistent/voxtral-model");
    }),
    check: "gpu",
    status: "fail",
    detail: /too little GPU memory: GPU 0 has 6120 MiB free/,
    fix: /at least 11 GiB free/,
    alsoFails: ["model", "toolkit", "engine"],
  },
  {
    name: "nvcc missing and the engine not built for this GPU",
    facts: linux((f) => {
      f.nvcc = { path: null, version: null, archs: null };
      f.engine.info = engineInfoCmd(["cpu"], []);
    }),
    check: "toolkit",
    status: "warn",
    detail: /nvcc not found/,
    fix: /cuda-toolkit-13-0/,
    alsoFails: ["engine"],
  },
  {
    name: "nvcc newer than the driver",
    facts: wsl((f) => {
      f.nvcc.version = cmd("nvcc --version", text("nvcc-13.0.txt"));
      f.nvcc.archs = cmd("nvcc --list-gpu-arch", text("nvcc-13.0-archs.txt"));
    }),
    check: "toolkit",
    status: "fail",
    detail: /nvcc 13\.0 is newer than the CUDA 12\.9 this driver supports/,
    fix: /R580 or newer/,
  },
  {
    name: "cuBLAS 13 with a CUDA 12 driver",
    facts: wsl((f) => {
      f.cudaProbe.run = probeOk("/usr/lib/wsl/lib/libcuda.so.1.1", 12090, 13, "/usr/local/cuda/lib64");
    }),
    check: "cublas",
    status: "fail",
    detail: /cuBLAS 13 needs a driver supporting CUDA 13\.0/,
    fix: /update the driver|R580/i,
  },
  {
    name: "engine built without CUDA on a GPU machine",
    facts: linux((f) => {
      f.engine.info = engineInfoCmd(["cpu"], []);
    }),
    check: "engine",
    status: "fail",
    detail: /built without the CUDA backend/,
    fix: /vox build --backend cuda/,
  },
  {
    name: "engine missing",
    facts: linux((f) => {
      f.engine = { path: "/x/voxtral", exists: false, info: null };
    }),
    check: "engine",
    status: "fail",
    detail: /engine not built: \/x\/voxtral does not exist/,
    fix: /make -C engine/,
  },
  {
    name: "no C compiler after the engine is built",
    facts: linux((f) => {
      f.cc = { path: null, version: null };
    }),
    check: "cpu",
    status: "warn",
    detail: /no C compiler/,
    fix: /build-essential/,
  },
  {
    name: "ffmpeg missing",
    facts: linux((f) => {
      f.ffmpeg = { path: null, version: null };
    }),
    check: "ffmpeg",
    status: "warn",
    detail: /ffmpeg not found/,
    fix: /^sudo apt-get install ffmpeg$/,
  },
  {
    name: "model folder missing",
    facts: linux((f) => {
      f.model = collectModel("/nonexistent/voxtral-model");
    }),
    check: "model",
    status: "fail",
    detail: /model folder \/nonexistent\/voxtral-model not found/,
    fix: /hf download .* --local-dir \/nonexistent\/voxtral-model/,
  },
  {
    name: "--model names a file: no 'hf download --local-dir README.md'",
    facts: linux((f) => {
      f.model = collectModel(`${packageRoot()}/README.md`);
    }),
    check: "model",
    status: "fail",
    detail: /README\.md is a file, not a model folder/,
    fix: /^Pass --model DIR.*--local-dir voxtral-model /,
  },
];

/** The check's findings; a verdict returned whole (not through combine) is its own single finding. */
function findingsOf(v: Verdict): Array<{ status: string; detail: string; fix: string }> {
  return (
    v.findings ??
    (v.status === "warn" || v.status === "fail" ? [{ status: v.status, detail: v.detail, fix: v.fix ?? "" }] : [])
  );
}

describe("doctor findings: each with its own severity and fix", () => {
  for (const x of FINDINGS) {
    it(`${x.check}: ${x.name} -> ${x.status}`, () => {
      const results = runChecks(x.facts(), "auto");
      const c = results.find((r) => r.id === x.check)!;
      const hit = findingsOf(c).filter((g) => x.detail.test(g.detail));
      assert.equal(hit.length, 1, `one finding matching ${x.detail} in:\n${JSON.stringify(findingsOf(c), null, 1)}`);
      assert.equal(hit[0]!.status, x.status, "the finding's own severity");
      assert.match(hit[0]!.fix, x.fix);
      for (const r of results) {
        assert.doesNotMatch(`${r.detail}\n${r.fix ?? ""}`, /undefined|\(\?\)/, `${r.id} prints a placeholder`);
        if (r.id !== x.check && !(x.alsoFails ?? []).includes(r.id))
          assert.equal(r.status, "pass", `${r.id}: ${r.detail}`);
      }
    });
  }
});
