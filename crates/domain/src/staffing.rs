//! Staffing a queue of cases with Erlang C: how many agents must be on duty in an interval
//! so that a given fraction of arrivals is answered within a target time, without working
//! agents above an occupancy cap, and how many must be rostered once shrinkage (breaks,
//! training, absence) is allowed for.
//!
//! The model is the M/M/N queue: arrivals are Poisson, handling times exponential, nobody
//! abandons. With offered traffic `A = arrivals × aht / interval` erlangs and `N > A` agents:
//!
//! - Erlang B by the recursion `B(0) = 1`, `B(n) = A·B(n-1) / (n + A·B(n-1))`, which never
//!   forms a power or a factorial and so stays finite for any traffic;
//! - probability of waiting (Erlang C) `C = N·B / (N - A·(1 - B))`;
//! - service level `SL = 1 - C·exp(-(N - A)·target / aht)`;
//! - average speed of answer `ASA = C·aht / (N - A)`;
//! - occupancy `A / N`.
//!
//! The search runs `N` upward from `floor(A) + 1`, carrying `B` along, so finding the answer
//! costs `O(N)` steps. Inputs are parsed into a [`StaffingProblem`] first; once one exists it
//! can be solved.

/// The largest offered traffic accepted, in erlangs. A single queue with more than a hundred
/// thousand agents busy at once is not a staffing question this service is for.
pub const MAX_TRAFFIC_ERLANGS: f64 = 100_000.0;

/// The most agents an answer may have on duty (the occupancy cap can demand many more agents
/// than the traffic does; beyond this the question is refused).
pub const MAX_AGENTS: u32 = 1_000_000;

/// The most agents an answer may roster once shrinkage is allowed for.
pub const MAX_ROSTERED_AGENTS: u64 = 10_000_000;

/// A staffing question as asked, in plain numbers; see [`StaffingProblem::parse`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaffingRequest {
    /// Cases (calls, contacts) arriving in the interval.
    pub arrivals: f64,
    /// The length of the interval, in seconds.
    pub interval_seconds: f64,
    /// Average handling time of a case, in seconds.
    pub aht_seconds: f64,
    /// The answer time the service level counts against, in seconds.
    pub target_answer_seconds: f64,
    /// The fraction of arrivals to answer within the target, strictly between 0 and 1.
    pub service_level: f64,
    /// The highest fraction of their time agents may be busy, in `(0, 1]`; none is no cap.
    pub max_occupancy: Option<f64>,
    /// The fraction of rostered time agents are not available, in `[0, 1)`; none is 0.
    pub shrinkage: Option<f64>,
}

/// Why a staffing question cannot be answered. [`parameter`](Self::parameter) names the input
/// at fault, as [`StaffingRequest`] spells it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter} {problem}")]
pub struct StaffingError {
    parameter: &'static str,
    problem: String,
}

impl StaffingError {
    fn new(parameter: &'static str, problem: impl Into<String>) -> Self {
        Self {
            parameter,
            problem: problem.into(),
        }
    }

    /// The input at fault (`arrivals`, `service_level`, ...).
    pub fn parameter(&self) -> &'static str {
        self.parameter
    }
}

/// A valid staffing question: every figure finite and in range, the traffic within
/// [`MAX_TRAFFIC_ERLANGS`] and the occupancy cap reachable within [`MAX_AGENTS`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaffingProblem {
    arrivals: f64,
    traffic_erlangs: f64,
    aht_seconds: f64,
    target_answer_seconds: f64,
    service_level: f64,
    max_occupancy: f64,
    shrinkage: f64,
}

/// How a queue performs with a number of agents on duty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueuePerformance {
    /// Agents on duty.
    pub agents: u32,
    /// Fraction of arrivals answered within the target time.
    pub service_level: f64,
    /// Fraction of arrivals that wait at all (Erlang C).
    pub probability_of_waiting: f64,
    /// Mean wait before an answer, over all arrivals, in seconds.
    pub average_speed_of_answer_seconds: f64,
    /// Fraction of the agents' time spent handling cases.
    pub occupancy: f64,
}

/// The answer to a staffing question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Staffing {
    /// Offered traffic, in erlangs.
    pub traffic_erlangs: f64,
    /// The fewest agents on duty meeting the service level and the occupancy cap, and how
    /// the queue performs with them.
    pub on_duty: QueuePerformance,
    /// Agents to roster so that, after shrinkage, `on_duty.agents` are available.
    pub rostered_agents: u64,
}

/// A client's figure as a message shows it: as written when of a readable size, else in
/// exponent form, so that `1e300` is not echoed back as 301 digits.
struct Figure(f64);

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let size = self.0.abs();
        if size == 0.0 || (1e-6..1e15).contains(&size) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:e}", self.0)
        }
    }
}

fn finite(parameter: &'static str, value: f64) -> Result<f64, StaffingError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(StaffingError::new(
            parameter,
            format!("must be a finite number, got {}", Figure(value)),
        ))
    }
}

fn positive(parameter: &'static str, value: f64) -> Result<f64, StaffingError> {
    match finite(parameter, value)? {
        v if v > 0.0 => Ok(v),
        v => Err(StaffingError::new(
            parameter,
            format!("must be greater than 0, got {}", Figure(v)),
        )),
    }
}

fn non_negative(parameter: &'static str, value: f64) -> Result<f64, StaffingError> {
    match finite(parameter, value)? {
        v if v >= 0.0 => Ok(v),
        v => Err(StaffingError::new(
            parameter,
            format!("must not be negative, got {}", Figure(v)),
        )),
    }
}

impl StaffingProblem {
    /// Checks every figure of `request`; the error names the first one at fault.
    pub fn parse(request: &StaffingRequest) -> Result<Self, StaffingError> {
        // `+ 0.0` turns a `-0` into `0`, so that it prints and compares as zero.
        let arrivals = non_negative("arrivals", request.arrivals)? + 0.0;
        let interval = positive("interval_seconds", request.interval_seconds)?;
        let aht_seconds = positive("aht_seconds", request.aht_seconds)?;
        let target_answer_seconds =
            non_negative("target_answer_seconds", request.target_answer_seconds)? + 0.0;
        let service_level = finite("service_level", request.service_level)?;
        if service_level <= 0.0 || service_level >= 1.0 {
            return Err(StaffingError::new(
                "service_level",
                format!(
                    "must be a fraction strictly between 0 and 1, got {}",
                    Figure(service_level)
                ),
            ));
        }
        let max_occupancy = finite("max_occupancy", request.max_occupancy.unwrap_or(1.0))?;
        if max_occupancy <= 0.0 || max_occupancy > 1.0 {
            return Err(StaffingError::new(
                "max_occupancy",
                format!(
                    "must be a fraction above 0 and at most 1, got {}",
                    Figure(max_occupancy)
                ),
            ));
        }
        let shrinkage = finite("shrinkage", request.shrinkage.unwrap_or(0.0))? + 0.0;
        if !(0.0..1.0).contains(&shrinkage) {
            return Err(StaffingError::new(
                "shrinkage",
                format!(
                    "must be a fraction from 0 up to (not including) 1, got {}",
                    Figure(shrinkage)
                ),
            ));
        }
        // Finite inputs make this finite or, when the product overflows, infinite; never NaN.
        let traffic_erlangs = arrivals * aht_seconds / interval;
        if traffic_erlangs > MAX_TRAFFIC_ERLANGS {
            return Err(StaffingError::new(
                "arrivals",
                format!(
                    "give a traffic (arrivals × aht_seconds ÷ interval_seconds) of \
                     {} erlangs; at most {MAX_TRAFFIC_ERLANGS} are supported",
                    Figure(traffic_erlangs)
                ),
            ));
        }
        let capped = traffic_erlangs / max_occupancy;
        if capped > f64::from(MAX_AGENTS) {
            return Err(StaffingError::new(
                "max_occupancy",
                format!(
                    "{} would need {} agents for {} erlangs; at most {MAX_AGENTS} are supported",
                    Figure(max_occupancy),
                    Figure(capped.ceil()),
                    Figure(traffic_erlangs)
                ),
            ));
        }
        Ok(Self {
            arrivals,
            traffic_erlangs,
            aht_seconds,
            target_answer_seconds,
            service_level,
            max_occupancy,
            shrinkage,
        })
    }

    /// Offered traffic, in erlangs.
    pub fn traffic_erlangs(&self) -> f64 {
        self.traffic_erlangs
    }

    /// How the queue performs with `agents` on duty; `None` when they are too few to keep
    /// up with the traffic (`agents <= A`), where the queue grows without end.
    pub fn performance_with(&self, agents: u32) -> Option<QueuePerformance> {
        if self.arrivals == 0.0 {
            return Some(QueuePerformance::idle(agents));
        }
        (f64::from(agents) > self.traffic_erlangs)
            .then(|| self.performance_from_b(agents, erlang_b(self.traffic_erlangs, agents)))
    }

    /// The fewest agents meeting the service level and the occupancy cap, and the roster
    /// that provides them. Refused only when the roster would exceed [`MAX_ROSTERED_AGENTS`].
    pub fn solve(&self) -> Result<Staffing, StaffingError> {
        let on_duty = if self.arrivals == 0.0 {
            // No arrivals: nobody is needed, and nobody waits.
            QueuePerformance::idle(0)
        } else {
            self.search()?
        };
        Ok(Staffing {
            traffic_erlangs: self.traffic_erlangs,
            rostered_agents: self.rostered(on_duty.agents)?,
            on_duty,
        })
    }

    fn search(&self) -> Result<QueuePerformance, StaffingError> {
        let a = self.traffic_erlangs;
        // `a` is at most MAX_TRAFFIC_ERLANGS, so this fits, and `first > a`.
        let first = a.floor() as u32 + 1;
        let mut b = erlang_b(a, first - 1);
        for n in first..=MAX_AGENTS {
            b = next_erlang_b(a, b, n);
            let performance = self.performance_from_b(n, b);
            if performance.service_level >= self.service_level
                && performance.occupancy <= self.max_occupancy
            {
                return Ok(performance);
            }
        }
        // Not reached: parsing keeps the occupancy cap within MAX_AGENTS, and B underflows
        // to 0 (service level 1) within a few hundred standard deviations above A.
        Err(StaffingError::new(
            "service_level",
            format!("cannot be met with at most {MAX_AGENTS} agents"),
        ))
    }

    fn performance_from_b(&self, agents: u32, b: f64) -> QueuePerformance {
        let a = self.traffic_erlangs;
        let n = f64::from(agents);
        let spare = n - a;
        let c = erlang_c_from_b(a, n, b);
        QueuePerformance {
            agents,
            service_level: 1.0 - c * (-spare * self.target_answer_seconds / self.aht_seconds).exp(),
            probability_of_waiting: c,
            average_speed_of_answer_seconds: c * self.aht_seconds / spare,
            occupancy: a / n,
        }
    }

    fn rostered(&self, agents: u32) -> Result<u64, StaffingError> {
        // The tolerance keeps 14 ÷ (1 - 0.3), which is 20.000000000000004 in binary, at 20.
        let rostered = (f64::from(agents) / (1.0 - self.shrinkage) - 1e-9).ceil();
        if rostered > MAX_ROSTERED_AGENTS as f64 {
            return Err(StaffingError::new(
                "shrinkage",
                format!(
                    "{} would need {} rostered agents for {agents} on duty; at most \
                     {MAX_ROSTERED_AGENTS} are supported",
                    self.shrinkage,
                    Figure(rostered)
                ),
            ));
        }
        Ok(rostered.max(0.0) as u64)
    }
}

impl QueuePerformance {
    /// A queue nobody arrives at: nobody waits, every (absent) arrival is answered in time.
    fn idle(agents: u32) -> Self {
        Self {
            agents,
            service_level: 1.0,
            probability_of_waiting: 0.0,
            average_speed_of_answer_seconds: 0.0,
            occupancy: 0.0,
        }
    }
}

fn next_erlang_b(traffic: f64, previous: f64, agents: u32) -> f64 {
    let carried = traffic * previous;
    carried / (f64::from(agents) + carried)
}

fn erlang_c_from_b(traffic: f64, agents: f64, b: f64) -> f64 {
    agents * b / (agents - traffic * (1.0 - b))
}

/// Erlang B: the probability that an arrival finds all `agents` busy when nobody queues, for
/// `traffic` erlangs (finite, not negative). Computed by recursion, so large traffic neither
/// overflows nor loses precision.
pub fn erlang_b(traffic: f64, agents: u32) -> f64 {
    (1..=agents).fold(1.0, |b, n| next_erlang_b(traffic, b, n))
}

/// Erlang C: the probability that an arrival waits, for `traffic` erlangs (finite, not
/// negative) and `agents`. It is 1 when the agents cannot keep up (`agents <= traffic`).
pub fn erlang_c(traffic: f64, agents: u32) -> f64 {
    let n = f64::from(agents);
    if n <= traffic {
        1.0
    } else {
        erlang_c_from_b(traffic, n, erlang_b(traffic, agents))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of the trade press: 100 calls in 30 minutes, 3-minute handling,
    /// 80% answered within 20 seconds.
    fn textbook() -> StaffingRequest {
        StaffingRequest {
            arrivals: 100.0,
            interval_seconds: 1800.0,
            aht_seconds: 180.0,
            target_answer_seconds: 20.0,
            service_level: 0.8,
            max_occupancy: None,
            shrinkage: None,
        }
    }

    fn problem(request: StaffingRequest) -> StaffingProblem {
        StaffingProblem::parse(&request).expect("valid request")
    }

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    fn refused(request: StaffingRequest) -> StaffingError {
        StaffingProblem::parse(&request).expect_err("refused")
    }

    /// Erlang C by its textbook definition, with factorials: good for small cases only.
    fn erlang_c_by_definition(a: f64, n: u32) -> f64 {
        let mut term = 1.0;
        let mut sum = 0.0;
        for k in 0..n {
            sum += term;
            term *= a / f64::from(k + 1);
        }
        let last = term * f64::from(n) / (f64::from(n) - a);
        last / (sum + last)
    }

    #[test]
    fn the_textbook_case_needs_fourteen_agents() {
        let staffing = problem(textbook()).solve().expect("solved");
        close(staffing.traffic_erlangs, 10.0, 1e-12);
        let p = staffing.on_duty;
        assert_eq!(p.agents, 14);
        close(p.probability_of_waiting, 0.1741, 5e-5);
        close(p.service_level, 0.8884, 5e-5);
        close(p.average_speed_of_answer_seconds, 7.836, 5e-4);
        close(p.occupancy, 10.0 / 14.0, 1e-12);
        assert_eq!(staffing.rostered_agents, 14);
    }

    #[test]
    fn the_textbook_figures_for_eleven_to_thirteen_agents_fall_short() {
        let problem = problem(textbook());
        let expected = [
            (11, 0.6821, 0.3896, 122.78),
            (12, 0.4494, 0.6402, 40.445),
            (13, 0.2853, 0.7956, 17.116),
        ];
        for (agents, waiting, level, asa) in expected {
            let p = problem.performance_with(agents).expect("stable queue");
            close(p.probability_of_waiting, waiting, 5e-5);
            close(p.service_level, level, 5e-5);
            close(p.average_speed_of_answer_seconds, asa, 5e-3);
            assert!(p.service_level < 0.8);
        }
    }

    #[test]
    fn fifteen_agents_answer_more_than_nine_in_ten_in_time() {
        let p = problem(textbook()).performance_with(15).expect("stable");
        close(p.probability_of_waiting, 0.1020, 5e-5);
        close(p.service_level, 0.9415, 5e-5);
    }

    #[test]
    fn the_recursion_agrees_with_the_factorial_definition() {
        for (a, n) in [
            (0.5, 1),
            (2.0, 3),
            (10.0, 11),
            (10.0, 14),
            (42.7, 50),
            (80.0, 95),
        ] {
            close(erlang_c(a, n), erlang_c_by_definition(a, n), 1e-12);
        }
    }

    #[test]
    fn erlang_b_matches_the_published_table() {
        // The blocking of 10 erlangs on 10 lines, as printed in Erlang B tables.
        close(erlang_b(10.0, 10), 0.2146, 5e-5);
        close(erlang_b(1.0, 1), 0.5, 1e-15);
    }

    #[test]
    fn too_few_agents_to_keep_up_always_wait_and_have_no_performance() {
        assert_eq!(erlang_c(10.0, 10), 1.0);
        assert_eq!(erlang_c(10.0, 3), 1.0);
        assert_eq!(problem(textbook()).performance_with(10), None);
    }

    #[test]
    fn an_occupancy_cap_forces_more_agents() {
        let relaxed = StaffingRequest {
            service_level: 0.5,
            ..textbook()
        };
        assert_eq!(problem(relaxed).solve().expect("solved").on_duty.agents, 12);
        let capped = StaffingRequest {
            max_occupancy: Some(0.75),
            ..relaxed
        };
        let staffing = problem(capped).solve().expect("solved");
        assert_eq!(staffing.on_duty.agents, 14, "10 / 0.75 = 13.3, so 14");
        assert!(staffing.on_duty.occupancy <= 0.75);
        close(staffing.on_duty.service_level, 0.8884, 5e-5);
    }

    #[test]
    fn a_cap_the_service_level_already_meets_changes_nothing() {
        let capped = StaffingRequest {
            max_occupancy: Some(0.85),
            ..textbook()
        };
        assert_eq!(problem(capped).solve().expect("solved").on_duty.agents, 14);
    }

    #[test]
    fn a_cap_landing_exactly_on_a_whole_number_of_agents_is_met_by_it() {
        let request = StaffingRequest {
            service_level: 0.1,
            max_occupancy: Some(0.8),
            ..textbook()
        };
        assert_eq!(problem(request).solve().expect("solved").on_duty.agents, 13);
        let exact = StaffingRequest {
            arrivals: 85.0,
            service_level: 0.1,
            max_occupancy: Some(0.85),
            ..textbook()
        };
        assert_eq!(problem(exact).solve().expect("solved").on_duty.agents, 10);
    }

    #[test]
    fn shrinkage_rosters_more_agents_rounded_up() {
        let rostered = |shrinkage| {
            let request = StaffingRequest {
                shrinkage: Some(shrinkage),
                ..textbook()
            };
            problem(request).solve().expect("solved").rostered_agents
        };
        assert_eq!(rostered(0.0), 14);
        assert_eq!(rostered(0.3), 20, "14 / 0.7 is exactly 20");
        assert_eq!(rostered(0.35), 22, "14 / 0.65 = 21.5");
        assert_eq!(rostered(0.5), 28);
        assert_eq!(rostered(0.01), 15, "14 / 0.99 = 14.14");
    }

    #[test]
    fn no_arrivals_need_no_agents() {
        let request = StaffingRequest {
            arrivals: 0.0,
            shrinkage: Some(0.3),
            ..textbook()
        };
        let staffing = problem(request).solve().expect("solved");
        assert_eq!(staffing.traffic_erlangs, 0.0);
        assert_eq!(staffing.on_duty, QueuePerformance::idle(0));
        assert_eq!(staffing.rostered_agents, 0);
    }

    #[test]
    fn a_target_of_zero_seconds_counts_only_calls_that_do_not_wait() {
        let request = StaffingRequest {
            target_answer_seconds: 0.0,
            service_level: 0.85,
            ..textbook()
        };
        let p = problem(request).solve().expect("solved").on_duty;
        close(p.service_level, 1.0 - p.probability_of_waiting, 1e-15);
        assert_eq!(p.agents, 15, "P(wait) is 0.174 with 14 and 0.102 with 15");
    }

    #[test]
    fn fractional_traffic_starts_the_search_above_it() {
        let request = StaffingRequest {
            arrivals: 1.0,
            interval_seconds: 3600.0,
            aht_seconds: 60.0,
            ..textbook()
        };
        let staffing = problem(request).solve().expect("solved");
        assert_eq!(staffing.on_duty.agents, 1);
        close(staffing.on_duty.occupancy, 1.0 / 60.0, 1e-12);
    }

    #[test]
    fn five_thousand_erlangs_are_staffed_quickly_and_sensibly() {
        let request = StaffingRequest {
            arrivals: 100_000.0,
            interval_seconds: 3600.0,
            aht_seconds: 180.0,
            ..textbook()
        };
        let started = std::time::Instant::now();
        let staffing = problem(request).solve().expect("solved");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        close(staffing.traffic_erlangs, 5000.0, 1e-9);
        let p = staffing.on_duty;
        // Checked against the factorial formula evaluated in log space.
        assert_eq!(p.agents, 5013);
        close(p.probability_of_waiting, 0.78908, 5e-5);
        close(p.service_level, 0.81387, 5e-5);
        close(p.average_speed_of_answer_seconds, 10.926, 5e-3);
        assert!(p.occupancy > 0.997 && p.occupancy < 1.0);
        let one_fewer = problem(request).performance_with(5012).expect("stable");
        assert!(one_fewer.service_level < 0.8);
    }

    #[test]
    fn the_largest_traffic_with_the_strictest_target_is_answered() {
        let request = StaffingRequest {
            arrivals: MAX_TRAFFIC_ERLANGS,
            interval_seconds: 1.0,
            aht_seconds: 1.0,
            target_answer_seconds: 0.0,
            service_level: 0.999_999_999,
            max_occupancy: None,
            shrinkage: None,
        };
        let staffing = problem(request).solve().expect("solved");
        let p = staffing.on_duty;
        assert!(p.agents > 100_000 && p.agents < 103_000, "{}", p.agents);
        assert!(p.service_level >= 0.999_999_999);
        assert!(
            p.probability_of_waiting.is_finite() && p.average_speed_of_answer_seconds.is_finite()
        );
    }

    #[test]
    fn invalid_figures_are_refused_naming_the_parameter() {
        let cases: Vec<(StaffingRequest, &str)> = vec![
            (
                StaffingRequest {
                    arrivals: -1.0,
                    ..textbook()
                },
                "arrivals",
            ),
            (
                StaffingRequest {
                    arrivals: f64::NAN,
                    ..textbook()
                },
                "arrivals",
            ),
            (
                StaffingRequest {
                    arrivals: f64::INFINITY,
                    ..textbook()
                },
                "arrivals",
            ),
            (
                StaffingRequest {
                    interval_seconds: 0.0,
                    ..textbook()
                },
                "interval_seconds",
            ),
            (
                StaffingRequest {
                    interval_seconds: -60.0,
                    ..textbook()
                },
                "interval_seconds",
            ),
            (
                StaffingRequest {
                    aht_seconds: 0.0,
                    ..textbook()
                },
                "aht_seconds",
            ),
            (
                StaffingRequest {
                    aht_seconds: f64::NEG_INFINITY,
                    ..textbook()
                },
                "aht_seconds",
            ),
            (
                StaffingRequest {
                    target_answer_seconds: -1.0,
                    ..textbook()
                },
                "target_answer_seconds",
            ),
            (
                StaffingRequest {
                    service_level: 0.0,
                    ..textbook()
                },
                "service_level",
            ),
            (
                StaffingRequest {
                    service_level: 1.0,
                    ..textbook()
                },
                "service_level",
            ),
            (
                StaffingRequest {
                    service_level: f64::NAN,
                    ..textbook()
                },
                "service_level",
            ),
            (
                StaffingRequest {
                    max_occupancy: Some(0.0),
                    ..textbook()
                },
                "max_occupancy",
            ),
            (
                StaffingRequest {
                    max_occupancy: Some(1.01),
                    ..textbook()
                },
                "max_occupancy",
            ),
            (
                StaffingRequest {
                    max_occupancy: Some(f64::NAN),
                    ..textbook()
                },
                "max_occupancy",
            ),
            (
                StaffingRequest {
                    shrinkage: Some(1.0),
                    ..textbook()
                },
                "shrinkage",
            ),
            (
                StaffingRequest {
                    shrinkage: Some(-0.1),
                    ..textbook()
                },
                "shrinkage",
            ),
        ];
        for (request, parameter) in cases {
            let error = refused(request);
            assert_eq!(error.parameter(), parameter, "{request:?}");
            assert!(error.to_string().starts_with(parameter), "{error}");
        }
    }

    #[test]
    fn huge_and_tiny_figures_are_shown_in_exponent_form_in_messages() {
        let huge = refused(StaffingRequest {
            arrivals: 1e300,
            ..textbook()
        });
        assert!(huge.to_string().contains("1e299 erlangs"), "{huge}");
        let tiny = refused(StaffingRequest {
            aht_seconds: -1e-300,
            ..textbook()
        });
        assert!(tiny.to_string().ends_with("got -1e-300"), "{tiny}");
        let plain = refused(StaffingRequest {
            service_level: 1.5,
            ..textbook()
        });
        assert!(plain.to_string().ends_with("got 1.5"), "{plain}");
    }

    #[test]
    fn traffic_above_the_limit_is_refused() {
        let error = refused(StaffingRequest {
            arrivals: 100_001.0,
            interval_seconds: 1.0,
            aht_seconds: 1.0,
            ..textbook()
        });
        assert_eq!(error.parameter(), "arrivals");
        assert!(error.to_string().contains("100000"), "{error}");
        let overflowing = refused(StaffingRequest {
            arrivals: 1e300,
            aht_seconds: 1e300,
            ..textbook()
        });
        assert_eq!(overflowing.parameter(), "arrivals");
    }

    #[test]
    fn an_occupancy_cap_needing_absurdly_many_agents_is_refused() {
        let error = refused(StaffingRequest {
            arrivals: 10_000.0,
            interval_seconds: 1.0,
            aht_seconds: 1.0,
            max_occupancy: Some(0.001),
            ..textbook()
        });
        assert_eq!(error.parameter(), "max_occupancy");
    }

    #[test]
    fn shrinkage_rostering_absurdly_many_agents_is_refused() {
        let request = StaffingRequest {
            shrinkage: Some(0.999_999_9),
            ..textbook()
        };
        let error = problem(request).solve().expect_err("too many rostered");
        assert_eq!(error.parameter(), "shrinkage");
    }

    #[test]
    fn negative_zero_is_zero() {
        let request = StaffingRequest {
            arrivals: -0.0,
            shrinkage: Some(-0.0),
            ..textbook()
        };
        let staffing = problem(request).solve().expect("solved");
        assert_eq!(staffing.on_duty.agents, 0);
        assert!(staffing.traffic_erlangs.is_sign_positive());
    }
}
