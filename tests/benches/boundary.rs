//! The cost of the plugin boundary: the same plugin logic called through the
//! host (a WebAssembly component) and compiled natively, measured in one run.
//!
//! Prints medians of repeated runs and the ratios. Run with `cargo xtask bench`
//! (release build; the plugins must be built, which the xtask does).
//!
//! - risk validation: `max-notional` validating a batch of 1,000 orders;
//! - strategy: `ma-crossover` on batches of 1,000 quotes;
//! - small call: an empty `on-market` batch (no strings, nothing returned).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use tradsys_host::testing::{KindBindings, PluginInstance, Registry, Runtime};
use tradsys_host::testing::{RiskValidator, Strategy, types as host};
use tradsys_host::{HostConfig, TrustPolicy, TrustSettings};
use tradsys_sdk as sdk;
use tradsys_sdk::{RiskValidator as _, Strategy as _};

const U: i64 = 1_000_000_000;
const BATCH: usize = 1_000;

/// Median nanoseconds per iteration over `reps` timed runs of `iters` each.
fn measure(reps: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..iters {
        f();
    }
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn instance<B: KindBindings>(name: &str) -> PluginInstance<B> {
    instance_in(
        Arc::new(Runtime::new().expect("engine")),
        "plugins",
        name,
        &HostConfig::default(),
    )
}

/// `name` from `target/DIR`, on `runtime`, with `config`.
fn instance_in<B: KindBindings>(
    runtime: Arc<Runtime>,
    dir: &str,
    name: &str,
    config: &HostConfig,
) -> PluginInstance<B> {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let dir = target.join(dir);
    let trust = TrustSettings {
        dir: Some(target.join("dev-keys/trust")),
        allow_unsigned: false,
    };
    let policy = TrustPolicy::from_settings(&trust).expect("the development trust store");
    let registry = Registry::load_dir(&dir, config, &policy)
        .unwrap_or_else(|e| panic!("{e:#}: run `cargo xtask build-plugins`"));
    let plugin = registry
        .get(name)
        .unwrap_or_else(|| panic!("{name} not built in {}", dir.display()))
        .clone();
    let mut instance = PluginInstance::new(runtime, plugin);
    instance.ensure_live().expect("init");
    instance
}

/// Hand `strategy` the next of `batches` (cycling), through the boundary.
fn next_batch(
    strategy: &mut PluginInstance<Strategy>,
    batches: &[Vec<host::MarketEvent>],
    next: &mut usize,
) {
    let batch = &batches[*next % batches.len()];
    *next += 1;
    let out = strategy.call(|b, s| b.on_market(s, batch));
    std::hint::black_box(out.unwrap());
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Order `i` of the validation batch: prices and sizes vary, some breach the limit.
fn order_fields(i: usize) -> (u64, u32, bool, i64, i64) {
    let instrument = (i % 3) as u32;
    let price = [100, 250, 40][instrument as usize] * U + (i as i64 % 50) * U / 100;
    let quantity = (1 + (i as i64 * 37) % 600) * U;
    (
        i as u64 + 1,
        instrument,
        i.is_multiple_of(2),
        price,
        quantity,
    )
}

/// Quote `i` of batch `b`: three instruments random-walking deterministically.
fn quote_fields(b: usize, i: usize) -> (u32, u64, i64, i64) {
    let n = (b * BATCH + i) as i64;
    let instrument = (n % 3) as u32;
    let wave = ((n / 3) % 400 - 200).abs() - 100; // a slow triangle wave in ticks
    let tick = [U / 100, U / 20, U / 100][instrument as usize];
    let bid = [100, 250, 40][instrument as usize] * U + wave * tick;
    (
        instrument,
        1_704_205_800_000_000_000 + n as u64 * 1_000_000,
        bid,
        bid + tick,
    )
}

fn main() {
    println!("plugin boundary benchmark: medians, per item (release build)\n");

    // --- risk validation: max-notional over 1,000 orders -----------------------
    let symbols = ["SYN-A", "SYN-B", "SYN-C"];
    let ticks = [U / 100, U / 20, U / 100];
    let host_ctx = host::RiskContext {
        now: 1,
        strategy: 0,
        positions: vec![],
        open_orders: vec![],
        last_prices: (0..3)
            .map(|i| host::LastPrice {
                instrument: i,
                price: [100, 250, 40][i as usize] * U,
            })
            .collect(),
        account: host::Account {
            cash: 0,
            realized_pnl: 0,
        },
        instruments: (0..3)
            .map(|i| host::InstrumentDefinition {
                id: i,
                symbol: symbols[i as usize].into(),
                tick_size: ticks[i as usize],
                lot_size: U,
                price_precision: 2,
                size_precision: 0,
                multiplier: 1,
            })
            .collect(),
    };
    let sdk_ctx = sdk::RiskContext {
        now: 1,
        strategy: 0,
        positions: vec![],
        open_orders: vec![],
        last_prices: host_ctx
            .last_prices
            .iter()
            .map(|l| sdk::LastPrice {
                instrument: l.instrument,
                price: l.price,
            })
            .collect(),
        account: sdk::Account {
            cash: 0,
            realized_pnl: 0,
        },
        instruments: host_ctx
            .instruments
            .iter()
            .map(|d| sdk::InstrumentDefinition {
                id: d.id,
                symbol: d.symbol.clone(),
                tick_size: d.tick_size,
                lot_size: d.lot_size,
                price_precision: d.price_precision,
                size_precision: d.size_precision,
                multiplier: d.multiplier,
            })
            .collect(),
    };
    let host_orders: Vec<host::OrderCommand> = (0..BATCH)
        .map(|i| {
            let (id, instrument, buy, price, quantity) = order_fields(i);
            host::OrderCommand::Submit(host::NewOrder {
                id,
                instrument,
                side: if buy {
                    host::Side::Buy
                } else {
                    host::Side::Sell
                },
                order_type: host::OrderType::Limit,
                time_in_force: host::TimeInForce::Gtc,
                price,
                quantity,
            })
        })
        .collect();
    let sdk_orders: Vec<sdk::OrderCommand> = (0..BATCH)
        .map(|i| {
            let (id, instrument, buy, price, quantity) = order_fields(i);
            sdk::OrderCommand::Submit(sdk::NewOrder {
                id,
                instrument,
                side: if buy { sdk::Side::Buy } else { sdk::Side::Sell },
                order_type: sdk::OrderType::Limit,
                time_in_force: sdk::TimeInForce::Gtc,
                price,
                quantity,
            })
        })
        .collect();

    let mut validator = instance::<RiskValidator>("max-notional");
    let wasm_validate = measure(15, 20, || {
        let verdicts = validator
            .call(|b, s| b.validate(s, &host_ctx, &host_orders))
            .unwrap();
        assert_eq!(verdicts.len(), BATCH);
    }) / BATCH as f64;
    let mut native = max_notional::MaxNotional::new(&sdk::Config::default()).unwrap();
    let mut verdicts = Vec::with_capacity(BATCH);
    let native_validate = measure(15, 20, || {
        verdicts.clear();
        native.validate(&sdk_ctx, &sdk_orders, &mut verdicts);
        std::hint::black_box(&verdicts);
    }) / BATCH as f64;

    // --- strategy: ma-crossover over batches of 1,000 quotes ------------------
    let batches = 8;
    let defs = |i: u32| (i, symbols[i as usize], ticks[i as usize]);
    let host_batches: Vec<Vec<host::MarketEvent>> = (0..batches)
        .map(|b| {
            (0..BATCH)
                .map(|i| {
                    let (instrument, ts, bid, ask) = quote_fields(b, i);
                    host::MarketEvent::Quote(host::Quote {
                        instrument,
                        ts,
                        bid_price: bid,
                        bid_size: 500 * U,
                        ask_price: ask,
                        ask_size: 500 * U,
                    })
                })
                .collect()
        })
        .collect();
    let sdk_batches: Vec<Vec<sdk::MarketEvent>> = (0..batches)
        .map(|b| {
            (0..BATCH)
                .map(|i| {
                    let (instrument, ts, bid, ask) = quote_fields(b, i);
                    sdk::MarketEvent::Quote(sdk::Quote {
                        instrument,
                        ts,
                        bid_price: bid,
                        bid_size: 500 * U,
                        ask_price: ask,
                        ask_size: 500 * U,
                    })
                })
                .collect()
        })
        .collect();
    let host_defs: Vec<host::MarketEvent> = (0..3)
        .map(|i| {
            let (id, symbol, tick) = defs(i);
            host::MarketEvent::Instrument(host::InstrumentDefinition {
                id,
                symbol: symbol.into(),
                tick_size: tick,
                lot_size: U,
                price_precision: 2,
                size_precision: 0,
                multiplier: 1,
            })
        })
        .collect();
    let sdk_defs: Vec<sdk::MarketEvent> = sdk_ctx
        .instruments
        .iter()
        .cloned()
        .map(sdk::MarketEvent::Instrument)
        .collect();

    let mut strat = instance::<Strategy>("ma-crossover");
    strat.call(|b, s| b.on_market(s, &host_defs)).unwrap();
    let mut next = 0;
    let wasm_strategy =
        measure(15, 8, || next_batch(&mut strat, &host_batches, &mut next)) / BATCH as f64;
    let mut native_strat = ma_crossover::MaCrossover::new(&sdk::Config::default()).unwrap();
    let mut orders = Vec::new();
    native_strat.on_market(&sdk_defs, &mut orders);
    let mut next = 0;
    let native_strategy = measure(15, 8, || {
        orders.clear();
        native_strat.on_market(&sdk_batches[next % batches], &mut orders);
        next += 1;
        std::hint::black_box(&orders);
    }) / BATCH as f64;

    // --- a single small call: an empty batch, nothing returned ----------------
    let small_call = measure(15, 20_000, || {
        let out = strat.call(|b, s| b.on_market(s, &[])).unwrap();
        std::hint::black_box(out);
    });
    // The same call made 1,000 times inside one `PluginInstance::call`:
    // wasmtime's own cost, without the host's timing and bookkeeping.
    let raw_call = measure(15, 20, || {
        strat
            .call(|b, s| {
                for _ in 0..1_000 {
                    std::hint::black_box(b.on_market(&mut *s, &[])?);
                }
                Ok(())
            })
            .unwrap();
    }) / 1_000.0;

    println!(
        "{:<46} {:>12} {:>12} {:>8}",
        "case", "plugin ns", "native ns", "ratio"
    );
    for (case, wasm, native) in [
        (
            "risk validation, per order (batch of 1,000)",
            wasm_validate,
            native_validate,
        ),
        (
            "strategy, per quote event (batch of 1,000)",
            wasm_strategy,
            native_strategy,
        ),
    ] {
        println!(
            "{case:<46} {wasm:>12.1} {native:>12.1} {:>7.2}x",
            wasm / native
        );
    }
    println!(
        "{:<46} {small_call:>12.1}",
        "single small call (empty on-market)"
    );
    println!(
        "{:<46} {raw_call:>12.1}",
        "  of which the wasmtime call alone"
    );
    println!(
        "\ntargets: batch per-order cost at most 4x native; a single small call at most 200 ns"
    );

    // --- sandbox: what metering costs, and how late a runaway call stops ------
    let mut unmetered_strat = instance_in::<Strategy>(
        Arc::new(Runtime::unmetered().expect("engine")),
        "plugins",
        "ma-crossover",
        &HostConfig::default(),
    );
    unmetered_strat
        .call(|b, s| b.on_market(s, &host_defs))
        .unwrap();
    let (mut metered_next, mut unmetered_next) = (0, 0);
    let (mut metered, mut unmetered) = (Vec::new(), Vec::new());
    // Interleaved, so that drift in the machine's speed hits both alike.
    for _ in 0..9 {
        metered.push(measure(3, 8, || {
            next_batch(&mut strat, &host_batches, &mut metered_next)
        }));
        unmetered.push(measure(3, 8, || {
            next_batch(&mut unmetered_strat, &host_batches, &mut unmetered_next)
        }));
    }
    let metered = median(metered) / BATCH as f64;
    let unmetered = median(unmetered) / BATCH as f64;
    println!(
        "\n{:<46} {:>12} {:>12} {:>8}",
        "metering (fuel + epoch deadline)", "metered ns", "unmetered ns", "cost"
    );
    println!(
        "{:<46} {metered:>12.1} {unmetered:>12.1} {:>7.1}%",
        "strategy, per quote event (batch of 1,000)",
        (metered / unmetered - 1.0) * 100.0
    );

    let deadline_ms = 10;
    let config: HostConfig = toml::from_str(&format!(
        "[faults]\nquarantine_after = 1000\n[plugins.hostile]\nconfig = {{ mode = \"spin\" }}\n\
         [plugins.hostile.limits]\ndeadline_ms = {deadline_ms}\nfuel_per_call = 100000000000000\n"
    ))
    .expect("config");
    let runtime = Arc::new(Runtime::new().expect("engine"));
    let mut spin = instance_in::<Strategy>(runtime, "test-plugins", "hostile", &config);
    let mut late: Vec<f64> = (0..20)
        .map(|_| {
            let started = Instant::now();
            let result = spin.call(|b, s| b.on_market(s, &[]));
            assert!(matches!(
                result,
                Err(tradsys_host::Fault::Trap {
                    trap: tradsys_host::Trap::Interrupt,
                    ..
                })
            ));
            started.elapsed().as_secs_f64() * 1e3 - deadline_ms as f64
        })
        .collect();
    late.sort_by(f64::total_cmp);
    println!(
        "runaway call, {deadline_ms} ms deadline: stopped {:.2} ms after it (median of 20), {:.2} ms at worst; \
         target within 10 ms",
        late[late.len() / 2],
        late[late.len() - 1]
    );
}
