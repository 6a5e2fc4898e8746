// capture: a microphone for `vox transcribe --mic` (a PulseAudio server, which WSLg provides, or an
// ALSA capture device) that this ffmpeg can read. Only live transcription needs it: a warning at most.
import { chooseCapture } from "../../../lib/capture.js";
import { pass, skip, warn, type Check } from "./types.js";

export const captureCheck: Check = {
  id: "capture",
  title: "microphone capture (vox transcribe --mic)",
  needs: "any",
  run(f) {
    if (!f.capture) return skip("not collected (a fact set saved by an older vox-doctor)");
    const v = chooseCapture(f.capture);
    if (!v.ok) return warn(`${v.problem}: only files can be transcribed, not the microphone`, v.fix);
    return pass(v.choice.describe);
  },
};
