"""Objects in messages named as the diagram names them (`#17 Job`), not by address.

The runtime writes its messages without knowing the trace: an object shows as Python's
repr, `<__main__.Job object at 0x7fa0868e8830>` or `<Cown at 0x7f3c5292ed10 released>`.
The tracer knows which node each of those objects is: for a violation it records, in the
event's `nodes`, the node of every such mention in the order they appear (see
`mention_nodes`). The store keeps the message as the runtime wrote it; `named_message`
gives the text people read.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable

#: Python's default repr (`<mod.Type object at 0x...>`) and the runtime's own (`<Type at
#: 0x... state>`, for objects whose repr is too long or is not to be trusted).
MENTION = re.compile(r"<(?:[\w.]*\.)?(\w+)(?: object)? at 0x([0-9a-fA-F]+)((?: [\w-]+)*)>")
#: A bridge's repr, `<Region #2>`: the diagram's name is `Region #2`.
BRIDGE = re.compile(r"<(Region #\d+)>")


def mention_addresses(message: str) -> list[int]:
    """The addresses (ids) of the objects `message` mentions by repr, in order."""
    return [int(m.group(2), 16) for m in MENTION.finditer(message)]


def mention_nodes(message: str, node_of: Callable[[int], int | None]) -> tuple[int, ...]:
    """The node of each object the message mentions, in order (`node_of` maps an id to
    its node); () when one of them has none: then the message is shown as it is."""
    nodes = []
    for address in mention_addresses(message):
        nid = node_of(address)
        if nid is None:
            return ()
        nodes.append(nid)
    return tuple(nodes)


def named_message(message: str, nodes: tuple[int, ...] | list[int]) -> str:
    """The message with each mention replaced by its node's name (`#17 Job`, `#14 Cown
    (released)`), when `nodes` names every mention (as `mention_nodes` recorded them)."""
    message = BRIDGE.sub(r"\1", message)
    matches = list(MENTION.finditer(message))
    if not matches or len(matches) != len(nodes):
        return message
    out, at = [], 0
    for match, nid in zip(matches, nodes, strict=True):
        state = match.group(3).strip()
        out += [message[at:match.start()], f"#{nid} {match.group(1)}", f" ({state})" if state else ""]
        at = match.end()
    out.append(message[at:])
    return "".join(out)


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 violation`, `2 violations` (`many` for irregular plurals)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"
