/// One stored price of an asset over a stretch of time: a raw point (one snapshot, where
/// open = high = low = close and count = 1) or an OHLC bucket that retention or a query
/// built from raw points. One type for both, so aggregation is one fold.
public struct PriceBucket: Sendable, Equatable {
    /// The snapshot's time for a raw point; the bucket's start (aligned to UTC) otherwise.
    public let start: Timestamp
    /// What the point is: 0 for a raw point, else the bucket's width in ms.
    public let width: Int64
    public private(set) var open: DecimalNumber
    public private(set) var high: DecimalNumber
    public private(set) var low: DecimalNumber
    public private(set) var close: DecimalNumber
    /// How many raw points the bucket summarises (0 for a backfilled candle, which summarises
    /// none of TopCoins' own).
    public private(set) var count: Int
    /// The upstream a backfilled daily candle came from; nil for TopCoins' own points.
    public let source: String?

    public init(
        start: Timestamp, width: Int64, open: DecimalNumber, high: DecimalNumber, low: DecimalNumber, close: DecimalNumber, count: Int, source: String? = nil
    ) {
        self.start = start
        self.source = source
        self.width = width
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.count = count
    }

    /// A raw point: the asset's price in the snapshot at `time`.
    public init(point time: Timestamp, price: DecimalNumber) {
        self.init(start: time, width: 0, open: price, high: price, low: price, close: price, count: 1)
    }

    /// The raw point's price (a bucket's close).
    public var price: DecimalNumber { close }

    public var isRawPoint: Bool { width == 0 }

    /// Folds ascending `points` into buckets of `width` ms aligned to UTC (the epoch is a UTC
    /// midnight). A point as wide or wider than `width`, or straddling its buckets, passes
    /// through unchanged: what retention kept coarser is shown as what it is.
    public static func aggregate(_ points: [PriceBucket], width: Int64) -> [PriceBucket] {
        var result: [PriceBucket] = []
        result.reserveCapacity(points.count)
        for point in points {
            let start = point.start.milliseconds.floorDividedWithRemainder(by: width).0 * width
            guard point.width < width, point.source == nil, point.start.milliseconds + max(point.width, 1) <= start + width else {
                result.append(point)
                continue
            }
            if let last = result.indices.last, result[last].start.milliseconds == start, result[last].width == width {
                result[last].absorb(point)
            } else {
                result.append(PriceBucket(start: Timestamp(milliseconds: start), width: width, open: point.open, high: point.high, low: point.low, close: point.close, count: point.count))
            }
        }
        return result
    }

    /// Folds in `later`, which covers time after this bucket's own points.
    mutating func absorb(_ later: PriceBucket) {
        high = max(high, later.high)
        low = min(low, later.low)
        close = later.close
        // Counts read from Redis may be anything: a sum past Int.max saturates, never traps.
        let (sum, overflow) = count.addingReportingOverflow(later.count)
        count = overflow ? .max : sum
    }
}

extension RetentionPolicy.Granularity {
    /// The series stores one hash per span: a raw hour, a day of hour buckets, and so on, so
    /// one span holds tens of an asset's points and a range reads a few tens of spans.
    var spanMilliseconds: Int64 {
        switch self {
        case .snapshot, .minute: 3_600_000
        case .hour: 86_400_000
        case .day: 30 * 86_400_000
        }
    }

    /// The width of one stored point: a raw point has none (it is an instant).
    var bucketMilliseconds: Int64 { milliseconds ?? 0 }
}
