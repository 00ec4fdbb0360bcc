"""Dining philosophers: a behaviour takes both its forks at once, so nobody deadlocks.

Five philosophers sit at a round table with one fork between each pair. Each bite is
a behaviour on the two forks beside the philosopher. The runtime hands a behaviour
all of its cowns or none of them, in an order every cown's queue agrees on, so the
classic deadlock (everyone holding the left fork, waiting for the right one) cannot
happen.
"""
from pyrona import Cown, wait, when


class Fork:
    def __init__(self):
        self.uses = 0


# One fork per seat, each in its own cown.
forks = [Cown(Fork()) for _ in range(5)]


def dine(seat, left, right, bites):
    # One bite: a behaviour on the two forks beside the seat.
    @when(left, right)
    def bite(mine, theirs):
        mine.value.uses += 1
        theirs.value.uses += 1
        print(f"philosopher {seat} takes a bite")  # pyrona: thumbnail
        # Still hungry: schedule the next bite (it queues behind the neighbours' bites).
        if bites > 1:
            dine(seat, left, right, bites - 1)


for seat in range(5):
    dine(seat, forks[seat], forks[(seat + 1) % 5], 3)

# Every bite has run once wait() returns.
wait()

# `with fork as f:` acquires a cown on this thread, after the behaviours queued on it.
for index, fork in enumerate(forks):
    with fork as f:
        print(f"fork {index} was used {f.uses} times")
