//! Exercise 5.1: sum up a sample of round-trip times.
//!
//! Scenario: a benchmark measures a thousand round trips and must print a few numbers
//! that say how fast they were. The mean alone hides the slow ones, so we also want
//! the median (the typical round trip) and the 99th percentile (how slow the slowest
//! 1 % are). Goal: a pure function from a sample to its summary, with every statistic
//! defined exactly. The tests are tables: an empty sample, one sample, odd and even
//! counts, unsorted input, and the sample sizes where a percentile computed with
//! floating point goes wrong.

use std::time::Duration;

// ANCHOR: summary
/// A summary of a non-empty sample of durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// How many durations the sample holds (at least 1).
    pub count: usize,
    /// The shortest.
    pub min: Duration,
    /// The middle value once sorted. For an even count, the mean of the two middle
    /// values, rounded down to whole nanoseconds.
    pub median: Duration,
    /// The 99th percentile, nearest-rank method: sorted from shortest to longest, the
    /// value at rank `ceil(99 * count / 100)`, ranks counted from 1. At least 99 % of
    /// the sample is no longer than it, and it is always one of the sample's values
    /// (for fewer than 100 durations, the longest).
    pub p99: Duration,
    /// The sum divided by the count, rounded down to whole nanoseconds.
    pub mean: Duration,
}
// ANCHOR_END: summary

// ANCHOR: summarize
/// The summary of `samples`, in any order; `None` for an empty sample.
pub fn summarize(samples: &[Duration]) -> Option<Summary> {
    // TODO: `None` for no samples; otherwise sort a copy, and read min, median and
    // p99 from it by index (p99: the rank is ceil(99 * count / 100), counted from 1).
    // For the mean and an even median, add as nanoseconds (`as_nanos`), then divide.
    todo!()
}
// ANCHOR_END: summarize

/// A duration from a number of nanoseconds: a mean or a median is never longer than
/// the longest sample, so it fits unless that sample was over 584 years (then it
/// saturates).
fn nanos(n: u128) -> Duration {
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}
