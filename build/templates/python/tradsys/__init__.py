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

from wit_world import exports
from wit_world.imports import types
from componentize_py_types import Err

__all__ = [
    "Config",
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
