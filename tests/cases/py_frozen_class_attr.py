# source: pyrona (Python-specific)
# expect: error frozen-mutation
from pyrona import freeze, isfrozen


class Settings:
    defaults = {"debug": False}


s = Settings()
freeze(s)
assert isfrozen(Settings) and isfrozen(Settings.defaults)
Settings.defaults["debug"] = True  # <- raises
