//! The forecast of daily arrivals from the history's daily series.
//!
//! 1. **Prepare.** Past holidays that fell on a usual working day of the week are replaced by
//!    the mean of that day of the week over the other days (a closed day says nothing about
//!    demand), and days above three times the 95th percentile are capped at it, so that one
//!    mass event (a card outage) does not bend the trend for weeks.
//! 2. **Model.** With at least [`MIN_MODEL_DAYS`] days: MSTL (`augurs-mstl`) splits the series
//!    into a weekly pattern (period 7) and a trend, AutoETS (`augurs-ets`: the best by AICc of
//!    the non-seasonal ETS forms with additive errors) forecasts the trend, and the two are
//!    put back together, with a [`PREDICTION_LEVEL`] interval. Shorter histories, or a model
//!    that fails or gives a non-finite figure, fall back to the **mean per day of the week**
//!    (days of the week not seen take the mean over all days), flat and without an interval.
//!    No arrivals at all give zeros.
//! 3. **Bound.** Figures are clamped to `[0, 3 × the largest prepared day]`: arrivals are never
//!    negative, and a trend cannot run away over a long horizon.
//!
//! The same series gives the same forecast: with additive errors neither model draws random
//! numbers.

use std::panic::{AssertUnwindSafe, catch_unwind};

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::prelude::*;

use super::projections::Method;
use super::{MIN_MODEL_DAYS, PREDICTION_LEVEL};

/// Daily figures for the horizon, before the calendar is applied.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Forecast {
    pub method: Method,
    pub point: Vec<f64>,
    /// Lower and upper bounds, when the method gives them.
    pub bounds: Option<(Vec<f64>, Vec<f64>)>,
}

/// One day of the history: its arrivals, day of the week (Monday zero), and whether it was
/// a holiday on a day of the week that usually works.
#[derive(Debug, Clone, Copy)]
pub(super) struct Observed {
    pub arrivals: f64,
    pub weekday: usize,
    pub closed: bool,
}

/// Forecasts `horizon` days following `history`; `first_weekday` is the day of the week of
/// the first of them.
pub(super) fn forecast(history: &[Observed], horizon: usize, first_weekday: usize) -> Forecast {
    if history.iter().all(|d| d.arrivals <= 0.0) {
        return Forecast {
            method: Method::None,
            point: vec![0.0; horizon],
            bounds: None,
        };
    }
    let series = prepare(history);
    let ceiling = 3.0 * series.iter().copied().fold(0.0, f64::max);
    let bound = |v: f64| v.clamp(0.0, ceiling);
    let modelled = (series.len() >= MIN_MODEL_DAYS)
        .then(|| mstl_ets(&series, horizon))
        .flatten();
    match modelled {
        Some((point, low, high)) => {
            let point: Vec<f64> = point.into_iter().map(bound).collect();
            let low = low.into_iter().zip(&point).map(|(l, p)| bound(l).min(*p));
            let high = high.into_iter().zip(&point).map(|(h, p)| bound(h).max(*p));
            Forecast {
                method: Method::MstlEts,
                bounds: Some((low.collect(), high.collect())),
                point,
            }
        }
        None => {
            let means = weekday_means(history, &series);
            Forecast {
                method: Method::WeekdayMean,
                point: (0..horizon)
                    .map(|i| bound(means[(first_weekday + i) % 7]))
                    .collect(),
                bounds: None,
            }
        }
    }
}

/// The series with past holidays filled in and outliers capped; see the module docs.
fn prepare(history: &[Observed]) -> Vec<f64> {
    let means = weekday_means(history, &[]);
    let mut series: Vec<f64> = history
        .iter()
        .map(|d| {
            if d.closed {
                means[d.weekday]
            } else {
                d.arrivals
            }
        })
        .collect();
    let mut sorted = series.clone();
    sorted.sort_unstable_by(f64::total_cmp);
    // Nearest rank: the smallest value with at least 95% of the values at or below it.
    let rank = (sorted.len() * 95).div_ceil(100).max(1) - 1;
    let p95 = sorted.get(rank).copied().unwrap_or(0.0);
    if p95 > 0.0 {
        for v in &mut series {
            *v = v.min(3.0 * p95);
        }
    }
    series
}

/// The mean per day of the week over the days that were not closed, from `values` when
/// given (same length as `history`) or the history's arrivals; a day of the week never seen
/// takes the mean over all such days.
fn weekday_means(history: &[Observed], values: &[f64]) -> [f64; 7] {
    let mut sums = [(0.0, 0u32); 7];
    let mut all = (0.0, 0u32);
    for (i, d) in history.iter().enumerate().filter(|(_, d)| !d.closed) {
        let v = values.get(i).copied().unwrap_or(d.arrivals);
        sums[d.weekday % 7].0 += v;
        sums[d.weekday % 7].1 += 1;
        all.0 += v;
        all.1 += 1;
    }
    let overall = if all.1 > 0 {
        all.0 / f64::from(all.1)
    } else {
        0.0
    };
    sums.map(|(sum, n)| if n > 0 { sum / f64::from(n) } else { overall })
}

/// MSTL with a weekly period and an AutoETS trend; `None` when it fails or gives a figure
/// that is not finite. The models are third-party numerical code: should one panic on a
/// pathological series, the projection falls back instead of failing the request.
fn mstl_ets(series: &[f64], horizon: usize) -> Option<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let run = || {
        // Additive errors only ("AZN": additive error, no or additive (damped) trend, no
        // season): their prediction intervals are closed-form, whereas augurs simulates the
        // intervals of some multiplicative forms with a thread-local random generator.
        let trend = AutoETS::new(1, "AZN").ok()?.into_trend_model();
        let fit = MSTLModel::new(vec![7], trend).fit(series).ok()?;
        let forecast = fit.predict(horizon, PREDICTION_LEVEL).ok()?;
        let intervals = forecast.intervals?;
        let finite = |v: &[f64]| v.len() == horizon && v.iter().all(|x| x.is_finite());
        (finite(&forecast.point) && finite(&intervals.lower) && finite(&intervals.upper))
            .then_some((forecast.point, intervals.lower, intervals.upper))
    };
    catch_unwind(AssertUnwindSafe(run)).ok().flatten()
}
