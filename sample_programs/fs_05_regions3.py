"""Regions 3: close, merge and dissolve

Closing a region cuts every local reference into it. `merge` folds a subregion into its
parent; `dissolve` turns a root region's objects back into local ones. (FrankenScript's
fifth example.)
"""
from pyrona import Obj, Region, close, dissolve, is_closed, merge

inner = Region()
inner.a = Obj(name="a")
inner.b = Obj(name="b")
print("open while a variable points in:", not is_closed(inner))

# `outer` takes ownership of `inner`: it becomes a subregion.
outer = Region()
outer.child = inner
# Closing cuts the local reference: the variable `inner` now holds None.
close(inner)
print("inner after close:", inner, "- closed:", is_closed(outer.child))

# Merge: the subregion's objects join its parent; its bridge is an ordinary object now.
merge(outer.child, outer)  # pyrona: thumbnail
# Dissolve: every object of the root region becomes local again.
dissolve(outer)
print("local again:", outer.child.a.name, outer.child.b.name)
