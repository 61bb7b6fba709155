import Testing

@testable import TopCoins

/// Generated inputs for the code that reads what operators and upstreams send: the config
/// loader and the field coercions must answer every input with a value or a typed error.
@Suite("Robustness with generated inputs")
struct RobustnessTests {
    static let environment = ["CMC_API_KEY": "key", "CRYPTOCOMPARE_API_KEY": "key"]

    /// Random byte edits of the shipped configs: every result is a config or a `ConfigError`
    /// that names the file; both kinds of outcome occur.
    @Test(arguments: [
        "Config/price-fetcher.json", "Config/rank-fetcher.json", "Config/merger.json", "Config/history-fetcher.json", "Config/book-fetcher.json",
    ])
    func mutatedConfigsLoadOrFailWithAConfigError(path: String) throws {
        let original = try #require(ConfigFile.readFile(PackagePaths.file(path)))
        var random = SplitMix64(seed: UInt64(path.utf8.count))
        var loaded = 0
        var rejected = 0
        let alphabet = Array(#"{}[]":,.0123456789-eE nulltruefalse$\ab"#.utf8) + [0, 0xFF, 0xC3]
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch random.next() % 3 {
                case 0: bytes.remove(at: position)
                case 1: bytes.insert(random.pick(alphabet), at: position)
                default: bytes[position] = random.pick(alphabet)
                }
            }
            do {
                let config = try ConfigObject.parse(file: path, bytes: bytes, environment: Self.environment)
                if path.contains("merger") {
                    _ = try MergerConfig(reading: config)
                } else if path.contains("history") {
                    _ = try HistoryFetcherConfig(reading: config)
                } else {
                    _ = try FetcherConfig(reading: config)
                }
                loaded += 1
            } catch {
                #expect(error.file == path)
                #expect(!error.message.isEmpty)
                rejected += 1
            }
        }
        #expect(loaded > 0)
        #expect(rejected > 0)
    }

    static func randomValue(_ random: inout SplitMix64, depth: Int = 0) -> JSONValue {
        let texts = ["", "1", "-0", "007", "1.5", "1e3", "1.23e-7", "abc", "2024-05-14T06:10:00Z", "1715667000", "true", "NaN", "∞", "1,5", " 1", "99999999999999999999999"]
        switch random.next() % (depth > 2 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(random.next() % 2 == 0)
        case 2: return .number(random.pick(["0", "-1", "61923.40938478237", "1.23e-7", "1E+21", "12345678901234567890", "3.0", "-0.0", "1640995200000"]))
        case 3, 4: return .string(random.pick(texts))
        case 5: return .array((0..<Int(random.next() % 3)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            return .object(JSONObject((0..<Int(random.next() % 3)).map { index in ("k\(index)", randomValue(&random, depth: depth + 1)) }))
        }
    }

    /// Every coercion returns a value of its type in the published form, or nil.
    @Test func coercionsOfGeneratedValues() {
        var random = SplitMix64(seed: 2024)
        var accepted: [FieldSpec.Kind: Int] = [:]
        for _ in 0..<20_000 {
            let value = Self.randomValue(&random)
            for kind in FieldSpec.Kind.allCases {
                guard let coerced = kind.coerce(value) else { continue }
                accepted[kind, default: 0] += 1
                switch (kind, coerced) {
                case (.integer, .number(let text)):
                    #expect(Int64(text) != nil, "\(value) → \(text)")
                case (.decimal, .number(let text)):
                    #expect(DecimalNumber(text)?.text == text && !text.contains("e") && !text.contains("E"), "\(value) → \(text)")
                case (.string, .string), (.boolean, .bool):
                    break
                case (.timestamp, .string(let text)), (.timestampMilliseconds, .string(let text)):
                    #expect(Timestamp(iso8601: text)?.iso8601 == text, "\(value) → \(text)")
                default:
                    Issue.record("\(kind) coerced \(value) to \(coerced)")
                }
            }
        }
        #expect(accepted.count == FieldSpec.Kind.allCases.count)
    }

    /// Records of any shape map to published records or counted skips; nothing is lost.
    @Test func mappingGeneratedRecordsAccountsForEachOne() throws {
        let config = try ConfigFile.load(PackagePaths.file("Config/rank-fetcher.json"), environment: Self.environment) { (object) throws(ConfigError) in
            try FetcherConfig(reading: object)
        }
        var random = SplitMix64(seed: 77)
        let records = (0..<5000).map { _ in Self.randomValue(&random) }
        let output = RecordMapper(fields: config.fields).map(records)
        #expect(output.records.count + output.skipped.values.reduce(0, +) == records.count)
    }

    /// Order books of any shape (sides that are not arrays, levels that are not objects,
    /// prices of every kind) map to one record with a decimal or null best bid and ask, or a
    /// counted skip.
    @Test func mappingGeneratedBooksAccountsForEachOne() throws {
        let config = try ConfigFile.load(PackagePaths.file("Config/book-fetcher.json"), environment: [:]) { (object) throws(ConfigError) in
            try FetcherConfig(reading: object)
        }
        var random = SplitMix64(seed: 12)
        func side() -> JSONValue {
            guard random.next() % 5 != 0 else { return Self.randomValue(&random) }
            return .array(
                (0..<Int(random.next() % 4)).map { _ in
                    random.next() % 4 == 0 ? Self.randomValue(&random) : .object(JSONObject([("price", Self.randomValue(&random)), ("amount", .string("1"))]))
                })
        }
        let books = (0..<5000).map { _ in
            JSONValue.object(
                JSONObject([("asks", side()), ("bids", side()), ("updated_at", .string("2026-12-01T15:00:00+00:00")), ("sequence", .string("1"))]))
        }
        let output = RecordMapper(fields: config.fields).map(books)
        #expect(output.records.count + output.skipped.values.reduce(0, +) == books.count)
        #expect(output.records.count > 0 && !output.skipped.isEmpty)
        for record in output.records {
            for side in ["bid", "ask"] {
                switch record[side] {
                case .null?: break
                case .number(let text)?: #expect(DecimalNumber(text)?.text == text, "\(record)")
                default: Issue.record("\(side) published as \(String(describing: record[side]))")
                }
            }
        }
    }
}
