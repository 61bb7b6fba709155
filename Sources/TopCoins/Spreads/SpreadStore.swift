/// The spread monitor's Redis keys and encodings, and the reads the API makes of them. Every
/// key shares the history's hash tag (`{topcoins}`), so the monitor's one write script may
/// touch them all. The monitor writes; see `SpreadWriter` for the write script.
///
/// ```
/// {topcoins}:spreads:books              hash  book → BookRules.json (the rules in force)
/// {topcoins}:spreads:obs:<book>:<hour>  zset  score observed_at ms, member the encoded
///                                             observation; expires `retention` after the hour
/// {topcoins}:spreads:hours:<book>       zset  the hours (start ms) that hold observations
/// {topcoins}:spreads:latest             hash  book → the newest encoded observation
/// {topcoins}:spreads:summary:<width>:<book>  hash  bucket start ms → SpreadSummary.json,
///                                             written once the bucket has closed
/// {topcoins}:spreads:counters           hash  `<book>:<counter>` → count (for /metrics)
/// {topcoins}:spreads:version            int   bumped by every write, for readers' caches
/// {topcoins}:alerts:episodes            hash  episode id → AlertEpisode.json
/// {topcoins}:alerts:index               zset  score started_at ms, member episode id
/// {topcoins}:alerts:open                set   ids of the open episodes
/// ```
public struct SpreadKeys: Sendable {
    public let prefix: String

    public init(prefix: String = HistoryKeys.defaultPrefix) {
        self.prefix = prefix
    }

    public var books: String { "\(prefix):spreads:books" }
    public var latest: String { "\(prefix):spreads:latest" }
    public var counters: String { "\(prefix):spreads:counters" }
    public var version: String { "\(prefix):spreads:version" }
    public var episodes: String { "\(prefix):alerts:episodes" }
    public var episodeIndex: String { "\(prefix):alerts:index" }
    public var openEpisodes: String { "\(prefix):alerts:open" }

    public func observations(_ book: String, hour: Timestamp) -> String { "\(prefix):spreads:obs:\(book):\(hour.milliseconds)" }
    public func hours(_ book: String) -> String { "\(prefix):spreads:hours:\(book)" }
    public func summaries(_ book: String, width: SpreadSummary.Width) -> String { "\(prefix):spreads:summary:\(width.rawValue):\(book)" }
}

extension SpreadObservation {
    /// The stored member: `observed_ms|bid|ask|spread|flags|breach|sequence|updated_ms`, an
    /// absent price empty, flags the `SpreadFlags` raw value, breach `0` or `1`. The book is
    /// the key's. Equal observations encode equally, so a repeated write adds nothing.
    public var encoded: String {
        [
            String(observedAt.milliseconds), bid?.text ?? "", ask?.text ?? "", spreadPct?.text ?? "", String(flags.rawValue), breach ? "1" : "0",
            String(sequence), String(updatedAt.milliseconds),
        ].joined(separator: "|")
    }

    /// Reads what `encoded` wrote for `book`.
    public init(encoded text: String, book: String) throws(SpreadStoreError) {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 8 else { throw SpreadStoreError("observation of \(parts.count) parts, not 8") }
        func price(_ part: Substring) throws(SpreadStoreError) -> DecimalNumber? {
            if part.isEmpty { return nil }
            guard let number = DecimalNumber(part) else { throw SpreadStoreError("observation price \(part.prefix(40))") }
            return number
        }
        func time(_ part: Substring) throws(SpreadStoreError) -> Timestamp {
            guard let time = Int64(part).flatMap({ Timestamp(plausible: $0) }) else { throw SpreadStoreError("observation time \(part.prefix(40))") }
            return time
        }
        guard let flagBits = UInt8(parts[4]), flagBits & ~7 == 0, let sequence = Int64(parts[6]), parts[5] == "0" || parts[5] == "1" else {
            throw SpreadStoreError("observation flags, breach or sequence")
        }
        self.init(
            observedAt: try time(parts[0]), book: book, bid: try price(parts[1]), ask: try price(parts[2]), spreadPct: try price(parts[3]),
            flags: SpreadFlags(rawValue: flagBits), breach: parts[5] == "1", sequence: sequence, updatedAt: try time(parts[7]))
    }
}

/// The API's reads of what the spread monitor wrote. Stored data is checked as it is read:
/// what does not decode is left out and counted in `corrupt`, never answered half-read.
public struct SpreadStore: Sendable {
    public let redis: RedisClient
    public let keys: SpreadKeys

    public init(redis: RedisClient, keys: SpreadKeys = SpreadKeys()) {
        self.redis = redis
        self.keys = keys
    }

    /// Values read, with how many stored entries did not decode.
    public struct Read<Value: Sendable>: Sendable {
        public var values: [Value] = []
        public var corrupt = 0
    }

    /// The monitored books and their rules, by name.
    public func books() async throws(RedisError) -> [String: BookRules] {
        var books: [String: BookRules] = [:]
        for (book, json) in try await redis.hgetall(keys.books) where BookQuote.isValidBook(book) {
            guard case .object(let object)? = try? JSONParser.parse(Array(json.utf8)) else { continue }
            let reader = ConfigObject(file: "redis", path: "\(keys.books).\(book)", object: object, environment: [:])
            if let rules = try? BookRules(reading: reader, book: book, base: .defaults(for: book)) { books[book] = rules }
        }
        return books
    }

    /// The book's observations with `from ≤ observed_at ≤ to`, ascending, at most `limit`
    /// (one beyond tells the caller there are more).
    public func observations(of book: String, from: Timestamp, to: Timestamp, limit: Int) async throws(RedisError) -> Read<SpreadObservation> {
        let hours = try await redis.zrangeByScore(
            keys.hours(book), minimum: String(SpreadSummary.Width.hour.start(of: from).milliseconds), maximum: String(to.milliseconds))
        var read = Read<SpreadObservation>()
        guard !hours.isEmpty else { return read }
        let replies = try await redis.pipeline(
            hours.map { hour in
                ["ZRANGEBYSCORE", RedisArgument(keys.observations(book, hour: Timestamp(milliseconds: hour.score))), RedisArgument(from.milliseconds), RedisArgument(to.milliseconds)]
            })
        for reply in replies {
            for member in reply.array ?? [] {
                guard read.values.count < limit else { return read }
                guard let text = member.string, let observation = try? SpreadObservation(encoded: text, book: book) else {
                    read.corrupt += 1
                    continue
                }
                read.values.append(observation)
            }
        }
        return read
    }

    /// The newest observation of each book that has one.
    public func latest() async throws(RedisError) -> [String: SpreadObservation] {
        var latest: [String: SpreadObservation] = [:]
        for (book, text) in try await redis.hgetall(keys.latest) where BookQuote.isValidBook(book) {
            latest[book] = try? SpreadObservation(encoded: text, book: book)
        }
        return latest
    }

    /// The stored summaries of the closed buckets starting at `starts`, by start.
    public func closedSummaries(of book: String, width: SpreadSummary.Width, starts: [Timestamp]) async throws(RedisError) -> Read<SpreadSummary> {
        var read = Read<SpreadSummary>()
        guard !starts.isEmpty else { return read }
        let reply = try await redis.send(["HMGET", RedisArgument(keys.summaries(book, width: width))] + starts.map { RedisArgument($0.milliseconds) })
        for (start, value) in zip(starts, reply.array ?? []) {
            guard let bytes = value.bytes else { continue }
            guard let summary = try? SpreadSummary(json: bytes), summary.start == start else {
                read.corrupt += 1
                continue
            }
            read.values.append(summary)
        }
        return read
    }

    /// Episodes that started within `from...to`, ascending by start; `book` nil for all.
    public func episodes(book: String?, from: Timestamp, to: Timestamp) async throws(RedisError) -> Read<AlertEpisode> {
        let ids = try await redis.zrangeByScore(keys.episodeIndex, minimum: String(from.milliseconds), maximum: String(to.milliseconds)).map(\.member)
        return try await episodes(ids: ids, book: book)
    }

    /// The episodes open now, ascending by start.
    public func openEpisodes(book: String?) async throws(RedisError) -> Read<AlertEpisode> {
        let ids = try await redis.send(["SMEMBERS", RedisArgument(keys.openEpisodes)]).array?.compactMap(\.string) ?? []
        var read = try await episodes(ids: ids, book: book)
        read.values.sort { ($0.startedAt, $0.book) < ($1.startedAt, $1.book) }
        return read
    }

    func episodes(ids: [String], book: String?) async throws(RedisError) -> Read<AlertEpisode> {
        var read = Read<AlertEpisode>()
        guard !ids.isEmpty else { return read }
        let reply = try await redis.send(["HMGET", RedisArgument(keys.episodes)] + ids.map { RedisArgument($0) })
        for (id, value) in zip(ids, reply.array ?? []) {
            guard let bytes = value.bytes, let episode = try? AlertEpisode(json: bytes), episode.id == id else {
                read.corrupt += 1
                continue
            }
            if book == nil || episode.book == book { read.values.append(episode) }
        }
        return read
    }

    /// The monitor's counters (`<book>:<counter>` → count), for /metrics.
    public func counters() async throws(RedisError) -> [String: Int64] {
        try await redis.hgetall(keys.counters).compactMapValues { Int64($0) }
    }

    /// Bumped by every monitor write: a reader's cached answer stands while this does.
    public func version() async throws(RedisError) -> Int64 {
        try await redis.get(keys.version).flatMap { Int64(String(decoding: $0, as: UTF8.self)) } ?? 0
    }
}
