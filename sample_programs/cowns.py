"""Cowns own a frozen value or a whole region; a released cown's content is off limits."""
from pyrona import Cown, CownAccessError, Region, close, freeze, is_released

config = freeze({"name": "report", "pages": 3})
settings = Cown(config)  # a frozen value: released at once, shareable
print("settings released:", is_released(settings))

draft = Region()
draft.pages = [{"title": "intro"}, {"title": "results"}]
editor = draft.pages[0]
document = Cown(draft)  # pending: local references still reach the region
print("document released:", is_released(document))
close(document.value)  # every local reference into the region becomes None
print("after close, editor is", editor, "and released:", is_released(document))

try:
    document.value.pages.append({"title": "appendix"})
except CownAccessError as err:
    print("refused:", err.kind)
