import Testing

@testable import TopCoins

/// The exchange fetcher's config: the shipped one, and edits of it that must fail naming
/// their key (the command line exits 2 with that message).
@Suite("ExchangeFetcherConfig: steps, each over an earlier answer, every page, budget, key")
struct ExchangeFetcherConfigTests {
    static let file = "exchange-fetcher.json"

    static var shipped: String {
        get throws {
            let bytes = try #require(ConfigFile.readFile(PackagePaths.file("Config/exchange-fetcher.json")))
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    static func load(_ text: String, environment: [String: String] = [:]) throws(ConfigError) -> ExchangeFetcherConfig {
        try ExchangeFetcherConfig(reading: ConfigObject.parse(file: file, bytes: Array(text.utf8), environment: environment))
    }

    @Test func theShippedConfigReadsAsTheIssueSays() throws {
        let config = try Self.load(try Self.shipped)
        #expect(config.reference == "bitso")
        #expect(config.budget.perMinute == 25)
        #expect(config.budget.perRun == 300)
        #expect(config.schedule.intervalSeconds == 86_400 && config.schedule.align)
        #expect(config.steps.map(\.name) == ["reference_tickers", "exchanges", "candidate_tickers"])
        let each = try #require(config.steps[2].each)
        #expect(each.from == "exchanges" && each.field == "id" && each.orderBy == "trust_score_rank" && each.limit == 100)
        #expect(config.steps.allSatisfy { $0.pagination?.everyPage == true })
        #expect(config.steps[1].pagination?.size == 250)
        #expect(config.apiKey?.header == "x-cg-demo-api-key")
        // Keyless: no key, no header, nothing to redact.
        #expect(config.apiKey?.value == nil)
        #expect(config.secrets.isEmpty)
    }

    @Test func aKeyFromTheEnvironmentIsASecret() throws {
        let config = try Self.load(try Self.shipped, environment: ["COINGECKO_API_KEY": "CG-secret"])
        #expect(config.apiKey?.value == "CG-secret")
        #expect(config.secrets.contains("CG-secret"))
    }

    @Test(
        "a config mistake names its key",
        arguments: [
            (#""from": "exchanges""#, #""from": "candidate_tickers""#, "steps[2].each.from", "earlier step"),
            (#""field": "id""#, #""field": "slug""#, "steps[2].each.field", "not a field"),
            (#""order_by": "trust_score_rank""#, #""order_by": "name""#, "steps[2].each.order_by", "integer or decimal"),
            (#""per_run": 300"#, #""per_run": 50"#, "budget.per_run", "at least 102"),
            (#""${list.reference_tickers.coin_id}""#, #""${list.exchanges.slug}""#, "steps[2].request.query.coin_ids", "unknown placeholder"),
            (#""records": "$""#, #""records": "a..b""#, "steps[1].records", "malformed path"),
            (#""size": 250, "max_pages": 40, "every_page": true"#, #""max_pages": 40, "every_page": true"#, "steps[1].pagination.size", "required with size_param"),
            (#""name": "candidate_tickers""#, #""name": "candidates""#, "steps", "named candidate_tickers"),
            (#""trust_score":      { "path": "trust_score", "type": "integer""#, #""trust_score":      { "path": "trust_score", "type": "string""#, "steps[1].fields.trust_score", "must be of type integer"),
            (#""reference": "bitso""#, #""reference": "bit so""#, "reference", "exchange id"),
            (#""header": "x-cg-demo-api-key""#, #""header": "x-cg: key""#, "api_key.header", "header name"),
        ])
    func mistake(old: String, new: String, keyPath: String, message: String) throws {
        let base = try Self.shipped
        #expect(base.contains(old), "the shipped config has no \(old)")
        #expect {
            _ = try Self.load(base.replacing(old, with: new))
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.file == Self.file && error.keyPath == keyPath && error.message.contains(message)
        }
    }

    @Test func theWholeDocumentPath() throws {
        let path = try FieldPath(parsing: "$")
        #expect(path.steps.isEmpty)
        #expect(path.resolve(in: .array([.number("1")])) == .array([.number("1")]))
    }
}
