//! Tests of [`Books`]: lots, owners and TOP orders, and their encodings.
//! The matching itself is tested through the plugins.

use tradsys_sdk::fixed::{SCALE, from_units};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, InstrumentDefinition, NewOrder, OrderCommand, OrderType, Side, TimeInForce, host,
};

use super::*;

fn buy(id: u64, instrument: u32, price: i64, qty: i64) -> OrderCommand {
    OrderCommand::Submit(NewOrder {
        id,
        instrument,
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        price: from_units(price),
        quantity: from_units(qty),
    })
}

fn definition(id: u32, lot_size: i64) -> InstrumentDefinition {
    InstrumentDefinition {
        id,
        symbol: "ZN".into(),
        tick_size: SCALE / 64,
        lot_size,
        price_precision: 6,
        size_precision: 0,
        multiplier: 1_000,
    }
}

const TOP: Rules = Rules {
    allocation: Allocation::TopProRata {
        min_allocation_lots: 2,
    },
    self_trade: SelfTrade::CancelBoth,
};

#[test]
fn self_trade_modes_by_name() {
    for mode in [
        SelfTrade::Allow,
        SelfTrade::CancelResting,
        SelfTrade::CancelAggressor,
        SelfTrade::CancelBoth,
    ] {
        let config = Config::new([(SelfTrade::KEY, mode.name())]);
        assert_eq!(SelfTrade::from_config(&config), Ok(mode));
    }
    assert_eq!(
        SelfTrade::from_config(&Config::default()),
        Ok(SelfTrade::Allow)
    );
    let error = SelfTrade::from_config(&Config::new([("self_trade", "yes")])).unwrap_err();
    assert!(error.starts_with("config `self_trade`"), "{error}");
}

#[test]
fn lots_come_from_definitions_before_or_after_the_book() {
    let mut books = Books::new(TOP);
    let mut out = Vec::new();
    books.execute(&buy(1, 3, 100, 5), 0, &mut out);
    assert_eq!(books.get(3).unwrap().lot(), SCALE, "one unit by default");
    books.define(&definition(3, from_units(5)));
    books.define(&definition(4, from_units(2)));
    assert_eq!(books.get(3).unwrap().lot(), from_units(5));
    books.execute(&buy(2, 4, 100, 5), 0, &mut out);
    assert_eq!(books.get(4).unwrap().lot(), from_units(2));
    // A definition without a lot size means one unit again.
    books.define(&definition(3, 0));
    assert_eq!((books.get(3).unwrap().lot(), books.lot(3)), (SCALE, SCALE));
}

#[test]
fn owners_tops_and_lots_round_trip_and_bad_ones_are_refused() {
    let mut books = Books::new(TOP);
    books.define(&definition(0, from_units(10)));
    host::set_owner(1, Some(7));
    host::set_owner(3, Some(8));
    let mut out = Vec::new();
    for command in [buy(1, 0, 100, 5), buy(2, 0, 101, 5), buy(3, 1, 99, 5)] {
        books.execute(&command, 0, &mut out);
    }
    for id in [1, 3] {
        host::set_owner(id, None);
    }
    // A matcher's own order is not looked up.
    host::set_owner(4, Some(9));
    let OrderCommand::Submit(own) = buy(4, 1, 98, 1) else {
        unreachable!()
    };
    books.submit_unowned(&own, 0, &mut out);
    host::set_owner(4, None);
    assert_eq!(books.get(0).unwrap().owner(1), Some(7));
    assert_eq!(books.get(1).unwrap().owner(4), None);
    assert_eq!(books.owner_count(), 2);
    assert_eq!(books.get(0).unwrap().top(Side::Buy), Some(2));

    let mut w = StateWriter::default();
    books.write_books(&mut w);
    books.write_owners(&mut w);
    books.write_tops(&mut w);
    books.write_lots(&mut w);
    let state = w.finish();
    let mut r = StateReader::new(&state);
    let mut read = Books::read_books(TOP, &mut r).unwrap();
    read.read_owners(&mut r).unwrap();
    read.read_tops(&mut r).unwrap();
    read.read_lots(&mut r).unwrap();
    r.finish().unwrap();
    assert_eq!(read, books);

    // Under rules without TOP orders they are dropped.
    let mut r = StateReader::new(&state);
    let mut fifo = Books::read_books(Rules::default(), &mut r).unwrap();
    fifo.read_owners(&mut r).unwrap();
    fifo.read_tops(&mut r).unwrap();
    assert_eq!(fifo.get(0).unwrap().top(Side::Buy), None);

    let mut read = Books::read_books(TOP, &mut StateReader::new(&state)).unwrap();
    assert!(read.get_owner_refusal(0, 99).contains("unknown order 99"));
    read.read_owner_entries(&mut entry(0, 1, 5), 1).unwrap();
    assert!(read.get_owner_refusal(0, 1).contains("repeats"));
    assert!(read.get_owner_refusal(5, 1).contains("no book"));
    // Only an order at the best price of its side can be TOP.
    let book = read.books.get_mut(&0).unwrap();
    assert!(book.set_top(Side::Buy, 1).is_err());
    assert!(book.set_top(Side::Sell, 2).is_err());
    assert!(book.set_top(Side::Buy, 2).is_ok());
    let mut w = StateWriter::default();
    w.u32(1).u32(0).i64(0);
    assert!(read.read_lots(&mut StateReader::new(&w.finish())).is_err());
}

/// One owners' entry as bytes.
fn entry(instrument: u32, id: u64, owner: u32) -> StateReader<'static> {
    let mut w = StateWriter::default();
    w.u32(instrument).u64(id).u32(owner);
    StateReader::new(Vec::leak(w.finish()))
}

impl Books {
    /// The error reading one owners' entry gives.
    fn get_owner_refusal(&mut self, instrument: u32, id: u64) -> String {
        self.read_owner_entries(&mut entry(instrument, id, 1), 1)
            .unwrap_err()
    }
}
