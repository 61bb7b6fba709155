/// A validated request for an asset's chart: `/assets/{id}/chart.svg?from=&to=&interval=&sma=`.
/// The range and interval parse as a series query does; without `from`, a chart with an
/// interval shows its last 90 buckets (a daily chart a quarter, not one day), and a raw one the
/// last 24 hours as the series does.
public struct ChartQuery: Sendable, Equatable {
    public let series: SeriesQuery
    /// The moving average's window, nil for none (`sma=0`).
    public let sma: Int?

    public static let defaultSMA = 20
    public static let smaWindows = 2...1000
    /// Buckets a chart with an interval and no `from` shows.
    public static let defaultBuckets: Int64 = 90

    public init(series: SeriesQuery, sma: Int?) {
        self.series = series
        self.sma = sma
    }

    public init(query: String?, now: Timestamp, maxPoints: Int) throws(APIError) {
        let parameters = QueryParameters(query)
        var series = try SeriesQuery(query: query, accept: nil, now: now, maxPoints: maxPoints)
        if let interval = series.interval, try parameters.single("from") == nil {
            let width = interval.milliseconds
            let last = series.to.milliseconds.floorDividedWithRemainder(by: width).0 * width
            series = SeriesQuery(from: Timestamp(milliseconds: last - (ChartQuery.defaultBuckets - 1) * width), to: series.to, interval: interval)
        }
        self.series = series
        switch try parameters.single("sma") {
        case nil: sma = ChartQuery.defaultSMA
        case "0": sma = nil
        case let text?:
            guard let window = Int(text), text.utf8.count <= 4, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                ChartQuery.smaWindows.contains(window)
            else {
                throw .invalid(
                    "sma",
                    "sma must be 0 (no moving average) or an integer from \(ChartQuery.smaWindows.lowerBound) to \(ChartQuery.smaWindows.upperBound)"
                )
            }
            sma = window
        }
    }
}
