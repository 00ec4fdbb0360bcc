"""Shallow immutables: values that count as frozen without a freeze, and the tuple rule.

Ints, strs, floats, bools, None, bytes and ranges are immutable by nature, and so
are builtin types and functions: `is_frozen` says True at once. A tuple (or a
frozenset) counts as frozen only when everything in it does: a tuple holding a
list is not, until the list is frozen.
"""
from immutable import freeze, is_frozen

# Values are immutable from birth.
print("values:", all(is_frozen(v) for v in (42, "text", 2.5, True, None, b"raw", range(3))))
print("builtins:", is_frozen(len), is_frozen(dict))

# A tuple of values is immutable; a tuple holding a list is not...
pair = (1, ("nested", 2.0))
mixed = (1, [2, 3])
print("pair:", is_frozen(pair), "mixed:", is_frozen(mixed))

# ...until the list inside it is frozen.
inner = mixed[1]
freeze(inner)  # pyrona: thumbnail
print("mixed after freezing its list:", is_frozen(mixed))
