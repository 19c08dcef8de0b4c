"""__NAME__: a pre-trade risk validator that caps each order's quantity and
the position it could reach.

A submit (or a modify, at its new total quantity) is refused when its
quantity is above `max_quantity`, or when the strategy's position plus its
working orders on the same side plus this order would pass `max_position`.
Cancels always pass: they only reduce risk.

Config keys (a key not listed here is refused, so a typo never leaves a
default in place): `max_quantity` (units, 10), `max_position` (units, 20).
"""

import tradsys
from tradsys import types as t


def reject(reason, message):
    return t.Verdict_Reject(t.Rejection(reason=reason, message=message))


class __TYPE__(tradsys.RiskValidator):
    def __init__(self, config):
        config.only("max_quantity", "max_position")
        self.max_quantity = config.fixed("max_quantity", tradsys.units(10))
        self.max_position = config.fixed("max_position", tradsys.units(20))
        if self.max_quantity <= 0 or self.max_position <= 0:
            raise ValueError("config: `max_quantity` and `max_position` must be positive")

    def validate(self, context, orders, verdicts):
        for command in orders:
            verdicts.append(self.check(context, command))

    def check(self, context, command):
        if isinstance(command, t.OrderCommand_Cancel):
            return t.Verdict_Approve()
        order = command.value
        if isinstance(command, t.OrderCommand_Submit):
            side = order.side
        else:
            side = next((o.side for o in context.open_orders if o.id == order.id), None)
        if order.quantity > self.max_quantity:
            return reject(t.RejectReason.QUANTITY_LIMIT,
                          f"quantity {order.quantity // tradsys.SCALE} above `max_quantity` "
                          f"{self.max_quantity // tradsys.SCALE}")
        if side is None:
            return t.Verdict_Approve()
        sign = 1 if side == t.Side.BUY else -1
        position = next((p.quantity for p in context.positions
                         if p.instrument == order.instrument), 0)
        working = sum(o.leaves_quantity for o in context.open_orders
                      if o.instrument == order.instrument and o.side == side and o.id != order.id)
        reached = abs(position + sign * (working + order.quantity))
        if reached > self.max_position:
            return reject(t.RejectReason.POSITION_LIMIT,
                          f"position could reach {reached // tradsys.SCALE} "
                          f"(`max_position` {self.max_position // tradsys.SCALE})")
        return t.Verdict_Approve()


RiskValidatorApi = tradsys.export_risk_validator(__TYPE__)
