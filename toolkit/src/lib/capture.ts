// Where a microphone can be captured from, through ffmpeg: a PulseAudio server (WSLg provides one on
// Windows 11 at /mnt/wslg/PulseServer; desktop Linux has one at $XDG_RUNTIME_DIR/pulse/native), else
// an ALSA capture device. Facts are gathered once (collectCaptureFacts); the decision is a pure
// function over them (chooseCapture), shared by `vox transcribe --mic` and the doctor's capture check.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand, which } from "./exec.js";

export const WSLG_PULSE_SOCKET = "/mnt/wslg/PulseServer";

export interface CaptureFacts {
  /** $PULSE_SERVER as set, or null */
  pulseServerEnv: string | null;
  /** WSLg's PulseAudio socket exists */
  wslgSocket: boolean;
  /** $XDG_RUNTIME_DIR/pulse/native exists (a desktop session's PulseAudio or PipeWire-Pulse) */
  userPulseSocket: string | null;
  /** ALSA PCM devices that can capture, from /proc/asound/pcm ("00-00: name"); null: no ALSA */
  alsaCapture: string[] | null;
  /** input devices this ffmpeg was built with (`ffmpeg -devices`: D flag); null: no ffmpeg */
  ffmpegInputs: string[] | null;
}

export interface CaptureChoice {
  /** ffmpeg's -f */
  format: "pulse" | "alsa";
  /** ffmpeg's -i */
  device: string;
  /** variables ffmpeg needs (PULSE_SERVER for WSLg) */
  env: Record<string, string>;
  /** one line: where the sound comes from */
  describe: string;
}

export type CaptureVerdict = { ok: true; choice: CaptureChoice } | { ok: false; problem: string; fix: string };

const WSL_FIX =
  "On WSL2: update WSL (wsl --update in PowerShell, then wsl --shutdown) so WSLg provides /mnt/wslg/PulseServer, and allow " +
  "microphone access for desktop apps in Windows' privacy settings. On Linux: start PulseAudio/PipeWire or plug in a microphone " +
  "(arecord -l lists ALSA capture devices).";

/** ALSA capture devices in the text of /proc/asound/pcm. */
export function parseAlsaPcm(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => /:\s*capture \d+/.test(l))
    .map((l) => {
      const [id, name] = l.split(":").map((x) => x.trim());
      return `${id}: ${name}`;
    });
}

/** The input devices (D flag) of `ffmpeg -devices` output. */
export function parseFfmpegDevices(text: string): string[] {
  return text
    .split("\n")
    .map((l) => /^\s*D[E ]?\s+(\S+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .flatMap((m) => m[1]!.split(","));
}

/** Picks the capture source: `device` (--mic-device) names the PulseAudio source or ALSA device. */
export function chooseCapture(f: CaptureFacts, device?: string): CaptureVerdict {
  if (f.ffmpegInputs === null) {
    return {
      ok: false,
      problem: "ffmpeg is not installed, and the microphone is captured through it",
      fix: "Install it: sudo apt-get install ffmpeg.",
    };
  }
  const pulseServer =
    f.pulseServerEnv ??
    (f.wslgSocket ? `unix:${WSLG_PULSE_SOCKET}` : f.userPulseSocket ? `unix:${f.userPulseSocket}` : null);
  const hasPulse = f.ffmpegInputs.includes("pulse");
  const hasAlsa = f.ffmpegInputs.includes("alsa");
  if (pulseServer && hasPulse) {
    const env: Record<string, string> = f.pulseServerEnv ? {} : { PULSE_SERVER: pulseServer };
    return {
      ok: true,
      choice: {
        format: "pulse",
        device: device ?? "default",
        env,
        describe: `PulseAudio ${pulseServer}, source ${device ?? "default"}`,
      },
    };
  }
  if (f.alsaCapture && f.alsaCapture.length > 0 && hasAlsa) {
    return {
      ok: true,
      choice: {
        format: "alsa",
        device: device ?? "default",
        env: {},
        describe: `ALSA device ${device ?? "default"} (${f.alsaCapture.join(", ")})`,
      },
    };
  }
  if (pulseServer && !hasPulse && !(f.alsaCapture?.length && hasAlsa)) {
    return {
      ok: false,
      problem: `a PulseAudio server is there (${pulseServer}) but this ffmpeg has no pulse input`,
      fix: "Install a full ffmpeg: sudo apt-get install ffmpeg.",
    };
  }
  return {
    ok: false,
    problem:
      "no capture device: no PulseAudio server (PULSE_SERVER, /mnt/wslg/PulseServer, $XDG_RUNTIME_DIR/pulse/native) and no ALSA capture device",
    fix: WSL_FIX,
  };
}

/** Gathers the capture facts of this machine (a few file checks and `ffmpeg -devices`). */
export async function collectCaptureFacts(env: NodeJS.ProcessEnv = process.env): Promise<CaptureFacts> {
  const ffmpeg = which("ffmpeg", env.PATH);
  let ffmpegInputs: string[] | null = null;
  if (ffmpeg) {
    const r = await runCommand(ffmpeg, ["-hide_banner", "-devices"], { timeoutMs: 10_000 });
    ffmpegInputs = parseFfmpegDevices(r.stdout);
  }
  let alsa: string | null = null;
  try {
    alsa = readFileSync("/proc/asound/pcm", "utf8");
  } catch {
    alsa = null;
  }
  const userSocket = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "pulse", "native") : null;
  return {
    pulseServerEnv: env.PULSE_SERVER && env.PULSE_SERVER.length > 0 ? env.PULSE_SERVER : null,
    wslgSocket: existsSync(WSLG_PULSE_SOCKET),
    userPulseSocket: userSocket && existsSync(userSocket) ? userSocket : null,
    alsaCapture: alsa === null ? null : parseAlsaPcm(alsa),
    ffmpegInputs,
  };
}
