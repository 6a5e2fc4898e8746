// The safetensors rules on files built byte by byte here (and on the repository's fixtures).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { MAX_HEADER_BYTES, readSafetensorsHeader, validateSafetensors } from "../../src/lib/safetensors.js";
import { trackedTempDir } from "../../src/lib/cleanup.js";

const dir = trackedTempDir("vox-st-");

/** Writes [u64 header length][header JSON][data] and returns the validation. */
function check(header: object | string, dataBytes: number, name = "t.safetensors") {
  const h = Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  const p = join(dir, name);
  writeFileSync(p, Buffer.concat([len, h, Buffer.alloc(dataBytes)]));
  return validateSafetensors(readSafetensorsHeader(p));
}

const good = {
  __metadata__: { format: "pt" },
  "a.weight": { dtype: "BF16", shape: [2, 3], data_offsets: [0, 12] },
  "b.bias": { dtype: "F32", shape: [3], data_offsets: [12, 24] },
};

test("a well-formed file validates, tensors listed", () => {
  const v = check(good, 24);
  assert.deepEqual(v.errors, []);
  assert.equal(v.ok, true);
  assert.deepEqual([...v.tensors.keys()], ["a.weight", "b.bias"]);
  assert.equal(v.dataBytes, 24);
});

test("truncated data, trailing bytes, gaps and overlaps are each named", () => {
  assert.match(check(good, 20).errors.join(";"), /b\.bias: ends at byte 24 of a 20-byte data section/);
  assert.match(check(good, 30).errors.join(";"), /6 bytes after the last tensor are not covered/);
  const gap = { ...good, "b.bias": { dtype: "F32", shape: [3], data_offsets: [16, 28] } };
  assert.match(check(gap, 28).errors.join(";"), /gap of 4 bytes before b\.bias at offset 12/);
  const overlap = { ...good, "b.bias": { dtype: "F32", shape: [3], data_offsets: [8, 20] } };
  assert.match(check(overlap, 20).errors.join(";"), /b\.bias: overlaps the previous tensor/);
});

test("dtype x shape must equal the byte span; unknown dtypes and bad offsets are rejected", () => {
  const wrong = { "a.weight": { dtype: "BF16", shape: [2, 4], data_offsets: [0, 12] } };
  assert.match(check(wrong, 12).errors[0]!, /a\.weight: BF16 \[2,4\] needs 16 bytes, offsets span 12/);
  assert.match(check({ x: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }, 1).errors[0]!, /unknown dtype "Q4"/);
  assert.match(
    check({ x: { dtype: "U8", shape: [1], data_offsets: [1, 0] } }, 1).errors[0]!,
    /bad data_offsets \[1,0\]/,
  );
  assert.match(check({ x: { dtype: "U8", shape: [-1], data_offsets: [0, 1] } }, 1).errors[0]!, /bad shape \[-1\]/);
});

test("header: length cap, JSON, object, file shorter than its header", () => {
  const p = join(dir, "huge.safetensors");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(MAX_HEADER_BYTES + 1));
  writeFileSync(p, Buffer.concat([len, Buffer.from("{}")]));
  assert.match(validateSafetensors(readSafetensorsHeader(p)).errors[0]!, /exceeds the 100000000-byte cap/);
  len.writeBigUInt64LE(100n);
  writeFileSync(p, Buffer.concat([len, Buffer.from("{}")]));
  assert.match(
    validateSafetensors(readSafetensorsHeader(p)).errors[0]!,
    /runs past the end of the 10-byte file \(truncated\)/,
  );
  writeFileSync(p, Buffer.from([1, 2, 3]));
  assert.match(validateSafetensors(readSafetensorsHeader(p)).errors[0]!, /shorter than the 8-byte header length/);
  assert.match(check("{not json", 0).errors[0]!, /header is not valid JSON/);
  assert.match(check("[1,2]", 0).errors[0]!, /not a JSON object/);
});
