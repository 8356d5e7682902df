//! The plans read most recently, with their open intervention counts, kept for as long as
//! the writer has committed nothing since they were read.
//!
//! A Retrieve of a plan is the service's most frequent request, and most of what it costs in
//! the store is not the row but SQLite's read transaction around it (two `fcntl` locks on the
//! WAL index per statement). This server's writer thread is the only writer of the file
//! (other `caseload` commands such as `apikey` do not write plans or interventions), and it
//! counts its commits before it answers any write in them ([`Writer::commits`]). An entry read
//! while the count was `n` is therefore exactly what the database holds for as long as the
//! count is still `n`; once anything commits, every entry is stale and is read again. A
//! caller that has been told its write succeeded never gets an entry from before it.
//!
//! [`Writer::commits`]: super::writer::Writer::commits

use std::collections::HashMap;
use std::sync::Mutex;

use caseload_domain::{Plan, PlanId};

/// Most plans kept; when full, the cache starts over (plans are few, a miss is one read).
const CAPACITY: usize = 4096;

/// Plans as read at a commit count.
#[derive(Default)]
pub(crate) struct PlanCache {
    entries: Mutex<HashMap<PlanId, Entry>>,
}

struct Entry {
    commits: u64,
    plan: Plan,
    open_interventions: i64,
}

impl PlanCache {
    /// The plan and its open intervention count, if they were read at commit count `commits`.
    pub(crate) fn get(&self, id: PlanId, commits: u64) -> Option<(Plan, i64)> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(&id)
            .filter(|e| e.commits == commits)
            .map(|e| (e.plan.clone(), e.open_interventions))
    }

    /// Keeps what a read made at commit count `commits` (read before the read began) found.
    pub(crate) fn put(&self, commits: u64, plan: &Plan, open_interventions: i64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY && !entries.contains_key(&plan.id) {
            entries.retain(|_, e| e.commits == commits);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            plan.id,
            Entry {
                commits,
                plan: plan.clone(),
                open_interventions,
            },
        );
    }
}
