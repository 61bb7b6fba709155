/// The http-api's config. `--port` and `--host` on the command line win over the file.
public struct APIConfig: Sendable {
    public var port: Int
    public var host: String
    public let defaultLimit: Int
    public let maxLimit: Int
    /// How far before the asked instant the current snapshot may lie and still be answered.
    public let historyToleranceSeconds: Int
    /// Older than this, the latest snapshot is flagged stale (three fetch intervals).
    public let staleAfterSeconds: Int
    /// How often a new snapshot is expected; `Cache-Control` lasts until the next is due.
    public let snapshotIntervalSeconds: Int
    /// A snapshot further ahead of this host's clock is not served as the latest (as the merger's).
    public let maxClockSkewSeconds: Int
    public let mergedStream: String
    /// The OpenAPI document served at `/openapi.yaml`: the built-in copy of `oas.yaml`, or the
    /// file at `openapi_path` (read at start-up) when the config names one.
    public let openAPIDocument: [UInt8]
    /// Rendered past snapshots kept in memory.
    public let historyCacheSize: Int
    /// The most points (raw or buckets) one series answer may hold.
    public let maxPoints: Int
    /// Decoded and rendered series points kept in memory, across all assets.
    public let seriesCachePoints: Int
    /// Rendered indicator tables kept in memory, in bytes; 0 computes every answer anew.
    public let indicatorCacheBytes: Int
    /// How long the merger's retention keeps every snapshot (its first tier's `for_days`):
    /// the widest volatility window, since volatility is over raw points.
    public let rawHistoryDays: Int
    /// Rendered `/spreads/summary` rows kept in memory, in bytes; 0 computes every answer anew.
    public let spreadCacheBytes: Int
    /// A monitored book whose newest observation is older than this makes `/ready` fail
    /// (`book_stalled:<book>`).
    public let booksStaleAfterSeconds: Int
    /// How long the spread monitor keeps observations and episodes (its `retention_days`):
    /// `/alerts`' default range.
    public let spreadRetentionDays: Int
    public let connections: ConnectionLimits
    /// Where `/metrics` and `/ready` are served (they show error texts): nil keeps them on the
    /// API's own listener; a port of their own takes them off the public one.
    public var opsPort: Int?
    /// The ops listener's address; nil is the API's own `host`.
    public var opsHost: String?
    public let settings: ServiceSettings
    /// Where history reads and the follower of the merged stream go: `REDIS_READ_URL` (plain,
    /// or Sentinel with `replica=1`), else `settings.redis`. Nothing writes there.
    public let readRedis: RedisEndpoint

    public init(reading config: ConfigObject) throws(ConfigError) {
        port = try config.integer("port", in: 0...65535) ?? 6667
        host = try config.string("host") ?? "0.0.0.0"
        maxLimit = try config.integer("max_limit", in: 1...1_000_000) ?? 5000
        defaultLimit = try config.integer("default_limit", in: 1...1_000_000) ?? 100
        guard defaultLimit <= maxLimit else { throw config.error("default_limit", "must not exceed max_limit (\(maxLimit))") }
        historyToleranceSeconds = try config.integer("history_tolerance_seconds", in: 0...31_536_000) ?? 600
        staleAfterSeconds = try config.integer("stale_after_seconds", in: 1...31_536_000) ?? 180
        snapshotIntervalSeconds = try config.integer("snapshot_interval_seconds", in: 1...86_400) ?? 60
        maxClockSkewSeconds = try config.integer("max_clock_skew_seconds", in: 0...3600) ?? 10
        mergedStream = try config.string("merged_stream") ?? "topcoins:merged"
        historyCacheSize = try config.integer("history_cache_size", in: 0...100_000) ?? 64
        maxPoints = try config.integer("max_points", in: 1...1_000_000) ?? 10_000
        seriesCachePoints = try config.integer("series_cache_points", in: 0...100_000_000) ?? 2_000_000
        indicatorCacheBytes = try config.integer("indicator_cache_bytes", in: 0...100_000_000_000) ?? 64 << 20
        rawHistoryDays = try config.integer("raw_history_days", in: 1...366) ?? 7
        spreadCacheBytes = try config.integer("spread_cache_bytes", in: 0...100_000_000_000) ?? 16 << 20
        booksStaleAfterSeconds = try config.integer("books_stale_after_seconds", in: 1...31_536_000) ?? 60
        spreadRetentionDays = try config.integer("spread_retention_days", in: 1...3660) ?? 30
        connections = ConnectionLimits(
            idleTimeout: .seconds(try config.integer("idle_timeout_seconds", in: 1...86_400) ?? 60),
            headerTimeout: .seconds(try config.integer("header_timeout_seconds", in: 1...3600) ?? 10),
            maxConnections: try config.integer("max_connections", in: 1...1_000_000) ?? 2048)
        opsPort = try config.integer("ops_port", in: 0...65535)
        opsHost = try config.string("ops_host")
        if let path = try config.string("openapi_path") {
            // Relative to the config file, so a config works from any directory.
            let resolved = path.hasPrefix("/") ? path : APIConfig.directory(of: config.file) + path
            guard let document = ConfigFile.readFile(resolved) else {
                throw config.error("openapi_path", "cannot read \(resolved)")
            }
            openAPIDocument = document
        } else {
            openAPIDocument = OpenAPIDocument.bytes
        }
        settings = try ServiceSettings(reading: config)
        if let url = config.environment["REDIS_READ_URL"], !url.isEmpty {
            readRedis = try ServiceSettings.endpoint(url, file: config.file, keyPath: "REDIS_READ_URL (environment)")
        } else {
            readRedis = settings.redis
        }
        try config.rejectUnknownKeys()
    }

    /// How long an answer that follows the latest snapshot stays current: until the next one is
    /// due (0 without a snapshot, or once it is overdue).
    func secondsUntilNextSnapshot(after latest: Timestamp?, now: Timestamp) -> Int64 {
        guard let latest else { return 0 }
        return max(0, (latest.milliseconds + Int64(snapshotIntervalSeconds) * 1000 - now.milliseconds) / 1000)
    }

    static func directory(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "" }
        return String(file[...slash])
    }
}
