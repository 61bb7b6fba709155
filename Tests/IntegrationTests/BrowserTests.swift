import Foundation
import Testing

@testable import TopCoins

/// The chart, the dashboard and the reference as a person gets them: the built merger and API
/// on a real Redis, daily candles stored as the history fetcher stores them, and headless
/// Chromium loading each page and reporting every error it saw.
@Suite("Pages in Chromium", .serialized, .timeLimit(.minutes(4)))
struct BrowserTests: ReadsJSONAnswers {
    static let day = DailyCandle.dayMilliseconds

    /// 200 days of daily candles for asset 1, ending three days ago, walking from 40,000.
    static func candles(endingBefore now: Timestamp) -> [DailyCandle] {
        var random = SplitMix64(seed: 2022)
        let lastDay = now.milliseconds / day * day - 3 * day
        var close = 40_000.0
        return (0..<200).map { index in
            let open = close
            close *= 1 + Double(Int64(random.next() % 2001) - 1000) / 25_000
            let text = { (value: Double) in DecimalNumber(mantissa: Int64((value * 100).rounded()), scale: 2) }
            return DailyCandle(
                dayOf: Timestamp(milliseconds: lastDay - Int64(199 - index) * day),
                open: text(open),
                high: text(max(open, close) * 1.01),
                low: text(min(open, close) * 0.99),
                close: text(close),
                volume: nil,
                source: "cryptocompare"
            )
        }
    }

    /// Where screenshots are copied for a person to look at (`TOPCOINS_KEEP_SCREENSHOTS=DIR`).
    static let keptScreenshots = ProcessInfo.processInfo.environment["TOPCOINS_KEEP_SCREENSHOTS"]

    static func keep(_ png: Data, as name: String) {
        guard let directory = keptScreenshots else { return }
        try? png.write(to: URL(fileURLWithPath: "\(directory)/\(name)-\(Int(Date().timeIntervalSince1970)).png"))
    }

    /// The market with a hostile name on the asset that ranks first at `step`.
    static func market(hostileAt step: Int) -> (market: MovingMarket, hostileID: Int64, hostileName: String) {
        var market = MovingMarket()
        let first = market.ranks(step: step, at: .now).records.first!["cmc_id"]
        guard case .number(let text)? = first, let id = Int64(text) else { fatalError("the market ranks no asset") }
        let name = "<script>alert('x')</script> & \"Co\""
        market.names[id] = name
        return (market, id, name)
    }

    @Test(
        "chart.svg, /dashboard and /docs load in Chromium without errors: one vertex per point, 20 rows with sparklines, the chart image, every path"
    )
    func pagesLoadWithoutErrors() async throws {
        try await TestBed.with { bed in
            let now = Timestamp.now
            let candles = Self.candles(endingBefore: now)
            _ = try await History(redis: bed.redis).storeCandles(candles, of: 1, progress: nil)
            _ = try bed.startMerger()
            let api = try await bed.startAPI()
            let steps = 30
            let (market, hostileID, hostileName) = Self.market(hostileAt: steps - 1)
            var last = now
            for step in 0..<steps {
                last = Timestamp(milliseconds: now.milliseconds - Int64(steps - step) * 60_000)
                try await bed.publish(market, step: step, at: last)
                try await Faults.waitUntil("snapshot \(step)") { try await bed.latestSnapshot() == last }
            }
            try await api.waitForServing(last)
            let base = "http://127.0.0.1:\(api.port)"
            // 90 days of candles, with 100 days before them to warm the SMA up on.
            let from = candles[100].day
            let to = candles[189].day
            let range = "interval=1d&from=\(from.iso8601)&to=\(to.iso8601)"
            try await Faults.waitUntil("candles served") {
                let prices = try await api.request("/assets/1/prices?\(range)")
                guard prices.status == 200 else { return false }
                return Self.text(try JSONParser.parse(prices.body)["count"]) == "90"
            }

            let chartPath = "/assets/1/chart.svg?\(range)&sma=20"
            let chart = try await api.request(chartPath)
            #expect(chart.status == 200)
            #expect(chart.header("Content-Type")?.hasPrefix("image/svg+xml") == true)
            #expect(chart.body.count <= 60_000, "\(chart.body.count) bytes")
            let etag = try #require(chart.header("ETag"))
            #expect(chart.header("Last-Modified") != nil && chart.header("Cache-Control")?.hasPrefix("public, max-age=") == true)
            #expect(try await api.request(chartPath, headers: [("If-None-Match", etag)]).status == 304)

            // A range whose ends fall inside days: the chart holds exactly the buckets the
            // series route answers with (a bucket belongs by its start), drawn or cached.
            let halfDay = "interval=1d&from=\(from.adding(milliseconds: Self.day / 2).iso8601)&to=\(to.adding(milliseconds: Self.day / 2).iso8601)"
            let expected = Self.text(try JSONParser.parse(try await api.request("/assets/1/prices?\(halfDay)").body)["count"])
            for _ in 0..<2 {
                let body = String(decoding: try await api.request("/assets/1/chart.svg?\(halfDay)&sma=5").body, as: UTF8.self)
                let points = body.components(separatedBy: "class=\"price\"")[1].components(separatedBy: " points=\"")[1].prefix { $0 != "\"" }
                #expect(String(points.split(separator: " ").count) == expected && expected == "89", "\(expected ?? "?")")
            }

            // The spread monitor's record, as it writes it: two books, one with an open alert.
            let spreads = try await SpreadAPITests.seed(bed, now: Timestamp.now)
            let openAlerts = spreads.episodes.filter { $0.endedAt == nil }.map { "\($0.book)-\($0.startedAt)" }
            #expect(!openAlerts.isEmpty)
            try await Faults.waitUntil("spreads on the dashboard") {
                String(decoding: try await api.request("/dashboard").body, as: UTF8.self).contains("data-alert=")
            }

            let browser = try await Chromium.start(in: bed.directory, width: 1200, height: 900)
            do {
                // The chart on its own: the browser's own count of the polylines' vertices.
                let page = try await browser.open(base + chartPath)
                #expect(page.errors.isEmpty, "\(page.errors)")
                #expect(try await browser.evaluate("document.querySelector('polyline.price').points.numberOfItems", in: page) == .number("90"))
                // Warmed up on the 100 days before `from`, the average is defined from the first point.
                #expect(try await browser.evaluate("document.querySelector('polyline.sma').points.numberOfItems", in: page) == .number("90"))
                #expect(try await browser.evaluate("document.documentElement.getAttribute('data-points')", in: page) == .string("90"))
                let png = try await browser.screenshot(page, width: 960, height: 480)
                try png.write(to: URL(fileURLWithPath: bed.directory.file("chart.png")))
                #expect(png.count > 10_000 && png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(png.count) bytes")
                // IHDR: the width and height, big-endian, at bytes 16 and 20.
                let size = [16, 20].map { offset in png[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
                #expect(size == [960, 480], "\(size)")
                Self.keep(png, as: "chart")

                // The dashboard, charting asset 1 over the same days.
                let dashboard = try await browser.open(base + "/dashboard?asset=1&\(range)")
                #expect(dashboard.errors.isEmpty, "\(dashboard.errors)")
                if Self.keptScreenshots != nil { Self.keep(try await browser.screenshot(dashboard, width: 1200, height: 1800), as: "dashboard") }
                let report = try await browser.evaluate(
                    """
                    JSON.stringify({
                      rows: document.querySelectorAll('#top-list tbody tr').length,
                      sparklines: [...document.querySelectorAll('#top-list svg.sparkline polyline')].map(p => p.points.numberOfItems),
                      chart: (i => i ? [i.complete, i.naturalWidth] : null)(document.getElementById('chart-image')),
                      scripts: document.scripts.length,
                      hostile: [...document.querySelectorAll('#top-list tr')].filter(r => r.dataset.cmcId === '\(hostileID)').map(r => r.cells[2].textContent),
                      elsewhere: performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin)),
                      failed: performance.getEntriesByType('resource').filter(e => e.responseStatus !== 200).map(e => e.name),
                      refresh: !!document.querySelector('meta[http-equiv=refresh]'),
                      spreads: !!document.getElementById('spreads'),
                      books: [...document.querySelectorAll('#spread-books tbody tr')].map(r => [r.dataset.book, r.cells[1].textContent, r.cells[3].textContent, r.cells[4].textContent]),
                      alerts: [...document.querySelectorAll('#spread-books [data-alert]')].map(e => e.dataset.alert),
                      summaryLink: !!document.querySelector('#spreads a[href="/spreads/summary?format=csv"]'),
                      state: document.getElementById('state').textContent
                    })
                    """,
                    in: dashboard
                )
                guard case .string(let json) = report else { throw HarnessError("no report: \(report)") }
                let facts = try JSONParser.parse(json)
                #expect(facts["rows"] == .number("20"), "\(json)")
                // Every top-20 asset is in all the snapshots of the last 24 hours.
                #expect(Self.array(facts["sparklines"]) == Array(repeating: .number(String(steps)), count: 20), "\(json)")
                #expect(Self.array(facts["chart"]).first == .bool(true))
                #expect(
                    Self.array(facts["chart"]).last.flatMap { Self.text($0) }.flatMap { Int($0) }.map { $0 > 0 } == true,
                    "\(json)"
                )
                #expect(facts["scripts"] == .number("0"), "\(json)")
                #expect(Self.array(facts["hostile"]) == [.string(hostileName)], "\(json)")
                #expect(Self.array(facts["elsewhere"]).isEmpty && Self.array(facts["failed"]).isEmpty, "\(json)")
                #expect(facts["refresh"] == .bool(true) && facts["spreads"] == .bool(true))
                // A row per monitored book: its newest spread (btc_mxn's last is 0.05 %), threshold and clear level.
                let books = Self.array(facts["books"]).map { Self.array($0).compactMap { Self.text($0) } }
                #expect(books.map(\.first) == ["btc_mxn", "usd_mxn"], "\(json)")
                #expect(books.first == ["btc_mxn", "0.05", "0.1", "0.08"], "\(json)")
                #expect(Self.array(facts["alerts"]).compactMap { Self.text($0) } == openAlerts, "\(json)")
                #expect(facts["summaryLink"] == .bool(true), "\(json)")
                #expect(Self.text(facts["state"])?.contains("Latest snapshot") == true, "\(json)")

                // The reference: every path of the served document.
                let docs = try await browser.open(base + "/docs")
                #expect(docs.errors.isEmpty, "\(docs.errors)")
                if Self.keptScreenshots != nil { Self.keep(try await browser.screenshot(docs, width: 1200, height: 2400), as: "docs") }
                let served = String(decoding: try await api.request("/openapi.yaml").body, as: UTF8.self)
                let section = served.components(separatedBy: "\npaths:\n")[1].components(separatedBy: "\ncomponents:")[0]
                let paths = section.split(separator: "\n").filter { $0.hasPrefix("  /") }.map { JSONValue.string(String($0.dropFirst(2).dropLast())) }
                let shown = try await browser.evaluate(
                    "JSON.stringify([...document.querySelectorAll('section.path')].map(s => s.dataset.path))",
                    in: docs
                )
                guard case .string(let shownJSON) = shown else { throw HarnessError("no paths: \(shown)") }
                #expect(Self.array(try JSONParser.parse(shownJSON)) == paths)
                #expect(paths.count >= 11)
            } catch {
                await browser.close()
                throw error
            }
            await browser.close()
        }
    }

    @Test("chart.svg: a range without points is a labelled 200; bad parameters are 400s naming them; the dashboard names its asset")
    func chartErrors() async throws {
        try await TestBed.with { bed in
            _ = try bed.startMerger()
            let api = try await bed.startAPI()
            let market = MovingMarket()
            let time = Timestamp(milliseconds: Timestamp.now.milliseconds - 60_000)
            try await bed.publish(market, step: 0, at: time)
            try await api.waitForServing(time)
            try await Faults.waitUntil("catalogue served") { try await api.request("/assets/1").status == 200 }
            let empty = try await api.request("/assets/1/chart.svg?interval=1d&from=2015-01-01&to=2015-03-31")
            #expect(empty.status == 200)
            let text = String(decoding: empty.body, as: UTF8.self)
            #expect(text.contains("No data in this range") && text.contains("data-points=\"0\""))
            // Without sma the average is the default 20; sma=0 draws none.
            let raw = String(decoding: try await api.request("/assets/1/chart.svg").body, as: UTF8.self)
            #expect(raw.contains("SMA 20") && raw.contains("data-points=\"1\""))
            #expect(!String(decoding: try await api.request("/assets/1/chart.svg?sma=0").body, as: UTF8.self).contains("polyline class=\"sma\""))
            for (request, status, code, parameter) in [
                ("/assets/1/chart.svg?sma=1", 400, "invalid_sma", "sma"), ("/assets/1/chart.svg?sma=abc", 400, "invalid_sma", "sma"),
                ("/assets/1/chart.svg?sma=1001", 400, "invalid_sma", "sma"), ("/assets/1/chart.svg?interval=2h", 400, "invalid_interval", "interval"),
                ("/assets/1/chart.svg?from=2026-01-02&to=2026-01-01", 400, "invalid_from", "from"),
                ("/assets/1/chart.svg?to=soon", 400, "invalid_to", "to"),
                ("/assets/999999/chart.svg", 404, "unknown_asset", "id"), ("/dashboard?asset=NOPE", 404, "unknown_asset", "asset"),
                ("/dashboard?interval=7d", 400, "invalid_interval", "interval"), ("/dashboard?sma=-1", 400, "invalid_sma", "sma"),
            ] {
                let response = try await api.request(request)
                #expect(response.status == status, "\(request)")
                let error = try JSONParser.parse(response.body)["error"]
                #expect(Self.text(error?["code"]) == code && Self.text(error?["parameter"]) == parameter, "\(request)")
            }
            let dashboard = try await api.request("/dashboard")
            #expect(dashboard.status == 200 && dashboard.header("Content-Type") == "text/html; charset=utf-8")
            #expect(try await api.request("/docs", method: "HEAD").status == 200)
        }
    }
}
