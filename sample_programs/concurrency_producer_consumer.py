"""Producer and consumer: jobs pass through a queue that lives in a cown.

The queue of jobs is the content of a cown, so only a behaviour that holds the cown can
touch it: producers put jobs in, consumers take them out, and nobody ever sees the queue
half-updated. Behaviours on one cown run in the order they were scheduled, so a consumer
scheduled after a producer always finds that producer's jobs. A consumer holds the queue
and the tally at once: a job leaves the one and is counted in the other in one step.
"""
from pyrona import Cown, wait, when


class Job:
    def __init__(self, owner, text):
        self.owner = owner
        self.text = text


class Queue:
    def __init__(self):
        self.jobs = []


class Tally:
    def __init__(self):
        self.done = []
        self.words = 0


# The queue and the tally, each in a cown of its own.
queue = Cown(Queue())
tally = Cown(Tally())


def produce(owner, texts):
    # A producer holds the queue: the jobs it makes move into the queue's region.
    @when(queue)
    def put(q):
        for text in texts:
            q.value.jobs.append(Job(owner, text))
        print(f"{owner} put {len(texts)} job(s); {len(q.value.jobs)} waiting")


def consume(worker):
    # A consumer holds the queue and the tally together; it copies plain values across,
    # never the job itself (that would be a reference into another region).
    @when(queue, tally)
    def take(q, t):
        if not q.value.jobs:
            print(f"{worker} found no job")
            return
        job = q.value.jobs.pop(0)  # pyrona: thumbnail
        t.value.done.append(f"{job.text} (for {job.owner})")
        t.value.words += len(job.text.split())
        print(f"{worker} did: {job.text}")


# Jobs and workers, scheduled in this order: each cown's queue keeps that order.
produce("ann", ["wash the cups", "sweep the floor"])
consume("zed")
produce("bo", ["water the plants"])
consume("zed")
consume("yu")
consume("yu")


# The report holds the tally once every consumer before it is done.
@when(tally)
def report(t):
    print(f"{len(t.value.done)} jobs done, {t.value.words} words of work")


wait()
