// NumPy .npy files (format versions 1, 2, 3): read little-endian C-order arrays of the common
// dtypes, write float32. Engine tests compare the engine's --dump arrays with golden ones.
// Format: "\x93NUMPY", major, minor, header length (u16 LE for v1, u32 LE for v2/v3), a Python
// dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }, padded with spaces and
// ending in '\n' so the data starts on a 64-byte boundary; then the raw data.
import { readFileSync, writeFileSync } from "node:fs";

export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array | Int16Array | Uint8Array;

export interface NpyArray<T extends NpyData = NpyData> {
  dtype: string;
  shape: number[];
  data: T;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

type Ctor = { new (buf: ArrayBuffer): NpyData; BYTES_PER_ELEMENT: number };
const DTYPES: Readonly<Record<string, Ctor>> = {
  "<f4": Float32Array,
  "<f8": Float64Array,
  "<i4": Int32Array,
  "<i8": BigInt64Array,
  "<i2": Int16Array,
  "|u1": Uint8Array,
  "|b1": Uint8Array,
};

export class NpyError extends Error {}

function headerField(header: string, key: string): string {
  const m = new RegExp(`['"]${key}['"]\\s*:\\s*(\\([^)]*\\)|'[^']*'|"[^"]*"|True|False)`).exec(header);
  if (!m) throw new NpyError(`npy header has no '${key}': ${header.trim()}`);
  return m[1]!;
}

/** Parses .npy bytes. Throws NpyError for anything unsupported (big-endian, Fortran order, ...). */
export function parseNpy(buf: Uint8Array, name = "array"): NpyArray {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 10 || !b.subarray(0, 6).equals(MAGIC)) throw new NpyError(`${name}: not a .npy file (bad magic)`);
  const major = b[6]!;
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = b.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    headerLen = b.readUInt32LE(8);
    start = 12;
  } else {
    throw new NpyError(`${name}: unsupported .npy version ${major}`);
  }
  if (start + headerLen > b.length) throw new NpyError(`${name}: header runs past the end of the file`);
  const header = b.subarray(start, start + headerLen).toString(major === 3 ? "utf8" : "latin1");
  const descr = headerField(header, "descr").slice(1, -1);
  if (headerField(header, "fortran_order") !== "False")
    throw new NpyError(`${name}: Fortran-order arrays are not supported`);
  const shapeText = headerField(header, "shape");
  const shape = shapeText
    .slice(1, -1)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ""));
      if (!Number.isSafeInteger(n) || n < 0) throw new NpyError(`${name}: bad shape ${shapeText}`);
      return n;
    });
  const key = descr === "<u1" ? "|u1" : descr;
  const ctor = Object.hasOwn(DTYPES, key) ? DTYPES[key] : undefined;
  if (!ctor)
    throw new NpyError(`${name}: dtype '${descr}' is not supported (want one of ${Object.keys(DTYPES).join(", ")})`);
  const count = shape.reduce((a, n) => a * n, 1);
  const dataStart = start + headerLen;
  const nbytes = count * ctor.BYTES_PER_ELEMENT;
  if (b.length - dataStart !== nbytes) {
    throw new NpyError(
      `${name}: shape (${shape.join(", ")}) of ${descr} needs ${nbytes} data bytes, file has ${b.length - dataStart}`,
    );
  }
  // Copy into a fresh, aligned buffer (the data offset need not be a multiple of the element size).
  const data = new ctor(b.buffer.slice(b.byteOffset + dataStart, b.byteOffset + dataStart + nbytes) as ArrayBuffer);
  return { dtype: descr, shape, data };
}

export function readNpy(path: string): NpyArray {
  return parseNpy(readFileSync(path), path);
}

/** Reads a file that must hold float32 data (the engine's dumps); throws otherwise. */
export function readNpyF32(path: string): NpyArray<Float32Array> {
  const a = readNpy(path);
  if (!(a.data instanceof Float32Array)) throw new NpyError(`${path}: expected float32 ('<f4'), found '${a.dtype}'`);
  return a as NpyArray<Float32Array>;
}

/** Encodes a float32 C-order array as .npy version 1.0 bytes. */
export function encodeNpyF32(shape: readonly number[], data: Float32Array): Buffer {
  const count = shape.reduce((a, n) => a * n, 1);
  if (count !== data.length)
    throw new NpyError(`shape (${shape.join(", ")}) holds ${count} values, data has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += `${" ".repeat((64 - (unpadded % 64)) % 64)}\n`;
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([
    head,
    Buffer.from(header, "latin1"),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  ]);
}

export function writeNpyF32(path: string, shape: readonly number[], data: Float32Array): void {
  writeFileSync(path, encodeNpyF32(shape, data));
}
