//! Case decision criteria that run.
//!
//! A BIAN *Rules* record describes a criterion in free text. caseload adds settings a machine
//! can apply: a boolean [CEL](https://cel.dev) [`Expression`] over a case's facts, named
//! [`Parameters`] (thresholds) the expression refers to, the decision a true result means and
//! the decision otherwise, and the criterion's priority among the plan's criteria.
//!
//! - [`expression`]: compiling with static checks (syntax, unknown parameters, a boolean
//!   result, bounded cost) and evaluating with an explanation of each sub-condition;
//! - [`settings`]: the settings as clients send them, validated together;
//! - [`backtest`]: replaying recorded cases under current and proposed settings.
//!
//! Private modules beside [`expression`] do its work; its module doc says which does what.

pub mod backtest;
mod check;
mod compile;
mod cost;
mod evaluate;
pub mod expression;
mod facts;
mod names;
pub mod settings;
mod size;
mod span;
#[cfg(test)]
mod test_support;
mod value;

pub use backtest::{Backtest, BacktestCase, Flip};
pub use expression::{Condition, Evaluation, EvaluationError, Expression, ExpressionError};
pub use settings::{CriterionSettings, Parameters, SettingsError};
