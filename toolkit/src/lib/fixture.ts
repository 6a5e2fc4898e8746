// The bundled model fixtures (checks/fixtures/<name>/, made by checks/reference/make_fixtures.py):
// a tiny model (params.json, consolidated.safetensors, tekken.json), its WAV, fixture.json
// {name, audio, delay_ms, ...} and golden/{mel,audio_embeds,logits}.npy, tokens.json, meta.json.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError } from "./errors.js";

export interface Fixture {
  dir: string;
  name: string;
  /** absolute path of the fixture's audio */
  audio: string;
  delayMs: number;
  golden: {
    dir: string;
    tokens: number[];
    text: string;
    /** golden/logits.npy when present */
    logits: string | null;
  };
}

export function isFixture(dir: string): boolean {
  return existsSync(join(dir, "fixture.json")) && existsSync(join(dir, "golden", "tokens.json"));
}

function readJson<T>(path: string, what: string): T {
  if (!existsSync(path))
    throw new InputError(
      `${what} not found: ${path}`,
      "Regenerate the fixture with checks/reference/make_fixtures.py.",
      true,
    );
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (e) {
    throw new InputError(
      `${what} is not valid JSON (${path}): ${(e as Error).message}`,
      "Regenerate the fixture with checks/reference/make_fixtures.py.",
    );
  }
}

/** Reads a fixture folder; throws InputError naming the missing or broken file. */
export function readFixture(dirIn: string): Fixture {
  const dir = resolve(dirIn);
  const fx = readJson<{ name?: string; audio?: string; delay_ms?: number }>(join(dir, "fixture.json"), "fixture.json");
  const tokens = readJson<{ tokens?: unknown }>(join(dir, "golden", "tokens.json"), "golden/tokens.json").tokens;
  const meta = readJson<{ text?: unknown }>(join(dir, "golden", "meta.json"), "golden/meta.json");
  if (!Array.isArray(tokens) || !tokens.every((t) => Number.isInteger(t))) {
    throw new InputError(
      `golden/tokens.json in ${dir} has no integer array "tokens"`,
      "Regenerate the fixture with checks/reference/make_fixtures.py.",
    );
  }
  if (typeof fx.audio !== "string" || typeof fx.delay_ms !== "number") {
    throw new InputError(
      `fixture.json in ${dir} lacks "audio" or "delay_ms"`,
      "Regenerate the fixture with checks/reference/make_fixtures.py.",
    );
  }
  const logits = join(dir, "golden", "logits.npy");
  return {
    dir,
    name: fx.name ?? dir,
    audio: join(dir, fx.audio),
    delayMs: fx.delay_ms,
    golden: {
      dir: join(dir, "golden"),
      tokens: tokens as number[],
      text: typeof meta.text === "string" ? meta.text : "",
      logits: existsSync(logits) ? logits : null,
    },
  };
}
