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
        let (from, to) = AssetRoutes.chartDomain(query.series)
        let key = RenderedCharts.Key(
            cmcId: asset.entry.cmcId,
            names: "\(asset.entry.symbol)\u{0}\(asset.entry.name)",
            width: query.series.width,
            sma: query.sma ?? 0,
            from: from.milliseconds,
            to: to.milliseconds
        )
        let generation = assets.modified
        let drawn: RenderedCharts.Chart
        if let cached = charts.chart(key, generation: generation) {
            drawn = cached
        } else {
            let (chart, versions) = try await self.chart(of: asset, query: query, from: from, to: to)
            let price = chart.lines.first?.points ?? []
            let tag = AssetRoutes.tag(
                [
                    key.cmcId, Int64(bitPattern: TopListRoutes.fnv1a(Array(key.names.utf8))), key.width, Int64(key.sma), key.from, key.to,
                    price.first?.time.milliseconds ?? 0, price.last?.time.milliseconds ?? 0, Int64(price.count),
                ] + versions
            )
            drawn = RenderedCharts.Chart(etag: tag, lastModified: price.last?.time, body: ByteBuffer(string: chart.svg))
            charts.remember(drawn, as: key, generation: generation)
        }
        let latest = library.latest?.timestamp
        let reachesNewest = latest.map { query.series.to >= $0 } ?? true
        let validators = ConditionalGET(
            etag: drawn.etag,
            lastModified: drawn.lastModified ?? latest ?? now,
            maxAgeSeconds: reachesNewest ? nextSnapshotDue(now: now) : 3600
        )
        return validators.response(to: request, headers: AssetRoutes.chartPolicy) { headers in
            headers[.contentType] = "image/svg+xml; charset=utf-8"
            return drawn.body
        }
    }

    /// The x axis's range: for buckets, the first and last bucket start within the asked range
    /// (the same buckets, so a chart of "the last 90 days" is the same chart all day, and
    /// cacheable); raw points keep the range as asked.
    static func chartDomain(_ series: SeriesQuery) -> (from: Timestamp, to: Timestamp) {
        let width = series.width
        guard width > 0 else { return (series.from, series.to) }
        let (start, remainder) = series.from.milliseconds.floorDividedWithRemainder(by: width)
        let from = Timestamp(milliseconds: (start + (remainder > 0 ? 1 : 0)) * width)
        let to = Timestamp(milliseconds: series.to.milliseconds.floorDividedWithRemainder(by: width).0 * width)
        // A range within one bucket holds no bucket start: then `to` lies before `from`, and
        // the chart is empty.
        return (from, to)
    }

    /// The chart of `asset` for `query` over `from...to`, and the versions of the spans it was
    /// drawn from.
    func chart(
        of asset: AssetLibrary.Asset,
        query: ChartQuery,
        from: Timestamp,
        to: Timestamp
    ) async throws(APIError) -> (chart: LineChart, versions: [Int64]) {
        let series = SeriesQuery(from: from, to: to, interval: query.series.interval)
        var price: [LineChart.Point] = []
        var average: [LineChart.Point] = []
        let versions: [Int64]
        if let window = query.sma {
            let (buckets, firstInRange, read) = try await assets.seriesWithWarmUp(
                of: asset.entry.cmcId,
                query: series,
                maxPoints: config.maxPoints,
                warmUpLimit: window
            )
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
        let subtitle =
            "USD, \(AssetRoutes.describe(series.interval)) · \(AssetRoutes.describe(from, series.interval)) to "
            + "\(AssetRoutes.describe(to, series.interval)) UTC · \(price.count) \(price.count == 1 ? "point" : "points")"
        return (LineChart(title: name, subtitle: subtitle, from: from, to: to, lines: lines), versions)
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
