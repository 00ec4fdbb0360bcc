"""Fibonacci by chained behaviours: each result is a cown that the next behaviour waits for.

`@when(a, b)` turns the function below it into a cown that will hold its result, so
behaviours chain: fib(n) is a behaviour on the cowns of fib(n - 1) and fib(n - 2),
and runs once both have their values. Independent branches may run in parallel.
"""
from pyrona import Cown, wait, when


def fib(n):
    # The smallest cases are plain values in cowns.
    if n < 2:
        return Cown(n)

    # A behaviour on the two smaller results; `add` is the cown of its own result.
    @when(fib(n - 1), fib(n - 2))
    def add(a, b):
        return a.value + b.value  # pyrona: thumbnail

    return add


result = fib(7)


# Read the final cown in one more behaviour.
@when(result)
def show(r):
    print("fib(7) =", r.value)


wait()
