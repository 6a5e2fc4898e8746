// ffmpeg: needed only to feed audio that is not WAV (ogg, mp3, m4a, ...) through a pipe.
import { firstLine, pass, warn, type Check } from "./types.js";

export const ffmpegCheck: Check = {
  id: "ffmpeg",
  title: "ffmpeg (non-WAV audio)",
  needs: "any",
  run(f) {
    if (!f.ffmpeg.path)
      return warn("ffmpeg not found: only WAV and raw 16 kHz PCM can be transcribed", "sudo apt-get install ffmpeg");
    const v = f.ffmpeg.version;
    if (v?.exitCode !== 0)
      return warn(
        `${f.ffmpeg.path} -version failed: ${v?.error ?? firstLine(v?.stderr ?? "")}`,
        "Reinstall it: sudo apt-get install --reinstall ffmpeg",
      );
    return pass(`${firstLine(v.stdout)} (${f.ffmpeg.path})`);
  },
};
