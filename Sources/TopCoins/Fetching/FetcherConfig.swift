/// A fetcher's whole behaviour, read from its JSON config: which upstream to ask, how often,
/// how to page and retry, and how to map each upstream record to a published one.
public struct FetcherConfig: Sendable {
    public struct Stream: Sendable {
        public let key: String
        public let maxLength: Int
    }

    public struct Schedule: Sendable {
        public let intervalSeconds: Int
        /// Start cycles on multiples of the interval since the epoch, so both fetchers tick together.
        public let align: Bool

        init(reading schedule: ConfigObject) throws(ConfigError) {
            intervalSeconds = try schedule.requiredInteger("interval_seconds", in: 1...86_400)
            align = try schedule.bool("align") ?? true
            try schedule.rejectUnknownKeys()
        }
    }

    /// The upstream request. Its values are templates: a history fetcher's name the asset and
    /// the window (`${asset.symbol}`, `${window.to}`), a listing fetcher's name nothing.
    public struct Request: Sendable {
        public let urlTemplate: ConfigTemplate
        /// The URL as written in the config, before `${VAR}` substitution: safe to log.
        public let urlForLogs: String
        public let queryTemplates: [(String, ConfigTemplate)]
        public let headerTemplates: [(String, ConfigTemplate)]
        public let timeoutSeconds: Double

        /// Reads `request`, whose values may use `placeholders`.
        public init(reading request: ConfigObject, placeholders: Set<String> = []) throws(ConfigError) {
            let url = try request.requiredTemplate("url", placeholders: placeholders)
            guard URLScheme(of: url.rendered(Dictionary(uniqueKeysWithValues: url.placeholders.map { ($0, "x") }))) != nil else {
                throw request.error("url", "must be an http://, https:// or file:// URL with a host or path, found \"\(try request.requiredString("url"))\"")
            }
            urlTemplate = url
            urlForLogs = try request.requiredString("url")
            queryTemplates = try request.templateMap("query", placeholders: placeholders) ?? []
            headerTemplates = try request.templateMap("headers", placeholders: placeholders) ?? []
            timeoutSeconds = try request.seconds("timeout_seconds", in: 0.001...600) ?? 30
            try request.rejectUnknownKeys()
        }

        public var url: String { urlTemplate.rendered() }
        public var query: [(String, String)] { queryTemplates.map { ($0.0, $0.1.rendered()) } }
        public var headers: [(String, String)] { headerTemplates.map { ($0.0, $0.1.rendered()) } }
    }

    public struct Pagination: Sendable {
        public let param: String
        public let first: Int
        public let maxPages: Int
        /// The page-size parameter and value; with `size`, a page shorter than `size` is the
        /// last (`size` alone: the upstream's fixed page size, CoinGecko's 100 tickers).
        public let sizeParam: String?
        public let size: Int?
        /// `every_page`: the answer is all pages or nothing; a last page still full at
        /// `max_pages` fails the request instead of cutting the list short.
        public let everyPage: Bool

        init(reading pagination: ConfigObject) throws(ConfigError) {
            sizeParam = try pagination.string("size_param")
            size = try pagination.integer("size", in: 1...1_000_000)
            if sizeParam != nil, size == nil { throw pagination.error("size", "is required with size_param") }
            param = try pagination.requiredString("param")
            first = try pagination.integer("first", in: 0...1_000_000) ?? 1
            maxPages = try pagination.requiredInteger("max_pages", in: 1...10_000)
            everyPage = try pagination.bool("every_page") ?? false
            if everyPage, size == nil { throw pagination.error("every_page", "needs size: only a short page tells the last one") }
            try pagination.rejectUnknownKeys()
        }

        /// Why an `every_page` list fails when page `maxPages` is still full.
        static func morePagesMessage(_ maxPages: Int) -> String {
            "page \(maxPages) (max_pages) is full: the list goes on, and every_page asks for all of it"
        }

        /// The query of the page at `index` (0-based).
        public func query(page index: Int) -> [(String, String)] {
            var query = [(param, String(first + index))]
            if let sizeParam, let size { query.append((sizeParam, String(size))) }
            return query
        }

        /// Whether a page of `count` records is the last: empty, or shorter than `size`.
        public func isLast(count: Int) -> Bool {
            count == 0 || size.map { count < $0 } ?? false
        }
    }

    /// `each`: one request per value, in order, the value in the request as `${each.<name>}`
    /// and in every record published as the member `<name>`; one message per value, so one
    /// value's failure never holds back the others'.
    public struct Each: Sendable {
        public let name: String
        public let values: [String]
        /// How long a value the upstream rejects (an unknown book) or refuses for the key is
        /// not asked again: retrying it every cycle cannot help and spends the budget.
        public let rejectedPauseSeconds: Int

        public static let defaultRejectedPauseSeconds = 3600

        public var placeholder: String { "each.\(name)" }

        init(reading each: ConfigObject) throws(ConfigError) {
            name = try each.requiredString("name")
            guard !name.isEmpty, name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) else {
                throw each.error("name", "must be a word of letters, digits and _ (it is ${each.<name>} and a record member), found \"\(name)\"")
            }
            guard let list = try each.array("values"), !list.isEmpty else { throw each.error("values", "must be a non-empty array of strings") }
            var values: [String] = []
            for (index, element) in list.enumerated() {
                guard case .string(let value) = element, !value.isEmpty else {
                    throw ConfigError(file: each.file, keyPath: each.keyPath("values[\(index)]"), message: "must be a non-empty string")
                }
                guard !values.contains(value) else {
                    throw ConfigError(file: each.file, keyPath: each.keyPath("values[\(index)]"), message: "lists \"\(value)\" twice")
                }
                values.append(value)
            }
            self.values = values
            rejectedPauseSeconds = try each.integer("rejected_pause_seconds", in: 1...604_800) ?? Each.defaultRejectedPauseSeconds
            try each.rejectUnknownKeys()
        }
    }

    /// What the `records` path holds: an array of records, or (`record`) the one record.
    public enum RecordsShape: Sendable, Equatable {
        case array, object
    }

    /// The fetcher's request budget: every attempt spends from it, and a rate-limited answer
    /// holds every later request back for its `Retry-After`, or `rateLimitPauseSeconds`.
    public struct Budget: Sendable {
        public let limits: [RequestBudget.Limit]
        public let rateLimitPauseSeconds: Int

        public static let defaultRateLimitPauseSeconds = 60
    }

    public let source: String
    public let stream: Stream
    public let schedule: Schedule
    public let each: Each?
    public let request: Request
    public let pagination: Pagination?
    public let budget: Budget?
    public let retry: RetryPolicy
    /// The path of the records array, or of the one record (`recordsShape`).
    public let records: FieldPath
    public let recordsShape: RecordsShape
    public let fields: [FieldSpec]
    public let settings: ServiceSettings
    /// Values substituted from the environment; logs redact them.
    public let secrets: [String]

    public static let defaultRetry = RetryPolicy(attempts: 4, initialDelaySeconds: 1, maxDelaySeconds: 30)
    /// Streams hand over the newest snapshot, not history: a few dozen entries (a 5,000-coin
    /// price message is about 0.6 MB in Redis).
    public static let defaultStreamLength = 32

    /// Reads a fetcher config; `required` names the fields a consumer of its stream reads
    /// (the merger's schema for the price and rank fetchers), which the config must publish
    /// with that type, and not nullable where the consumer needs a value.
    public init(reading config: ConfigObject, requiring required: [MergeRule.RequiredField] = []) throws(ConfigError) {
        source = try config.requiredString("source")
        guard !source.isEmpty else { throw config.error("source", "must not be empty") }

        let stream = try config.requiredObject("stream")
        self.stream = Stream(
            key: try stream.requiredString("key"),
            maxLength: try stream.integer("max_length", in: 1...10_000_000) ?? FetcherConfig.defaultStreamLength
        )
        guard !self.stream.key.isEmpty else { throw stream.error("key", "must not be empty") }
        try stream.rejectUnknownKeys()

        self.schedule = try Schedule(reading: try config.requiredObject("schedule"))

        self.each = try config.object("each").map { (each) throws(ConfigError) in try Each(reading: each) }
        self.request = try Request(reading: try config.requiredObject("request"), placeholders: Set([each?.placeholder].compactMap { $0 }))

        self.pagination = try config.object("pagination").map { (pagination) throws(ConfigError) in try Pagination(reading: pagination) }

        if let budget = try config.object("budget") {
            let limits = try RequestBudget.Limit.list(reading: budget)
            let pause = try budget.integer("rate_limit_pause_seconds", in: 1...86_400) ?? Budget.defaultRateLimitPauseSeconds
            try budget.rejectUnknownKeys()
            // A schedule the budget cannot carry would stall every cycle behind the budget.
            if let perMinute = limits.first(where: { $0.window == .seconds(60) })?.requests {
                let perCycle = (each?.values.count ?? 1) * (pagination?.maxPages ?? 1)
                let cyclesPerMinute = (60 + schedule.intervalSeconds - 1) / schedule.intervalSeconds
                let perMinuteNeeded = perCycle * cyclesPerMinute
                guard perMinuteNeeded <= perMinute else {
                    let cadence = "\(perCycle) requests a cycle every \(schedule.intervalSeconds) s"
                    throw budget.error("per_minute", "is \(perMinute), but \(cadence) make \(perCycle) × \(cyclesPerMinute) = \(perMinuteNeeded) a minute")
                }
            }
            self.budget = Budget(limits: limits, rateLimitPauseSeconds: pause)
        } else {
            self.budget = nil
        }

        self.retry = try RetryPolicy(reading: config, default: FetcherConfig.defaultRetry)

        switch (try config.string("records"), try config.string("record")) {
        case (let path?, nil):
            self.records = try FetcherConfig.path(config, "records", path)
            self.recordsShape = .array
        case (nil, let path?):
            self.records = try FetcherConfig.path(config, "record", path)
            self.recordsShape = .object
        case (.some, .some):
            throw config.error("record", "goes without records: an answer holds an array of records or one record")
        case (nil, nil):
            throw config.error("records", "is required (or record, for an answer that is one record)")
        }

        let fields = try config.requiredObject("fields")
        var reserved = [FetchedSnapshot.sourceRankField: "every record gets its source_rank"]
        if let each { reserved[each.name] = "each.name puts the value asked for under it in every record" }
        let specs = try FieldSpec.list(reading: fields, reserved: reserved)
        for field in required {
            guard let spec = specs.first(where: { $0.name == field.name }) else {
                throw config.error("fields", "must publish \(field.name) (\(field.kind.rawValue)): the merger reads it")
            }
            guard spec.kind == field.kind else {
                throw fields.error(field.name, "must be of type \(field.kind.rawValue) (the merger reads it so), found \(spec.kind.rawValue)")
            }
            if spec.nullable, !field.nullable {
                throw fields.error(field.name, "must not be nullable: the merger needs a value in every record")
            }
        }
        self.fields = specs

        self.settings = try ServiceSettings(reading: config)
        try config.rejectUnknownKeys()
        self.secrets = config.secrets
    }

    /// What a response parse must build: each field's path below the records path. The rest
    /// of a listing (tags, platforms, other quotes) is only checked and skipped.
    public var responseFilter: JSONKeyFilter {
        fields.reduce(JSONKeyFilter.keys([:])) { filter, field in filter.keeping(records.steps + field.keptSteps) }
    }

    static func path(_ config: ConfigObject, _ key: String, _ text: String) throws(ConfigError) -> FieldPath {
        do {
            return try FieldPath(parsing: text)
        } catch {
            throw config.error(key, "malformed path \"\(text)\": \(error)")
        }
    }
}

extension FieldSpec {
    /// What a response parse must keep of a record for this field: its path, and below an
    /// array's elements (arrays are transparent to a filter) the member `max_of`/`min_of` names.
    var keptSteps: [FieldPath.Step] { path.steps + (best?.member.steps ?? []) }

    /// Reads a `fields` object, each member one output field (`path`, `type`, `nullable`,
    /// `positive`, `max_of` or `min_of`) in file order; a `reserved` name fails with its reason.
    static func list(reading fields: ConfigObject, reserved: [String: String] = [:]) throws(ConfigError) -> [FieldSpec] {
        var specs: [FieldSpec] = []
        for name in fields.object.keys {
            if let reason = reserved[name] { throw fields.error(name, "is reserved: \(reason)") }
            let field = try fields.requiredObject(name)
            let typeName = try field.requiredString("type")
            guard let kind = FieldSpec.Kind(rawValue: typeName) else {
                throw field.error("type", "must be one of \(FieldSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(typeName)\"")
            }
            let positive = try field.bool("positive") ?? false
            if positive, kind != .decimal, kind != .integer { throw field.error("positive", "applies to decimal and integer fields, not \(typeName)") }
            var best: FieldSpec.Best?
            for order in [FieldSpec.Best.Order.largest, .smallest] {
                guard let member = try field.string(order.rawValue) else { continue }
                guard best == nil else { throw field.error(order.rawValue, "goes without max_of: a field is the largest or the smallest value") }
                guard kind == .decimal else { throw field.error(order.rawValue, "applies to decimal fields, not \(typeName)") }
                best = FieldSpec.Best(order, of: try FetcherConfig.path(field, order.rawValue, member))
            }
            specs.append(
                FieldSpec(
                    name: name, path: try FetcherConfig.path(field, "path", try field.requiredString("path")), kind: kind,
                    nullable: try field.bool("nullable") ?? false, positive: positive, best: best))
            try field.rejectUnknownKeys()
        }
        guard !specs.isEmpty else { throw ConfigError(file: fields.file, keyPath: fields.path, message: "must name at least one field") }
        return specs
    }
}

extension RetryPolicy {
    /// Reads the optional `retry` object of `config`; absent keys take `defaults`' values.
    init(reading config: ConfigObject, default defaults: RetryPolicy) throws(ConfigError) {
        guard let retry = try config.object("retry") else {
            self = defaults
            return
        }
        self.init(
            attempts: try retry.integer("attempts", in: 1...100) ?? defaults.attempts,
            initialDelaySeconds: try retry.seconds("initial_delay_seconds", in: 0...3600) ?? defaults.initialDelaySeconds,
            maxDelaySeconds: try retry.seconds("max_delay_seconds", in: 0...86_400) ?? defaults.maxDelaySeconds
        )
        try retry.rejectUnknownKeys()
    }
}

/// The URL schemes a fetcher can read; `file://` serves shipped demo data and fixtures.
enum URLScheme {
    case http, https, file

    init?(of url: String) {
        let lower = url.lowercased()
        if lower.hasPrefix("http://"), url.count > 7 {
            self = .http
        } else if lower.hasPrefix("https://"), url.count > 8 {
            self = .https
        } else if lower.hasPrefix("file:///") {
            self = .file
        } else {
            return nil
        }
        guard !url.contains(" "), !url.contains("\n") else { return nil }
    }
}
