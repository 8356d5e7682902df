//! The bounds the cost estimate works in: a [`Linear`] function of the weight of the item a
//! comprehension is at, and a value's [`Size`] (how many items, how much to copy or scan).

use serde_json::Value as Json;

use super::expression::{MAX_FACT_LIST, MAX_FACT_TEXT, MAX_FACT_VALUES};

/// Characters of text that count as one step.
const TEXT_PER_STEP: u64 = 64;
/// Weight of any value taken from the facts, in steps: the most
/// [`check_facts`](super::facts::check_facts) allows.
pub(super) const FACT_WEIGHT: u64 = MAX_FACT_VALUES as u64 + MAX_FACT_TEXT as u64 / TEXT_PER_STEP;

/// `fixed + per * w`, where `w` is the weight of the item a comprehension is at: within one
/// comprehension the items' weights add up to at most the weight of the whole range, so a
/// cost linear in `w` sums over the iterations without multiplying by the number of items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Linear {
    /// The part that does not depend on the item.
    pub(super) fixed: u64,
    /// The part per unit of the item's weight.
    pub(super) per: u64,
}

impl Linear {
    pub(super) const ONE: Self = Self::fixed(1);

    pub(super) const fn fixed(fixed: u64) -> Self {
        Self { fixed, per: 0 }
    }

    pub(super) fn plus(self, other: Self) -> Self {
        Self {
            fixed: self.fixed.saturating_add(other.fixed),
            per: self.per.saturating_add(other.per),
        }
    }

    /// An upper bound of both.
    pub(super) fn max(self, other: Self) -> Self {
        Self {
            fixed: self.fixed.max(other.fixed),
            per: self.per.max(other.per),
        }
    }

    /// The value when the item weighs `w`.
    pub(super) fn at(self, w: u64) -> u64 {
        self.fixed.saturating_add(self.per.saturating_mul(w))
    }

    /// The one of the two that is smaller on a large item: an upper bound of their minimum.
    pub(super) fn smaller(self, other: Self) -> Self {
        if self.at(FACT_WEIGHT) <= other.at(FACT_WEIGHT) {
            self
        } else {
            other
        }
    }
}

/// Upper bounds for one value: how many items it has (if a list or map), and its weight
/// (steps to copy or scan it whole).
#[derive(Debug, Clone, Copy)]
pub(super) struct Size {
    /// How many items it has, if a list or map.
    pub(super) items: Linear,
    /// Steps to copy or scan it whole.
    pub(super) weight: Linear,
    /// Taken from the facts: bounded by what [`check_facts`](super::facts::check_facts) lets
    /// through.
    pub(super) fact: bool,
}

impl Size {
    pub(super) const SCALAR: Self = Self {
        items: Linear::fixed(0),
        weight: Linear::ONE,
        fact: false,
    };
    pub(super) const FACTS: Self = Self {
        items: Linear::fixed(MAX_FACT_LIST as u64),
        weight: Linear::fixed(FACT_WEIGHT),
        fact: true,
    };

    pub(super) fn text(chars: usize) -> Self {
        Self {
            items: Linear::fixed(0),
            weight: Linear::fixed(1 + chars as u64 / TEXT_PER_STEP),
            fact: false,
        }
    }

    /// Its weight as text, for functions that only take strings (or scalars): a fact given
    /// to them is a string, or they fail at once.
    pub(super) fn text_weight(self) -> Linear {
        if self.fact {
            Linear::fixed(1 + MAX_FACT_TEXT as u64 / TEXT_PER_STEP)
        } else {
            self.weight
        }
    }

    /// A part of this value: a list item, a map value or a field.
    pub(super) fn part(self) -> Self {
        if self.fact {
            Self::FACTS
        } else {
            Self {
                items: self.weight,
                weight: self.weight,
                fact: false,
            }
        }
    }

    pub(super) fn of_json(value: &Json) -> Self {
        match value {
            Json::String(s) => Self::text(s.chars().count()),
            Json::Array(items) => Self {
                items: Linear::fixed(items.len() as u64),
                weight: items
                    .iter()
                    .map(|i| Self::of_json(i).weight)
                    .fold(Linear::ONE, Linear::plus),
                fact: false,
            },
            Json::Object(map) => Self {
                items: Linear::fixed(map.len() as u64),
                weight: map
                    .iter()
                    .map(|(k, v)| {
                        Self::text(k.chars().count())
                            .weight
                            .plus(Self::of_json(v).weight)
                    })
                    .fold(Linear::ONE, Linear::plus),
                fact: false,
            },
            _ => Self::SCALAR,
        }
    }
}
