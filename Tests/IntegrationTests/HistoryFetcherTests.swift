import Foundation
import Testing

@testable import TopCoins

/// The built `history-fetcher` against the fake upstream's daily history on a real
/// redis-server: what it stores is checked against the fake's own answer for the whole range,
/// read here in one request; what it asked is read from the fake's request log.
@Suite("history-fetcher backfill end to end", .timeLimit(.minutes(4)))
struct HistoryFetcherTests {
    static let histodayPath = "/data/v2/histoday"
    static let source = "cryptocompare"
    static let btc: Int64 = 1
    static let eth: Int64 = 1027

    /// The shipped config on the fake upstream: `list` instead of the shipped assets, a fixed
    /// range, `windowDays` per request, no top N unless `top`.
    static func edit(
        list: [(Int64, String)] = [(btc, "BTC"), (eth, "ETH")], from: String, to: String, windowDays: Int = 2000, top: Int? = nil,
        budget: (perSecond: Int, perMinute: Int)? = nil, more: @escaping (JSONValue) -> JSONValue = { $0 }
    ) -> (inout JSONValue) -> Void {
        { config in
            let entries = list.map { JSONValue.object(JSONObject([("cmc_id", .number(String($0.0))), ("symbol", .string($0.1))])) }
            var assets = JSONObject([("list", .array(entries))])
            if let top { assets.append("top", .number(String(top))) }
            config = config.setting(["assets"], .object(assets))
                .setting(["range"], .object(JSONObject([("from", .string(from)), ("to", .string(to))])))
                .setting(["window", "days"], .number(String(windowDays)))
            if let budget {
                config = config.setting(["budget", "per_second"], .number(String(budget.perSecond)))
                    .setting(["budget", "per_minute"], .number(String(budget.perMinute)))
            }
            config = more(config)
        }
    }

    /// The fake's candles of `symbol` for `from...to` as one request of the whole range returns
    /// them, zero-padded days dropped, as the store must hold them.
    static func expectedCandles(_ bed: TestBed, symbol: String, from: String, to: String) async throws -> [DailyCandle] {
        let first = try #require(UTCDay(iso8601: from))
        let last = try #require(UTCDay(iso8601: to))
        let url = "\(bed.upstream.baseURL)\(histodayPath)?fsym=\(symbol)&tsym=USD&limit=\(last.number - first.number)&toTs=\(last.start.milliseconds / 1000)"
        let response = try await APIServer.http.send(HTTPRequest(url: url, timeoutSeconds: 10))
        guard case .array(let days)? = try JSONParser.parse(response.body)["Data"]?["Data"] else { throw HarnessError("no Data.Data in \(response.bodyText.prefix(200))") }
        var candles: [DailyCandle] = []
        for day in days {
            guard case .number(let time)? = day["time"], case .number(let open)? = day["open"], case .number(let high)? = day["high"],
                case .number(let low)? = day["low"], case .number(let close)? = day["close"], case .number(let volume)? = day["volumefrom"]
            else { throw HarnessError("unexpected candle \(day)") }
            guard close != "0" else { continue }
            let seconds = try #require(Int64(time))
            candles.append(
                DailyCandle(
                    dayOf: Timestamp(milliseconds: seconds * 1000), open: DecimalNumber(open)!, high: DecimalNumber(high)!, low: DecimalNumber(low)!,
                    close: DecimalNumber(close)!, volume: DecimalNumber(volume)!, source: source))
        }
        return candles
    }

    /// What the fetcher asked of the fake's histoday (the test's own reads carry no key).
    static func fetcherRequests(_ bed: TestBed) async throws -> [FakeUpstream.ReceivedRequest] {
        try await bed.upstream.requests(path: histodayPath).filter { $0.header("authorization") != nil }
    }

    static func runOnce(_ bed: TestBed, _ config: String) async throws -> TestBed.Run {
        try await bed.run("history-fetcher", arguments: ["--config", config, "--once"], timeout: .seconds(150))
    }

    static func status(_ bed: TestBed) async throws -> PipelineStatus.Record {
        PipelineStatus.Record(fields: try await bed.redis.hgetall(PipelineStatus.key("\(source)-history")))
    }

    @Test("a backfill pages back through the range and stores exactly the upstream's days; a re-run asks nothing; a later end asks only for the new days")
    func backfillRerunAndUpdate() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig("history-fetcher", edit: Self.edit(from: "2021-01-01", to: "2022-12-31", windowDays: 300))
            let first = try await Self.runOnce(bed, config)
            #expect(first.status == .exited(0), "stderr:\n\(first.stderr)")
            let history = History(redis: bed.redis)
            for (cmcId, symbol) in [(Self.btc, "BTC"), (Self.eth, "ETH")] {
                let expected = try await Self.expectedCandles(bed, symbol: symbol, from: "2021-01-01", to: "2022-12-31")
                #expect(expected.count == 730)
                #expect(try await history.candles(of: cmcId) == expected)
            }
            // 730 days in windows of 300, newest first: each window ends the day before the
            // previous page's earliest record.
            let requests = try await Self.fetcherRequests(bed)
            let last = UTCDay(iso8601: "2022-12-31")!
            let windows = [(last, 299), (last.adding(days: -300), 299), (last.adding(days: -600), 129)]
            for symbol in ["BTC", "ETH"] {
                let asked = requests.filter { $0.query["fsym"] == symbol }.map { ($0.query["toTs"] ?? "", $0.query["limit"] ?? "") }
                #expect(asked.map(\.0) == windows.map { String($0.0.start.milliseconds / 1000) })
                #expect(asked.map(\.1) == windows.map { String($0.1) })
            }
            #expect(requests.allSatisfy { $0.header("authorization") == "Apikey \(bed.cryptoCompareAPIKey)" && $0.query["tsym"] == "USD" })
            let status = try await Self.status(bed)
            #expect(status.lastSuccessAt != nil)
            #expect(status.figures["records_kept"] == 1460)

            // Nothing new: no request at all, the same data.
            try await bed.upstream.reset()
            let second = try await Self.runOnce(bed, config)
            #expect(second.status == .exited(0), "stderr:\n\(second.stderr)")
            #expect(try await Self.fetcherRequests(bed).isEmpty)

            // Progress lost: everything is asked again and nothing changes.
            try await bed.redis.send(["DEL", RedisArgument(HistoryKeys().backfill(Self.source))])
            let versions = try await history.candleVersions()
            let third = try await Self.runOnce(bed, config)
            #expect(third.status == .exited(0), "stderr:\n\(third.stderr)")
            #expect(third.stderr.contains("days_changed=0"), "stderr:\n\(third.stderr)")
            #expect(try await history.candleVersions() == versions)

            // Ten more days: one request per asset, for those days and the newest stored one.
            try await bed.upstream.reset()
            let later = try bed.writeFetcherConfig(
                "history-fetcher", name: "later.json", edit: Self.edit(from: "2021-01-01", to: "2023-01-10", windowDays: 300))
            let fourth = try await Self.runOnce(bed, later)
            #expect(fourth.status == .exited(0), "stderr:\n\(fourth.stderr)")
            let update = try await Self.fetcherRequests(bed)
            #expect(update.count == 2)
            #expect(update.allSatisfy { $0.query["limit"] == "10" && $0.query["toTs"] == String(UTCDay(iso8601: "2023-01-10")!.start.milliseconds / 1000) })
            #expect(fourth.stderr.contains("days_changed=20"), "stderr:\n\(fourth.stderr)")
            for (cmcId, symbol) in [(Self.btc, "BTC"), (Self.eth, "ETH")] {
                #expect(try await history.candles(of: cmcId) == (try await Self.expectedCandles(bed, symbol: symbol, from: "2021-01-01", to: "2023-01-10")))
            }
        }
    }

    @Test("days before a coin's first are zero candles upstream: skipped and counted, and paging stops there")
    func paddingEndsPaging() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig("history-fetcher", edit: Self.edit(list: [(Self.btc, "BTC")], from: "2020-06-01", to: "2021-03-31", windowDays: 100))
            let run = try await Self.runOnce(bed, config)
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            // One window of 100 days, 90 of them real: the upstream has nothing older.
            #expect(try await Self.fetcherRequests(bed).count == 1)
            let stored = try await History(redis: bed.redis).candles(of: Self.btc)
            #expect(stored == (try await Self.expectedCandles(bed, symbol: "BTC", from: "2020-06-01", to: "2021-03-31")))
            #expect(stored.count == 90)
            #expect(stored.first?.day == UTCDay(iso8601: "2021-01-01")!.start)
            let skipped = try await Self.status(bed).figures.filter { $0.key.hasPrefix("skipped.not_positive:") }.values.reduce(0, +)
            #expect(skipped == 10)
            let progress = try await History(redis: bed.redis).backfillProgress(Self.source)[Self.btc].flatMap { BackfillProgress(encoded: $0) }
            #expect(progress?.exhausted == true)
        }
    }

    @Test("an asset the upstream has no data for is skipped, counted and not retried; the pass still succeeds")
    func noDataAsset() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig(
                "history-fetcher", edit: Self.edit(list: [(999_999, "NOSUCHCOIN"), (Self.btc, "BTC")], from: "2022-01-01", to: "2022-01-31"))
            let run = try await Self.runOnce(bed, config)
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            #expect(try await Self.fetcherRequests(bed).filter { $0.query["fsym"] == "NOSUCHCOIN" }.count == 1)
            #expect(run.stderr.contains("the upstream has no data for this asset"), "stderr:\n\(run.stderr)")
            #expect(try await Self.status(bed).figures["skipped.no_data"] == 1)
            #expect(try await History(redis: bed.redis).candles(of: 999_999).isEmpty)
            #expect(try await History(redis: bed.redis).candles(of: Self.btc).count == 31)
        }
    }

    @Test("persistent 500s: the retries are spent, nothing is stored, exit 1")
    func persistentServerErrors() async throws {
        try await TestBed.with { bed in
            try await bed.upstream.script(Self.histodayPath, Array(repeating: .file(500, "errors/cmc-500.json"), count: 10))
            let config = try bed.writeFetcherConfig("history-fetcher", edit: Self.edit(list: [(Self.btc, "BTC")], from: "2022-01-01", to: "2022-01-31"))
            let run = try await Self.runOnce(bed, config)
            #expect(run.status == .exited(1), "stderr:\n\(run.stderr)")
            #expect(try await Self.fetcherRequests(bed).count == 4)
            #expect(try await History(redis: bed.redis).candles(of: Self.btc).isEmpty)
            #expect(try await Self.status(bed).lastErrorReason == "server_error")
            #expect(try await History(redis: bed.redis).backfillProgress(Self.source).isEmpty)
        }
    }

    @Test("an error body under HTTP 200 is retried and never stored; once the retries are spent the asset waits and the pass fails")
    func errorBodyUnder200() async throws {
        try await TestBed.with { bed in
            let body = #"{"Response":"Error","Message":"Internal error, please try again","HasWarning":false,"Type":2,"RateLimit":{},"Data":{}}"#
            // BTC's four attempts get the error body; ETH gets the data.
            try await bed.upstream.script(Self.histodayPath, Array(repeating: .text(200, body), count: 4))
            let config = try bed.writeFetcherConfig("history-fetcher", edit: Self.edit(from: "2022-01-01", to: "2022-01-31"))
            let run = try await Self.runOnce(bed, config)
            #expect(run.status == .exited(1), "stderr:\n\(run.stderr)")
            #expect(try await History(redis: bed.redis).candles(of: Self.btc).isEmpty)
            #expect(try await History(redis: bed.redis).candles(of: Self.eth) == (try await Self.expectedCandles(bed, symbol: "ETH", from: "2022-01-01", to: "2022-01-31")))

            // The next pass gets the data for BTC too, and asks nothing for ETH.
            try await bed.upstream.reset()
            let again = try await Self.runOnce(bed, config)
            #expect(again.status == .exited(0), "stderr:\n\(again.stderr)")
            #expect(try await Self.fetcherRequests(bed).map { $0.query["fsym"] } == ["BTC"])
            #expect(try await History(redis: bed.redis).candles(of: Self.btc) == (try await Self.expectedCandles(bed, symbol: "BTC", from: "2022-01-01", to: "2022-01-31")))
        }
    }

    @Test("killed mid-backfill, a restart goes on where it stopped: no gap, no page asked twice but the one in flight")
    func resumesAfterSIGKILL() async throws {
        try await TestBed.with { bed in
            // 181 days in windows of 20: ten requests per asset, four a second.
            let config = try bed.writeFetcherConfig(
                "history-fetcher", edit: Self.edit(from: "2022-01-01", to: "2022-06-30", windowDays: 20, budget: (4, 300)))
            let fetcher = try bed.start("history-fetcher", arguments: ["--config", config, "--once"])
            let deadline = ContinuousClock.now + .seconds(30)
            while try await Self.fetcherRequests(bed).count < 7 {
                guard ContinuousClock.now < deadline, fetcher.isRunning else { throw HarnessError("the fetcher did not get to its seventh request:\n\(fetcher.stderr.text)") }
                try await Task.sleep(for: .milliseconds(20))
            }
            fetcher.killNow()
            _ = try await fetcher.waitForExit(timeout: .seconds(10))
            let beforeKill = try await Self.fetcherRequests(bed).count

            let run = try await Self.runOnce(bed, config)
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            let asked = try await Self.fetcherRequests(bed).map { "\($0.query["fsym"] ?? "") \($0.query["toTs"] ?? "")" }
            #expect(Set(asked).count == 20)
            #expect(asked.count - Set(asked).count <= 1, "asked twice: \(asked.count - Set(asked).count) of \(asked.count), \(beforeKill) before the kill")
            for (cmcId, symbol) in [(Self.btc, "BTC"), (Self.eth, "ETH")] {
                #expect(try await History(redis: bed.redis).candles(of: cmcId) == (try await Self.expectedCandles(bed, symbol: symbol, from: "2022-01-01", to: "2022-06-30")))
            }
        }
    }

    @Test("on its schedule, SIGTERM mid-pass stops it between requests with exit 0; what it stored stays, and a --once run finishes the rest")
    func gracefulShutdownMidPass() async throws {
        try await TestBed.with { bed in
            // Ten requests an asset at two a second: the pass is still running when the signal comes.
            let config = try bed.writeFetcherConfig(
                "history-fetcher", intervalSeconds: 86_400, edit: Self.edit(from: "2022-01-01", to: "2022-06-30", windowDays: 20, budget: (2, 300)))
            let fetcher = try bed.start("history-fetcher", arguments: ["--config", config])
            let deadline = ContinuousClock.now + .seconds(30)
            while try await Self.fetcherRequests(bed).count < 3 {
                guard ContinuousClock.now < deadline, fetcher.isRunning else { throw HarnessError("no third request:\n\(fetcher.stderr.text)") }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await fetcher.terminate(timeout: .seconds(5)) == .exited(0), "stderr:\n\(fetcher.stderr.text)")
            #expect(fetcher.stderr.lines.contains { $0.contains("fetcher stopped") })
            #expect(!(try await History(redis: bed.redis).candles(of: Self.btc).isEmpty))

            let run = try await Self.runOnce(bed, config)
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            for (cmcId, symbol) in [(Self.btc, "BTC"), (Self.eth, "ETH")] {
                #expect(try await History(redis: bed.redis).candles(of: cmcId) == (try await Self.expectedCandles(bed, symbol: symbol, from: "2022-01-01", to: "2022-06-30")))
            }
        }
    }

    @Test("the request budget holds at the receiver: no calendar second or minute, and no 60 s window, over it", .timeLimit(.minutes(3)))
    func budgetHolds() async throws {
        try await TestBed.with { bed in
            // Eight requests (two assets, 120 days in windows of 30) against 5 a second and 6 a minute.
            let config = try bed.writeFetcherConfig(
                "history-fetcher", edit: Self.edit(from: "2022-01-01", to: "2022-04-30", windowDays: 30, budget: (5, 6)))
            let run = try await Self.runOnce(bed, config)
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            let times = try await Self.fetcherRequests(bed).compactMap(\.receivedAt).sorted()
            #expect(times.count == 8)
            #expect(Dictionary(grouping: times) { $0 / 1000 }.values.map(\.count).max() ?? 0 <= 5)
            #expect(Dictionary(grouping: times) { $0 / 60_000 }.values.map(\.count).max() ?? 0 <= 6)
            for (index, time) in times.enumerated() {
                #expect(times[index...].prefix { $0 < time + 60_000 }.count <= 6)
            }
        }
    }

    @Test("the top N of the newest snapshot join the list, and the API shows the backfilled days at interval=1d")
    func topAssetsAndTheAPI() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startMerger()
            try await bed.publishPair()
            let snapshot = try await bed.waitForSnapshot(merger: merger)
            let config = try bed.writeFetcherConfig(
                "history-fetcher", edit: Self.edit(list: [(Self.btc, "BTC")], from: "2022-01-01", to: "2022-03-31", top: 3))
            let run = try await Self.runOnce(bed, config)
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")

            let api = try await bed.startAPI()
            try await api.waitForServing(snapshot)
            let top = try JSONParser.parse(try await api.request("/?limit=3").body)
            guard case .array(let rows)? = top["data"] else { throw HarnessError("no data in /") }
            let topSymbols = rows.compactMap { row -> String? in if case .string(let symbol)? = row["symbol"] { symbol } else { nil } }
            let asked = Set(try await Self.fetcherRequests(bed).compactMap { $0.query["fsym"] })
            #expect(asked == Set(["BTC"] + topSymbols))

            // The catalogue loads after the first snapshot is served.
            var response = try await api.request("/assets/1/prices?interval=1d&from=2022-01-01&to=2022-03-31")
            let deadline = ContinuousClock.now + .seconds(20)
            while response.status == 503, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                response = try await api.request("/assets/1/prices?interval=1d&from=2022-01-01&to=2022-03-31")
            }
            #expect(response.status == 200, "\(response.bodyText.prefix(300))")
            let body = try JSONParser.parse(response.body)
            guard case .array(let buckets)? = body["data"] else { throw HarnessError("no data in \(response.bodyText.prefix(300))") }
            #expect(buckets.count == 90)
            #expect(buckets.allSatisfy { $0["source"] == .string(Self.source) })
            let expected = try await Self.expectedCandles(bed, symbol: "BTC", from: "2022-01-01", to: "2022-03-31")
            #expect(buckets.map { $0["close"] } == expected.map { .number($0.close.text) })
            #expect(buckets.map { $0["timestamp"] } == expected.map { .string($0.day.iso8601) })

            // A daily fetcher's last success a day or two old does not hold /ready down while
            // snapshots are fresh.
            let twoDaysAgo = Timestamp.now.adding(milliseconds: -2 * DailyCandle.dayMilliseconds)
            try await bed.redis.send(["HSET", RedisArgument(PipelineStatus.key("\(Self.source)-history")), "last_success_at", RedisArgument(twoDaysAgo.milliseconds)])
            let readyDeadline = ContinuousClock.now + .seconds(20)
            while true {
                let ready = try JSONParser.parse(try await api.request("/ready").body)
                if ready["components"]?["\(Self.source)-history"]?["last_success_at"] == .string(twoDaysAgo.iso8601) {
                    #expect(ready["status"] == .string("ready"), "\(ready)")
                    break
                }
                guard ContinuousClock.now < readyDeadline else { throw HarnessError("/ready did not show the history component's status: \(ready)") }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    @Test("the shipped CoinGecko config: one request per asset by its CoinGecko id, a price-only day stored as open = high = low = close, an unknown id skipped")
    func coinGecko() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig("history-fetcher.coingecko") { config in
                let entries: [JSONValue] = [(1, "bitcoin"), (999_999, "no-such-coin")].map {
                    .object(JSONObject([("cmc_id", .number(String($0.0))), ("upstream_id", .string($0.1))]))
                }
                config = config.setting(["assets", "list"], .array(entries))
                    .setting(["range"], .object(JSONObject([("from", .string("2022-01-01")), ("to", .string("2022-03-31"))])))
            }
            let key = "cg-\(UUID().uuidString.lowercased())"
            let run = try await bed.run("history-fetcher", arguments: ["--config", config, "--once"], environment: ["COINGECKO_API_KEY": key])
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            #expect(!run.stderr.contains(key))
            let requests = try await bed.upstream.requests().filter { $0.header("x-cg-demo-api-key") == key }
            #expect(requests.map(\.path).sorted() == ["/api/v3/coins/bitcoin/market_chart/range", "/api/v3/coins/no-such-coin/market_chart/range"])
            let (from, to) = (UTCDay(iso8601: "2022-01-01")!.start.milliseconds / 1000, UTCDay(iso8601: "2022-03-31")!.start.milliseconds / 1000)
            #expect(requests.allSatisfy { $0.query == ["vs_currency": "usd", "from": String(from), "to": String(to), "interval": "daily"] })

            let chart = try await APIServer.http.send(
                HTTPRequest(url: "\(bed.upstream.baseURL)/api/v3/coins/bitcoin/market_chart/range?vs_currency=usd&from=\(from)&to=\(to)", timeoutSeconds: 10))
            guard case .array(let prices)? = try JSONParser.parse(chart.body)["prices"] else { throw HarnessError("no prices in \(chart.bodyText.prefix(200))") }
            let expected = try prices.map { pair -> DailyCandle in
                guard case .array(let items) = pair, items.count == 2, case .number(let ms) = items[0], case .number(let price) = items[1], let time = Int64(ms),
                    let value = DecimalNumber(price)
                else {
                    throw HarnessError("unexpected pair \(pair)")
                }
                return DailyCandle(dayOf: Timestamp(milliseconds: time), open: value, high: value, low: value, close: value, volume: nil, source: "coingecko")
            }
            #expect(expected.count == 90)
            #expect(try await History(redis: bed.redis).candles(of: 1) == expected)
            #expect(PipelineStatus.Record(fields: try await bed.redis.hgetall(PipelineStatus.key("coingecko-history"))).figures["skipped.no_data"] == 1)
        }
    }

    // MARK: - Config errors

    static let mistakes: [ConfigMistake] = [
        ConfigMistake(name: "unknown key", edit: { $0.setting(["window", "direction"], .string("forward")) }, mentions: ["window.direction", "unknown"]),
        ConfigMistake(
            name: "unknown placeholder", edit: { $0.setting(["request", "query", "fsym"], .string("${asset.slug}")) },
            mentions: ["request.query.fsym", "${asset.slug}"]),
        ConfigMistake(
            name: "a list entry without what the request names",
            edit: { $0.setting(["assets", "list"], .array([.object(JSONObject([("cmc_id", .number("1"))]))])) }, mentions: ["assets.list[0].symbol"]),
        ConfigMistake(name: "to before from", edit: { $0.setting(["range", "to"], .string("2020-01-01")) }, mentions: ["range.to"]),
        ConfigMistake(name: "a window of one day", edit: { $0.setting(["window", "days"], .number("1")) }, mentions: ["window.days"]),
        ConfigMistake(name: "a candle field missing", edit: { $0.setting(["fields", "close"], nil) }, mentions: ["fields", "close"]),
        ConfigMistake(name: "positive on a timestamp", edit: { $0.setting(["fields", "time", "positive"], .bool(true)) }, mentions: ["fields.time.positive"]),
    ]

    @Test("a bad config stops history-fetcher with exit code 2, naming the file and the key path", arguments: mistakes)
    func configErrors(_ mistake: ConfigMistake) async throws {
        try await TestBed.with { bed in
            let path = bed.directory.file("bad-history-fetcher.json")
            try TestConfigs.write(mistake.edit(try TestConfigs.fetcher("history-fetcher", upstreamBaseURL: bed.upstream.baseURL)), to: path)
            let run = try await bed.run("history-fetcher", arguments: ["--config", path, "--once"])
            #expect(run.status == .exited(2), "stderr:\n\(run.stderr)")
            #expect(run.stderr.contains(path), "stderr:\n\(run.stderr)")
            for mention in mistake.mentions { #expect(run.stderr.contains(mention), "stderr:\n\(run.stderr)") }
            #expect(try await bed.upstream.requests().isEmpty)
            #expect(try await bed.redis.send(["DBSIZE"]) == .integer(0))
        }
    }
}
