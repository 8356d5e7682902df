//! The SQL of each write, run by the writer thread inside a batch's transaction. Each
//! decides refusals of its own (unknown ids, stale versions, illegal moves) by reading
//! first, so a refused write writes nothing. Each write that changes something appends its
//! audit record last; anything that fails after the first change fails the whole write (a
//! `rusqlite` error), so a change is never committed without its record.

use caseload_domain::{
    BacktestId, BacktestRecord, Change, ChildKind, EvaluationId, EvaluationRecord, Fields,
    Intervention, InterventionId, InterventionStatus, NewBacktest, NewEvaluation, NewIntervention,
    Plan, PlanId, RecordId, RecordMeta, Subject, Timestamp, Transition, Version, WriteMode,
};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::audit::{append, failed};
use super::reads::{self, BACKTEST_COLUMNS, EVALUATION_COLUMNS};
use crate::audit::{self, AuditAction, Entry, Origin};
use crate::rows::{
    kind_name, missing_evaluation, missing_intervention, missing_plan, missing_record, table,
};
use caseload_domain::events::CaseEvent;

use crate::timelines::{self, EventRow, TimelineRow};
use crate::{Put, StatusChange, StoreError};

type Refusable<T> = rusqlite::Result<Result<T, StoreError>>;

/// What a create under the request key of `origin` already made in `table`, read with
/// `columns` into `row`: the creation guard (migrations 0008 and 0009). A create run again
/// under the key (its first response lost, or the key expired) returns that instead of
/// making another.
fn made_under_key<R>(
    conn: &Connection,
    table: &str,
    columns: &str,
    origin: &Origin,
    row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<R>,
) -> rusqlite::Result<Option<R>> {
    let Some(key) = &origin.request_key else {
        return Ok(None);
    };
    conn.prepare_cached(&format!(
        "SELECT {columns} FROM {table} WHERE request_key = ?1"
    ))?
    .query_row([key], row)
    .optional()
}

pub(crate) fn create_plan(
    conn: &Connection,
    fields: &Fields,
    extensions: &serde_json::Map<String, serde_json::Value>,
    business_unit: &str,
    origin: &Origin,
) -> Refusable<Plan> {
    let columns = "id, fields, version, created_at, updated_at, extensions, business_unit";
    if let Some(row) = made_under_key(conn, "plans", columns, origin, reads::plan_row)? {
        return Ok(Plan::try_from(row));
    }
    let id = PlanId::new();
    let now = Timestamp::now();
    conn.prepare_cached(
        "INSERT INTO plans (id, fields, extensions, version, created_at, updated_at, \
         business_unit, request_key) VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5, ?6)",
    )?
    .execute(params![
        id.to_string(),
        fields.to_json(),
        serde_json::Value::Object(extensions.clone()).to_string(),
        now.as_micros(),
        business_unit,
        origin.request_key
    ])?;
    append(
        conn,
        &Entry::plan(
            id,
            AuditAction::PlanCreate,
            "plan",
            origin,
            audit::creation(audit::properties(fields, extensions)),
        ),
    )?;
    Ok(Ok(Plan {
        id,
        fields: fields.clone(),
        extensions: extensions.clone(),
        business_unit: business_unit.to_owned(),
        meta: RecordMeta {
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
        },
    }))
}

fn merge_sql(mode: WriteMode, column: &str, value: &str) -> String {
    match mode {
        WriteMode::Merge => format!("json_patch({column}, {value})"),
        WriteMode::Replace => value.to_owned(),
    }
}

pub(crate) fn update_plan(
    conn: &Connection,
    id: PlanId,
    change: &Change,
    origin: &Origin,
) -> Refusable<Plan> {
    let current: Option<(i64, String, String)> = conn
        .prepare_cached("SELECT version, fields, extensions FROM plans WHERE id = ?1")?
        .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((version, fields, extensions)) = current else {
        return Ok(Err(missing_plan(id)));
    };
    if change.expected.is_some_and(|v| v.get() != version) {
        return Ok(Err(StoreError::VersionMismatch {
            current: Some(version),
        }));
    }
    let before = audit::stored_properties(&fields, &extensions).map_err(failed)?;
    let sql = format!(
        "UPDATE plans SET fields = {}, extensions = coalesce(?4, extensions), version = version + 1, \
         updated_at = ?2 WHERE id = ?3 \
         RETURNING id, fields, version, created_at, updated_at, extensions, business_unit",
        merge_sql(change.mode, "fields", "?1")
    );
    let row = conn.prepare_cached(&sql)?.query_row(
        params![
            change.fields.to_json(),
            Timestamp::now().as_micros(),
            id.to_string(),
            change
                .extensions
                .as_ref()
                .map(|e| serde_json::Value::Object(e.clone()).to_string())
        ],
        reads::plan_row,
    )?;
    let plan = Plan::try_from(row).map_err(failed)?;
    let after = audit::properties(&plan.fields, &plan.extensions);
    append(
        conn,
        &Entry::plan(
            id,
            AuditAction::PlanUpdate,
            "plan",
            origin,
            audit::changes(&before, &after),
        ),
    )?;
    Ok(Ok(plan))
}

pub(crate) fn put_record(
    conn: &Connection,
    kind: ChildKind,
    plan: PlanId,
    id: &RecordId,
    change: &Change,
    origin: &Origin,
) -> Refusable<Put> {
    if !reads::plan_exists(conn, plan)? {
        return Ok(Err(missing_plan(plan)));
    }
    let t = table(kind);
    let current: Option<(String, String)> = conn
        .prepare_cached(&format!(
            "SELECT fields, extensions FROM {t} WHERE plan_id = ?1 AND id = ?2"
        ))?
        .query_row(params![plan.to_string(), id.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let now = Timestamp::now().as_micros();
    let extensions = change
        .extensions
        .as_ref()
        .map(|e| serde_json::Value::Object(e.clone()).to_string());
    let returning = "RETURNING plan_id, id, fields, extensions, version, created_at, updated_at";
    let row = match change.expected {
        // Unconditional: one upsert. A new record is at version 1; an updated one never is.
        None => {
            let sql = format!(
                "INSERT INTO {t} (plan_id, id, fields, extensions, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, coalesce(?5, '{{}}'), 1, ?4, ?4) ON CONFLICT (plan_id, id) DO UPDATE SET \
                 fields = {}, extensions = coalesce(?5, {t}.extensions), version = {t}.version + 1, \
                 updated_at = excluded.updated_at {returning}",
                merge_sql(change.mode, &format!("{t}.fields"), "excluded.fields")
            );
            conn.prepare_cached(&sql)?
                .query_row(
                    params![
                        plan.to_string(),
                        id.as_str(),
                        change.fields.to_json(),
                        now,
                        extensions
                    ],
                    reads::child_row,
                )
                .optional()?
        }
        // Conditional: only an existing record at the expected version is changed.
        Some(expected) => {
            let sql = format!(
                "UPDATE {t} SET fields = {}, extensions = coalesce(?6, extensions), version = version + 1, \
                 updated_at = ?2 WHERE plan_id = ?3 AND id = ?4 AND version = ?5 {returning}",
                merge_sql(change.mode, "fields", "?1")
            );
            conn.prepare_cached(&sql)?
                .query_row(
                    params![
                        change.fields.to_json(),
                        now,
                        plan.to_string(),
                        id.as_str(),
                        expected.get(),
                        extensions
                    ],
                    reads::child_row,
                )
                .optional()?
        }
    };
    let Some(row) = row else {
        let current: Option<i64> = conn
            .prepare_cached(&format!(
                "SELECT version FROM {t} WHERE plan_id = ?1 AND id = ?2"
            ))?
            .query_row(params![plan.to_string(), id.as_str()], |r| r.get(0))
            .optional()?;
        return Ok(Err(StoreError::VersionMismatch { current }));
    };
    conn.prepare_cached(
        "INSERT INTO record_versions (kind, plan_id, record_id, version, fields, extensions, changed_by, changed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        kind_name(kind),
        row.plan_id,
        row.id,
        row.version,
        row.fields,
        row.extensions,
        change.actor,
        row.updated_at
    ])?;
    let record = row.into_record(kind).map_err(failed)?;
    let after = audit::properties(&record.fields, &record.extensions);
    let what = match &current {
        None => audit::creation(after),
        Some((fields, extensions)) => audit::changes(
            &audit::stored_properties(fields, extensions).map_err(failed)?,
            &after,
        ),
    };
    append(
        conn,
        &Entry::plan(
            plan,
            audit::put_action(kind),
            audit::record_subject(kind, id),
            origin,
            what,
        ),
    )?;
    Ok(Ok(Put {
        created: current.is_none(),
        record,
    }))
}

fn subject_exists(conn: &Connection, plan: PlanId, subject: &Subject) -> Refusable<()> {
    if !reads::plan_exists(conn, plan)? {
        return Ok(Err(missing_plan(plan)));
    }
    let (kind, id) = match subject {
        Subject::Plan => return Ok(Ok(())),
        Subject::Rules(id) => (ChildKind::Rules, id),
        Subject::Performance(id) => (ChildKind::Performance, id),
    };
    let found = conn
        .prepare_cached(&format!(
            "SELECT 1 FROM {} WHERE plan_id = ?1 AND id = ?2",
            table(kind)
        ))?
        .query_row(params![plan.to_string(), id.as_str()], |_| Ok(()))
        .optional()?;
    Ok(found.ok_or_else(|| missing_record(kind, plan, id)))
}

pub(crate) fn create_intervention(
    conn: &Connection,
    new: &NewIntervention,
    origin: &Origin,
) -> Refusable<Intervention> {
    if let Err(missing) = subject_exists(conn, new.plan_id, &new.subject)? {
        return Ok(Err(missing));
    }
    let made = made_under_key(conn, "interventions", "id", origin, |r| {
        r.get::<_, String>(0)
    })?;
    if let Some(id) = made.and_then(|id| InterventionId::parse(&id).ok()) {
        return Ok(reads::intervention_with_history(conn, new.plan_id, id)?.map(|(i, _)| i));
    }
    let id = InterventionId::new();
    let now = Timestamp::now();
    conn.prepare_cached(
        "INSERT INTO interventions (id, plan_id, subject_kind, subject_id, reason, \
         requested_action, details, requester, status, version, created_at, updated_at, \
         request_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10, ?11)",
    )?
    .execute(params![
        id.to_string(),
        new.plan_id.to_string(),
        new.subject.kind_name(),
        new.subject.record_id().map(RecordId::as_str),
        new.reason,
        new.requested_action,
        new.details.to_json(),
        new.requester,
        InterventionStatus::Open.as_str(),
        now.as_micros(),
        origin.request_key,
    ])?;
    append(
        conn,
        &Entry::plan(
            new.plan_id,
            AuditAction::InterventionCreate,
            format!("intervention/{id}"),
            origin,
            audit::intervention_created(new),
        ),
    )?;
    Ok(Ok(Intervention {
        id,
        request: new.clone(),
        status: InterventionStatus::Open,
        meta: RecordMeta {
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
        },
    }))
}

pub(crate) fn transition(
    conn: &Connection,
    plan: PlanId,
    id: InterventionId,
    change: &StatusChange,
    origin: &Origin,
) -> Refusable<(Intervention, Vec<Transition>)> {
    let Some(current) = reads::intervention(conn, plan, id)? else {
        return Ok(Err(missing_intervention(plan, id)));
    };
    let current = match Intervention::try_from(current) {
        Ok(current) => current,
        Err(err) => return Ok(Err(err)),
    };
    if let Some(expected) = change.expected
        && expected != current.meta.version
    {
        return Ok(Err(StoreError::VersionMismatch {
            current: Some(current.meta.version.get()),
        }));
    }
    if let Err(illegal) = current.status.check_move(change.to) {
        return Ok(Err(illegal.into()));
    }
    let now = Timestamp::now().as_micros();
    conn.prepare_cached(
        "UPDATE interventions SET status = ?1, version = version + 1, updated_at = ?2 WHERE id = ?3",
    )?
    .execute(params![change.to.as_str(), now, id.to_string()])?;
    conn.prepare_cached(
        "INSERT INTO intervention_transitions (intervention_id, seq, from_status, to_status, changed_by, comment, changed_at) \
         SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6 FROM intervention_transitions WHERE intervention_id = ?1",
    )?
    .execute(params![id.to_string(), current.status.as_str(), change.to.as_str(), change.by, change.comment, now])?;
    append(
        conn,
        &Entry::plan(
            plan,
            AuditAction::InterventionTransition,
            format!("intervention/{id}"),
            origin,
            audit::transition_made(current.status, change.to, change.comment.as_deref()),
        ),
    )?;
    let moved = reads::intervention_with_history(conn, plan, id)?;
    Ok(Ok(moved.map_err(failed)?))
}

pub(crate) fn record_evaluation(
    conn: &Connection,
    new: &NewEvaluation,
    origin: &Origin,
) -> Refusable<EvaluationRecord> {
    if let Err(missing) = subject_exists(conn, new.plan_id, &Subject::Rules(new.rules_id.clone()))?
    {
        return Ok(Err(missing));
    }
    let made = made_under_key(
        conn,
        "evaluations",
        EVALUATION_COLUMNS,
        origin,
        reads::evaluation_row,
    )?;
    if let Some(row) = made {
        return Ok(EvaluationRecord::try_from(row));
    }
    let id = EvaluationId::new();
    let now = Timestamp::now();
    conn.prepare_cached(
        "INSERT INTO evaluations (id, plan_id, rules_id, rules_version, case_id, facts, result, decision, \
         explanation, amount_value, amount_currency, outcome, outcome_at, evaluated_by, evaluated_at, \
         request_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, NULL, ?12, ?13, ?14)",
    )?
    .execute(params![
        id.to_string(),
        new.plan_id.to_string(),
        new.rules_id.as_str(),
        new.rules_version.get(),
        new.case_id,
        new.facts.to_string(),
        new.result,
        new.decision,
        new.explanation.to_string(),
        new.amount.as_ref().map(|a| a.value.to_string()),
        new.amount.as_ref().map(|a| a.currency.clone()),
        new.evaluated_by,
        now.as_micros(),
        origin.request_key,
    ])?;
    append(
        conn,
        &Entry::plan(
            new.plan_id,
            AuditAction::EvaluationRecord,
            format!("evaluation/{id}"),
            origin,
            audit::evaluation_recorded(new),
        ),
    )?;
    Ok(Ok(EvaluationRecord {
        id,
        evaluation: new.clone(),
        outcome: None,
        outcome_at: None,
        evaluated_at: now,
    }))
}

pub(crate) fn set_outcome(
    conn: &Connection,
    plan: PlanId,
    rules: &RecordId,
    id: EvaluationId,
    outcome: &str,
    amount: Option<&caseload_domain::Amount>,
    origin: &Origin,
) -> Refusable<EvaluationRecord> {
    let current: Option<(Option<String>, Option<String>, Option<String>)> = conn
        .prepare_cached(
            "SELECT outcome, amount_value, amount_currency FROM evaluations \
             WHERE plan_id = ?1 AND rules_id = ?2 AND id = ?3",
        )?
        .query_row(
            params![plan.to_string(), rules.as_str(), id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((old_outcome, old_value, old_currency)) = current else {
        return Ok(Err(missing_evaluation(plan, rules, id)));
    };
    conn.prepare_cached(
        "UPDATE evaluations SET outcome = ?1, outcome_at = ?2, \
         amount_value = coalesce(?3, amount_value), amount_currency = coalesce(?4, amount_currency) \
         WHERE plan_id = ?5 AND rules_id = ?6 AND id = ?7",
    )?
    .execute(params![
        outcome,
        Timestamp::now().as_micros(),
        amount.map(|a| a.value.to_string()),
        amount.map(|a| a.currency.clone()),
        plan.to_string(),
        rules.as_str(),
        id.to_string()
    ])?;
    let old_amount = audit::stored_amount(old_value.as_deref(), old_currency.as_deref());
    let new_amount = amount.map_or_else(|| old_amount.clone(), |a| a.to_json());
    append(
        conn,
        &Entry::plan(
            plan,
            AuditAction::EvaluationOutcome,
            format!("evaluation/{id}"),
            origin,
            audit::outcome_changes((old_outcome.as_deref(), old_amount), (outcome, new_amount)),
        ),
    )?;
    match reads::evaluation(conn, plan, rules, id)? {
        Some(row) => Ok(Ok(EvaluationRecord::try_from(row).map_err(failed)?)),
        None => Err(failed(missing_evaluation(plan, rules, id))),
    }
}

pub(crate) fn save_backtest(
    conn: &Connection,
    new: &NewBacktest,
    origin: &Origin,
) -> Refusable<BacktestRecord> {
    if let Err(missing) = subject_exists(conn, new.plan_id, &Subject::Rules(new.rules_id.clone()))?
    {
        return Ok(Err(missing));
    }
    let made = made_under_key(
        conn,
        "backtests",
        BACKTEST_COLUMNS,
        origin,
        reads::backtest_row,
    )?;
    if let Some(row) = made {
        return Ok(BacktestRecord::try_from(row));
    }
    let id = BacktestId::new();
    let now = Timestamp::now();
    conn.prepare_cached(
        "INSERT INTO backtests (id, plan_id, rules_id, rules_version, proposal, report, summary, run_by, run_at, \
         request_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        id.to_string(),
        new.plan_id.to_string(),
        new.rules_id.as_str(),
        new.rules_version.get(),
        new.proposal.to_string(),
        new.report.to_string(),
        new.summary,
        new.run_by,
        now.as_micros(),
        origin.request_key,
    ])?;
    append(
        conn,
        &Entry::plan(
            new.plan_id,
            AuditAction::BacktestSave,
            format!("backtest/{id}"),
            origin,
            audit::backtest_saved(new),
        ),
    )?;
    Ok(Ok(BacktestRecord {
        id,
        backtest: new.clone(),
        run_at: now,
    }))
}

/// Stores a batch of case events under the plan's next generation; `EventId`s the plan
/// already has are skipped and counted. Timelines are folded in later (see [`fold`]).
pub(crate) fn ingest(
    conn: &Connection,
    plan_id: PlanId,
    events: &[caseload_domain::events::CaseEvent],
    origin: &Origin,
) -> Refusable<crate::Ingested> {
    if !reads::plan_exists(conn, plan_id)? {
        return Ok(Err(missing_plan(plan_id)));
    }
    let plan = plan_id.to_string();
    let generation = reads::activity(conn, &plan)?.generation + 1;
    let now = Timestamp::now().as_micros();
    let mut insert = conn.prepare_cached(
        "INSERT INTO case_events (event_key, plan_id, event_id, case_id, event_type, occurred_at, \
         category, priority, channel, team, agent, effort_minutes, amount_value, amount_currency, \
         outcome, received_at, generation) \
         VALUES (?16, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?17) \
         ON CONFLICT (event_key) DO NOTHING",
    )?;
    let mut accepted = 0;
    for e in events {
        accepted += insert.execute(params![
            plan,
            e.event_id.as_str(),
            e.case_id.as_str(),
            e.event_type.as_str(),
            e.occurred_at.as_micros(),
            e.category.as_ref().map(|l| l.as_str()),
            e.priority.map(|p| p.as_str()),
            e.channel.as_ref().map(|l| l.as_str()),
            e.team.as_ref().map(|l| l.as_str()),
            e.agent.as_ref().map(|l| l.as_str()),
            e.effort_minutes.map(|m| m.as_f64()),
            e.amount.as_ref().map(|a| a.value.to_string()),
            e.amount.as_ref().map(|a| a.currency.as_str()),
            e.outcome.as_ref().map(|l| l.as_str()),
            now,
            event_key(&plan, e.event_id.as_str()),
            generation,
        ])? as u64;
    }
    if accepted > 0 {
        conn.prepare_cached(
            "INSERT INTO plan_activity (plan_id, generation, folded, events) VALUES (?1, ?2, 0, ?3) \
             ON CONFLICT (plan_id) DO UPDATE SET generation = excluded.generation, \
             events = events + excluded.events",
        )?
        .execute(params![plan, generation, accepted as i64])?;
        append(
            conn,
            &Entry::plan(
                plan_id,
                AuditAction::EventsIngest,
                "case-events",
                origin,
                audit::batch_stored(events.len() as u64, accepted, generation),
            ),
        )?;
    }
    Ok(Ok(crate::Ingested {
        accepted,
        duplicates: events.len() as u64 - accepted,
    }))
}

/// Folds the next stored batches of a plan's events that its timelines do not include yet
/// into them (at most about [`timelines::FOLD_EVENTS`] events, whole batches) and answers
/// the generation the timelines now include; the caller repeats until it reaches the plan's
/// generation.
///
/// A stored timeline or event that does not read back fails the write like a failed
/// statement: it is not the caller's to fix, and nothing of the fold is kept.
pub(crate) fn fold(conn: &Connection, plan: PlanId) -> Refusable<reads::Activity> {
    let plan = plan.to_string();
    let activity = reads::activity(conn, &plan)?;
    if activity.folded >= activity.generation {
        return Ok(Ok(activity));
    }
    let pending: Vec<(i64, i64)> = conn
        .prepare_cached(
            "SELECT generation, count(*) FROM case_events \
             WHERE plan_id = ?1 AND generation > ?2 GROUP BY generation ORDER BY generation",
        )?
        .query_map(params![plan, activity.folded], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let through = timelines::fold_through(&pending).unwrap_or(activity.generation);
    let mut select = conn.prepare_cached(&format!(
        "SELECT {} FROM case_events WHERE plan_id = ?1 AND generation > ?2 AND generation <= ?3",
        timelines::EVENT_COLUMNS
    ))?;
    let rows = select.query_map(params![plan, activity.folded, through], |r| {
        Ok(EventRow {
            event_id: r.get(0)?,
            case_id: r.get(1)?,
            event_type: r.get(2)?,
            occurred_at: r.get(3)?,
            category: r.get(4)?,
            priority: r.get(5)?,
            channel: r.get(6)?,
            team: r.get(7)?,
            agent: r.get(8)?,
            effort_minutes: r.get(9)?,
            amount_value: r.get(10)?,
            amount_currency: r.get(11)?,
            outcome: r.get(12)?,
        })
    })?;
    let mut events = Vec::new();
    for row in rows {
        events.push(CaseEvent::try_from(row?).map_err(failed)?);
    }
    let mut read = conn.prepare_cached(
        "SELECT timeline FROM case_timelines WHERE plan_id = ?1 AND case_id = ?2",
    )?;
    let mut write = conn.prepare_cached(
        "INSERT INTO case_timelines (plan_id, case_id, first_seen_at, last_seen_at, is_open, \
         generation, timeline) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (plan_id, case_id) DO UPDATE SET first_seen_at = excluded.first_seen_at, \
         last_seen_at = excluded.last_seen_at, is_open = excluded.is_open, \
         generation = excluded.generation, timeline = excluded.timeline",
    )?;
    for (case, events) in timelines::by_case(&events) {
        let stored: Option<String> = read
            .query_row(params![plan, case], |r| r.get(0))
            .optional()?;
        let current = stored
            .as_deref()
            .map(timelines::parse)
            .transpose()
            .map_err(failed)?;
        let row = TimelineRow::of(&timelines::advanced(current, &events)).map_err(failed)?;
        write.execute(params![
            plan,
            case,
            row.first_seen_at,
            row.last_seen_at,
            row.is_open,
            through,
            row.document
        ])?;
    }
    conn.prepare_cached("UPDATE plan_activity SET folded = ?2 WHERE plan_id = ?1")?
        .execute(params![plan, through])?;
    Ok(Ok(reads::Activity {
        folded: through,
        ..activity
    }))
}

/// The 128-bit key that identifies an event within all plans: BLAKE3 of the plan id and the
/// `EventId` (the plan id has a fixed length, so the two cannot run into each other).
fn event_key(plan: &str, event_id: &str) -> [u8; 16] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(plan.as_bytes());
    hasher.update(event_id.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    key
}
