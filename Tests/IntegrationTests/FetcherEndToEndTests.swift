import Foundation
import Testing
@testable import TopCoins

/// The built `price-fetcher` and `rank-fetcher` against a real redis-server and the
/// `fake-upstream` replaying the shipped fixtures, each test in its own temp directory.
@Suite("Fetchers end to end", .serialized, .timeLimit(.minutes(2)))
struct FetcherEndToEndTests {
    static let pricesStream = "topcoins:prices"
    static let ranksStream = "topcoins:ranks"
    static let fixtures = FakeUpstream.defaultDataDirectory

    // MARK: - Helpers

    /// Checks that no API key of the bed appears in `text` (a captured log).
    func expectNoSecrets(_ text: String, _ bed: TestBed, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in bed.secrets {
            #expect(!text.contains(secret), "an API key leaked into the log", sourceLocation: sourceLocation)
        }
    }

    /// The stream entry's `records` field parsed with the library's JSON parser.
    func records(of entry: StreamEntry) throws -> [JSONObject] {
        let bytes = try #require(entry.field("records"))
        guard case .array(let elements) = try JSONParser.parse(bytes) else {
            Issue.record("records is not a JSON array")
            return []
        }
        return elements.compactMap {
            if case .object(let object) = $0 { return object }
            Issue.record("a record is not an object: \($0)")
            return nil
        }
    }

    /// Log lines whose `reason=` is `reason`.
    func lines(_ run: TestBed.Run, reason: String) -> [String] {
        run.stderrLines.filter { $0.contains(" reason=\(reason)") }
    }

    /// Runs `price-fetcher --once` from the shipped config (pointed at the bed's upstream),
    /// after scripting `faults` for the listing path.
    func runPriceFetcherOnce(
        _ bed: TestBed, faults: [FakeUpstream.Response] = [], timeoutSeconds: String? = nil
    ) async throws -> (run: TestBed.Run, requests: [FakeUpstream.ReceivedRequest], entries: [StreamEntry]) {
        let config = try bed.writeFetcherConfig("price-fetcher", timeoutSeconds: timeoutSeconds)
        if !faults.isEmpty { try await bed.upstream.script(FakeUpstream.listingPath, faults) }
        let run = try await bed.run("price-fetcher", arguments: ["--config", config, "--once"])
        let requests = try await bed.upstream.requests(path: FakeUpstream.listingPath)
        let entries = try await bed.redis.xrange(Self.pricesStream)
        expectNoSecrets(run.stderr + run.stdout, bed)
        return (run, requests, entries)
    }

    /// A JSON number literal in plain notation, written here independently of the library:
    /// the exponent moves the decimal point; the digits are kept as written.
    static func plainNotation(_ literal: String) -> String {
        guard let e = literal.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return literal }
        var mantissa = literal[..<e]
        let exponent = Int(literal[literal.index(after: e)...])!
        var sign = ""
        if mantissa.hasPrefix("-") {
            sign = "-"
            mantissa = mantissa.dropFirst()
        }
        let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integerDigits = String(pieces[0])
        let fractionDigits = pieces.count > 1 ? String(pieces[1]) : ""
        let digits = integerDigits + fractionDigits
        let point = integerDigits.count + exponent
        var integerPart: String
        var fractionPart: String
        if point <= 0 {
            integerPart = "0"
            fractionPart = String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            integerPart = digits + String(repeating: "0", count: point - digits.count)
            fractionPart = ""
        } else {
            integerPart = String(digits.prefix(point))
            fractionPart = String(digits.dropFirst(point))
        }
        while integerPart.count > 1, integerPart.hasPrefix("0") { integerPart.removeFirst() }
        return sign + integerPart + (fractionPart.isEmpty ? "" : "." + fractionPart)
    }

    @Test("plain notation helper of the tests")
    func plainNotationHelper() {
        #expect(Self.plainNotation("1.23e-7") == "0.000000123")
        #expect(Self.plainNotation("4.5e-9") == "0.0000000045")
        #expect(Self.plainNotation("1e+21") == "1000000000000000000000")
        #expect(Self.plainNotation("1.5e+21") == "1500000000000000000000")
        #expect(Self.plainNotation("-2.5E3") == "-2500")
        #expect(Self.plainNotation("61923.40938478237") == "61923.40938478237")
        #expect(Self.plainNotation("1.2345e2") == "123.45")
    }

    /// The fixture file parsed with the library's parser (which keeps number literals).
    static func fixture(_ relative: String) throws -> JSONValue {
        let bytes = try #require(ConfigFile.readFile("\(fixtures)/\(relative)"), "cannot read fixture \(relative)")
        return try JSONParser.parse(bytes)
    }

    /// Compares a published decimal with the fixture's literal: the exact plain digits,
    /// never exponent form, and numerically equal.
    static func decimalMismatch(published: JSONValue?, fixtureLiteral: JSONValue?) -> String? {
        switch (published, fixtureLiteral) {
        case (.null?, .null?), (.null?, nil):
            return nil
        case (.number(let text)?, .number(let literal)?):
            if text.contains("e") || text.contains("E") { return "\(text) is in exponent form" }
            if text != plainNotation(literal) { return "\(text) != plain(\(literal)) = \(plainNotation(literal))" }
            if Decimal(string: text) != Decimal(string: literal) { return "\(text) is not numerically \(literal)" }
            return nil
        default:
            return "\(String(describing: published)) vs fixture \(String(describing: fixtureLiteral))"
        }
    }

    // MARK: - price-fetcher

    @Test("price-fetcher --once publishes the whole CoinMarketCap listing, mapped by the shipped config")
    func priceFetcherOnce() async throws {
        try await TestBed.with { bed in
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let (run, requests, entries) = try await runPriceFetcherOnce(bed)
            let after = Int64(Date().timeIntervalSince1970 * 1000)
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")

            // Exactly one request, as the shipped config describes it.
            #expect(requests.count == 1)
            let request = try #require(requests.first)
            #expect(request.query["start"] == "1")
            #expect(request.query["limit"] == "5000")
            #expect(request.query["convert"] == "USD")
            #expect(request.header("X-CMC_PRO_API_KEY") == bed.cmcAPIKey)
            #expect(request.header("Accept") == "application/json")

            // Exactly one message with the documented fields.
            try #require(entries.count == 1)
            let entry = entries[0]
            #expect(entry.text("source") == "coinmarketcap")
            let fetchedAt = try #require(entry.text("fetched_at").flatMap { Int64($0) })
            #expect(fetchedAt >= before && fetchedAt <= after, "fetched_at \(fetchedAt) outside [\(before), \(after)]")
            #expect(entry.text("count") == "2500")
            if let skipped = entry.field("skipped") {
                #expect(try JSONParser.parse(skipped) == .object(JSONObject()))
            }

            // Field by field against the fixture, computed here independently.
            let published = try records(of: entry)
            guard case .array(let data)? = try Self.fixture("coinmarketcap/listings-latest.json")["data"] else {
                Issue.record("fixture has no data array")
                return
            }
            #expect(data.count == 2500)
            #expect(published.count == data.count)
            var mismatches: [String] = []
            for (index, (record, item)) in zip(published, data).enumerated() {
                func mismatch(_ what: String) { mismatches.append("record \(index + 1) (id \(String(describing: item["id"]))): \(what)") }
                if Set(record.keys) != ["cmc_id", "symbol", "name", "price_usd", "source_rank"] { mismatch("keys \(record.keys)") }
                guard case .number(let idLiteral)? = item["id"], case .number(let publishedID)? = record["cmc_id"], Int(publishedID) == Int(idLiteral)
                else {
                    mismatch("cmc_id \(String(describing: record["cmc_id"]))")
                    continue
                }
                if record["symbol"] != item["symbol"] { mismatch("symbol \(String(describing: record["symbol"]))") }
                if record["name"] != item["name"] { mismatch("name \(String(describing: record["name"]))") }
                if let problem = Self.decimalMismatch(published: record["price_usd"], fixtureLiteral: item["quote"]?["USD"]?["price"]) {
                    mismatch("price_usd \(problem)")
                }
                if record["source_rank"] != .number(String(index + 1)) { mismatch("source_rank \(String(describing: record["source_rank"]))") }
            }
            #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(10).joined(separator: "\n"))")

            // The README's hard cases, spelled out.
            func record(id: Int) -> JSONObject? { published.first { $0["cmc_id"] == .number(String(id)) } }
            #expect(record(id: 1)?["price_usd"] == .number("61923.40938478237"))
            #expect(record(id: 32008)?["price_usd"] == .number("0.000000123"))
            #expect(record(id: 33471)?["price_usd"] == .number("0.0000000045"))
            #expect(record(id: 2467)?["price_usd"] == .number("0.0000004123"))
            #expect(record(id: 31742)?["price_usd"] == .null)
            #expect(record(id: 34120)?["price_usd"] == .null)
            #expect(record(id: 8085)?["symbol"] == .string("stETH"))
            #expect(record(id: 30577)?["symbol"] == .string("币安币"))
            #expect(record(id: 25896)?["name"] == .string("Omega Ωmega"))
            #expect(record(id: 19230)?["name"] == .string(#"Foo, Inc "Token""#))
            #expect(published.filter { $0["symbol"] == .string("HOT") }.count == 3)
            let raw = entry.field("records") ?? []
            #expect(raw.firstRange(of: Array(#""symbol":"币安币""#.utf8)) != nil, "non-ASCII must stay raw UTF-8")
            #expect(!raw.contains(UInt8(ascii: "\n")), "records is compact JSON")

            #expect(run.stderrLines.contains { $0.contains("published snapshot") })
        }
    }

    // MARK: - rank-fetcher

    @Test("rank-fetcher --once pages through the CryptoCompare toplist and publishes 500 records")
    func rankFetcherOnce() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig("rank-fetcher")
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let run = try await bed.run("rank-fetcher", arguments: ["--config", config, "--once"])
            let after = Int64(Date().timeIntervalSince1970 * 1000)
            expectNoSecrets(run.stderr + run.stdout, bed)
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")

            // Pages 1..5 of 100, in order; max_pages (5) ends the walk, so page 6 is never asked for.
            let requests = try await bed.upstream.requests(path: FakeUpstream.toplistPath)
            #expect(requests.map { $0.query["page"] } == ["1", "2", "3", "4", "5"])
            for request in requests {
                #expect(request.query["page_size"] == "100")
                #expect(request.query["sort_by"] == "SPOT_MOVING_24_HOUR_QUOTE_VOLUME_USD")
                #expect(request.query["sort_direction"] == "DESC")
                #expect(request.query["toplist_quote_asset"] == "USD")
                #expect(request.header("authorization") == "Apikey \(bed.cryptoCompareAPIKey)")
                #expect(request.header("Accept") == "application/json")
            }

            let entries = try await bed.redis.xrange(Self.ranksStream)
            try #require(entries.count == 1)
            let entry = entries[0]
            #expect(entry.text("source") == "cryptocompare")
            #expect(entry.text("count") == "500")
            let fetchedAt = try #require(entry.text("fetched_at").flatMap { Int64($0) })
            #expect(fetchedAt >= before && fetchedAt <= after)
            #expect(try await bed.redis.xrange(Self.pricesStream).isEmpty)

            // The expectation, computed from the five fixture pages.
            var items: [JSONValue] = []
            for page in 1...5 {
                guard case .array(let list)? = try Self.fixture("cryptocompare/top-list-page-\(page).json")["Data"]?["LIST"] else {
                    Issue.record("page \(page) has no Data.LIST")
                    return
                }
                items += list
            }
            #expect(items.count == 500)
            func expectedCMCID(_ item: JSONValue) -> Int? {
                guard case .array(let alternatives)? = item["ASSET_ALTERNATIVE_IDS"] else { return nil }
                guard let cmc = alternatives.first(where: { $0["NAME"] == .string("CMC") }) else { return nil }
                switch cmc["ID"] {
                case .string(let text)?: return Int(text)
                case .number(let text)?: return Int(text)
                default: return nil
                }
            }
            let published = try records(of: entry)
            #expect(published.count == 500)
            var mismatches: [String] = []
            for (index, (record, item)) in zip(published, items).enumerated() {
                func mismatch(_ what: String) { mismatches.append("rank \(index + 1): \(what)") }
                if Set(record.keys) != ["cmc_id", "symbol", "name", "volume_24h_usd", "source_rank"] { mismatch("keys \(record.keys)") }
                let expectedID: JSONValue = expectedCMCID(item).map { .number(String($0)) } ?? .null
                if record["cmc_id"] != expectedID { mismatch("cmc_id \(String(describing: record["cmc_id"])) != \(expectedID)") }
                if record["symbol"] != item["SYMBOL"] { mismatch("symbol") }
                if record["name"] != item["NAME"] { mismatch("name") }
                if let problem = Self.decimalMismatch(published: record["volume_24h_usd"], fixtureLiteral: item["SPOT_MOVING_24_HOUR_QUOTE_VOLUME_USD"]) {
                    mismatch("volume_24h_usd \(problem)")
                }
                if record["source_rank"] != .number(String(index + 1)) { mismatch("source_rank") }
            }
            #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(10).joined(separator: "\n"))")

            // The README's hard cases, by rank.
            func at(_ rank: Int) -> JSONObject? { rank <= published.count ? published[rank - 1] : nil }
            #expect(published.map { $0["source_rank"] } == (1...500).map { .number(String($0)) })
            #expect(at(1)?["symbol"] == .string("USDT"))
            #expect(at(1)?["cmc_id"] == .number("825"))
            #expect(at(2)?["cmc_id"] == .number("1"))
            #expect(at(48)?["cmc_id"] == .number("5805"), "a CMC id sent as a JSON number")
            for rank in [37, 151, 233, 318, 402, 455, 478, 497] { #expect(at(rank)?["cmc_id"] == .null, "ASSET_ALTERNATIVE_IDS null at \(rank)") }
            for rank in [58, 129, 266, 340, 389, 421, 466, 490] { #expect(at(rank)?["cmc_id"] == .null, "ASSET_ALTERNATIVE_IDS [] at \(rank)") }
            for rank in [22, 77, 144, 198, 251, 299, 356, 410, 444, 483] { #expect(at(rank)?["cmc_id"] == .null, "CG only at \(rank)") }
            #expect(at(30)?["cmc_id"] == .number("3890"))
            #expect(at(165)?["cmc_id"] == .number("3890"))
            #expect(at(95)?["symbol"] == .string("HOT"))
            #expect(at(95)?["cmc_id"] == .number("2682"))
            #expect(at(350)?["cmc_id"] == .number("29815"))
            #expect(published.filter { $0["cmc_id"] != .null }.count == 474)
            let raw = entry.field("records") ?? []
            for (rank, symbol) in [(88, "ÆTERNA"), (275, "Ω"), (333, "币安币")] {
                #expect(at(rank)?["symbol"] == .string(symbol))
                #expect(raw.firstRange(of: Array("\"symbol\":\"\(symbol)\"".utf8)) != nil, "\(symbol) must be raw UTF-8 in the message")
            }
        }
    }

    // MARK: - Upstream faults

    @Test("429 with Retry-After: 1, then success: retried after the upstream's delay, published")
    func rateLimitedThenSuccess() async throws {
        try await TestBed.with { bed in
            let (run, requests, entries) = try await runPriceFetcherOnce(
                bed, faults: [.file(429, "errors/cmc-429-rate-limit.json", headers: ["Retry-After": "1"])])
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            #expect(requests.count == 2)
            #expect(entries.count == 1)
            #expect(entries.first?.text("count") == "2500")
            let warning = lines(run, reason: "rate_limited")
            #expect(warning.count == 1)
            // The wait the log announces is the upstream's Retry-After.
            let retryIn = warning.first.flatMap { line in
                line.split(separator: " ").first { $0.hasPrefix("retry_in_s=") }.flatMap { Double($0.dropFirst("retry_in_s=".count)) }
            }
            #expect(retryIn == 1)
        }
    }

    @Test("500 twice, then success: published after the retries")
    func serverErrorsThenSuccess() async throws {
        try await TestBed.with { bed in
            let (run, requests, entries) = try await runPriceFetcherOnce(
                bed, faults: [.file(500, "errors/cmc-500.json"), .file(500, "errors/cmc-500.json")])
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            #expect(requests.count == 3)
            #expect(entries.count == 1)
            #expect(entries.first?.text("count") == "2500")
            #expect(lines(run, reason: "server_error").count == 2)
        }
    }

    @Test("a response slower than request.timeout_seconds, then success: a transport failure, then published")
    func slowResponseThenSuccess() async throws {
        try await TestBed.with { bed in
            let (run, requests, entries) = try await runPriceFetcherOnce(
                bed, faults: [.file(200, "coinmarketcap/listings-latest.json", delayMilliseconds: 8000)], timeoutSeconds: "3")
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            #expect(requests.count >= 2)
            #expect(entries.count == 1)
            let transport = lines(run, reason: "transport")
            #expect(!transport.isEmpty, "stderr:\n\(run.stderr)")
            #expect(transport.first.map { $0.lowercased().contains("timeout") || $0.lowercased().contains("timed out") } == true)
        }
    }

    @Test("malformed JSON, then success: retried and published")
    func malformedThenSuccess() async throws {
        try await TestBed.with { bed in
            let (run, requests, entries) = try await runPriceFetcherOnce(bed, faults: [.file(200, "errors/malformed.json")])
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            #expect(requests.count == 2)
            #expect(entries.count == 1)
            #expect(entries.first?.text("count") == "2500")
            #expect(lines(run, reason: "malformed").count == 1)
        }
    }

    @Test("401 invalid key: no retry, nothing published, non-zero exit, the log says it is a key problem")
    func invalidKey() async throws {
        try await TestBed.with { bed in
            let (run, requests, entries) = try await runPriceFetcherOnce(
                bed, faults: [.file(401, "errors/cmc-401-invalid-key.json"), .file(401, "errors/cmc-401-invalid-key.json")])
            #expect(run.status != .exited(0))
            #expect(run.status.exitCode != nil, "exits, is not killed: \(run.status)")
            #expect(requests.count == 1)
            #expect(entries.isEmpty)
            let keyLines = lines(run, reason: "key_problem")
            #expect(!keyLines.isEmpty, "stderr:\n\(run.stderr)")
            #expect(keyLines.contains { $0.lowercased().contains("key") && $0.contains("This API Key is invalid.") })
        }
    }

    @Test("HTTP 200 with a CoinMarketCap error body: treated as a rate limit and retried")
    func errorBodyUnderHTTP200() async throws {
        try await TestBed.with { bed in
            let (run, requests, entries) = try await runPriceFetcherOnce(bed, faults: [.file(200, "errors/cmc-200-error-body.json")])
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            #expect(requests.count == 2)
            #expect(entries.count == 1)
            #expect(entries.first?.text("count") == "2500")
            #expect(lines(run, reason: "rate_limited").count == 1, "stderr:\n\(run.stderr)")
        }
    }

    @Test("every attempt fails with 500: nothing in the stream, non-zero exit")
    func retriesExhausted() async throws {
        try await TestBed.with { bed in
            let shippedAttempts = try #require(try TestConfigs.shipped("price-fetcher")["retry"]?["attempts"])
            let attempts = try #require(Int({ if case .number(let text) = shippedAttempts { text } else { "" } }()))
            let (run, requests, entries) = try await runPriceFetcherOnce(
                bed, faults: Array(repeating: .file(500, "errors/cmc-500.json"), count: attempts + 2))
            #expect(run.status != .exited(0))
            #expect(run.status.exitCode != nil, "exits, is not killed: \(run.status)")
            #expect(requests.count == attempts)
            #expect(entries.isEmpty)
            #expect(run.stderrLines.contains { $0.contains("level=error") && $0.contains("nothing published") })
        }
    }

    @Test("an empty list from CoinMarketCap: nothing published")
    func emptyListing() async throws {
        try await TestBed.with { bed in
            let empty = #"{"status":{"timestamp":"2024-06-14T12:00:00.000Z","error_code":0,"error_message":null,"elapsed":1,"credit_count":1,"notice":null,"total_count":9843},"data":[]}"#
            let (run, requests, entries) = try await runPriceFetcherOnce(bed, faults: [.text(200, empty)])
            #expect(run.status != .exited(0))
            #expect(run.status.exitCode != nil, "exits, is not killed: \(run.status)")
            #expect(requests.count >= 1)
            #expect(entries.isEmpty)
            #expect(!lines(run, reason: "no_records").isEmpty, "stderr:\n\(run.stderr)")
        }
    }

    @Test("CryptoCompare page 3 fails on every attempt: no partial snapshot, non-zero exit")
    func rankPageFailsNoPartialSnapshot() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig("rank-fetcher")
            let failure = FakeUpstream.Response.text(500, #"{"Data":{},"Err":{"type":1,"message":"internal error"}}"#)
            try await bed.upstream.script(
                FakeUpstream.toplistPath,
                [.file(200, "cryptocompare/top-list-page-1.json"), .file(200, "cryptocompare/top-list-page-2.json")]
                    + Array(repeating: failure, count: 4))
            let run = try await bed.run("rank-fetcher", arguments: ["--config", config, "--once"])
            expectNoSecrets(run.stderr + run.stdout, bed)
            #expect(run.status != .exited(0))
            #expect(run.status.exitCode != nil, "exits, is not killed: \(run.status)")
            let requests = try await bed.upstream.requests(path: FakeUpstream.toplistPath)
            #expect(requests.map { $0.query["page"] } == ["1", "2", "3", "3", "3", "3"])
            #expect(try await bed.redis.xrange(Self.ranksStream).isEmpty)
            #expect(try await bed.redis.send(["EXISTS", "topcoins:ranks"]) == .integer(0))
        }
    }

    // MARK: - Config errors

    struct ConfigMistake: Sendable, CustomTestStringConvertible {
        let name: String
        let executable: String
        let edit: @Sendable (JSONValue) -> JSONValue
        var unset: [String] = []
        /// Text stderr must contain besides the config file's path.
        let mentions: [String]
        var testDescription: String { name }
    }

    static let configMistakes: [ConfigMistake] = [
        ConfigMistake(name: "unknown key", executable: "price-fetcher", edit: { $0.setting(["schedule", "jitter"], .bool(true)) }, mentions: ["schedule.jitter", "unknown"]),
        ConfigMistake(
            name: "malformed path", executable: "price-fetcher", edit: { $0.setting(["fields", "price_usd", "path"], .string("quote.USD[price")) },
            mentions: ["fields.price_usd.path"]),
        ConfigMistake(name: "unset ${CMC_API_KEY}", executable: "price-fetcher", edit: { $0 }, unset: ["CMC_API_KEY"], mentions: ["request.headers.X-CMC_PRO_API_KEY", "CMC_API_KEY"]),
        ConfigMistake(
            name: "unset ${CRYPTOCOMPARE_API_KEY}", executable: "rank-fetcher", edit: { $0 }, unset: ["CRYPTOCOMPARE_API_KEY"],
            mentions: ["request.headers.authorization", "CRYPTOCOMPARE_API_KEY"]),
        ConfigMistake(
            name: "wrong type", executable: "price-fetcher", edit: { $0.setting(["schedule", "interval_seconds"], .string("60")) },
            mentions: ["schedule.interval_seconds"]),
        ConfigMistake(name: "missing field", executable: "rank-fetcher", edit: { $0.setting(["records"], nil) }, mentions: ["records"]),
    ]

    @Test("a bad config stops the fetcher with exit code 2, naming the file and the key path", arguments: configMistakes)
    func configErrors(_ mistake: ConfigMistake) async throws {
        try await TestBed.with { bed in
            let path = bed.directory.file("bad-\(mistake.executable).json")
            try TestConfigs.write(mistake.edit(try TestConfigs.fetcher(mistake.executable, upstreamBaseURL: bed.upstream.baseURL)), to: path)
            let run = try await bed.run(mistake.executable, arguments: ["--config", path, "--once"], unsetEnvironment: mistake.unset)
            #expect(run.status == .exited(2), "stderr:\n\(run.stderr)")
            #expect(run.stderr.contains(path), "stderr:\n\(run.stderr)")
            for mention in mistake.mentions { #expect(run.stderr.contains(mention), "stderr:\n\(run.stderr)") }
            expectNoSecrets(run.stderr + run.stdout, bed)
            #expect(try await bed.upstream.requests().isEmpty)
            #expect(try await bed.redis.send(["DBSIZE"]) == .integer(0))
        }
    }

    @Test("a config file that does not exist: exit code 2 naming it")
    func missingConfigFile() async throws {
        try await TestBed.with { bed in
            let path = bed.directory.file("no-such-config.json")
            let run = try await bed.run("price-fetcher", arguments: ["--config", path, "--once"])
            #expect(run.status == .exited(2))
            #expect(run.stderr.contains(path), "stderr:\n\(run.stderr)")
        }
    }

    // MARK: - Long-running mode

    @Test("price-fetcher on a 1 s schedule publishes repeatedly and exits 0 on SIGTERM")
    func scheduleAndGracefulShutdown() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig("price-fetcher", intervalSeconds: 1)
            let fetcher = try bed.start("price-fetcher", arguments: ["--config", config])
            let entries = try await bed.redis.waitForStreamEntries(Self.pricesStream, count: 2, timeout: .seconds(30), producer: fetcher)
            #expect(fetcher.isRunning)
            #expect(entries.allSatisfy { $0.text("count") == "2500" && $0.text("source") == "coinmarketcap" })
            let times = entries.compactMap { $0.text("fetched_at").flatMap { Int64($0) } }
            #expect(times == times.sorted())

            let status = try await fetcher.terminate(timeout: .seconds(5))
            #expect(status == .exited(0), "stderr:\n\(fetcher.stderr.text)")
            #expect(fetcher.stderr.lines.contains { $0.contains("fetcher stopped") })
            expectNoSecrets(fetcher.stderr.text + fetcher.stdout.text, bed)
        }
    }

    /// hiredis writes with plain `write()`: after a Redis restart the first publish hits the
    /// dead socket, which must be an error the fetcher recovers from (SIGPIPE is ignored).
    @Test("price-fetcher keeps running across a Redis restart and publishes to the new server")
    func survivesRedisRestart() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig("price-fetcher", intervalSeconds: 1)
            let fetcher = try bed.start("price-fetcher", arguments: ["--config", config])
            _ = try await bed.redis.waitForStreamEntries(Self.pricesStream, count: 1, timeout: .seconds(30), producer: fetcher)

            try await bed.redisServer.restart()
            // The restarted server is empty; the fetcher's next cycles publish again.
            let entries = try await bed.redis.waitForStreamEntries(Self.pricesStream, count: 1, timeout: .seconds(30), producer: fetcher)
            #expect(entries.first?.text("count") == "2500")
            #expect(fetcher.isRunning, "the fetcher died: \(fetcher.exitStatus.map { "\($0)" } ?? "?")")
            let status = try await fetcher.terminate(timeout: .seconds(5))
            #expect(status == .exited(0))
            expectNoSecrets(fetcher.stderr.text + fetcher.stdout.text, bed)
        }
    }

    @Test("CryptoCompare rate-limit body under HTTP 200 on page 2: that page is retried, the earlier one is not refetched")
    func rankPageRateLimitedUnderHTTP200() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig("rank-fetcher")
            try await bed.upstream.script(
                FakeUpstream.toplistPath,
                [.file(200, "cryptocompare/top-list-page-1.json"), .file(200, "errors/cryptocompare-429.json")])
            let run = try await bed.run("rank-fetcher", arguments: ["--config", config, "--once"])
            expectNoSecrets(run.stderr + run.stdout, bed)
            #expect(run.status == .exited(0), "stderr:\n\(run.stderr)")
            let requests = try await bed.upstream.requests(path: FakeUpstream.toplistPath)
            #expect(requests.map { $0.query["page"] } == ["1", "2", "2", "3", "4", "5"])
            #expect(lines(run, reason: "rate_limited").count == 1, "stderr:\n\(run.stderr)")
            let entries = try await bed.redis.xrange(Self.ranksStream)
            #expect(entries.count == 1)
            #expect(entries.first?.text("count") == "500")
        }
    }

    @Test("CryptoCompare 401: a key problem, not retried, nothing published")
    func rankInvalidKey() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig("rank-fetcher")
            try await bed.upstream.script(
                FakeUpstream.toplistPath, [.file(401, "errors/cryptocompare-401.json"), .file(401, "errors/cryptocompare-401.json")])
            let run = try await bed.run("rank-fetcher", arguments: ["--config", config, "--once"])
            expectNoSecrets(run.stderr + run.stdout, bed)
            #expect(run.status != .exited(0))
            #expect(run.status.exitCode != nil, "exits, is not killed: \(run.status)")
            #expect(try await bed.upstream.requests(path: FakeUpstream.toplistPath).count == 1)
            #expect(!lines(run, reason: "key_problem").isEmpty, "stderr:\n\(run.stderr)")
            #expect(try await bed.redis.xrange(Self.ranksStream).isEmpty)
        }
    }
}
