"""Regions form a forest: owning references, merge and dissolve."""
from pyrona import Obj, Region, RegionError, dissolve, merge

library = Region()
library.shelves = []
shelf = Region()
shelf.books = [Obj(title="Verona"), Obj(title="Lungfish")]
library.shelves.append(shelf)  # shelf becomes a subregion of library

try:
    Region().stolen = shelf  # a region has at most one owner
except RegionError as err:
    print("refused:", err.kind)

merge(shelf, library)  # the shelf's objects join the library's region
library.favourite = shelf.books[0]  # same region now: allowed
dissolve(library)  # everything becomes local again
print("titles:", [book.title for book in shelf.books])
