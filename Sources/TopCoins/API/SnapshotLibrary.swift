import CoreMetrics
import Logging
import ServiceLifecycle
import Synchronization

/// Where the API gets rendered snapshots: the latest one from memory (kept fresh by
/// `LatestSnapshotFollower`), past ones from Redis through a small cache of rendered copies.
/// The history index (every snapshot's timestamp) is held in memory too, so a past instant
/// costs one Redis read at most; reads spread over a few connections.
public final class SnapshotLibrary: Sendable {
    let stores: [History]
    let cacheSize: Int
    /// A snapshot further ahead of this clock than this (written by a fetcher whose clock
    /// was ahead) is never served as the latest.
    let clockSkewMilliseconds: Int64
    let logger: Logger
    private let corruptSnapshots = CoreMetrics.Counter(label: "topcoins_corrupt_snapshots_total")
    private let nextStore = Atomic<Int>(0)
    private let state = Mutex(State())

    struct State {
        var latest: RenderedSnapshot?
        var registry = AssetRegistry()
        /// Rendered past snapshots by timestamp, with their last use for eviction.
        var cache: [Int64: (snapshot: RenderedSnapshot, lastUse: UInt64)] = [:]
        var clock: UInt64 = 0
        var redisReachable = false
        /// Each pipeline component's status, as last read from Redis.
        var pipeline: [String: PipelineStatus.Record] = [:]
        /// Every snapshot timestamp in history, ascending; nil until first loaded.
        var index: [Int64]?
        /// Whether Redis refuses writes for lack of memory, as `INFO memory` last said.
        var redisOutOfMemory = false
        /// Snapshot keys already logged as corrupt (each is logged and counted once).
        var corruptKeys: Set<String> = []
    }

    /// `stores` read history, one connection each; the first also serves the follower's loads.
    public init(stores: [History], cacheSize: Int, clockSkewSeconds: Int, logger: Logger) {
        precondition(!stores.isEmpty)
        self.stores = stores
        self.cacheSize = cacheSize
        self.clockSkewMilliseconds = Int64(clockSkewSeconds) * 1000
        self.logger = logger
    }

    var store: History { stores[nextStore.wrappingAdd(1, ordering: .relaxed).oldValue % stores.count] }

    /// A history read on the next connection, sent once more when it fails on a connection
    /// that broke while idle (Redis restarted since its last use): the client reconnects, and a
    /// read is safe to repeat. Redis that is really away fails both.
    func reading<T>(_ read: (History) async throws(RedisError) -> T) async throws(RedisError) -> T {
        let store = self.store
        do {
            return try await read(store)
        } catch {
            guard case .connection = error else { throw error }
            return try await read(store)
        }
    }

    public var latest: RenderedSnapshot? { state.withLock { $0.latest } }
    public var redisReachable: Bool { state.withLock { $0.redisReachable } }
    public var pipeline: [String: PipelineStatus.Record] { state.withLock { $0.pipeline } }
    public var redisOutOfMemory: Bool { state.withLock { $0.redisOutOfMemory } }

    func setRedisReachable(_ reachable: Bool) {
        state.withLock { $0.redisReachable = reachable }
    }

    func setRedisOutOfMemory(_ outOfMemory: Bool) {
        state.withLock { $0.redisOutOfMemory = outOfMemory }
    }

    /// Whether `timestamp` lies further ahead of this clock than the skew allows.
    func isFromTheFuture(_ timestamp: Timestamp, now: Timestamp = .now) -> Bool {
        timestamp.milliseconds - now.milliseconds > clockSkewMilliseconds
    }

    func setPipeline(_ pipeline: [String: PipelineStatus.Record]) {
        state.withLock { $0.pipeline = pipeline }
    }

    func replaceIndex(_ timestamps: [Int64]) {
        state.withLock { $0.index = timestamps }
    }

    /// Adds a newly announced snapshot to the index.
    func addToIndex(_ timestamp: Int64) {
        state.withLock { state in
            guard var index = state.index else { return }
            state.index = nil
            let position = SnapshotLibrary.insertionPoint(of: timestamp, in: index)
            if position == index.count || index[position] != timestamp { index.insert(timestamp, at: position) }
            state.index = index
        }
    }

    /// The first position whose timestamp is not below `timestamp`.
    static func insertionPoint(of timestamp: Int64, in index: [Int64]) -> Int {
        var low = 0
        var high = index.count
        while low < high {
            let middle = (low + high) / 2
            if index[middle] < timestamp { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Installs `snapshot` as the latest unless a newer one is already held; a held one from
    /// the future gives way, and one from the future is never installed.
    func offerLatest(_ snapshot: RenderedSnapshot) {
        let now = Timestamp.now
        guard !isFromTheFuture(snapshot.timestamp, now: now) else { return }
        state.withLock { state in
            if state.latest.map({ $0.timestamp < snapshot.timestamp || isFromTheFuture($0.timestamp, now: now) }) ?? true { state.latest = snapshot }
        }
    }

    /// Reads, decodes (the first `rows` rows) and renders the snapshot at `timestamp`,
    /// refreshing the asset registry when the snapshot names assets it has not seen; nil when
    /// the snapshot is gone. A body that does not decode is logged and counted once.
    func load(_ timestamp: Timestamp, rows: Int = .max) async throws(HistoryReadError) -> RenderedSnapshot? {
        let key = stores[0].keys.snapshot(timestamp)
        do {
            guard let body = try await reading({ store throws(RedisError) in try await store.body(at: timestamp) }) else { return nil }
            var registry = state.withLock { $0.registry }
            do {
                return try SnapshotLibrary.render(body, registry: registry, rows: rows)
            } catch .unknownAsset {
                registry = try await reading { store throws(RedisError) in
                    var refreshed = registry
                    try await store.refresh(&refreshed)
                    return refreshed
                }
                let refreshed = registry
                state.withLock { if $0.registry.count < refreshed.count { $0.registry = refreshed } }
                do {
                    return try SnapshotLibrary.render(body, registry: refreshed, rows: rows)
                } catch {
                    throw corrupt(key, error)
                }
            } catch {
                throw corrupt(key, error)
            }
        } catch let error as RedisError {
            throw .redis(error)
        } catch let error as HistoryReadError {
            throw error
        } catch {
            throw .redis(.unexpectedReply("\(error)"))
        }
    }

    static func render(_ body: [UInt8], registry: AssetRegistry, rows: Int) throws(SnapshotCodec.DecodeError) -> RenderedSnapshot {
        let (snapshot, total) = try SnapshotCodec.decode(body, registry: registry, rowLimit: rows)
        return RenderedSnapshot(snapshot, total: total)
    }

    func corrupt(_ key: String, _ error: SnapshotCodec.DecodeError) -> HistoryReadError {
        if state.withLock({ $0.corruptKeys.insert(key).inserted }) {
            logger.error("stored snapshot does not decode", metadata: ["key": "\(key)", "reason": "corrupt_snapshot", "error": "\(error)"])
            corruptSnapshots.increment()
        }
        return .corrupt(key: key, detail: "\(error)")
    }

    /// The result of looking up the snapshot current at an instant.
    public enum Lookup: Sendable {
        case found(RenderedSnapshot)
        /// Nothing within the tolerance; `bounds` is what history holds.
        case notFound(bounds: (earliest: Timestamp, latest: Timestamp)?)
    }

    /// The newest snapshot at or before `instant`, if it is at most `tolerance` older, rendered
    /// at least as far as its first `rows` rows. The in-memory index answers first; whatever
    /// it misses (a snapshot not yet announced, one retention just removed) is asked of Redis
    /// before the answer is "none".
    public func snapshot(currentAt instant: Timestamp, toleranceMilliseconds: Int64, rows: Int) async throws(HistoryReadError) -> Lookup {
        func within(_ candidate: Timestamp?) -> Bool {
            candidate.map { instant.milliseconds - $0.milliseconds <= toleranceMilliseconds } ?? false
        }
        if let latest, latest.timestamp <= instant, within(latest.timestamp) { return .found(latest) }
        var candidate = state.withLock { state in state.index.flatMap { SnapshotLibrary.current(at: instant.milliseconds, in: $0) } }
            .map(Timestamp.init(milliseconds:))
        // Twice at most: a candidate that is gone by the time it is read is asked of Redis again.
        for _ in 0..<2 {
            if !within(candidate) {
                do { candidate = try await reading { store throws(RedisError) in try await store.timestamp(currentAt: instant) } } catch { throw .redis(error) }
            }
            guard let timestamp = candidate, within(timestamp) else { break }
            if let cached = cached(timestamp), cached.renderedRows >= min(rows, cached.total) { return .found(cached) }
            if let rendered = try await load(timestamp, rows: rows) {
                remember(rendered)
                addToIndex(timestamp.milliseconds)
                return .found(rendered)
            }
            // Retention removed it since the index was read.
            state.withLock { state in state.index?.removeAll { $0 == timestamp.milliseconds } }
            candidate = nil
        }
        do { return .notFound(bounds: try await bounds()) } catch { throw .redis(error) }
    }

    /// The newest timestamp of `index` at or before `instant`.
    static func current(at instant: Int64, in index: [Int64]) -> Int64? {
        let position = insertionPoint(of: instant + 1, in: index)
        return position == 0 ? nil : index[position - 1]
    }

    func bounds() async throws(RedisError) -> (earliest: Timestamp, latest: Timestamp)? {
        if let index = state.withLock({ $0.index }) {
            guard let first = index.first, let last = index.last else { return nil }
            return (Timestamp(milliseconds: first), Timestamp(milliseconds: last))
        }
        return try await reading { store throws(RedisError) in try await store.bounds() }
    }

    func cached(_ timestamp: Timestamp) -> RenderedSnapshot? {
        state.withLock { state in
            guard let entry = state.cache[timestamp.milliseconds] else { return nil }
            state.clock += 1
            state.cache[timestamp.milliseconds] = (entry.snapshot, state.clock)
            return entry.snapshot
        }
    }

    func remember(_ snapshot: RenderedSnapshot) {
        guard cacheSize > 0 else { return }
        state.withLock { state in
            state.clock += 1
            state.cache[snapshot.timestamp.milliseconds] = (snapshot, state.clock)
            if state.cache.count > cacheSize, let oldest = state.cache.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
                state.cache[oldest] = nil
            }
        }
    }
}

/// Keeps `SnapshotLibrary.latest` current: loads the newest snapshot at start, then follows
/// the merger's announcements on the merged stream. While Redis is away it keeps what it
/// holds and retries.
public struct LatestSnapshotFollower: Service {
    let library: SnapshotLibrary
    let assets: AssetLibrary
    let rankings: Rankings
    let redis: RedisClient
    let mergedStream: String
    let logger: Logger

    public init(library: SnapshotLibrary, assets: AssetLibrary, rankings: Rankings, redis: RedisClient, mergedStream: String, logger: Logger) {
        self.library = library
        self.assets = assets
        self.rankings = rankings
        self.redis = redis
        self.mergedStream = mergedStream
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var backoff = StartOverBackoff()
            while !Task.isCancelled {
                do {
                    try await follow()
                } catch {
                    library.setRedisReachable(false)
                    if Task.isCancelled { break }
                    logger.warning("cannot follow new snapshots, serving what is held", metadata: ["error": "\(error)", "retry_in_s": "\(String(format3: backoff.seconds))"])
                    await backoff.wait()
                }
            }
        }
    }

    func follow() async throws(RedisError) {
        // Note the stream position before reading the latest pointer, so an announcement made
        // in between is not missed.
        var lastID = try await redis.xrevrange(mergedStream, count: 1).first?.id ?? "0-0"
        try await loadLatest()
        try await refreshAssets()
        library.setRedisReachable(true)
        var statusRead = ContinuousClock.now - .seconds(60)
        var indexRead = ContinuousClock.now - .seconds(600)
        var assetsRead = ContinuousClock.now
        while !Task.isCancelled {
            // Also between snapshots: retention folds spans after the write that announced one.
            if assetsRead.duration(to: .now) >= .seconds(10) {
                try await refreshAssets()
                assetsRead = .now
            }
            if statusRead.duration(to: .now) >= .seconds(2) {
                library.setPipeline(try await PipelineStatus.readAll(from: redis))
                library.setRedisOutOfMemory(try await redis.memoryInfo().refusesWrites)
                statusRead = .now
            }
            // Reloaded now and then as a whole: retention removes old entries.
            if indexRead.duration(to: .now) >= .seconds(60) {
                library.replaceIndex(try await library.stores[0].allTimestamps())
                indexRead = .now
            }
            let entries = try await redis.xread(key: mergedStream, after: lastID, count: 100, blockMilliseconds: 1000)
            library.setRedisReachable(true)
            guard let newest = entries.last else { continue }
            lastID = newest.id
            for entry in entries {
                if let timestamp = entry.text("timestamp").flatMap({ Timestamp(plausibleText: $0) }) { library.addToIndex(timestamp.milliseconds) }
            }
            try await loadLatest()
            try await refreshAssets()
            assetsRead = .now
        }
    }

    /// Reloads the catalogue and the series' spans for the new snapshot, then tells the rankings
    /// (new points, new candle counters); a catalogue that does not decode is logged, and the
    /// one held keeps answering.
    func refreshAssets() async throws(RedisError) {
        do throws(HistoryReadError) {
            try await assets.refresh(latest: library.latest?.snapshot)
            rankings.noteChange()
        } catch {
            switch error {
            case .redis(let error): throw error
            case .corrupt(let key, let detail):
                logger.error("stored catalogue does not decode", metadata: ["key": "\(key)", "reason": "corrupt_catalogue", "error": "\(detail)"])
            }
        }
    }

    /// Loads the snapshot the latest pointer names, unless it is held already or lies in the
    /// future; one that does not decode is logged by the library and the held one stays.
    func loadLatest() async throws(RedisError) {
        let store = library.stores[0]
        guard var timestamp = try await store.latestTimestamp() else { return }
        if library.isFromTheFuture(timestamp) {
            // Written from a clock that was ahead: the newest snapshot that is not stands in.
            guard let current = try await store.timestamp(currentAt: Timestamp.now.adding(milliseconds: library.clockSkewMilliseconds)) else { return }
            timestamp = current
        }
        if let held = library.latest, held.timestamp >= timestamp { return }
        let rendered: RenderedSnapshot?
        do {
            rendered = try await library.load(timestamp)
        } catch .redis(let error) {
            throw error
        } catch {
            return
        }
        guard let rendered else { return }
        library.offerLatest(rendered)
        logger.info("serving new snapshot", metadata: ["snapshot": "\(timestamp)", "rows": "\(rendered.total)"])
    }
}
