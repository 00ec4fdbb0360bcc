"""Types and decorators: freezing an instance freezes its class; decorators set freezability.

A class is frozen with its instances (its attributes and methods too), yet its
other instances stay mutable. `@frozen` freezes a class as it is defined,
`@unfreezable` forbids freezing its instances, `@explicitlyFreezable` allows it
only when an instance is passed to freeze itself; subclasses inherit the status.
"""
from immutable import explicitlyFreezable, freeze, frozen, is_frozen, unfreezable


class Temperature:
    unit = "C"

    def __init__(self, degrees):
        self.degrees = degrees


reading = Temperature(21)
freeze(reading)  # pyrona: thumbnail
print("class frozen with its instance:", is_frozen(Temperature))
try:
    Temperature.unit = "F"
except TypeError:
    print("refused: the class attribute is frozen")
fresh = Temperature(5)
fresh.degrees = 6  # other instances stay mutable
print("another instance:", fresh.degrees, is_frozen(fresh))


@frozen
class Colours:
    RED = "#d32f2f"


@unfreezable
class Connection:
    pass


class PooledConnection(Connection):  # inherits "unfreezable"
    pass


@explicitlyFreezable
class Token:
    pass


print("frozen at definition:", is_frozen(Colours))
try:
    freeze({"conn": PooledConnection()})
except TypeError:
    print("refused: a subclass of an unfreezable class")
token = Token()
freeze(token)
print("explicit token frozen:", is_frozen(token))
