/// The `topcoins:alerts` message of one transition: what an operator (or the webhook's
/// receiver) needs to act on it without reading anything else.
public enum AlertMessage {
    /// The fields in order, every time ISO-8601 UTC, `ended_at` empty while open.
    public static func fields(of transition: EpisodeTracker.Transition, observation: SpreadObservation) -> [(String, String)] {
        let episode = transition.episode
        return [
            ("id", episode.id), ("book", episode.book), ("state", episode.state.rawValue), ("spread_pct", observation.spreadPct?.text ?? ""),
            ("threshold_pct", episode.thresholdPct.text), ("started_at", episode.startedAt.iso8601), ("ended_at", episode.endedAt?.iso8601 ?? ""),
            ("peak_spread_pct", episode.peakSpreadPct.text), ("observed_at", observation.observedAt.iso8601),
        ]
    }
}

/// The per-book counters one observation adds (`<book>:<name>` in the counters hash).
public enum MonitorCounters {
    public static func of(_ observation: SpreadObservation, step: EpisodeTracker.Step) -> [(String, Int)] {
        var counters = [("observations", 1)]
        if observation.breach { counters.append(("breaches", 1)) }
        if step.transitions.contains(where: { if case .opened = $0 { true } else { false } }) { counters.append(("episodes", 1)) }
        for (flag, name) in SpreadFlags.named where observation.flags.contains(flag) { counters.append(("flagged_\(name)", 1)) }
        return counters
    }
}
