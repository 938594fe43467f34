// One rank fails while the others wait in a barrier; runMpi must abort the
// whole job. Mode (first argument): "throw" raises inside the runMpi
// function, "uncaught" raises from a timer outside it.
import { runMpi } from "../../cluster/mod.ts";

const mode = Deno.args[0] ?? "throw";

await runMpi(async (comm) => {
  if (comm.rank === 1) {
    if (mode === "uncaught") {
      setTimeout(() => {
        throw new Error("uncaught failure on rank 1");
      }, 100);
      // Stays busy elsewhere: only the uncaught-error handler can end it.
      await new Promise((resolve) => setTimeout(resolve, 120_000));
    } else {
      await new Promise((resolve) => setTimeout(resolve, 100));
      throw new Error("failure on rank 1");
    }
  }
  // The other ranks block here for good unless the job is aborted.
  comm.barrier();
  console.log(JSON.stringify({ rank: comm.rank, passedBarrier: true }));
});
