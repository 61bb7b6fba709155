import HTTPTypes
import Hummingbird
import NIOCore

/// `/assets/{id}/chart.svg`: the asset's series as a chart a person reads without help, its
/// moving average computed over the history before `from` too, so the line starts right at
/// the chart's left edge with the value the indicators route gives.
extension AssetRoutes {
    static let priceColor = "#0969da"
    static let smaColor = "#d4760a"
    /// An SVG opened on its own is a document that could run script: this one never needs to.
    static let chartPolicy: HTTPFields = [HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'"]

    func chart(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let now = Timestamp.now
        let asset = try assets.asset(try context.parameters.decoded("id"))
        let query = try ChartQuery(query: request.uri.query, now: now, maxPoints: config.maxPoints)
        let (chart, versions) = try await chart(of: asset, query: query)
        let price = chart.lines.first?.points ?? []
        let tag = AssetRoutes.tag(
            [asset.entry.cmcId, Int64(bitPattern: TopListRoutes.fnv1a(Array("\(asset.entry.symbol)\u{0}\(asset.entry.name)".utf8))), query.series.width,
             Int64(query.sma ?? 0), query.series.from.milliseconds, query.series.to.milliseconds, price.first?.time.milliseconds ?? 0,
             price.last?.time.milliseconds ?? 0, Int64(price.count)] + versions)
        let latest = library.latest?.timestamp
        let reachesNewest = latest.map { query.series.to >= $0 } ?? true
        let validators = ConditionalGET(
            etag: tag, lastModified: price.last?.time ?? latest ?? now, maxAgeSeconds: reachesNewest ? nextSnapshotDue(now: now) : 3600)
        return validators.response(to: request, headers: AssetRoutes.chartPolicy) { headers in
            headers[.contentType] = "image/svg+xml; charset=utf-8"
            return ByteBuffer(string: chart.svg)
        }
    }

    /// The chart of `asset` for `query`, and the versions of the spans it was drawn from.
    func chart(of asset: AssetLibrary.Asset, query: ChartQuery) async throws(APIError) -> (chart: LineChart, versions: [Int64]) {
        let series = query.series
        var price: [LineChart.Point] = []
        var average: [LineChart.Point] = []
        let versions: [Int64]
        if let window = query.sma {
            let (buckets, firstInRange, read) = try await assets.seriesWithWarmUp(
                of: asset.entry.cmcId, query: series, maxPoints: config.maxPoints, warmUpLimit: window)
            let values = Indicator.sma(buckets.map(\.close.doubleValue), window)
            for index in firstInRange..<buckets.count {
                price.append(LineChart.Point(time: buckets[index].start, value: buckets[index].close.doubleValue))
                if let value = values[index] { average.append(LineChart.Point(time: buckets[index].start, value: value)) }
            }
            versions = read
        } else {
            let (slices, read) = try await assets.points(of: asset.entry.cmcId, query: series, maxPoints: config.maxPoints)
            price = slices.buckets.map { LineChart.Point(time: $0.start, value: $0.close.doubleValue) }
            versions = read
        }
        var lines = [LineChart.Line(label: "\(asset.entry.symbol) price", role: "price", color: AssetRoutes.priceColor, points: price)]
        if let window = query.sma {
            lines.append(LineChart.Line(label: "SMA \(window)", role: "sma", color: AssetRoutes.smaColor, strokeWidth: 1.5, points: average))
        }
        let name = asset.entry.name == asset.entry.symbol ? asset.entry.symbol : "\(asset.entry.name) (\(asset.entry.symbol))"
        let subtitle = "USD, \(AssetRoutes.describe(series.interval)) · \(AssetRoutes.describe(series.from, series.interval)) to "
            + "\(AssetRoutes.describe(series.to, series.interval)) UTC · \(price.count) points"
        return (LineChart(title: name, subtitle: subtitle, from: series.from, to: series.to, lines: lines), versions)
    }

    static func describe(_ interval: SeriesQuery.Interval?) -> String {
        switch interval {
        case nil: "every stored point"
        case .oneMinute: "by the minute"
        case .fiveMinutes: "5-minute closes"
        case .fifteenMinutes: "15-minute closes"
        case .oneHour: "hourly closes"
        case .fourHours: "4-hour closes"
        case .oneDay: "daily closes"
        }
    }

    /// A range end as a person reads it: the date for a daily chart, else date and minute.
    static func describe(_ time: Timestamp, _ interval: SeriesQuery.Interval?) -> String {
        let text = time.iso8601
        return interval == .oneDay ? String(text.prefix(10)) : "\(text.prefix(10)) \(text.dropFirst(11).prefix(5))"
    }
}
