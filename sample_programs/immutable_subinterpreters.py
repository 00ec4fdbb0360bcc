"""Frozen data in sub-interpreters: sent by copy, and the escape hatches across

Deeply immutable data may go to another interpreter (PEP 734) because neither side
can change it. The CPython prototype shares it by reference; on stock CPython pyrona
copies it, and the receiver freezes its copy again. A SharedField arrives as a field
of its own (no longer shared), an InterpreterLocal with its default only (each
interpreter has its own value). Mutable data is refused before it leaves.
"""
from immutable import InterpreterLocal, SharedField, freeze, is_frozen

from pyrona import SendError
from pyrona.interpreters import Interpreter


def new_cache():
    return {}


class Settings:
    def __init__(self):
        self.name = "search"
        self.limits = {"results": 10}
        self.version = SharedField(1)
        self.cache = InterpreterLocal(new_cache)


def look_there(settings):
    # Runs in the other interpreter, on its copy.
    settings.cache.get()["seen"] = True   # its own cache, made by the factory there
    settings.version.set(99)              # its own field: the sender's keeps 1
    return (is_frozen(settings), settings.name, settings.limits["results"], settings.version.get())


if __name__ == "__main__":
    # Freeze the settings, escape hatches included, and send them.
    settings = Settings()
    freeze(settings)
    with Interpreter() as other:
        print("seen there:", other.call(look_there, settings))  # pyrona: thumbnail
        # Nothing the other interpreter did reached this one.
        print("here: version", settings.version.get(), "cache", settings.cache.get())
        # A mutable dict cannot go: it could change under the other interpreter's feet.
        try:
            other.call(look_there, {"name": "draft"})
        except SendError as error:
            print("refused:", error.kind)
