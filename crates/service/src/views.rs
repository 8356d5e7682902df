//! What a plan or record shows besides its stored properties: open intervention requests,
//! its typed settings and, for a criterion, its recorded-case history and latest back-test,
//! for a Performance record its computed figures. A surface renders these in its own form.

use std::sync::Arc;

use caseload_domain::analytics::PerformanceSettings;
use caseload_domain::criterion::CriterionSettings;
use caseload_domain::plan::PlanSettings;
use caseload_domain::{
    BacktestRecord, ChildKind, ChildRecord, HistorySummary, Page, PageRequest, Plan, PlanId,
    RecordId, Subject, Timestamp,
};

use crate::performance::Shown;
use crate::stored;
use crate::{Caller, Service, ServiceError};

/// A plan as shown.
#[derive(Debug, Clone)]
pub struct PlanView {
    /// The stored plan.
    pub plan: Plan,
    /// How many intervention requests about the plan are open.
    pub open_interventions: i64,
    /// Its goals, calendar and resource plan.
    pub settings: PlanSettings,
}

/// A rule or performance record as shown.
#[derive(Debug, Clone)]
pub struct RecordView {
    /// The stored record.
    pub record: ChildRecord,
    /// How many intervention requests about the record are open.
    pub open_interventions: i64,
    /// What the record's kind adds.
    pub details: RecordDetails,
}

/// What a record's kind adds to it.
#[derive(Debug, Clone)]
pub enum RecordDetails {
    /// A case decision criterion.
    Rules {
        /// Its expression, parameters and decisions.
        settings: CriterionSettings,
        /// Its recorded cases: count, dates, outcome mix.
        history: HistorySummary,
        /// Its most recent back-test, if any.
        latest_backtest: Option<Box<BacktestRecord>>,
    },
    /// A performance record.
    Performance {
        /// Its window and breakdown.
        settings: PerformanceSettings,
        /// The figures computed for it; `None` when its statistic type is not one the
        /// service computes.
        figures: Option<Arc<Shown>>,
    },
}

/// The subject an intervention about a record names.
pub(crate) fn subject_of(kind: ChildKind, id: RecordId) -> Subject {
    match kind {
        ChildKind::Rules => Subject::Rules(id),
        ChildKind::Performance => Subject::Performance(id),
    }
}

impl PlanView {
    /// The view of `plan` with `open_interventions` open requests.
    pub fn new(plan: Plan, open_interventions: i64) -> Result<Self, ServiceError> {
        Ok(Self {
            settings: stored::plan_settings(&plan)?,
            plan,
            open_interventions,
        })
    }
}

impl Service {
    /// A plan as shown, in one read.
    pub async fn plan(&self, id: PlanId) -> Result<PlanView, ServiceError> {
        let (plan, open) = self.db.plan_with_open_interventions(id).await?;
        PlanView::new(plan, open)
    }

    /// A page of the plans `caller` reaches, oldest first.
    pub async fn plans(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<Page<PlanView>, ServiceError> {
        let page = self.db.plans(page, &caller.units).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for plan in page.items {
            let open = self.db.open_interventions(plan.id, Subject::Plan).await?;
            items.push(PlanView::new(plan, open)?);
        }
        Ok(Page {
            items,
            next_after: page.next_after,
        })
    }

    /// A rule or performance record as shown.
    pub async fn record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
    ) -> Result<RecordView, ServiceError> {
        let record = self.db.record(kind, plan, id).await?;
        self.record_view(record).await
    }

    /// A page of a plan's records of one kind, in id order, as shown.
    pub async fn records(
        &self,
        kind: ChildKind,
        plan: PlanId,
        page: PageRequest,
    ) -> Result<Page<RecordView>, ServiceError> {
        let page = self.db.records(kind, plan, page).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for record in page.items {
            items.push(self.record_view(record).await?);
        }
        Ok(Page {
            items,
            next_after: page.next_after,
        })
    }

    /// `record` as shown.
    pub(crate) async fn record_view(
        &self,
        record: ChildRecord,
    ) -> Result<RecordView, ServiceError> {
        let open = self
            .db
            .open_interventions(record.plan_id, subject_of(record.kind, record.id.clone()))
            .await?;
        let details = match record.kind {
            ChildKind::Rules => RecordDetails::Rules {
                settings: stored::criterion_settings(&record)?,
                history: self
                    .db
                    .history_summary(record.plan_id, record.id.clone())
                    .await?,
                latest_backtest: self
                    .db
                    .latest_backtest(record.plan_id, record.id.clone())
                    .await?
                    .map(Box::new),
            },
            ChildKind::Performance => RecordDetails::Performance {
                settings: stored::performance_settings(&record)?,
                figures: self
                    .analyst
                    .figures(self.db.as_ref(), &record, Timestamp::now())
                    .await?,
            },
        };
        Ok(RecordView {
            record,
            open_interventions: open,
            details,
        })
    }
}
