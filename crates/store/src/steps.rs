//! The steps of a store operation that are the same on both backends, written once so that
//! the two cannot drift apart. A backend runs its own SQL (placeholders, JSON operators and
//! locking differ) and hands what it read to these steps:
//!
//! - paging: how many rows a page fetches ([`fetch_limit`]), how the fetched rows become a
//!   page ([`page_of`]) and what a numbered page key names ([`number_after`]);
//! - the reads of a page at once: counts per item with 0 for the items nothing counted
//!   ([`counts_of`]), the history summaries of criteria from rows grouped by criterion and
//!   outcome ([`history_summaries`], [`history_summary`]) and their latest back-tests
//!   ([`latest_backtests`]), each refusing a criterion the plan does not have;
//! - the write steps: the `If-Match` precondition ([`check_version`], [`check_move`]), and
//!   the record a write answers together with its audit entry, the before/after captured
//!   from the stored row ([`plan_created`], [`plan_updated`], [`record_put`],
//!   [`intervention_created`], [`intervention_moved`], [`evaluation_recorded`],
//!   [`outcome_set`], [`backtest_saved`], [`api_key_created`], [`api_key_revoked`]).

use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::hash::Hash;

use caseload_domain::{
    Amount, BacktestRecord, ChildKind, Fields, HistorySummary, Intervention, InterventionId,
    InterventionStatus, NewBacktest, NewEvaluation, NewIntervention, Page, PageRequest, Plan,
    PlanId, RecordId, RecordMeta, Subject, Timestamp, Version,
};
use serde_json::{Map, Value as Json};

use crate::audit::{self, AuditAction, Entry, Origin};
use crate::rows::{BacktestRow, ChildRow, PlanRow, missing_record};
use crate::{ApiKey, InterventionFilter, Put, StatusChange, StoreError};

/// How many rows to fetch for `page`: one more than it holds, so that [`page_of`] sees
/// whether another page follows.
pub(crate) fn fetch_limit(page: &PageRequest) -> i64 {
    i64::from(page.size.get()) + 1
}

/// The page of `rows` fetched with [`fetch_limit`], each converted with `convert`: trimmed
/// to the page's size, with the `key` of its last item when more follow.
pub(crate) fn page_of<R, T>(
    rows: Vec<R>,
    page: &PageRequest,
    convert: impl FnMut(R) -> Result<T, StoreError>,
    key: impl Fn(&T) -> String,
) -> Result<Page<T>, StoreError> {
    let mut items = rows
        .into_iter()
        .map(convert)
        .collect::<Result<Vec<_>, _>>()?;
    let size = page.size.get() as usize;
    let more = items.len() > size;
    items.truncate(size);
    let next_after = if more { items.last().map(key) } else { None };
    Ok(Page { items, next_after })
}

/// The number a page of a list numbered newest first continues below (a version, an audit
/// seq); a key that is not a number names no page: not found, as `what` with the key.
pub(crate) fn number_after(page: &PageRequest, what: &str) -> Result<Option<i64>, StoreError> {
    page.after
        .as_deref()
        .map(|key| {
            key.parse::<i64>()
                .map_err(|_| StoreError::NotFound(format!("{what} '{key}'")))
        })
        .transpose()
}

/// One count for each of `keys`, from the rows `(key as stored, count)` that counted some of
/// them: 0 for a key no row names.
pub(crate) fn counts_of<K>(keys: &[K], counted: Vec<(String, i64)>) -> HashMap<K, i64>
where
    K: Clone + Eq + Hash + Display,
{
    let named: HashMap<String, &K> = keys.iter().map(|k| (k.to_string(), k)).collect();
    let mut counts: HashMap<K, i64> = keys.iter().map(|k| (k.clone(), 0)).collect();
    for (key, n) in counted {
        if let Some(&k) = named.get(&key) {
            counts.insert(k.clone(), n);
        }
    }
    counts
}

/// The evaluations of one criterion with one outcome, as a summary read groups them:
/// `(criterion, outcome ('pending' for none yet), count, first evaluated_at, last
/// evaluated_at)`. A criterion with no evaluations has one group counting 0, with no dates, so
/// that it is seen to exist.
pub(crate) type OutcomeGroup = (String, String, i64, Option<i64>, Option<i64>);

/// The history summary of each of a plan's criteria `rules`, from their [`OutcomeGroup`]s;
/// not found, naming the first, if a criterion has no group (the plan has no such criterion).
pub(crate) fn history_summaries(
    plan: PlanId,
    rules: &[RecordId],
    groups: Vec<OutcomeGroup>,
) -> Result<HashMap<RecordId, HistorySummary>, StoreError> {
    let mut by_rule: HashMap<String, Vec<(String, i64, i64, i64)>> = HashMap::new();
    for (rule, outcome, n, first, last) in groups {
        let of_rule = by_rule.entry(rule).or_default();
        if let (1.., Some(first), Some(last)) = (n, first, last) {
            of_rule.push((outcome, n, first, last));
        }
    }
    require_rules(plan, rules, |rule| by_rule.contains_key(rule))?;
    let mut summaries = HashMap::new();
    for rule in rules {
        // Each criterion's groups are taken once, however often the page names it.
        if let Some(groups) = by_rule.remove(rule.as_str()) {
            summaries.insert(rule.clone(), history_summary(groups));
        }
    }
    Ok(summaries)
}

/// A criterion's evaluations summed up from its rows grouped by outcome (`pending` for
/// none yet): `(outcome, count, first evaluated_at, last evaluated_at)`. The summary lists
/// the outcomes most frequent first, then by name, byte-wise, whatever the database's
/// collation.
pub(crate) fn history_summary(mut groups: Vec<(String, i64, i64, i64)>) -> HistorySummary {
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    HistorySummary {
        count: groups.iter().map(|g| g.1).sum(),
        first: groups.iter().map(|g| g.2).min().map(Timestamp::from_micros),
        last: groups.iter().map(|g| g.3).max().map(Timestamp::from_micros),
        outcomes: groups.into_iter().map(|(o, n, _, _)| (o, n)).collect(),
    }
}

/// The latest back-test of each of a plan's criteria `rules` that has one, from one row per
/// criterion of the plan `(criterion, its latest back-test if any)`; not found, naming the
/// first, if a criterion has no row (the plan has no such criterion).
pub(crate) fn latest_backtests(
    plan: PlanId,
    rules: &[RecordId],
    rows: Vec<(String, Option<BacktestRow>)>,
) -> Result<HashMap<RecordId, BacktestRecord>, StoreError> {
    let found: HashSet<&str> = rows.iter().map(|(rule, _)| rule.as_str()).collect();
    require_rules(plan, rules, |rule| found.contains(rule))?;
    let asked: HashMap<&str, &RecordId> = rules.iter().map(|r| (r.as_str(), r)).collect();
    let mut latest = HashMap::new();
    for (rule, row) in rows {
        if let (Some(&id), Some(row)) = (asked.get(rule.as_str()), row) {
            latest.insert(id.clone(), BacktestRecord::try_from(row)?);
        }
    }
    Ok(latest)
}

/// Not found, naming the first of `rules` that the plan does not have (`exists` says
/// whether it has a criterion, by id as stored).
fn require_rules(
    plan: PlanId,
    rules: &[RecordId],
    exists: impl Fn(&str) -> bool,
) -> Result<(), StoreError> {
    match rules.iter().find(|rule| !exists(rule.as_str())) {
        Some(missing) => Err(missing_record(ChildKind::Rules, plan, missing)),
        None => Ok(()),
    }
}

/// The `If-Match` precondition of a write to a record at version `current`: refused as a
/// version mismatch naming the current version unless it is the one expected (or none is).
pub(crate) fn check_version(expected: Option<Version>, current: i64) -> Result<(), StoreError> {
    match expected {
        Some(v) if v.get() != current => Err(StoreError::VersionMismatch {
            current: Some(current),
        }),
        _ => Ok(()),
    }
}

/// Whether `change` may move `current`: it is at the version expected, and the move is
/// legal from its status.
pub(crate) fn check_move(current: &Intervention, change: &StatusChange) -> Result<(), StoreError> {
    check_version(change.expected, current.meta.version.get())?;
    current.status.check_move(change.to)?;
    Ok(())
}

/// The record a subject names, if it names one rather than the plan itself.
pub(crate) fn subject_record(subject: &Subject) -> Option<(ChildKind, &RecordId)> {
    match subject {
        Subject::Plan => None,
        Subject::Rules(id) => Some((ChildKind::Rules, id)),
        Subject::Performance(id) => Some((ChildKind::Performance, id)),
    }
}

/// What an intervention list is filtered by, as the columns hold it: the subject's kind,
/// its record id, and the status (`None` for any).
pub(crate) fn filter_columns(
    filter: &InterventionFilter,
) -> (Option<&'static str>, Option<&str>, Option<&'static str>) {
    let subject = filter.subject.as_ref();
    (
        subject.map(Subject::kind_name),
        subject.and_then(Subject::record_id).map(RecordId::as_str),
        filter.status.map(InterventionStatus::as_str),
    )
}

/// The metadata of a record created at `now`.
fn created_at(now: Timestamp) -> RecordMeta {
    RecordMeta {
        version: Version::FIRST,
        created_at: now,
        updated_at: now,
    }
}

/// A plan as a create stored it at `now`, and the create's audit entry.
pub(crate) fn plan_created(
    id: PlanId,
    fields: Fields,
    extensions: Map<String, Json>,
    business_unit: String,
    now: Timestamp,
    origin: &Origin,
) -> (Plan, Entry) {
    let created = audit::creation(audit::properties(&fields, &extensions));
    let entry = Entry::plan(id, AuditAction::PlanCreate, "plan", origin, created);
    let plan = Plan {
        id,
        fields,
        extensions,
        business_unit,
        meta: created_at(now),
    };
    (plan, entry)
}

/// A plan as an update left it (`row`, read back by the update), and the update's audit
/// entry: what changed from `before`, the stored `(fields, extensions)` JSON it replaced.
pub(crate) fn plan_updated(
    row: PlanRow,
    before: (&str, &str),
    origin: &Origin,
) -> Result<(Plan, Entry), StoreError> {
    let plan = Plan::try_from(row)?;
    let changed = audit::changes(
        &audit::stored_properties(before.0, before.1)?,
        &audit::properties(&plan.fields, &plan.extensions),
    );
    let entry = Entry::plan(plan.id, AuditAction::PlanUpdate, "plan", origin, changed);
    Ok((plan, entry))
}

/// A child record as a put left it (`row`, read back by the write), and the put's audit
/// entry: its properties as created when there was no `before`, else what changed from
/// `before`, the stored `(fields, extensions)` JSON it replaced.
pub(crate) fn record_put(
    kind: ChildKind,
    row: ChildRow,
    before: Option<(&str, &str)>,
    origin: &Origin,
) -> Result<(Put, Entry), StoreError> {
    let record = row.into_record(kind)?;
    let after = audit::properties(&record.fields, &record.extensions);
    let what = match before {
        None => audit::creation(after),
        Some((fields, extensions)) => {
            audit::changes(&audit::stored_properties(fields, extensions)?, &after)
        }
    };
    let subject = audit::record_subject(kind, &record.id);
    let entry = Entry::plan(
        record.plan_id,
        audit::put_action(kind),
        subject,
        origin,
        what,
    );
    let put = Put {
        created: before.is_none(),
        record,
    };
    Ok((put, entry))
}

/// An intervention request as a create stored it at `now`, open, and the create's audit
/// entry.
pub(crate) fn intervention_created(
    id: InterventionId,
    new: NewIntervention,
    now: Timestamp,
    origin: &Origin,
) -> (Intervention, Entry) {
    let entry = Entry::plan(
        new.plan_id,
        AuditAction::InterventionCreate,
        format!("intervention/{id}"),
        origin,
        audit::intervention_created(&new),
    );
    let intervention = Intervention {
        id,
        request: new,
        status: InterventionStatus::Open,
        meta: created_at(now),
    };
    (intervention, entry)
}

/// The audit entry of `change` moving an intervention on from status `from`.
pub(crate) fn intervention_moved(
    plan: PlanId,
    id: InterventionId,
    from: InterventionStatus,
    change: &StatusChange,
    origin: &Origin,
) -> Entry {
    Entry::plan(
        plan,
        AuditAction::InterventionTransition,
        format!("intervention/{id}"),
        origin,
        audit::transition_made(from, change.to, change.comment.as_deref()),
    )
}

/// The audit entry of recording evaluation `id`.
pub(crate) fn evaluation_recorded(id: impl Display, new: &NewEvaluation, origin: &Origin) -> Entry {
    Entry::plan(
        new.plan_id,
        AuditAction::EvaluationRecord,
        format!("evaluation/{id}"),
        origin,
        audit::evaluation_recorded(new),
    )
}

/// The audit entry of setting the outcome of evaluation `id`: its outcome and amount before
/// (the stored `(outcome, amount value, amount currency)`) and after (the amount kept when
/// none is given).
pub(crate) fn outcome_set(
    plan: PlanId,
    id: impl Display,
    (old_outcome, old_value, old_currency): (Option<&str>, Option<&str>, Option<&str>),
    outcome: &str,
    amount: Option<&Amount>,
    origin: &Origin,
) -> Entry {
    let old_amount = audit::stored_amount(old_value, old_currency);
    let new_amount = amount.map_or_else(|| old_amount.clone(), Amount::to_json);
    Entry::plan(
        plan,
        AuditAction::EvaluationOutcome,
        format!("evaluation/{id}"),
        origin,
        audit::outcome_changes((old_outcome, old_amount), (outcome, new_amount)),
    )
}

/// The audit entry of saving back-test `id`.
pub(crate) fn backtest_saved(id: impl Display, new: &NewBacktest, origin: &Origin) -> Entry {
    Entry::plan(
        new.plan_id,
        AuditAction::BacktestSave,
        format!("backtest/{id}"),
        origin,
        audit::backtest_saved(new),
    )
}

/// The audit entry of creating API key `key`, on the service chain.
pub(crate) fn api_key_created(key: &ApiKey, origin: &Origin) -> Entry {
    api_key_entry(AuditAction::ApiKeyCreate, key, origin)
}

/// The audit entry of revoking API key `key`, on the service chain.
pub(crate) fn api_key_revoked(key: &ApiKey, origin: &Origin) -> Entry {
    api_key_entry(AuditAction::ApiKeyRevoke, key, origin)
}

fn api_key_entry(action: AuditAction, key: &ApiKey, origin: &Origin) -> Entry {
    Entry::service(
        action,
        format!("apikey/{}", key.id),
        origin,
        audit::api_key_described(key),
    )
}

#[cfg(test)]
mod tests {
    use caseload_domain::PageSize;

    use super::*;

    fn rid(id: &str) -> RecordId {
        RecordId::parse(id).expect("a valid record id")
    }

    fn page(after: Option<&str>, size: u32) -> PageRequest {
        PageRequest {
            after: after.map(str::to_owned),
            size: PageSize::parse(Some(size)).expect("a valid page size"),
        }
    }

    #[test]
    fn a_page_fetched_with_one_row_more_is_trimmed_and_names_where_to_go_on() {
        let request = page(None, 2);
        assert_eq!(fetch_limit(&request), 3);

        let page = page_of(vec![1, 2, 3], &request, Ok, |n| n.to_string()).expect("a page");

        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_after.as_deref(), Some("2"));
    }

    #[test]
    fn the_last_page_names_nowhere_to_go_on() {
        let page = page_of(vec![1, 2], &page(None, 2), Ok, |n| n.to_string()).expect("a page");

        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_after, None);
    }

    #[test]
    fn a_page_key_that_is_not_a_number_names_no_page() {
        assert_eq!(
            number_after(&page(Some("7"), 5), "version page").ok(),
            Some(Some(7))
        );
        assert_eq!(
            number_after(&page(None, 5), "version page").ok(),
            Some(None)
        );
        let Err(StoreError::NotFound(what)) = number_after(&page(Some("x"), 5), "version page")
        else {
            panic!("a forged key must name no page");
        };
        assert_eq!(what, "version page 'x'");
    }

    #[test]
    fn a_write_expecting_another_version_is_refused_naming_the_current_one() {
        assert!(check_version(None, 3).is_ok());
        assert!(check_version(Some(Version::new(3)), 3).is_ok());
        assert!(matches!(
            check_version(Some(Version::new(2)), 3),
            Err(StoreError::VersionMismatch { current: Some(3) })
        ));
    }

    #[test]
    fn the_history_summary_counts_every_outcome_and_spans_first_to_last() {
        let summary = history_summary(vec![
            ("pending".into(), 3, 20, 90),
            ("approved".into(), 2, 10, 50),
        ]);

        assert_eq!(summary.count, 5);
        assert_eq!(summary.first, Some(Timestamp::from_micros(10)));
        assert_eq!(summary.last, Some(Timestamp::from_micros(90)));
        assert_eq!(
            summary.outcomes,
            vec![("pending".to_owned(), 3), ("approved".to_owned(), 2)]
        );
    }

    #[test]
    fn the_history_summary_lists_outcomes_most_frequent_first_then_by_name_byte_wise() {
        let summary = history_summary(vec![
            ("appealed".into(), 1, 5, 5),
            ("pending".into(), 2, 1, 9),
            ("Zeta".into(), 1, 3, 3),
            ("upheld".into(), 3, 2, 8),
        ]);

        let names: Vec<_> = summary.outcomes.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(names, ["upheld", "pending", "Zeta", "appealed"]);
    }

    #[test]
    fn summaries_of_a_page_give_each_criterion_its_own_groups_and_the_empty_one_none() {
        let plan = PlanId::new();
        let (r1, r2) = (rid("r1"), rid("r2"));
        let groups = vec![
            ("r1".into(), "upheld".into(), 2, Some(10), Some(20)),
            ("r2".into(), "pending".into(), 0, None, None),
            ("r1".into(), "pending".into(), 1, Some(5), Some(5)),
        ];

        let summaries = history_summaries(plan, &[r1.clone(), r2.clone(), r1.clone()], groups)
            .expect("summaries");

        assert_eq!(summaries.len(), 2);
        assert_eq!(summaries[&r1].count, 3);
        assert_eq!(summaries[&r1].first, Some(Timestamp::from_micros(5)));
        assert_eq!(summaries[&r2], HistorySummary::default());
    }

    #[test]
    fn a_page_naming_a_criterion_with_no_row_is_not_found_naming_it() {
        let plan = PlanId::new();
        let (r1, r2) = (rid("r1"), rid("r2"));
        let groups = vec![("r1".into(), "pending".into(), 0, None, None)];

        let summaries = history_summaries(plan, &[r1.clone(), r2.clone()], groups);
        let latest = latest_backtests(plan, &[r1, r2], vec![("r1".into(), None)]);

        for refused in [summaries.err(), latest.err()] {
            let Some(StoreError::NotFound(what)) = refused else {
                panic!("expected not found, got {refused:?}");
            };
            assert!(what.contains("'r2'"), "{what}");
        }
    }

    #[test]
    fn counts_of_a_page_name_every_key_asked_with_0_for_those_not_counted() {
        let (p1, p2) = (PlanId::new(), PlanId::new());

        let counts = counts_of(&[p1, p2], vec![(p2.to_string(), 4), ("other".into(), 9)]);

        assert_eq!(counts, HashMap::from([(p1, 0), (p2, 4)]));
    }

    #[test]
    fn a_summary_of_no_evaluations_has_no_dates() {
        let summary = history_summary(Vec::new());

        assert_eq!(summary.count, 0);
        assert_eq!((summary.first, summary.last), (None, None));
        assert!(summary.outcomes.is_empty());
    }
}
