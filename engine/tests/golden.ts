// The golden fixtures as the engine tests run them (checks/fixtures/<name>/, made by
// checks/reference/make_fixtures.py): which folders there are, each one's fixture.json, the offline
// CPU run with the fixture's own audio and delay, and a fixture WAV's samples as raw PCM.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesDir } from "../../toolkit/src/lib/paths.js";

export interface FixtureJson {
  name: string;
  audio: string;
  delay_ms: number;
}

/** The fixture folders (those holding a fixture.json), sorted; none when the folder is missing. */
export function fixtureNames(root = fixturesDir()): string[] {
  return existsSync(root)
    ? readdirSync(root)
        .filter((n) => existsSync(join(root, n, "fixture.json")))
        .sort()
    : [];
}

/** DIR/fixture.json. */
export function readFixture(dir: string): FixtureJson {
  return JSON.parse(readFileSync(join(dir, "fixture.json"), "utf8")) as FixtureJson;
}

/** `-d DIR -i AUDIO --delay-ms N --backend cpu --json`: a fixture's offline CPU run, as it was recorded. */
export function fixtureRunArgs(dir: string, fx: FixtureJson = readFixture(dir)): string[] {
  return ["-d", dir, "-i", join(dir, fx.audio), "--delay-ms", String(fx.delay_ms), "--backend", "cpu", "--json"];
}

/** The samples of a 16 kHz mono PCM16 WAV (the fixtures' format, asserted) as raw s16le bytes, the
 *  way --stdin and serve frames take them. */
export function pcm16(path: string): Buffer {
  const wav = readFileSync(path);
  if (wav.toString("latin1", 0, 4) !== "RIFF") throw new Error(`${path}: not a RIFF file`);
  let off = 12;
  while (off + 8 <= wav.length) {
    const id = wav.toString("latin1", off, off + 4);
    const size = wav.readUInt32LE(off + 4);
    if (
      id === "fmt " &&
      !(
        wav.readUInt16LE(off + 8) === 1 &&
        wav.readUInt16LE(off + 10) === 1 &&
        wav.readUInt32LE(off + 12) === 16000 &&
        wav.readUInt16LE(off + 22) === 16
      )
    )
      throw new Error(`${path}: not PCM16 mono 16 kHz`);
    if (id === "data") return wav.subarray(off + 8, off + 8 + size);
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}
