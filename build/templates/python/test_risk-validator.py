"""The unit tests of __NAME__ (natively: `python3 -m unittest`; `tradsys
plugin build` writes the bindings they import to target/bindings)."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "target" / "bindings"))

import tradsys  # noqa: E402
from tradsys import types as t  # noqa: E402
from app import __TYPE__  # noqa: E402


def limit(id, side, quantity):
    return t.OrderCommand_Submit(t.NewOrder(
        id=id, instrument=0, side=side, order_type=t.OrderType.LIMIT,
        time_in_force=t.TimeInForce.GTC, price=tradsys.px("100"),
        quantity=tradsys.units(quantity)))


class Test__TYPE__(unittest.TestCase):
    def test_refuses_a_large_order_and_one_that_passes_the_position_limit(self):
        v = __TYPE__(tradsys.Config([("max_quantity", "5"), ("max_position", "8")]))
        context = t.RiskContext(
            now=1, strategy=0,
            positions=[t.Position(instrument=0, quantity=tradsys.units(6),
                                  average_price=tradsys.px("100"))],
            open_orders=[], last_prices=[], account=t.Account(cash=0, realized_pnl=0),
            instruments=[])
        verdicts = []
        v.validate(context, [limit(1, t.Side.BUY, 6), limit(2, t.Side.BUY, 3),
                             limit(3, t.Side.SELL, 5),
                             t.OrderCommand_Cancel(t.CancelOrder(id=4, instrument=0))], verdicts)
        reasons = [v.value.reason if isinstance(v, t.Verdict_Reject) else None for v in verdicts]
        self.assertEqual(reasons, [t.RejectReason.QUANTITY_LIMIT, t.RejectReason.POSITION_LIMIT,
                                   None, None])

    def test_a_misspelt_key_is_refused(self):
        with self.assertRaisesRegex(ValueError, "max_quantiy"):
            __TYPE__(tradsys.Config([("max_quantiy", "3")]))


if __name__ == "__main__":
    unittest.main()
