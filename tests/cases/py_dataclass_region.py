# source: pyrona (Python-specific)
# expect: error region-violation
from dataclasses import dataclass, field

from pyrona import Region


@dataclass
class Order:
    id: int
    lines: list = field(default_factory=list)


shop = Region()
shop.orders = [Order(1), Order(2)]
shop.orders[0].lines.append("apple")
warehouse = Region()
warehouse.picking = shop.orders[1]  # <- raises
