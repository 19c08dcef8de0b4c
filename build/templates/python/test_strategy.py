"""The unit tests of __NAME__ (natively: `python3 -m unittest`; `tradsys
plugin build` writes the bindings they import to target/bindings)."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "target" / "bindings"))

import tradsys  # noqa: E402
from tradsys import types as t  # noqa: E402
from app import __TYPE__  # noqa: E402


def quote(bid, ask):
    return t.MarketEvent_Quote(t.Quote(
        instrument=0, ts=1, bid_price=tradsys.px(bid), bid_size=tradsys.units(10),
        ask_price=tradsys.px(ask), ask_size=tradsys.units(10)))


class Test__TYPE__(unittest.TestCase):
    def test_buys_a_drop_below_the_average_once_and_its_state_survives_a_swap(self):
        config = tradsys.Config([("threshold_bps", "10"), ("smoothing", "10")])
        s = __TYPE__(config)
        orders = []
        s.on_market([quote("99.99", "100.01"), quote("98.99", "99.01")], orders)
        self.assertEqual(len(orders), 1)
        buy = orders[0].value
        self.assertEqual((buy.side, buy.price), (t.Side.BUY, tradsys.px("99.01")))
        orders.clear()
        s.on_market([quote("97.99", "98.01")], orders)
        self.assertEqual(orders, [], "one order in flight")
        fill = t.Fill(id=buy.id, instrument=0, ts=2, side=t.Side.BUY, price=buy.price,
                      quantity=buy.quantity, leaves_quantity=0, maker=False)
        s.on_order_events([t.OrderEvent_Filled(fill)], orders)
        restored = __TYPE__(config)
        restored.load_state(s.save_state())
        self.assertEqual(restored.keeper.position(0), tradsys.units(1))
        self.assertEqual(restored.keeper.last_id, s.keeper.last_id)
        self.assertEqual(restored.averages, s.averages)
        self.assertEqual(restored.save_state(), s.save_state())

    def test_the_keeper_books_a_round_trip(self):
        k = tradsys.Keeper()
        out = []
        a = k.submit(out, 0, t.Side.BUY, t.OrderType.LIMIT, t.TimeInForce.GTC,
                     tradsys.px("100"), tradsys.units(3))
        fill = t.Fill(id=a, instrument=0, ts=1, side=t.Side.BUY, price=tradsys.px("102"),
                      quantity=tradsys.units(3), leaves_quantity=0, maker=True)
        change = k.apply(t.OrderEvent_Filled(fill))
        self.assertEqual((change.kind, change.done), ("filled", True))
        sell = t.Fill(id=99, instrument=0, ts=2, side=t.Side.SELL, price=tradsys.px("104"),
                      quantity=tradsys.units(4), leaves_quantity=0, maker=False)
        k.apply(t.OrderEvent_Filled(sell))
        h = k.holding(0)
        self.assertEqual((h.position, h.average_price, h.realized_pnl),
                         (tradsys.units(-1), tradsys.px("104"), tradsys.units(6)))

    def test_the_keeper_modifies_takes_the_touch_and_keeps_it_all(self):
        k = tradsys.Keeper()
        out = []
        k.define(t.InstrumentDefinition(id=0, symbol="X", tick_size=tradsys.px("0.25"),
                                        lot_size=tradsys.units(2), price_precision=2,
                                        size_precision=0, multiplier=1))
        q = t.Quote(instrument=0, ts=1, bid_price=tradsys.px("99.9"), bid_size=1,
                    ask_price=tradsys.px("100.1"), ask_size=1)
        a = k.take(out, q, tradsys.units(5))
        self.assertEqual((out[0].value.price, out[0].value.quantity),
                         (tradsys.px("100.25"), tradsys.units(4)))
        k.apply(t.OrderEvent_Accepted(t.OrderAccepted(id=a, instrument=0, ts=1)))
        k.modify(out, a, tradsys.px("100.5"), tradsys.units(4))
        refusal = t.OrderRejected(id=a, instrument=0, ts=2,
                                  rejection=t.Rejection(reason=t.RejectReason.OTHER, message=None))
        self.assertEqual(k.apply(t.OrderEvent_Rejected(refusal)).kind, "modify-refused")
        self.assertTrue(k.order(a).settled)
        restored, _ = tradsys.Keeper.load(k.save())
        self.assertEqual(restored.save(), k.save())
        self.assertEqual(restored.grid(0), (tradsys.px("0.25"), tradsys.units(2)))

    def test_a_misspelt_key_is_refused(self):
        with self.assertRaisesRegex(ValueError, "max_postion"):
            __TYPE__(tradsys.Config([("max_postion", "3")]))


if __name__ == "__main__":
    unittest.main()
