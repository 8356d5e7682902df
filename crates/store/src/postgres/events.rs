//! The case activity feed on PostgreSQL: a batch is one multi-row insert (arrays unnested
//! into rows) in one transaction; `EventId`s the plan already has are skipped. The timelines
//! of the cases the new events belong to move on in the same transaction.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use caseload_domain::analytics::{CaseTimeline, Window};
use caseload_domain::events::CaseEvent;
use caseload_domain::{PlanId, Timestamp};
use sqlx::PgConnection;

use super::{PgStore, lock_plan};
use crate::rows::missing_plan;
use crate::timelines::{self, TimelineRow};
use crate::{CaseEventStore, Ingested, StoreError};

#[async_trait]
impl CaseEventStore for PgStore {
    async fn ingest(&self, plan: PlanId, events: Vec<CaseEvent>) -> Result<Ingested, StoreError> {
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
        // Batches of one plan take turns from here on: each reads and moves on timelines
        // the next may touch.
        sqlx::query(
            "INSERT INTO plan_activity (plan_id, generation, events) VALUES ($1, 0, 0) \
             ON CONFLICT (plan_id) DO NOTHING",
        )
        .bind(plan.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query("SELECT 1 FROM plan_activity WHERE plan_id = $1 FOR UPDATE")
            .bind(plan.to_string())
            .execute(&mut *tx)
            .await?;
        let inserted: Vec<String> = sqlx::query_scalar(
            "INSERT INTO case_events (plan_id, event_id, case_id, event_type, occurred_at, category, \
             priority, channel, team, agent, effort_minutes, amount_value, amount_currency, outcome, \
             received_at) \
             SELECT $1, e.*, $15 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::bigint[], \
             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::float8[], \
             $12::text[], $13::text[], $14::text[]) AS e \
             ON CONFLICT (plan_id, event_id) DO NOTHING RETURNING event_id",
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
        .fetch_all(&mut *tx)
        .await?;
        // The first of the batch's events with each stored id is the one stored.
        let mut stored: HashSet<&str> = inserted.iter().map(String::as_str).collect();
        let accepted: Vec<&CaseEvent> = events
            .iter()
            .filter(|e| stored.remove(e.event_id.as_str()))
            .collect();
        if !accepted.is_empty() {
            advance_timelines(&mut tx, plan, &accepted).await?;
            sqlx::query(
                "UPDATE plan_activity SET generation = generation + 1, events = events + $2 \
                 WHERE plan_id = $1",
            )
            .bind(plan.to_string())
            .bind(accepted.len() as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Ingested {
            accepted: accepted.len() as u64,
            duplicates: (events.len() - accepted.len()) as u64,
        })
    }

    async fn case_event_count(&self, plan: PlanId) -> Result<u64, StoreError> {
        Ok(self.activity(plan).await?.1)
    }

    async fn activity_generation(&self, plan: PlanId) -> Result<u64, StoreError> {
        Ok(self.activity(plan).await?.0)
    }

    async fn case_timelines(
        &self,
        plan: PlanId,
        window: Window,
    ) -> Result<Vec<CaseTimeline>, StoreError> {
        self.activity(plan).await?;
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
        documents.iter().map(|d| timelines::parse(d)).collect()
    }
}

impl PgStore {
    /// A plan's activity generation and event count; not found for an unknown plan.
    async fn activity(&self, plan: PlanId) -> Result<(u64, u64), StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT coalesce(a.generation, 0), coalesce(a.events, 0) FROM plans p \
             LEFT JOIN plan_activity a ON a.plan_id = p.id WHERE p.id = $1",
        )
        .bind(plan.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let (generation, events) = row.ok_or_else(|| missing_plan(plan))?;
        Ok((generation.max(0) as u64, events.max(0) as u64))
    }
}

/// Moves on the timelines of the cases of newly stored `events`: reads the stored ones in
/// one query and writes them back in one.
async fn advance_timelines(
    tx: &mut PgConnection,
    plan: PlanId,
    events: &[&CaseEvent],
) -> Result<(), StoreError> {
    let cases = timelines::by_case(events.iter().copied());
    let case_ids: Vec<&str> = cases.iter().map(|(case, _)| *case).collect();
    let stored: Vec<(String, String)> = sqlx::query_as(
        "SELECT case_id, timeline FROM case_timelines WHERE plan_id = $1 AND case_id = ANY($2)",
    )
    .bind(plan.to_string())
    .bind(&case_ids)
    .fetch_all(&mut *tx)
    .await?;
    let mut stored: HashMap<String, String> = stored.into_iter().collect();
    let mut rows = Vec::with_capacity(cases.len());
    for (case, events) in &cases {
        let current = stored
            .remove(*case)
            .as_deref()
            .map(timelines::parse)
            .transpose()?;
        rows.push(TimelineRow::of(&timelines::advanced(current, events))?);
    }
    sqlx::query(
        "INSERT INTO case_timelines (plan_id, case_id, first_seen_at, last_seen_at, is_open, \
         timeline) \
         SELECT $1, * FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::bool[], $6::text[]) \
         ON CONFLICT (plan_id, case_id) DO UPDATE SET first_seen_at = excluded.first_seen_at, \
         last_seen_at = excluded.last_seen_at, is_open = excluded.is_open, \
         timeline = excluded.timeline",
    )
    .bind(plan.to_string())
    .bind(&case_ids)
    .bind(rows.iter().map(|r| r.first_seen_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.last_seen_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.is_open).collect::<Vec<_>>())
    .bind(rows.into_iter().map(|r| r.document).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}
