"""A configuration frozen once, shared by several regions

A configuration dict is frozen with everything it holds: it cannot change any more, and
so every worker region may refer to the same copy, which no region may do with mutable
data.
"""
from pyrona import FrozenMutationError, Region, freeze, isfrozen

# The configuration is built as ordinary local data...
config = {"retries": 3, "hosts": ["alpha", "beta"], "limits": {"cpu": 2}}
# ...and frozen once, with everything it holds.
freeze(config)
print("hosts frozen too:", isfrozen(config["hosts"]))

# Frozen means frozen: no one may change it any more.
try:
    config["hosts"].append("gamma")
except FrozenMutationError as err:
    print("refused:", err)

workers = [Region() for _ in range(3)]
for worker in workers:
    worker.config = config  # a frozen object may be referenced from any region  # pyrona: thumbnail
print("regions sharing the config:", len(workers))
