//! How the simulated services behave: their latency profile and how old
//! filters are answered.

/// How fast the simulated services answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Profile {
    /// No added latency; audit queries finish in seconds of simulated time.
    Fast,
    /// Per-page latencies like the real service (seconds for sign-in pages,
    /// minutes for audit queries), scaled by the time scale.
    Realistic,
}

/// What the audit logs do with a filter reaching back past the retention
/// window (both behaviours have been reported for Graph, see
/// <https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/6620>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum OldFilters {
    /// Answer the records still retained (often an empty page).
    #[default]
    Empty,
    /// 400 `BadRequest` "Invalid filter clause".
    Reject,
}
