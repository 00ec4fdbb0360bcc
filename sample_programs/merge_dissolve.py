"""Merge and dissolve

Two drafts are edited in subregions of a document. When editing is done, `merge` folds
each draft into the document's region; at the end `dissolve` hands every object back to
the local region, as if regions had never been used.
"""
from pyrona import Obj, Region, dissolve, merge

document = Region()
document.sections = []
# Each draft is its own region, owned by the document: two subregions.
intro = Region()
intro.text = Obj(words=120)
results = Region()
results.text = Obj(words=450)
document.sections.append(intro)
document.sections.append(results)

# Merging a subregion: its objects join the document's region, its bridge is now plain.
merge(intro, document)
merge(results, document)  # pyrona: thumbnail
total = sum(section.text.words for section in document.sections)
print("words in the document:", total)

# Dissolving the root region: every object becomes local again.
dissolve(document)
print("local again:", len(document.sections), "sections")
