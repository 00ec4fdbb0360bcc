"""A request cache handed over whole

A web handler keeps its cache of responses in a region. When the handler is done, the
whole cache (the bridge and everything behind it) is handed to a cown in one move: no
object is copied, and no reference from outside is left behind to race with its new owner.
"""
from pyrona import Cown, CownAccessError, Region, close, is_released


class Response:
    def __init__(self, status, body):
        self.status = status
        self.body = body
        self.headers = {"content-type": "text/plain"}


# The cache is a region: its bridge holds an index of URL -> response.
cache = Region()
cache.index = {}


def fetch(url):
    # a response built locally moves into the cache's region when it is stored there
    response = Response(200, "page " + url)
    cache.index[url] = response
    return response


fetch("/home")
latest = fetch("/about")  # a local borrow into the region: the bridge's lrc counts it
print("cached:", sorted(cache.index))

# Hand-over: the region moves into a cown as a whole. The cown is pending while our
# variables still reach into the region...
shared = Cown(cache)
print("handed over, released:", is_released(shared))
# ...and closing the region clears them (`cache` and `latest` become None): released.
close(shared.value)  # pyrona: thumbnail
print("our borrows after close:", cache, latest, "- released:", is_released(shared))
try:
    print(shared.value.index)  # only a behaviour that acquires the cown may look inside now
except CownAccessError as err:
    print("refused:", err.kind)
