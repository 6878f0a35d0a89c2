"""Run under mpiexec by tests/test_distributed.py: rank 1 fails in the way argv[1] names while the
other ranks wait in collectives; the job must end with an error within the test's time limit.

    raise: rank 1 raises an exception          die: rank 1 exits at once (os._exit)
    hang: rank 1 sleeps instead of reducing (the others' collective times out after 2 s)
"""
import os
import sys
import time

import fastgrad as fg
import fastgrad.distributed as dist

dist.set_timeout(2)
mode = sys.argv[1]
t = fg.ones(1000)
for step in range(5):
    if dist.rank() == 1 and step == 2:
        if mode == "raise":
            raise RuntimeError("rank 1 fails on purpose")
        if mode == "die":
            os._exit(3)
        if mode == "hang":
            time.sleep(600)
    dist.all_reduce(t)
print("unreachable: the job should have ended")
