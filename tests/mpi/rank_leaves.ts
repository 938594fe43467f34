// One rank leaves the job while the others wait for it in a barrier; they
// must end the job (MpiJobError, then MPI_Abort) instead of hanging:
//
//   mpiexec -n N deno run -A rank_leaves.ts MODE LEAVER
//
// MODE "finalize": rank LEAVER finalizes MPI after one barrier, as a program
// that ends normally does. MODE "never-init": rank LEAVER's program ends
// without initializing MPI (the job guard initializes it at exit to tell the
// others). A rank that gets through prints {"rank", "passed": true}.
import { guardMpiJob, Mpi } from "../../cluster/mod.ts";

guardMpiJob();
const [mode, leaver] = Deno.args;
const envRank = Deno.env.get("PMI_RANK") ??
  Deno.env.get("OMPI_COMM_WORLD_RANK");

if (!(mode === "never-init" && envRank === leaver)) {
  const comm = Mpi.load().init();
  comm.barrier();
  if (String(comm.rank) === leaver) {
    comm.finalize();
  } else {
    comm.barrier();
    console.log(JSON.stringify({ rank: comm.rank, passed: true }));
  }
}
