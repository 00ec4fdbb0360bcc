# source: pyrona (Python-specific)
# expect: error region-violation
from pyrona import Region

index = Region()
index.words = {}
index.words.update({"a": [1]}, b=[2])
index.words.setdefault("c", [])
index.words["c"].append("x")
other = Region()
other.words = {"z": []}
index.words.update(other.words)  # <- raises
