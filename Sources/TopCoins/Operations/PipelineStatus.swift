/// What each pipeline component last did, recorded in Redis so the API (and an operator with
/// `redis-cli HGETALL`) can tell what is going on: one hash per component,
/// `{topcoins}:status:<component>`, and the set `{topcoins}:status` naming the components.
///
/// Fields: `last_attempt_at`, `last_success_at`, `last_error_at` (unix ms), `last_error`,
/// `last_error_reason`, `last_duration_ms`, counters `cycles_ok`, `cycles_failed`,
/// `failed.<reason>`, and per component the last cycle's figures (`records_kept`,
/// `skipped.<reason>`, `rows`, `left_out.<reason>`; `values_published`, `values_failed`,
/// `values_parked` for a fetcher's `each` values). Readers get them decoded as a `Record`.
public struct PipelineStatus: Sendable {
    public static let index = HistoryKeys().statusIndex

    public static func key(_ component: String) -> String { HistoryKeys().status(component) }

    /// The hash's field names, shared by the writer and `Record`'s decoder.
    enum Field {
        static let lastAttemptAt = "last_attempt_at"
        static let lastSuccessAt = "last_success_at"
        static let lastErrorAt = "last_error_at"
        static let lastError = "last_error"
        static let lastErrorReason = "last_error_reason"
        static let lastDurationMs = "last_duration_ms"
        static let cyclesOK = "cycles_ok"
        static let cyclesFailed = "cycles_failed"
        /// `failed.<reason>`: failed steps by reason.
        static let failedPrefix = "failed."
        /// The last step's figures: `records_kept`, `rows`, `skipped.<reason>`, `left_out.<reason>`,
        /// for a fetcher's `each` values `values_published`, `values_failed`, `values_parked`, and
        /// for the exchange fetcher's run `calls`, `exchanges`, `similar`, `markets`.
        static let figures: Set<String> = [
            "records_kept", "rows", "values_published", "values_failed", "values_parked", "calls", "exchanges", "similar", "markets",
        ]
        static let figurePrefixes = ["skipped.", "left_out."]

        static func isFigure(_ field: String) -> Bool {
            figures.contains(field) || figurePrefixes.contains { field.hasPrefix($0) }
        }
    }

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
            (Field.lastAttemptAt, RedisArgument(time.milliseconds)), (Field.lastSuccessAt, RedisArgument(time.milliseconds)),
            (Field.lastDurationMs, RedisArgument(duration.milliseconds)),
        ]
        fields += figures.sorted { $0.key < $1.key }.map { ($0.key, RedisArgument($0.value)) }
        let stale = try await staleFigureFields(keeping: Set(figures.keys))
        var commands: [[RedisArgument]] = [
            ["SADD", RedisArgument(PipelineStatus.index), RedisArgument(component)],
            ["HSET", RedisArgument(key)] + fields.flatMap { [RedisArgument($0.0), $0.1] },
            ["HINCRBY", RedisArgument(key), RedisArgument(Field.cyclesOK), "1"],
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
                "HSET", RedisArgument(key), RedisArgument(Field.lastAttemptAt), RedisArgument(time.milliseconds), RedisArgument(Field.lastErrorAt),
                RedisArgument(time.milliseconds), RedisArgument(Field.lastErrorReason), RedisArgument(reason), RedisArgument(Field.lastError),
                RedisArgument(KeyValueLogHandler.redacted(message)),
            ],
            ["HINCRBY", RedisArgument(key), RedisArgument(Field.cyclesFailed), "1"],
            ["HINCRBY", RedisArgument(key), RedisArgument(Field.failedPrefix + reason), "1"],
        ]
    }

    /// Per-step figures (`skipped.*`, `left_out.*`) of an earlier step that this one lacks:
    /// a reason that no longer occurs must not keep showing its old count.
    private func staleFigureFields(keeping current: Set<String>) async throws(RedisError) -> [String] {
        let existing = try await redis.send(["HKEYS", RedisArgument(PipelineStatus.key(component))]).array?.compactMap(\.string) ?? []
        return existing.filter { field in Field.figurePrefixes.contains { field.hasPrefix($0) } && !current.contains(field) }
    }

    /// Every component's status, by component.
    public static func readAll(from redis: RedisClient) async throws(RedisError) -> [String: Record] {
        let components = try await redis.send(["SMEMBERS", RedisArgument(index)]).array?.compactMap(\.string).sorted() ?? []
        guard !components.isEmpty else { return [:] }
        let replies = try await redis.pipeline(components.map { ["HGETALL", RedisArgument(key($0))] })
        return Dictionary(uniqueKeysWithValues: zip(components, replies.map { Record(fields: $0.fieldMap) }))
    }
}

extension PipelineStatus {
    /// One component's status hash, decoded once where it is read, so `/ready` and `/metrics`
    /// share typed values. The hash is anyone's to edit with `redis-cli`: a counter that is not
    /// an integer or a time that is not plausible is left out, never guessed at.
    public struct Record: Sendable, Equatable {
        public var lastAttemptAt: Timestamp?
        public var lastSuccessAt: Timestamp?
        public var lastErrorAt: Timestamp?
        public var lastError: String?
        public var lastErrorReason: String?
        public var lastDurationMilliseconds: Int64?
        public var cyclesOK: Int?
        public var cyclesFailed: Int?
        /// Failed steps by reason (`failed.<reason>`).
        public var failures: [String: Int] = [:]
        /// The last step's figures by field name (`records_kept`, `rows`, `skipped.<reason>`,
        /// `left_out.<reason>`), the name being the metric's label.
        public var figures: [String: Int] = [:]
        /// Sources marked `clock_skew.<source>` (whatever the mark's value), sorted.
        public var clockSkewedSources: [String] = []

        /// Decodes an `HGETALL` reply's fields; unknown fields are ignored.
        public init(fields: [String: String]) {
            lastAttemptAt = fields[Field.lastAttemptAt].flatMap { Timestamp(plausibleText: $0) }
            lastSuccessAt = fields[Field.lastSuccessAt].flatMap { Timestamp(plausibleText: $0) }
            lastErrorAt = fields[Field.lastErrorAt].flatMap { Timestamp(plausibleText: $0) }
            lastError = fields[Field.lastError]
            lastErrorReason = fields[Field.lastErrorReason]
            lastDurationMilliseconds = fields[Field.lastDurationMs].flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
            cyclesOK = fields[Field.cyclesOK].flatMap { Int($0) }
            cyclesFailed = fields[Field.cyclesFailed].flatMap { Int($0) }
            for (field, value) in fields {
                if field.hasPrefix(PipelineStatus.clockSkewPrefix) {
                    clockSkewedSources.append(String(field.dropFirst(PipelineStatus.clockSkewPrefix.count)))
                }
                guard let count = Int(value) else { continue }
                if field.hasPrefix(Field.failedPrefix) {
                    failures[String(field.dropFirst(Field.failedPrefix.count))] = count
                } else if Field.isFigure(field) {
                    figures[field] = count
                }
            }
            clockSkewedSources.sort()
        }
    }
}
