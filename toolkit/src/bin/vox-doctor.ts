#!/usr/bin/env node
// `npx vox-doctor [--model DIR] [--backend auto|cpu|cuda] [--json | --markdown] [--strict] [--save-facts FILE] [--facts FILE]`
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { doctorOptions, runDoctor } from "../commands/doctor/index.js";
import { exitWith, usageFailure } from "../lib/errors.js";

const args = await doctorOptions(yargs(hideBin(process.argv)))
  .scriptName("vox-doctor")
  .strict()
  .fail(usageFailure("vox-doctor"))
  .help()
  .parseAsync();
await exitWith("vox-doctor", () => runDoctor(args));
