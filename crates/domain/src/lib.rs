//! The Customer Case Management domain (BIAN v12), free of I/O.
//!
//! A **management plan** is the control record; under it live **case decision criteria**
//! (BIAN behaviour qualifier *Rules*) and **performance analyses** (*Performance*). Any of
//! the three can receive a **manual intervention request**. Everything here is pure: values
//! are parsed at the edge into the types below and, once built, are valid.

pub mod analytics;
pub mod criterion;
pub mod evaluation;
pub mod events;
pub mod fields;
pub mod forecast;
pub mod ids;
pub mod intervention;
pub mod json;
pub mod money;
pub mod page;
pub mod plan;
pub mod record;
pub mod staffing;

pub use evaluation::{
    BacktestRecord, EvaluationRecord, HistorySummary, NewBacktest, NewEvaluation,
};
pub use fields::{FieldError, Fields, MAX_FIELD_CHARS, RecordKind};
pub use ids::{BacktestId, EvaluationId, IdError, InterventionId, PlanId, RecordId};
pub use intervention::{
    IllegalTransition, Intervention, InterventionStatus, NewIntervention, Subject, TEXT_MAX_CHARS,
    Transition,
};
pub use money::{Amount, AmountError};
pub use page::{Page, PageError, PageRequest, PageSize};
pub use record::{
    Change, ChildKind, ChildRecord, Plan, RecordMeta, RecordVersion, Timestamp, Version, WriteMode,
};
