// A client of tradsys's venue (the gateway's FIX 4.4 acceptor) in the tests:
// a FIX 4.4 initiator built on QuickFIX (Debian libquickfix-dev), so the FIX
// session rules the gateway meets are QuickFIX's, and every message the
// gateway sends is checked against the FIX 4.4 data dictionary by QuickFIX
// before the test sees it (a message that fails is answered with a session
// Reject, printed as `EVENT sent-reject ...`).
//
// usage: quickfix-client PORT SENDER TARGET PASSWORD STORE_DIR DICTIONARY.xml LOG_DIR
// Control lines on stdin (stdin's end is `quit`):
//   order CLORDID SYMBOL buy|sell PRICE QTY [TIF]   a limit order (TIF: 0 1 3 4)
//   market CLORDID SYMBOL buy|sell QTY               a market order
//   cancel CLORDID ORIGCLORDID SYMBOL buy|sell       an OrderCancelRequest
//   replace CLORDID ORIGCLORDID SYMBOL buy|sell PRICE QTY
//   md REQID SYMBOL DEPTH [TYPE]     a MarketDataRequest (TYPE 263: 0, 1 (default), 2)
//   raw TYPE [TAG=VALUE ...]         any message of type TYPE (the session's
//                                    header added), for refusals
//   logout                           log out
//   quit                             log out and exit
// Lines on stdout: `READY`, then `EVENT logon`, `EVENT logout TEXT`,
// `EVENT app MESSAGE` for each application message received, `EVENT admin
// MESSAGE` for each Reject (3) received, and `EVENT sent-reject MESSAGE` for a
// Reject QuickFIX sent (the gateway broke a rule); a MESSAGE's fields are
// separated by `|`.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>

#include <iostream>
#include <mutex>
#include <sstream>
#include <string>

namespace {

std::mutex out;

void say(const std::string& line) {
  std::lock_guard<std::mutex> g(out);
  std::cout << "EVENT " << line << std::endl;
}

std::string text(const FIX::Message& m) {
  std::string s = m.toString();
  for (char& c : s)
    if (c == '\x01') c = '|';
  return s;
}

std::string type(const FIX::Message& m) {
  FIX::MsgType t;
  m.getHeader().getField(t);
  return t.getValue();
}

class Client : public FIX::Application {
 public:
  explicit Client(std::string password) : password_(std::move(password)) {}
  FIX::SessionID sid;

  void onCreate(const FIX::SessionID& s) override { sid = s; }
  void onLogon(const FIX::SessionID&) override { say("logon"); }
  void onLogout(const FIX::SessionID&) override { say("logged-out"); }
  void toAdmin(FIX::Message& m, const FIX::SessionID&) override {
    std::string t = type(m);
    if (t == "A") m.setField(554, password_);
    if (t == "3") say("sent-reject " + text(m));
  }
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message& m, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
            FIX::RejectLogon) override {
    std::string t = type(m);
    if (t == "3") say("admin " + text(m));
    if (t == "5") {
      std::string why = m.isSetField(58) ? m.getField(58) : "";
      say("logout " + why);
    }
  }
  void fromApp(const FIX::Message& m, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
            FIX::UnsupportedMessageType) override {
    say("app " + text(m));
  }

 private:
  std::string password_;
};

char side(const std::string& word) { return word == "sell" ? '2' : '1'; }

FIX::Message message(const std::string& msgType) {
  FIX::Message m;
  m.getHeader().setField(8, "FIX.4.4");
  m.getHeader().setField(35, msgType);
  return m;
}

std::string now() {
  return FIX::UtcTimeStampConvertor::convert(FIX::UtcTimeStamp(), 3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::cerr << "usage: quickfix-client PORT SENDER TARGET PASSWORD STORE_DIR "
                 "DICTIONARY.xml LOG_DIR\n";
    return 2;
  }
  std::stringstream cfg;
  cfg << "[DEFAULT]\n"
         "ConnectionType=initiator\n"
         "SocketConnectHost=127.0.0.1\n"
         "SocketConnectPort=" << argv[1] << "\n"
         "StartTime=00:00:00\nEndTime=00:00:00\n"
         "HeartBtInt=30\nReconnectInterval=1\n"
         "FileStorePath=" << argv[5] << "\n"
         "FileLogPath=" << argv[7] << "\n"
         "UseDataDictionary=Y\nDataDictionary=" << argv[6] << "\n"
         "ValidateUserDefinedFields=Y\n"
         "SocketNodelay=Y\n"
         "CheckLatency=N\n"
         "ResetOnLogon=N\nResetOnLogout=N\nResetOnDisconnect=N\n"
         "\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=" << argv[2]
      << "\nTargetCompID=" << argv[3] << "\n";
  try {
    FIX::SessionSettings settings(cfg);
    Client client(argv[4]);
    FIX::FileStoreFactory store(settings);
    FIX::FileLogFactory log(settings);
    FIX::SocketInitiator initiator(client, store, settings, log);
    initiator.start();
    std::cout << "READY" << std::endl;
    for (std::string line; std::getline(std::cin, line);) {
      std::istringstream words(line);
      std::string command;
      words >> command;
      if (command == "quit") break;
      if (command == "logout") {
        if (FIX::Session* s = FIX::Session::lookupSession(client.sid)) s->logout("client logout");
        continue;
      }
      FIX::Message m;
      if (command == "order" || command == "market") {
        std::string clid, symbol, sideWord, px, qty, tif;
        words >> clid >> symbol >> sideWord;
        if (command == "order") words >> px;
        words >> qty >> tif;
        m = message("D");
        m.setField(11, clid);
        m.setField(55, symbol);
        m.setField(FIX::Side(side(sideWord)));
        m.setField(60, now());
        m.setField(38, qty);
        m.setField(FIX::OrdType(command == "order" ? '2' : '1'));
        if (command == "order") m.setField(44, px);
        if (!tif.empty()) m.setField(59, tif);
      } else if (command == "cancel" || command == "replace") {
        std::string clid, orig, symbol, sideWord, px, qty;
        words >> clid >> orig >> symbol >> sideWord;
        m = message(command == "cancel" ? "F" : "G");
        m.setField(41, orig);
        m.setField(11, clid);
        m.setField(55, symbol);
        m.setField(FIX::Side(side(sideWord)));
        m.setField(60, now());
        if (command == "replace") {
          words >> px >> qty;
          m.setField(38, qty);
          m.setField(FIX::OrdType('2'));
          m.setField(44, px);
        }
      } else if (command == "md") {
        std::string reqId, symbol, depth, kind = "1";
        words >> reqId >> symbol >> depth;
        if (!(words >> kind)) kind = "1";
        m = message("V");
        m.setField(262, reqId);
        m.setField(263, kind);
        m.setField(264, depth);
        FIX::Group types(267, 269);
        for (const char* t : {"0", "1", "2"}) {
          types.setField(269, t);
          m.addGroup(types);
        }
        FIX::Group related(146, 55);
        related.setField(55, symbol);
        m.addGroup(related);
      } else if (command == "raw") {
        std::string msgType, field;
        words >> msgType;
        m = message(msgType);
        while (words >> field) {
          auto eq = field.find('=');
          if (eq == std::string::npos) continue;
          m.setField(std::stoi(field.substr(0, eq)), field.substr(eq + 1));
        }
      } else {
        say("unknown-command " + line);
        continue;
      }
      if (!FIX::Session::sendToTarget(m, client.sid)) say("not-sent " + line);
    }
    if (FIX::Session* s = FIX::Session::lookupSession(client.sid)) s->logout("client quits");
    initiator.stop();
  } catch (std::exception& e) {
    std::cerr << "quickfix-client: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
