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


class Book:
    """The strategy's state for one instrument."""

    def __init__(self):
        self.average = None  # the mid's exponential average, price units
        self.position = 0  # fixed point, from fills
        self.in_flight = None  # the id of the order in flight


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
        self.next_id = 0
        self.books = {}

    def on_market(self, events, orders):
        for event in events:
            if isinstance(event, t.MarketEvent_Quote):
                self.on_quote(event.value, orders)

    def on_quote(self, q, orders):
        if q.bid_size <= 0 or q.ask_size <= 0:
            return
        mid = tradsys.to_float((q.bid_price + q.ask_price) // 2)
        book = self.books.setdefault(q.instrument, Book())
        book.average = mid if book.average is None else book.average + self.alpha * (mid - book.average)
        if book.in_flight is not None:
            return
        distance = (mid - book.average) / book.average
        if distance < -self.threshold and book.position + self.quantity <= self.max_position:
            side, price = t.Side.BUY, q.ask_price
        elif distance > self.threshold and book.position - self.quantity >= -self.max_position:
            side, price = t.Side.SELL, q.bid_price
        else:
            return
        self.next_id += 1
        book.in_flight = self.next_id
        orders.append(t.OrderCommand_Submit(t.NewOrder(
            id=self.next_id, instrument=q.instrument, side=side, order_type=t.OrderType.LIMIT,
            time_in_force=t.TimeInForce.IOC, price=price, quantity=self.quantity)))

    def on_order_events(self, events, orders):
        for event in events:
            book = self.books.setdefault(event.value.instrument, Book())
            if isinstance(event, t.OrderEvent_Filled):
                fill = event.value
                book.position += fill.quantity if fill.side == t.Side.BUY else -fill.quantity
                if fill.leaves_quantity == 0:
                    book.in_flight = None
            elif isinstance(event, (t.OrderEvent_Rejected, t.OrderEvent_Canceled)):
                book.in_flight = None  # an IOC order ends rejected, canceled or filled

    def save_state(self):
        out = [struct.pack("<BQI", 1, self.next_id, len(self.books))]
        for instrument, b in sorted(self.books.items()):
            out.append(struct.pack(
                "<I?dq?Q", instrument, b.average is not None, b.average or 0.0, b.position,
                b.in_flight is not None, b.in_flight or 0))
        return b"".join(out)

    def load_state(self, state):
        try:
            version, next_id, count = struct.unpack_from("<BQI", state)
            if version != 1:
                raise ValueError(f"state format {version}, this version reads 1")
            offset, books = struct.calcsize("<BQI"), {}
            for _ in range(count):
                instrument, has_average, average, position, has_id, order = struct.unpack_from(
                    "<I?dq?Q", state, offset)
                offset += struct.calcsize("<I?dq?Q")
                book = Book()
                book.average = average if has_average else None
                book.position = position
                book.in_flight = order if has_id else None
                books[instrument] = book
        except struct.error as e:
            raise ValueError(f"state truncated: {e}") from None
        self.next_id, self.books = next_id, books


StrategyApi = tradsys.export_strategy(__TYPE__)
