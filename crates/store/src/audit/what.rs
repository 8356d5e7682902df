//! What each kind of change records as its subject, before and after; shared by both
//! backends so that they record the same thing.
//!
//! Records and plans show only the properties that changed (BIAN properties and extension
//! properties side by side). Evaluations and back-tests show what identifies them and what
//! they decided, not their facts or full report, which stay in their own (unchangeable)
//! rows.

use caseload_domain::{
    ChildKind, Fields, InterventionStatus, NewBacktest, NewEvaluation, NewIntervention, RecordId,
    Subject,
};
use serde_json::{Map, Value as Json, json};

use super::AuditAction;
use crate::StoreError;

/// A before and an after.
pub(crate) type BeforeAfter = (Option<Json>, Option<Json>);

/// A record's properties as the audit shows them: its BIAN properties (text) and extension
/// properties (typed settings) in one object. Their names never overlap.
pub(crate) fn properties(fields: &Fields, extensions: &Map<String, Json>) -> Map<String, Json> {
    let mut out: Map<String, Json> = fields
        .iter()
        .map(|(name, value)| (name.to_owned(), Json::String(value.to_owned())))
        .collect();
    out.extend(extensions.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// [`properties`] of a stored row, from its `fields` and `extensions` JSON text.
pub(crate) fn stored_properties(
    fields: &str,
    extensions: &str,
) -> Result<Map<String, Json>, StoreError> {
    let object = |text: &str| {
        serde_json::from_str::<Map<String, Json>>(text)
            .map_err(|e| StoreError::Internal(format!("a stored record is unreadable: {e}")))
    };
    let mut out = object(fields)?;
    out.extend(object(extensions)?);
    Ok(out)
}

/// The before and after of a creation: nothing, then everything given.
pub(crate) fn creation(after: Map<String, Json>) -> BeforeAfter {
    (None, Some(Json::Object(after)))
}

/// The before and after of a change: only the properties whose value changed, `null` where
/// a property was absent.
pub(crate) fn changes(before: &Map<String, Json>, after: &Map<String, Json>) -> BeforeAfter {
    let mut was = Map::new();
    let mut is = Map::new();
    let added = after.keys().filter(|k| !before.contains_key(*k));
    for name in before.keys().chain(added) {
        let (old, new) = (before.get(name), after.get(name));
        if old != new {
            was.insert(name.clone(), old.cloned().unwrap_or(Json::Null));
            is.insert(name.clone(), new.cloned().unwrap_or(Json::Null));
        }
    }
    (Some(Json::Object(was)), Some(Json::Object(is)))
}

/// The action of a create-or-update of a rule or performance record.
pub(crate) fn put_action(kind: ChildKind) -> AuditAction {
    match kind {
        ChildKind::Rules => AuditAction::RulesPut,
        ChildKind::Performance => AuditAction::PerformancePut,
    }
}

/// `rules/<id>` or `performance/<id>`.
pub(crate) fn record_subject(kind: ChildKind, id: &RecordId) -> String {
    subject_name(&Subject::of_record(kind, id.clone()))
}

/// `plan`, `rules/<id>` or `performance/<id>`.
pub(crate) fn subject_name(subject: &Subject) -> String {
    match subject.record_id() {
        None => subject.kind_name().to_owned(),
        Some(id) => format!("{}/{id}", subject.kind_name()),
    }
}

/// A new intervention request.
pub(crate) fn intervention_created(new: &NewIntervention) -> BeforeAfter {
    let details: Map<String, Json> = new
        .details
        .iter()
        .map(|(k, v)| (k.to_owned(), Json::String(v.to_owned())))
        .collect();
    (
        None,
        Some(json!({
            "Subject": subject_name(&new.subject),
            "Reason": new.reason,
            "RequestedAction": new.requested_action,
            "Details": details,
            "Requester": new.requester,
            "Status": InterventionStatus::Open.as_str(),
        })),
    )
}

/// An intervention's move.
pub(crate) fn transition_made(
    from: InterventionStatus,
    to: InterventionStatus,
    comment: Option<&str>,
) -> BeforeAfter {
    (
        Some(json!({"Status": from.as_str()})),
        Some(json!({"Status": to.as_str(), "Comment": comment})),
    )
}

/// A recorded evaluation: which criterion version decided what for which case.
pub(crate) fn evaluation_recorded(new: &NewEvaluation) -> BeforeAfter {
    (
        None,
        Some(json!({
            "RulesId": new.rules_id.as_str(),
            "RulesVersion": new.rules_version.get(),
            "CaseId": new.case_id,
            "Result": new.result,
            "Decision": new.decision,
            "Amount": new.amount.as_ref().map(caseload_domain::Amount::to_json),
        })),
    )
}

/// A stored amount, as an evaluation shows it.
pub(crate) fn stored_amount(value: Option<&str>, currency: Option<&str>) -> Json {
    match (value, currency) {
        (Some(value), Some(currency)) => json!({"Value": value, "Currency": currency}),
        _ => Json::Null,
    }
}

/// An outcome attached to an evaluation: its outcome and amount before and after.
pub(crate) fn outcome_changes(
    (old_outcome, old_amount): (Option<&str>, Json),
    (new_outcome, new_amount): (&str, Json),
) -> BeforeAfter {
    let side = |outcome: Json, amount: Json| {
        Map::from_iter([
            ("Outcome".to_owned(), outcome),
            ("Amount".to_owned(), amount),
        ])
    };
    changes(
        &side(
            old_outcome.map(Json::from).unwrap_or(Json::Null),
            old_amount,
        ),
        &side(Json::from(new_outcome), new_amount),
    )
}

/// A stored back-test: what was proposed and what it found, in words.
pub(crate) fn backtest_saved(new: &NewBacktest) -> BeforeAfter {
    (
        None,
        Some(json!({
            "RulesId": new.rules_id.as_str(),
            "RulesVersion": new.rules_version.get(),
            "Proposal": new.proposal,
            "Summary": new.summary,
        })),
    )
}

/// A stored batch of case events: counts and the generation it became.
pub(crate) fn batch_stored(received: u64, accepted: u64, generation: i64) -> BeforeAfter {
    (
        None,
        Some(json!({
            "Received": received,
            "Accepted": accepted,
            "Duplicates": received - accepted,
            "Generation": generation,
        })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Json) -> Map<String, Json> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn only_changed_properties_are_recorded_with_null_for_absent_ones() {
        let before = map(json!({"A": "1", "B": "2", "Gone": "x", "Settings": {"n": 1}}));
        let after = map(json!({"A": "1", "B": "3", "New": "y", "Settings": {"n": 2}}));
        let (was, is) = changes(&before, &after);
        assert_eq!(
            was,
            Some(json!({"B": "2", "Gone": "x", "New": null, "Settings": {"n": 1}}))
        );
        assert_eq!(
            is,
            Some(json!({"B": "3", "Gone": null, "New": "y", "Settings": {"n": 2}}))
        );
    }

    #[test]
    fn a_change_that_changes_nothing_records_empty_objects() {
        let same = map(json!({"A": "1"}));
        assert_eq!(changes(&same, &same), (Some(json!({})), Some(json!({}))));
    }

    #[test]
    fn an_outcome_records_only_what_it_changed() {
        let amount = json!({"Value": "12.50", "Currency": "EUR"});
        let (was, is) = outcome_changes((None, amount.clone()), ("upheld", amount));
        assert_eq!(was, Some(json!({"Outcome": null})));
        assert_eq!(is, Some(json!({"Outcome": "upheld"})));
    }
}
