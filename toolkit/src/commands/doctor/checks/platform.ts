// platform: OS, kernel, WSL2 and its version, glibc.
import { wsl } from "../derive.js";
import { parseOsRelease } from "../parse.js";
import { fail, pass, warn, type Check } from "./types.js";

export const platformCheck: Check = {
  id: "platform",
  title: "Operating system",
  needs: "any",
  run(f) {
    const p = f.platform;
    if (p.os !== "linux") {
      return fail(
        `vox runs on Linux and on Windows through WSL2; this is ${p.os}`,
        "On Windows: wsl --install -d Ubuntu-24.04, then run vox inside WSL2 (README: WSL2 setup).",
      );
    }
    const w = wsl(f);
    const distro = parseOsRelease(p.osRelease) ?? "Linux (no /etc/os-release)";
    const parts = [distro, `kernel ${p.kernel}`, p.arch, p.glibc ? `glibc ${p.glibc}` : "glibc not found"];
    if (w.isWsl)
      parts.push(`WSL${w.generation}${w.version ? ` (WSL ${w.version})` : " (wsl.exe --version not reachable)"}`);
    const detail = parts.join(", ");
    if (w.isWsl && w.generation === 1) {
      return fail(
        `${detail}: WSL 1 has no GPU access`,
        "In Windows PowerShell: wsl --set-version <distro> 2 (wsl -l -v lists distros). README: WSL2 setup.",
      );
    }
    if (!p.glibc)
      return warn(
        `${detail}: the engine and NVIDIA's libraries need glibc (musl-based systems such as Alpine are not supported)`,
        "Use a glibc distribution (Ubuntu, Debian, Fedora).",
      );
    return pass(detail);
  },
};
