"""A job queue kept in a region: jobs move in with everything they reference."""
from pyrona import Region, RegionError, close, is_closed


class Job:
    def __init__(self, name, deps=()):
        self.name = name
        self.deps = list(deps)
        self.done = False


queue = Region()
queue.jobs = []
compile_job = Job("compile")
queue.jobs.append(compile_job)  # the job and its deps list move into the region
queue.jobs.append(Job("test", deps=[compile_job]))

audit = Region()
try:
    audit.last = compile_job  # compile_job belongs to the queue's region now
except RegionError as err:
    print("refused:", err.kind)

for job in queue.jobs:
    job.done = True
print("open while we hold references:", not is_closed(queue))
job = compile_job = None
close(queue)  # every local reference into the region becomes None
print("queue after close:", queue)
