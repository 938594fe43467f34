/**
 * Probes for the external programs some tests and benchmarks run: the MPI
 * launcher and Python with numpy/scipy (`NLSQ_PYTHON`, else `python3`).
 *
 * @module
 */

/** The Python interpreter to run: `NLSQ_PYTHON`, else `python3`. */
export function pythonCommand(): string {
  return Deno.env.get("NLSQ_PYTHON") ?? "python3";
}

/** Whether Python runs and imports `modules` (e.g. "numpy, scipy"). */
export function havePython(modules = "scipy"): boolean {
  try {
    return new Deno.Command(pythonCommand(), {
      args: ["-c", `import ${modules}`],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/** Whether an `mpiexec` launcher is installed. */
export async function hasMpiexec(): Promise<boolean> {
  try {
    await new Deno.Command("mpiexec", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return true;
  } catch {
    return false;
  }
}
