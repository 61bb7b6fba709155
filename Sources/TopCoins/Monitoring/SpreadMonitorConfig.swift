/// The spread monitor's config (`Config/spread-monitor.json`): the stream and group it reads,
/// the rules of each monitored book, retention, where alerts go, and the usual settings.
public struct SpreadMonitorConfig: Sendable, ProcessConfig {
    public let stream: String
    public let group: String
    /// Stable across restarts so a restarted monitor re-reads its own pending entries.
    public let consumer: String
    /// Each monitored book's rules, by name; a record of any other book is skipped.
    public let books: [String: BookRules]
    public let retentionDays: Int
    public let alertStream: String
    public let alertStreamLength: Int
    public let webhook: AlertWebhookConfig?
    public let settings: ServiceSettings
    public let secrets: [String]

    public init(reading config: ConfigObject) throws(ConfigError) {
        let stream = try config.object("stream")
        self.stream = try stream?.string("key") ?? "topcoins:books"
        group = try stream?.string("group") ?? "spread-monitor"
        try stream?.rejectUnknownKeys()
        consumer = try config.string("consumer") ?? MergerConfig.hostName
        var defaults = BookRules.defaults(for: "")
        if let object = try config.object("defaults") {
            defaults = try BookRules(reading: object, book: "", base: defaults)
        }
        let booksObject = try config.requiredObject("books")
        var books: [String: BookRules] = [:]
        for name in booksObject.object.keys {
            guard BookQuote.isValidBook(name) else { throw booksObject.error(name, "is not a book name (1 to 32 of a-z, 0-9, _)") }
            guard let object = try booksObject.object(name) else { throw booksObject.error(name, "must be an object, found null") }
            books[name] = try BookRules(reading: object, book: name, base: defaults.renamed(name))
        }
        try booksObject.rejectUnknownKeys()
        guard !books.isEmpty else { throw config.error("books", "must name at least one book") }
        self.books = books
        retentionDays = try config.integer("retention_days", in: 1...3650) ?? 30
        let alerts = try config.object("alerts")
        alertStream = try alerts?.string("stream") ?? "topcoins:alerts"
        alertStreamLength = try alerts?.integer("max_length", in: 10...10_000_000) ?? 10_000
        webhook = try alerts?.object("webhook").map { (object) throws(ConfigError) in try AlertWebhookConfig(reading: object) }
        try alerts?.rejectUnknownKeys()
        settings = try ServiceSettings(reading: config)
        try config.rejectUnknownKeys()
        secrets = config.secrets
    }
}

/// `alerts.webhook`: where each alert is POSTed, with which headers (values may come from the
/// environment as `${VAR}`, and are then secrets), and how long one delivery may take.
public struct AlertWebhookConfig: Sendable {
    public let url: String
    public let headers: [(String, String)]
    public let timeoutSeconds: Double
    /// The consumer group on the alerts stream that tracks deliveries.
    public let group: String

    public init(reading config: ConfigObject) throws(ConfigError) {
        url = try config.requiredString("url", substitutingEnvironment: true)
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), url.utf8.count > 8 else {
            throw config.error("url", "must be an http:// or https:// URL")
        }
        headers = try config.stringMap("headers", substitutingEnvironment: true) ?? []
        for (name, _) in headers where ["content-type", "idempotency-key"].contains(name.lowercased()) {
            throw config.error("headers.\(name)", "is set by the monitor itself")
        }
        timeoutSeconds = try config.seconds("timeout_seconds", in: 0.1...300) ?? 10
        group = try config.string("group") ?? "webhook"
        try config.rejectUnknownKeys()
    }
}

extension BookRules {
    /// The same rules for another book (the config's defaults become each book's base).
    func renamed(_ book: String) -> BookRules {
        BookRules(
            book: book, thresholdPct: thresholdPct, clearBelowPct: clearBelowPct, minConsecutive: minConsecutive, cooldownSeconds: cooldownSeconds,
            staleAfterSeconds: staleAfterSeconds, maxGapSeconds: maxGapSeconds)
    }
}
