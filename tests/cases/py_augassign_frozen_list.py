# source: pyrona (Python-specific)
# expect: error frozen-mutation
from pyrona import freeze

config = {"paths": ["/a"]}
freeze(config)
paths = config["paths"]
paths += ["/b"]  # <- raises
