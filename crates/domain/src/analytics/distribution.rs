//! Distributions of one window: exact nearest-rank percentiles without sorting everything.
//!
//! The p-th percentile of `n` values is the value at rank `⌈p × n / 100⌉` (1-based) in
//! ascending order — always a value that occurred. Each percentile is found by selection
//! (`select_nth_unstable`, expected linear time), the later ones within the part above the
//! earlier, so three percentiles cost little more than one.

use super::statistics::{Durations, EffortPerCase};

const MICROS_PER_HOUR: f64 = 3_600_000_000.0;

/// Zero-based indices of the nearest-rank 50th, 90th and 95th percentiles of `n > 0` values.
fn ranks(n: usize, percents: &[usize]) -> impl Iterator<Item = usize> + '_ {
    percents
        .iter()
        .map(move |p| (p * n).div_ceil(100).clamp(1, n) - 1)
}

/// Nearest-rank percentiles of `values` (reordered in the process), in ascending order of
/// `percents`; expected linear time.
fn percentiles<T: Copy>(
    values: &mut [T],
    percents: &[usize],
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering + Copy,
) -> Vec<Option<T>> {
    if values.is_empty() {
        return vec![None; percents.len()];
    }
    let mut done = 0;
    ranks(values.len(), percents)
        .map(|rank| {
            // Everything before `done` is already at most the values after it.
            let (_, value, _) = values[done..].select_nth_unstable_by(rank - done, cmp);
            let value = *value;
            done = rank;
            Some(value)
        })
        .collect()
}

pub(super) fn durations(micros: &mut [i64]) -> Durations {
    let hours = |m: Option<i64>| m.map(|m| m as f64 / MICROS_PER_HOUR);
    let mean = (!micros.is_empty())
        .then(|| micros.iter().map(|&m| m as f64).sum::<f64>() / micros.len() as f64);
    let p = percentiles(micros, &[50, 90, 95], i64::cmp);
    Durations {
        cases: micros.len() as u64,
        p50: hours(p[0]),
        p90: hours(p[1]),
        p95: hours(p[2]),
        mean: mean.map(|m| m / MICROS_PER_HOUR),
    }
}

pub(super) fn effort(minutes: &mut [f64]) -> EffortPerCase {
    let total: f64 = minutes.iter().sum();
    let p = percentiles(minutes, &[50, 90], f64::total_cmp);
    EffortPerCase {
        cases: minutes.len() as u64,
        total_minutes: total,
        mean_minutes: (!minutes.is_empty()).then(|| total / minutes.len() as f64),
        p50_minutes: p[0],
        p90_minutes: p[1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_pick_actual_values() {
        let mut values: Vec<i64> = (1..=20).rev().collect();
        let p = percentiles(&mut values, &[50, 90, 95], i64::cmp);
        assert_eq!(p, [Some(10), Some(18), Some(19)]);
        let mut one = [7_i64];
        assert_eq!(
            percentiles(&mut one, &[50, 95], i64::cmp),
            [Some(7), Some(7)]
        );
        let mut none: [i64; 0] = [];
        assert_eq!(percentiles(&mut none, &[50], i64::cmp), [None]);
    }
}
