import Testing

@testable import TopCoins

/// What the book fetcher needs of the generic fetcher config: `each` (one request per value),
/// `record` (one object as the answer's record), `max_of`/`min_of` (the best level of a
/// side) and `budget` (checked against the schedule), read from the shipped config and from
/// edits of it that must fail naming their key.
@Suite("FetcherConfig for order books: each, record, max_of/min_of, budget")
struct BookFetcherConfigTests {
    static let file = "book-fetcher.json"

    static var shipped: String {
        get throws {
            let bytes = try #require(ConfigFile.readFile(PackagePaths.file("Config/book-fetcher.json")))
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    static func load(_ text: String) throws(ConfigError) -> FetcherConfig {
        try FetcherConfig(reading: ConfigObject.parse(file: file, bytes: Array(text.utf8), environment: [:]))
    }

    static func failure(_ old: String, _ new: String) throws -> ConfigError? {
        let base = try shipped
        #expect(base.contains(old), "the shipped config has no \(old)")
        do {
            _ = try load(base.replacing(old, with: new))
            return nil
        } catch {
            return error
        }
    }

    static func spec(_ json: String) throws -> FieldSpec {
        let object = try ConfigObject.parse(file: file, bytes: Array(#"{"f":\#(json)}"#.utf8), environment: [:])
        return try #require(try FieldSpec.list(reading: object).first)
    }

    static func level(_ price: String) -> JSONValue {
        .object(JSONObject([("book", .string("btc_mxn")), ("price", .string(price)), ("amount", .string("0.1"))]))
    }

    // MARK: The shipped config

    @Test func theShippedConfigReadsAsTheStreamContractSays() throws {
        let config = try Self.load(try Self.shipped)
        #expect(config.source == "bitso")
        #expect(config.stream.key == "topcoins:books")
        #expect(config.stream.maxLength == 20000)
        #expect(config.schedule.intervalSeconds == 10)
        let each = try #require(config.each)
        #expect(each.name == "book")
        #expect(each.values == ["btc_mxn", "usd_mxn"])
        #expect(each.rejectedPauseSeconds == 3600)
        #expect(config.recordsShape == .object)
        #expect(config.records.steps == [.key("payload")])
        #expect(config.fields.map(\.name) == ["bid", "ask", "sequence", "updated_at"])
        #expect(config.fields[0].best == FieldSpec.Best(.largest, of: try FieldPath(parsing: "price")))
        #expect(config.fields[1].best == FieldSpec.Best(.smallest, of: try FieldPath(parsing: "price")))
        #expect(config.fields[0].nullable && config.fields[1].nullable)
        #expect(config.fields[2].kind == .integer && config.fields[3].kind == .timestamp)
        #expect(config.budget?.limits == [.init(requests: 50, window: .seconds(60))])
        #expect(config.budget?.rateLimitPauseSeconds == 60)
        let request = config.request.http(["each.book": "usd_mxn"])
        #expect(request.url == "https://api.bitso.com/v3/order_book/")
        #expect(request.query.map { "\($0.0)=\($0.1)" } == ["book=usd_mxn", "aggregate=true"])
    }

    @Test func theDemoConfigPassesItsOwnBudgetCheck() throws {
        let config = try ConfigFile.load(PackagePaths.file("Config/demo/book-fetcher.json"), environment: ["DEMO_UPSTREAM": "127.0.0.1:1"]) {
            (object) throws(ConfigError) in try FetcherConfig(reading: object)
        }
        #expect(config.schedule.intervalSeconds == 5)
        #expect(config.each?.values == ["btc_mxn", "usd_mxn"])
    }

    @Test func eachDefaultsItsPauseAndALayoutWithoutEachAsksOnce() throws {
        let config = try Self.load(try Self.shipped.replacing(#", "rejected_pause_seconds": 3600"#, with: ""))
        #expect(config.each?.rejectedPauseSeconds == FetcherConfig.Each.defaultRejectedPauseSeconds)
        let paused = try Self.load(try Self.shipped.replacing(#""rate_limit_pause_seconds": 60"#, with: #""per_second": 2"#))
        #expect(paused.budget?.rateLimitPauseSeconds == FetcherConfig.Budget.defaultRateLimitPauseSeconds)
        #expect(paused.budget?.limits.count == 2)
    }

    /// The parse keeps only what the fields name: the price inside every level of each side
    /// must survive it, and the amounts need not.
    @Test func theResponseFilterKeepsEachLevelsPrice() throws {
        let config = try Self.load(try Self.shipped)
        let body = #"{"success":true,"payload":{"asks":[{"book":"btc_mxn","price":"1703000","amount":"1"}],"bids":[{"book":"btc_mxn","price":"1702345.10","amount":"2"},{"book":"btc_mxn","price":"1702000","amount":"3"}],"updated_at":"2026-12-01T15:00:00.000+00:00","sequence":"123456","extra":{"a":1}}}"#
        let document = try UpstreamFailure.classify(status: 200, retryAfterHeader: nil, body: Array(body.utf8), now: .now, keeping: config.responseFilter).get()
        #expect(document["payload"]?["extra"] == nil)
        guard case .array(let bids)? = document["payload"]?["bids"] else {
            Issue.record("the bids did not survive the parse")
            return
        }
        #expect(bids.map { $0["amount"] } == [nil, nil])
        #expect(bids.map { $0["price"] } == [.string("1702345.10"), .string("1702000")])
        let records = try config.recordsShape.records(at: config.records, in: document).get()
        let output = RecordMapper(fields: config.fields).map(records, leading: [("book", .string("btc_mxn"))])
        #expect(output.skipped.isEmpty)
        #expect(
            output.records == [
                JSONObject([
                    ("book", .string("btc_mxn")), ("bid", .number("1702345.10")), ("ask", .number("1703000")), ("sequence", .number("123456")),
                    ("updated_at", .string("2026-12-01T15:00:00.000Z")), ("source_rank", .number("1")),
                ])
            ])
    }

    // MARK: Mistakes, each naming its key

    @Test(arguments: [
        (#""name": "book""#, #""name": """#, "each.name", "must be a word"),
        (#""name": "book""#, #""name": "a.b""#, "each.name", "must be a word"),
        (#""values": ["btc_mxn", "usd_mxn"]"#, #""values": []"#, "each.values", "non-empty array"),
        (#""values": ["btc_mxn", "usd_mxn"]"#, #""values": ["btc_mxn", ""]"#, "each.values[1]", "non-empty string"),
        (#""values": ["btc_mxn", "usd_mxn"]"#, #""values": ["btc_mxn", 3]"#, "each.values[1]", "non-empty string"),
        (#""values": ["btc_mxn", "usd_mxn"]"#, #""values": ["btc_mxn", "btc_mxn"]"#, "each.values[1]", "twice"),
        (#""rejected_pause_seconds": 3600"#, #""rejected_pause_seconds": 0"#, "each.rejected_pause_seconds", "must be from 1 to"),
        (#""rejected_pause_seconds": 3600"#, #""rejected_pause_seconds": 1, "retries": 2"#, "each.retries", "unknown key"),
        (#""book": "${each.book}""#, #""book": "${each.pair}""#, "request.query.book", "each.pair"),
        (#""sequence":   { "path": "sequence", "type": "integer" }"#, #""book": { "path": "sequence", "type": "integer" }"#, "fields.book", "reserved"),
        (#""record": "payload","#, "", "records", "is required"),
        (#""record": "payload","#, #""record": "payload", "records": "payload.bids","#, "record", "goes without records"),
        (#""record": "payload""#, #""record": "payload..x""#, "record", "malformed path"),
        (#""min_of": "price""#, #""min_of": "price", "max_of": "price""#, "fields.ask.min_of", "goes without max_of"),
        (#""sequence", "type": "integer""#, #""sequence", "type": "integer", "max_of": "n""#, "fields.sequence.max_of", "applies to decimal fields"),
        (#""max_of": "price""#, #""max_of": "price[""#, "fields.bid.max_of", "malformed path"),
        (#""max_of": "price""#, #""max_of": 1"#, "fields.bid.max_of", "must be a string"),
        (#""per_minute": 50"#, #""per_minute": 11"#, "budget.per_minute", "2 requests a cycle every 10 s make 2 × 6 = 12 a minute"),
        (#""interval_seconds": 10"#, #""interval_seconds": 2"#, "budget.per_minute", "is 50, but 2 requests a cycle every 2 s make 2 × 30 = 60 a minute"),
        (#""per_minute": 50, "rate_limit_pause_seconds": 60"#, #""rate_limit_pause_seconds": 60"#, "budget", "must set per_second, per_minute or both"),
        (#""rate_limit_pause_seconds": 60"#, #""rate_limit_pause_seconds": 0"#, "budget.rate_limit_pause_seconds", "must be from 1 to"),
        (#""rate_limit_pause_seconds": 60"#, #""rate_limit_pause_seconds": 60, "per_hour": 9"#, "budget.per_hour", "unknown key"),
    ])
    func reportsTheKeyPath(old: String, new: String, keyPath: String, message: String) throws {
        let error = try Self.failure(old, new)
        #expect(error?.file == Self.file)
        #expect(error?.keyPath == keyPath, "\(error?.description ?? "no error")")
        #expect(error?.message.contains(message) == true, "message was: \(error?.message ?? "no error")")
    }

    @Test func theBudgetCheckCountsEveryValue() throws {
        let three = #""values": ["btc_mxn", "usd_mxn", "eth_mxn"]"#
        // 3 books every 10 s: 18 a minute, within 18 and not within 17.
        let fits = try Self.shipped.replacing(#""values": ["btc_mxn", "usd_mxn"]"#, with: three).replacing(#""per_minute": 50"#, with: #""per_minute": 18"#)
        #expect(try Self.load(fits).budget?.limits == [.init(requests: 18, window: .seconds(60))])
        #expect(try Self.failure(#""per_minute": 50"#, #""per_minute": 12"#) == nil, "two books every 10 s need 12 a minute")
        #expect(throws: ConfigError.self) { try Self.load(fits.replacing(#""per_minute": 18"#, with: #""per_minute": 17"#)) }
    }

    // MARK: max_of and min_of

    @Test func bestOfUnsortedLevelsComparesExactDecimals() throws {
        let bids = try Self.spec(#"{"path":"bids","type":"decimal","max_of":"price"}"#)
        let asks = try Self.spec(#"{"path":"asks","type":"decimal","min_of":"price"}"#)
        // Out of order, of different lengths, and two that differ only past a double's digits.
        let prices = ["1702000", "1702345.1", "99", "1702345.100000000000000001", "1702345.09", "1.7e6"]
        let record = JSONValue.object(JSONObject([("bids", .array(prices.map(Self.level))), ("asks", .array(prices.reversed().map(Self.level)))]))
        #expect(try bids.extract(from: record).get() == .number("1702345.100000000000000001"))
        #expect(try asks.extract(from: record).get() == .number("99"))
        // Numbers as JSON numbers count as well.
        let numeric = JSONValue.object(JSONObject([("bids", .array([.object(JSONObject([("price", .number("5"))])), Self.level("4.5")]))]))
        #expect(try bids.extract(from: numeric).get() == .number("5"))
    }

    @Test func anEmptyOrAbsentSideIsNullWhenNullableElseMissing() throws {
        let nullable = try Self.spec(#"{"path":"bids","type":"decimal","max_of":"price","nullable":true}"#)
        let required = try Self.spec(#"{"path":"bids","type":"decimal","max_of":"price"}"#)
        for record in [JSONValue.object(JSONObject([("bids", .array([]))])), .object(JSONObject([("asks", .array([Self.level("1")]))])), .object(JSONObject([("bids", .null)]))] {
            #expect(try nullable.extract(from: record).get() == .null)
            guard case .failure(let error) = required.extract(from: record) else {
                Issue.record("an empty side gave a value")
                continue
            }
            #expect(error.problem == .missing)
        }
    }

    @Test(arguments: [
        JSONValue.array([BookFetcherConfigTests.level("1"), .object(JSONObject([("price", .string("abc"))]))]),
        .array([BookFetcherConfigTests.level("1"), .object(JSONObject([("amount", .string("1"))]))]),
        .array([BookFetcherConfigTests.level("1"), .string("1.5")]),
        .array([BookFetcherConfigTests.level("1"), .object(JSONObject([("price", .bool(true))]))]),
        .object(JSONObject([("price", .string("1"))])),
        .string("1"),
    ])
    func aMalformedLevelOrSideMakesTheFieldInvalid(side: JSONValue) throws {
        let nullable = try Self.spec(#"{"path":"bids","type":"decimal","max_of":"price","nullable":true}"#)
        guard case .failure(let error) = nullable.extract(from: .object(JSONObject([("bids", side)]))) else {
            Issue.record("a malformed side gave a value")
            return
        }
        #expect(error.problem == .invalid)
        let output = RecordMapper(fields: [nullable]).map([.object(JSONObject([("bids", side)]))])
        #expect(output.records.isEmpty)
        #expect(output.skipped == ["invalid:f": 1])
    }

    // MARK: record

    @Test func recordTakesTheObjectAndRefusesAnythingElse() throws {
        let path = try FieldPath(parsing: "payload")
        let record = JSONValue.object(JSONObject([("sequence", .string("1"))]))
        #expect(try FetcherConfig.RecordsShape.object.records(at: path, in: .object(JSONObject([("payload", record)]))).get() == [record])
        for payload in [JSONValue.array([record]), .string("x"), .null] {
            guard case .failure(.malformed(let message)) = FetcherConfig.RecordsShape.object.records(at: path, in: .object(JSONObject([("payload", payload)]))) else {
                Issue.record("\(payload) was taken for a record")
                continue
            }
            #expect(message.contains("not an object"))
        }
        guard case .failure(.malformed) = FetcherConfig.RecordsShape.object.records(at: path, in: .object(JSONObject([("success", .bool(true))]))) else {
            Issue.record("an absent record was taken for one")
            return
        }
    }

    // MARK: Rate-limit hold-off

    @Test func aHoldOffDelaysEveryLaterDepartureAndNeverShortens() {
        let budget = RequestBudget(limits: [.init(requests: 50, window: .seconds(60))], rateLimitPause: .seconds(60))
        let start = ContinuousClock.now
        #expect(budget.reserve(now: start) == start)
        #expect(budget.holdOff(retryAfter: nil, now: start) == .seconds(60))
        #expect(budget.reserve(now: start + .seconds(1)) == start + .seconds(60))
        // A shorter Retry-After later does not shorten the hold in force.
        #expect(budget.holdOff(retryAfter: 5, now: start + .seconds(2)) == .seconds(5))
        #expect(budget.reserve(now: start + .seconds(3)) == start + .seconds(60))
        // A longer one lengthens it.
        #expect(budget.holdOff(retryAfter: 90.5, now: start + .seconds(10)) == .milliseconds(90_500))
        #expect(budget.reserve(now: start + .seconds(11)) == start + .milliseconds(100_500))
        #expect(budget.reserve(now: start + .seconds(200)) == start + .seconds(200))
    }

    @Test func aBudgetWithoutAPauseHoldsNothing() {
        let budget = RequestBudget(limits: [.init(requests: 20, window: .seconds(1))])
        let start = ContinuousClock.now
        #expect(budget.holdOff(retryAfter: 30, now: start) == nil)
        #expect(budget.reserve(now: start + .seconds(1)) == start + .seconds(1))
    }
}
