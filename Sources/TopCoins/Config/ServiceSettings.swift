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
        do {
            self.redis = try RedisEndpoint(url: url)
        } catch {
            throw ConfigError(file: config.file, keyPath: urlKey, message: "\(error)")
        }
        let level = try config.string("log_level") ?? "info"
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw config.error("log_level", "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(level)\"")
        }
        self.logLevel = logLevel
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
