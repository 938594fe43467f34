// Tries to load MPI and prints the outcome as JSON, so tests can check the
// error for a missing library or a missing --allow-ffi.
import { Mpi } from "../../cluster/mod.ts";

try {
  const mpi = Mpi.load();
  console.log(JSON.stringify({ ok: true, flavor: mpi.flavor }));
} catch (e) {
  const err = e as Error;
  console.log(
    JSON.stringify({ ok: false, name: err.name, message: err.message }),
  );
}
