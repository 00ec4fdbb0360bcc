"""Freezability: which objects freeze may take, and what happens when it may not.

`set_freezable` marks an object (or a whole type) FREEZABLE_NO (never frozen) or
FREEZABLE_EXPLICIT (frozen only when passed to `freeze` itself). A freeze that
reaches such an object stops, and is all or nothing: not a single object was
frozen. `require_mutable` keeps an object mutable for the length of a block.
"""
from immutable import (
    FREEZABLE_EXPLICIT, FREEZABLE_NO, NotFreezableError, freeze, is_frozen, require_mutable, set_freezable,
)


class Account:
    def __init__(self, owner):
        self.owner = owner
        self.history = []


# The audit log must never become immutable.
audit = []
set_freezable(audit, FREEZABLE_NO)
account = Account("ada")
account.log = audit

# A freeze that reaches it stops: nothing at all is frozen (the account, its list).
try:
    freeze(account)  # pyrona: thumbnail
except NotFreezableError as err:
    print("stopped:", err)
print("account frozen:", is_frozen(account), "history frozen:", is_frozen(account.history))

# An explicit-only object may be frozen, but only when named.
secret = {"key": 1234}
set_freezable(secret, FREEZABLE_EXPLICIT)
holder = {"secret": secret}
try:
    freeze(holder)
except NotFreezableError:
    print("reached indirectly: refused")
freeze(secret)
print("frozen when named:", is_frozen(secret))

# Without the log, the account freezes; require_mutable guards a block.
del account.log
draft = {"text": ""}
with require_mutable(draft):
    try:
        freeze({"draft": draft})
    except NotFreezableError:
        print("draft stays mutable inside the block")
freeze(account)
print("account frozen now:", is_frozen(account))
