/// The Redis keys of merged history: snapshots, the per-asset series, the catalogue and the
/// pipeline's status. They share one hash tag (`{topcoins}`) so a Redis Cluster keeps them in
/// one slot, which the atomic writes need; this is the one place that names it.
public struct HistoryKeys: Sendable {
    public static let defaultPrefix = "{topcoins}"
    public let prefix: String

    public init(prefix: String = HistoryKeys.defaultPrefix) {
        self.prefix = prefix
    }

    /// Sorted set: member and score are each snapshot's timestamp in unix ms.
    public var history: String { "\(prefix):history" }
    /// The newest snapshot's timestamp.
    public var latest: String { "\(prefix):latest" }
    /// The asset registry list (see `AssetRegistry`).
    public var assets: String { "\(prefix):assets" }
    /// Hash of retention progress: the boundary each tier has been applied up to.
    public var retention: String { "\(prefix):retention" }
    /// Which merger may write (see `MergerLease`).
    public var mergerLease: String { "\(prefix):merger:lease" }
    /// The encoded `Catalogue`.
    public var catalogue: String { "\(prefix):catalogue" }
    /// Sorted set of the series' spans (member `SeriesSpan.member`, score its start).
    public var seriesSpans: String { "\(prefix):series:spans" }
    /// Hash: each span's member and a counter bumped on every change to it, so a reader's
    /// cache knows what is still current.
    public var seriesVersions: String { "\(prefix):series:versions" }
    /// Hash of the conversion of snapshot history written before the series store existed.
    public var seriesConversion: String { "\(prefix):series:conversion" }
    /// Hash: each asset with backfilled daily candles (field: CMC id) and a counter bumped on
    /// every change to its candles, so a reader's cache knows what is still current.
    public var candleVersions: String { "\(prefix):candles:versions" }
    /// Set naming the components that record a status (see `PipelineStatus`).
    public var statusIndex: String { "\(prefix):status" }

    public func snapshot(_ timestamp: Timestamp) -> String { "\(prefix):snapshot:\(timestamp.milliseconds)" }
    public func series(_ span: SeriesSpan) -> String { "\(prefix):series:\(span.member)" }
    public func status(_ component: String) -> String { "\(statusIndex):\(component)" }
    /// Hash of one asset's daily candles: field the day's start in unix ms, value
    /// `DailyCandle.encoded`.
    public func candles(_ cmcId: Int64) -> String { "\(prefix):candles:\(cmcId)" }
    /// Hash of a backfill source's progress per asset (field: CMC id; see the history fetcher).
    public func backfill(_ source: String) -> String { "\(prefix):backfill:\(source)" }
}

/// One hash of the series store: the points of every asset at one granularity over one
/// aligned stretch of time (a raw hour, a day of hour buckets, ...).
public struct SeriesSpan: Sendable, Hashable, Comparable {
    public let granularity: RetentionPolicy.Granularity
    public let start: Int64

    public init(granularity: RetentionPolicy.Granularity, start: Int64) {
        self.granularity = granularity
        self.start = start
    }

    /// The span of `granularity` that holds `time`.
    public init(granularity: RetentionPolicy.Granularity, containing time: Int64) {
        let width = granularity.spanMilliseconds
        self.init(granularity: granularity, start: time.floorDividedWithRemainder(by: width).0 * width)
    }

    /// Parses what `member` wrote; nil for anything else.
    public init?(member: some StringProtocol) {
        let parts = member.split(separator: ":")
        guard parts.count == 2, let granularity = RetentionPolicy.Granularity(rawValue: String(parts[0])), let start = Int64(parts[1]),
            start.floorDividedWithRemainder(by: granularity.spanMilliseconds).1 == 0
        else { return nil }
        self.init(granularity: granularity, start: start)
    }

    public var member: String { "\(granularity.rawValue):\(start)" }
    public var end: Int64 { start + granularity.spanMilliseconds }

    public static func < (lhs: SeriesSpan, rhs: SeriesSpan) -> Bool { (lhs.start, lhs.granularity.order) < (rhs.start, rhs.granularity.order) }
}

extension RetentionPolicy.Granularity {
    /// Finer first: a snapshot, then minute, hour and day buckets.
    var order: Int { Self.allCases.firstIndex(of: self)! }
}
