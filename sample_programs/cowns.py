"""Cowns for a document and its settings

A cown owns a frozen value or a whole region. Frozen settings make a cown that is
released at once; a document region makes one that stays pending while local references
reach in, and is released when the region is closed. A released cown's content is off
limits.
"""
from pyrona import Cown, CownAccessError, Region, close, freeze, is_released

# Frozen settings: a cown of them is released at once and can be shared.
config = freeze({"name": "report", "pages": 3})
settings = Cown(config)  # a frozen value: released at once, shareable
print("settings released:", is_released(settings))

# A document kept in a region, handed to a cown as a whole.
draft = Region()
draft.pages = [{"title": "intro"}, {"title": "results"}]
editor = draft.pages[0]
document = Cown(draft)  # pending: local references still reach the region
print("document released:", is_released(document))
close(document.value)  # every local reference into the region becomes None  # pyrona: thumbnail
print("after close, editor is", editor, "and released:", is_released(document))

# Released: its content is off limits until a behaviour acquires it.
try:
    document.value.pages.append({"title": "appendix"})
except CownAccessError as err:
    print("refused:", err.kind)
