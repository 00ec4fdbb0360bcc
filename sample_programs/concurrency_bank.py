"""Bank transfers in behaviours: money moves between accounts, the total never changes.

Each account lives in a cown of its own: `Cown(Account(...))` makes the account the
bridge of a region that the cown owns. A transfer is a behaviour on two cowns; it runs
once it holds both, so no other behaviour ever sees an account half-way through a
transfer. Transfers on disjoint accounts may run in parallel; transfers that share an
account run in the order they were scheduled.
"""
from pyrona import Cown, wait, when


class Account:
    def __init__(self, name, balance):
        self.name = name
        self.balance = balance


# Four accounts, each moved into its own cown (nothing local keeps them: released at once).
accounts = [Cown(Account(name, 100)) for name in ("ada", "bob", "cy", "dee")]


def transfer(src, dst, amount):
    # A behaviour on both accounts: it waits until it holds the two cowns.
    @when(src, dst)
    def move(a, b):
        if a.value.balance >= amount:
            a.value.balance -= amount
            b.value.balance += amount


# Twelve transfers around the ring: neighbours share an account, so they run in order.
for i in range(12):
    transfer(accounts[i % 4], accounts[(i + 1) % 4], 10 + 5 * i)


# An audit holds all four accounts at once: it sees no transfer half-done.
@when(*accounts)
def audit(*held):
    for cown in held:
        print(cown.value.name, "has", cown.value.balance)
    print("total after the transfers:", sum(cown.value.balance for cown in held))  # pyrona: thumbnail


# Wait for every behaviour (an exception in any of them would be raised here).
wait()
