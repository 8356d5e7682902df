//! Management plans: created in a business unit the caller reaches, changed with their goals,
//! calendar and resource plan validated against what is stored.

use std::future::Future;

use caseload_domain::plan::{self, PlanSettings};
use caseload_domain::{Fields, PlanId, RecordKind, WriteMode};
use caseload_store::StoreError;
use serde_json::{Map, Value};

use crate::views::PlanView;
use caseload_store::audit::RequestContext;

use crate::{Actor, Caller, Service, ServiceError, UnitChoice, WriteRequest, stored};

impl Service {
    /// Creates a plan from a client's properties, with its goals, calendar and resource plan,
    /// in the business unit named by the extension property `BusinessUnit`: one the caller
    /// reaches; by default its only unit, or `default` for a caller that reaches all.
    pub async fn create_plan(
        &self,
        caller: &Caller,
        request: &RequestContext,
        body: &Map<String, Value>,
    ) -> Result<PlanView, ServiceError> {
        let choice = match body.get("BusinessUnit") {
            None | Some(Value::Null) => UnitChoice::Unnamed,
            Some(Value::String(unit)) => UnitChoice::Named(unit),
            Some(_) => UnitChoice::Malformed,
        };
        let unit = caller.unit_for_new_plan(choice)?;
        let mut body = body.clone();
        body.remove("BusinessUnit");
        let fields = Fields::parse(RecordKind::Plan, &body, &plan::PROPERTIES)?;
        let settings = PlanSettings::from_json(&body)?;
        let actor = Actor::through(caller.subject.clone(), request.clone());
        let plan = actor
            .scoped(
                self.db
                    .create_plan(fields, settings.to_json(), unit, caller.subject.clone()),
            )
            .await?;
        // A plan just created has no intervention requests yet.
        PlanView::new(plan, 0)
    }

    /// Changes a plan. Goals, calendar and resource plan given replace the stored ones
    /// (merge) or become the whole set (replace); the result is written only at the version
    /// it was computed from.
    pub async fn update_plan(
        &self,
        id: PlanId,
        body: &Map<String, Value>,
        write: &WriteRequest,
    ) -> Result<PlanView, ServiceError> {
        let fields = Fields::parse(RecordKind::Plan, body, &plan::PROPERTIES)?;
        let touches_settings = body.keys().any(|k| plan::PROPERTIES.contains(&k.as_str()));
        let plan = if write.mode == WriteMode::Replace || !touches_settings {
            let extensions = match write.mode {
                WriteMode::Replace => Some(PlanSettings::from_json(body)?.to_json()),
                WriteMode::Merge => None,
            };
            let change = write.change(fields, extensions);
            write.actor.scoped(self.db.update_plan(id, change)).await?
        } else {
            retry_on_race(write, || async {
                let current = self.db.plan(id).await?;
                let settings = stored::plan_settings(&current)?.patched(body)?;
                let mut change = write.change(fields.clone(), Some(settings.to_json()));
                change.expected = Some(write.expected.unwrap_or(current.meta.version));
                Ok(write.actor.scoped(self.db.update_plan(id, change)).await)
            })
            .await?
        };
        let open = self
            .db
            .open_interventions(plan.id, caseload_domain::Subject::Plan)
            .await?;
        PlanView::new(plan, open)
    }
}

/// How often a settings write is tried when another writer gets in between reading the
/// stored settings and writing the validated result.
const SETTINGS_ATTEMPTS: usize = 3;

/// Runs a read-validate-write `attempt` (validation errors in the outer result, the write's
/// own result inside) and runs it again when the record changed in between. With `If-Match`
/// the client named the version, so a conflict is the client's to see and is not retried.
pub(crate) async fn retry_on_race<T, F, Fut>(
    write: &WriteRequest,
    mut attempt: F,
) -> Result<T, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Result<T, StoreError>, ServiceError>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await? {
            Err(StoreError::VersionMismatch { .. })
                if write.expected.is_none() && tries < SETTINGS_ATTEMPTS => {}
            result => return Ok(result?),
        }
    }
}
