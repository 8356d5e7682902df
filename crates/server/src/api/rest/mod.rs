//! The REST facade: the same records and operations as the BIAN routes, addressed as
//! resources (`/customer-case-management/{id}/rules/{rulesid}`, ...), with `201 Created`,
//! paged lists and `PUT` as full replacement; and the audit trail (`/audit`).

mod audit;
mod criteria;
mod events;
mod plans;
mod projections;
mod records;
mod requests;
mod staffing;

use super::policy::RouteTable;

const TAG: &str = "REST facade";

/// The facade routes.
pub fn routes() -> RouteTable {
    plans::routes()
        .merge(records::routes())
        .merge(requests::routes())
        .merge(criteria::routes())
        .merge(events::routes())
        .merge(staffing::routes())
        .merge(projections::routes())
        .merge(audit::routes())
}
