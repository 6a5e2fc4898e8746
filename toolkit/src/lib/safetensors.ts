// safetensors validation by the format's rules, in TypeScript (no engine needed):
//   [u64 LE header length N][N bytes of UTF-8 JSON header][data section]
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative to
// the data section) plus an optional "__metadata__" map of strings. Rules checked: N is capped,
// the JSON parses, dtype is known, byte span = element count x dtype size, offsets lie inside the
// data section, tensors do not overlap and together cover the data section exactly.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** Largest header accepted (the reference implementation caps it at 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

export interface TensorInfo {
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** The raw header of a file: what a collector reads; validation is separate and pure. */
export interface SafetensorsHeader {
  fileSize: number;
  headerLength: number | null;
  /** The header JSON text, null when it could not be read (see readError). */
  headerText: string | null;
  readError: string | null;
}

export interface SafetensorsValidation {
  ok: boolean;
  errors: string[];
  tensors: Map<string, TensorInfo>;
  dataBytes: number;
}

/** Reads the length prefix and header text (never the tensor data). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, "r");
  try {
    const fileSize = fstatSync(fd).size;
    if (fileSize < 8)
      return {
        fileSize,
        headerLength: null,
        headerText: null,
        readError: `file is ${fileSize} bytes, shorter than the 8-byte header length`,
      };
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER_BYTES))
      return {
        fileSize,
        headerLength: Number(n),
        headerText: null,
        readError: `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte cap (not a safetensors file, or corrupt)`,
      };
    const headerLength = Number(n);
    if (8 + headerLength > fileSize)
      return {
        fileSize,
        headerLength,
        headerText: null,
        readError: `header length ${headerLength} runs past the end of the ${fileSize}-byte file (truncated)`,
      };
    const text = Buffer.alloc(headerLength);
    readSync(fd, text, 0, headerLength, 8);
    return { fileSize, headerLength, headerText: text.toString("utf8"), readError: null };
  } finally {
    closeSync(fd);
  }
}

/** Checks a header against the file size by the safetensors rules. Pure. */
export function validateSafetensors(h: SafetensorsHeader): SafetensorsValidation {
  const errors: string[] = [];
  const tensors = new Map<string, TensorInfo>();
  const fail = (e: string): SafetensorsValidation => ({ ok: false, errors: [...errors, e], tensors, dataBytes: 0 });
  if (h.readError || h.headerText === null || h.headerLength === null) return fail(h.readError ?? "header not read");
  const dataBytes = h.fileSize - 8 - h.headerLength;
  let header: unknown;
  try {
    header = JSON.parse(h.headerText);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    return fail("header is not a JSON object");

  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") continue;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      errors.push(`${name}: not a tensor entry (${JSON.stringify(value)})`);
      continue;
    }
    const t = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const size = typeof t.dtype === "string" && Object.hasOwn(DTYPE_BYTES, t.dtype) ? DTYPE_BYTES[t.dtype] : undefined;
    if (size === undefined) {
      errors.push(`${name}: unknown dtype ${JSON.stringify(t.dtype)}`);
      continue;
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      errors.push(`${name}: bad shape ${JSON.stringify(t.shape)}`);
      continue;
    }
    const off = t.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      off[0] > off[1]
    ) {
      errors.push(`${name}: bad data_offsets ${JSON.stringify(off)}`);
      continue;
    }
    const shape = t.shape as number[];
    const [begin, end] = off as [number, number];
    const want = shape.reduce((a, d) => a * d, 1) * size;
    if (end - begin !== want)
      errors.push(`${name}: ${t.dtype} ${JSON.stringify(shape)} needs ${want} bytes, offsets span ${end - begin}`);
    if (end > dataBytes)
      errors.push(`${name}: ends at byte ${end} of a ${dataBytes}-byte data section (file truncated?)`);
    tensors.set(name, { dtype: t.dtype as string, shape, begin, end });
  }

  // Sorted by offset, each tensor must start where the previous one ended, and the last must end
  // at the end of the data section: no gaps, no overlap, nothing trailing.
  const spans = [...tensors.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let pos = 0;
  for (const [name, t] of spans) {
    if (t.begin < pos)
      errors.push(`${name}: overlaps the previous tensor (starts at ${t.begin}, previous ends at ${pos})`);
    else if (t.begin > pos) errors.push(`gap of ${t.begin - pos} bytes before ${name} at offset ${pos}`);
    pos = Math.max(pos, t.end);
  }
  if (errors.length === 0 && pos !== dataBytes) {
    errors.push(
      pos < dataBytes
        ? `${dataBytes - pos} bytes after the last tensor are not covered by the header`
        : `tensors need ${pos} data bytes, the file holds ${dataBytes} (truncated)`,
    );
  }
  return { ok: errors.length === 0, errors, tensors, dataBytes };
}
