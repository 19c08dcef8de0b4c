"""Write tradsys plugins in Python.

A plugin subclasses `Strategy` or `RiskValidator`, implements its methods
(the same as the Rust SDK's traits) and exports the class once:

    StrategyApi = tradsys.export_strategy(MyStrategy)            # a strategy
    RiskValidatorApi = tradsys.export_risk_validator(MyValidator)  # a validator

`tradsys plugin build .` turns `app.py` into a signed component with
componentize-py. The host keeps one instance of the class per plugin
instance: `__init__` runs at the host's `init` with the plugin's `Config`;
raising `ValueError` there fails `init` with its message. Prices and
quantities are integers in fixed point with nine decimals (`px`, `units`,
`to_float`). `types` is the WIT's records (`types.Quote`, `types.NewOrder`,
`types.OrderCommand_Submit`, ...). An exception anywhere else traps the call:
the host counts a fault, and quarantines a plugin that keeps faulting.
"""

import struct

from wit_world import exports
from wit_world.imports import types
from componentize_py_types import Err

__all__ = [
    "Change",
    "Config",
    "Holding",
    "Keeper",
    "Order",
    "RiskValidator",
    "SCALE",
    "Strategy",
    "export_risk_validator",
    "export_strategy",
    "now",
    "px",
    "to_float",
    "types",
    "units",
]

SCALE = 1_000_000_000
"""Fixed-point units of one whole unit (nine decimals)."""


def px(text):
    """The fixed-point value of decimal `text` ("100.25"); exact."""
    text = str(text).strip()
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("+-").partition(".")
    if not (whole or fraction) or not (whole + fraction).isdigit() or len(fraction) > 9:
        raise ValueError(f"`{text}` is not a decimal with at most nine decimals")
    value = int(whole or "0") * SCALE + int((fraction + "0" * 9)[:9])
    return -value if negative else value


def units(n):
    """`n` whole units in fixed point."""
    return n * SCALE


def to_float(value):
    """A fixed-point value as a float (for signals and averages only)."""
    return value / SCALE


def now():
    """The host clock (market time, ns since the epoch); 0 outside the host."""
    try:
        from wit_world.imports import host
        return host.now()
    except Exception:  # natively (unit tests) there is no host
        return 0


class Config:
    """The plugin's config entries (text values, from the host config's
    `[plugins.NAME] config` table)."""

    def __init__(self, entries=()):
        self.entries = dict(entries)

    def only(self, *known):
        """Refuse a key not in `known`, naming it: a typo never leaves a
        default in place."""
        for key in self.entries:
            if key not in known:
                names = ", ".join(f"`{k}`" for k in known) or "none"
                raise ValueError(f"config `{key}`: unknown key (the keys are {names})")

    def get(self, key, default=None):
        return self.entries.get(key, default)

    def fixed(self, key, default):
        """A decimal entry in fixed point, or `default` (fixed point)."""
        if key not in self.entries:
            return default
        try:
            return px(self.entries[key])
        except ValueError as e:
            raise ValueError(f"config `{key}`: {e}") from None

    def number(self, key, default):
        """A float entry, or `default`."""
        if key not in self.entries:
            return default
        try:
            return float(self.entries[key])
        except ValueError:
            raise ValueError(f"config `{key}`: `{self.entries[key]}` is not a number") from None


def _trunc_div(a, b):
    """Integer division rounding toward zero, as Rust's."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


class Order:
    """One order of the strategy the venue has not ended. `quantity` is the
    total ordered (what a modify restates); `pending` is its command the
    venue has not answered: "submit", "modify", "cancel" or None."""

    __slots__ = ("id", "instrument", "side", "price", "time_in_force", "quantity", "leaves",
                 "filled", "age", "pending")

    def __init__(self, id, instrument, side, price, time_in_force, quantity, leaves=None,
                 filled=0, age=0, pending="submit"):
        self.id, self.instrument, self.side, self.price = id, instrument, side, price
        self.time_in_force, self.quantity = time_in_force, quantity
        self.leaves = quantity if leaves is None else leaves
        self.filled, self.age, self.pending = filled, age, pending

    @property
    def canceling(self):
        """A cancel of it was sent and not yet answered."""
        return self.pending == "cancel"

    @property
    def settled(self):
        """The venue answered every command about it."""
        return self.pending is None

    def crossed_by(self, q):
        """Whether the touch `q` trades with it."""
        if self.side == types.Side.BUY:
            return q.ask_price <= self.price
        return q.bid_price >= self.price


class Holding:
    """A position in one instrument: quantity, average price, realized PnL."""

    __slots__ = ("position", "average_price", "realized_pnl")

    def __init__(self, position=0, average_price=0, realized_pnl=0):
        self.position, self.average_price, self.realized_pnl = position, average_price, realized_pnl


class Change:
    """What an execution report changed: `kind` is "accepted", "filled",
    "canceled", "modified", "rejected" (the order ended, `order.leaves` never
    worked), "cancel-refused" or "modify-refused" (the order still works)."""

    __slots__ = ("kind", "order", "quantity", "price", "done", "reason")

    def __init__(self, kind, order, quantity=0, price=0, done=False, reason=None):
        self.kind, self.order, self.quantity, self.price = kind, order, quantity, price
        self.done, self.reason = done, reason

    @property
    def refused(self):
        """The reason of a refusal (of the order, its cancel or its modify), else None."""
        return self.reason


def _floor_to(value, step):
    return value // step * step


def _ceil_to(value, step):
    return -((-value) // step) * step


class Keeper:
    """The order book-keeping every strategy writes again (as the Rust SDK's
    `keeper::Keeper`): client ids, orders not ended with their age in the
    strategy's ticks and the command of each not yet answered, fills into a
    position with its average price and realized PnL per instrument, each
    instrument's tick and lot, cooldowns; `save` and `load` in one call."""

    def __init__(self):
        self.last_id = 0
        self._orders = {}
        self._holdings = {}
        self._cooldowns = {}
        self._grids = {}

    def submit(self, out, instrument, side, order_type, time_in_force, price, quantity):
        self.last_id += 1
        self._orders[self.last_id] = Order(self.last_id, instrument, side, price, time_in_force,
                                           quantity)
        out.append(types.OrderCommand_Submit(types.NewOrder(
            id=self.last_id, instrument=instrument, side=side, order_type=order_type,
            time_in_force=time_in_force, price=price, quantity=quantity)))
        return self.last_id

    def cancel(self, out, id):
        order = self._orders.get(id)
        if order is not None and not order.canceling:
            order.pending = "cancel"
            out.append(types.OrderCommand_Cancel(types.CancelOrder(id=id, instrument=order.instrument)))

    def modify(self, out, id, price, quantity):
        """Send a modify to `price` and `quantity` (the total, filled part included)."""
        order = self._orders.get(id)
        if order is not None:
            order.pending, order.quantity = "modify", quantity
            out.append(types.OrderCommand_Modify(types.ModifyOrder(
                id=id, instrument=order.instrument, price=price, quantity=quantity)))

    def define(self, definition):
        """Remember an instrument's tick and lot (each at least 1)."""
        self._grids[definition.id] = (max(definition.tick_size, 1), max(definition.lot_size, 1))

    def grid(self, instrument):
        """(tick, lot) of a defined instrument, or None."""
        return self._grids.get(instrument)

    def take(self, out, q, wanted):
        """A marketable IOC limit for `wanted` (signed: positive buys) at the
        touch `q`, on the instrument's tick and lot; its id, or None when
        that is nothing (or the instrument was never defined)."""
        grid = self._grids.get(q.instrument)
        if grid is None:
            return None
        tick, lot = grid
        quantity = _floor_to(abs(wanted), lot)
        if wanted > 0:
            side, price = types.Side.BUY, _ceil_to(q.ask_price, tick)
        else:
            side, price = types.Side.SELL, _floor_to(q.bid_price, tick)
        if quantity <= 0 or price <= 0:
            return None
        return self.submit(out, q.instrument, side, types.OrderType.LIMIT, types.TimeInForce.IOC,
                           price, quantity)

    def ready(self, out, instrument, cancel_after, forget_after):
        """Not cooling down, and no order in flight once the stale ones are handled."""
        if self.cooling(instrument):
            return False
        self.stale(out, instrument, cancel_after, forget_after)
        return self.in_flight(instrument) is None

    def cancel_where(self, out, instrument, which):
        """Cancel (once) every order of `instrument` that `which` picks."""
        for order in [o for o in self.orders(instrument) if which(o)]:
            self.cancel(out, order.id)

    def forget_where(self, instrument, which):
        """Forget every order of `instrument` that `which` picks."""
        for order in [o for o in self.orders(instrument) if which(o)]:
            del self._orders[order.id]

    def forget(self, id):
        return self._orders.pop(id, None)

    def apply(self, event):
        """Book an execution report; a `Change`, or None for an order it
        does not keep (a fill still counts into the position)."""
        e = event.value
        if isinstance(event, types.OrderEvent_Accepted):
            order = self._orders.get(e.id)
            if order is not None and order.pending == "submit":
                order.pending = None
            return order and Change("accepted", order)
        if isinstance(event, types.OrderEvent_Filled):
            quantity = max(e.quantity, 0)
            self._book_fill(e.instrument, e.side, e.price, quantity)
            order = self._orders.get(e.id)
            if order is None:
                return None
            if order.pending == "submit":
                order.pending = None
            order.leaves = e.leaves_quantity
            order.filled += quantity
            done = e.leaves_quantity <= 0
            if done:
                del self._orders[e.id]
            return Change("filled", order, quantity, e.price, done)
        if isinstance(event, types.OrderEvent_Canceled):
            order = self._orders.pop(e.id, None)
            return order and Change("canceled", order)
        if isinstance(event, types.OrderEvent_Modified):
            order = self._orders.get(e.id)
            if order is None:
                return None
            order.price, order.leaves, order.pending = e.price, e.leaves_quantity, None
            if order.leaves <= 0:
                del self._orders[e.id]  # modified down to nothing: ended
            return Change("modified", order)
        reason = e.rejection.reason
        order = self._orders.get(e.id)
        if order is None:
            return None
        if order.pending in ("cancel", "modify") and reason != types.RejectReason.UNKNOWN_ORDER:
            kind = order.pending + "-refused"  # the order lives
            order.pending = None
            return Change(kind, order, reason=reason)
        del self._orders[e.id]
        if order.canceling:
            order.leaves = 0  # it had ended before the cancel came
        return Change("rejected", order, reason=reason)

    def _book_fill(self, instrument, side, price, quantity):
        h = self._holdings.setdefault(instrument, Holding())
        signed = quantity if side == types.Side.BUY else -quantity
        before = h.position
        after = before + signed
        if before == 0 or (before > 0) == (signed > 0):
            cost = h.average_price * abs(before) + price * quantity
            h.average_price = _trunc_div(cost, max(abs(after), 1))
        else:
            closed = min(quantity, abs(before))
            per_unit = (price - h.average_price) * (1 if before > 0 else -1)
            h.realized_pnl += _trunc_div(per_unit * closed, SCALE)
            if after == 0:
                h.average_price = 0
            elif (after > 0) != (before > 0):
                h.average_price = price
        h.position = after

    def tick(self, instrument):
        """One tick of the strategy's clock: orders age, the cooldown runs down."""
        for order in self._orders.values():
            if order.instrument == instrument:
                order.age += 1
        if instrument in self._cooldowns:
            self._cooldowns[instrument] = max(self._cooldowns[instrument] - 1, 0)

    def stale(self, out, instrument, cancel_after, forget_after):
        """Cancel orders `cancel_after` ticks old (once), forget those
        `forget_after` old whose cancel was never answered."""
        for order in [o for o in self._orders.values()
                      if o.instrument == instrument and o.age >= cancel_after]:
            if order.age >= forget_after:
                del self._orders[order.id]
            else:
                self.cancel(out, order.id)

    def cool(self, instrument, ticks):
        self._cooldowns[instrument] = ticks

    def cooling(self, instrument):
        return self._cooldowns.get(instrument, 0) > 0

    def orders(self, instrument):
        return [o for _, o in sorted(self._orders.items()) if o.instrument == instrument]

    def all(self):
        """Every order not ended, of every instrument, oldest first."""
        return [o for _, o in sorted(self._orders.items())]

    def in_flight(self, instrument):
        orders = self.orders(instrument)
        return orders[0] if orders else None

    def order(self, id):
        return self._orders.get(id)

    def position(self, instrument):
        return self.holding(instrument).position

    def holding(self, instrument):
        return self._holdings.get(instrument, Holding())

    _ORDER = struct.Struct("<QIBqBqqqIB")
    _PENDING = (None, "submit", "modify", "cancel")
    _TIFS = (types.TimeInForce.GTC, types.TimeInForce.IOC, types.TimeInForce.FOK)
    _HOLDING = struct.Struct("<Iqqq")

    def save(self):
        """Everything it keeps, after a format byte."""
        out = [struct.pack("<BQI", 2, self.last_id, len(self._orders))]
        for _, o in sorted(self._orders.items()):
            side = 0 if o.side == types.Side.BUY else 1
            out.append(self._ORDER.pack(o.id, o.instrument, side, o.price,
                                        self._TIFS.index(o.time_in_force), o.quantity, o.leaves,
                                        o.filled, o.age, self._PENDING.index(o.pending)))
        out.append(struct.pack("<I", len(self._holdings)))
        for instrument, h in sorted(self._holdings.items()):
            out.append(self._HOLDING.pack(instrument, h.position, h.average_price, h.realized_pnl))
        out.append(struct.pack("<I", len(self._cooldowns)))
        for instrument, left in sorted(self._cooldowns.items()):
            out.append(struct.pack("<II", instrument, left))
        out.append(struct.pack("<I", len(self._grids)))
        for instrument, (tick, lot) in sorted(self._grids.items()):
            out.append(struct.pack("<Iqq", instrument, tick, lot))
        return b"".join(out)

    @classmethod
    def load(cls, state, offset=0):
        """Read what `save` wrote from `state` at `offset`: (keeper, the
        offset after it); `ValueError` for a wrong or truncated state."""
        keeper = cls()
        try:
            version, keeper.last_id, count = struct.unpack_from("<BQI", state, offset)
            if version != 2:
                raise ValueError(f"state format {version}, this version reads 2")
            offset += 13
            for _ in range(count):
                id, instrument, side, price, tif, quantity, leaves, filled, age, pending = \
                    cls._ORDER.unpack_from(state, offset)
                offset += cls._ORDER.size
                side = types.Side.BUY if side == 0 else types.Side.SELL
                if tif >= len(cls._TIFS) or pending >= len(cls._PENDING):
                    raise ValueError(f"state: time in force {tif}, pending command {pending}")
                keeper._orders[id] = Order(id, instrument, side, price, cls._TIFS[tif], quantity,
                                           leaves, filled, age, cls._PENDING[pending])
            (count,) = struct.unpack_from("<I", state, offset)
            offset += 4
            for _ in range(count):
                instrument, *holding = cls._HOLDING.unpack_from(state, offset)
                offset += cls._HOLDING.size
                keeper._holdings[instrument] = Holding(*holding)
            (count,) = struct.unpack_from("<I", state, offset)
            offset += 4
            for _ in range(count):
                instrument, left = struct.unpack_from("<II", state, offset)
                offset += 8
                keeper._cooldowns[instrument] = left
            (count,) = struct.unpack_from("<I", state, offset)
            offset += 4
            for _ in range(count):
                instrument, tick, lot = struct.unpack_from("<Iqq", state, offset)
                offset += 20
                if tick <= 0 or lot <= 0:
                    raise ValueError(f"state: instrument {instrument}: tick and lot must be positive")
                keeper._grids[instrument] = (tick, lot)
        except struct.error as e:
            raise ValueError(f"state truncated: {e}") from None
        return keeper, offset


class Strategy:
    """A trading strategy (as `tradsys_sdk::Strategy`)."""

    def __init__(self, config):
        config.only()

    def on_market(self, events, orders):
        """A batch of market events, oldest first: append commands to `orders`."""

    def on_order_events(self, events, orders):
        """Execution reports of its own orders: append further commands."""

    def save_state(self):
        """Its state as bytes, so it survives eviction and a hot swap."""
        return b""

    def load_state(self, state):
        """Restore what `save_state` wrote (raise `ValueError` to refuse)."""
        if state:
            raise ValueError("this strategy keeps no state")


class RiskValidator:
    """A pre-trade risk validator (as `tradsys_sdk::RiskValidator`)."""

    def __init__(self, config):
        config.only()

    def validate(self, context, orders, verdicts):
        """Append exactly one verdict per command of `orders`:
        `types.Verdict_Approve()` or `types.Verdict_Reject(types.Rejection(...))`."""
        verdicts.extend(types.Verdict_Approve() for _ in orders)

    def save_state(self):
        return b""

    def load_state(self, state):
        if state:
            raise ValueError("this validator keeps no state")


def _exported(base, cls):
    """What every kind's export does: build `cls` at `init` (a `ValueError`
    fails it with its message), save and load its state. componentize-py
    makes a new instance of the export class for each call, so the plugin
    lives in the class."""

    class Exported(base):
        plugin = None

        def init(self, config):
            try:
                Exported.plugin = cls(Config(config))
            except ValueError as e:
                raise Err(str(e))

        def save_state(self):
            return bytes(Exported.plugin.save_state())

        def load_state(self, state):
            try:
                Exported.plugin.load_state(state)
            except ValueError as e:
                raise Err(str(e))

    return Exported


def export_strategy(cls):
    """The `StrategyApi` class componentize-py exports for strategy `cls`."""

    class StrategyApi(_exported(exports.StrategyApi, cls)):
        def on_market(self, events):
            orders = []
            StrategyApi.plugin.on_market(events, orders)
            return orders

        def on_order_events(self, events):
            orders = []
            StrategyApi.plugin.on_order_events(events, orders)
            return orders

    return StrategyApi


def export_risk_validator(cls):
    """The `RiskValidatorApi` class componentize-py exports for `cls`."""

    class RiskValidatorApi(_exported(exports.RiskValidatorApi, cls)):
        def validate(self, context, orders):
            verdicts = []
            RiskValidatorApi.plugin.validate(context, orders, verdicts)
            return verdicts

    return RiskValidatorApi
