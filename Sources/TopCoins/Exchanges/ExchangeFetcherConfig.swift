/// The exchange fetcher's config: the generic fetcher's request, paging, retry, records and
/// fields, as a list of `steps` run in order, each of which may ask once per record of an
/// earlier step's answer. Keys beyond a listing fetcher's:
///
/// - `reference`: the exchange whose markets are compared (`bitso`), `${run.reference}` in a
///   request.
/// - `budget`: `{"per_minute": 25, "per_run": 300, "rate_limit_pause_seconds": 60}`, shared by
///   every call of a run, retries included; a run that would need more fails, keeping the
///   tables in service.
/// - `retry_run_after_seconds` (default 3600): a failed run is tried again after this, until
///   the next scheduled run.
/// - `api_key`: `{"environment": "COINGECKO_API_KEY", "header": "x-cg-demo-api-key"}`: the
///   header every request carries when the variable is set; without it the run goes keyless.
/// - `steps`: `[{"name", "each"?, "request", "pagination"?, "records", "fields"}]`. A request may
///   name `${run.reference}`, `${each.<name>}` (its `each`), and `${list.<step>.<field>}`: the
///   distinct values of an earlier step's field, in record order, joined by commas.
/// - `each` of a step: `{"name": "exchange", "from": "exchanges", "field": "id", "order_by":
///   "trust_score_rank", "limit": 100, "excluding": "${run.reference}"}`: one request (with its
///   pages) per record of the earlier step `from`, ordered by `order_by` ascending (nulls
///   last), at most `limit`, skipping the record whose `field` is `excluding`; each record of
///   the answer carries the value as the member `<name>`.
public struct ExchangeFetcherConfig: Sendable, ProcessConfig {
    public struct Step: Sendable {
        public let name: String
        public let each: Each?
        public let request: FetcherConfig.Request
        public let pagination: FetcherConfig.Pagination?
        public let records: FieldPath
        public let fields: [FieldSpec]

        /// What a response parse must build: each field's path below the records path.
        public var responseFilter: JSONKeyFilter {
            fields.reduce(JSONKeyFilter.keys([:])) { filter, field in filter.keeping(records.steps + field.keptSteps) }
        }
    }

    /// A request per record of an earlier step (see the type's comment).
    public struct Each: Sendable {
        public let name: String
        public let from: String
        public let field: String
        public let orderBy: String?
        public let limit: Int?
        public let excluding: ConfigTemplate?

        public var placeholder: String { "each.\(name)" }
    }

    public struct Budget: Sendable {
        public let perMinute: Int
        public let perRun: Int
        public let rateLimitPauseSeconds: Int

        public static let defaultPerMinute = 25
        /// CoinGecko's Demo plan: 10,000 calls a month, a run a day.
        public static let defaultPerRun = 300
    }

    /// The header that carries the key, and the key when the environment sets it.
    public struct APIKey: Sendable {
        public let header: String
        public let value: String?
    }

    public static let defaultRetry = FetcherConfig.defaultRetry
    /// The steps the tables are built from, and the fields each must map (`SharedMarkets`).
    public static let requiredSteps: [(name: String, fields: [(String, FieldSpec.Kind)])] = [
        ("reference_tickers", [("base", .string), ("target", .string), ("coin_id", .string), ("is_stale", .boolean), ("is_anomaly", .boolean)]),
        ("exchanges", [("id", .string), ("name", .string), ("trust_score", .integer), ("trust_score_rank", .integer)]),
        ("candidate_tickers", [("base", .string), ("target", .string), ("is_stale", .boolean), ("is_anomaly", .boolean)]),
    ]

    /// The steps whose records are tickers: what `tickers_considered` counts.
    public static let tickerSteps: Set<String> = ["reference_tickers", "candidate_tickers"]

    /// Names the pipeline-status component and every log line.
    public let source: String
    public let reference: String
    public let schedule: FetcherConfig.Schedule
    public let budget: Budget
    public let apiKey: APIKey?
    public let retry: RetryPolicy
    public let retryRunAfterSeconds: Int
    public let steps: [Step]
    public let settings: ServiceSettings
    public let secrets: [String]

    public init(reading config: ConfigObject) throws(ConfigError) {
        source = try config.requiredString("source")
        guard !source.isEmpty, !source.contains(" ") else { throw config.error("source", "must be a non-empty word") }
        reference = try config.requiredString("reference")
        guard !reference.isEmpty, reference.allSatisfy({ $0 == "_" || $0 == "-" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) else {
            throw config.error("reference", "must be an exchange id (letters, digits, - and _), found \"\(reference)\"")
        }
        schedule = try FetcherConfig.Schedule(reading: try config.requiredObject("schedule"))

        if let budget = try config.object("budget") {
            self.budget = Budget(
                perMinute: try budget.integer("per_minute", in: 1...100_000) ?? Budget.defaultPerMinute,
                perRun: try budget.integer("per_run", in: 1...1_000_000) ?? Budget.defaultPerRun,
                rateLimitPauseSeconds: try budget.integer("rate_limit_pause_seconds", in: 1...86_400) ?? FetcherConfig.Budget.defaultRateLimitPauseSeconds)
            try budget.rejectUnknownKeys()
        } else {
            budget = Budget(perMinute: Budget.defaultPerMinute, perRun: Budget.defaultPerRun, rateLimitPauseSeconds: FetcherConfig.Budget.defaultRateLimitPauseSeconds)
        }

        var secrets = config.secrets
        if let key = try config.object("api_key") {
            let variable = try key.requiredString("environment")
            let header = try key.requiredString("header")
            guard !header.isEmpty, !header.contains(":"), !header.contains(" ") else { throw key.error("header", "must be a header name") }
            try key.rejectUnknownKeys()
            let value = config.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
            if let value { secrets.append(value) }
            apiKey = APIKey(header: header, value: value)
        } else {
            apiKey = nil
        }

        retry = try RetryPolicy(reading: config, default: ExchangeFetcherConfig.defaultRetry)
        retryRunAfterSeconds = try config.integer("retry_run_after_seconds", in: 1...86_400) ?? 3600

        guard let list = try config.array("steps"), !list.isEmpty else { throw config.error("steps", "must be a non-empty array of steps") }
        var steps: [Step] = []
        for (index, element) in list.enumerated() {
            steps.append(try ExchangeFetcherConfig.step(reading: try config.element("steps", index, element), after: steps))
        }
        for required in ExchangeFetcherConfig.requiredSteps {
            guard let index = steps.firstIndex(where: { $0.name == required.name }) else {
                throw config.error("steps", "must hold a step named \(required.name): the tables are built from it")
            }
            for (name, kind) in required.fields {
                guard let spec = steps[index].fields.first(where: { $0.name == name }) else {
                    throw ConfigError(file: config.file, keyPath: "steps[\(index)].fields", message: "must map \(name) (\(kind.rawValue)): the tables read it")
                }
                guard spec.kind == kind else {
                    throw ConfigError(file: config.file, keyPath: "steps[\(index)].fields.\(name)", message: "must be of type \(kind.rawValue), found \(spec.kind.rawValue)")
                }
            }
        }
        guard let candidates = steps.first(where: { $0.name == "candidate_tickers" }), let each = candidates.each else {
            throw config.error("steps", "candidate_tickers must ask once per exchange (each)")
        }
        // The plan's budget must carry the least a run asks: one page per step, one per candidate.
        let least = steps.count - 1 + (each.limit ?? 1)
        guard least <= budget.perRun else {
            throw ConfigError(file: config.file, keyPath: "budget.per_run", message: "is \(budget.perRun), but a run asks at least \(least) calls")
        }
        self.steps = steps

        settings = try ServiceSettings(reading: config)
        try config.rejectUnknownKeys()
        self.secrets = secrets
    }

    static func step(reading step: ConfigObject, after earlier: [Step]) throws(ConfigError) -> Step {
        let name = try step.requiredString("name")
        guard ExchangeFetcherConfig.isWord(name) else { throw step.error("name", "must be a word of letters, digits and _, found \"\(name)\"") }
        guard !earlier.contains(where: { $0.name == name }) else { throw step.error("name", "names an earlier step again") }

        var each: Each?
        if let object = try step.object("each") {
            let eachName = try object.requiredString("name")
            guard ExchangeFetcherConfig.isWord(eachName) else { throw object.error("name", "must be a word of letters, digits and _, found \"\(eachName)\"") }
            let from = try object.requiredString("from")
            guard let source = earlier.first(where: { $0.name == from }) else {
                throw object.error("from", "must name an earlier step (\(earlier.map(\.name).joined(separator: ", "))), found \"\(from)\"")
            }
            let field = try object.requiredString("field")
            guard source.fields.contains(where: { $0.name == field }) else { throw object.error("field", "is not a field of step \(from): \"\(field)\"") }
            let orderBy = try object.string("order_by")
            if let orderBy {
                guard let spec = source.fields.first(where: { $0.name == orderBy }), spec.kind == .integer || spec.kind == .decimal else {
                    throw object.error("order_by", "must be an integer or decimal field of step \(from), found \"\(orderBy)\"")
                }
            }
            each = Each(
                name: eachName, from: from, field: field, orderBy: orderBy, limit: try object.integer("limit", in: 1...100_000),
                excluding: try object.template("excluding", placeholders: ["run.reference"]))
            try object.rejectUnknownKeys()
        }

        var placeholders: Set<String> = ["run.reference"]
        if let each { placeholders.insert(each.placeholder) }
        for previous in earlier { for field in previous.fields { placeholders.insert("list.\(previous.name).\(field.name)") } }
        let request = try FetcherConfig.Request(reading: try step.requiredObject("request"), placeholders: placeholders)
        let pagination = try step.object("pagination").map { (object) throws(ConfigError) in try FetcherConfig.Pagination(reading: object) }
        let records = try FetcherConfig.path(step, "records", try step.requiredString("records"))
        var reserved = [FetchedSnapshot.sourceRankField: "every record gets its source_rank"]
        if let each { reserved[each.name] = "each.name puts the value asked for under it in every record" }
        let fields = try FieldSpec.list(reading: try step.requiredObject("fields"), reserved: reserved)
        try step.rejectUnknownKeys()
        return Step(name: name, each: each, request: request, pagination: pagination, records: records, fields: fields)
    }

    static func isWord(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
