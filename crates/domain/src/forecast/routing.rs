//! Which team of the resource plan takes a case, so that its arrival and effort count there.
//!
//! In this order:
//!
//! 1. the team whose name is the case's (latest) team label, exactly;
//! 2. otherwise the teams whose `Skills` contain the case's category, exactly, in equal
//!    shares when several do;
//! 3. otherwise the teams that take any category (no `Skills`), in equal shares;
//! 4. otherwise none: the case is unassigned.
//!
//! Without a resource plan every case is unassigned. A route is worked out once per pair of
//! labels and remembered, so the cost per case is one look-up.

use std::collections::HashMap;

use crate::analytics::CaseTimeline;
use crate::plan::Team;

/// The teams that take a case: `(team index, share)` with shares adding up to 1, or none.
pub(super) type Route = Vec<(usize, f64)>;

/// Routes cases to the teams of a resource plan; see the module docs.
pub(super) struct Routing<'t, 'c> {
    teams: &'t [Team],
    generalists: Route,
    known: HashMap<(Option<&'c str>, Option<&'c str>), usize>,
    routes: Vec<Route>,
}

impl<'t, 'c> Routing<'t, 'c> {
    pub fn new(teams: &'t [Team]) -> Self {
        let any: Vec<usize> = (0..teams.len())
            .filter(|&i| teams[i].skills().is_empty())
            .collect();
        Self {
            teams,
            generalists: shares(&any),
            known: HashMap::new(),
            routes: Vec::new(),
        }
    }

    /// The index of the route of a case, for [`route`](Self::route).
    pub fn of(&mut self, case: &'c CaseTimeline) -> usize {
        let key = (
            case.team().map(|l| l.as_str()),
            case.category().map(|l| l.as_str()),
        );
        if let Some(&i) = self.known.get(&key) {
            return i;
        }
        let route = self.work_out(key.0, key.1);
        let i = self.routes.len();
        self.routes.push(route);
        self.known.insert(key, i);
        i
    }

    /// A route by the index [`of`](Self::of) gave.
    pub fn route(&self, i: usize) -> &[(usize, f64)] {
        self.routes.get(i).map_or(&[], Vec::as_slice)
    }

    fn work_out(&self, team: Option<&str>, category: Option<&str>) -> Route {
        if let Some(i) = team.and_then(|name| self.teams.iter().position(|t| t.name() == name)) {
            return vec![(i, 1.0)];
        }
        if let Some(category) = category {
            let skilled: Vec<usize> = (0..self.teams.len())
                .filter(|&i| self.teams[i].skills().iter().any(|s| s == category))
                .collect();
            if !skilled.is_empty() {
                return shares(&skilled);
            }
        }
        self.generalists.clone()
    }
}

fn shares(teams: &[usize]) -> Route {
    let share = 1.0 / teams.len().max(1) as f64;
    teams.iter().map(|&i| (i, share)).collect()
}
