import Testing

@testable import TopCoins

@Suite("FetcherConfig")
struct FetcherConfigTests {
    static let file = "test-fetcher.json"
    static let environment = ["CMC_API_KEY": "cmc-secret-123", "CRYPTOCOMPARE_API_KEY": "cc-secret-456"]

    /// A complete config in the DESIGN.md shape; tests edit it with `replacing(_:with:)`.
    static let valid = #"""
        {
          "source": "coinmarketcap",
          "stream": { "key": "topcoins:prices", "max_length": 1440 },
          "schedule": { "interval_seconds": 60, "align": true },
          "request": {
            "url": "https://pro-api.coinmarketcap.com/v1/cryptocurrency/listings/latest",
            "query": { "start": "1", "limit": "5000", "convert": "USD" },
            "headers": { "X-CMC_PRO_API_KEY": "${CMC_API_KEY}", "Accept": "application/json" },
            "timeout_seconds": 30
          },
          "pagination": null,
          "retry": { "attempts": 4, "initial_delay_seconds": 1, "max_delay_seconds": 30 },
          "records": "data",
          "fields": {
            "cmc_id":    { "path": "id", "type": "integer" },
            "symbol":    { "path": "symbol", "type": "string" },
            "name":      { "path": "name", "type": "string" },
            "price_usd": { "path": "quote.USD.price", "type": "decimal", "nullable": true }
          }
        }
        """#

    static func load(_ text: String, environment: [String: String] = FetcherConfigTests.environment) throws(ConfigError) -> FetcherConfig {
        try FetcherConfig(reading: ConfigObject.parse(file: file, bytes: Array(text.utf8), environment: environment))
    }

    static func failure(_ text: String, environment: [String: String] = FetcherConfigTests.environment) -> ConfigError? {
        do {
            _ = try load(text, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    /// `valid` with one edit, checking the edit really changed something.
    static func edited(_ old: String, _ new: String) -> String {
        precondition(valid.contains(old), "the base config has no \(old)")
        return valid.replacing(old, with: new)
    }

    // MARK: A valid config

    @Test func readsEveryKeyOfTheDesignExample() throws {
        let config = try Self.load(Self.valid)
        #expect(config.source == "coinmarketcap")
        #expect(config.stream.key == "topcoins:prices")
        #expect(config.stream.maxLength == 1440)
        #expect(config.schedule.intervalSeconds == 60)
        #expect(config.schedule.align)
        #expect(config.request.url == "https://pro-api.coinmarketcap.com/v1/cryptocurrency/listings/latest")
        #expect(config.request.query.map(\.0) == ["start", "limit", "convert"])
        #expect(config.request.query.map(\.1) == ["1", "5000", "USD"])
        #expect(config.request.headers.map(\.0) == ["X-CMC_PRO_API_KEY", "Accept"])
        #expect(config.request.headers.map(\.1) == ["cmc-secret-123", "application/json"])
        #expect(config.request.timeoutSeconds == 30)
        #expect(config.pagination == nil)
        #expect(config.retry == RetryPolicy(attempts: 4, initialDelaySeconds: 1, maxDelaySeconds: 30))
        #expect(config.records.steps == [.key("data")])
        #expect(config.fields.map(\.name) == ["cmc_id", "symbol", "name", "price_usd"])
        #expect(config.fields.map(\.kind) == [.integer, .string, .string, .decimal])
        #expect(config.fields.map(\.nullable) == [false, false, false, true])
        #expect(config.fields[3].path.steps == [.key("quote"), .key("USD"), .key("price")])
        #expect(config.secrets == ["cmc-secret-123"])
        #expect(config.settings.redis == RedisEndpoint(address: .tcp(host: "127.0.0.1", port: 6379)))
    }

    @Test func optionalSectionsHaveDefaults() throws {
        let text = #"""
            {"source":"s","stream":{"key":"k"},"schedule":{"interval_seconds":1},"request":{"url":"http://localhost:8080/x"},
             "records":"data","fields":{"id":{"path":"id","type":"integer"}}}
            """#
        let config = try Self.load(text, environment: [:])
        #expect(config.stream.maxLength == 32)
        #expect(config.schedule.align == true)
        #expect(config.request.timeoutSeconds == 30)
        #expect(config.request.query.isEmpty)
        #expect(config.request.headers.isEmpty)
        #expect(config.pagination == nil)
        #expect(config.retry == FetcherConfig.defaultRetry)
        #expect(config.fields.first?.nullable == false)
        #expect(config.secrets.isEmpty)
        #expect(config.settings.logLevel == .info)
    }

    @Test func readsPaginationAndPartialRetry() throws {
        let text = Self.edited(#""pagination": null"#, #""pagination": { "param": "page", "first": 0, "max_pages": 5, "size_param": "page_size", "size": 100 }"#)
            .replacing(#""retry": { "attempts": 4, "initial_delay_seconds": 1, "max_delay_seconds": 30 }"#, with: #""retry": { "attempts": 2, "initial_delay_seconds": 0.05 }"#)
        let config = try Self.load(text)
        let pagination = try #require(config.pagination)
        #expect(pagination.param == "page")
        #expect(pagination.first == 0)
        #expect(pagination.maxPages == 5)
        #expect(pagination.sizeParam == "page_size")
        #expect(pagination.size == 100)
        #expect(config.retry == RetryPolicy(attempts: 2, initialDelaySeconds: 0.05, maxDelaySeconds: 30))
    }

    @Test func subSecondTimeoutsAreAllowed() throws {
        #expect(try Self.load(Self.edited(#""timeout_seconds": 30"#, #""timeout_seconds": 0.25"#)).request.timeoutSeconds == 0.25)
    }

    @Test(arguments: ["http://127.0.0.1:9999/listings", "https://h", "file:///srv/topcoins/x.json", "HTTPS://EXAMPLE.COM/a"])
    func acceptsURLSchemes(url: String) throws {
        let text = Self.edited("https://pro-api.coinmarketcap.com/v1/cryptocurrency/listings/latest", url)
        #expect(try Self.load(text).request.url == url)
    }

    // MARK: Validation messages

    /// (edit from, edit to, expected key path, a phrase of the message)
    @Test(arguments: [
        // unknown keys, at the top level and nested, named with the full key path
        (#""records": "data","#, #""records": "data", "recrods": "data","#, "recrods", "unknown key"),
        (#""timeout_seconds": 30"#, #""timout_seconds": 30"#, "request.timout_seconds", "unknown key"),
        (#""max_length": 1440"#, #""max_length": 1440, "maxlen": 1"#, "stream.maxlen", "unknown key"),
        (#""align": true"#, #""align": true, "jitter": 1"#, "schedule.jitter", "unknown key"),
        (#""max_delay_seconds": 30"#, #""max_delay_seconds": 30, "backoff": 2"#, "retry.backoff", "unknown key"),
        (#""type": "decimal", "nullable": true"#, #""type": "decimal", "nulable": true"#, "fields.price_usd.nulable", "unknown key"),
        (#""pagination": null"#, #""pagination": { "param": "page", "max_pages": 5, "pages": 2 }"#, "pagination.pages", "unknown key"),
        // wrong types
        (#""interval_seconds": 60"#, #""interval_seconds": "60""#, "schedule.interval_seconds", "must be an integer, found string"),
        (#""interval_seconds": 60"#, #""interval_seconds": 1.5"#, "schedule.interval_seconds", "must be an integer"),
        (#""align": true"#, #""align": "yes""#, "schedule.align", "must be true or false, found string"),
        (#""timeout_seconds": 30"#, #""timeout_seconds": "30""#, "request.timeout_seconds", "must be a number of seconds, found string"),
        (#""source": "coinmarketcap""#, #""source": 7"#, "source", "must be a string, found number"),
        (#""stream": { "key": "topcoins:prices", "max_length": 1440 }"#, #""stream": "topcoins:prices""#, "stream", "must be an object, found string"),
        (#""start": "1""#, #""start": 1"#, "request.query.start", "must be a string, found number"),
        (#""Accept": "application/json""#, #""Accept": ["application/json"]"#, "request.headers.Accept", "must be a string, found array"),
        (#""type": "integer""#, #""type": "float""#, "fields.cmc_id.type", #"must be one of integer, string, decimal, boolean, timestamp, timestamp_ms, found "float""#),
        (#""nullable": true"#, #""nullable": 1"#, "fields.price_usd.nullable", "must be true or false"),
        (#""cmc_id":    { "path": "id", "type": "integer" }"#, #""cmc_id": "id""#, "fields.cmc_id", "must be an object, found string"),
        // out of range
        (#""interval_seconds": 60"#, #""interval_seconds": 0"#, "schedule.interval_seconds", "must be from 1 to"),
        (#""max_length": 1440"#, #""max_length": 0"#, "stream.max_length", "must be from 1 to"),
        (#""attempts": 4"#, #""attempts": 0"#, "retry.attempts", "must be from 1 to"),
        (#""timeout_seconds": 30"#, #""timeout_seconds": 0"#, "request.timeout_seconds", "must be from"),
        // missing required fields
        (#""source": "coinmarketcap","#, "", "source", "is required"),
        (#""records": "data","#, "", "records", "is required"),
        (#""schedule": { "interval_seconds": 60, "align": true },"#, "", "schedule", "is required"),
        (#""interval_seconds": 60, "#, "", "schedule.interval_seconds", "is required"),
        (#""key": "topcoins:prices", "#, "", "stream.key", "is required"),
        (#""url": "https://pro-api.coinmarketcap.com/v1/cryptocurrency/listings/latest","#, "", "request.url", "is required"),
        (#""path": "id", "#, "", "fields.cmc_id.path", "is required"),
        (#", "type": "integer""#, "", "fields.cmc_id.type", "is required"),
        (#""pagination": null"#, #""pagination": { "param": "page" }"#, "pagination.max_pages", "is required"),
        (#""pagination": null"#, #""pagination": { "max_pages": 3 }"#, "pagination.param", "is required"),
        // malformed paths
        (#""path": "id""#, #""path": "quote..price""#, "fields.cmc_id.path", #"malformed path "quote..price": empty key at character 7"#),
        (#""path": "id""#, #""path": "ids[NAME=CMC.ID""#, "fields.cmc_id.path", "malformed path"),
        (#""path": "id""#, #""path": """#, "fields.cmc_id.path", "empty path"),
        (#""records": "data""#, #""records": "Data.""#, "records", "malformed path"),
        // other rules
        (#""source": "coinmarketcap""#, #""source": """#, "source", "must not be empty"),
        (#""key": "topcoins:prices""#, #""key": """#, "stream.key", "must not be empty"),
        (#""cmc_id":    { "path": "id", "type": "integer" }"#, #""source_rank": { "path": "id", "type": "integer" }"#, "fields.source_rank", "reserved"),
        (#""pagination": null"#, #""pagination": { "param": "page", "max_pages": 5, "size_param": "page_size" }"#, "pagination.size", "required with size_param"),
        (#""pagination": null"#, #""pagination": { "param": "page", "max_pages": 5, "every_page": true }"#, "pagination.every_page", "needs size"),
        (#""url": "https://pro-api.coinmarketcap.com/v1/cryptocurrency/listings/latest""#, #""url": "ftp://example.com/x""#, "request.url", "must be an http://"),
        (#""url": "https://pro-api.coinmarketcap.com/v1/cryptocurrency/listings/latest""#, #""url": "https://""#, "request.url", "must be an http://"),
        (#""url": "https://pro-api.coinmarketcap.com/v1/cryptocurrency/listings/latest""#, #""url": "https://host/a b""#, "request.url", "must be an http://"),
        (#""records": "data","#, #""records": "data", "log_level": "loud","#, "log_level", "must be one of"),
    ])
    func reportsTheKeyPath(from old: String, to new: String, keyPath: String, message: String) {
        let error = Self.failure(Self.edited(old, new))
        #expect(error?.file == Self.file)
        #expect(error?.keyPath == keyPath, "\(error?.description ?? "no error")")
        #expect(error?.message.contains(message) == true, "message was: \(error?.message ?? "no error")")
    }

    @Test func emptyFieldsObjectIsRejected() {
        let text = #"{"source":"s","stream":{"key":"k"},"schedule":{"interval_seconds":1},"request":{"url":"http://h/x"},"records":"data","fields":{}}"#
        let error = Self.failure(text)
        #expect(error?.keyPath == "fields")
        #expect(error?.message.contains("at least one field") == true)
    }

    @Test func invalidJSONIsAConfigErrorNamingTheFile() {
        let error = Self.failure(#"{"source": "x",}"#)
        #expect(error?.file == Self.file)
        #expect(error?.keyPath == "")
        #expect(error?.message.contains("invalid JSON") == true)
    }

    // MARK: ${VAR} in fetcher configs

    @Test func unsetSecretNamesTheVariableAndTheKeyPath() {
        let error = Self.failure(Self.valid, environment: [:])
        #expect(error?.keyPath == "request.headers.X-CMC_PRO_API_KEY")
        #expect(error?.message.contains("CMC_API_KEY") == true)
    }

    @Test func emptySecretIsRejected() {
        let error = Self.failure(Self.valid, environment: ["CMC_API_KEY": ""])
        #expect(error?.keyPath == "request.headers.X-CMC_PRO_API_KEY")
        #expect(error?.message.contains("CMC_API_KEY") == true)
    }

    @Test func variablesInURLAndQueryAreSubstitutedAndKeptOutOfTheLoggedURL() throws {
        let text = Self.edited("https://pro-api.coinmarketcap.com/v1/cryptocurrency/listings/latest", "https://${HOST}/v1/x?key=${CMC_API_KEY}")
            .replacing(#""limit": "5000""#, with: #""limit": "${LIMIT}""#)
        let config = try Self.load(text, environment: ["HOST": "api.example.com", "CMC_API_KEY": "k1", "LIMIT": "250"])
        #expect(config.request.url == "https://api.example.com/v1/x?key=k1")
        #expect(config.request.urlForLogs == "https://${HOST}/v1/x?key=${CMC_API_KEY}")
        #expect(!config.request.urlForLogs.contains("k1"))
        #expect(config.request.query.map(\.1) == ["1", "250", "USD"])
        #expect(Set(config.secrets) == ["api.example.com", "k1", "250"])
    }

    @Test func aURLThatIsOnlyAnUnsetVariableNamesTheVariable() {
        let text = Self.edited("https://pro-api.coinmarketcap.com/v1/cryptocurrency/listings/latest", "${UPSTREAM_URL}")
        let error = Self.failure(text)
        #expect(error?.keyPath == "request.url")
        #expect(error?.message.contains("UPSTREAM_URL") == true)
    }

    @Test func aBadURLIsReportedWithoutTheSubstitutedSecret() {
        let text = Self.edited("https://pro-api.coinmarketcap.com/v1/cryptocurrency/listings/latest", "${CMC_API_KEY}")
        let error = Self.failure(text)
        #expect(error?.keyPath == "request.url")
        #expect(error?.message.contains("cmc-secret-123") == false)
        #expect(error?.message.contains("${CMC_API_KEY}") == true)
    }

    @Test func dollarWithoutBraceIsLiteral() throws {
        let text = Self.edited(#""Accept": "application/json""#, #""Accept": "$NOT_A_VAR""#)
        #expect(try Self.load(text).request.headers.map(\.1) == ["cmc-secret-123", "$NOT_A_VAR"])
    }

    // MARK: Redis settings

    @Test func redisURLFromTheFileAndFromTheEnvironment() throws {
        let text = Self.edited(#""records": "data","#, #""records": "data", "redis": { "url": "redis://:${REDIS_PASSWORD}@cache:6380/2" },"#)
        let fromFile = try Self.load(text, environment: Self.environment.merging(["REDIS_PASSWORD": "pw"]) { $1 })
        #expect(fromFile.settings.redis == RedisEndpoint(address: .tcp(host: "cache", port: 6380), password: "pw", database: 2))
        #expect(fromFile.secrets.contains("pw"))
        let fromEnvironment = try Self.load(text, environment: Self.environment.merging(["REDIS_PASSWORD": "pw", "REDIS_URL": "unix:///run/redis.sock"]) { $1 })
        #expect(fromEnvironment.settings.redis.address == .unix(path: "/run/redis.sock"))
    }

    @Test func badRedisURLsNameWhereTheyCameFrom() {
        let inFile = Self.edited(#""records": "data","#, #""records": "data", "redis": { "url": "http://cache" },"#)
        #expect(Self.failure(inFile)?.keyPath == "redis.url")
        let inEnvironment = Self.failure(Self.valid, environment: Self.environment.merging(["REDIS_URL": "redis://cache:notaport"]) { $1 })
        #expect(inEnvironment?.keyPath == "REDIS_URL (environment)")
        let typo = Self.edited(#""records": "data","#, #""records": "data", "redis": { "uri": "redis://cache" },"#)
        #expect(Self.failure(typo)?.keyPath == "redis.uri")
    }

    // MARK: The shipped configs

    @Test func shippedPriceFetcherConfigLoads() throws {
        let path = PackagePaths.file("Config/price-fetcher.json")
        let config = try ConfigFile.load(path, environment: Self.environment) { object throws(ConfigError) in try FetcherConfig(reading: object) }
        #expect(config.source == "coinmarketcap")
        #expect(config.stream.key == "topcoins:prices")
        #expect(config.request.url.hasPrefix("https://pro-api.coinmarketcap.com/"))
        #expect(config.request.headers.contains { $0.0 == "X-CMC_PRO_API_KEY" && $0.1 == "cmc-secret-123" })
        #expect(config.pagination == nil)
        #expect(config.records.steps == [.key("data")])
        #expect(config.fields.map(\.name) == ["cmc_id", "symbol", "name", "price_usd"])
        #expect(config.fields.first { $0.name == "price_usd" }?.kind == .decimal)
        #expect(config.fields.first { $0.name == "price_usd" }?.nullable == true)
        #expect(config.secrets == ["cmc-secret-123"])
    }

    @Test func shippedRankFetcherConfigLoads() throws {
        let path = PackagePaths.file("Config/rank-fetcher.json")
        let config = try ConfigFile.load(path, environment: Self.environment) { object throws(ConfigError) in try FetcherConfig(reading: object) }
        #expect(config.source == "cryptocompare")
        #expect(config.stream.key == "topcoins:ranks")
        #expect(config.request.headers.contains { $0.0 == "authorization" && $0.1 == "Apikey cc-secret-456" })
        let pagination = try #require(config.pagination)
        #expect(pagination.param == "page")
        #expect(pagination.first == 1)
        #expect(pagination.maxPages == 5)
        #expect(pagination.sizeParam == "page_size")
        #expect(pagination.size == 100)
        #expect(config.records.steps == [.key("Data"), .key("LIST")])
        let cmcID = try #require(config.fields.first { $0.name == "cmc_id" })
        #expect(cmcID.path.steps == [.key("ASSET_ALTERNATIVE_IDS"), .match(key: "NAME", value: "CMC"), .key("ID")])
        #expect(cmcID.kind == .integer)
        #expect(cmcID.nullable)
        #expect(config.secrets == ["cc-secret-456"])
    }

    @Test(arguments: [("Config/price-fetcher.json", "CMC_API_KEY"), ("Config/rank-fetcher.json", "CRYPTOCOMPARE_API_KEY")])
    func shippedConfigsRefuseToStartWithoutTheirKey(file: String, variable: String) {
        let path = PackagePaths.file(file)
        let error = #expect(throws: ConfigError.self) {
            try ConfigFile.load(path, environment: [:]) { object throws(ConfigError) in try FetcherConfig(reading: object) }
        }
        #expect(error?.file == path)
        #expect(error?.keyPath.hasPrefix("request.headers.") == true)
        #expect(error?.message.contains(variable) == true)
    }

    // MARK: - The merger's schema

    static func requiring(_ text: String, _ fields: [MergeRule.RequiredField]) -> ConfigError? {
        do {
            _ = try FetcherConfig(reading: ConfigObject.parse(file: file, bytes: Array(text.utf8), environment: environment), requiring: fields)
            return nil
        } catch {
            return error
        }
    }

    @Test func theShippedShapeMeetsThePriceSchema() {
        #expect(Self.requiring(Self.valid, MergeRule.priceFields) == nil)
    }

    @Test(arguments: [
        (#""symbol":    { "path": "symbol", "type": "string" },"#, "", "fields", "must publish symbol (string): the merger reads it"),
        (#""type": "decimal", "nullable": true"#, #""type": "string""#, "fields.price_usd", "must be of type decimal (the merger reads it so), found string"),
        (#""cmc_id":    { "path": "id", "type": "integer" }"#, #""cmc_id": { "path": "id", "type": "integer", "nullable": true }"#, "fields.cmc_id",
            "must not be nullable: the merger needs a value in every record"),
    ] as [(String, String, String, String)])
    func aPriceConfigWithoutTheSchemaIsRefused(original: String, replacement: String, keyPath: String, message: String) throws {
        #expect(Self.valid.contains(original))
        let error = try #require(Self.requiring(Self.valid.replacingAll(original, with: replacement), MergeRule.priceFields))
        #expect(error.keyPath == keyPath)
        #expect(error.message == message)
    }
}
