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

/** What a finished command returned. */
export interface Job {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/**
 * Runs `cmd args` (typically `mpiexec`) to the end. One still running after
 * `timeoutMs` is killed and fails the test: an MPI job that hangs must not
 * hang the suite.
 */
export async function runJob(
  cmd: string,
  args: string[],
  timeoutMs: number,
  env: Record<string, string> = {},
): Promise<Job> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, {
    args,
    env: {
      // Harmless for MPICH; lets Open MPI run as root and oversubscribe the
      // two cores of a CI machine with three ranks.
      OMPI_ALLOW_RUN_AS_ROOT: "1",
      OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1",
      OMPI_MCA_rmaps_base_oversubscribe: "1",
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.signal !== null) {
    throw new Error(
      `${cmd} was killed by ${out.signal} after ${seconds.toFixed(1)} s ` +
        `(hang?)\n${stderr}`,
    );
  }
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr,
    seconds,
  };
}
