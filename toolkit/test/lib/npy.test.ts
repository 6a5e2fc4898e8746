import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { encodeNpyF32, NpyError, readNpy, readNpyF32, writeNpyF32 } from "../../src/lib/npy.js";
import { fixture } from "../helpers.js";
import { trackedTempDir } from "../../src/lib/cleanup.js";

// The fixtures were written by numpy.save (see their names for dtype and shape).
test("reads float32 2x3 written by numpy", () => {
  const a = readNpyF32(fixture("npy", "f32_2x3.npy"));
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual([...a.data], [0, 0.25, 0.5, 0.75, 1, 1.25]);
});

test("reads float64, int32 scalar, int64, empty and version-2 files", () => {
  const f64 = readNpy(fixture("npy", "f64_vec.npy"));
  assert.ok(f64.data instanceof Float64Array);
  assert.deepEqual([...f64.data], [1.5, -2.25, 3e100]);
  const i4 = readNpy(fixture("npy", "i4_scalar.npy"));
  assert.deepEqual(i4.shape, []);
  assert.deepEqual([...i4.data], [7]);
  const i8 = readNpy(fixture("npy", "i8_2x2.npy"));
  assert.deepEqual([...(i8.data as BigInt64Array)], [1n, -2n, 3n, 2n ** 40n]);
  const empty = readNpy(fixture("npy", "f32_empty.npy"));
  assert.deepEqual(empty.shape, [0, 4]);
  assert.equal(empty.data.length, 0);
  assert.deepEqual([...readNpy(fixture("npy", "f32_v2.npy")).data], [1, 2, 3]);
});

test("rejects big-endian, Fortran order, wrong dtype and truncated files with a reason", () => {
  assert.throws(() => readNpy(fixture("npy", "f32_bigendian.npy")), /dtype '>f4' is not supported/);
  assert.throws(() => readNpy(fixture("npy", "f32_fortran.npy")), /Fortran-order/);
  assert.throws(() => readNpyF32(fixture("npy", "f64_vec.npy")), /expected float32/);
  const cut = readFileSync(fixture("npy", "f32_2x3.npy")).subarray(0, 140);
  assert.throws(
    () => readNpy(writeTmp("cut.npy", cut)),
    (e: unknown) => e instanceof NpyError && /needs 24 data bytes, file has 12/.test(e.message),
  );
});

test("writer output round-trips and is read back by numpy", () => {
  const data = new Float32Array([1, -2.5, 3.25, 1e-7, 0, 42]);
  const path = join(trackedTempDir("vox-npy-"), "w.npy");
  writeNpyF32(path, [3, 2], data);
  assert.equal((10 + readFileSync(path).readUInt16LE(8)) % 64, 0, "data starts on a 64-byte boundary");
  assert.deepEqual(readNpyF32(path).data, data);
  const py = spawnSync(
    "python3",
    ["-c", `import numpy as n; a=n.load(${JSON.stringify(path)}); print(a.dtype, a.shape, a.tolist())`],
    { encoding: "utf8" },
  );
  if (py.status === 0)
    assert.equal(py.stdout.trim(), "float32 (3, 2) [[1.0, -2.5], [3.25, 1.0000000116860974e-07], [0.0, 42.0]]");
  assert.throws(() => encodeNpyF32([4], data), /holds 4 values, data has 6/);
});

function writeTmp(name: string, bytes: Uint8Array): string {
  const p = join(trackedTempDir("vox-npy-"), name);
  writeFileSync(p, bytes);
  return p;
}
