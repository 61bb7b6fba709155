/// The spread monitor's rules as a pure function: given where a book stands, its rules and
/// one observation, where it stands next and which episodes opened or closed. No Redis, no
/// clock: the monitor stores what this returns in one write.
public enum EpisodeTracker {
    /// An episode opening or closing, as it stands after the observation.
    public enum Transition: Sendable, Equatable {
        case opened(AlertEpisode)
        case closed(AlertEpisode)

        public var episode: AlertEpisode {
            switch self {
            case .opened(let episode), .closed(let episode): episode
            }
        }
    }

    /// What one observation does to a book.
    public struct Step: Sendable, Equatable {
        public var state: MonitorState
        public var transitions: [Transition]
        /// The episode to store as it stands after the observation: one that opened, closed or
        /// widened its peak; nil when no episode changed.
        public var changed: AlertEpisode?
    }

    /// Observes `observation` (of stream entry `entryID`) on a book in `state` (nil: never
    /// observed) under `rules`; nil when the observation is at or before the book's last one
    /// (`out_of_order`), which changes nothing.
    ///
    /// A breach (the observation's `breach`: unflagged and exactly above the threshold) adds
    /// to the run; an unflagged non-breach ends it; a flagged observation does neither. An
    /// episode opens on a breach once the run reaches `min_consecutive`, unless one is open
    /// or the last closed less than `cooldown_seconds` before. An open episode keeps the
    /// widest unflagged spread as its peak and closes on the first unflagged spread exactly
    /// below `clear_below_pct`.
    public static func observe(_ observation: SpreadObservation, entryID: String, state: MonitorState?, rules: BookRules) -> Step? {
        if let state, observation.observedAt <= state.lastObservedAt { return nil }
        var next = MonitorState(
            lastEntryID: entryID, lastObservedAt: observation.observedAt, run: state?.run ?? 0, open: state?.open, lastClosedAt: state?.lastClosedAt)
        guard observation.flags.isEmpty, let bid = observation.bid, let ask = observation.ask, let rounded = observation.spreadPct else {
            return Step(state: next, transitions: [], changed: nil)
        }
        let spread = SpreadPercent(bid: bid, ask: ask)
        next.run = observation.breach ? next.run + 1 : 0
        if var open = next.open {
            if spread.isBelow(rules.clearBelowPct) {
                var closed = episode(open, book: observation.book)
                closed.state = .closed
                closed.endedAt = observation.observedAt
                next.open = nil
                next.lastClosedAt = observation.observedAt
                return Step(state: next, transitions: [.closed(closed)], changed: closed)
            }
            guard rounded > open.peakSpreadPct else { return Step(state: next, transitions: [], changed: nil) }
            open.peakSpreadPct = rounded
            next.open = open
            return Step(state: next, transitions: [], changed: episode(open, book: observation.book))
        } else if observation.breach, next.run >= rules.minConsecutive, !inCooldown(at: observation.observedAt, after: next.lastClosedAt, rules: rules) {
            let open = MonitorState.OpenEpisode(startedAt: observation.observedAt, thresholdPct: rules.thresholdPct, peakSpreadPct: rounded)
            next.open = open
            let opened = episode(open, book: observation.book)
            return Step(state: next, transitions: [.opened(opened)], changed: opened)
        }
        return Step(state: next, transitions: [], changed: nil)
    }

    static func inCooldown(at time: Timestamp, after closed: Timestamp?, rules: BookRules) -> Bool {
        guard let closed else { return false }
        return time.milliseconds - closed.milliseconds < Int64(rules.cooldownSeconds) * 1000
    }

    static func episode(_ open: MonitorState.OpenEpisode, book: String) -> AlertEpisode {
        AlertEpisode(book: book, state: .open, thresholdPct: open.thresholdPct, startedAt: open.startedAt, endedAt: nil, peakSpreadPct: open.peakSpreadPct)
    }
}
