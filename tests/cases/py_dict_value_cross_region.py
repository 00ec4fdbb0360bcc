# source: pyrona (Python-specific)
# expect: error region-violation
from pyrona import Region, Obj

users = Region()
users.by_name = {}
sessions = Region()
sessions.current = Obj()
users.by_name["ann"] = sessions.current  # <- raises
