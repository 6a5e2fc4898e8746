// engine/cuda.mk: both fatbin.o objects (release and the debug build's) depend on build/kernels_fatbin.h.
// The case that was missed: the object compiled before the header existed (`make debug` before
// `make cuda`), so its dependency file does not name the header; embedding kernels afterwards must
// still rebuild it. Checked in a scratch build folder (BUILD=…) with a stand-in header, with `make -q`
// (exit 0 = up to date, 1 = would rebuild).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { packageRoot } from "../../toolkit/src/lib/paths.js";

const engine = join(packageRoot(), "engine");
const build = mkdtempSync(join(tmpdir(), "vox-build-deps-"));
after(() => rmSync(build, { recursive: true, force: true }));

const make = (...args: string[]) =>
  spawnSync("make", ["-C", engine, `BUILD=${build}`, ...args], {
    encoding: "utf8",
    env: { ...process.env, MAKEFLAGS: "" },
  });

for (const kind of ["obj", "debug/obj"]) {
  test(`${kind}/src/cuda/fatbin.o is rebuilt when the kernels header appears after it`, () => {
    const obj = join(build, kind, "src/cuda/fatbin.o");
    rmSync(join(build, "kernels_fatbin.h"), { force: true });
    const first = make(obj);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(make("-q", obj).status, 0, "up to date right after the build");
    writeFileSync(
      join(build, "kernels_fatbin.h"),
      '#define VOX_KERNELS_ARCHS "sm_90"\nstatic const unsigned char vox_kernels_fatbin_data[] = {0};\n',
    );
    assert.equal(make("-q", obj).status, 1, "a new kernels header must make the object out of date");
    const second = make(obj);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(make("-q", obj).status, 0, "up to date again after the rebuild");
  });
}
