#if canImport(Glibc)
import Glibc
#endif

/// The merger's config: which streams to join, the pairing window and history retention.
public struct MergerConfig: Sendable {
    public let pricesStream: String
    public let ranksStream: String
    public let mergedStream: String
    public let group: String
    /// Stable across restarts so a restarted merger re-reads its own pending entries.
    public let consumer: String
    public let windowSeconds: Int
    /// How long the writing merger's lease lasts unrenewed: a standby takes over within it.
    public let leaseSeconds: Int
    /// How far ahead of this host's clock a fetch time may be and still be merged: a fetcher
    /// host whose clock stepped ahead must not freeze the pipeline with a "newest" snapshot
    /// from the future.
    public let maxClockSkewSeconds: Int
    public let retention: RetentionPolicy
    public let settings: ServiceSettings

    public init(reading config: ConfigObject) throws(ConfigError) {
        let streams = try config.object("streams")
        pricesStream = try streams?.string("prices") ?? "topcoins:prices"
        ranksStream = try streams?.string("ranks") ?? "topcoins:ranks"
        mergedStream = try streams?.string("merged") ?? "topcoins:merged"
        try streams?.rejectUnknownKeys()
        group = try config.string("group") ?? "merger"
        consumer = try config.string("consumer") ?? MergerConfig.hostName
        windowSeconds = try config.integer("window_seconds", in: 1...86_400) ?? 60
        leaseSeconds = try config.integer("lease_seconds", in: 1...300) ?? 10
        maxClockSkewSeconds = try config.integer("max_clock_skew_seconds", in: 0...3600) ?? 10

        if let tiers = try config.array("retention") {
            var parsed: [RetentionPolicy.Tier] = []
            for (index, value) in tiers.enumerated() {
                let tier = try config.element("retention", index, value)
                let every = try tier.requiredString("every")
                guard let granularity = RetentionPolicy.Granularity(rawValue: every) else {
                    throw tier.error("every", "must be one of \(RetentionPolicy.Granularity.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(every)\"")
                }
                let forDays = try tier.integer("for_days", in: 1...36_500)
                if forDays == nil, index != tiers.count - 1 {
                    throw tier.error("for_days", "is required on every tier but the last")
                }
                if let previous = parsed.last?.forDays, let forDays, forDays <= previous {
                    throw tier.error("for_days", "must be longer than the previous tier's (\(previous))")
                }
                try tier.rejectUnknownKeys()
                parsed.append(.init(every: granularity, forDays: forDays))
            }
            guard !parsed.isEmpty else { throw config.error("retention", "must hold at least one tier") }
            retention = RetentionPolicy(tiers: parsed)
        } else {
            retention = .default
        }
        settings = try ServiceSettings(reading: config)
        try config.rejectUnknownKeys()
    }

    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "merger" }
        let name = String(cString: buffer)
        return name.isEmpty ? "merger" : name
    }
}
