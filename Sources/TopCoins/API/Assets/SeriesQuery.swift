/// A validated request for an asset's series: `/assets/{id}/prices?from=&to=&interval=&format=`.
public struct SeriesQuery: Sendable, Equatable {
    /// The bucket widths a query may ask for, aligned to UTC.
    public enum Interval: String, Sendable, CaseIterable {
        case oneMinute = "1m", fiveMinutes = "5m", fifteenMinutes = "15m", oneHour = "1h", fourHours = "4h", oneDay = "1d"

        public var milliseconds: Int64 {
            switch self {
            case .oneMinute: 60_000
            case .fiveMinutes: 300_000
            case .fifteenMinutes: 900_000
            case .oneHour: 3_600_000
            case .fourHours: 14_400_000
            case .oneDay: 86_400_000
            }
        }

        /// The label of a stored or computed point of `width` ms (0: a raw point).
        public static func label(width: Int64) -> String {
            width == 0 ? "raw" : allCases.first { $0.milliseconds == width }?.rawValue ?? "\(width / 1000)s"
        }
    }

    /// Inclusive: a point or bucket belongs when its timestamp (a bucket's start) lies within.
    public let from: Timestamp
    public let to: Timestamp
    /// nil: every stored point as it is.
    public let interval: Interval?
    public let format: ListQuery.Format

    public static let defaultRangeMilliseconds: Int64 = 86_400_000

    /// The bucket width asked for, 0 for raw points.
    public var width: Int64 { interval?.milliseconds ?? 0 }

    public init(from: Timestamp, to: Timestamp, interval: Interval?, format: ListQuery.Format = .json) {
        self.from = from
        self.to = to
        self.interval = interval
        self.format = format
    }

    /// Parses the query; the range defaults to the 24 hours up to `now`, or with
    /// `defaultRangeIntervals` to that many buckets up to `to`. A range that would hold more
    /// than `maxPoints` buckets is refused here; raw points are counted when read.
    public init(
        query: String?, accept: String?, now: Timestamp, maxPoints: Int, defaultInterval: Interval? = nil, defaultRangeIntervals: Int64? = nil
    ) throws(APIError) {
        let parameters = QueryParameters(query)
        format = try parameters.format(accept: accept)
        if let text = try parameters.single("interval") {
            guard let interval = Interval(rawValue: text) else {
                throw .invalid("interval", "interval must be one of \(Interval.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.interval = interval
        } else {
            interval = defaultInterval
        }
        to = try parameters.instant("to") ?? now
        let intervalWidth = interval?.milliseconds ?? 0
        let defaultRange = defaultRangeIntervals.map { ($0 - 1) * intervalWidth } ?? SeriesQuery.defaultRangeMilliseconds
        from = try parameters.instant("from") ?? to.adding(milliseconds: -defaultRange)
        guard from <= to else {
            var error = APIError.invalid("from", "from must not be after to")
            error.details = [("from", .string(from.iso8601)), ("to", .string(to.iso8601))]
            throw error
        }
        if let interval {
            let width = interval.milliseconds
            let buckets = (to.milliseconds.floorDividedWithRemainder(by: width).0 - from.milliseconds.floorDividedWithRemainder(by: width).0) + 1
            if buckets > Int64(maxPoints) { throw SeriesQuery.tooManyPoints(atLeast: buckets, maxPoints: maxPoints) }
        }
    }

    /// The one answer to a range too large for one response.
    static func tooManyPoints(atLeast count: Int64, maxPoints: Int) -> APIError {
        var error = APIError(
            status: .badRequest, code: "range_too_large",
            message: "from..to holds \(count) or more points, more than the \(maxPoints) one answer may hold: narrow from..to or ask a coarser interval",
            parameter: "from")
        error.details = [("max_points", .number(String(maxPoints)))]
        return error
    }
}
