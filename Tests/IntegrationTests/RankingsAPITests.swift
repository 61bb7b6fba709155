import Foundation
import Testing

@testable import TopCoins

/// The rankings over real sockets: the built API on a real Redis, fed a fixture history written
/// by the real write script, its answers checked against computations written out here
/// plainly (not the production code): log returns, sample deviations, daily and hourly closes
/// with candles over own days, competition ranks.
@Suite("Rankings API", .serialized)
struct RankingsAPITests: ReadsJSONAnswers {
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    /// A history writer holding the merger lease, as the merger writes.
    struct Writer {
        let history: History
        let lease: MergerLease
        var registry = AssetRegistry()
        var catalogue = Catalogue()
        /// Every written point: asset → (time, price text), ascending.
        var series: [Int64: [(Int64, String)]] = [:]

        init(_ bed: TestBed) async throws {
            history = History(redis: bed.redis)
            lease = MergerLease(redis: bed.redis, key: history.keys.mergerLease, owner: "test", seconds: 600)
            try #require(try await lease.acquire())
        }

        mutating func write(_ prices: [(Int64, String)], at time: Int64) async throws {
            let timestamp = Timestamp(milliseconds: time)
            let rows = prices.enumerated().map { index, pair in
                MergedSnapshot.Row(rank: index + 1, cmcId: pair.0, symbol: "C\(pair.0)", name: "Coin \(pair.0)", price: DecimalNumber(pair.1)!, sourceRank: index + 1)
            }
            for row in rows { catalogue.record(.init(cmcId: row.cmcId, symbol: row.symbol, name: row.name), at: timestamp) }
            let source = MergedSnapshot.Source(name: "coinmarketcap", fetchedAt: timestamp, entryID: "\(time)-0")
            let snapshot = MergedSnapshot(timestamp: timestamp, prices: source, ranks: source, rows: rows, leftOut: [:])
            let outcome = try await history.write(
                snapshot, registry: &registry, catalogue: catalogue, announceOn: "topcoins:merged", lease: lease, latestLimit: .latestRepresentable)
            try #require(outcome == .written)
            for (id, price) in prices { series[id, default: []].append((time, price)) }
        }
    }

    /// A price walking from `base` by up to ±`step` (relative) a move, with 8 decimals.
    static func walk(seed: UInt64, base: Double, step: Double, count: Int) -> [String] {
        var random = SplitMix64(seed: seed)
        var price = base
        return (0..<count).map { _ in
            price *= 1 + (Double(random.next() % 2_000_001) / 1_000_000 - 1) * step
            return String(format: "%.8f", price)
        }
    }

    static func number(_ value: JSONValue?) -> Double? { text(value).flatMap(Double.init) }

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * abs(b) }

    // MARK: The oracle

    /// Sample standard deviation of the log returns of the points later than `after`, and how
    /// many points; nil with fewer than two returns.
    static func volatility(_ series: [(Int64, String)], after: Int64) -> (value: Double, points: Int)? {
        let prices = series.filter { $0.0 > after }.map { Double($0.1)! }
        guard prices.count >= 3 else { return nil }
        var returns: [Double] = []
        for index in 1..<prices.count { returns.append(Foundation.log(prices[index] / prices[index - 1])) }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let squares = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return ((squares / Double(returns.count - 1)).squareRoot(), prices.count)
    }

    /// Rank 1 for the highest; an equal value shares the rank of the first of them.
    static func competitionRank(_ value: Double, among values: [Double]) -> Int {
        values.filter { $0 > value }.count + 1
    }

    /// The last price of each bucket of `width`, by bucket start.
    static func closes(_ series: [(Int64, String)], width: Int64) -> [Int64: String] {
        var result: [Int64: String] = [:]
        for (time, price) in series { result[time / width * width] = price }
        return result
    }

    /// What `/rankings/volatility` must say over `window` ms up to `at`.
    static func expectVolatility(_ api: APIServer, series: [Int64: [(Int64, String)]], window: String, milliseconds: Int64, at: Int64) async throws {
        let answer = try json(try await api.request("/rankings/volatility?window=\(window)&limit=5000"))
        #expect(text(answer["at"]) == Timestamp(milliseconds: at).iso8601)
        #expect(text(answer["window"]) == window)
        var expected: [Int64: (value: Double, points: Int)] = [:]
        for (id, points) in series { expected[id] = volatility(points, after: at - milliseconds) }
        let values = expected.values.map(\.value)
        let data = array(answer["data"])
        #expect(data.count == expected.count, "window \(window)")
        #expect(text(answer["count"]) == String(expected.count))
        var previous = Double.infinity
        for row in data {
            let id = Int64(text(row["cmc_id"])!)!
            let served = number(row["volatility"])!
            guard let want = expected[id] else {
                Issue.record("asset \(id) is ranked but has fewer than two returns")
                continue
            }
            #expect(close(served, want.value), "asset \(id): \(served) vs \(want.value)")
            #expect(Int(text(row["rank"])!) == competitionRank(want.value, among: values), "asset \(id) rank")
            #expect(Int(text(row["points"])!) == want.points, "asset \(id) points")
            #expect(text(row["symbol"]) == "C\(id)" && text(row["name"]) == "Coin \(id)")
            #expect(served <= previous)
            previous = served
        }
    }

    /// Writes two hours of minute snapshots ending at `end`: twenty walking coins, a pair with
    /// identical prices (a tie), two that never move (a tie at 0), one listed only in the last
    /// two snapshots (one return: not ranked), one in the last three (two returns: ranked), and
    /// one missing from every third snapshot.
    static func writeVolatilityFixture(_ writer: inout Writer, end: Int64) async throws {
        let count = 120
        var walks: [Int64: [String]] = [:]
        for id in Int64(1)...20 { walks[id] = walk(seed: UInt64(id), base: Double(id) * 10, step: 0.001 * Double(id), count: count) }
        let twin = walk(seed: 77, base: 3, step: 0.004, count: count)
        walks[21] = twin
        walks[22] = twin
        walks[23] = Array(repeating: "1.5", count: count)
        walks[24] = Array(repeating: "42", count: count)
        walks[25] = walk(seed: 25, base: 9, step: 0.01, count: count)
        walks[26] = walk(seed: 26, base: 9, step: 0.01, count: count)
        walks[27] = walk(seed: 27, base: 5, step: 0.02, count: count)
        for step in 0..<count {
            var prices: [(Int64, String)] = []
            for id in walks.keys.sorted() {
                if id == 25 && step < count - 2 { continue }
                if id == 26 && step < count - 3 { continue }
                if id == 27 && step % 3 == 1 { continue }
                prices.append((id, walks[id]![step]))
            }
            try await writer.write(prices, at: end - Int64(count - 1 - step) * minute)
        }
    }

    static func waitForRankings(_ api: APIServer, at time: Int64, path: String = "/rankings/volatility") async throws {
        let at = Timestamp(milliseconds: time).iso8601
        guard await Faults.poll(timeout: .seconds(20), { (try? json(try await api.request(path))).flatMap { text($0["at"]) } == at }) else {
            let last = String(decoding: try await api.request(path).body.prefix(300), as: UTF8.self)
            throw HarnessError("\(path) did not reach \(at) within 20 s; it answers \(last)\n\(api.process.stderr.text.suffix(2000))")
        }
    }

    @Test("volatility ranks as an independent computation says, over 24 h and 90 m, ties shared, too few returns absent; a new snapshot changes it")
    func volatilityMatchesAnIndependentComputation() async throws {
        try await TestBed.with { bed in
            var writer = try await Writer(bed)
            // Ending two minutes ago, so the snapshot after it is not from the future.
            let end = Timestamp.now.milliseconds / 1000 * 1000 - 2 * Self.minute
            try await Self.writeVolatilityFixture(&writer, end: end)
            let api = try await bed.startAPI()
            try await Self.waitForRankings(api, at: end)
            try await Self.expectVolatility(api, series: writer.series, window: "24h", milliseconds: Self.day, at: end)
            try await Self.expectVolatility(api, series: writer.series, window: "90m", milliseconds: 90 * Self.minute, at: end)
            try await Self.expectVolatility(api, series: writer.series, window: "7d", milliseconds: 7 * Self.day, at: end)
            let ranking = try Self.json(try await api.request("/rankings/volatility"))
            let rows = Self.array(ranking["data"])
            func row(_ id: Int64) -> JSONValue? { rows.first { Self.text($0["cmc_id"]) == String(id) } }
            // The ties, and who is left out.
            #expect(Self.text(row(21)?["rank"]) == Self.text(row(22)?["rank"]) && row(21) != nil)
            #expect(Self.text(row(23)?["rank"]) == Self.text(row(24)?["rank"]) && Self.number(row(23)?["volatility"]) == 0)
            #expect(Int(Self.text(row(23)?["rank"]) ?? "") == rows.count - 1)
            #expect(row(25) == nil && row(26) != nil)
            // limit: the first rows of the same ranking.
            let three = try Self.json(try await api.request("/rankings/volatility?limit=3"))
            #expect(Self.text(three["count"]) == "3" && Array(rows.prefix(3)) == Self.array(three["data"]))
            // Each asset's answer agrees with the ranking.
            for id in Int64(1)...27 {
                let one = try Self.json(try await api.request("/assets/\(id)/volatility"))
                #expect(Self.text(one["cmc_id"]) == String(id))
                #expect(Self.text(one["of"]) == String(rows.count))
                #expect(Self.text(one["rank"]) == Self.text(row(id)?["rank"]), "asset \(id)")
                #expect(Self.text(one["volatility"]) == Self.text(row(id)?["volatility"]), "asset \(id)")
                #expect(row(id) != nil || (one["rank"] == .null && one["volatility"] == .null))
            }
            let unknown = try await api.request("/assets/999999/volatility")
            let unknownError = try Self.json(unknown)["error"]
            #expect(unknown.status == 404 && Self.text(unknownError?["code"]) == "unknown_asset")
            // CSV: the same rows.
            let csv = String(decoding: try await api.request("/rankings/volatility?format=csv").body, as: UTF8.self).split(separator: "\r\n")
            #expect(csv.first == "rank,cmc_id,symbol,name,volatility,points" && csv.count == rows.count + 1)
            #expect(csv.dropFirst().first?.hasPrefix("\(Self.text(rows[0]["rank"])!),\(Self.text(rows[0]["cmc_id"])!),") == true)
            let assetCSV = String(decoding: try await api.request("/assets/1/volatility", headers: [("Accept", "text/csv")]).body, as: UTF8.self)
            #expect(assetCSV.hasPrefix("cmc_id,window,at,volatility,rank,of\r\n1,24h,"))
            // A new snapshot: the coin that never moved jumps tenfold, and leads.
            let next = end + Self.minute
            try await writer.write(writer.series.keys.sorted().map { id in (id, id == 23 ? "15" : writer.series[id]!.last!.1) }, at: next)
            try await Self.waitForRankings(api, at: next)
            try await Self.expectVolatility(api, series: writer.series, window: "24h", milliseconds: Self.day, at: next)
            let moved = try Self.json(try await api.request("/assets/23/volatility"))
            #expect(Self.text(moved["rank"]) == "1")
        }
    }

    /// What `/rankings/returns` must say: each asset's closes at `width` (own points' last
    /// price per bucket, candles over own days at 1d), the bucket holding `at` against the
    /// one `periods` buckets before it.
    static func expectedReturns(
        own: [Int64: [(Int64, String)]], candles: [Int64: [Int64: String]], width: Int64, periods: Int, at: Int64
    ) -> [(id: Int64, value: Double, close: String, before: String)] {
        var result: [(id: Int64, value: Double, close: String, before: String)] = []
        for id in Set(own.keys).union(width == day ? Set(candles.keys) : []) {
            var closes = closes(own[id] ?? [], width: width)
            if width == day { closes.merge(candles[id] ?? [:]) { _, candle in candle } }
            let starts = closes.keys.sorted()
            guard let index = starts.lastIndex(where: { $0 <= at }), starts[index] + width > at, index >= periods else { continue }
            let (close, before) = (closes[starts[index]]!, closes[starts[index - periods]]!)
            result.append((id, Double(close)! / Double(before)! - 1, close, before))
        }
        return result.sorted { $0.value != $1.value ? $0.value > $1.value : $0.id < $1.id }
    }

    static func expectReturns(_ api: APIServer, query: String, expected: [(id: Int64, value: Double, close: String, before: String)], top: Int, bottom: Int) async throws {
        let answer = try json(try await api.request("/rankings/returns?\(query)&top=\(top)&bottom=\(bottom)"))
        #expect(text(answer["of"]) == String(expected.count), "\(query)")
        let values = expected.map(\.value)
        func check(_ side: [JSONValue], _ wanted: [(id: Int64, value: Double, close: String, before: String)]) {
            #expect(side.count == wanted.count, "\(query)")
            for (row, want) in zip(side, wanted) {
                #expect(text(row["cmc_id"]) == String(want.id), "\(query)")
                #expect(close(number(row["return"])!, want.value) || want.value == 0 && number(row["return"]) == 0, "\(query) asset \(want.id)")
                #expect(text(row["close"]) == want.close && text(row["close_before"]) == want.before, "\(query) asset \(want.id)")
                #expect(Int(text(row["rank"])!) == competitionRank(want.value, among: values), "\(query) asset \(want.id)")
            }
        }
        check(array(answer["top"]), Array(expected.prefix(top)))
        check(array(answer["bottom"]), Array(expected.suffix(bottom).reversed()))
    }

    @Test("returns rank as an independent computation says, at 1d with candles over own days and 1h, now and at an explicit at; a backfill changes them")
    func returnsMatchAnIndependentComputation() async throws {
        try await TestBed.with { bed in
            var writer = try await Writer(bed)
            let now: Int64 = Timestamp.now.milliseconds / 1000 * 1000 - 5000
            let today: Int64 = now / Self.day * Self.day
            // Six days and today of two-hourly snapshots of twelve coins.
            let first: Int64 = today - 6 * Self.day
            let times = Array(stride(from: first, through: now, by: Int(2 * Self.hour)))
            let newest = times.last!
            var walks: [Int64: [String]] = [:]
            for id in Int64(1)...12 { walks[id] = Self.walk(seed: 100 + UInt64(id), base: Double(id), step: 0.03, count: times.count) }
            for (step, time) in times.enumerated() { try await writer.write(walks.keys.sorted().map { ($0, walks[$0]![step]) }, at: time) }
            // Candles: coins 1 and 2 for twenty days up to and over the first two own days; coin 13 has candles only.
            var candles: [Int64: [Int64: String]] = [:]
            for id: Int64 in [1, 2, 13] {
                var stored: [DailyCandle] = []
                for (index, close) in Self.walk(seed: 200 + UInt64(id), base: Double(id) * 3, step: 0.05, count: 20).enumerated() {
                    let day = first - Int64(18 - index) * Self.day
                    if id == 13 && day >= today { continue }
                    let price = DecimalNumber(close)!
                    stored.append(DailyCandle(dayOf: Timestamp(milliseconds: day), open: price, high: price, low: price, close: price, volume: nil, source: "cryptocompare"))
                    candles[id, default: [:]][day] = close
                }
                _ = try await writer.history.storeCandles(stored, of: id, progress: nil)
            }
            let api = try await bed.startAPI()
            try await Self.waitForRankings(api, at: newest, path: "/rankings/returns")
            try await Self.expectReturns(
                api, query: "periods=5&interval=1d", expected: Self.expectedReturns(own: writer.series, candles: candles, width: Self.day, periods: 5, at: newest), top: 5,
                bottom: 5)
            let all = Self.expectedReturns(own: writer.series, candles: candles, width: Self.day, periods: 3, at: newest)
            try await Self.expectReturns(api, query: "periods=3", expected: all, top: all.count, bottom: all.count)
            // Coin 13 has no close today: not ranked now; ranked at an instant its candles cover.
            #expect(!all.contains { $0.id == 13 })
            let past = first - 2 * Self.day + 12 * Self.hour
            let atPast = Self.expectedReturns(own: writer.series, candles: candles, width: Self.day, periods: 4, at: past)
            #expect(Set(atPast.map(\.id)) == [1, 2, 13])
            try await Self.expectReturns(api, query: "periods=4&at=\(Timestamp(milliseconds: past).iso8601)", expected: atPast, top: 3, bottom: 3)
            let midweek = today - 2 * Self.day + 5 * Self.hour
            try await Self.expectReturns(
                api, query: "periods=2&at=\(midweek / 1000)", expected: Self.expectedReturns(own: writer.series, candles: candles, width: Self.day, periods: 2, at: midweek),
                top: 4, bottom: 4)
            // Hourly: the buckets are two hours apart, and no gap is filled.
            let hourly = Self.expectedReturns(own: writer.series, candles: [:], width: Self.hour, periods: 3, at: newest)
            #expect(hourly.count == 12)
            try await Self.expectReturns(api, query: "periods=3&interval=1h", expected: hourly, top: 6, bottom: 6)
            // An at after the newest snapshot (not in the future) is the newest snapshot.
            let later = try Self.json(try await api.request("/rankings/returns?at=\(Timestamp(milliseconds: now + 2000).iso8601)"))
            #expect(Self.text(later["at"]) == Timestamp(milliseconds: newest).iso8601)
            // The CSV: a side column, top rows then bottom rows.
            let csv = String(decoding: try await api.request("/rankings/returns?format=csv&top=2&bottom=1").body, as: UTF8.self).split(separator: "\r\n")
            #expect(csv.first == "side,rank,cmc_id,symbol,name,return,close,close_before" && csv.count == 4)
            #expect(csv[1].hasPrefix("top,1,") && csv[3].hasPrefix("bottom,"))
            // A backfill that changes coin 2's candle of five days ago changes its 5-day return.
            let fiveDaysAgo = today - 5 * Self.day
            let changed = DecimalNumber("0.5")!
            _ = try await writer.history.storeCandles(
                [DailyCandle(dayOf: Timestamp(milliseconds: fiveDaysAgo), open: changed, high: changed, low: changed, close: changed, volume: nil, source: "cryptocompare")],
                of: 2, progress: nil)
            candles[2]![fiveDaysAgo] = "0.5"
            let expected = Self.expectedReturns(own: writer.series, candles: candles, width: Self.day, periods: 5, at: newest)
            try await Faults.waitUntil("the backfill reaches the ranking", timeout: .seconds(30)) {
                let answer = try Self.json(try await api.request("/rankings/returns?top=20&bottom=0"))
                return Self.array(answer["top"]).contains { Self.text($0["cmc_id"]) == "2" && Self.text($0["close_before"]) == "0.5" }
            }
            try await Self.expectReturns(api, query: "periods=5", expected: expected, top: expected.count, bottom: 0)
        }
    }

    @Test("bad input: each a 400 naming its parameter; caching headers and 304 on every ranking route")
    func badInputAndCaching() async throws {
        try await TestBed.with { bed in
            var writer = try await Writer(bed)
            let end = Timestamp.now.milliseconds / 1000 * 1000 - 5000
            for step in 0..<5 { try await writer.write([(1, "\(10 + step)"), (2, "\(20 - step)"), (3, "7")], at: end - Int64(4 - step) * Self.minute) }
            let api = try await bed.startAPI()
            try await Self.waitForRankings(api, at: end)
            let future = Timestamp(milliseconds: Timestamp.now.milliseconds + Self.day).iso8601
            for (request, code) in [
                ("/rankings/volatility?window=yesterday", "invalid_window"), ("/rankings/volatility?window=24", "invalid_window"),
                ("/rankings/volatility?window=0h", "invalid_window"), ("/rankings/volatility?window=-5m", "invalid_window"),
                ("/rankings/volatility?window=8d", "invalid_window"), ("/rankings/volatility?window=2w", "invalid_window"),
                ("/assets/1/volatility?window=1y", "invalid_window"), ("/rankings/volatility?limit=0", "invalid_limit"),
                ("/rankings/volatility?limit=5001", "invalid_limit"), ("/rankings/volatility?format=xml", "invalid_format"),
                ("/rankings/returns?periods=0", "invalid_periods"), ("/rankings/returns?periods=1001", "invalid_periods"),
                ("/rankings/returns?periods=-1", "invalid_periods"), ("/rankings/returns?top=-1", "invalid_top"),
                ("/rankings/returns?top=5001", "invalid_top"), ("/rankings/returns?bottom=x", "invalid_bottom"),
                ("/rankings/returns?interval=1w", "invalid_interval"), ("/rankings/returns?interval=5m", "invalid_interval"),
                ("/rankings/returns?at=soon", "invalid_at"), ("/rankings/returns?at=\(future)", "invalid_at"),
                ("/rankings/returns?periods=2&periods=3", "invalid_periods"),
                // Hourly closes reach as far back as raw history (7 days) and the periods before it.
                ("/rankings/returns?interval=1h&at=\(Timestamp(milliseconds: end - 8 * Self.day).iso8601)", "invalid_at"),
            ] {
                let response = try await api.request(request)
                #expect(response.status == 400, "\(request)")
                let error = try Self.json(response)["error"]
                #expect(Self.text(error?["code"]) == code, "\(request)")
                #expect(Self.text(error?["parameter"]) == String(code.dropFirst(8)), "\(request)")
            }
            #expect(try await api.request("/assets/999999/volatility").status == 404)
            for path in ["/rankings/volatility", "/assets/1/volatility?window=3m", "/rankings/returns?periods=1&interval=1h"] {
                let first = try await api.request(path)
                #expect(first.status == 200, "\(path)")
                let etag = try #require(first.header("ETag"))
                #expect(first.header("Last-Modified") == Timestamp(milliseconds: end).httpDate)
                #expect(first.header("Cache-Control")?.hasPrefix("public, max-age=") == true)
                #expect(try await api.request(path, headers: [("If-None-Match", etag)]).status == 304, "\(path)")
                let head = try await api.request(path, method: "HEAD")
                #expect(head.status == 200 && head.body.isEmpty && head.header("ETag") == etag, "\(path)")
                let csv = try await api.request(path + (path.contains("?") ? "&" : "?") + "format=csv")
                #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true && csv.header("ETag") != etag)
            }
            #expect(try await api.request("/rankings/returns", method: "POST").status == 405)
        }
    }
}
