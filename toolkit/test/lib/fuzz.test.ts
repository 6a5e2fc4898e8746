// Property-based fuzzing (fast-check) of the toolkit's parsers of engine output and of reports: for
// any input, each returns its result or throws its own typed error — never a TypeError, RangeError
// or anything else a user would see as "internal error". Inputs: random bytes and text, random JSON,
// and structured near-misses (real headers and reports with fields mutated), which reach deeper code.
import assert from "node:assert/strict";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { runChecks } from "../../src/commands/doctor/checks/index.js";
import { parseMatrixText, parseReportText } from "../../src/commands/matrix/load.js";
import { linuxH100, wslRtx4090 } from "../commands/doctor/scenarios.js";
import { EngineInfoError, parseEngineInfo } from "../../src/lib/engine-info.js";
import { InputError } from "../../src/lib/errors.js";
import { NpyError, parseNpy } from "../../src/lib/npy.js";
import { validateSafetensors } from "../../src/lib/safetensors.js";
import { readTranscript } from "../../src/lib/transcribe.js";
import { encodeWav, parseWav, WavError } from "../../src/lib/wav.js";
import { fixture } from "../helpers.js";

const RUNS = { numRuns: 400, seed: 20261201 };

/** Runs `fn`; passes when it returns or throws one of `allowed`, fails naming anything else. */
function onlyTyped(fn: () => unknown, ...allowed: Array<new (...a: never[]) => Error>): void {
  try {
    fn();
  } catch (e) {
    if (allowed.some((c) => e instanceof c)) return;
    throw new Error(`threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? e}`);
  }
}

/** A JSON value with one path replaced: deletions, wrong types, nulls, huge numbers, strings. */
function mutate(base: unknown): fc.Arbitrary<unknown> {
  const paths: Array<Array<string | number>> = [];
  const walk = (v: unknown, p: Array<string | number>) => {
    paths.push(p);
    if (paths.length > 2000) return;
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, [...p, i]);
    } else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(base, []);
  const replacement = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.jsonValue(),
    fc.string(),
    fc.double(),
    fc.constant(-1),
    fc.constant(1e308),
  );
  return fc.tuple(fc.constantFrom(...paths), replacement).map(([path, rep]) => {
    const copy = JSON.parse(JSON.stringify(base)) as unknown;
    if (path.length === 0) return rep;
    let at = copy as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
    const last = path.at(-1)!;
    if (rep === undefined) delete at[last];
    else at[last] = rep;
    return copy;
  });
}

const text = (name: string) => readFileSync(fixture(...name.split("/")), "utf8");

describe("fuzz: parsers throw only their typed errors", () => {
  it("WAV: random bytes and near-miss RIFF files -> Pcm or WavError", () => {
    const good = encodeWav({ sampleRate: 16000, samples: Int16Array.from([1, -2, 3, -4, 5]) });
    const nearMiss = fc
      .tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(good.length))
      .map(([i, byte, cut]) => {
        const b = Buffer.from(good);
        b[i] = byte;
        return b.subarray(0, Math.max(cut, 12));
      });
    const chunky = fc
      .array(fc.tuple(fc.constantFrom("fmt ", "data", "LIST", "junk"), fc.uint8Array({ maxLength: 40 }), fc.nat(100)), {
        maxLength: 4,
      })
      .map((chunks) => {
        const parts = [Buffer.from("RIFF\0\0\0\0WAVE", "latin1")];
        for (const [id, body, declared] of chunks) {
          const h = Buffer.alloc(8);
          h.write(id, 0, "latin1");
          h.writeUInt32LE(declared, 4);
          parts.push(h, Buffer.from(body));
        }
        return Buffer.concat(parts);
      });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }).map((u) => Buffer.from(u)),
          nearMiss,
          chunky,
        ),
        (buf) => onlyTyped(() => parseWav(buf), WavError),
      ),
      RUNS,
    );
  });

  it(".npy: random bytes and near-miss headers -> array or NpyError", () => {
    const header = fc
      .record({
        descr: fc.constantFrom("'<f4'", "'<f8'", "'>f4'", "'|u1'", "'<i2'", "'constructor'", "'<i8'", "''"),
        fortran: fc.constantFrom("False", "True", "0"),
        shape: fc.oneof(
          fc
            .array(fc.integer({ min: -2, max: 5 }), { maxLength: 3 })
            .map((a) => `(${a.join(", ")}${a.length === 1 ? "," : ""})`),
          fc.string({ maxLength: 8 }),
        ),
        version: fc.constantFrom(1, 2, 3, 4),
        data: fc.uint8Array({ maxLength: 64 }),
        drop: fc.boolean(),
      })
      .map((h) => {
        const dict = `{'descr': ${h.descr}, ${h.drop ? "" : `'fortran_order': ${h.fortran}, `}'shape': ${h.shape}, }\n`;
        const text = Buffer.from(dict, "latin1");
        const pre = Buffer.alloc(h.version === 1 ? 10 : 12);
        Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, h.version, 0]).copy(pre);
        if (h.version === 1) pre.writeUInt16LE(text.length, 8);
        else pre.writeUInt32LE(text.length, 8);
        return Buffer.concat([pre, text, Buffer.from(h.data)]);
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), header), (b) => onlyTyped(() => parseNpy(b), NpyError)),
      RUNS,
    );
  });

  it("safetensors header: any text, JSON and near-miss tensor tables -> a verdict, never a throw", () => {
    const entry = fc.record(
      {
        dtype: fc.constantFrom("BF16", "F32", "F16", "I64", "toString", "x"),
        shape: fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 3 }),
        data_offsets: fc.array(fc.integer({ min: -1, max: 64 }), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    );
    const table = fc
      .dictionary(fc.string({ maxLength: 6 }), fc.oneof(entry, fc.jsonValue()), { maxKeys: 4 })
      .map((d) => JSON.stringify(d));
    const textArb = fc.oneof(fc.string(), fc.json(), table);
    fc.assert(
      fc.property(textArb, fc.nat(200), (headerText, extra) => {
        const headerLength = Buffer.byteLength(headerText);
        const v = validateSafetensors({
          fileSize: 8 + headerLength + extra,
          headerLength,
          headerText,
          readError: null,
        });
        assert.equal(v.ok, v.errors.length === 0);
      }),
      RUNS,
    );
  });

  it("engine --json stdout: any text or JSON -> a transcript or an error in words (never a throw)", () => {
    const real = JSON.parse(text("bench/engine-run-cpu.json")) as unknown;
    const stdout = fc.oneof(
      fc.string(),
      fc.json(),
      mutate(real).map((v) => JSON.stringify(v) ?? ""),
    );
    fc.assert(
      fc.property(stdout, (out) => {
        const r = readTranscript({
          exitCode: 0,
          signal: null,
          timedOut: false,
          durationMs: 1,
          stdout: out,
          stderr: "",
          failure: null,
          failureKind: null,
          command: "voxtral",
        });
        assert.ok((r.transcript === null) !== (r.error === null), "exactly one of transcript and error");
        if (r.transcript) assert.ok(Array.isArray(r.transcript.tokens) && typeof r.transcript.text === "string");
      }),
      RUNS,
    );
  });

  it("engine --info stdout -> EngineInfo or EngineInfoError", () => {
    const real = {
      engine: "voxtral",
      version: "0.1.0",
      commit: "abc",
      backends: ["cpu"],
      cuda_archs: [],
      blas: "x",
      cuda: null,
    };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          mutate(real).map((v) => JSON.stringify(v) ?? ""),
        ),
        (s) => onlyTyped(() => parseEngineInfo(s), EngineInfoError),
      ),
      RUNS,
    );
  });

  it("reports and the matrix file for vox matrix: any text, JSON or mutated real report -> loaded or InputError", () => {
    const bench = JSON.parse(text("bench/report-cpu-tiny.json")) as unknown;
    const reportText = fc.oneof(
      fc.string(),
      fc.json(),
      mutate(bench).map((v) => JSON.stringify(v) ?? ""),
      fc.constant(""),
      fc.constant("null"),
      fc.constant('{"kind":"../../package"}'),
    );
    fc.assert(
      fc.property(reportText, (t) => onlyTyped(() => parseReportText(t, "r.json"), InputError)),
      RUNS,
    );
    const matrix = { schemaVersion: 1, rows: [] };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          mutate(matrix).map((v) => JSON.stringify(v) ?? ""),
        ),
        (t) => onlyTyped(() => parseMatrixText(t, "m.json"), InputError),
      ),
      RUNS,
    );
  });

  it("doctor: a saved fact set with any one field changed is judged (each check isolated), never a crash", () => {
    for (const base of [linuxH100(), wslRtx4090()]) {
      const checks = runChecks(base, "auto").length; // every check answers, whatever one field holds
      fc.assert(
        fc.property(
          mutate(base).filter(
            (f) =>
              typeof f === "object" &&
              f !== null &&
              !Array.isArray(f) &&
              "collectorErrors" in f &&
              typeof (f as { collectorErrors: unknown }).collectorErrors === "object" &&
              (f as { collectorErrors: unknown }).collectorErrors !== null,
          ),
          (f) => {
            const results = runChecks(f as ReturnType<typeof linuxH100>, "auto");
            assert.equal(results.length, checks);
            for (const r of results) assert.ok(["pass", "warn", "fail", "skip"].includes(r.status));
          },
        ),
        { ...RUNS, numRuns: 200 },
      );
    }
  });
});
