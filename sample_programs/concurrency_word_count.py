"""A parallel word count over frozen text in sub-interpreters

The text is frozen once, cut into chunks, and each chunk is counted in another
interpreter (PEP 734, each with its own GIL): frozen data may be sent, because it
cannot change, and it is copied there. The counts come back frozen and are merged
here. A mutable list is refused before it leaves, and a region is moved: after the
send, the sender's reference to it is None.
"""
from collections import Counter

from pyrona import Region, SendError, freeze
from pyrona.interpreters import Interpreter, parallel_map

POEM = """the sea is calm tonight the tide is full the moon lies fair upon the straits
on the french coast the light gleams and is gone the cliffs of england stand
glimmering and vast out in the tranquil bay come to the window sweet is the night air"""


def count_words(lines):
    # Runs in another interpreter, on its own copy of the frozen chunk.
    counts = Counter()
    for line in lines:
        counts.update(line.split())
    return dict(counts)


def total_words(bridge):
    return sum(len(line.split()) for line in bridge.lines)


if __name__ == "__main__":
    # Freeze the text, then cut it into chunks of frozen lines.
    lines = freeze(POEM.splitlines())
    chunks = freeze([lines[i:i + 1] for i in range(len(lines))])
    # Each chunk is counted in one of two interpreters; the results come back frozen.
    parts = parallel_map(count_words, chunks, interpreters=2)  # pyrona: thumbnail
    total = Counter()
    for part in parts:
        total.update(part)
    print("most common:", total.most_common(3))
    print("distinct words:", len(total))

    # Mutable data may not go: it would be shared by two interpreters.
    draft = ["the", "end"]
    with Interpreter() as other:
        try:
            other.call(count_words, draft)
        except SendError as error:
            print("refused:", error.kind)
        # A free region is moved whole: the sender loses its reference.
        notes = Region()
        notes.lines = ["a region is moved", "not copied"]
        print("words in the moved region:", other.call(total_words, notes))
        print("the sender's reference after the move:", notes)
