//! The case activity feed on PostgreSQL: a batch is one multi-row insert (arrays unnested
//! into rows) in one transaction; `EventId`s the plan already has are skipped.

use async_trait::async_trait;
use caseload_domain::events::CaseEvent;
use caseload_domain::{PlanId, Timestamp};

use super::{PgStore, lock_plan};
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
        let inserted = sqlx::query(
            "INSERT INTO case_events (plan_id, event_id, case_id, event_type, occurred_at, category, \
             priority, channel, team, agent, effort_minutes, amount_value, amount_currency, outcome, \
             received_at) \
             SELECT $1, e.*, $15 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::bigint[], \
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
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(Ingested {
            accepted: inserted,
            duplicates: events.len() as u64 - inserted,
        })
    }

    async fn case_event_count(&self, plan: PlanId) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM case_events WHERE plan_id = $1")
            .bind(plan.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(count.max(0) as u64)
    }
}
