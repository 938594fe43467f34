#!/bin/bash
# A distributed nlsq fit on a PBS (PBS Pro / OpenPBS / Torque) cluster:
# one MPI rank per node, each rank using all cores of its node.
#
#   qsub examples/pbs_job.sh
#   qsub -v DATA=/scratch/me/big.npy examples/pbs_job.sh
#
# Needs deno on PATH on every node and an MPI library (MPICH, Intel MPI,
# MVAPICH or Open MPI) that the launcher below belongs to. Set
# NLSQ_MPI_LIBRARY to the library's path when it is not found by name
# (e.g. /opt/cray/pe/lib64/libmpi_cray.so.12 or .../libmpi.so.40).
#
#PBS -N nlsq_distributed
#PBS -l select=4:ncpus=32:mpiprocs=1
#PBS -l walltime=01:00:00
#PBS -j oe

set -euo pipefail
cd "${PBS_O_WORKDIR:-.}"

# Site specific, for example:
# module load mpich

NRANKS=$(wc -l <"${PBS_NODEFILE}")
CHECKPOINTS="nlsq_checkpoints/${PBS_JOBID:-local}"

# Compile and cache once, so the ranks do not all do it at start-up.
deno cache examples/distributed_fit.ts

# --allow-ffi: the MPI library; --allow-env: the launcher's variables and
# NLSQ_MPI_LIBRARY; --allow-read: the MPI library and the data;
# --allow-write: checkpoints (only rank 0 writes them).
ARGS=(--checkpoint-dir "${CHECKPOINTS}")
if [[ -n "${DATA:-}" ]]; then ARGS+=(--data "${DATA}"); fi

mpiexec -n "${NRANKS}" -f "${PBS_NODEFILE}" \
  deno run --allow-ffi --allow-env --allow-read --allow-write="${CHECKPOINTS}" \
  examples/distributed_fit.ts "${ARGS[@]}"
# Open MPI's mpiexec reads the PBS allocation itself: drop "-f ...".
