"""__NAME__: a strategy that fades the mid's moves away from its average.

For every quote it updates an exponential average of the mid. When the mid
is more than `threshold_bps` below the average it buys `quantity` at the ask
(immediate or cancel), when it is that far above it sells at the bid, never
past `max_position` either way, and with one order in flight at a time per
instrument. Its position comes from its fills.

Config keys (a key not listed here is refused, so a typo never leaves a
default in place): `quantity` (units per order, 1), `max_position` (units,
5), `threshold_bps` (5), `smoothing` (quotes the average spans, about; 50).
"""

import struct

import tradsys
from tradsys import types as t


class __TYPE__(tradsys.Strategy):
    def __init__(self, config):
        config.only("quantity", "max_position", "threshold_bps", "smoothing")
        self.quantity = config.fixed("quantity", tradsys.units(1))
        self.max_position = config.fixed("max_position", tradsys.units(5))
        threshold_bps = config.number("threshold_bps", 5.0)
        smoothing = config.number("smoothing", 50.0)
        if self.quantity <= 0 or self.max_position < self.quantity:
            raise ValueError("config: `quantity` must be positive and at most `max_position`")
        if not (threshold_bps > 0 and smoothing >= 1):
            raise ValueError("config: `threshold_bps` must be positive, `smoothing` at least 1")
        self.threshold = threshold_bps / 10_000
        self.alpha = 2 / (smoothing + 1)
        self.averages = {}  # the mid's exponential average per instrument, price units
        self.keeper = tradsys.Keeper()  # its orders, fills and positions

    def on_market(self, events, orders):
        for event in events:
            if isinstance(event, t.MarketEvent_Quote):
                self.on_quote(event.value, orders)

    def on_quote(self, q, orders):
        if q.bid_size <= 0 or q.ask_size <= 0:
            return
        mid = tradsys.to_float((q.bid_price + q.ask_price) // 2)
        average = self.averages.get(q.instrument, mid)
        average += self.alpha * (mid - average)
        self.averages[q.instrument] = average
        if self.keeper.in_flight(q.instrument) is not None:
            return
        distance = (mid - average) / average
        position = self.keeper.position(q.instrument)
        if distance < -self.threshold and position + self.quantity <= self.max_position:
            side, price = t.Side.BUY, q.ask_price
        elif distance > self.threshold and position - self.quantity >= -self.max_position:
            side, price = t.Side.SELL, q.bid_price
        else:
            return
        self.keeper.submit(orders, q.instrument, side, t.OrderType.LIMIT, t.TimeInForce.IOC,
                           price, self.quantity)

    def on_order_events(self, events, orders):
        # Fills move the position; an IOC order ends filled, canceled or
        # rejected, and the keeper forgets it.
        for event in events:
            self.keeper.apply(event)

    def save_state(self):
        averages = sorted(self.averages.items())
        return self.keeper.save() + struct.pack("<I", len(averages)) + b"".join(
            struct.pack("<Id", instrument, average) for instrument, average in averages)

    def load_state(self, state):
        keeper, offset = tradsys.Keeper.load(state)
        try:
            (count,) = struct.unpack_from("<I", state, offset)
            averages = dict(struct.unpack_from("<Id", state, offset + 4 + 12 * n)
                            for n in range(count))
        except struct.error as e:
            raise ValueError(f"state truncated: {e}") from None
        self.keeper, self.averages = keeper, averages


StrategyApi = tradsys.export_strategy(__TYPE__)
