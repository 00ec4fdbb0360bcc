# source: pyrona (Python-specific)
# expect: error frozen-mutation
from pyrona import freeze

scores = [3, 1, 2]
freeze(scores)
ordered = sorted(scores)
assert ordered == [1, 2, 3]
scores.sort()  # <- raises
