//! Manual intervention requests about a plan, a criterion or a performance record, and the
//! moves of their lifecycle (open → acknowledged → resolved or rejected).

use caseload_domain::{
    Fields, Intervention, InterventionId, InterventionStatus, NewIntervention, Page, PageRequest,
    PlanId, RecordKind, Subject, Transition, Version,
};
use caseload_store::{InterventionFilter, StatusChange};
use serde_json::{Map, Value};

use crate::input::{only, optional_text};
use crate::{Actor, Service, ServiceError};

/// Extension properties a BIAN `Request` body may carry besides the record's properties.
pub const REQUEST_EXTENSIONS: &[&str] = &["Reason", "RequestedAction"];

/// The record kind an intervention's details are validated against.
fn subject_kind(subject: &Subject) -> RecordKind {
    match subject {
        Subject::Plan => RecordKind::Plan,
        Subject::Rules(_) => RecordKind::Rules,
        Subject::Performance(_) => RecordKind::Performance,
    }
}

impl Service {
    /// Records an intervention from a BIAN `Request` body: the subject's properties the
    /// request is about, plus the optional extensions `Reason` and `RequestedAction`.
    pub async fn request_intervention(
        &self,
        plan: PlanId,
        subject: Subject,
        body: &Map<String, Value>,
        requester: Actor,
    ) -> Result<Intervention, ServiceError> {
        let details = Fields::parse(subject_kind(&subject), body, REQUEST_EXTENSIONS)?;
        self.record_intervention(plan, subject, details, body, requester)
            .await
    }

    /// Records an intervention from a facade body: `Reason`, `RequestedAction` and `Details`
    /// (the subject's properties the request is about).
    pub async fn create_intervention(
        &self,
        plan: PlanId,
        subject: Subject,
        body: &Map<String, Value>,
        requester: Actor,
    ) -> Result<Intervention, ServiceError> {
        only(body, &["Reason", "RequestedAction", "Details"])?;
        let details = match body.get("Details") {
            None | Some(Value::Null) => Fields::default(),
            Some(Value::Object(map)) => Fields::parse(subject_kind(&subject), map, &[])
                .map_err(|e| ServiceError::invalid_property("Details", format!("Details: {e}")))?,
            Some(_) => {
                return Err(ServiceError::invalid_property(
                    "Details",
                    "property 'Details' must be an object",
                ));
            }
        };
        self.record_intervention(plan, subject, details, body, requester)
            .await
    }

    /// Stores an intervention with the `Reason` and `RequestedAction` of `body`.
    async fn record_intervention(
        &self,
        plan: PlanId,
        subject: Subject,
        details: Fields,
        body: &Map<String, Value>,
        requester: Actor,
    ) -> Result<Intervention, ServiceError> {
        let new = NewIntervention {
            plan_id: plan,
            reason: optional_text(body, "Reason")?,
            requested_action: optional_text(body, "RequestedAction")?,
            subject,
            details,
            requester: requester.subject.clone(),
        };
        Ok(requester.scoped(self.db.create_intervention(new)).await?)
    }

    /// A plan's intervention requests, newest first: about one subject or all, in one status
    /// or all.
    pub async fn interventions(
        &self,
        plan: PlanId,
        subject: Option<Subject>,
        status: Option<InterventionStatus>,
        page: PageRequest,
    ) -> Result<Page<Intervention>, ServiceError> {
        Ok(self
            .db
            .interventions(plan, InterventionFilter { subject, status }, page)
            .await?)
    }

    /// One intervention request with its lifecycle so far (oldest move first).
    pub async fn intervention(
        &self,
        plan: PlanId,
        id: InterventionId,
    ) -> Result<(Intervention, Vec<Transition>), ServiceError> {
        Ok(self.db.intervention(plan, id).await?)
    }

    /// Moves an intervention request as a facade body asks: `{"Status": ..., "Comment": ...}`,
    /// by `by`, only if it is at `expected` when that is given. A move its lifecycle does not
    /// allow is a conflict naming the allowed ones.
    pub async fn move_intervention(
        &self,
        plan: PlanId,
        id: InterventionId,
        body: &Map<String, Value>,
        expected: Option<Version>,
        by: Actor,
    ) -> Result<(Intervention, Vec<Transition>), ServiceError> {
        only(body, &["Status", "Comment"])?;
        let to = match body.get("Status") {
            Some(Value::String(s)) => s
                .parse::<InterventionStatus>()
                .map_err(|e| ServiceError::invalid_property("Status", e))?,
            Some(_) => {
                return Err(ServiceError::invalid_property(
                    "Status",
                    "property 'Status' must be a string",
                ));
            }
            None => {
                return Err(ServiceError::invalid_property(
                    "Status",
                    "property 'Status' is required",
                ));
            }
        };
        let comment = optional_text(body, "Comment")?;
        let change = StatusChange {
            to,
            by: by.subject.clone(),
            comment,
            expected,
        };
        Ok(by.scoped(self.db.transition(plan, id, change)).await?)
    }
}
