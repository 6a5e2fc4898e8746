// The framing of `voxtral --serve` (engine/README.md, "Serve mode"): a 9-byte header — type (one
// ASCII byte), stream id (uint32 LE), payload length (uint32 LE, at most MAX_PAYLOAD) — then the
// payload. This is the only place the toolkit writes frames.

export const FRAME_HEADER = 9;
export const MAX_PAYLOAD = 1 << 20;

/** O open (payload: options JSON), A audio (s16le 16 kHz mono), F finish, C close. */
export type FrameType = "O" | "A" | "F" | "C";

export interface OpenOptions {
  delay_ms?: number;
  ignore_eos?: boolean;
}

export function encodeFrame(type: FrameType, stream: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`frame payload ${payload.length} > ${MAX_PAYLOAD}`);
  const h = Buffer.alloc(FRAME_HEADER);
  h.write(type, 0, "latin1");
  h.writeUInt32LE(stream >>> 0, 1);
  h.writeUInt32LE(payload.length, 5);
  return Buffer.concat([h, payload]);
}

export function openFrame(stream: number, opts: OpenOptions = {}): Buffer {
  return encodeFrame("O", stream, Buffer.from(JSON.stringify(opts)));
}

/** Audio of any length as one or more A frames. */
export function audioFrames(stream: number, pcm: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < pcm.length; off += MAX_PAYLOAD) {
    out.push(encodeFrame("A", stream, pcm.subarray(off, Math.min(pcm.length, off + MAX_PAYLOAD))));
  }
  return out;
}
