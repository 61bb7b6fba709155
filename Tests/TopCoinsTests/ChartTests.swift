import Foundation
import Testing

@testable import TopCoins

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Tick selection, the chart's SVG and the dashboard's and reference's HTML, as pure functions.
@Suite("Charts and pages")
struct ChartTests {
    static let day = DailyCandle.dayMilliseconds

    // MARK: price ticks

    @Test("price ticks: equal 1-2-5 steps that bound the range, as few as fit, labels that read back as their values", arguments: 0..<8)
    func priceTicksOverRandomRanges(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for iteration in 0..<500 {
            // Prices from 1e-8 to 1e6, ranges from a hair to several times the price.
            let exponent = Double(Int.random(in: -8...6, using: &random))
            let low = Double.random(in: 1...10, using: &random) * pow(10, exponent)
            let high = low * (1 + Double.random(in: 0.0001...5, using: &random))
            let ticks = ChartTicks.price(low: low, high: high, maxTicks: 6)
            let context = "seed \(seed) iteration \(iteration): \(low)...\(high) -> \(ticks.map(\.label))"
            #expect(ticks.count >= 2 && ticks.count <= 6, "\(context)")
            guard let first = ticks.first, let last = ticks.last, ticks.count >= 2 else { continue }
            #expect(first.value <= low * (1 + 1e-12) && last.value >= high * (1 - 1e-12), "\(context)")
            let step = ticks[1].value - ticks[0].value
            #expect(zip(ticks, ticks.dropFirst()).allSatisfy { abs(($1.value - $0.value) - step) <= step * 1e-9 }, "\(context)")
            // The step is 1, 2 or 5 times a power of ten.
            let scale = pow(10, (log10(step)).rounded(.down))
            #expect([1.0, 2, 5, 10].contains { abs(step / scale - $0) < 1e-6 }, "\(context)")
            // The next finer 1-2-5 step would need more ticks than allowed.
            let mantissa = (step / scale).rounded()
            let finer = mantissa == 1 ? scale / 2 : mantissa == 2 ? scale : scale * 2
            #expect(((high / finer).rounded(.up) - (low / finer).rounded(.down) + 1) > 6, "\(context)")
            for tick in ticks {
                #expect(!tick.label.contains("e"), "\(context)")
                let parsed = Double(tick.label.replacingOccurrences(of: ",", with: ""))
                #expect(parsed.map { abs($0 - tick.value) <= abs(tick.value) * 1e-12 } == true, "\(context): \(tick.label)")
            }
            // One number of decimals along the axis, so the labels line up.
            #expect(Set(ticks.map { $0.label.split(separator: ".").dropFirst().first?.count ?? 0 }).count == 1, "\(context)")
        }
    }

    @Test("price labels as a person writes them")
    func priceLabels() {
        #expect(ChartTicks.price(low: 4.6012, high: 4.6581).map(\.label) == ["4.60", "4.62", "4.64", "4.66"])
        #expect(ChartTicks.price(low: 61_234, high: 68_950).map(\.label) == ["60,000", "62,000", "64,000", "66,000", "68,000", "70,000"])
        #expect(
            ChartTicks.price(low: 0.000000012, high: 0.000000019).map(\.label) == [
                "0.000000012", "0.000000014", "0.000000016", "0.000000018", "0.000000020",
            ]
        )
        #expect(ChartTicks.price(low: 0.998, high: 1.003).map(\.label) == ["0.998", "0.999", "1.000", "1.001", "1.002", "1.003"])
        #expect(ChartTicks.price(low: 0.9981, high: 1.0061).map(\.label) == ["0.998", "1.000", "1.002", "1.004", "1.006", "1.008"])
        // A flat series still gets an axis around its value.
        let flat = ChartTicks.price(low: 2.5, high: 2.5)
        #expect(flat.count >= 2 && flat.first!.value < 2.5 && flat.last!.value > 2.5)
        #expect(ChartTicks.price(low: .nan, high: 1).isEmpty)
    }

    // MARK: time ticks

    @Test(
        "time ticks follow the span: clock times within days, dates within months, months and years beyond",
        arguments: [
            (Int64(6 * 3_600_000), "minutes"), (2 * day, "minutes"), (14 * day, "days"), (89 * day, "days"), (400 * day, "months"),
            (3000 * day, "years"),
        ]
    )
    func timeTicks(span: Int64, unit: String) {
        var random = SplitMix64(seed: UInt64(span))
        for _ in 0..<50 {
            let from = Timestamp(milliseconds: 1_600_000_000_000 + Int64.random(in: 0...(200 * ChartTests.day), using: &random))
            let to = from.adding(milliseconds: span)
            let ticks = ChartTicks.time(from: from, to: to, maxTicks: 8)
            #expect(ticks.count >= 2 && ticks.count <= 8, "\(from)...\(to): \(ticks.count)")
            #expect(ticks.allSatisfy { $0.time >= from && $0.time <= to })
            #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0.time < $1.time })
            for tick in ticks {
                // Labels checked against the ISO text of the instant.
                let iso = tick.time.iso8601
                let month = ChartTicks.monthNames[Int(iso.dropFirst(5).prefix(2))! - 1]
                let dayOfMonth = String(Int(iso.dropFirst(8).prefix(2))!)
                switch unit {
                case "minutes":
                    #expect(tick.lines[0] == String(iso.dropFirst(11).prefix(5)))
                case "days":
                    #expect(tick.time.milliseconds % ChartTests.day == 0)
                    #expect(tick.lines[0] == "\(month) \(dayOfMonth)")
                case "months":
                    #expect(iso.dropFirst(8).hasPrefix("01T00:00:00.000Z"))
                    #expect(tick.lines[0] == month)
                default:
                    #expect(iso.dropFirst(4).hasPrefix("-01-01T00:00:00.000Z"))
                    #expect(tick.lines == [String(iso.prefix(4))])
                }
            }
            // The first tick names its date (or year), so the axis reads without the title.
            #expect(unit == "years" || ticks.first.map { $0.lines.count == 2 } == true)
        }
    }

    // MARK: the chart

    static func points(_ count: Int, from start: Int64 = 1_640_995_200_000, step: Int64 = day, base: Double = 40_000) -> [LineChart.Point] {
        (0..<count).map { LineChart.Point(time: Timestamp(milliseconds: start + Int64($0) * step), value: base * (1 + 0.1 * sin(Double($0) / 7))) }
    }

    static func chart(_ points: [LineChart.Point], title: String = "Bitcoin (BTC)") -> LineChart {
        let from = points.first?.time ?? Timestamp(milliseconds: 1_640_995_200_000)
        let to = points.last?.time ?? from.adding(milliseconds: 89 * day)
        let values = Indicator.sma(points.map(\.value), 20)
        let sma = zip(points, values).compactMap { point, value in value.map { LineChart.Point(time: point.time, value: $0) } }
        return LineChart(
            title: title,
            subtitle: "USD, daily closes",
            from: from,
            to: to,
            lines: [
                .init(label: "BTC price", role: "price", color: "#0969da", points: points),
                .init(label: "SMA 20", role: "sma", color: "#d4760a", points: sma),
            ]
        )
    }

    /// The `points` attribute of the polyline of `role`, as (x, y) pairs.
    static func vertices(_ svg: String, role: String) -> [(Double, Double)]? {
        guard let start = svg.range(of: "<polyline class=\"\(role)\"") else { return nil }
        let rest = svg[start.upperBound...]
        guard let attribute = rest.range(of: " points=\""), let end = rest[attribute.upperBound...].firstIndex(of: "\"") else { return nil }
        return rest[attribute.upperBound..<end].split(separator: " ").map { pair in
            let parts = pair.split(separator: ",")
            return (Double(parts[0])!, Double(parts[1])!)
        }
    }

    @Test("one vertex per point, in time order, coordinates with at most one decimal, inside the plot; well-formed XML")
    func chartVertices() throws {
        let points = Self.points(90)
        let svg = Self.chart(points).svg
        let price = try #require(Self.vertices(svg, role: "price"))
        #expect(price.count == 90)
        #expect(svg.contains("data-points=\"90\""))
        #expect(zip(price, price.dropFirst()).allSatisfy { $0.0 < $1.0 })
        let sma = try #require(Self.vertices(svg, role: "sma"))
        #expect(sma.count == 71)
        // A higher price is drawn higher (smaller y).
        let highest = points.indices.max { points[$0].value < points[$1].value }!
        #expect(price[highest].1 == price.map(\.1).min())
        // Coordinates (and, at these prices, every number) carry at most one decimal.
        #expect(svg.range(of: "[0-9]\\.[0-9]{2,}", options: .regularExpression) == nil)
        #expect(svg.utf8.count <= 60_000, "\(svg.utf8.count) bytes")
        #expect(!svg.contains("href") && !svg.contains("<script") && !svg.contains("url("))
        #expect(ChartTests.parsesAsXML(svg))
    }

    @Test("titles and legends from upstream names are escaped")
    func hostileNames() {
        let svg = Self.chart(Self.points(5), title: "<script>alert(1)</script> & \"Co\"").svg
        #expect(!svg.contains("<script>"))
        #expect(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;"))
        #expect(ChartTests.parsesAsXML(svg))
    }

    @Test("a range without points says so, and still has its dated axis")
    func emptyChart() {
        let svg = Self.chart([]).svg
        #expect(svg.contains("No data in this range"))
        #expect(svg.contains("data-points=\"0\"") && !svg.contains("<polyline"))
        #expect(svg.contains(">Jan 1<"))
        #expect(ChartTests.parsesAsXML(svg))
    }

    @Test("a sparkline has one vertex per point and is green when the price rose")
    func sparkline() {
        let rising = Sparkline(points: Self.points(30, step: 60_000).enumerated().map { LineChart.Point(time: $1.time, value: Double($0)) }).svg
        #expect(rising.contains("data-points=\"30\"") && rising.contains("#1a7f37"))
        let falling = Sparkline(points: Self.points(30, step: 60_000).enumerated().map { LineChart.Point(time: $1.time, value: Double(-$0)) }).svg
        #expect(falling.contains("#cf222e"))
        #expect(ChartTests.parsesAsXML(rising) && ChartTests.parsesAsXML(Sparkline(points: []).svg))
    }

    static func parsesAsXML(_ text: String) -> Bool {
        XMLParser(data: Data(text.utf8)).parse()
    }

    // MARK: the chart's query

    @Test("chart query: SMA 20 unless asked, 0 for none, 2...1000 otherwise; 90 buckets without from")
    func chartQuery() throws {
        let now = Timestamp(milliseconds: 1_700_000_000_000)
        #expect(try ChartQuery(query: nil, now: now, maxPoints: 10_000).sma == 20)
        #expect(try ChartQuery(query: "sma=0", now: now, maxPoints: 10_000).sma == nil)
        #expect(try ChartQuery(query: "sma=1000", now: now, maxPoints: 10_000).sma == 1000)
        for bad in ["1", "1001", "-1", "abc", "", "5.0", "00005000", "2&sma=3"] {
            let error = #expect(throws: APIError.self) { try ChartQuery(query: "sma=\(bad)", now: now, maxPoints: 10_000) }
            #expect(error?.parameter == "sma" && error?.status == .badRequest, "sma=\(bad)")
        }
        // Without from: the raw series' 24 hours, or the last 90 buckets of an interval.
        let raw = try ChartQuery(query: nil, now: now, maxPoints: 10_000).series
        #expect(raw.to == now && raw.from == now.adding(milliseconds: -SeriesQuery.defaultRangeMilliseconds))
        let daily = try ChartQuery(query: "interval=1d", now: now, maxPoints: 10_000).series
        let (from, to) = AssetRoutes.chartDomain(daily)
        #expect((to.milliseconds - from.milliseconds) / Self.day + 1 == ChartQuery.defaultBuckets)
        #expect(from.milliseconds % Self.day == 0 && to.milliseconds <= now.milliseconds && now.milliseconds - to.milliseconds < Self.day)
        // The range's ends on bucket starts: the first start at or after from, the last at or before to.
        let inside = try ChartQuery(query: "interval=1h&from=2023-11-14T10:30:00Z&to=2023-11-14T20:59:59Z", now: now, maxPoints: 10_000).series
        #expect(AssetRoutes.chartDomain(inside).from == Timestamp(iso8601: "2023-11-14T11:00:00Z"))
        #expect(AssetRoutes.chartDomain(inside).to == Timestamp(iso8601: "2023-11-14T20:00:00Z"))
    }

    // MARK: pages

    @Test("the API reference lists every path of the document with its parameters and a curl command")
    func referenceHasEveryPath() throws {
        let document = try JSONParser.parse(OpenAPIDocument.structure)
        let html = APIReferencePage(document: document).html
        // The paths read independently from oas.yaml's text: the keys indented by two under `paths:`.
        let yaml = String(decoding: OpenAPIDocument.bytes, as: UTF8.self)
        let section = yaml.components(separatedBy: "\npaths:\n")[1].components(separatedBy: "\ncomponents:")[0]
        let paths = section.split(separator: "\n").filter { $0.hasPrefix("  /") }.map { String($0.dropFirst(2).dropLast()) }
        #expect(paths.count >= 8)
        for path in paths {
            let escaped = path.replacingOccurrences(of: "&", with: "&amp;")
            #expect(html.contains("data-path=\"\(escaped)\""), "\(path)")
            // A curl command whose URL is the path with its parameters filled in.
            let template = path.replacingOccurrences(of: "\\{[^}]+\\}", with: "PARAMETER", options: .regularExpression)
            let pattern = NSRegularExpression.escapedPattern(for: template).replacingOccurrences(of: "PARAMETER", with: "[^/?{}&]+")
            #expect(
                html.range(of: "<pre><code>curl [^<]*&#39;http://localhost:6667\(pattern)(\\?|&#39;)", options: .regularExpression) != nil,
                "\(path)"
            )
        }
        // Parameters come from the components they refer to, with their defaults.
        #expect(html.contains("<code>limit</code>") && html.contains("<code>100</code>"))
        #expect(!html.contains("$ref"))
    }

    @Test("the dashboard escapes every upstream string, and shows a row and sparkline per asset")
    func dashboardEscapes() {
        let rows = (1...20).map { rank in
            DashboardPage.Row(
                rank: rank,
                cmcId: Int64(rank),
                symbol: rank == 3 ? "<script>x</script>" : "C\(rank)",
                name: rank == 4 ? "\"><img src=x onerror=alert(1)>" : "Coin",
                price: DecimalNumber("1.5")!,
                day: .success(Self.points(10, step: 60_000))
            )
        }
        let readiness = Readiness(reasons: ["no_snapshot"], snapshot: nil, components: [])
        let html = DashboardPage(rows: rows, chart: nil, readiness: readiness, spreads: nil, now: .now).html
        #expect(!html.contains("<script>") && !html.contains("<img src=x"))
        #expect(html.contains("&lt;script&gt;x&lt;/script&gt;"))
        #expect(html.components(separatedBy: "<tr data-cmc-id=").count - 1 == 20)
        #expect(html.components(separatedBy: "class=\"sparkline\"").count - 1 == 20)
        #expect(html.contains("http-equiv=\"refresh\"") && html.contains("id=\"spreads\"") && html.contains("Pipeline not ready"))
    }
}
