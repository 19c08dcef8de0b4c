//! The configured correlations: `SYMBOL:SYMBOL=value` pairs checked to make
//! a correlation matrix (symmetric, unit diagonal, positive semidefinite).

use std::collections::{BTreeMap, BTreeSet};

use tradsys_sdk::fixed;

use crate::MAX_INSTRUMENTS;

/// The pairs of `correlations`, keyed by [`pair_key`].
pub(crate) fn parse_correlations(text: &str) -> Result<BTreeMap<(String, String), f64>, String> {
    let mut pairs = BTreeMap::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((names, value)) = entry.split_once('=') else {
            return Err(format!("`{entry}` is not `SYMBOL:SYMBOL=value`"));
        };
        let Some((a, b)) = names.split_once(':') else {
            return Err(format!("`{entry}` is not `SYMBOL:SYMBOL=value`"));
        };
        let (a, b) = (a.trim(), b.trim());
        if a.is_empty() || b.is_empty() {
            return Err(format!("`{entry}` names no symbol"));
        }
        if a == b {
            return Err(format!(
                "`{entry}`: the correlation of {a} with itself is always 1"
            ));
        }
        let rho = fixed::parse(value)
            .map(fixed::to_f64)
            .filter(|r| (-1.0..=1.0).contains(r))
            .ok_or_else(|| format!("`{entry}`: the value must be a decimal from -1 to 1"))?;
        if pairs.insert(pair_key(a, b), rho).is_some() {
            return Err(format!("`{entry}`: the pair {a}:{b} is given twice"));
        }
    }
    let symbols: BTreeSet<&String> = pairs.keys().flat_map(|(a, b)| [a, b]).collect();
    if symbols.len() > MAX_INSTRUMENTS {
        return Err(format!(
            "{} symbols, at most {MAX_INSTRUMENTS}",
            symbols.len()
        ));
    }
    let symbols: Vec<&String> = symbols.into_iter().collect();
    let k = symbols.len();
    let mut matrix = vec![0.0; k * k];
    for a in 0..k {
        for b in 0..k {
            matrix[a * k + b] = if a == b {
                1.0
            } else {
                pairs
                    .get(&pair_key(symbols[a], symbols[b]))
                    .copied()
                    .unwrap_or(0.0)
            };
        }
    }
    if !positive_semidefinite(&matrix, k) {
        return Err(
            "the pairs do not make a correlation matrix (not positive semidefinite)".to_string(),
        );
    }
    Ok(pairs)
}

/// Whether the symmetric `k`×`k` matrix is positive semidefinite (to rounding): a
/// Cholesky factorisation of it plus a tiny ridge succeeds.
pub(crate) fn positive_semidefinite(matrix: &[f64], k: usize) -> bool {
    const RIDGE: f64 = 1e-9;
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let mut sum = matrix[i * k + j] + if i == j { RIDGE } else { 0.0 };
            for m in 0..j {
                sum -= l[i * k + m] * l[j * k + m];
            }
            if i == j {
                if sum <= 0.0 {
                    return false;
                }
                l[i * k + i] = sum.sqrt();
            } else {
                l[i * k + j] = sum / l[j * k + j];
            }
        }
    }
    true
}

/// The key of a symbol pair: the smaller symbol first.
pub(crate) fn pair_key(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}
