/// Why a history read has no answer: Redis is away, or a stored body does not decode.
public enum HistoryReadError: Error, Sendable {
    case redis(RedisError)
    case corrupt(key: String, detail: String)
}

/// Merged history in Redis, behind one type: the snapshots (read by instant), each asset's
/// series (read by asset, see `History+Series`), the catalogue, and their upkeep (retention,
/// compaction, conversion of older history). The merger appends; the API reads.
public struct History: Sendable {
    public let keys: HistoryKeys
    let redis: RedisClient

    public init(redis: RedisClient, keys: HistoryKeys = HistoryKeys()) {
        self.redis = redis
        self.keys = keys
    }

    public enum WriteOutcome: Sendable, Equatable {
        case written
        /// History holds this timestamp, or the latest snapshot is later (and not from the
        /// future): merging the same pair again (after a restart) changes nothing.
        case alreadyWritten
        /// The registry in Redis is not the length this writer expected (another writer).
        case registryChanged
        /// The writer no longer holds the merger lease: another merger has taken over.
        case notLeaseHolder
    }

    /// Appends a snapshot's points to the raw span `KEYS[span]`: its time to field `t`, and
    /// to each asset's field the snapshot's ordinal in the span (varint of ordinal × 2, see
    /// `SeriesCodec`) and the price the caller encoded. ARGV from `first` on holds the time,
    /// the span's start and member, then (field, price) pairs.
    static let appendPointsLua = """
        local function appendPoints(span, spans, versions, first)
          local ordinal = redis.call('HSTRLEN', span, 't') / 8
          redis.call('HSET', span, 't', (redis.call('HGET', span, 't') or '') .. ARGV[first])
          local prefix, n = '', ordinal * 2
          while n >= 128 do prefix = prefix .. string.char(128 + n % 128); n = math.floor(n / 128) end
          prefix = prefix .. string.char(n)
          for i = first + 3, #ARGV, 2 do
            redis.call('HSET', span, ARGV[i], (redis.call('HGET', span, ARGV[i]) or '') .. prefix .. ARGV[i + 1])
          end
          redis.call('ZADD', spans, ARGV[first + 1], ARGV[first + 2])
          redis.call('HINCRBY', versions, ARGV[first + 2], 1)
        end
        """

    /// Snapshot body, history entry, latest pointer, new registry entries, the catalogue,
    /// every row's point in its asset's series and the announcement on the merged stream, all
    /// or nothing. Only the lease holder writes (the lease fences a merger that lost it).
    /// Nothing is written when history holds the timestamp, or when `latest` is newer, unless
    /// `latest` lies past ARGV[5] (a snapshot from a clock that was ahead, which must not
    /// freeze the pipeline). A `latest` that is not a number counts as none. History written
    /// with its series needs no conversion: a first write marks the conversion as having
    /// nothing to do, unless a conversion (which runs before any write) fixed its end already.
    static let writeScript = appendPointsLua + """

        if redis.call('GET', KEYS[6]) ~= ARGV[4] then return -2 end
        if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
        local latest = tonumber(redis.call('GET', KEYS[3]) or '') or -1
        if latest >= tonumber(ARGV[1]) and latest <= tonumber(ARGV[5]) then return 0 end
        if redis.call('LLEN', KEYS[4]) ~= tonumber(ARGV[3]) then return -1 end
        local added = tonumber(ARGV[6])
        for i = 8, 7 + added do redis.call('RPUSH', KEYS[4], ARGV[i]) end
        redis.call('SET', KEYS[1], ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
        redis.call('SET', KEYS[3], ARGV[1])
        redis.call('SET', KEYS[10], ARGV[7])
        redis.call('HSETNX', KEYS[11], 'until', '0')
        appendPoints(KEYS[7], KEYS[8], KEYS[9], 8 + added)
        redis.call('XADD', KEYS[5], 'MAXLEN', '~', '1000', '*', 'timestamp', ARGV[1])
        return 1
        """

    /// Writes `snapshot` as the holder of `lease`, registering its assets in `registry`
    /// (which must mirror Redis) and `catalogue` (the caller's copy with this snapshot's
    /// listing recorded). A latest snapshot later than `latestLimit` does not count as newer.
    public func write(
        _ snapshot: MergedSnapshot, registry: inout AssetRegistry, catalogue: Catalogue, announceOn mergedStream: String, lease: MergerLease,
        latestLimit: Timestamp
    ) async throws(RedisError) -> WriteOutcome {
        let knownCount = registry.count
        let (indexes, added) = registry.indexes(for: snapshot.rows.map { .init(cmcId: $0.cmcId, symbol: $0.symbol, name: $0.name) })
        let body = SnapshotCodec.encode(snapshot, assetIndexes: indexes)
        let span = SeriesSpan(granularity: .snapshot, containing: snapshot.timestamp.milliseconds)
        var arguments: [RedisArgument] = [
            RedisArgument(snapshot.timestamp.milliseconds), RedisArgument(body), RedisArgument(knownCount), RedisArgument(lease.token),
            RedisArgument(latestLimit.milliseconds), RedisArgument(added.count), RedisArgument(catalogue.encoded),
        ]
        arguments.reserveCapacity(arguments.count + added.count + 3 + snapshot.rows.count * 2)
        arguments += added.map { RedisArgument($0) }
        arguments += History.pointArguments(snapshot, span: span)
        let result: RedisValue
        do {
            result = try await redis.eval(
                History.writeScript,
                keys: [
                    keys.snapshot(snapshot.timestamp), keys.history, keys.latest, keys.assets, mergedStream, keys.mergerLease, keys.series(span),
                    keys.seriesSpans, keys.seriesVersions, keys.catalogue, keys.seriesConversion,
                ],
                arguments: arguments
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

    /// What `appendPoints` takes: the time, the span, then each row's (field, price).
    static func pointArguments(_ snapshot: MergedSnapshot, span: SeriesSpan) -> [RedisArgument] {
        var arguments = [RedisArgument(SeriesCodec.time(snapshot.timestamp)), RedisArgument(span.start), RedisArgument(span.member)]
        for row in snapshot.rows {
            arguments.append(RedisArgument(String(row.cmcId)))
            arguments.append(RedisArgument(SeriesCodec.pointPrice(row.price)))
        }
        return arguments
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

    // Reads below take only plausible times (`Timestamp(plausible:)`): whatever else a
    // key holds is skipped, never rendered or computed with.

    /// The newest snapshot's timestamp, or nil when there is none yet.
    public func latestTimestamp() async throws(RedisError) -> Timestamp? {
        try await redis.get(keys.latest).flatMap { Timestamp(plausibleText: String(decoding: $0, as: UTF8.self)) }
    }

    /// The timestamp of the snapshot current at `instant`: the newest at or before it.
    public func timestamp(currentAt instant: Timestamp) async throws(RedisError) -> Timestamp? {
        try await redis.zrevrangeByScore(
            keys.history, maximum: String(instant.milliseconds), minimum: String(Timestamp.earliestPlausible.milliseconds), limit: 1
        ).first.flatMap { Timestamp(plausible: $0.score) }
    }

    /// The timestamps history holds after `start` through `end`, ascending.
    public func timestamps(after start: Timestamp, through end: Timestamp) async throws(RedisError) -> [Int64] {
        try await redis.zrangeByScore(keys.history, minimum: "(\(start.milliseconds)", maximum: String(end.milliseconds)).map(\.score)
    }

    /// Every timestamp history holds, ascending.
    public func allTimestamps() async throws(RedisError) -> [Int64] {
        try await redis.zrangeByScore(
            keys.history, minimum: String(Timestamp.earliestPlausible.milliseconds), maximum: String(Timestamp.latestRepresentable.milliseconds)
        ).map(\.score)
    }

    /// The earliest and latest timestamps history holds.
    public func bounds() async throws(RedisError) -> (earliest: Timestamp, latest: Timestamp)? {
        let (low, high) = (String(Timestamp.earliestPlausible.milliseconds), String(Timestamp.latestRepresentable.milliseconds))
        guard let first = try await redis.zrangeByScore(keys.history, minimum: low, maximum: high, limit: 1).first.flatMap({ Timestamp(plausible: $0.score) }),
            let last = try await redis.zrevrangeByScore(keys.history, maximum: high, minimum: low, limit: 1).first.flatMap({ Timestamp(plausible: $0.score) })
        else { return nil }
        return (first, last)
    }
}
