#!/usr/bin/env node
// `npx vox-bench [options]` benches the engine; `npx vox-bench compare BASE.json NEW.json` judges a change.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { benchOptions, compareOptions, runBench, runCompare } from "../commands/bench/index.js";
import { exitWith, usageFailure } from "../lib/errors.js";

await yargs(hideBin(process.argv))
  .scriptName("vox-bench")
  .command("$0", "bench the engine per backend and clip length", benchOptions, (a) =>
    exitWith("vox-bench", () => runBench(a)),
  )
  .command(
    "compare <base> <new>",
    "compare two bench reports (ratio of medians, Welch's t-test); exit 2 on regressions",
    compareOptions,
    (a) => exitWith("vox-bench compare", () => runCompare(a)),
  )
  .strict()
  .fail(usageFailure("vox-bench"))
  .help()
  .parseAsync();
