//! The audit trail, newest first, narrowed by plan and time: who changed what.

use caseload_domain::Page;
use caseload_store::{AuditFilter, AuditRecord, BusinessUnits};

use crate::{Caller, Service, ServiceError};

impl Service {
    /// The audit records `filter` names, as `caller` may see them. An administrator of some
    /// business units sees the trail of one of their plans at a time; the whole trail (with
    /// service-wide events such as API keys) is for administrators of every unit.
    pub async fn audit_records(
        &self,
        caller: &Caller,
        filter: AuditFilter,
    ) -> Result<Page<AuditRecord>, ServiceError> {
        if caller.units != BusinessUnits::All {
            let Some(plan) = filter.plan else {
                return Err(ServiceError::Forbidden(
                    "the whole audit trail is for administrators of every business unit; name a \
                     plan of yours with ?plan="
                        .to_owned(),
                ));
            };
            // A plan in a unit the caller does not reach is as unknown as one that does not
            // exist.
            let unit = self.db.plan_business_unit(plan).await?;
            if !caller.units.contains(&unit) {
                return Err(caseload_store::StoreError::plan_not_found(plan).into());
            }
        }
        Ok(self.db.audit_records(filter).await?)
    }
}
