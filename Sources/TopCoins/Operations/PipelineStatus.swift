/// What each pipeline component last did, recorded in Redis so the API (and an operator with
/// `redis-cli HGETALL`) can tell what is going on: one hash per component,
/// `{topcoins}:status:<component>`, and the set `{topcoins}:status` naming the components.
///
/// Fields: `last_attempt_at`, `last_success_at`, `last_error_at` (unix ms), `last_error`,
/// `last_error_reason`, `last_duration_ms`, counters `cycles_ok`, `cycles_failed`,
/// `failed.<reason>`, and per component the last cycle's figures (`records_kept`,
/// `skipped.<reason>`, `rows`, `left_out.<reason>`).
public struct PipelineStatus: Sendable {
    public static let index = "{topcoins}:status"

    public static func key(_ component: String) -> String { "\(index):\(component)" }

    let redis: RedisClient
    let component: String

    public init(redis: RedisClient, component: String) {
        self.redis = redis
        self.component = component
    }

    /// Records a successful step with its figures (replacing the previous step's figures).
    public func recordSuccess(at time: Timestamp, duration: Duration, figures: [String: Int]) async throws(RedisError) {
        let key = PipelineStatus.key(component)
        var fields: [(String, RedisArgument)] = [
            ("last_attempt_at", RedisArgument(time.milliseconds)), ("last_success_at", RedisArgument(time.milliseconds)),
            ("last_duration_ms", RedisArgument(duration.milliseconds)),
        ]
        fields += figures.sorted { $0.key < $1.key }.map { ($0.key, RedisArgument($0.value)) }
        let stale = try await staleFigureFields(keeping: Set(figures.keys))
        var commands: [[RedisArgument]] = [
            ["SADD", RedisArgument(PipelineStatus.index), RedisArgument(component)],
            ["HSET", RedisArgument(key)] + fields.flatMap { [RedisArgument($0.0), $0.1] },
            ["HINCRBY", RedisArgument(key), "cycles_ok", "1"],
        ]
        if !stale.isEmpty { commands.append(["HDEL", RedisArgument(key)] + stale.map { RedisArgument($0) }) }
        _ = try await redis.transaction(commands)
    }

    /// Records a failed step and its reason.
    public func recordFailure(at time: Timestamp, reason: String, message: String) async throws(RedisError) {
        _ = try await redis.transaction(failureCommands(at: time, reason: reason, message: message))
    }

    /// The field naming a source whose fetch times are ahead of this component's clock.
    public static let clockSkewPrefix = "clock_skew."

    /// Records an entry of `source` refused for a fetch time in the future (`future_fetch`),
    /// and marks the source (`clock_skew.<source>`) until `clearClockSkew` says it is sane again.
    public func recordClockSkew(of source: String, at time: Timestamp, message: String) async throws(RedisError) {
        let mark: [RedisArgument] = ["HSET", RedisArgument(PipelineStatus.key(component)), RedisArgument(PipelineStatus.clockSkewPrefix + source), RedisArgument(time.milliseconds)]
        _ = try await redis.transaction(failureCommands(at: time, reason: "future_fetch", message: message) + [mark])
    }

    public func clearClockSkew(of source: String) async throws(RedisError) {
        try await redis.send(["HDEL", RedisArgument(PipelineStatus.key(component)), RedisArgument(PipelineStatus.clockSkewPrefix + source)])
    }

    private func failureCommands(at time: Timestamp, reason: String, message: String) -> [[RedisArgument]] {
        let key = PipelineStatus.key(component)
        return [
            ["SADD", RedisArgument(PipelineStatus.index), RedisArgument(component)],
            [
                "HSET", RedisArgument(key), "last_attempt_at", RedisArgument(time.milliseconds), "last_error_at", RedisArgument(time.milliseconds),
                "last_error_reason", RedisArgument(reason), "last_error", RedisArgument(KeyValueLogHandler.redacted(message)),
            ],
            ["HINCRBY", RedisArgument(key), "cycles_failed", "1"],
            ["HINCRBY", RedisArgument(key), RedisArgument("failed.\(reason)"), "1"],
        ]
    }

    /// Per-step figures (`skipped.*`, `left_out.*`) of an earlier step that this one lacks:
    /// a reason that no longer occurs must not keep showing its old count.
    private func staleFigureFields(keeping current: Set<String>) async throws(RedisError) -> [String] {
        let existing = try await redis.send(["HKEYS", RedisArgument(PipelineStatus.key(component))]).array?.compactMap(\.string) ?? []
        return existing.filter { ($0.hasPrefix("skipped.") || $0.hasPrefix("left_out.")) && !current.contains($0) }
    }

    /// Every component's status hash.
    public static func readAll(from redis: RedisClient) async throws(RedisError) -> [String: [String: String]] {
        let components = try await redis.send(["SMEMBERS", RedisArgument(index)]).array?.compactMap(\.string).sorted() ?? []
        guard !components.isEmpty else { return [:] }
        let replies = try await redis.pipeline(components.map { ["HGETALL", RedisArgument(key($0))] })
        return Dictionary(uniqueKeysWithValues: zip(components, replies.map(\.fieldMap)))
    }
}
