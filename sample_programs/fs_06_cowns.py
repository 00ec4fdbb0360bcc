"""Cowns: concurrent owners

A cown owns a frozen value, another cown, or a whole region. While local references
still reach its region it is pending; once they are gone it is released, and its content
is off limits until a behaviour acquires it. (FrankenScript's sixth example.)
"""
from pyrona import CownAccessError, Cown, Obj, Region, close, freeze, is_released

# A cown of nothing is released at once.
empty = Cown(None)
print("empty released:", is_released(empty))

# A cown made from an open region is pending: our variables still reach inside.
ledger = Region()
ledger.entries = Obj(total=0)
entries = ledger.entries
account = Cown(ledger)
print("account pending:", not is_released(account))
# Closing the region clears those references, and the cown is released.
close(account.value)
print("entries cleared:", entries is None, "- released:", is_released(account))
try:
    print(account.value)  # a released cown's content cannot be read from here
except CownAccessError as err:
    print("refused:", err.kind)

# Frozen data and any number of regions may refer to a cown: it is the unit of sharing.
receipt = Obj(account=account)
freeze(receipt)  # freezing stops at the cown
teller = Region()
teller.account = account  # pyrona: thumbnail
auditor = Region()
auditor.account = account
print("shared by two regions and a frozen receipt")

# A cown may own another cown.
vault = Cown(account)
print("vault released:", is_released(vault))
