/// Where one book stands for the spread monitor: the last stream entry and observation it
/// wrote, the current run of consecutive breaches, the open episode and when the last one
/// closed. Stored by `SpreadWriter` as `text`, which the writer compares byte for byte, so
/// equal states must always encode equally.
public struct MonitorState: Sendable, Equatable {
    /// The open episode's part of the state: enough to close it and to report its peak.
    public struct OpenEpisode: Sendable, Equatable {
        public var startedAt: Timestamp
        public var thresholdPct: DecimalNumber
        public var peakSpreadPct: DecimalNumber
    }

    /// The `topcoins:books` entry of the last observation written.
    public var lastEntryID: String
    public var lastObservedAt: Timestamp
    /// Consecutive unflagged breaches up to the last observation.
    public var run: Int
    public var open: OpenEpisode?
    public var lastClosedAt: Timestamp?

    public init(lastEntryID: String, lastObservedAt: Timestamp, run: Int, open: OpenEpisode?, lastClosedAt: Timestamp?) {
        self.lastEntryID = lastEntryID
        self.lastObservedAt = lastObservedAt
        self.run = run
        self.open = open
        self.lastClosedAt = lastClosedAt
    }

    /// `v1|entry|observed_ms|run|open_started_ms|open_threshold|open_peak|last_closed_ms`, the
    /// open episode's three fields and the close time empty when absent.
    public var text: String {
        [
            "v1", lastEntryID, String(lastObservedAt.milliseconds), String(run), open.map { String($0.startedAt.milliseconds) } ?? "",
            open?.thresholdPct.text ?? "", open?.peakSpreadPct.text ?? "", lastClosedAt.map { String($0.milliseconds) } ?? "",
        ].joined(separator: "|")
    }

    /// Reads what `text` wrote (from Redis: checked, never trusted).
    public init(text: String) throws(SpreadStoreError) {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 8, parts[0] == "v1" else { throw SpreadStoreError("monitor state is not 8 fields of version v1") }
        guard StreamID.isValid(parts[1]) else { throw SpreadStoreError("monitor state entry id \(parts[1].prefix(40))") }
        guard let observed = Int64(parts[2]).flatMap(Timestamp.init(plausible:)), let run = Int(parts[3]), run >= 0 else {
            throw SpreadStoreError("monitor state time or run")
        }
        var open: OpenEpisode?
        if !parts[4].isEmpty {
            guard let started = Int64(parts[4]).flatMap(Timestamp.init(plausible:)), let threshold = DecimalNumber(parts[5]),
                let peak = DecimalNumber(parts[6])
            else { throw SpreadStoreError("monitor state open episode") }
            open = OpenEpisode(startedAt: started, thresholdPct: threshold, peakSpreadPct: peak)
        }
        var closed: Timestamp?
        if !parts[7].isEmpty {
            guard let time = Int64(parts[7]).flatMap(Timestamp.init(plausible:)) else { throw SpreadStoreError("monitor state close time") }
            closed = time
        }
        self.init(lastEntryID: String(parts[1]), lastObservedAt: observed, run: run, open: open, lastClosedAt: closed)
    }
}
