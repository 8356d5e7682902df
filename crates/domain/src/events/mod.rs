//! The case activity feed: what happened to each case, as clients report it.
//!
//! A [`CaseEvent`] says that something (a [`EventType`]) happened to a case at a moment,
//! with optional context — category, priority, channel, team, agent, effort, an amount and
//! an outcome — from which performance is computed. Events arrive in batches
//! ([`parse_batch`]), as a JSON array or as newline-delimited JSON, with at most
//! [`MAX_BATCH_EVENTS`] events each.
//!
//! The contract:
//!
//! - **Parse, don't validate.** [`CaseEvent::from_json`] turns one JSON object into a
//!   `CaseEvent` or an [`EventError`] naming the PascalCase property at fault; once a
//!   `CaseEvent` exists, every value in it is valid. Unknown properties are refused, so a
//!   misspelt `Eventtype` is an error rather than silently lost data.
//! - **All or nothing.** A batch parses whole or not at all: the first bad event aborts it
//!   with a [`BatchError`] naming its [`Position`] (1-based line for NDJSON, 0-based index for
//!   arrays) and the property.
//! - **Duplicates are the store's business.** `EventId` is unique per plan and makes re-sending
//!   a batch harmless, but this module does not look for repeats, not even within one batch:
//!   the store decides which `EventId`s it has already seen, ignores them and counts them.
//! - **Order does not matter.** Events may arrive out of order, across batches and within one;
//!   nothing here requires `OccurredAt` to increase or a case to be `opened` first. Whoever
//!   computes from events orders them by `OccurredAt`.
//!
//! Private modules do the parts: `text` (identifiers and labels), `kind` (event type and
//! priority), `when` (`OccurredAt`), `effort` (`EffortMinutes`), `error`, `event` (the whole
//! event) and `batch`.

mod batch;
mod effort;
mod error;
mod event;
mod kind;
mod text;
mod when;

pub use batch::{BatchError, BatchFormat, MAX_BATCH_EVENTS, Position, parse_batch};
pub use effort::{EffortMinutes, MAX_EFFORT_MINUTES};
pub use error::EventError;
pub use event::{CaseEvent, PROPERTIES};
pub use kind::{EventPriority, EventType};
pub use text::{CaseId, EventId, Label, MAX_ID_CHARS, MAX_LABEL_CHARS};
pub use when::{MAX_OCCURRED_AT_MICROS, parse_instant, parse_occurred_at};
