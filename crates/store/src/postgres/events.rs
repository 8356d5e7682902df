//! The case activity feed on PostgreSQL: a batch is one multi-row insert (arrays unnested
//! into rows) in one transaction under the plan's next generation; `EventId`s the plan
//! already has are skipped; a batch that stores events appends one audit record. Folding
//! them into the case timelines happens afterwards, in transactions of its own (derived
//! data: not audited).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use caseload_domain::analytics::{CaseTimeline, Window};
use caseload_domain::events::CaseEvent;
use caseload_domain::{PlanId, Timestamp};

use super::{PgStore, audit::append, lock_plan};
use crate::audit::{self, AuditAction, Entry, Origin};
use crate::rows::missing_plan;
use crate::timelines::{self, EventRow};
use crate::{CaseEventStore, Ingested, StoreError};

#[async_trait]
impl CaseEventStore for PgStore {
    async fn ingest(
        &self,
        plan: PlanId,
        events: Vec<CaseEvent>,
        actor: String,
    ) -> Result<Ingested, StoreError> {
        let origin = Origin::new(actor);
        let label = |f: fn(&CaseEvent) -> Option<&str>| -> Vec<Option<String>> {
            events.iter().map(|e| f(e).map(str::to_owned)).collect()
        };
        let event_ids: Vec<String> = events
            .iter()
            .map(|e| e.event_id.as_str().to_owned())
            .collect();
        let case_ids: Vec<String> = events
            .iter()
            .map(|e| e.case_id.as_str().to_owned())
            .collect();
        let types: Vec<String> = events
            .iter()
            .map(|e| e.event_type.as_str().to_owned())
            .collect();
        let occurred: Vec<i64> = events.iter().map(|e| e.occurred_at.as_micros()).collect();
        let categories = label(|e| e.category.as_ref().map(|l| l.as_str()));
        let priorities = label(|e| e.priority.map(|p| p.as_str()));
        let channels = label(|e| e.channel.as_ref().map(|l| l.as_str()));
        let teams = label(|e| e.team.as_ref().map(|l| l.as_str()));
        let agents = label(|e| e.agent.as_ref().map(|l| l.as_str()));
        let efforts: Vec<Option<f64>> = events
            .iter()
            .map(|e| e.effort_minutes.map(|m| m.as_f64()))
            .collect();
        let values: Vec<Option<String>> = events
            .iter()
            .map(|e| e.amount.as_ref().map(|a| a.value.to_string()))
            .collect();
        let currencies = label(|e| e.amount.as_ref().map(|a| a.currency.as_str()));
        let outcomes = label(|e| e.outcome.as_ref().map(|l| l.as_str()));

        let mut tx = self.begin().await?;
        lock_plan(&mut tx, plan).await?;
        // Batches of one plan take turns from here on, so generations follow commit order.
        sqlx::query(
            "INSERT INTO plan_activity (plan_id, generation, folded, events) VALUES ($1, 0, 0, 0) \
             ON CONFLICT (plan_id) DO NOTHING",
        )
        .bind(plan.to_string())
        .execute(&mut *tx)
        .await?;
        let generation: i64 = sqlx::query_scalar(
            "SELECT generation FROM plan_activity WHERE plan_id = $1 FOR UPDATE",
        )
        .bind(plan.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let generation = generation + 1;
        let accepted = sqlx::query(
            "INSERT INTO case_events (plan_id, event_id, case_id, event_type, occurred_at, category, \
             priority, channel, team, agent, effort_minutes, amount_value, amount_currency, outcome, \
             received_at, generation) \
             SELECT $1, e.*, $15, $16 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::bigint[], \
             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::float8[], \
             $12::text[], $13::text[], $14::text[]) AS e \
             ON CONFLICT (plan_id, event_id) DO NOTHING",
        )
        .bind(plan.to_string())
        .bind(event_ids)
        .bind(case_ids)
        .bind(types)
        .bind(occurred)
        .bind(categories)
        .bind(priorities)
        .bind(channels)
        .bind(teams)
        .bind(agents)
        .bind(efforts)
        .bind(values)
        .bind(currencies)
        .bind(outcomes)
        .bind(Timestamp::now().as_micros())
        .bind(generation)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if accepted > 0 {
            sqlx::query(
                "UPDATE plan_activity SET generation = $2, events = events + $3 WHERE plan_id = $1",
            )
            .bind(plan.to_string())
            .bind(generation)
            .bind(accepted as i64)
            .execute(&mut *tx)
            .await?;
            let entry = Entry::plan(
                plan,
                AuditAction::EventsIngest,
                "case-events",
                &origin,
                audit::batch_stored(events.len() as u64, accepted, generation),
            );
            append(&mut tx, &entry).await?;
        }
        tx.commit().await?;
        Ok(Ingested {
            accepted,
            duplicates: events.len() as u64 - accepted,
        })
    }

    async fn case_event_count(&self, plan: PlanId) -> Result<u64, StoreError> {
        Ok(self.activity(plan).await?.events.max(0) as u64)
    }

    async fn activity_generation(&self, plan: PlanId) -> Result<u64, StoreError> {
        Ok(self.activity(plan).await?.generation.max(0) as u64)
    }

    async fn fold_timelines(&self, plan: PlanId) -> Result<u64, StoreError> {
        let mut activity = self.activity(plan).await?;
        while activity.folded < activity.generation {
            activity = self.fold(plan).await?;
        }
        Ok(activity.generation.max(0) as u64)
    }

    async fn case_timelines(
        &self,
        plan: PlanId,
        window: Window,
    ) -> Result<Vec<Arc<CaseTimeline>>, StoreError> {
        self.fold_timelines(plan).await?;
        let documents: Vec<String> = sqlx::query_scalar(
            "SELECT timeline FROM case_timelines \
             WHERE plan_id = $1 AND last_seen_at >= $2 AND first_seen_at < $3 \
             UNION ALL \
             SELECT timeline FROM case_timelines \
             WHERE plan_id = $1 AND is_open AND first_seen_at < $3 AND last_seen_at < $2",
        )
        .bind(plan.to_string())
        .bind(window.previous().start().as_micros())
        .bind(window.end().as_micros())
        .fetch_all(&self.pool)
        .await?;
        documents
            .iter()
            .map(|d| timelines::parse(d).map(Arc::new))
            .collect()
    }

    async fn case_timelines_changed(
        &self,
        plan: PlanId,
        after: u64,
    ) -> Result<Vec<Arc<CaseTimeline>>, StoreError> {
        self.fold_timelines(plan).await?;
        let documents: Vec<String> = sqlx::query_scalar(
            "SELECT timeline FROM case_timelines WHERE plan_id = $1 AND generation > $2",
        )
        .bind(plan.to_string())
        .bind(after as i64)
        .fetch_all(&self.pool)
        .await?;
        documents
            .iter()
            .map(|d| timelines::parse(d).map(Arc::new))
            .collect()
    }
}

/// How far a plan's activity has got (all 0 before the first batch).
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
struct Activity {
    generation: i64,
    folded: i64,
    events: i64,
}

impl PgStore {
    /// A plan's activity; not found for an unknown plan.
    async fn activity(&self, plan: PlanId) -> Result<Activity, StoreError> {
        let row: Option<Activity> = sqlx::query_as(
            "SELECT coalesce(a.generation, 0) AS generation, coalesce(a.folded, 0) AS folded, \
             coalesce(a.events, 0) AS events FROM plans p \
             LEFT JOIN plan_activity a ON a.plan_id = p.id WHERE p.id = $1",
        )
        .bind(plan.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| missing_plan(plan))
    }

    /// Folds the next stored batches (whole batches, about [`timelines::FOLD_EVENTS`]
    /// events at most) into the timelines in one transaction. Folds of one plan take turns
    /// (a transaction-scoped advisory lock on the plan); batches keep arriving meanwhile.
    async fn fold(&self, plan: PlanId) -> Result<Activity, StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
            .bind(plan.to_string())
            .execute(&mut *tx)
            .await?;
        let activity: Activity = sqlx::query_as(
            "SELECT generation, folded, events FROM plan_activity WHERE plan_id = $1",
        )
        .bind(plan.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or_default();
        if activity.folded >= activity.generation {
            return Ok(activity);
        }
        let pending: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT generation, count(*) FROM case_events WHERE plan_id = $1 AND generation > $2 \
             GROUP BY generation ORDER BY generation",
        )
        .bind(plan.to_string())
        .bind(activity.folded)
        .fetch_all(&mut *tx)
        .await?;
        let through = timelines::fold_through(&pending).unwrap_or(activity.generation);
        let rows: Vec<StoredEvent> = sqlx::query_as(&format!(
            "SELECT {} FROM case_events WHERE plan_id = $1 AND generation > $2 AND generation <= $3",
            timelines::EVENT_COLUMNS
        ))
        .bind(plan.to_string())
        .bind(activity.folded)
        .bind(through)
        .fetch_all(&mut *tx)
        .await?;
        let events = rows
            .into_iter()
            .map(|r| CaseEvent::try_from(EventRow::from(r)))
            .collect::<Result<Vec<_>, _>>()?;
        let cases = timelines::by_case(&events);
        let case_ids: Vec<&str> = cases.iter().map(|(case, _)| *case).collect();
        let stored: Vec<(String, String)> = sqlx::query_as(
            "SELECT case_id, timeline FROM case_timelines WHERE plan_id = $1 AND case_id = ANY($2)",
        )
        .bind(plan.to_string())
        .bind(&case_ids)
        .fetch_all(&mut *tx)
        .await?;
        let mut stored: HashMap<String, String> = stored.into_iter().collect();
        let rows = timelines::next_rows(&cases, |case| Ok(stored.remove(case)))?;
        sqlx::query(
            "INSERT INTO case_timelines (plan_id, case_id, first_seen_at, last_seen_at, is_open, \
             generation, timeline) \
             SELECT $1, c, f, l, o, $7, t \
             FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::bool[], $6::text[]) \
             AS u(c, f, l, o, t) \
             ON CONFLICT (plan_id, case_id) DO UPDATE SET first_seen_at = excluded.first_seen_at, \
             last_seen_at = excluded.last_seen_at, is_open = excluded.is_open, \
             generation = excluded.generation, timeline = excluded.timeline",
        )
        .bind(plan.to_string())
        .bind(&case_ids)
        .bind(rows.iter().map(|r| r.first_seen_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.last_seen_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.is_open).collect::<Vec<_>>())
        .bind(rows.into_iter().map(|r| r.document).collect::<Vec<_>>())
        .bind(through)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE plan_activity SET folded = $2 WHERE plan_id = $1")
            .bind(plan.to_string())
            .bind(through)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Activity {
            folded: through,
            ..activity
        })
    }
}

/// A stored event as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct StoredEvent {
    event_id: String,
    case_id: String,
    event_type: String,
    occurred_at: i64,
    category: Option<String>,
    priority: Option<String>,
    channel: Option<String>,
    team: Option<String>,
    agent: Option<String>,
    effort_minutes: Option<f64>,
    amount_value: Option<String>,
    amount_currency: Option<String>,
    outcome: Option<String>,
}

impl From<StoredEvent> for EventRow {
    fn from(e: StoredEvent) -> Self {
        Self {
            event_id: e.event_id,
            case_id: e.case_id,
            event_type: e.event_type,
            occurred_at: e.occurred_at,
            category: e.category,
            priority: e.priority,
            channel: e.channel,
            team: e.team,
            agent: e.agent,
            effort_minutes: e.effort_minutes,
            amount_value: e.amount_value,
            amount_currency: e.amount_currency,
            outcome: e.outcome,
        }
    }
}
