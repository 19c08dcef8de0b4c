//! Building execution reports for one command.

use tradsys_sdk::{
    Fill, OrderAccepted, OrderCanceled, OrderEvent, OrderModified, OrderRejected, RejectReason,
    Rejection, Side,
};

/// Pushes the execution reports of one command: every report carries the
/// command's instrument and the timestamp of the `execute` call.
pub struct Reporter<'a> {
    /// Instrument of every report.
    pub instrument: u32,
    /// Timestamp of every report (the host clock at the call).
    pub ts: u64,
    /// Where the reports go, in order.
    pub out: &'a mut Vec<OrderEvent>,
}

impl Reporter<'_> {
    /// Order `id` was accepted.
    pub fn accepted(&mut self, id: u64) {
        self.out.push(OrderEvent::Accepted(OrderAccepted {
            id,
            instrument: self.instrument,
            ts: self.ts,
        }));
    }

    /// Command for order `id` was refused.
    pub fn rejected(&mut self, id: u64, reason: RejectReason, message: Option<&str>) {
        self.out.push(OrderEvent::Rejected(OrderRejected {
            id,
            instrument: self.instrument,
            ts: self.ts,
            rejection: Rejection {
                reason,
                message: message.map(str::to_owned),
            },
        }));
    }

    /// Order `id` traded `quantity` at `price`.
    pub fn filled(
        &mut self,
        id: u64,
        side: Side,
        price: i64,
        quantity: i64,
        leaves_quantity: i64,
        maker: bool,
    ) {
        self.out.push(OrderEvent::Filled(Fill {
            id,
            instrument: self.instrument,
            ts: self.ts,
            side,
            price,
            quantity,
            leaves_quantity,
            maker,
        }));
    }

    /// The rest of order `id` (`canceled_quantity`) was canceled.
    pub fn canceled(&mut self, id: u64, canceled_quantity: i64) {
        self.out.push(OrderEvent::Canceled(OrderCanceled {
            id,
            instrument: self.instrument,
            ts: self.ts,
            canceled_quantity,
        }));
    }

    /// Order `id` now works `leaves_quantity` at `price`.
    pub fn modified(&mut self, id: u64, price: i64, leaves_quantity: i64) {
        self.out.push(OrderEvent::Modified(OrderModified {
            id,
            instrument: self.instrument,
            ts: self.ts,
            price,
            leaves_quantity,
        }));
    }
}
