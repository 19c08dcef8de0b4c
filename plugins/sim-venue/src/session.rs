//! When an instrument trades: the pre-open, the opening auction, trading,
//! halts, as its feed says (status records) or, for a book by order whose
//! feed has none, as its first trade says.

use tradsys_sdk::TradingStatus;

/// Whether an instrument trades now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Phase {
    /// Nothing seen of it yet.
    #[default]
    Unknown,
    /// Orders may be entered and rest; nothing trades.
    PreOpen,
    /// Trading.
    Trading,
    /// Halted, paused, suspended or closed: nothing trades, new orders are
    /// refused.
    Halted,
}

impl Phase {
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::PreOpen => 1,
            Self::Trading => 2,
            Self::Halted => 3,
        }
    }

    pub(crate) fn from_code(code: u8) -> Result<Self, String> {
        Ok(match code {
            0 => Self::Unknown,
            1 => Self::PreOpen,
            2 => Self::Trading,
            3 => Self::Halted,
            other => return Err(format!("state: bad phase {other}")),
        })
    }
}

/// The trading session of one instrument at the venue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Session {
    pub(crate) phase: Phase,
    /// A status record was seen: the feed says when it trades.
    pub(crate) by_status: bool,
    /// Until the first trade after a pre-open or a halt: a trade without
    /// an aggressor then is the (re)opening auction's.
    pub(crate) awaiting_open: bool,
    /// Inside the opening auction's exchange event (until its record
    /// flagged `last`): its fill records are the auction's, not a queue's.
    pub(crate) in_auction: bool,
}

impl Session {
    /// Whether resting orders may fill and arriving ones take liquidity.
    pub(crate) fn trading(&self) -> bool {
        matches!(self.phase, Phase::Trading | Phase::Unknown) && !self.in_auction
    }

    /// A status record.
    pub(crate) fn status(&mut self, status: TradingStatus) {
        self.by_status = true;
        match status {
            TradingStatus::PreOpen => {
                self.phase = Phase::PreOpen;
                self.awaiting_open = true;
            }
            TradingStatus::Trading => {
                if self.phase != Phase::Trading {
                    self.awaiting_open = true;
                }
                self.phase = Phase::Trading;
            }
            TradingStatus::Halted | TradingStatus::Closed => {
                self.phase = Phase::Halted;
                self.awaiting_open = true;
            }
        }
    }

    /// The first book delta of an instrument whose feed gave no status: a
    /// book by order starts in its pre-open, until its first trade.
    pub(crate) fn book_by_order(&mut self) {
        if self.phase == Phase::Unknown && !self.by_status {
            self.phase = Phase::PreOpen;
            self.awaiting_open = true;
        }
    }

    /// Any other first event (quotes, levels, bars, trades): trading.
    pub(crate) fn other_data(&mut self) {
        if self.phase == Phase::Unknown {
            self.phase = Phase::Trading;
        }
    }

    /// A trade record; returns whether it is an opening auction's (no
    /// aggressor, right after a pre-open or a halt). `last`: it ends its
    /// exchange event. A trade opens the market out of its pre-open (the
    /// first trade is the open when the feed has no status); a halt holds
    /// until the feed's status ends it.
    pub(crate) fn trade(&mut self, has_aggressor: bool, last: bool) -> bool {
        if self.phase == Phase::Halted {
            return false;
        }
        let auction = self.awaiting_open && !has_aggressor;
        self.phase = Phase::Trading;
        self.awaiting_open = false;
        self.in_auction = auction && !last;
        auction
    }

    /// A fill record of a resting order outside an auction: in a feed
    /// without status or trade records, the first one opens the market.
    pub(crate) fn fill(&mut self) {
        if self.phase == Phase::PreOpen && !self.by_status && !self.in_auction {
            self.phase = Phase::Trading;
            self.awaiting_open = false;
        }
    }

    /// A record flagged `last`: an auction's event is over.
    pub(crate) fn event_end(&mut self) {
        self.in_auction = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_by_order_without_status_opens_at_its_first_trade() {
        let mut s = Session::default();
        s.book_by_order();
        assert!(!s.trading());
        // The first trade, without an aggressor: the opening auction.
        assert!(s.trade(false, false));
        assert!(!s.trading(), "inside the auction's event");
        s.event_end();
        assert!(s.trading());
        // Later trades without an aggressor are not auctions.
        assert!(!s.trade(false, true));
    }

    #[test]
    fn a_halt_stops_trading_and_the_reopening_trade_is_an_auction() {
        let mut s = Session::default();
        s.other_data();
        assert!(s.trading());
        s.status(TradingStatus::Halted);
        assert!(!s.trading());
        assert!(!s.trade(false, true), "nothing trades while halted");
        s.status(TradingStatus::Trading);
        assert!(s.trading());
        assert!(s.trade(false, true), "the re-opening uncross");
        assert!(s.trading());
    }
}
