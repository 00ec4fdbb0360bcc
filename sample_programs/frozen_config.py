"""Deep immutability: a frozen configuration can be shared by every region."""
from pyrona import FrozenMutationError, Region, freeze, isfrozen

config = {"retries": 3, "hosts": ["alpha", "beta"], "limits": {"cpu": 2}}
freeze(config)
print("hosts frozen too:", isfrozen(config["hosts"]))

try:
    config["hosts"].append("gamma")
except FrozenMutationError as err:
    print("refused:", err)

workers = [Region() for _ in range(3)]
for worker in workers:
    worker.config = config  # a frozen object may be referenced from any region
print("regions sharing the config:", len(workers))
