//! Price series sampled at validation time, for risk validators that need a
//! history of the market (volatility, impact models).
//!
//! A risk validator has no market-data call: it sees the market only when the
//! host asks it to validate, through the [`RiskContext`] and [`host::depth`].
//! So a time series is *sampled on demand*: at each `validate` call an
//! instrument gets a new price, stamped with [`RiskContext::now`], when at least
//! `sample_ns` of host time have passed since its last one.
//!
//! - [`Series`]: the last `window` `(ts, price)` samples of one instrument,
//!   oldest first. Should the clock step back, the series starts again.
//! - [`Windows`]: one [`Series`] per instrument, at most `max_instruments` of
//!   them, with the sampling rule of a `validate` call and the state encoding.
//! - [`mid_price`]: the price sampled, the middle of the host book's touch or
//!   else the last price.
//! - [`Returns`], [`mean`] and [`std_dev`]: the statistics of a series.
//! - [`Ema`]: an exponential moving average over about `span` updates, for
//!   strategies and processors that see every event.
//!
//! ```
//! use tradsys_sdk::series::{Returns, Series};
//!
//! let mut s = Series::default();
//! for (i, price) in [100, 200, 100].into_iter().enumerate() {
//!     s.push(i as u64 * 100, price, 20);
//! }
//! // Log returns ln 2 and −ln 2: a sample deviation of ln 2 · √2.
//! let sigma = s.std_dev_of_returns(Returns::Log, 3).unwrap();
//! assert!((sigma - 2f64.ln() * 2f64.sqrt()).abs() < 1e-12);
//! assert_eq!(s.mean_gap_ns(), Some(100));
//! ```
//!
//! # State encoding
//!
//! [`Windows::write`] writes, with [`StateWriter`]: a `u32` count of
//! instruments, then for each (ascending id) its `u32` id, a `u32` count of
//! samples and each sample as `u64` ts and `i64` price, oldest first.
//! [`Windows::read`] reads that back. A plugin writes its own format version
//! (and anything else it keeps) around it.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Index;

use crate::state::{StateReader, StateWriter};
use crate::{OrderCommand, RiskContext, fixed, host};

/// Fewest samples that give a standard deviation of returns (two returns).
pub const MIN_SAMPLES: usize = 3;

/// The sampling settings a validator reads from its config: `window`
/// (samples kept, default 20, from [`MIN_SAMPLES`] to `max_window`),
/// `min_samples` (before any figure, default 10 or the window, from
/// [`MIN_SAMPLES`] to `window`) and `sample_ms` (market time between two
/// samples of one instrument, default 100, at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampling {
    /// Samples kept per instrument.
    pub window: usize,
    /// Samples needed before a figure is given.
    pub min_samples: usize,
    /// Nanoseconds of market time between two samples.
    pub sample_ns: u64,
}

impl Sampling {
    /// Read the three keys from `config`; an error names the key.
    pub fn from_config(config: &crate::Config, max_window: usize) -> Result<Self, String> {
        const NANOS_PER_MS: u64 = 1_000_000;
        let window: usize = config.parse_or("window", 20)?;
        if !(MIN_SAMPLES..=max_window).contains(&window) {
            return Err(format!(
                "config `window`: must be {MIN_SAMPLES} to {max_window}, not {window}"
            ));
        }
        let min_samples: usize = config.parse_or("min_samples", 10.min(window))?;
        if !(MIN_SAMPLES..=window).contains(&min_samples) {
            return Err(format!(
                "config `min_samples`: must be {MIN_SAMPLES} to `window` ({window}), not {min_samples}"
            ));
        }
        let sample_ms: u64 = config.parse_or("sample_ms", 100)?;
        let sample_ns = sample_ms
            .checked_mul(NANOS_PER_MS)
            .filter(|&ns| ns > 0)
            .ok_or_else(|| {
                format!(
                    "config `sample_ms`: must be 1 to {}",
                    u64::MAX / NANOS_PER_MS
                )
            })?;
        Ok(Self {
            window,
            min_samples,
            sample_ns,
        })
    }
}

/// Which returns between consecutive prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// `ln(p_i / p_{i-1})`.
    Log,
    /// `p_i / p_{i-1} − 1`.
    Simple,
}

impl Returns {
    /// The return from price `from` to price `to`.
    pub fn of(self, from: i64, to: i64) -> f64 {
        let ratio = to as f64 / from as f64;
        match self {
            Returns::Log => ratio.ln(),
            Returns::Simple => ratio - 1.0,
        }
    }
}

/// The mean of `values` (NaN when empty).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample standard deviation of `values`, divided by n − 1 (NaN below two
/// values).
pub fn std_dev(values: &[f64]) -> f64 {
    let count = values.len() as f64;
    let mean = mean(values);
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (count - 1.0);
    var.sqrt()
}

/// The mid of `instrument`: the middle of the best bid and ask of
/// [`host::depth`], else `context`'s last price when a side of the book is
/// empty (or not positive); `None` when neither is a positive price.
pub fn mid_price(context: &RiskContext, instrument: u32) -> Option<i64> {
    let book = host::depth(instrument, 1);
    if let (Some(bid), Some(ask)) = (book.bids.first(), book.asks.first())
        && bid.price > 0
        && ask.price > 0
    {
        return Some(((i128::from(bid.price) + i128::from(ask.price)) / 2) as i64);
    }
    context
        .last_prices
        .iter()
        .find(|p| p.instrument == instrument)
        .map(|p| p.price)
        .filter(|&p| p > 0)
}

/// An exponential moving average over about `span` updates: each update
/// moves it by `2 / (span + 1)` of the way to the new value (`span = 1`
/// follows the input), starting at the first value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ema {
    alpha: f64,
    value: Option<f64>,
}

impl Ema {
    /// No value yet, over `span` updates (at least 1).
    pub fn new(span: u32) -> Self {
        Self {
            alpha: 2.0 / (f64::from(span.max(1)) + 1.0),
            value: None,
        }
    }

    /// Take in `x`; the new average.
    pub fn update(&mut self, x: f64) -> f64 {
        let value = match self.value {
            None => x,
            Some(v) => v + self.alpha * (x - v),
        };
        self.value = Some(value);
        value
    }

    /// The average so far.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// Restore a saved average (`value` as [`value`](Self::value) gave it).
    pub fn set(&mut self, value: Option<f64>) {
        self.value = value;
    }
}

/// The last samples of one instrument, oldest first, each `(ts, price)` with the
/// host time it was taken. Timestamps never decrease.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Series {
    samples: VecDeque<(u64, i64)>,
}

impl Series {
    /// Whether a sample is due at `now`: there is none yet, `sample_ns` have
    /// passed since the last one, or the clock stepped back (then [`push`](Self::push)
    /// starts again).
    pub fn due(&self, now: u64, sample_ns: u64) -> bool {
        self.samples
            .back()
            .is_none_or(|&(ts, _)| now < ts || now - ts >= sample_ns)
    }

    /// Append `price` taken at `now`, keeping the newest `window`; a `now`
    /// before the last sample first empties the series.
    pub fn push(&mut self, now: u64, price: i64, window: usize) {
        if self.samples.back().is_some_and(|&(ts, _)| now < ts) {
            self.samples.clear();
        }
        self.samples.push_back((now, price));
        while self.samples.len() > window {
            self.samples.pop_front();
        }
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> &VecDeque<(u64, i64)> {
        &self.samples
    }

    /// How many samples there are.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Time of the newest sample.
    pub fn last_ts(&self) -> Option<u64> {
        self.samples.back().map(|&(ts, _)| ts)
    }

    /// The returns between consecutive samples, oldest first (one fewer than
    /// the samples).
    pub fn returns(&self, returns: Returns) -> Vec<f64> {
        self.samples
            .iter()
            .zip(self.samples.iter().skip(1))
            .map(|(&(_, a), &(_, b))| returns.of(a, b))
            .collect()
    }

    /// The sample standard deviation of the returns (a fraction, not percent),
    /// once there are at least `min` samples (and never fewer than
    /// [`MIN_SAMPLES`]).
    pub fn std_dev_of_returns(&self, returns: Returns, min: usize) -> Option<f64> {
        if self.samples.len() < min.max(MIN_SAMPLES) {
            return None;
        }
        Some(std_dev(&self.returns(returns)))
    }

    /// The mean host time between two samples, ns; `None` below two samples.
    pub fn mean_gap_ns(&self) -> Option<u64> {
        let (&(first, _), &(last, _)) = (self.samples.front()?, self.samples.back()?);
        let gaps = self.samples.len() as u64 - 1;
        (gaps > 0).then(|| (last - first) / gaps)
    }
}

/// One [`Series`] of mids per instrument: at most `window` samples each, at
/// least `sample_ns` apart, and at most `max_instruments` instruments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Windows {
    window: usize,
    sample_ns: u64,
    max_instruments: usize,
    series: BTreeMap<u32, Series>,
}

impl Windows {
    /// No samples yet.
    pub fn new(window: usize, sample_ns: u64, max_instruments: usize) -> Self {
        Self {
            window,
            sample_ns,
            max_instruments,
            series: BTreeMap::new(),
        }
    }

    /// The series of `instrument`, if it has one.
    pub fn get(&self, instrument: u32) -> Option<&Series> {
        self.series.get(&instrument)
    }

    /// Whether `instrument` has a series.
    pub fn contains_key(&self, instrument: &u32) -> bool {
        self.series.contains_key(instrument)
    }

    /// How many instruments have a series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether none has.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The series by instrument id, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Series)> {
        self.series.iter().map(|(&id, s)| (id, s))
    }

    /// Sample at a `validate` call: the instruments of `orders` (cancels aside)
    /// first, then every instrument with a last price, each with
    /// [`sample`](Self::sample) (only the orders' may displace another).
    pub fn sample_validation(&mut self, context: &RiskContext, orders: &[OrderCommand]) {
        for order in orders {
            if !matches!(order, OrderCommand::Cancel(_)) {
                self.sample(context, order.instrument(), true);
            }
        }
        for last in &context.last_prices {
            self.sample(context, last.instrument, false);
        }
    }

    /// Take a [`mid_price`] of `instrument` at `context.now` if one is due. A new
    /// instrument beyond `max_instruments` is taken only when `ordered`, in place
    /// of the one sampled longest ago (the lowest id of a tie).
    pub fn sample(&mut self, context: &RiskContext, instrument: u32, ordered: bool) {
        let now = context.now;
        let evict = match self.series.get(&instrument) {
            Some(series) if !series.due(now, self.sample_ns) => return,
            Some(_) => false,
            None if self.series.len() < self.max_instruments => false,
            None if !ordered => return,
            None => true,
        };
        let Some(mid) = mid_price(context, instrument) else {
            return;
        };
        if evict && let Some(id) = self.oldest() {
            self.series.remove(&id);
        }
        self.series
            .entry(instrument)
            .or_default()
            .push(now, mid, self.window);
    }

    /// The instrument sampled longest ago (the lowest id of a tie).
    fn oldest(&self) -> Option<u32> {
        self.series
            .iter()
            .min_by_key(|(_, s)| s.last_ts())
            .map(|(&id, _)| id)
    }

    /// Write the series (see the [module docs](self) for the encoding).
    pub fn write(&self, w: &mut StateWriter) {
        w.u32(self.series.len() as u32);
        for (&instrument, series) in &self.series {
            w.u32(instrument).u32(series.samples.len() as u32);
            for &(ts, mid) in &series.samples {
                w.u64(ts).i64(mid);
            }
        }
    }

    /// Read what [`write`](Self::write) wrote into a copy of `self` with its
    /// settings: a smaller `window` keeps each instrument's newest samples, and
    /// of too many instruments the most recently sampled are kept. A price that
    /// is not positive is an error.
    pub fn read(&self, r: &mut StateReader<'_>) -> Result<Self, String> {
        let mut all = Self::new(self.window, self.sample_ns, self.max_instruments);
        for _ in 0..r.u32()? {
            let instrument = r.u32()?;
            let mut series = Series::default();
            for _ in 0..r.u32()? {
                let (ts, mid) = (r.u64()?, r.i64()?);
                if mid <= 0 {
                    return Err(format!(
                        "state: mid {} of instrument {instrument} is not positive",
                        fixed::format_exact(i128::from(mid), 0)
                    ));
                }
                series.push(ts, mid, self.window);
            }
            all.series.insert(instrument, series);
        }
        while all.series.len() > self.max_instruments {
            let oldest = all.oldest().expect("not empty");
            all.series.remove(&oldest);
        }
        Ok(all)
    }
}

impl Index<&u32> for Windows {
    type Output = Series;

    /// The series of `instrument`; panics when it has none.
    fn index(&self, instrument: &u32) -> &Series {
        &self.series[instrument]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, RiskContextBuilder, px, units};

    const MS: u64 = 1_000_000;

    fn context(ms: u64) -> RiskContext {
        RiskContextBuilder::new(ms * MS)
            .instruments(testing::synthetic_instruments())
            .last_price(0, px("100"))
            .last_price(1, px("250"))
            .build()
    }

    #[test]
    fn an_ema_starts_at_its_first_value_and_moves_by_its_weight() {
        let mut ema = Ema::new(3); // weight 1/2
        assert_eq!(ema.value(), None);
        assert_eq!(ema.update(10.0), 10.0);
        assert_eq!(ema.update(20.0), 15.0);
        assert_eq!(ema.update(15.0), 15.0);
        let mut follows = Ema::new(1);
        follows.update(1.0);
        assert_eq!(follows.update(7.0), 7.0);
    }

    fn series(prices: &[i64]) -> Series {
        let mut s = Series::default();
        for (i, &p) in prices.iter().enumerate() {
            s.push(i as u64 * 100 * MS, p, 100);
        }
        s
    }

    #[test]
    fn returns_mean_and_deviation() {
        assert!((Returns::Simple.of(100, 110) - 0.1).abs() < 1e-12);
        assert!((Returns::Log.of(100, 200) - 2f64.ln()).abs() < 1e-12);
        assert_eq!(mean(&[1.0, 2.0, 6.0]), 3.0);
        // Deviations −2, −1, 3: 14 / 2 = 7.
        assert!((std_dev(&[1.0, 2.0, 6.0]) - 7f64.sqrt()).abs() < 1e-12);
        let s = series(&[units(100), units(110), units(99)]);
        let r = s.returns(Returns::Simple);
        assert_eq!(r.len(), 2);
        assert!((r[0] - 0.1).abs() < 1e-12 && (r[1] + 0.1).abs() < 1e-12);
        let sigma = s.std_dev_of_returns(Returns::Simple, 3).unwrap();
        assert!((sigma - 0.02f64.sqrt()).abs() < 1e-12);
        // Fewer samples than asked, or than three: none.
        assert_eq!(s.std_dev_of_returns(Returns::Simple, 4), None);
        assert_eq!(series(&[1, 2]).std_dev_of_returns(Returns::Log, 0), None);
        assert_eq!(s.mean_gap_ns(), Some(100 * MS));
        assert_eq!(series(&[1]).mean_gap_ns(), None);
        assert_eq!(Series::default().mean_gap_ns(), None);
    }

    #[test]
    fn a_series_is_bounded_and_restarts_when_the_clock_steps_back() {
        let mut s = Series::default();
        assert!(s.is_empty() && s.due(0, 100));
        for i in 0..5 {
            s.push(i * 10, 100 + i as i64, 3);
        }
        assert_eq!(
            s.samples().iter().copied().collect::<Vec<_>>(),
            [(20, 102), (30, 103), (40, 104)]
        );
        assert_eq!((s.len(), s.last_ts()), (3, Some(40)));
        assert!(!s.due(49, 10) && s.due(50, 10));
        // Back in time: due, and the series starts again.
        assert!(s.due(5, 10));
        s.push(5, 7, 3);
        assert_eq!(s.samples().iter().copied().collect::<Vec<_>>(), [(5, 7)]);
    }

    #[test]
    fn the_mid_is_the_touch_else_the_last_price() {
        let ctx = context(0);
        host::set_depth(testing::book_depth(
            0,
            &[(px("99"), units(1))],
            &[(px("101.5"), units(1))],
        ));
        assert_eq!(mid_price(&ctx, 0), Some(px("100.25")));
        // One side empty: the last price.
        host::set_depth(testing::book_depth(0, &[(px("99"), units(1))], &[]));
        assert_eq!(mid_price(&ctx, 0), Some(px("100")));
        // Neither: none.
        assert_eq!(mid_price(&ctx, 2), None);
    }

    #[test]
    fn windows_sample_at_most_once_per_sample_ns_and_stay_bounded() {
        let mut w = Windows::new(3, 100 * MS, 2);
        assert!(w.is_empty());
        w.sample_validation(&context(0), &[]);
        assert_eq!((w.len(), w[&0].len(), w[&1].len()), (2, 1, 1));
        w.sample_validation(&context(50), &[]);
        assert_eq!(w[&0].len(), 1);
        for ms in [100, 200, 300, 400] {
            w.sample_validation(&context(ms), &[]);
        }
        assert_eq!(w[&0].samples()[0], (200 * MS, px("100")));
        assert_eq!(w.get(0).map(Series::len), Some(3));
        // Full: a priced instrument is not taken, an ordered one displaces the oldest.
        let mut ctx = context(450);
        ctx.last_prices.push(crate::LastPrice {
            instrument: 2,
            price: px("40"),
        });
        w.sample(&ctx, 2, false);
        assert!(!w.contains_key(&2));
        w.sample(&ctx, 1, false);
        w.sample_validation(&ctx, &[testing::cancel(1, 2)]);
        assert!(!w.contains_key(&2));
        w.sample_validation(&ctx, &[testing::market(1, 2, crate::Side::Buy, units(1))]);
        assert!(w.contains_key(&2) && !w.contains_key(&0));
        assert_eq!(w.iter().map(|(id, _)| id).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn windows_round_trip_their_state() {
        let mut w = Windows::new(5, MS, 4);
        for ms in 0..5 {
            w.sample_validation(&context(ms), &[]);
        }
        let mut out = StateWriter::default();
        w.write(&mut out);
        let bytes = out.finish();
        let mut expected = StateWriter::default();
        expected.u32(2);
        for (id, price) in [(0, px("100")), (1, px("250"))] {
            expected.u32(id).u32(5);
            for ms in 0..5 {
                expected.u64(ms * MS).i64(price);
            }
        }
        assert_eq!(bytes, expected.finish());
        let mut r = StateReader::new(&bytes);
        assert_eq!(w.read(&mut r).unwrap(), w);
        r.finish().unwrap();
        // A smaller window keeps the newest; of too many instruments the latest
        // sampled stay (of a tie, the lowest id goes).
        let small = Windows::new(2, MS, 1);
        let mut r = StateReader::new(&bytes);
        let read = small.read(&mut r).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(
            read[&1].samples().iter().copied().collect::<Vec<_>>(),
            [(3 * MS, px("250")), (4 * MS, px("250"))]
        );
        // A price that is not positive.
        let mut bad = StateWriter::default();
        bad.u32(1).u32(7).u32(1).u64(0).i64(-4);
        let bad = bad.finish();
        let err = w.read(&mut StateReader::new(&bad)).unwrap_err();
        assert!(err.contains("of instrument 7 is not positive"), "{err}");
    }
}
