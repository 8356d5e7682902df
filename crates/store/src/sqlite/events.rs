//! Case events on SQLite: ingest stores a batch under the plan's next generation; the
//! background fold advances the case timelines over the stored batches; reads serve the
//! timelines a window needs.

use std::sync::Arc;

use async_trait::async_trait;
use caseload_domain::analytics::{CaseTimeline, Window};
use caseload_domain::events::CaseEvent;
use caseload_domain::{PlanId, Timestamp};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::audit::append;
use super::{Refusable, SqliteStore, plan_exists};
use crate::audit::{self, AuditAction, Entry, Origin};
use crate::rows::missing_plan;
use crate::timelines::{self, EventRow, TimelineRow};
use crate::{CaseEventStore, Ingested, StoreError};

#[async_trait]
impl CaseEventStore for SqliteStore {
    async fn ingest(
        &self,
        plan: PlanId,
        events: Vec<caseload_domain::events::CaseEvent>,
        actor: String,
    ) -> Result<Ingested, StoreError> {
        let origin = Origin::new(actor);
        self.write(move |conn| ingest(conn, plan, &events, &origin))
            .await
    }

    async fn case_event_count(&self, plan: PlanId) -> Result<u64, StoreError> {
        Ok(self.activity(plan)?.events.max(0) as u64)
    }

    async fn activity_generation(&self, plan: PlanId) -> Result<u64, StoreError> {
        Ok(self.activity(plan)?.generation.max(0) as u64)
    }

    async fn fold_timelines(&self, plan: PlanId) -> Result<u64, StoreError> {
        let mut activity = self.activity(plan)?;
        while activity.folded < activity.generation {
            activity = match self.read_long(move |conn| prepare_fold(conn, plan)).await? {
                Err(current) => current,
                Ok(fold) => {
                    let fold = std::sync::Arc::new(fold);
                    self.write(move |conn| apply_fold(conn, plan, &fold))
                        .await?
                }
            };
        }
        Ok(activity.generation.max(0) as u64)
    }

    async fn case_timelines(
        &self,
        plan: PlanId,
        window: Window,
    ) -> Result<Vec<Arc<CaseTimeline>>, StoreError> {
        self.fold_timelines(plan).await?;
        self.read_long(move |conn| case_timelines(conn, plan, window))
            .await
    }

    async fn case_timelines_changed(
        &self,
        plan: PlanId,
        after: u64,
    ) -> Result<Vec<Arc<CaseTimeline>>, StoreError> {
        self.fold_timelines(plan).await?;
        self.read_long(move |conn| case_timelines_changed(conn, plan, after))
            .await
    }
}

impl SqliteStore {
    /// A plan's activity; not found for an unknown plan.
    fn activity(&self, plan: PlanId) -> Result<Activity, StoreError> {
        let found = self.read(|conn| {
            if plan_exists(conn, plan)? {
                activity(conn, &plan.to_string()).map(Some)
            } else {
                Ok(None)
            }
        })?;
        found.ok_or_else(|| missing_plan(plan))
    }
}

/// Stores a batch of case events under the plan's next generation; `EventId`s the plan
/// already has are skipped and counted. Timelines are folded in later (see [`fold`]).
pub(crate) fn ingest(
    conn: &Connection,
    plan_id: PlanId,
    events: &[caseload_domain::events::CaseEvent],
    origin: &Origin,
) -> Refusable<crate::Ingested> {
    if !plan_exists(conn, plan_id)? {
        return Ok(Err(missing_plan(plan_id)));
    }
    let plan = plan_id.to_string();
    let generation = activity(conn, &plan)?.generation + 1;
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

/// The next fold of a plan's events into its case timelines, computed on a reader: the
/// generation the timelines included when it was computed, the one they include after it,
/// and the new row of each case it changes.
pub(crate) struct Fold {
    from: i64,
    through: i64,
    cases: Vec<String>,
    rows: Vec<TimelineRow>,
}

/// Computes the next fold of a plan's stored batches that its timelines do not include yet
/// (at most about [`timelines::FOLD_EVENTS`] events, whole batches), or answers the plan's
/// activity when there is none. It reads in one read transaction on a reader connection, so
/// that reading the events back, parsing the timelines and computing their next state do not
/// hold up the writer; [`apply_fold`] writes the result.
///
/// A stored timeline or event that does not read back is an internal error: it is not the
/// caller's to fix, and nothing of the fold is written.
pub(crate) fn prepare_fold(
    conn: &Connection,
    plan: PlanId,
) -> Result<Result<Fold, Activity>, StoreError> {
    let snapshot = conn.unchecked_transaction()?;
    let plan = plan.to_string();
    let activity = activity(&snapshot, &plan)?;
    if activity.folded >= activity.generation {
        return Ok(Err(activity));
    }
    let pending: Vec<(i64, i64)> = snapshot
        .prepare_cached(
            "SELECT generation, count(*) FROM case_events \
             WHERE plan_id = ?1 AND generation > ?2 GROUP BY generation ORDER BY generation",
        )?
        .query_map(params![plan, activity.folded], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let through = timelines::fold_through(&pending).unwrap_or(activity.generation);
    let mut select = snapshot.prepare_cached(&format!(
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
        events.push(CaseEvent::try_from(row?)?);
    }
    let mut read = snapshot.prepare_cached(
        "SELECT timeline FROM case_timelines WHERE plan_id = ?1 AND case_id = ?2",
    )?;
    let cases = timelines::by_case(&events);
    let rows = timelines::next_rows(&cases, |case| {
        Ok(read
            .query_row(params![plan, case], |r| r.get(0))
            .optional()?)
    })?;
    Ok(Ok(Fold {
        from: activity.folded,
        through,
        cases: cases.iter().map(|(case, _)| (*case).to_owned()).collect(),
        rows,
    }))
}

/// Writes a fold computed by [`prepare_fold`] and answers the plan's activity after it;
/// writes nothing when another fold of the plan was written after this one was computed (the
/// caller then computes the next one from what is stored).
pub(crate) fn apply_fold(conn: &Connection, plan: PlanId, fold: &Fold) -> Refusable<Activity> {
    let plan = plan.to_string();
    let activity = activity(conn, &plan)?;
    if activity.folded != fold.from {
        return Ok(Ok(activity));
    }
    let mut write = conn.prepare_cached(
        "INSERT INTO case_timelines (plan_id, case_id, first_seen_at, last_seen_at, is_open, \
         generation, timeline) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (plan_id, case_id) DO UPDATE SET first_seen_at = excluded.first_seen_at, \
         last_seen_at = excluded.last_seen_at, is_open = excluded.is_open, \
         generation = excluded.generation, timeline = excluded.timeline",
    )?;
    for (case, row) in fold.cases.iter().zip(&fold.rows) {
        write.execute(params![
            plan,
            case,
            row.first_seen_at,
            row.last_seen_at,
            row.is_open,
            fold.through,
            row.document
        ])?;
    }
    conn.prepare_cached("UPDATE plan_activity SET folded = ?2 WHERE plan_id = ?1")?
        .execute(params![plan, fold.through])?;
    Ok(Ok(Activity {
        folded: fold.through,
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

/// The timelines of a plan's cases that matter for `window`: seen in it or the window before
/// it, or still open (two index ranges, one per reason).
pub(crate) fn case_timelines(
    conn: &Connection,
    plan: PlanId,
    window: Window,
) -> Result<Vec<Arc<CaseTimeline>>, StoreError> {
    if !plan_exists(conn, plan)? {
        return Err(missing_plan(plan));
    }
    let (plan, start, end) = (
        plan.to_string(),
        window.previous().start().as_micros(),
        window.end().as_micros(),
    );
    // When most of the plan's cases matter (a wide recent window, such as the cover a plan's
    // figures are computed from), reading the plan's timelines in key order costs about a
    // quarter of finding each through the two indexes; for a narrow window the indexes win.
    // Counting the recent ones reads only the small `case_timelines_recent` index.
    let (cases, recent): (i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(last_seen_at >= ?2), 0) FROM case_timelines \
             WHERE plan_id = ?1",
        )?
        .query_row(params![plan, start], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut select = if recent.saturating_mul(4) >= cases {
        conn.prepare_cached(
            "SELECT timeline FROM case_timelines NOT INDEXED \
             WHERE plan_id = ?1 AND first_seen_at < ?3 AND (last_seen_at >= ?2 OR is_open = 1)",
        )?
    } else {
        conn.prepare_cached(
            "SELECT timeline FROM case_timelines \
             WHERE plan_id = ?1 AND last_seen_at >= ?2 AND first_seen_at < ?3 \
             UNION ALL \
             SELECT timeline FROM case_timelines \
             WHERE plan_id = ?1 AND is_open = 1 AND first_seen_at < ?3 AND last_seen_at < ?2",
        )?
    };
    let rows = select.query(params![plan, start, end])?;
    parsed_timelines(rows)
}

/// How far a plan's activity has got: the generation of its last batch, the generation its
/// timelines include, and its event count (all 0 before the first batch).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Activity {
    pub generation: i64,
    pub folded: i64,
    pub events: i64,
}

pub(crate) fn activity(conn: &Connection, plan: &str) -> rusqlite::Result<Activity> {
    Ok(conn
        .prepare_cached("SELECT generation, folded, events FROM plan_activity WHERE plan_id = ?1")?
        .query_row([plan], |r| {
            Ok(Activity {
                generation: r.get(0)?,
                folded: r.get(1)?,
                events: r.get(2)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// The timelines of a plan's cases changed by folds after generation `after`.
pub(crate) fn case_timelines_changed(
    conn: &Connection,
    plan: PlanId,
    after: u64,
) -> Result<Vec<Arc<CaseTimeline>>, StoreError> {
    let mut select = conn.prepare_cached(
        "SELECT timeline FROM case_timelines WHERE plan_id = ?1 AND generation > ?2",
    )?;
    let rows = select.query(params![plan.to_string(), after as i64])?;
    parsed_timelines(rows)
}

/// Reads back the timelines of rows whose first column is a timeline document. Each is
/// parsed straight into the shared allocation its readers keep (a plan may have hundreds of
/// thousands, so the list holds pointers and grows by copying those only).
fn parsed_timelines(mut rows: rusqlite::Rows<'_>) -> Result<Vec<Arc<CaseTimeline>>, StoreError> {
    let mut cases = Vec::new();
    while let Some(row) = rows.next()? {
        let document = row
            .get_ref(0)?
            .as_str()
            .map_err(|e| StoreError::Internal(format!("stored case timeline: {e}")))?;
        cases.push(Arc::new(timelines::parse(document)?));
    }
    Ok(cases)
}
