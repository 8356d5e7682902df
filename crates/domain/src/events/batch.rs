//! Batches of events as clients send them: a JSON array (`application/json`) or one JSON
//! object per line (`application/x-ndjson`).
//!
//! A batch is all or nothing: [`parse_batch`] returns every event or the first error, which
//! names where it is — for NDJSON the **1-based line number** (blank lines, including the one
//! after a trailing newline, are skipped but still counted, so the number matches an editor's),
//! for arrays the **0-based index** of the element — and the property at fault, e.g.
//! `line 17: EventType: must be one of opened, ...` or `index 16: OccurredAt: required`.
//!
//! At most [`MAX_BATCH_EVENTS`] events a batch. NDJSON lines are counted before any is
//! parsed, so an oversized batch is refused before any work on its events; in an array the
//! limit is noticed on reaching the element after the last allowed one, which is skipped
//! without being built, so an invalid event earlier in an oversized array is reported
//! first. A bound on the body's size in bytes is the HTTP layer's to set.
//!
//! Repeated `EventId`s are not looked for here; the store decides what is a duplicate.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, SeqAccess, Visitor};

use super::{CaseEvent, EventError};
use crate::json::{self, Checked, JsonError, Refusal};

/// The most events one batch may hold.
pub const MAX_BATCH_EVENTS: usize = 10_000;

/// How the events of a batch are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchFormat {
    /// One JSON array of event objects (`application/json`).
    JsonArray,
    /// One event object per line (`application/x-ndjson`); `\r\n` line ends are accepted.
    Ndjson,
}

/// Where in a batch an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    /// A line of an NDJSON batch, counted from 1.
    Line(usize),
    /// An element of a JSON array batch, counted from 0.
    Index(usize),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Index(n) => write!(f, "index {n}"),
        }
    }
}

/// Why a batch was refused; nothing in it is to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    /// The body holds no events.
    Empty,
    /// The body holds more than [`MAX_BATCH_EVENTS`] events.
    TooMany,
    /// The body (`JsonArray`) is JSON but not an array.
    NotAnArray,
    /// The body, or one line of it, is not valid JSON.
    NotJson {
        /// The NDJSON line; `None` for an array, whose message gives line and column.
        position: Option<Position>,
        /// The JSON parser's message.
        message: String,
    },
    /// The body, or one line of it, is JSON that the service refuses (see [`crate::json`]).
    Refused {
        /// Where the offending event is.
        position: Position,
        /// Which rule it breaks.
        reason: Refusal,
    },
    /// One event is invalid.
    Event {
        /// Where the event is.
        position: Position,
        /// What is wrong with it.
        error: EventError,
    },
}

impl BatchError {
    /// Where in the batch the error is, when it is in one place.
    pub fn position(&self) -> Option<Position> {
        match self {
            Self::NotJson { position, .. } => *position,
            Self::Event { position, .. } | Self::Refused { position, .. } => Some(*position),
            Self::Empty | Self::TooMany | Self::NotAnArray => None,
        }
    }

    /// The event property at fault, when one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Event { error, .. } => error.field(),
            _ => None,
        }
    }
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the batch has no events"),
            Self::TooMany => write!(
                f,
                "the batch has more than {MAX_BATCH_EVENTS} events; send at most \
                 {MAX_BATCH_EVENTS} events a batch"
            ),
            Self::NotAnArray => {
                f.write_str("the body must be a JSON array of events (or NDJSON, one event a line)")
            }
            Self::NotJson {
                position: Some(position),
                message,
            } => write!(f, "{position}: not valid JSON: {message}"),
            Self::NotJson {
                position: None,
                message,
            } => write!(f, "not valid JSON: {message}"),
            Self::Refused { position, reason } => write!(f, "{position}: {reason}"),
            Self::Event { position, error } => write!(f, "{position}: {error}"),
        }
    }
}

impl std::error::Error for BatchError {}

/// Parses a whole batch, in the order sent; the first problem refuses all of it.
pub fn parse_batch(body: &[u8], format: BatchFormat) -> Result<Vec<CaseEvent>, BatchError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BatchError::Empty);
    }
    match format {
        BatchFormat::JsonArray => parse_array(body),
        BatchFormat::Ndjson => parse_ndjson(body),
    }
}

fn parse_ndjson(body: &[u8]) -> Result<Vec<CaseEvent>, BatchError> {
    let lines = || {
        body.split(|&b| b == b'\n')
            .enumerate()
            .filter(|(_, line)| !line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')))
    };
    let count = lines().count();
    if count > MAX_BATCH_EVENTS {
        return Err(BatchError::TooMany);
    }
    let mut events = Vec::with_capacity(count);
    for (index, line) in lines() {
        let position = Position::Line(index + 1);
        let value = json::parse(line).map_err(|e| match e {
            JsonError::Syntax(e) => BatchError::NotJson {
                position: Some(position),
                message: without_line(&e),
            },
            JsonError::Refused(reason) => BatchError::Refused { position, reason },
        })?;
        let event =
            CaseEvent::from_json(&value).map_err(|error| BatchError::Event { position, error })?;
        events.push(event);
    }
    Ok(events)
}

/// The parser's message for one NDJSON line, whose "line 1" would contradict ours.
fn without_line(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&suffix) {
        Some(bare) => format!("{bare} at column {}", error.column()),
        None => message,
    }
}

fn parse_array(body: &[u8]) -> Result<Vec<CaseEvent>, BatchError> {
    let mut refusal = None;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed = ArraySeed {
        refusal: &mut refusal,
    }
    .deserialize(&mut deserializer)
    .and_then(|events| deserializer.end().map(|()| events));
    match (parsed, refusal) {
        (_, Some(refusal)) => Err(refusal),
        (Ok(events), None) if events.is_empty() => Err(BatchError::Empty),
        (Ok(events), None) => Ok(events),
        (Err(e), None) if e.is_data() => Err(BatchError::NotAnArray),
        (Err(e), None) => Err(BatchError::NotJson {
            position: None,
            message: e.to_string(),
        }),
    }
}

/// Reads an array one element at a time, building each event as soon as it is read, so no
/// tree of the whole body is ever held. A refusal is left in `refusal` and the parse stopped
/// with a placeholder error, since the JSON parser's error type cannot carry it.
struct ArraySeed<'r> {
    refusal: &'r mut Option<BatchError>,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_> {
    type Value = Vec<CaseEvent>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_> {
    type Value = Vec<CaseEvent>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut elements: A) -> Result<Self::Value, A::Error> {
        let mut events = Vec::new();
        loop {
            if events.len() == MAX_BATCH_EVENTS {
                if elements.next_element::<IgnoredAny>()?.is_some() {
                    *self.refusal = Some(BatchError::TooMany);
                    return Err(de::Error::custom("batch refused"));
                }
                return Ok(events);
            }
            let Some(Checked(value)) = elements.next_element::<Checked>()? else {
                return Ok(events);
            };
            let value = match value {
                Ok(value) => value,
                Err(reason) => {
                    let position = Position::Index(events.len());
                    *self.refusal = Some(BatchError::Refused { position, reason });
                    return Err(de::Error::custom("batch refused"));
                }
            };
            match CaseEvent::from_json(&value) {
                Ok(event) => events.push(event),
                Err(error) => {
                    let position = Position::Index(events.len());
                    *self.refusal = Some(BatchError::Event { position, error });
                    return Err(de::Error::custom("batch refused"));
                }
            }
        }
    }
}

// In `batch/tests.rs`, so that each file stays a size a reader takes in at once.
#[cfg(test)]
mod tests;
