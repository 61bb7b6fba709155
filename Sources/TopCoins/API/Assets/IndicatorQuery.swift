/// A validated request for an asset's indicators:
/// `/assets/{id}/indicators?from=&to=&interval=&sma=&ema=&rsi=&std=&return=&format=`.
public struct IndicatorQuery: Sendable, Equatable {
    /// The range and format; the interval is always set (default 1d).
    public let series: SeriesQuery
    /// The columns asked for, in the order asked (across parameters), each once.
    public let indicators: [Indicator]

    public var interval: SeriesQuery.Interval { series.interval ?? IndicatorQuery.defaultInterval }

    /// Daily closes, as the brief's questions ask.
    public static let defaultInterval = SeriesQuery.Interval.oneDay
    /// Without `from`, the answer holds the last 100 buckets up to `to` (100 days at 1d).
    public static let defaultRangeIntervals: Int64 = 100
    public static let windows = 2...1000
    /// The most columns one answer may hold: each costs up to a window's work per point.
    public static let maxColumns = 20
    /// The indicator parameters, in the order the documentation lists them.
    public static let names = ["sma", "ema", "rsi", "std", "return"]
    /// The route's other parameters; `_` is the cache-buster jQuery and others add.
    static let otherParameters: Set<String> = ["from", "to", "interval", "format", "_"]

    /// Parses the query. Every other parameter name is refused here, not ignored as elsewhere:
    /// a misspelt indicator (`ma=5`, `macd=3`) ignored would answer without the column asked.
    public init(query: String?, accept: String?, now: Timestamp, maxPoints: Int) throws(APIError) {
        let parameters = QueryParameters(query)
        var indicators: [Indicator] = []
        for (name, value) in parameters.pairs where !IndicatorQuery.otherParameters.contains(name) {
            guard IndicatorQuery.names.contains(name) else {
                throw APIError(
                    status: .badRequest, code: "unknown_indicator",
                    message: "\(name) is not an indicator or a parameter of this route; indicators: \(IndicatorQuery.names.joined(separator: ", "))",
                    parameter: name)
            }
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let window = QueryParameters.integer(item, in: IndicatorQuery.windows), let indicator = IndicatorQuery.indicator(name, window) else {
                    throw .invalid(
                        name, "\(name) must be a window or a comma list of windows, each an integer from \(IndicatorQuery.windows.lowerBound) to \(IndicatorQuery.windows.upperBound)")
                }
                if !indicators.contains(indicator) { indicators.append(indicator) }
            }
            guard indicators.count <= IndicatorQuery.maxColumns else { throw .invalid(name, "at most \(IndicatorQuery.maxColumns) indicator columns may be asked at once") }
        }
        guard !indicators.isEmpty else {
            throw APIError(
                status: .badRequest, code: "missing_indicator", message: "ask for at least one indicator: \(IndicatorQuery.names.joined(separator: ", ")) (sma=5,20&rsi=14)",
                parameter: "sma")
        }
        self.indicators = indicators
        series = try SeriesQuery(
            query: query, accept: accept, now: now, maxPoints: maxPoints, defaultInterval: IndicatorQuery.defaultInterval,
            defaultRangeIntervals: IndicatorQuery.defaultRangeIntervals)
    }

    static func indicator(_ name: String, _ window: Int) -> Indicator? {
        switch name {
        case "sma": .sma(window)
        case "ema": .ema(window)
        case "rsi": .rsi(window)
        case "std": .std(window)
        case "return": .return(window)
        default: nil
        }
    }
}
