import Foundation
import Testing

@testable import TopCoins

/// `/assets/{id}/indicators` over real sockets, with the built merger and API on a real Redis:
/// the values equal what pandas and TA-Lib compute from the same daily candles, never depend
/// on the range asked, and bad input is a 400 naming its parameter.
@Suite("Indicator API", .serialized)
struct IndicatorAPITests: ReadsJSONAnswers {
    static let day = DailyCandle.dayMilliseconds
    static let columns = ["sma_5", "sma_20", "sma_200", "ema_12", "ema_50", "rsi_14", "rsi_2", "std_20", "std_2", "return_5", "return_2"]
    static let query = "sma=5,20,200&ema=12,50&rsi=14&rsi=2&std=20,2&return=5,2&sma=20"

    /// A seeded daily walk from `first`: `count` closes as exact text with `scale` decimals, a
    /// stretch without movement at `flat` and a steadily rising one at `rising`.
    static func candles(count: Int, first: Timestamp, start: Int64, scale: UInt8, seed: UInt64, flat: Range<Int>? = nil, rising: Range<Int>? = nil) -> [DailyCandle] {
        var random = SplitMix64(seed: seed)
        var mantissa = start
        var previous = DecimalNumber(mantissa: mantissa, scale: scale)
        return (0..<count).map { index in
            if let rising, rising.contains(index) {
                mantissa += max(1, mantissa / 100)
            } else if flat?.contains(index) != true {
                let step = Int64(random.next() % 2001) - 1000
                mantissa = max(10, mantissa + mantissa / 40_000 * step)
            }
            let close = DecimalNumber(mantissa: mantissa, scale: scale)
            defer { previous = close }
            let (low, high) = close < previous ? (close, previous) : (previous, close)
            return DailyCandle(dayOf: first.adding(milliseconds: Int64(index) * day), open: previous, high: high, low: low, close: close, volume: nil, source: "cryptocompare")
        }
    }

    /// The assets the oracle test writes: five years of a BTC-like coin with a flat and a
    /// rising stretch, a coin priced around 1e-5 that later trades around 1e-11 (far below
    /// the 1e-8 older TA-Lib releases took for "no movement"), one with nine days (fewer than
    /// most windows), and a coin that rises from its first day (RSI 100: no loss at all).
    static let fixtures: [Int64: [DailyCandle]] = {
        let first = Timestamp(iso8601: "2021-01-01")!
        return [
            1: candles(count: 1826, first: first, start: 2_934_512, scale: 2, seed: 1, flat: 400..<440, rising: 900..<960),
            2: candles(count: 500, first: Timestamp(iso8601: "2023-03-01")!, start: 1_234_567, scale: 11, seed: 2, flat: 100..<130, rising: 300..<330)
                + candles(count: 40, first: Timestamp(iso8601: "2024-07-14")!, start: 1_234_567, scale: 17, seed: 3),
            4: candles(count: 9, first: Timestamp(iso8601: "2025-06-01")!, start: 51_234, scale: 4, seed: 4),
            6: candles(count: 700, first: Timestamp(iso8601: "2022-02-10")!, start: 1_873_400_000, scale: 6, seed: 6, rising: 0..<60),
        ]
    }()

    /// The merger and API on a bed whose catalogue holds assets 1...8 and whose candles are
    /// `fixtures`, once the API serves them.
    static func withCandles(_ body: (TestBed, APIServer) async throws -> Void) async throws {
        try await TestBed.with { bed in
            _ = try bed.startMerger()
            let api = try await bed.startAPI()
            let market = MovingMarket(assets: 8)
            let now = Timestamp.now
            try await bed.publish(market, step: 0, at: now.adding(milliseconds: -60_000))
            try await Faults.waitUntil("first snapshot") { try await bed.latestSnapshot() != nil }
            let history = History(redis: bed.redis)
            for (id, candles) in fixtures { _ = try await history.storeCandles(candles, of: id, progress: nil) }
            // The next snapshot's announcement makes the API reload the candle counters.
            try await bed.publish(market, step: 1, at: now)
            try await api.waitForServing(now)
            try await Faults.waitUntil("candles served") {
                let answer = try await api.request("/assets/4/indicators?sma=2&from=2025-06-01&to=2025-06-30")
                let rows = array(try JSONParser.parse(answer.body)["data"])
                return answer.status == 200 && rows.count == 9
            }
            try await body(bed, api)
        }
    }

    static func number(_ value: JSONValue?) -> Double?? {
        switch value {
        case .null?: .some(nil)
        case .number(let text)?: Double(text).map { .some($0) }
        default: nil
        }
    }

    /// Runs the committed oracle (pandas and TA-Lib) on `series` (closes as exact text).
    static func oracle(_ series: [String: [String]]) throws -> [String: [String: [Double?]]] {
        guard let python = ProcessInfo.processInfo.environment["TOPCOINS_ORACLE_PYTHON"], !python.isEmpty else {
            throw HarnessError("TOPCOINS_ORACLE_PYTHON is not set: run scripts/test, which installs pandas and TA-Lib (scripts/oracle-venv) and sets it")
        }
        let request = JSONObject([
            ("columns", .array(columns.map { .string($0) })), ("series", .object(JSONObject(series.sorted { $0.key < $1.key }.map { ($0.key, .array($0.value.map { .string($0) })) }))),
        ])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [BuildProducts.packageRoot.appendingPathComponent("Tests/Oracles/indicators.py").path]
        let (input, output, errors) = (Pipe(), Pipe(), Pipe())
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // The oracle reads all of its input before it writes: write, close, then read.
        input.fileHandleForWriting.write(Data(JSONWriter.encode(.object(request))))
        try input.fileHandleForWriting.close()
        let answerBytes = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("the oracle failed (\(process.terminationStatus)): \(errorText)") }
        let answer = try JSONParser.parse(Array(answerBytes))
        var result: [String: [String: [Double?]]] = [:]
        for name in series.keys {
            for column in columns {
                result[name, default: [:]][column] = array(answer[name]?[column]).map { number($0) ?? nil }
            }
        }
        return result
    }

    /// Equal to 1e-9 relative. The one exception is a standard deviation over a window
    /// without movement, whose true value is 0: the API must answer exactly 0, and pandas'
    /// online variance (it adds and removes each close) is left with a residue of about
    /// 1e-8 of the price there, so it counts as 0 within 1e-7 of the price.
    static func agree(_ served: Double?, _ oracle: Double?, flat: Bool, close: Double) -> Bool {
        guard let served, let oracle else { return served == nil && oracle == nil }
        if flat { return served == 0 && abs(oracle) <= 1e-7 * close }
        return abs(served - oracle) <= 1e-9 * max(abs(served), abs(oracle))
    }

    @Test("indicator values equal pandas' and TA-Lib's on the same candles, nulls and first values included")
    func valuesEqualPandasAndTALib() async throws {
        try await Self.withCandles { _, api in
            var served: [String: [JSONValue]] = [:]
            for (id, candles) in Self.fixtures {
                let range = "from=\(candles.first!.day.iso8601)&to=\(candles.last!.day.iso8601)"
                let answer = try JSONParser.parse(try await api.request("/assets/\(id)/indicators?interval=1d&\(range)&\(Self.query)").body)
                #expect(Self.array(answer["indicators"]) == Self.columns.map { .string($0) })
                #expect(answer["count"] == .number(String(candles.count)) && answer["interval"] == .string("1d") && answer["currency"] == .string("USD"))
                let rows = Self.array(answer["data"])
                // The closes are the candles' exact digits, day by day.
                #expect(rows.map { $0["timestamp"] } == candles.map { .string($0.day.iso8601) }, "asset \(id)")
                #expect(rows.map { $0["close"] } == candles.map { .number($0.close.text) }, "asset \(id)")
                served[String(id)] = rows
            }
            let expected = try Self.oracle(Dictionary(uniqueKeysWithValues: Self.fixtures.map { (String($0.key), $0.value.map(\.close.text)) }))
            var compared = 0
            for (name, rows) in served {
                let closes = Self.fixtures[Int64(name)!]!.map(\.close.doubleValue)
                for column in Self.columns {
                    let window = Int(column.split(separator: "_")[1])!
                    let oracle = try #require(expected[name]?[column])
                    try #require(oracle.count == rows.count, "asset \(name) \(column)")
                    for (index, row) in rows.enumerated() {
                        let value = try #require(Self.number(row[column]), "asset \(name) \(column) row \(index) is not a number or null")
                        let flat = column.hasPrefix("std_") && index >= window - 1 && closes[(index - window + 1)...index].allSatisfy { $0 == closes[index] }
                        #expect(Self.agree(value, oracle[index], flat: flat, close: closes[index]), "asset \(name) \(column) at \(index): served \(String(describing: value)), oracle \(String(describing: oracle[index]))")
                        compared += 1
                    }
                }
            }
            #expect(compared == Self.fixtures.values.reduce(0) { $0 + $1.count } * Self.columns.count)
            // The stretches the fixtures hold are there: RSI 100 on the rise, a zero deviation on the flat.
            #expect(served["6"]![14..<60].allSatisfy { $0["rsi_14"] == .number("100.0") && $0["rsi_2"] == .number("100.0") })
            #expect(served["6"]![60...].contains { $0["rsi_14"] != .number("100.0") })
            #expect(served["1"]![400 + 19..<440].allSatisfy { $0["std_20"] == .number("0.0") && $0["return_2"] == .number("0.0") })
            // Nine days: every window of more than nine closes stays null.
            #expect(served["4"]!.allSatisfy { $0["sma_20"] == .null && $0["rsi_14"] == .null && $0["ema_12"] == .null })
        }
    }

    @Test("a value never depends on the range asked; CSV holds the same rows; caching headers and 304")
    func valuesDoNotDependOnTheRange() async throws {
        try await Self.withCandles { _, api in
            let candles = Self.fixtures[1]!
            let to = candles.last!.day.iso8601
            func lines(from: Timestamp) async throws -> [Substring: Substring] {
                let body = try await api.request("/assets/1/indicators?interval=1d&from=\(from.iso8601)&to=\(to)&\(Self.query)&format=csv").body
                let lines = String(decoding: body, as: UTF8.self).split(separator: "\r\n")
                #expect(lines.first == Substring((["timestamp", "close"] + Self.columns).joined(separator: ",")))
                return Dictionary(uniqueKeysWithValues: lines.dropFirst().map { ($0.prefix { $0 != "," }, $0) })
            }
            let whole = try await lines(from: candles[0].day)
            #expect(whole.count == candles.count)
            for start in [1, 199, 200, 1500] {
                let part = try await lines(from: candles[start].day)
                #expect(part.count == candles.count - start)
                #expect(part.allSatisfy { whole[$0.key] == $0.value }, "from day \(start)")
            }
            // JSON and CSV say the same.
            let path = "/assets/1/indicators?interval=1d&from=\(candles[1000].day.iso8601)&to=\(candles[1010].day.iso8601)&\(Self.query)"
            let json = try await api.request(path)
            let rows = Self.array(try JSONParser.parse(json.body)["data"])
            #expect(rows.count == 11)
            for row in rows {
                guard case .string(let time)? = row["timestamp"] else { Issue.record("no timestamp"); continue }
                let fields = whole[Substring(time)]!.split(separator: ",", omittingEmptySubsequences: false)
                for (index, column) in Self.columns.enumerated() {
                    #expect(Self.number(row[column]) == .some(fields[index + 2].isEmpty ? nil : Double(fields[index + 2])!), "\(time) \(column)")
                }
            }
            let etag = try #require(json.header("ETag"))
            #expect(json.header("Cache-Control") == "public, max-age=3600" && json.header("Last-Modified") == candles[1010].day.httpDate)
            #expect(try await api.request(path, headers: [("If-None-Match", etag)]).status == 304)
            let head = try await api.request(path, method: "HEAD")
            #expect(head.status == 200 && head.body.isEmpty && head.header("ETag") == etag)
            let csv = try await api.request(path + "&format=csv")
            #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true && csv.header("ETag") != etag)
            #expect(try await api.request(path, headers: [("Accept", "text/csv")]).body == csv.body)
            // Another range of the same table is another answer.
            #expect(try await api.request(path.replacingOccurrences(of: "sma=5,", with: "sma=5,6,")).header("ETag") != etag)
        }
    }

    @Test("bad input is a 400 naming its parameter, an interval finer than the history kept included; too few points are nulls")
    func badInputNamesTheParameter() async throws {
        try await TestBed.with { bed in
            // Every snapshot for a day, then one a day: a snapshot three days old is thinned to a day bucket.
            _ = try bed.startMerger {
                $0 = $0.setting(["retention"], .array([
                    .object(JSONObject([("every", .string("snapshot")), ("for_days", .number("1"))])), .object(JSONObject([("every", .string("day"))])),
                ]))
            }
            let api = try await bed.startAPI()
            let market = MovingMarket(assets: 8)
            let now = Timestamp.now
            let old = now.adding(milliseconds: -3 * Self.day)
            for (step, time) in [old, now.adding(milliseconds: -120_000), now.adding(milliseconds: -60_000)].enumerated() {
                try await bed.publish(market, step: step, at: time)
                try await Faults.waitUntil("snapshot \(step)") { try await bed.latestSnapshot() == time }
            }
            let before = old.adding(milliseconds: -Self.day).iso8601
            try await Faults.waitUntil("the old snapshot served as a day bucket", timeout: .seconds(30)) {
                let prices = try JSONParser.parse(try await api.request("/assets/1/prices?from=\(before)").body)
                return Self.array(prices["data"]).first?["resolution"] == .string("1d")
            }
            let thinned = try await api.request("/assets/1/indicators?interval=1h&from=\(before)&sma=5")
            #expect(thinned.status == 400)
            let error = try JSONParser.parse(thinned.body)["error"]
            #expect(error?["code"] == .string("invalid_interval") && error?["parameter"] == .string("interval"))
            // The same interval over the hours it holds: two points, too few for the window: nulls.
            let recent = try await api.request("/assets/1/indicators?interval=1h&from=\(now.adding(milliseconds: -3_600_000).iso8601)&sma=5&rsi=14")
            #expect(recent.status == 200)
            let rows = Self.array(try JSONParser.parse(recent.body)["data"])
            #expect(!rows.isEmpty && rows.allSatisfy { $0["sma_5"] == .null && $0["rsi_14"] == .null && $0["close"] != .null })
            // Days reach back over the thinned stretch.
            #expect(try await api.request("/assets/1/indicators?interval=1d&from=\(before)&return=2").status == 200)
            for (query, code, parameter) in [
                ("macd=3", "unknown_indicator", "macd"), ("sma=5&bbands=20", "unknown_indicator", "bbands"), ("sma=1", "invalid_sma", "sma"),
                ("sma=1001", "invalid_sma", "sma"), ("ema=0", "invalid_ema", "ema"), ("rsi=abc", "invalid_rsi", "rsi"), ("std=5,,6", "invalid_std", "std"),
                ("return=1", "invalid_return", "return"), ("sma=", "invalid_sma", "sma"), ("", "missing_indicator", "sma"),
                ("interval=1d", "missing_indicator", "sma"), ("sma=5&from=2026-01-02&to=2026-01-01", "invalid_from", "from"),
                ("sma=5&interval=2h", "invalid_interval", "interval"), ("sma=5&format=xml", "invalid_format", "format"),
                ("sma=5&from=yesterday", "invalid_from", "from"), ("sma=5&interval=1m&from=2020-01-01", "range_too_large", "from"),
                ("sma=5&sma=5&interval=1d&interval=1d", "invalid_interval", "interval"),
            ] {
                let response = try await api.request("/assets/1/indicators?\(query)")
                let error = try JSONParser.parse(response.body)["error"]
                #expect(response.status == 400 && error?["code"] == .string(code) && error?["parameter"] == .string(parameter), "\(query): \(response.status)")
            }
            #expect(try await api.request("/assets/999999/indicators?sma=5").status == 404)
            #expect(try await api.request("/assets/1/indicators?sma=5", method: "POST").status == 405)
        }
    }
}
