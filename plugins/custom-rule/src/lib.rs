//! Custom-rule: a pre-trade risk validator whose rules are written in the config, as
//! expressions over the order and the strategy's context.
//!
//! Every submit and modify must make every rule true; the first rule that is false
//! refuses the command (`Other`), naming the rule's number and text and the values of
//! the variables it read. Cancels always pass: they only ever reduce risk. An order on
//! an instrument the host never defined is refused with `InvalidOrder`.
//!
//! The expressions are [`evalexpr`]'s (version 11): arithmetic `+ - * / % ^`,
//! comparisons `== != < <= > >=`, `&&`, `||`, `!`, parentheses, string literals in
//! double quotes, `true` and `false`, tuples `("SYN-A", "SYN-B")`, and these
//! functions: `min`, `max`, `floor`, `round`, `ceil`, `if(cond, a, b)`,
//! `contains(tuple, value)`, `contains_any(tuple, tuple)`, `typeof`, `math::abs`,
//! `math::sqrt`, `math::cbrt`, `math::pow`, `math::hypot`, `math::ln`, `math::log`,
//! `math::log2`, `math::log10`, `math::exp`, `math::exp2`, `math::is_nan`,
//! `math::is_finite`, `str::to_lowercase`, `str::to_uppercase` and `str::trim`.
//! Two departures from plain evalexpr, so rules read as one expects:
//!
//! - **every number is a float**: integer literals are read as floats, so
//!   `quantity == 100` compares like numbers (evalexpr's `==` would find the float
//!   `100.0` unequal to the integer `100`) and `/` always divides exactly;
//! - **`&&` and `||` short-circuit** (as in Rust): the right side is evaluated only
//!   when the left does not decide, so `order_type == "limit" || last_price > 0` can
//!   guard a variable that may have no value (`!` passes the short-circuit through;
//!   `if(cond, a, b)` is a function and evaluates all three arguments).
//!
//! # Variables
//!
//! | variable       | type   | value                                                           |
//! |----------------|--------|-----------------------------------------------------------------|
//! | `notional`     | float  | \|`price` × `quantity`\| × the instrument's multiplier            |
//! | `quantity`     | float  | quantity in units (a modify: its new total quantity)             |
//! | `price`        | float  | limit price (a modify: its new price; a market order: `last_price`) |
//! | `side`         | string | `"buy"` or `"sell"` (a modify: the side of the order it modifies) |
//! | `position`     | float  | the strategy's net position in the instrument, units (short < 0) |
//! | `instrument`   | string | the instrument's symbol, e.g. `"SYN-A"`                          |
//! | `last_price`   | float  | the instrument's last price                                     |
//! | `hour`         | float  | hour of the host clock (`ctx.now`), UTC, 0–23                    |
//! | `minute`       | float  | minute of that hour, 0–59                                       |
//! | `open_orders`  | float  | the strategy's working orders (every instrument), see below     |
//! | `realized_pnl` | float  | the strategy's realized profit and loss, in price units          |
//! | `order_type`   | string | `"limit"` or `"market"` (a modify: `"limit"`)                    |
//! | `is_modify`    | bool   | whether the command is a modify                                  |
//!
//! Some variables can have no value: `last_price` before the instrument's first price
//! (and with it `price` and `notional` of a market order), and `side` of a modify of an
//! order that is not working. A rule that reads a variable without a value cannot be
//! decided and refuses the order (fail closed), unless a short-circuit skips the read.
//!
//! Orders of one batch count in order for `open_orders`: a submit approved earlier in
//! the batch counts as working for the commands after it, a canceled order stops
//! counting, and a modify finds its order among them. A command does not count
//! itself, so `open_orders < 20` lets the twentieth working order through.
//! Positions change only with fills, so `position` is the context's for every command
//! of a batch.
//!
//! # Config keys
//!
//! | key     | meaning                                              | default           |
//! |---------|------------------------------------------------------|-------------------|
//! | `rules` | the rules, separated by `;` (outside string literals) | [`DEFAULT_RULES`] |
//!
//! Whitespace and line breaks inside a rule are free and an empty rule (a trailing
//! `;`) is skipped; rules are numbered from 1 in the order written. The plugin config
//! holds strings only, so the rules are one string; in the host's TOML a multi-line
//! string reads well:
//!
//! ```toml
//! [plugins.custom-rule.config]
//! rules = """
//!     notional <= 60000;
//!     side == "sell" || position + quantity <= 500;
//!     hour < 21 || is_modify
//! """
//! ```
//!
//! `new` parses every rule and refuses the config, naming the rule's number and text,
//! when a rule does not parse, reads a variable or calls a function not listed above,
//! assigns to anything, or does not give `true` or `false` for a sample order (a buy
//! of 1 unit at 100 and a modify of a sell, every variable with a value). At run time a
//! rule that errors or gives something other than `true` or `false` refuses the order
//! (fail closed), naming the rule and the error. Any other key is refused as well.
//!
//! The default rules suit the synthetic market (prices 40–250, lots of 1 unit, most
//! orders of 100 units, some of 200 to 600): `notional <= 40000` refuses SYN-B orders
//! (about 250) from 161 units up (in the demo session 30 to 40 of some 450), and lets
//! through every order of SYN-A (about 100) and SYN-C (about 40) that the other two
//! allow. Those refuse an order that would take the position beyond 400 units long or
//! short, and never one that reduces it (a backstop: with `position-limit`'s 300 in the
//! chain they rarely decide).
//!
//! The validator keeps no state between calls: its verdicts depend only on the config
//! and the context.

use evalexpr::{
    Context, EvalexprError, EvalexprResult, Node, Operator, Value, build_operator_tree,
};
use tradsys_sdk::{
    Config, InstrumentDefinition, OrderCommand, OrderType, RejectReason, Rejection, RiskContext,
    RiskValidator, Side, Verdict, fixed,
};

/// The default `rules`: a notional cap that refuses the largest demo orders, and a
/// cap of 400 units on the position an order could leave long or short.
pub const DEFAULT_RULES: &str = "notional <= 40000; \
     side == \"sell\" || position + quantity <= 400; \
     side == \"buy\" || position - quantity >= -400";

/// The variables a rule may read, in the order of [`Vars::values`].
const VARIABLES: [&str; 13] = [
    "notional",
    "quantity",
    "price",
    "side",
    "position",
    "instrument",
    "last_price",
    "hour",
    "minute",
    "open_orders",
    "realized_pnl",
    "order_type",
    "is_modify",
];

/// Index of each variable in [`VARIABLES`].
const NOTIONAL: usize = 0;
const QUANTITY: usize = 1;
const PRICE: usize = 2;
const SIDE: usize = 3;
const POSITION: usize = 4;
const INSTRUMENT: usize = 5;
const LAST_PRICE: usize = 6;
const HOUR: usize = 7;
const MINUTE: usize = 8;
const OPEN_ORDERS: usize = 9;
const REALIZED_PNL: usize = 10;
const ORDER_TYPE: usize = 11;
const IS_MODIFY: usize = 12;

/// The evalexpr built-in functions a rule may call: those that work on floats and
/// strings (the integer-only ones would always fail, every number being a float).
const FUNCTIONS: [&str; 25] = [
    "min",
    "max",
    "floor",
    "round",
    "ceil",
    "if",
    "contains",
    "contains_any",
    "typeof",
    "math::abs",
    "math::sqrt",
    "math::cbrt",
    "math::pow",
    "math::hypot",
    "math::ln",
    "math::log",
    "math::log2",
    "math::log10",
    "math::exp",
    "math::exp2",
    "math::is_nan",
    "math::is_finite",
    "str::to_lowercase",
    "str::to_uppercase",
    "str::trim",
];

/// Nanoseconds per minute and per hour, for `hour` and `minute`.
const NANOS_PER_MINUTE: u64 = 60 * 1_000_000_000;
const NANOS_PER_HOUR: u64 = 60 * NANOS_PER_MINUTE;

/// One compiled rule.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    /// Its number, from 1 in the order written.
    number: usize,
    /// Its text as written (trimmed).
    text: String,
    /// The expression, integer literals made floats.
    tree: Node,
    /// Indexes into [`VARIABLES`] of the variables it reads, each once, in that order.
    reads: Vec<usize>,
}

/// The validator. Config key (see the crate docs): `rules` (default [`DEFAULT_RULES`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomRule {
    rules: Vec<Rule>,
}

/// The values of the variables for one command, and why the missing ones are missing.
struct Vars {
    values: [Option<Value>; VARIABLES.len()],
    /// For a variable without a value: why, for the message.
    missing: [Option<String>; VARIABLES.len()],
}

impl Context for Vars {
    fn get_value(&self, identifier: &str) -> Option<&Value> {
        let index = VARIABLES.iter().position(|&v| v == identifier)?;
        self.values[index].as_ref()
    }

    fn call_function(&self, identifier: &str, _argument: &Value) -> EvalexprResult<Value> {
        // No functions of its own: evalexpr then calls its built-in of that name.
        Err(EvalexprError::FunctionIdentifierNotFound(
            identifier.to_string(),
        ))
    }

    fn are_builtin_functions_disabled(&self) -> bool {
        false
    }

    fn set_builtin_functions_disabled(&mut self, disabled: bool) -> EvalexprResult<()> {
        if disabled {
            Err(EvalexprError::BuiltinFunctionsCannotBeDisabled)
        } else {
            Ok(())
        }
    }
}

impl Vars {
    fn empty() -> Self {
        Self {
            values: Default::default(),
            missing: Default::default(),
        }
    }

    fn set(&mut self, index: usize, value: Value) {
        self.values[index] = Some(value);
    }

    fn unset(&mut self, index: usize, why: String) {
        self.values[index] = None;
        self.missing[index] = Some(why);
    }

    /// A sample order with every variable set, to try each rule on in `new`.
    fn sample(is_modify: bool) -> Self {
        let mut vars = Self::empty();
        let (side, order_type) = if is_modify {
            ("sell", "limit")
        } else {
            ("buy", "limit")
        };
        vars.set(NOTIONAL, Value::Float(100.0));
        vars.set(QUANTITY, Value::Float(1.0));
        vars.set(PRICE, Value::Float(100.0));
        vars.set(SIDE, Value::String(side.to_string()));
        vars.set(POSITION, Value::Float(0.0));
        vars.set(INSTRUMENT, Value::String("SAMPLE".to_string()));
        vars.set(LAST_PRICE, Value::Float(100.0));
        vars.set(HOUR, Value::Float(12.0));
        vars.set(MINUTE, Value::Float(0.0));
        vars.set(OPEN_ORDERS, Value::Float(0.0));
        vars.set(REALIZED_PNL, Value::Float(0.0));
        vars.set(ORDER_TYPE, Value::String(order_type.to_string()));
        vars.set(IS_MODIFY, Value::Boolean(is_modify));
        vars
    }

    /// ` (name = value, ...)` of the variables `rule` reads, for messages; empty when
    /// it reads none.
    fn figures(&self, rule: &Rule) -> String {
        if rule.reads.is_empty() {
            return String::new();
        }
        let figures: Vec<String> = rule
            .reads
            .iter()
            .map(|&i| match &self.values[i] {
                Some(value) => format!("{} = {value}", VARIABLES[i]),
                None => format!("{} has no value", VARIABLES[i]),
            })
            .collect();
        format!(" ({})", figures.join(", "))
    }
}

/// A working order as far as this batch knows it.
struct Working {
    id: u64,
    instrument: u32,
    side: Side,
}

/// Evaluate `node`, with `&&` and `||` short-circuiting (see the crate docs); every
/// other operator is evalexpr's own.
fn eval(node: &Node, vars: &Vars) -> EvalexprResult<Value> {
    let children = node.children();
    match (node.operator(), children) {
        (Operator::RootNode, [inner]) => eval(inner, vars),
        (Operator::Not, [inner]) => Ok(Value::Boolean(!boolean(eval(inner, vars)?)?)),
        (operator @ (Operator::And | Operator::Or), [left, right]) => {
            let left = boolean(eval(left, vars)?)?;
            if left == matches!(operator, Operator::Or) {
                return Ok(Value::Boolean(left));
            }
            Ok(Value::Boolean(boolean(eval(right, vars)?)?))
        }
        _ => node.eval_with_context(vars),
    }
}

fn boolean(value: Value) -> EvalexprResult<bool> {
    match value {
        Value::Boolean(b) => Ok(b),
        actual => Err(EvalexprError::ExpectedBoolean { actual }),
    }
}

/// Make every integer literal a float (see the crate docs).
fn integers_to_floats(node: &mut Node) {
    if let Operator::Const { value } = node.operator_mut()
        && let Value::Int(int) = *value
    {
        *value = Value::Float(int as f64);
    }
    for child in node.children_mut() {
        integers_to_floats(child);
    }
}

/// Split the `rules` text at every `;` outside a double-quoted string literal (where
/// `\"` and `\\` are escapes), trimming each part and dropping empty ones.
fn split_rules(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_string, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ';' {
            parts.push(&text[start..i]);
            start = i + 1;
        }
    }
    parts.push(&text[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect()
}

/// Parse and check rule `number` (see the crate docs).
fn compile(number: usize, text: &str) -> Result<Rule, String> {
    let what = || format!("config `rules`: rule {number} `{text}`");
    let mut tree = build_operator_tree(text)
        .map_err(|e| format!("{}: does not parse: {}", what(), error_text(&e)))?;
    if let Some(name) = tree.iter_write_variable_identifiers().next() {
        return Err(format!(
            "{}: assigns to `{name}`; a rule only reads (use `==` to compare)",
            what()
        ));
    }
    if let Some(name) = tree
        .iter_function_identifiers()
        .find(|f| !FUNCTIONS.contains(f))
    {
        return Err(format!(
            "{}: unknown function `{name}` (functions: {})",
            what(),
            FUNCTIONS.join(", ")
        ));
    }
    let mut reads = Vec::new();
    for name in tree.iter_read_variable_identifiers() {
        let Some(index) = VARIABLES.iter().position(|&v| v == name) else {
            return Err(format!(
                "{}: unknown variable `{name}` (variables: {}; strings are written in \
                 double quotes)",
                what(),
                VARIABLES.join(", ")
            ));
        };
        if !reads.contains(&index) {
            reads.push(index);
        }
    }
    reads.sort_unstable();
    integers_to_floats(&mut tree);
    let rule = Rule {
        number,
        text: text.to_string(),
        tree,
        reads,
    };
    for sample in [Vars::sample(false), Vars::sample(true)] {
        match eval(&rule.tree, &sample) {
            Ok(Value::Boolean(_)) => {}
            Ok(other) => {
                return Err(format!(
                    "{}: gives {other} for a sample order, not true or false",
                    what()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "{}: fails for a sample order{}: {}",
                    what(),
                    sample.figures(&rule),
                    error_text(&e)
                ));
            }
        }
    }
    Ok(rule)
}

/// An evalexpr error as a sentence without its final full stop.
fn error_text(error: &EvalexprError) -> String {
    error.to_string().trim_end_matches('.').to_string()
}

impl CustomRule {
    /// The verdict for one command; `working` is the strategy's working orders as
    /// this batch has left them, updated when a submit is approved or a cancel seen.
    fn check(
        &self,
        context: &RiskContext,
        working: &mut Vec<Working>,
        command: &OrderCommand,
    ) -> Verdict {
        let instrument = command.instrument();
        if let OrderCommand::Cancel(c) = command {
            // Never block a risk-reducing action; its order stops counting.
            working.retain(|w| !(w.id == c.id && w.instrument == c.instrument));
            return Verdict::Approve;
        }
        let Some(def) = context.instruments.iter().find(|d| d.id == instrument) else {
            return Verdict::Reject(Rejection {
                reason: RejectReason::InvalidOrder,
                message: Some(format!("unknown instrument {instrument}")),
            });
        };
        let vars = variables(context, working, command, def);
        for rule in &self.rules {
            let failure = match eval(&rule.tree, &vars) {
                Ok(Value::Boolean(true)) => continue,
                Ok(Value::Boolean(false)) => format!(
                    "rule {} `{}` is false for {}{}",
                    rule.number,
                    rule.text,
                    describe(command, def),
                    vars.figures(rule)
                ),
                Ok(other) => format!(
                    "rule {} `{}` gives {other}, not true or false, for {}{}: \
                     refused (fail closed)",
                    rule.number,
                    rule.text,
                    describe(command, def),
                    vars.figures(rule)
                ),
                Err(e) => format!(
                    "rule {} `{}` cannot be evaluated for {}: {}: refused (fail closed)",
                    rule.number,
                    rule.text,
                    describe(command, def),
                    explain(&e, &vars)
                ),
            };
            return Verdict::Reject(Rejection {
                reason: RejectReason::Other,
                message: Some(failure),
            });
        }
        if let OrderCommand::Submit(o) = command {
            working.push(Working {
                id: o.id,
                instrument: o.instrument,
                side: o.side,
            });
        }
        Verdict::Approve
    }
}

/// The variables of a submit or modify (see the crate docs).
fn variables(
    context: &RiskContext,
    working: &[Working],
    command: &OrderCommand,
    def: &InstrumentDefinition,
) -> Vars {
    let mut vars = Vars::empty();
    let instrument = def.id;
    let last = context
        .last_prices
        .iter()
        .find(|p| p.instrument == instrument)
        .map(|p| p.price);
    let no_last = || format!("no last price for {} yet", def.symbol);
    let (side, order_type, price, quantity, is_modify) = match command {
        OrderCommand::Submit(o) => (
            Ok(o.side),
            o.order_type,
            match o.order_type {
                OrderType::Limit => Some(o.price),
                OrderType::Market => last,
            },
            o.quantity,
            false,
        ),
        OrderCommand::Modify(m) => (
            working
                .iter()
                .find(|w| w.id == m.id && w.instrument == m.instrument)
                .map(|w| w.side)
                .ok_or_else(|| format!("order {} is not working", m.id)),
            OrderType::Limit,
            Some(m.price),
            m.quantity,
            true,
        ),
        OrderCommand::Cancel(_) => unreachable!("cancels are approved before"),
    };
    match side {
        Ok(side) => vars.set(SIDE, Value::String(side_name(side).to_string())),
        Err(why) => vars.unset(SIDE, why),
    }
    vars.set(QUANTITY, units(i128::from(quantity)));
    match price {
        Some(price) => {
            // Exact in i128 unless absurdly large, then as floats (no overflow).
            let notional = fixed::notional(price, quantity);
            let notional = match notional.checked_mul(i128::from(def.multiplier)) {
                Some(exact) => exact.unsigned_abs() as f64 / fixed::SCALE as f64,
                None => (notional as f64 * def.multiplier as f64 / fixed::SCALE as f64).abs(),
            };
            vars.set(PRICE, units(i128::from(price)));
            vars.set(NOTIONAL, Value::Float(notional));
        }
        None => {
            let why = format!("{} (a market order is valued at it)", no_last());
            vars.unset(PRICE, why.clone());
            vars.unset(NOTIONAL, why);
        }
    }
    match last {
        Some(last) => vars.set(LAST_PRICE, units(i128::from(last))),
        None => vars.unset(LAST_PRICE, no_last()),
    }
    let position: i128 = context
        .positions
        .iter()
        .filter(|p| p.instrument == instrument)
        .map(|p| i128::from(p.quantity))
        .sum();
    vars.set(POSITION, units(position));
    vars.set(INSTRUMENT, Value::String(def.symbol.clone()));
    vars.set(
        HOUR,
        Value::Float(((context.now / NANOS_PER_HOUR) % 24) as f64),
    );
    vars.set(
        MINUTE,
        Value::Float(((context.now / NANOS_PER_MINUTE) % 60) as f64),
    );
    vars.set(OPEN_ORDERS, Value::Float(working.len() as f64));
    vars.set(
        REALIZED_PNL,
        units(i128::from(context.account.realized_pnl)),
    );
    vars.set(
        ORDER_TYPE,
        Value::String(
            match order_type {
                OrderType::Limit => "limit",
                OrderType::Market => "market",
            }
            .to_string(),
        ),
    );
    vars.set(IS_MODIFY, Value::Boolean(is_modify));
    vars
}

/// A fixed-point amount as a float in units.
fn units(value: i128) -> Value {
    Value::Float(value as f64 / fixed::SCALE as f64)
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// The command in words, for messages: `buy 100 SYN-A at 100.25`.
fn describe(command: &OrderCommand, def: &InstrumentDefinition) -> String {
    let quantity = |q: i64| fixed::format_exact(i128::from(q), def.size_precision);
    let price = |p: i64| fixed::format_exact(i128::from(p), def.price_precision);
    match command {
        OrderCommand::Submit(o) => match o.order_type {
            OrderType::Limit => format!(
                "{} {} {} at {}",
                side_name(o.side),
                quantity(o.quantity),
                def.symbol,
                price(o.price)
            ),
            OrderType::Market => format!(
                "{} {} {} at market",
                side_name(o.side),
                quantity(o.quantity),
                def.symbol
            ),
        },
        OrderCommand::Modify(m) => format!(
            "modify of order {} of {} to {} at {}",
            m.id,
            def.symbol,
            quantity(m.quantity),
            price(m.price)
        ),
        OrderCommand::Cancel(c) => format!("cancel of order {}", c.id),
    }
}

/// A run-time error in words: a variable without a value says why it has none.
fn explain(error: &EvalexprError, vars: &Vars) -> String {
    if let EvalexprError::VariableIdentifierNotFound(name) = error
        && let Some(index) = VARIABLES.iter().position(|v| v == name)
        && let Some(why) = &vars.missing[index]
    {
        return format!("`{name}` has no value: {why}");
    }
    error_text(error)
}

impl RiskValidator for CustomRule {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["rules"])?;
        let text = config.get("rules").unwrap_or(DEFAULT_RULES);
        let rules = split_rules(text)
            .into_iter()
            .enumerate()
            .map(|(i, rule)| compile(i + 1, rule))
            .collect::<Result<Vec<_>, _>>()?;
        if rules.is_empty() {
            return Err(
                "config `rules`: no rule given (disable the plugin to check nothing)".to_string(),
            );
        }
        Ok(Self { rules })
    }

    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    ) {
        let mut working: Vec<Working> = context
            .open_orders
            .iter()
            .map(|o| Working {
                id: o.id,
                instrument: o.instrument,
                side: o.side,
            })
            .collect();
        for order in orders {
            let verdict = self.check(context, &mut working, order);
            verdicts.push(verdict);
        }
    }
}

tradsys_sdk::export_risk_validator!(CustomRule);

#[cfg(test)]
mod tests;
