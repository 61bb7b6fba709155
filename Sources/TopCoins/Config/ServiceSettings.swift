import Logging

/// The keys every config may hold besides its own: where Redis is and how much to log.
public struct ServiceSettings: Sendable {
    public static let defaultRedisURL = "redis://127.0.0.1:6379"

    public let redis: RedisEndpoint
    public let logLevel: Logger.Level

    /// Reads `redis.url` and `log_level`; `REDIS_URL` in the environment wins over the file.
    public init(reading config: ConfigObject) throws(ConfigError) {
        var url = ServiceSettings.defaultRedisURL
        var urlKey = "redis.url"
        if let redis = try config.object("redis") {
            url = try redis.string("url", substitutingEnvironment: true) ?? url
            try redis.rejectUnknownKeys()
        }
        if let fromEnvironment = config.environment["REDIS_URL"], !fromEnvironment.isEmpty {
            url = fromEnvironment
            urlKey = "REDIS_URL (environment)"
        }
        self.redis = try ServiceSettings.endpoint(url, file: config.file, keyPath: urlKey)
        if case .sentinel(let sentinels) = redis.address, sentinels.role == .replica {
            throw ConfigError(file: config.file, keyPath: urlKey, message: "replica=1 is for REDIS_READ_URL: every process writes to the primary")
        }
        let level = try config.string("log_level") ?? "info"
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw config.error("log_level", "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(level)\"")
        }
        self.logLevel = logLevel
    }

    /// Parses a Redis URL, failing as a config mistake at `keyPath`.
    static func endpoint(_ url: String, file: String, keyPath: String) throws(ConfigError) -> RedisEndpoint {
        do {
            return try RedisEndpoint(url: url)
        } catch {
            throw ConfigError(file: file, keyPath: keyPath, message: "\(error)")
        }
    }
}

/// What start-up needs of any executable's config.
public protocol ProcessConfig: Sendable {
    var settings: ServiceSettings { get }
    /// Values substituted from the environment, which logs must redact.
    var secrets: [String] { get }
}

extension ProcessConfig {
    public var secrets: [String] { [] }
}

extension FetcherConfig: ProcessConfig {}
extension MergerConfig: ProcessConfig {}
extension APIConfig: ProcessConfig {}
