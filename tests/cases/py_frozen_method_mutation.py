# source: pyrona (Python-specific)
# expect: error frozen-mutation
from pyrona import freeze


class Counter:
    def __init__(self):
        self.count = 0

    def bump(self):
        self.count += 1  # <- raises


c = Counter()
c.bump()
freeze(c)
c.bump()
