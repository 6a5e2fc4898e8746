#!/usr/bin/env node
// `npx vox-doctor [--model DIR] [--json] [--markdown] [--strict]`
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { doctorOptions, runDoctor } from "../commands/doctor/index.js";
import { EXIT, exitWith } from "../lib/errors.js";

const args = await doctorOptions(yargs(hideBin(process.argv)))
  .scriptName("vox-doctor")
  .strict()
  .fail((msg, err) => {
    if (err) throw err;
    console.error(`vox-doctor: error: ${msg.replace(/\s*\n\s*/g, " ")}. Run vox-doctor --help.`);
    process.exit(EXIT.usage);
  })
  .help()
  .parseAsync();
await exitWith("vox-doctor", () => runDoctor(args));
