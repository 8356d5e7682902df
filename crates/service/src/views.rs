//! What a plan or record shows besides its stored properties: open intervention requests,
//! its typed settings and, for a criterion, its recorded-case history and latest back-test,
//! for a Performance record its computed figures. A surface renders these in its own form.

use std::sync::Arc;

use caseload_domain::analytics::PerformanceSettings;
use caseload_domain::criterion::CriterionSettings;
use caseload_domain::plan::PlanSettings;
use caseload_domain::{
    BacktestRecord, ChildKind, ChildRecord, HistorySummary, Page, PageRequest, Plan, PlanId,
    RecordId, Timestamp,
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

    /// A page of the plans `caller` reaches, oldest first: two store reads, however long the
    /// page.
    pub async fn plans(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<Page<PlanView>, ServiceError> {
        let page = self.db.plans(page, &caller.units).await?;
        let ids: Vec<PlanId> = page.items.iter().map(|p| p.id).collect();
        let open = self.db.open_plan_interventions(&ids).await?;
        let items = page
            .items
            .into_iter()
            .map(|plan| {
                let count = open.get(&plan.id).copied().unwrap_or(0);
                PlanView::new(plan, count)
            })
            .collect::<Result<_, _>>()?;
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

    /// A page of a plan's records of one kind, in id order, as shown: a fixed number of store
    /// reads however long the page (the records, their open requests and, for criteria, their
    /// histories and latest back-tests; a Performance record's figures come from the figures
    /// cache, which reads the plan's timelines once per generation).
    pub async fn records(
        &self,
        kind: ChildKind,
        plan: PlanId,
        page: PageRequest,
    ) -> Result<Page<RecordView>, ServiceError> {
        let page = self.db.records(kind, plan, page).await?;
        let views = self.record_views(kind, plan, page.items).await?;
        Ok(Page {
            items: views,
            next_after: page.next_after,
        })
    }

    /// `records` (all of `kind` under `plan`) as shown.
    async fn record_views(
        &self,
        kind: ChildKind,
        plan: PlanId,
        records: Vec<ChildRecord>,
    ) -> Result<Vec<RecordView>, ServiceError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<RecordId> = records.iter().map(|r| r.id.clone()).collect();
        let open = self.db.open_record_interventions(plan, kind, &ids).await?;
        let (mut histories, mut backtests) = match kind {
            ChildKind::Rules => (
                self.db.history_summaries(plan, &ids).await?,
                self.db.latest_backtests(plan, &ids).await?,
            ),
            ChildKind::Performance => Default::default(),
        };
        let now = Timestamp::now();
        // What computed figures rest on, read once for the page, if any record has them.
        let basis = match kind {
            ChildKind::Performance
                if records
                    .iter()
                    .any(|r| crate::performance::statistic_type(r).is_some()) =>
            {
                Some(self.analyst.basis(self.db.as_ref(), plan).await?)
            }
            _ => None,
        };
        let mut views = Vec::with_capacity(records.len());
        for record in records {
            let details = match kind {
                ChildKind::Rules => RecordDetails::Rules {
                    settings: stored::criterion_settings(&record)?,
                    history: histories.remove(&record.id).unwrap_or_default(),
                    latest_backtest: backtests.remove(&record.id).map(Box::new),
                },
                ChildKind::Performance => RecordDetails::Performance {
                    settings: stored::performance_settings(&record)?,
                    figures: match &basis {
                        Some(basis) => {
                            self.analyst
                                .figures(self.db.as_ref(), basis, &record, now)
                                .await?
                        }
                        None => None,
                    },
                },
            };
            views.push(RecordView {
                open_interventions: open.get(&record.id).copied().unwrap_or(0),
                record,
                details,
            });
        }
        Ok(views)
    }

    /// `record` as shown.
    pub(crate) async fn record_view(
        &self,
        record: ChildRecord,
    ) -> Result<RecordView, ServiceError> {
        let (kind, plan) = (record.kind, record.plan_id);
        let mut views = self.record_views(kind, plan, vec![record]).await?;
        views
            .pop()
            .ok_or_else(|| ServiceError::Internal("a record's view is missing".to_owned()))
    }
}
