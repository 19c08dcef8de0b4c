// The venue of tradsys's live-trading tests: a FIX 4.4 acceptor built on
// QuickFIX (Debian libquickfix-dev), so the FIX session rules our connector
// meets are QuickFIX's, not ours.
//
// It keeps a simple book per symbol (price levels from the market data it
// streams) and fills orders by one rule: an order that reaches the opposite
// best price fills in full at that price, at once or when the market comes to
// it; anything else rests until canceled. It answers D, F, G, H and AF, and a
// MarketDataRequest (V) with a snapshot (W) and then incremental refreshes (X).
//
// usage: quickfix-venue PORT STORE_DIR DICTIONARY.xml LOG_DIR
// Control lines on stdin (stdin's end is `quit`):
//   md FILE [RATE [LIMIT]]  stream FILE's market data as incremental refreshes:
//                at full speed, or RATE updates a second; at most LIMIT updates
//   level SYMBOL B|S PRICE SIZE   one price level (size 0 removes it)
//   trade SYMBOL PRICE SIZE       one trade print
//   drop         close the connection without a Logout
//   logout       log out (new logons refused until `logon`)
//   logon        accept logons again
//   seq N        the next sequence number the venue sends
//   orders       print the open orders
//   book SYMBOL  print the five best levels of each side (`book B|S PRICE SIZE`)
//   mute-orders  take new orders without answering them (a venue that hangs;
//                a status request is still answered)
//   force-fill CLORDID QTY PRICE  report a fill whatever the order's state (a
//                lying venue: an overfill, or an order it never had)
//   quit         log out and exit
// Lines on stdout: `READY PORT`, then `EVENT ...` for what happened.
// Market data files hold one update per line: `SYMBOL B|S PRICE SIZE` (a
// level) or `SYMBOL T PRICE SIZE` (a trade); `#` starts a comment.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/MessageCracker.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/ThreadedSocketAcceptor.h>
#include <quickfix/fix44/ExecutionReport.h>
#include <quickfix/fix44/MarketDataIncrementalRefresh.h>
#include <quickfix/fix44/MarketDataRequest.h>
#include <quickfix/fix44/MarketDataSnapshotFullRefresh.h>
#include <quickfix/fix44/NewOrderSingle.h>
#include <quickfix/fix44/OrderCancelReject.h>
#include <quickfix/fix44/OrderCancelReplaceRequest.h>
#include <quickfix/fix44/OrderCancelRequest.h>
#include <quickfix/fix44/OrderMassStatusRequest.h>
#include <quickfix/fix44/PositionReport.h>
#include <quickfix/fix44/SecurityDefinition.h>
#include <quickfix/fix44/RequestForPositions.h>
#include <quickfix/fix44/OrderStatusRequest.h>

#include <chrono>
#include <fstream>
#include <iomanip>
#include <thread>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Order {
  std::string clOrdId, orderId, symbol;
  char side = '1', ordType = '2', tif = '1';
  double price = 0, qty = 0, cum = 0, avgPx = 0;
  bool open = true;
  double leaves() const { return open ? qty - cum : 0; }
  char status() const {
    if (cum >= qty) return FIX::OrdStatus_FILLED;
    if (!open) return FIX::OrdStatus_CANCELED;
    return cum > 0 ? FIX::OrdStatus_PARTIALLY_FILLED : FIX::OrdStatus_NEW;
  }
};

struct Book {
  std::map<double, double> bids, asks;  // price -> size
  bool hasBid() const { return !bids.empty(); }
  bool hasAsk() const { return !asks.empty(); }
  double bestBid() const { return bids.rbegin()->first; }
  double bestAsk() const { return asks.begin()->first; }
};

void say(const std::string& line) { std::cout << "EVENT " << line << std::endl; }

class Venue : public FIX::Application, public FIX44::MessageCracker {
 public:
  // Every callback and every control line takes this lock: QuickFIX calls
  // back on its connection threads.
  std::recursive_mutex mu;
  FIX::SessionID sid;
  bool known = false;
  bool subscribed = false;
  bool muteOrders = false;
  std::string mdReqId;
  std::map<std::string, Book> books;
  std::map<std::string, Order> orders;  // by OrderID
  std::map<std::string, std::string> byClOrdId;  // every ClOrdID an order had -> OrderID
  std::map<std::string, double> booked;  // positions from elsewhere (`position` command)
  struct Definition {
    std::string tick, lot, multiplier;
  };
  std::map<std::string, Definition> definitions;  // sent before a symbol's snapshot (`secdef`)
  long nextOrder = 0, nextExec = 0;

  void onCreate(const FIX::SessionID& s) override {
    std::lock_guard<std::recursive_mutex> g(mu);
    sid = s;
    known = true;
  }
  void onLogon(const FIX::SessionID&) override { say("logon"); }
  void onLogout(const FIX::SessionID&) override {
    std::lock_guard<std::recursive_mutex> g(mu);
    subscribed = false;
    say("logout");
  }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message& m, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
            FIX::RejectLogon) override {
    FIX::MsgType type;
    m.getHeader().getField(type);
    if (type.getValue() == "3") say("reject-received " + m.toString());
  }
  void fromApp(const FIX::Message& m, const FIX::SessionID& s)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
            FIX::UnsupportedMessageType) override {
    std::lock_guard<std::recursive_mutex> g(mu);
    crack(m, s);
  }

  void send(FIX::Message& m) {
    if (known) FIX::Session::sendToTarget(m, sid);
  }

  std::string execId() { return "E" + std::to_string(++nextExec); }

  // An execution report about `o`, with the fields every one carries.
  FIX44::ExecutionReport report(const Order& o, char execType) {
    FIX44::ExecutionReport er(FIX::OrderID(o.orderId), FIX::ExecID(execId()),
                              FIX::ExecType(execType), FIX::OrdStatus(o.status()),
                              FIX::Side(o.side), FIX::LeavesQty(o.leaves()),
                              FIX::CumQty(o.cum), FIX::AvgPx(o.avgPx));
    er.set(FIX::ClOrdID(o.clOrdId));
    er.set(FIX::Symbol(o.symbol));
    er.set(FIX::OrderQty(o.qty));
    er.set(FIX::OrdType(o.ordType));
    if (o.ordType == FIX::OrdType_LIMIT) er.set(FIX::Price(o.price));
    er.set(FIX::TimeInForce(o.tif));
    er.set(FIX::TransactTime(true));
    return er;
  }

  void reject(const std::string& clOrdId, const std::string& symbol, char side,
              const std::string& why) {
    FIX44::ExecutionReport er(FIX::OrderID("NONE"), FIX::ExecID(execId()),
                              FIX::ExecType(FIX::ExecType_REJECTED),
                              FIX::OrdStatus(FIX::OrdStatus_REJECTED), FIX::Side(side),
                              FIX::LeavesQty(0), FIX::CumQty(0), FIX::AvgPx(0));
    er.set(FIX::ClOrdID(clOrdId));
    er.set(FIX::Symbol(symbol));
    er.set(FIX::OrdRejReason(FIX::OrdRejReason_OTHER));
    er.set(FIX::Text(why));
    send(er);
    say("rejected " + clOrdId + " " + why);
  }

  // The price `o` trades at now, if it reaches the opposite best.
  bool reachable(const Order& o, double& px) {
    Book& b = books[o.symbol];
    bool buy = o.side == FIX::Side_BUY;
    if (buy ? !b.hasAsk() : !b.hasBid()) return false;
    px = buy ? b.bestAsk() : b.bestBid();
    if (o.ordType == FIX::OrdType_MARKET) return true;
    return buy ? o.price >= px : o.price <= px;
  }

  // Fill the rest of `o` at `px`: as the taker when it arrived marketable,
  // as the maker when the market came to it (LastLiquidityInd 851).
  void fill(Order& o, double px, bool taker) {
    double q = o.qty - o.cum;
    o.avgPx = (o.avgPx * o.cum + px * q) / (o.cum + q);
    o.cum += q;
    o.open = false;
    FIX44::ExecutionReport er = report(o, FIX::ExecType_TRADE);
    er.set(FIX::LastQty(q));
    er.set(FIX::LastPx(px));
    er.setField(FIX::LastLiquidityInd(taker ? 2 : 1));
    send(er);
    std::ostringstream line;
    line << "fill " << o.clOrdId << " " << q << " @ " << px;
    say(line.str());
  }

  // Fill `o` if the market reaches it; an immediate order that does not is canceled.
  void match(Order& o, bool arriving) {
    double px;
    if (reachable(o, px)) {
      fill(o, px, arriving);
    } else if (arriving && (o.tif == FIX::TimeInForce_IMMEDIATE_OR_CANCEL ||
                            o.tif == FIX::TimeInForce_FILL_OR_KILL ||
                            o.ordType == FIX::OrdType_MARKET)) {
      o.open = false;
      FIX44::ExecutionReport er = report(o, FIX::ExecType_CANCELED);
      send(er);
      say("canceled " + o.clOrdId + " (immediate, nothing to trade)");
    }
  }

  void onMessage(const FIX44::NewOrderSingle& m, const FIX::SessionID&) override {
    FIX::ClOrdID clid;
    FIX::Side side;
    FIX::Symbol sym;
    FIX::OrdType type;
    m.get(clid);
    m.get(side);
    m.get(type);
    std::string symbol = m.isSetField(FIX::FIELD::Symbol) ? m.get(sym).getValue() : "";
    if (byClOrdId.count(clid.getValue())) {
      reject(clid, symbol, side, "duplicate ClOrdID");
      return;
    }
    FIX::OrderQty qty;
    if (!m.isSetField(FIX::FIELD::OrderQty) || m.get(qty).getValue() <= 0) {
      reject(clid, symbol, side, "no quantity");
      return;
    }
    Order o;
    o.clOrdId = clid;
    o.orderId = "O" + std::to_string(++nextOrder);
    o.symbol = symbol;
    o.side = side;
    o.ordType = type;
    o.qty = qty;
    if (m.isSetField(FIX::FIELD::TimeInForce)) {
      FIX::TimeInForce tif;
      o.tif = m.get(tif);
    }
    if (type == FIX::OrdType_LIMIT) {
      FIX::Price px;
      if (!m.isSetField(FIX::FIELD::Price)) {
        reject(clid, symbol, side, "limit order without a price");
        return;
      }
      o.price = m.get(px);
    }
    orders[o.orderId] = o;
    byClOrdId[o.clOrdId] = o.orderId;
    Order& placed = orders[o.orderId];
    if (muteOrders) {
      say("muted " + placed.clOrdId);
      return;
    }
    FIX44::ExecutionReport er = report(placed, FIX::ExecType_NEW);
    send(er);
    say("new " + placed.clOrdId + " " + placed.orderId);
    match(placed, true);
  }

  Order* find(const std::string& clOrdId) {
    auto at = byClOrdId.find(clOrdId);
    return at == byClOrdId.end() ? nullptr : &orders[at->second];
  }

  void cancelReject(const std::string& clid, const std::string& orig, char to,
                    const Order* o, const std::string& why) {
    FIX44::OrderCancelReject r(FIX::OrderID(o ? o->orderId : "NONE"), FIX::ClOrdID(clid),
                               FIX::OrigClOrdID(orig),
                               FIX::OrdStatus(o ? o->status() : FIX::OrdStatus_REJECTED),
                               FIX::CxlRejResponseTo(to));
    r.set(FIX::CxlRejReason(o ? FIX::CxlRejReason_TOO_LATE_TO_CANCEL
                              : FIX::CxlRejReason_UNKNOWN_ORDER));
    r.set(FIX::Text(why));
    send(r);
    say("cancel-rejected " + clid + " " + why);
  }

  void onMessage(const FIX44::OrderCancelRequest& m, const FIX::SessionID&) override {
    FIX::ClOrdID clid;
    FIX::OrigClOrdID orig;
    m.get(clid);
    m.get(orig);
    Order* o = find(orig);
    if (!o || !o->open) {
      cancelReject(clid, orig, FIX::CxlRejResponseTo_ORDER_CANCEL_REQUEST, o,
                   o ? "order not open" : "unknown order");
      return;
    }
    o->open = false;
    o->clOrdId = clid;
    byClOrdId[clid] = o->orderId;
    FIX44::ExecutionReport er = report(*o, FIX::ExecType_CANCELED);
    er.set(FIX::OrigClOrdID(orig));
    send(er);
    say("canceled " + orig.getValue());
  }

  void onMessage(const FIX44::OrderCancelReplaceRequest& m, const FIX::SessionID&) override {
    FIX::ClOrdID clid;
    FIX::OrigClOrdID orig;
    m.get(clid);
    m.get(orig);
    Order* o = find(orig);
    if (!o || !o->open) {
      cancelReject(clid, orig, FIX::CxlRejResponseTo_ORDER_CANCEL_REPLACE_REQUEST, o,
                   o ? "order not open" : "unknown order");
      return;
    }
    FIX::OrderQty qty;
    FIX::Price px;
    if (m.isSetField(FIX::FIELD::OrderQty)) o->qty = m.get(qty);
    if (m.isSetField(FIX::FIELD::Price)) o->price = m.get(px);
    if (o->qty <= o->cum) o->open = false;
    o->clOrdId = clid;
    byClOrdId[clid] = o->orderId;
    FIX44::ExecutionReport er = report(*o, FIX::ExecType_REPLACE);
    er.set(FIX::OrigClOrdID(orig));
    send(er);
    say("replaced " + orig.getValue() + " by " + clid.getValue());
    if (o->open) match(*o, false);
  }

  void onMessage(const FIX44::OrderStatusRequest& m, const FIX::SessionID&) override {
    FIX::ClOrdID clid;
    FIX::Side side;
    m.get(clid);
    m.get(side);
    Order* o = find(clid);
    if (!o) {
      FIX44::ExecutionReport er(FIX::OrderID("NONE"), FIX::ExecID(execId()),
                                FIX::ExecType(FIX::ExecType_ORDER_STATUS),
                                FIX::OrdStatus(FIX::OrdStatus_REJECTED), side,
                                FIX::LeavesQty(0), FIX::CumQty(0), FIX::AvgPx(0));
      er.set(clid);
      er.set(FIX::OrdRejReason(FIX::OrdRejReason_UNKNOWN_ORDER));
      er.set(FIX::Text("unknown order"));
      send(er);
      say("status unknown " + clid.getValue());
      return;
    }
    FIX44::ExecutionReport er = report(*o, FIX::ExecType_ORDER_STATUS);
    send(er);
    say("status " + clid.getValue());
  }

  void onMessage(const FIX44::OrderMassStatusRequest& m, const FIX::SessionID&) override {
    FIX::MassStatusReqID id;
    m.get(id);
    std::vector<Order*> open;
    for (auto& entry : orders)
      if (entry.second.open) open.push_back(&entry.second);
    if (open.empty()) {
      FIX44::ExecutionReport er(FIX::OrderID("NONE"), FIX::ExecID(execId()),
                                FIX::ExecType(FIX::ExecType_ORDER_STATUS),
                                FIX::OrdStatus(FIX::OrdStatus_NEW), FIX::Side(FIX::Side_BUY),
                                FIX::LeavesQty(0), FIX::CumQty(0), FIX::AvgPx(0));
      er.set(id);
      er.set(FIX::TotNumReports(0));
      er.set(FIX::LastRptRequested(true));
      send(er);
    }
    for (size_t i = 0; i < open.size(); ++i) {
      FIX44::ExecutionReport er = report(*open[i], FIX::ExecType_ORDER_STATUS);
      er.set(id);
      er.set(FIX::TotNumReports(open.size()));
      er.set(FIX::LastRptRequested(i + 1 == open.size()));
      send(er);
    }
    say("mass-status " + std::to_string(open.size()));
  }

  // The session's net position per symbol: its orders' fills (buys long,
  // sells short) and what the `position` command booked beside them.
  std::map<std::string, double> positions() {
    std::map<std::string, double> net = booked;
    for (auto& entry : orders) {
      const Order& o = entry.second;
      if (o.cum > 0) net[o.symbol] += o.side == FIX::Side_BUY ? o.cum : -o.cum;
    }
    return net;
  }

  void onMessage(const FIX44::RequestForPositions& m, const FIX::SessionID&) override {
    FIX::PosReqID id;
    m.get(id);
    std::map<std::string, double> net = positions();
    std::vector<std::pair<std::string, double>> held;
    for (auto& p : net)
      if (p.second != 0) held.push_back(p);
    if (held.empty()) {
      FIX44::PositionReport ap;
      ap.set(FIX::PosMaintRptID("P" + std::to_string(++nextExec)));
      ap.set(id);
      ap.set(FIX::PosReqResult(FIX::PosReqResult_NO_POSITIONS_FOUND_THAT_MATCH_CRITERIA));
      ap.set(FIX::TotalNumPosReports(0));
      send(ap);
    }
    for (size_t i = 0; i < held.size(); ++i) {
      FIX44::PositionReport ap;
      ap.set(FIX::PosMaintRptID("P" + std::to_string(++nextExec)));
      ap.set(id);
      ap.set(FIX::PosReqResult(FIX::PosReqResult_VALID_REQUEST));
      ap.set(FIX::TotalNumPosReports(held.size()));
      ap.set(FIX::Symbol(held[i].first));
      FIX44::PositionReport::NoPositions g;
      g.set(FIX::PosType("TQ"));
      g.set(FIX::LongQty(held[i].second > 0 ? held[i].second : 0));
      g.set(FIX::ShortQty(held[i].second < 0 ? -held[i].second : 0));
      ap.addGroup(g);
      ap.setField(FIX::LastRptRequested(i + 1 == held.size()));
      send(ap);
    }
    say("positions " + std::to_string(held.size()));
  }

  void onMessage(const FIX44::MarketDataRequest& m, const FIX::SessionID&) override {
    FIX::MDReqID id;
    m.get(id);
    mdReqId = id;
    subscribed = true;
    FIX::NoRelatedSym n;
    m.get(n);
    FIX44::MarketDataRequest::NoRelatedSym group;
    for (int i = 1; i <= n; ++i) {
      FIX::Symbol sym;
      m.getGroup(i, group);
      group.get(sym);
      snapshot(sym);
    }
    say("subscribed " + mdReqId);
  }

  void snapshot(const std::string& symbol) {
    auto def = definitions.find(symbol);
    if (def != definitions.end()) {
      FIX44::SecurityDefinition d(FIX::SecurityReqID("unsolicited"),
                                  FIX::SecurityResponseID("def-" + symbol),
                                  FIX::SecurityResponseType(4));
      d.set(FIX::Symbol(symbol));
      d.setField(FIX::MinPriceIncrement(std::stod(def->second.tick)));
      d.setField(FIX::MinTradeVol(std::stod(def->second.lot)));
      d.setField(FIX::ContractMultiplier(std::stod(def->second.multiplier)));
      send(d);
    }
    Book& b = books[symbol];
    FIX44::MarketDataSnapshotFullRefresh w;
    w.set(FIX::MDReqID(mdReqId));
    w.set(FIX::Symbol(symbol));
    auto add = [&](char type, double px, double size) {
      FIX44::MarketDataSnapshotFullRefresh::NoMDEntries e;  // a fresh entry each time
      e.set(FIX::MDEntryType(type));
      e.set(FIX::MDEntryPx(px));
      e.set(FIX::MDEntrySize(size));
      w.addGroup(e);
    };
    for (auto it = b.bids.rbegin(); it != b.bids.rend(); ++it) add('0', it->first, it->second);
    for (auto& level : b.asks) add('1', level.first, level.second);
    if (b.bids.empty() && b.asks.empty()) {
      FIX44::MarketDataSnapshotFullRefresh::NoMDEntries e;
      e.set(FIX::MDEntryType('J'));  // empty book
      w.addGroup(e);
    }
    send(w);
  }

  // One update of the venue's market: sent to a subscriber, then orders it reaches fill.
  void update(const std::string& symbol, char kind, double px, double size) {
    Book& b = books[symbol];
    char action = FIX::MDUpdateAction_NEW;
    if (kind == 'B' || kind == 'S') {
      std::map<double, double>& side = kind == 'B' ? b.bids : b.asks;
      auto at = side.find(px);
      if (size <= 0) {
        action = FIX::MDUpdateAction_DELETE;
        if (at != side.end()) side.erase(at);
      } else {
        action = at == side.end() ? FIX::MDUpdateAction_NEW : FIX::MDUpdateAction_CHANGE;
        side[px] = size;
      }
    }
    if (subscribed) {
      FIX44::MarketDataIncrementalRefresh x;
      x.set(FIX::MDReqID(mdReqId));
      FIX44::MarketDataIncrementalRefresh::NoMDEntries e;
      e.set(FIX::MDUpdateAction(action));
      e.set(FIX::MDEntryType(kind == 'B' ? '0' : kind == 'S' ? '1' : '2'));
      e.set(FIX::Symbol(symbol));
      e.set(FIX::MDEntryPx(px));
      if (action != FIX::MDUpdateAction_DELETE) e.set(FIX::MDEntrySize(size));
      x.addGroup(e);
      send(x);
    }
    for (auto& entry : orders) {
      Order& o = entry.second;
      if (!o.open || o.symbol != symbol) continue;
      if (kind == 'T') {
        bool through = o.side == FIX::Side_BUY ? px < o.price : px > o.price;
        if (through) fill(o, o.price, false);
      } else {
        match(o, false);
      }
    }
  }

  void stream(const std::string& path, double rate, long limit) {
    std::ifstream in(path);
    auto start = std::chrono::steady_clock::now();
    if (!in) {
      say("md-error cannot open " + path);
      return;
    }
    long n = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream words(line);
      std::string symbol;
      char kind;
      double px, size;
      if (!(words >> symbol >> kind >> px >> size)) {
        say("md-error bad line " + line);
        continue;
      }
      if (rate > 0) {
        auto due = start + std::chrono::nanoseconds(static_cast<long long>(n * 1e9 / rate));
        std::this_thread::sleep_until(due);
      }
      {
        std::lock_guard<std::recursive_mutex> g(mu);
        update(symbol, kind, px, size);
      }
      if (++n == limit) break;
    }
    say("md-done " + std::to_string(n));
  }

  // A resting limit order that no session sent (see the `enter` command).
  void enter(const std::string& clid, const std::string& symbol, char side, double px,
             double qty) {
    Order o;
    o.clOrdId = clid;
    o.orderId = "O" + std::to_string(++nextOrder);
    o.symbol = symbol;
    o.side = side;
    o.price = px;
    o.qty = qty;
    orders[o.orderId] = o;
    byClOrdId[clid] = o.orderId;
    say("entered " + clid + " " + o.orderId);
  }

  // A fill report the book does not justify: what a faulty venue sends.
  void forceFill(const std::string& clOrdId, double qty, double px) {
    Order* o = find(clOrdId);
    Order lie;
    if (o) {
      lie = *o;
    } else {
      lie.clOrdId = clOrdId;
      lie.orderId = "NONE";
      lie.symbol = "ESH4";
      lie.qty = qty;
    }
    lie.cum += qty;
    lie.avgPx = px;
    FIX44::ExecutionReport er = report(lie, FIX::ExecType_TRADE);
    er.set(FIX::LastQty(qty));
    er.set(FIX::LastPx(px));
    er.set(FIX::LeavesQty(lie.qty > lie.cum ? lie.qty - lie.cum : 0));
    send(er);
    say("forced " + clOrdId);
  }

  void printBook(const std::string& symbol) {
    std::lock_guard<std::recursive_mutex> g(mu);
    Book& b = books[symbol];
    auto line = [](char side, double px, double size) {
      std::ostringstream out;
      out << std::fixed << "book " << side << " " << std::setprecision(2) << px << " "
          << std::setprecision(0) << size;
      say(out.str());
    };
    int n = 0;
    for (auto it = b.bids.rbegin(); it != b.bids.rend() && n < 5; ++it, ++n)
      line('B', it->first, it->second);
    n = 0;
    for (auto it = b.asks.begin(); it != b.asks.end() && n < 5; ++it, ++n)
      line('S', it->first, it->second);
    say("book-done");
  }

  void printOrders() {
    std::lock_guard<std::recursive_mutex> g(mu);
    for (auto& entry : orders) {
      const Order& o = entry.second;
      std::ostringstream line;
      line << "order " << o.orderId << " " << o.clOrdId << " " << o.symbol << " side=" << o.side
           << " qty=" << o.qty << " cum=" << o.cum << " open=" << o.open;
      say(line.str());
    }
    say("orders-done");
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: quickfix-venue PORT STORE_DIR DICTIONARY.xml LOG_DIR\n";
    return 2;
  }
  std::stringstream cfg;
  cfg << "[DEFAULT]\n"
         "ConnectionType=acceptor\n"
         "SocketAcceptPort=" << argv[1] << "\n"
         "StartTime=00:00:00\nEndTime=00:00:00\n"
         "FileStorePath=" << argv[2] << "\n"
         "FileLogPath=" << argv[4] << "\n"
         "UseDataDictionary=Y\nDataDictionary=" << argv[3] << "\n"
         "ValidateUserDefinedFields=N\n"
         "SocketNodelay=Y\n"
         "CheckLatency=N\n"
         "ResetOnLogon=N\nResetOnLogout=N\nResetOnDisconnect=N\n"
         "\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=VENUE\nTargetCompID=TRADSYS\n";
  try {
    FIX::SessionSettings settings(cfg);
    Venue venue;
    FIX::FileStoreFactory store(settings);
    FIX::FileLogFactory log(settings);
    FIX::ThreadedSocketAcceptor acceptor(venue, store, settings, log);
    acceptor.start();
    std::cout << "READY " << argv[1] << std::endl;
    for (std::string line; std::getline(std::cin, line);) {
      std::istringstream words(line);
      std::string command;
      words >> command;
      FIX::Session* session = nullptr;
      {
        std::lock_guard<std::recursive_mutex> g(venue.mu);
        if (venue.known) session = FIX::Session::lookupSession(venue.sid);
      }
      if (command == "quit") break;
      if (command == "md") {
        std::string path;
        double rate = 0;
        long limit = -1;
        words >> path;
        if (!(words >> rate)) rate = 0;
        if (!(words >> limit)) limit = -1;
        venue.stream(path, rate, limit);
      } else if (command == "level" || command == "trade") {
        std::string symbol;
        char kind = 'T';
        double px = 0, size = 0;
        words >> symbol;
        if (command == "level") words >> kind;
        words >> px >> size;
        std::lock_guard<std::recursive_mutex> g(venue.mu);
        venue.update(symbol, kind, px, size);
        say("level-done");
      } else if (command == "drop" && session) {
        session->disconnect();
        say("dropped");
      } else if (command == "logout" && session) {
        session->logout("venue logout");
      } else if (command == "logon" && session) {
        session->logon();
        say("logon-enabled");
      } else if (command == "seq" && session) {
        int n = 0;
        words >> n;
        session->setNextSenderMsgSeqNum(n);
        say("seq " + std::to_string(n));
      } else if (command == "force-fill") {
        std::string clid;
        double qty = 0, px = 0;
        words >> clid >> qty >> px;
        std::lock_guard<std::recursive_mutex> g(venue.mu);
        venue.forceFill(clid, qty, px);
      } else if (command == "position") {
        // A position booked at the venue beside the session's orders (a
        // trade by phone, another system's fill).
        std::string symbol;
        double qty = 0;
        words >> symbol >> qty;
        std::lock_guard<std::recursive_mutex> g(venue.mu);
        venue.booked[symbol] += qty;
        say("position " + symbol);
      } else if (command == "secdef") {
        // A SecurityDefinition sent before the symbol's snapshot: its tick,
        // lot and contract multiplier.
        std::string symbol;
        Venue::Definition d;
        words >> symbol >> d.tick >> d.lot >> d.multiplier;
        std::lock_guard<std::recursive_mutex> g(venue.mu);
        venue.definitions[symbol] = d;
        say("secdef " + symbol);
      } else if (command == "enter") {
        // A working order entered by hand at the venue (nobody's session
        // sent it): ClOrdID, symbol, side (1 buy, 2 sell), price, quantity.
        std::string clid, symbol;
        char side = '1';
        double px = 0, qty = 0;
        words >> clid >> symbol >> side >> px >> qty;
        std::lock_guard<std::recursive_mutex> g(venue.mu);
        venue.enter(clid, symbol, side, px, qty);
      } else if (command == "mute-orders") {
        std::lock_guard<std::recursive_mutex> g(venue.mu);
        venue.muteOrders = true;
        say("muted-orders");
      } else if (command == "book") {
        std::string symbol;
        words >> symbol;
        venue.printBook(symbol);
      } else if (command == "orders") {
        venue.printOrders();
      } else {
        say("unknown-command " + line);
      }
    }
    acceptor.stop();
  } catch (std::exception& e) {
    std::cerr << "quickfix-venue: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
