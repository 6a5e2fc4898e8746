// The one backend type. `Backend` is what the engine runs on (generated from the reports' schemas);
// a user may ask for `auto` (CUDA when it starts, else CPU); `vox build` can build `all`.
import type { Backend } from "../generated/schemas.js";

export type { Backend };
export type BackendChoice = Backend | "auto";
export type BuildBackend = Backend | "all";
