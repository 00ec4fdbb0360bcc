"""Freezing functions: their defaults, the globals they name, the variables they captured.

Freezing a function freezes its defaults and the values of the globals its code
names and of the variables it captured, and detaches it: rebinding the module's
variable later does not change what the frozen function sees, and the frozen
function may not rebind a global or a captured variable itself (TypeError). The
module's other globals stay mutable.
"""
from immutable import freeze, is_frozen

rates = {"eur": 1.0, "usd": 1.1}  # named by convert: frozen with it
history = []  # named by nobody frozen: stays mutable
calls = 0


def convert(amount, currency="eur"):
    return amount * rates[currency]


def counted(amount):
    global calls
    calls += 1
    return amount


def make_counter():
    count = 0

    def step():
        nonlocal count
        count += 1
        return count

    return step


# Frozen, convert is detached: its edges are its private snapshot of the globals it names.
freeze(convert)  # pyrona: thumbnail
print("rates frozen:", is_frozen(rates), "history frozen:", is_frozen(history))
history.append(convert(10, "usd"))

# The frozen function keeps the value it saw: rebinding the global does not reach it.
rates = {"eur": 2.0, "usd": 3.0}
print("still converts with the frozen rates:", convert(10, "usd"))

# A frozen function may not rebind a global, nor a variable it captured.
freeze(counted)
try:
    counted(5)
except TypeError as err:
    print("refused:", err)
step = make_counter()
step()
freeze(step)
try:
    step()
except TypeError as err:
    print("refused:", err)
