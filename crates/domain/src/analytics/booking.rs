//! A booking: the effort or money one event reported, kept with its instant and team so that
//! it counts in the window in which it occurred.

use std::cmp::Ordering;

use rust_decimal::Decimal;

use crate::events::Label;
use crate::money::Amount;
use crate::record::Timestamp;

/// Effort or money reported by one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    pub(super) at: Timestamp,
    pub(super) effort_minutes: Option<f64>,
    pub(super) team: Option<Label>,
    pub(super) amount: Option<Amount>,
}

impl Booking {
    /// When the event occurred.
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// The minutes of effort reported, if any.
    pub fn effort_minutes(&self) -> Option<f64> {
        self.effort_minutes
    }

    /// The team the event named, if any (the case's team is used when it named none).
    pub fn team(&self) -> Option<&Label> {
        self.team.as_ref()
    }

    /// The amount reported, if any.
    pub fn amount(&self) -> Option<&Amount> {
        self.amount.as_ref()
    }

    /// A total order on bookings, so that a sorted list does not depend on arrival order.
    pub(super) fn order(&self, other: &Self) -> Ordering {
        fn amount(b: &Booking) -> Option<(Decimal, &str)> {
            b.amount.as_ref().map(|a| (a.value, a.currency.as_str()))
        }
        self.at
            .cmp(&other.at)
            .then_with(|| {
                let minutes = |b: &Self| b.effort_minutes.unwrap_or(-1.0);
                minutes(self).total_cmp(&minutes(other))
            })
            .then_with(|| self.team.cmp(&other.team))
            .then_with(|| amount(self).cmp(&amount(other)))
    }
}
