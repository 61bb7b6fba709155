import Testing

@testable import TopCoins

@Suite("HistoryFetcherConfig, the request budget and backfill progress")
struct HistoryFetcherConfigTests {
    static let environment = ["CRYPTOCOMPARE_API_KEY": "cc-secret-456", "COINGECKO_API_KEY": "cg-secret-789"]

    static func shipped(_ name: String) throws -> HistoryFetcherConfig {
        let path = PackagePaths.file("Config/\(name)")
        return try ConfigFile.load(path, environment: environment) { object throws(ConfigError) in try HistoryFetcherConfig(reading: object) }
    }

    static let shippedText = String(decoding: ConfigFile.readFile(PackagePaths.file("Config/history-fetcher.json")) ?? [], as: UTF8.self)

    /// The shipped CryptoCompare config with `old` replaced by `new`, read as `h.json`.
    static func failure(_ old: String, _ new: String) -> ConfigError? {
        precondition(shippedText.contains(old), "the shipped config has no \(old)")
        do {
            _ = try HistoryFetcherConfig(
                reading: ConfigObject.parse(file: "h.json", bytes: Array(shippedText.replacing(old, with: new).utf8), environment: environment))
            return nil
        } catch {
            return error
        }
    }

    @Test func theShippedCryptoCompareConfigAsksPerAssetAndWindow() throws {
        let config = try Self.shipped("history-fetcher.json")
        #expect(config.source == "cryptocompare")
        #expect(config.component == "cryptocompare-history")
        #expect(config.list == [.init(cmcId: 1, values: ["symbol": "BTC"]), .init(cmcId: 1027, values: ["symbol": "ETH"])])
        #expect(config.top == 100)
        #expect(config.range == .dates(from: UTCDay(iso8601: "2021-01-01")!, to: nil))
        #expect(config.windowDays == 2000)
        #expect(config.budget == [.init(requests: 20, window: .seconds(1)), .init(requests: 300, window: .seconds(60))])
        #expect(config.schedule.intervalSeconds == 86_400)
        let request = config.request.http(["asset.symbol": "BTC", "window.span_days": "1999", "window.to": "1672444800"])
        #expect(request.fullURL == "https://min-api.cryptocompare.com/data/v2/histoday?fsym=BTC&tsym=USD&limit=1999&toTs=1672444800")
        #expect(request.headers.first { $0.0 == "authorization" }?.1 == "Apikey cc-secret-456")
        #expect(config.secrets == ["cc-secret-456"])
    }

    @Test func theShippedCoinGeckoConfigNamesTheUpstreamIdInThePath() throws {
        let config = try Self.shipped("history-fetcher.coingecko.json")
        #expect(config.list.map { $0.values["upstream_id"] } == ["bitcoin", "ethereum"])
        let request = config.request.http(["asset.upstream_id": "bitcoin", "window.from": "1", "window.to": "2"])
        #expect(request.fullURL == "https://api.coingecko.com/api/v3/coins/bitcoin/market_chart/range?vs_currency=usd&from=1&to=2&interval=daily")
        #expect(config.fields.first { $0.name == "time" }?.kind == .timestampMilliseconds)
        #expect(config.fields.contains { $0.name == "volume" } == false)
    }

    @Test func aSecretThatLooksLikeAPlaceholderStaysText() throws {
        let config = try HistoryFetcherConfig(
            reading: ConfigObject.parse(
                file: "h.json", bytes: ConfigFile.readFile(PackagePaths.file("Config/history-fetcher.json")) ?? [],
                environment: ["CRYPTOCOMPARE_API_KEY": "${asset.symbol}"]))
        let request = config.request.http(["asset.symbol": "BTC"])
        #expect(request.headers.first { $0.0 == "authorization" }?.1 == "Apikey ${asset.symbol}")
    }

    @Test func theRangeNeverHoldsToday() {
        let today = UTCDay(iso8601: "2026-12-02")!
        #expect(HistoryFetcherConfig.Range.dates(from: UTCDay(iso8601: "2021-01-01")!, to: nil).days(today: today)?.upperBound == UTCDay(iso8601: "2026-12-01"))
        #expect(HistoryFetcherConfig.Range.dates(from: UTCDay(iso8601: "2026-12-02")!, to: nil).days(today: today) == nil)
        let last = HistoryFetcherConfig.Range.lastDays(365).days(today: today)
        #expect(last.map { $0.lowerBound.days(through: $0.upperBound) } == 365)
        #expect(last?.upperBound == UTCDay(iso8601: "2026-12-01"))
    }

    @Test(arguments: [
        ("assets.top", "\"top\": 100", "\"top\": 0"),
        ("assets.lizt", "\"list\": [", "\"lizt\": ["),
        ("assets.list[1].cmc_id", "\"cmc_id\": 1027", "\"cmc_id\": 1"),
        ("assets.list[0].symbol", "\"symbol\": \"BTC\"", "\"symbol\": 5"),
        ("assets.list[0].symbol", "\"symbol\": \"BTC\"", "\"upstream_id\": \"bitcoin\""),
        ("range.last_days", "\"from\": \"2021-01-01\"", "\"last_days\": 30, \"from\": \"2021-01-01\""),
        ("range.from", "\"from\": \"2021-01-01\"", "\"from\": \"yesterday\""),
        ("range.from", "\"from\": \"2021-01-01\"", "\"from\": \"2001-01-01\""),
        ("budget", "\"budget\": { \"per_second\": 20, \"per_minute\": 300 }", "\"budget\": {}"),
        ("budget.per_hour", "\"per_minute\": 300", "\"per_minute\": 300, \"per_hour\": 3000"),
        ("no_data.contains", "\"contains\": \"does not exist\"", "\"contains\": \"\""),
        ("no_data.path", "\"path\": \"Message\"", "\"path\": \"Message[\""),
        ("request.query.toTs", "\"${window.to}\"", "\"${window.end}\""),
        ("request.headers.authorization", "${CRYPTOCOMPARE_API_KEY}", "${MISSING_KEY}"),
        ("fields.volume.type", "\"path\": \"volumefrom\", \"type\": \"decimal\"", "\"path\": \"volumefrom\", \"type\": \"text\""),
        ("fields.volume", "\"path\": \"volumefrom\", \"type\": \"decimal\"", "\"path\": \"volumefrom\", \"type\": \"string\""),
        ("fields.count", "\"time\":   {", "\"count\": { \"path\": \"n\", \"type\": \"integer\" }, \"time\":   {"),
        ("fields.close", "\"path\": \"close\", \"type\": \"decimal\", \"positive\": true", "\"path\": \"close\", \"type\": \"decimal\", \"positive\": true, \"nullable\": true"),
        ("fields", "\"close\":  { \"path\": \"close\", \"type\": \"decimal\", \"positive\": true },", ""),
        ("fields.time.positive", "\"path\": \"time\", \"type\": \"timestamp\"", "\"path\": \"time\", \"type\": \"timestamp\", \"positive\": true"),
        ("window.days", "\"days\": 2000", "\"days\": 1"),
        ("source", "\"source\": \"cryptocompare\"", "\"source\": \"crypto compare\""),
    ])
    func mistakesNameTheirKey(keyPath: String, old: String, new: String) {
        let error = Self.failure(old, new)
        #expect(error?.keyPath == keyPath, "\(String(describing: error))")
        #expect(error?.file == "h.json")
    }

    @Test func theTopAssetsCarryNoUpstreamIds() throws {
        let text = String(decoding: ConfigFile.readFile(PackagePaths.file("Config/history-fetcher.coingecko.json")) ?? [], as: UTF8.self)
        let error = #expect(throws: ConfigError.self) {
            try HistoryFetcherConfig(
                reading: ConfigObject.parse(file: "g.json", bytes: Array(text.replacing("\"assets\": {", with: "\"assets\": { \"top\": 5,").utf8), environment: Self.environment))
        }
        #expect(error?.keyPath == "assets.top")
        #expect(error?.message.contains("${asset.upstream_id}") == true)
    }

    @Test func aListingFetcherConfigTakesNoPlaceholders() {
        let text = #"{"source":"s","stream":{"key":"k"},"schedule":{"interval_seconds":60},"request":{"url":"https://h/p?x=${asset.symbol}"},"records":"data","fields":{"id":{"path":"id","type":"integer"}}}"#
        let error = #expect(throws: ConfigError.self) { try FetcherConfig(reading: ConfigObject.parse(file: "f.json", bytes: Array(text.utf8), environment: [:])) }
        #expect(error?.keyPath == "request.url")
        #expect(error?.message.contains("${asset.symbol}") == true)
    }

    // MARK: Fields

    @Test func positiveSkipsZeroAndNegativeValues() {
        let spec = FieldSpec(name: "close", path: try! FieldPath(parsing: "close"), kind: .decimal, positive: true)
        #expect((try? spec.extract(from: .object(JSONObject([("close", .number("0.0001"))]))).get()) == .number("0.0001"))
        for zero in ["0", "0.00", "-0", "-1.5"] {
            guard case .failure(let failure) = spec.extract(from: .object(JSONObject([("close", .number(zero))]))) else {
                Issue.record("\(zero) was accepted")
                continue
            }
            #expect(failure.problem == .notPositive)
        }
        #expect(RecordMapper(fields: [spec]).map([.object(JSONObject([("close", .number("0"))]))]).skipped == ["not_positive:close": 1])
    }

    @Test func timestampMillisecondsReadsUnixMilliseconds() {
        #expect(FieldSpec.Kind.timestampMilliseconds.coerce(.number("1640995200000")) == .string("2022-01-01T00:00:00.000Z"))
        #expect(FieldSpec.Kind.timestampMilliseconds.coerce(.string("1640995200123")) == .string("2022-01-01T00:00:00.123Z"))
        #expect(FieldSpec.Kind.timestampMilliseconds.coerce(.number("1640995200.5")) == nil)
        #expect(FieldSpec.Kind.timestampMilliseconds.coerce(.number("5")) == nil)
    }

    // MARK: Request budget

    @Test func reservationsKeepEveryLimitInEveryWindow() {
        let budget = RequestBudget(limits: [.init(requests: 20, window: .seconds(1)), .init(requests: 300, window: .seconds(60))])
        let start = ContinuousClock.now
        // 700 requests asked for at once, then a few late ones.
        var departures = (0..<700).map { _ in budget.reserve(now: start) }
        departures.append(budget.reserve(now: start + .seconds(500)))
        #expect(departures == departures.sorted())
        // Each limit holds over its window lengthened by the allowance: a fiftieth, at least 250 ms.
        for (limit, kept) in [(20, Duration.milliseconds(1250)), (300, Duration.milliseconds(61_200))] {
            for (index, departure) in departures.enumerated() {
                #expect(departures[index...].prefix { $0 < departure + kept }.count <= limit)
            }
        }
        // Not slower than the limits require: the 301st leaves one minute and its allowance after the first.
        #expect(departures[300] - departures[0] == .milliseconds(61_200))
        #expect(departures[19] == start)
        #expect(departures[700] == start + .seconds(500))
    }

    // MARK: Progress

    @Test func progressRoundTripsAndRejectsWhatItDidNotWrite() {
        let progress = BackfillProgress(oldest: UTCDay(iso8601: "2021-01-01")!, newest: UTCDay(iso8601: "2022-12-31")!, exhausted: true)
        #expect(progress.encoded == #"{"oldest":"2021-01-01","newest":"2022-12-31","exhausted":true}"#)
        #expect(BackfillProgress(encoded: progress.encoded) == progress)
        for corrupt in [
            "", "{}", "null", #"{"oldest":"2022-12-31","newest":"2021-01-01","exhausted":true}"#, #"{"oldest":"2021-01-01","newest":"2022-12-31"}"#,
            #"{"oldest":"2021-01-01T05:00:00Z","newest":"2022-12-31","exhausted":true}"#, #"{"oldest":"1900-01-01","newest":"2022-12-31","exhausted":false}"#,
            #"{"oldest":"2021-01-01","newest":"2022-12-31","exhausted":"yes"}"#,
        ] {
            #expect(BackfillProgress(encoded: corrupt) == nil, "\(corrupt)")
        }
    }
}
