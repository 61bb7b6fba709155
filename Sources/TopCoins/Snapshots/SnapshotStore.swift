/// Merged snapshots in Redis: the atomic write the merger makes, and the reads the API makes.
public struct SnapshotStore: Sendable {
    public let keys: SnapshotKeys
    let redis: RedisClient

    public init(redis: RedisClient, keys: SnapshotKeys = SnapshotKeys()) {
        self.redis = redis
        self.keys = keys
    }

    public enum WriteOutcome: Sendable, Equatable {
        case written
        /// A snapshot at this timestamp or a later one is already there: merging the same pair
        /// again (after a restart) changes nothing.
        case alreadyWritten
        /// The registry in Redis is not the length this writer expected (another writer).
        case registryChanged
        /// The writer no longer holds the merger lease: another merger has taken over.
        case notLeaseHolder
    }

    /// Snapshot body, history entry, latest pointer, new registry entries and the
    /// announcement on the merged stream, all or nothing. Only the lease holder writes (the
    /// lease fences a merger that lost it), and nothing is written when `latest` is not older.
    static let writeScript = """
        if redis.call('GET', KEYS[6]) ~= ARGV[4] then return -2 end
        local latest = tonumber(redis.call('GET', KEYS[3]) or '-1')
        if latest >= tonumber(ARGV[1]) then return 0 end
        if redis.call('LLEN', KEYS[4]) ~= tonumber(ARGV[3]) then return -1 end
        for i = 5, #ARGV do redis.call('RPUSH', KEYS[4], ARGV[i]) end
        redis.call('SET', KEYS[1], ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
        redis.call('SET', KEYS[3], ARGV[1])
        redis.call('XADD', KEYS[5], 'MAXLEN', '~', '1000', '*', 'timestamp', ARGV[1])
        return 1
        """

    /// Writes `snapshot` as the holder of `lease`, registering its assets in `registry`
    /// (which must mirror Redis).
    public func write(
        _ snapshot: MergedSnapshot, registry: inout AssetRegistry, announceOn mergedStream: String, lease: MergerLease
    ) async throws(RedisError) -> WriteOutcome {
        let knownCount = registry.count
        let (indexes, added) = registry.indexes(for: snapshot.rows.map { .init(cmcId: $0.cmcId, symbol: $0.symbol, name: $0.name) })
        let body = SnapshotCodec.encode(snapshot, assetIndexes: indexes)
        let result: RedisValue
        do {
            result = try await redis.eval(
                SnapshotStore.writeScript,
                keys: [keys.snapshot(snapshot.timestamp), keys.history, keys.latest, keys.assets, mergedStream, keys.mergerLease],
                arguments: [RedisArgument(snapshot.timestamp.milliseconds), RedisArgument(body), RedisArgument(knownCount), RedisArgument(lease.token)]
                    + added.map { RedisArgument($0) }
            )
        } catch {
            registry.truncate(to: knownCount)
            throw error
        }
        let outcome: WriteOutcome =
            switch result.int {
            case 1: .written
            case 0: .alreadyWritten
            case -2: .notLeaseHolder
            default: .registryChanged
            }
        if outcome != .written { registry.truncate(to: knownCount) }
        return outcome
    }

    /// Brings `registry` up to date with Redis (reads only the entries it lacks).
    public func refresh(_ registry: inout AssetRegistry) async throws(RedisError) {
        let entries = try await redis.send(["LRANGE", RedisArgument(keys.assets), RedisArgument(registry.count), "-1"]).array ?? []
        do {
            try registry.append(encoded: entries.map { $0.bytes ?? [] })
        } catch {
            throw .unexpectedReply("asset registry: \(error)")
        }
    }

    /// The encoded snapshot at exactly `timestamp`, or nil.
    public func body(at timestamp: Timestamp) async throws(RedisError) -> [UInt8]? {
        try await redis.get(keys.snapshot(timestamp))
    }

    /// The newest snapshot's timestamp, or nil when there is none yet.
    public func latestTimestamp() async throws(RedisError) -> Timestamp? {
        try await redis.get(keys.latest).flatMap { Int64(String(decoding: $0, as: UTF8.self)) }.map(Timestamp.init(milliseconds:))
    }

    /// The timestamp of the snapshot current at `instant`: the newest at or before it.
    public func timestamp(currentAt instant: Timestamp) async throws(RedisError) -> Timestamp? {
        try await redis.zrevrangeByScore(keys.history, maximum: String(instant.milliseconds), minimum: "-inf", limit: 1).first
            .map { Timestamp(milliseconds: $0.score) }
    }

    /// Every timestamp history holds, ascending.
    public func allTimestamps() async throws(RedisError) -> [Int64] {
        try await redis.zrangeByScore(keys.history, minimum: "-inf", maximum: "+inf").map(\.score)
    }

    /// The earliest and latest timestamps history holds.
    public func bounds() async throws(RedisError) -> (earliest: Timestamp, latest: Timestamp)? {
        let replies = try await redis.pipeline([
            ["ZRANGE", RedisArgument(keys.history), "0", "0", "WITHSCORES"],
            ["ZRANGE", RedisArgument(keys.history), "-1", "-1", "WITHSCORES"],
        ])
        guard let first = RedisClient.scoredMembers(replies[0]).first, let last = RedisClient.scoredMembers(replies[1]).first else { return nil }
        return (Timestamp(milliseconds: first.score), Timestamp(milliseconds: last.score))
    }
}
