// WAV in and out for the toolkit: 16-bit PCM (plain or WAVE_FORMAT_EXTENSIBLE), any channel count
// (mixed down to mono), read as Int16 samples; written as 16-bit mono. No resampling here: callers
// that need 16 kHz say so with the file name in the error.
import { readFileSync, writeFileSync } from "node:fs";

export interface Pcm {
  sampleRate: number;
  /** Mono samples. */
  samples: Int16Array;
}

export class WavError extends Error {}

/** Parses WAV bytes; throws WavError naming what is unsupported. */
export function parseWav(buf: Buffer, name = "audio"): Pcm {
  if (buf.length < 12 || buf.toString("latin1", 0, 4) !== "RIFF" || buf.toString("latin1", 8, 12) !== "WAVE") {
    throw new WavError(`${name}: not a RIFF/WAVE file`);
  }
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  let pos = 12;
  while (pos + 8 <= buf.length) {
    const id = buf.toString("latin1", pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > buf.length)
        throw new WavError(`${name}: fmt chunk too short (${Math.min(size, buf.length - body)} bytes)`);
      let format = buf.readUInt16LE(body);
      if (format === 0xfffe && size >= 26 && body + 26 <= buf.length) format = buf.readUInt16LE(body + 24); // extensible: sub-format GUID
      fmt = {
        format,
        channels: buf.readUInt16LE(body + 2),
        rate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === "data") {
      if (!fmt) throw new WavError(`${name}: data chunk before fmt chunk`);
      if (fmt.format !== 1 || fmt.bits !== 16)
        throw new WavError(`${name}: only 16-bit PCM WAV is supported (format ${fmt.format}, ${fmt.bits} bits)`);
      if (fmt.channels === 0) throw new WavError(`${name}: fmt chunk declares 0 channels`);
      const end = Math.min(buf.length, body + size); // a streamed WAV may declare more than it holds
      const frames = Math.floor((end - body) / (2 * fmt.channels));
      const out = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        let acc = 0;
        for (let c = 0; c < fmt.channels; c++) acc += buf.readInt16LE(body + 2 * (i * fmt.channels + c));
        out[i] = Math.round(acc / fmt.channels);
      }
      return { sampleRate: fmt.rate, samples: out };
    }
    pos = body + size + (size & 1); // chunks are padded to even sizes
  }
  throw new WavError(`${name}: no data chunk`);
}

export function readWav(path: string): Pcm {
  return parseWav(readFileSync(path), path);
}

/** The 44-byte header of a 16-bit PCM WAV whose data chunk holds dataBytes bytes. */
export function wavHeader(dataBytes: number, sampleRate = 16000, channels = 1): Buffer {
  const b = Buffer.alloc(44);
  b.write("RIFF", 0, "latin1");
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write("WAVEfmt ", 8, "latin1");
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * channels * 2, 28);
  b.writeUInt16LE(channels * 2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36, "latin1");
  b.writeUInt32LE(dataBytes, 40);
  return b;
}

/** 16-bit mono PCM WAV bytes. */
export function encodeWav(pcm: Pcm): Buffer {
  const data = pcm.samples.length * 2;
  return Buffer.concat([
    wavHeader(data, pcm.sampleRate),
    Buffer.from(pcm.samples.buffer, pcm.samples.byteOffset, data),
  ]);
}

export function writeWav(path: string, pcm: Pcm): void {
  writeFileSync(path, encodeWav(pcm));
}
