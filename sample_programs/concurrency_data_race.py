"""A data race rejected: a behaviour may not keep its cown's content for later.

With plain threads, two threads may update one counter at the same time and lose an
update. Here the counter lives in a cown, and only a behaviour that holds the cown can
reach it. A behaviour that hides a reference to the counter in a global list (to update
it later, without the cown) breaks that rule: when the behaviour ends, the runtime finds
the reference, clears it, and `wait()` reports a region-violation.
"""
from pyrona import Cown, CownAccessError, wait, when


class Counter:
    def __init__(self):
        self.hits = 0


counter = Cown(Counter())
stash = []

# Two well-behaved behaviours: each counts while it holds the cown.
for _ in range(2):
    @when(counter)
    def hit(c):
        c.value.hits += 1


# A behaviour that keeps the counter itself, to use it after it ends: the data race.
@when(counter)
def sneak(c):
    stash.append(c.value)  # pyrona: thumbnail


# wait() raises an ExceptionGroup of what went wrong in the behaviours.
try:
    wait()
except ExceptionGroup as group:
    for error in group.exceptions:
        print("refused:", error.kind)
print("the stash after the behaviour:", stash)

# Outside any behaviour the counter is off limits too.
try:
    counter.value.hits += 1
except CownAccessError as err:
    print("refused:", err.kind)


@when(counter)
def report(c):
    print("hits:", c.value.hits)


wait()
