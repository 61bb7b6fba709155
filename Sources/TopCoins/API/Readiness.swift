/// What the API knows of the pipeline's health at one instant: whether it is ready to serve
/// fresh data, and if not why (`redis_unreachable`, `snapshot_stale`, `stalled:<component>`,
/// `book_stalled:<book>`, ...), the latest snapshot's age, and each component's last success
/// and error. `/ready`
/// answers it as JSON; the dashboard shows it, since the public listener may not serve `/ready`.
struct Readiness {
    struct Component {
        let name: String
        let record: PipelineStatus.Record
        /// Its last success is as old as stale data (or it never succeeded).
        let stalled: Bool
    }

    let reasons: [String]
    let snapshot: (timestamp: Timestamp, ageSeconds: Int64)?
    let components: [Component]

    var isReady: Bool { reasons.isEmpty }
}

extension Readiness {
    /// `spreads`: the spread monitor's status, nil until read; a book it monitors (it has
    /// published rules) whose newest observation is older than `booksStaleAfterSeconds` is a
    /// reason. A deployment without the monitor has no rules, so no such reason.
    init(library: SnapshotLibrary, staleAfterSeconds: Int, spreads: SpreadStatus?, booksStaleAfterSeconds: Int, now: Timestamp) {
        var reasons: [String] = []
        if !library.redisReachable { reasons.append("redis_unreachable") }
        if library.redisOutOfMemory { reasons.append("redis_oom") }
        var stale = false
        if let latest = library.latest {
            let age = latest.snapshot.ageSeconds(at: now)
            snapshot = (latest.timestamp, age)
            stale = age > staleAfterSeconds
            if stale { reasons.append("snapshot_stale") }
        } else {
            snapshot = nil
            reasons.append("no_snapshot")
        }
        let pipeline = library.pipeline.sorted(by: { $0.key < $1.key })
        // A source whose fetch times the merger refuses as ahead of its clock.
        for (_, record) in pipeline {
            reasons += record.clockSkewedSources.map { "clock_skew:\($0)" }
        }
        components = pipeline.map { name, record in
            let stalled = record.lastSuccessAt.map { now.milliseconds - $0.milliseconds > Int64(staleAfterSeconds) * 1000 } ?? true
            return Component(name: name, record: record, stalled: stalled)
        }
        // Which component holds the pipeline up: its last success is as old as stale data.
        if stale || library.latest == nil { reasons += components.filter(\.stalled).map { "stalled:\($0.name)" } }
        reasons += (spreads?.stalledBooks(staleAfterSeconds: booksStaleAfterSeconds, now: now) ?? []).map { "book_stalled:\($0)" }
        self.reasons = reasons
    }
}
