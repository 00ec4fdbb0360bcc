"""Nested regions: a library and its shelf

Regions form a forest: a shelf region owned by a library region is its subregion, and a
region has one owner only. Merging the shelf into the library lets the library point at
its books; dissolving the library makes everything local again.
"""
from pyrona import Obj, Region, RegionError, dissolve, merge

# A library region, and a shelf region with two books.
library = Region()
library.shelves = []
shelf = Region()
shelf.books = [Obj(title="Verona"), Obj(title="Lungfish")]
library.shelves.append(shelf)  # shelf becomes a subregion of library  # pyrona: thumbnail

try:
    Region().stolen = shelf  # a region has at most one owner
except RegionError as err:
    print("refused:", err.kind)

merge(shelf, library)  # the shelf's objects join the library's region
library.favourite = shelf.books[0]  # same region now: allowed
dissolve(library)  # everything becomes local again
print("titles:", [book.title for book in shelf.books])
