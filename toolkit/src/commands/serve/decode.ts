// An uploaded audio file -> s16le 16 kHz mono PCM for the engine. A 16-bit PCM WAV at 16 kHz is
// read here; anything else (other WAV encodings or rates, mp3, ogg, m4a, flac, ...) goes through
// ffmpeg on pipes, with a size and time limit.
import { execa } from "execa";
import { parseWav } from "../../lib/wav.js";
import { ApiError } from "./openai.js";

const FFMPEG_TIMEOUT_MS = 120_000;

export async function decodeUpload(data: Buffer, ffmpeg = "ffmpeg"): Promise<Buffer> {
  try {
    const w = parseWav(data);
    if (w.sampleRate === 16_000) return Buffer.from(w.samples.buffer, w.samples.byteOffset, w.samples.byteLength);
  } catch {
    // not a 16-bit PCM WAV: ffmpeg below
  }
  const r = await execa(
    ffmpeg,
    ["-hide_banner", "-loglevel", "error", "-i", "pipe:0", "-f", "s16le", "-ar", "16000", "-ac", "1", "pipe:1"],
    {
      input: data,
      encoding: "buffer",
      reject: false,
      timeout: FFMPEG_TIMEOUT_MS,
      maxBuffer: 512 * 1024 * 1024,
    },
  );
  const code = (r as { code?: string }).code;
  if (code === "ENOENT") {
    throw new ApiError(
      415,
      "This audio is not a 16 kHz 16-bit WAV and ffmpeg is not installed to convert it. Install ffmpeg or send a 16 kHz WAV",
      "file",
      "unsupported_audio",
      "invalid_request_error",
    );
  }
  if (r.exitCode !== 0 || !(r.stdout instanceof Uint8Array) || r.stdout.length < 2) {
    const why =
      Buffer.from((r.stderr as Uint8Array | undefined) ?? [])
        .toString("utf8")
        .trim()
        .split("\n")
        .at(-1) ?? "";
    throw new ApiError(
      400,
      `The audio file could not be decoded${why ? ` (ffmpeg: ${why})` : ""}. Send a WAV, mp3, ogg, flac or another format ffmpeg reads`,
      "file",
      "invalid_audio",
    );
  }
  const pcm = Buffer.from(r.stdout);
  return pcm.length % 2 ? pcm.subarray(0, pcm.length - 1) : pcm;
}
