"""A job queue in a region

Jobs appended to a queue kept in a region move in with everything they reference. An
audit region may not point at a job of the queue; closing the queue cuts every local
reference into it.
"""
from pyrona import Region, RegionError, close, is_closed


class Job:
    def __init__(self, name, deps=()):
        self.name = name
        self.deps = list(deps)
        self.done = False


# The queue is a region; its bridge holds the list of jobs.
queue = Region()
queue.jobs = []
compile_job = Job("compile")
queue.jobs.append(compile_job)  # the job and its deps list move into the region
queue.jobs.append(Job("test", deps=[compile_job]))

# A second region, for an audit trail.
audit = Region()
try:
    # pyrona: thumbnail
    audit.last = compile_job  # compile_job belongs to the queue's region now
except RegionError as err:
    print("refused:", err.kind)

for job in queue.jobs:
    job.done = True
print("open while we hold references:", not is_closed(queue))
job = compile_job = None
close(queue)  # every local reference into the region becomes None
print("queue after close:", queue)
