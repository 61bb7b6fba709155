/// The spread monitor's one write per observation: the observation, the book's new monitor
/// state, the counters, any episode that opened or closed with its `topcoins:alerts`
/// message, and the summaries of buckets that just closed, all in one script, and only if the
/// book's stored state is still the one the monitor started from. So a monitor killed before
/// it acknowledged an entry, given the entry again, finds its state already moved on and
/// writes nothing twice; a second monitor that raced it writes nothing at all.
public struct SpreadWriter: Sendable {
    public let redis: RedisClient
    public let keys: SpreadKeys
    /// `XADD topcoins:alerts MAXLEN ~ n`.
    public let alertStream: String
    public let alertStreamLength: Int
    /// How long an hour of observations, a summary and a closed episode are kept.
    public let retentionDays: Int

    public init(redis: RedisClient, keys: SpreadKeys = SpreadKeys(), alertStream: String, alertStreamLength: Int, retentionDays: Int) {
        self.redis = redis
        self.keys = keys
        self.alertStream = alertStream
        self.alertStreamLength = alertStreamLength
        self.retentionDays = retentionDays
    }

    /// Hash `book → state text`: the monitor's own record of where each book stands (the
    /// writer compares and replaces it, never reads into it).
    public var stateKey: String { "\(keys.prefix):spreads:state" }

    /// Everything one observation changes.
    public struct Change: Sendable {
        public var observation: SpreadObservation
        /// The state the monitor held before (nil: none stored) and the one after.
        public var before: String?
        public var after: String
        /// Counter names (`observations`, `breaches`, `episodes`, `flagged_stale`, ...) and
        /// increments, stored as `<book>:<name>`.
        public var counters: [(String, Int)] = []
        /// Episodes to store as they stand now (an opened or closed one).
        public var episodes: [AlertEpisode] = []
        /// `topcoins:alerts` messages, field pairs in order.
        public var alerts: [[(String, String)]] = []
        /// Closed buckets' summaries.
        public var summaries: [(SpreadSummary.Width, SpreadSummary)] = []

        public init(observation: SpreadObservation, before: String?, after: String) {
            self.observation = observation
            self.before = before
            self.after = after
        }
    }

    public enum Outcome: Sendable, Equatable {
        case written
        /// The stored state was not `before`: this change is already written (or another
        /// monitor moved the book on); nothing was written.
        case stateMoved
    }

    static let script = """
        local current = redis.call('HGET', KEYS[1], ARGV[1])
        if (current or '') ~= ARGV[2] then return 0 end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
        redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
        redis.call('EXPIREAT', KEYS[2], ARGV[7])
        redis.call('ZADD', KEYS[3], ARGV[6], ARGV[6])
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[8])
        redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
        redis.call('INCR', KEYS[6])
        local i = 10
        for _ = 1, tonumber(ARGV[9]) do
          redis.call('HINCRBY', KEYS[5], ARGV[1] .. ':' .. ARGV[i], ARGV[i + 1])
          i = i + 2
        end
        local count = tonumber(ARGV[i]); i = i + 1
        for _ = 1, count do
          redis.call('HSET', KEYS[7], ARGV[i], ARGV[i + 1])
          redis.call('ZADD', KEYS[8], ARGV[i + 2], ARGV[i])
          if ARGV[i + 3] == '1' then redis.call('SADD', KEYS[9], ARGV[i]) else redis.call('SREM', KEYS[9], ARGV[i]) end
          i = i + 4
        end
        count = tonumber(ARGV[i]); i = i + 1
        for _ = 1, count do
          local n = tonumber(ARGV[i]); i = i + 1
          local fields = {}
          for k = 1, 2 * n do fields[k] = ARGV[i + k - 1] end
          i = i + 2 * n
          redis.call('XADD', KEYS[10], 'MAXLEN', '~', ARGV[i], '*', unpack(fields))
          i = i + 1
        end
        count = tonumber(ARGV[i]); i = i + 1
        for _ = 1, count do
          if ARGV[i] == 'hour' then redis.call('HSET', KEYS[11], ARGV[i + 1], ARGV[i + 2]) else redis.call('HSET', KEYS[12], ARGV[i + 1], ARGV[i + 2]) end
          i = i + 3
        end
        return 1
        """

    public func write(_ change: Change) async throws(RedisError) -> Outcome {
        let observation = change.observation
        let book = observation.book
        let hour = SpreadSummary.Width.hour.start(of: observation.observedAt)
        let retention = Int64(retentionDays) * 86_400_000
        var arguments: [RedisArgument] = [
            RedisArgument(book), RedisArgument(change.before ?? ""), RedisArgument(change.after),
            RedisArgument(observation.observedAt.milliseconds), RedisArgument(observation.encoded), RedisArgument(hour.milliseconds),
            RedisArgument((hour.milliseconds + SpreadSummary.Width.hour.milliseconds + retention) / 1000),
            RedisArgument(observation.observedAt.milliseconds - retention), RedisArgument(change.counters.count),
        ]
        for (name, increment) in change.counters { arguments += [RedisArgument(name), RedisArgument(increment)] }
        arguments.append(RedisArgument(change.episodes.count))
        for episode in change.episodes {
            arguments += [
                RedisArgument(episode.id), RedisArgument(JSONWriter.encode(episode.json)), RedisArgument(episode.startedAt.milliseconds),
                RedisArgument(episode.state == .open ? "1" : "0"),
            ]
        }
        arguments.append(RedisArgument(change.alerts.count))
        for alert in change.alerts {
            arguments.append(RedisArgument(alert.count))
            for (name, value) in alert { arguments += [RedisArgument(name), RedisArgument(value)] }
            arguments.append(RedisArgument(alertStreamLength))
        }
        arguments.append(RedisArgument(change.summaries.count))
        for (width, summary) in change.summaries {
            arguments += [RedisArgument(width.rawValue), RedisArgument(summary.start.milliseconds), RedisArgument(JSONWriter.encode(summary.json))]
        }
        let result = try await redis.eval(
            SpreadWriter.script,
            keys: [
                stateKey, keys.observations(book, hour: hour), keys.hours(book), keys.latest, keys.counters, keys.version, keys.episodes,
                keys.episodeIndex, keys.openEpisodes, alertStream, keys.summaries(book, width: .hour), keys.summaries(book, width: .day),
            ], arguments: arguments)
        return result.int == 1 ? .written : .stateMoved
    }

    /// Each book's stored state text.
    public func states() async throws(RedisError) -> [String: String] {
        try await redis.hgetall(stateKey)
    }

    /// Stores the rules in force for every monitored book (and forgets books no longer
    /// monitored), so the API answers with them.
    public func publish(rules: [BookRules]) async throws(RedisError) {
        var commands: [[RedisArgument]] = [["DEL", RedisArgument(keys.books)]]
        if !rules.isEmpty {
            commands.append(["HSET", RedisArgument(keys.books)] + rules.flatMap { [RedisArgument($0.book), RedisArgument(JSONWriter.encode($0.json))] })
        }
        _ = try await redis.transaction(commands)
    }

    /// Drops what retention no longer keeps: summaries of buckets and closed episodes that
    /// started before `now − retention`. Hours of observations expire by themselves.
    public func prune(books: [String], now: Timestamp) async throws(RedisError) {
        let cutoff = now.milliseconds - Int64(retentionDays) * 86_400_000
        for book in books {
            for width in SpreadSummary.Width.allCases {
                let key = keys.summaries(book, width: width)
                let old = try await redis.send(["HKEYS", RedisArgument(key)]).array?.compactMap(\.string).filter { Int64($0).map { $0 < cutoff } ?? true } ?? []
                if !old.isEmpty { _ = try await redis.send(["HDEL", RedisArgument(key)] + old.map { RedisArgument($0) }) }
            }
        }
        let expired = try await redis.zrangeByScore(keys.episodeIndex, minimum: "-inf", maximum: "(\(cutoff)").map(\.member)
        let open = Set(try await redis.send(["SMEMBERS", RedisArgument(keys.openEpisodes)]).array?.compactMap(\.string) ?? [])
        let closed = expired.filter { !open.contains($0) }
        guard !closed.isEmpty else { return }
        _ = try await redis.transaction([
            ["HDEL", RedisArgument(keys.episodes)] + closed.map { RedisArgument($0) },
            ["ZREM", RedisArgument(keys.episodeIndex)] + closed.map { RedisArgument($0) },
        ])
    }
}
