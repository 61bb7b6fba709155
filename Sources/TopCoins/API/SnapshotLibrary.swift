import Logging
import ServiceLifecycle
import Synchronization

/// Where the API gets rendered snapshots: the latest one from memory (kept fresh by
/// `LatestSnapshotFollower`), past ones from Redis through a small cache of rendered copies.
public final class SnapshotLibrary: Sendable {
    let store: SnapshotStore
    let cacheSize: Int
    private let state = Mutex(State())

    struct State {
        var latest: RenderedSnapshot?
        var registry = AssetRegistry()
        /// Rendered past snapshots by timestamp, with their last use for eviction.
        var cache: [Int64: (snapshot: RenderedSnapshot, lastUse: UInt64)] = [:]
        var clock: UInt64 = 0
        var redisReachable = false
        /// Each pipeline component's status hash, as last read from Redis.
        var pipeline: [String: [String: String]] = [:]
    }

    public init(store: SnapshotStore, cacheSize: Int) {
        self.store = store
        self.cacheSize = cacheSize
    }

    public var latest: RenderedSnapshot? { state.withLock { $0.latest } }
    public var redisReachable: Bool { state.withLock { $0.redisReachable } }

    public var pipeline: [String: [String: String]] { state.withLock { $0.pipeline } }

    func setRedisReachable(_ reachable: Bool) {
        state.withLock { $0.redisReachable = reachable }
    }

    func setPipeline(_ pipeline: [String: [String: String]]) {
        state.withLock { $0.pipeline = pipeline }
    }

    /// Installs `snapshot` as the latest unless a newer one is already held.
    func offerLatest(_ snapshot: RenderedSnapshot) {
        state.withLock { state in
            if state.latest.map({ $0.timestamp < snapshot.timestamp }) ?? true { state.latest = snapshot }
        }
    }

    /// Reads, decodes and renders the snapshot at `timestamp` (refreshing the asset registry
    /// when the snapshot names assets it has not seen), or nil when it is gone.
    func load(_ timestamp: Timestamp) async throws(RedisError) -> RenderedSnapshot? {
        guard let body = try await store.body(at: timestamp) else { return nil }
        var registry = state.withLock { $0.registry }
        do {
            return RenderedSnapshot(try SnapshotCodec.decode(body, registry: registry))
        } catch .unknownAsset {
            try await store.refresh(&registry)
            let refreshed = registry
            state.withLock { if $0.registry.count < refreshed.count { $0.registry = refreshed } }
            do {
                return RenderedSnapshot(try SnapshotCodec.decode(body, registry: refreshed))
            } catch {
                throw .unexpectedReply("snapshot \(timestamp): \(error)")
            }
        } catch {
            throw .unexpectedReply("snapshot \(timestamp): \(error)")
        }
    }

    /// The result of looking up the snapshot current at an instant.
    public enum Lookup: Sendable {
        case found(RenderedSnapshot)
        /// Nothing within the tolerance; `bounds` is what history holds.
        case notFound(bounds: (earliest: Timestamp, latest: Timestamp)?)
    }

    /// The newest snapshot at or before `instant`, if it is at most `tolerance` older.
    public func snapshot(currentAt instant: Timestamp, toleranceMilliseconds: Int64) async throws(RedisError) -> Lookup {
        if let latest, latest.timestamp <= instant {
            if instant.milliseconds - latest.timestamp.milliseconds <= toleranceMilliseconds { return .found(latest) }
            return .notFound(bounds: try await store.bounds())
        }
        guard let timestamp = try await store.timestamp(currentAt: instant),
            instant.milliseconds - timestamp.milliseconds <= toleranceMilliseconds
        else { return .notFound(bounds: try await store.bounds()) }
        if let cached = cached(timestamp) { return .found(cached) }
        guard let rendered = try await load(timestamp) else { return .notFound(bounds: try await store.bounds()) }
        remember(rendered)
        return .found(rendered)
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
    let redis: RedisClient
    let mergedStream: String
    let logger: Logger

    public init(library: SnapshotLibrary, redis: RedisClient, mergedStream: String, logger: Logger) {
        self.library = library
        self.redis = redis
        self.mergedStream = mergedStream
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var backoff = 0.1
            while !Task.isCancelled {
                do {
                    try await follow()
                } catch {
                    library.setRedisReachable(false)
                    if Task.isCancelled { break }
                    logger.warning("cannot follow new snapshots, serving what is held", metadata: ["error": "\(error)", "retry_in_s": "\(String(format3: backoff))"])
                    try? await Task.sleep(for: .milliseconds(Int64(backoff * 1000)))
                    backoff = min(backoff * 2, 5)
                }
            }
        }
    }

    func follow() async throws(RedisError) {
        // Note the stream position before reading the latest pointer, so an announcement made
        // in between is not missed.
        var lastID = try await redis.xrevrange(mergedStream, count: 1).first?.id ?? "0-0"
        try await loadLatest()
        library.setRedisReachable(true)
        var statusRead = ContinuousClock.now - .seconds(60)
        while !Task.isCancelled {
            if statusRead.duration(to: .now) >= .seconds(2) {
                library.setPipeline(try await PipelineStatus.readAll(from: redis))
                statusRead = .now
            }
            let entries = try await redis.xread(key: mergedStream, after: lastID, count: 100, blockMilliseconds: 1000)
            library.setRedisReachable(true)
            guard let newest = entries.last else { continue }
            lastID = newest.id
            try await loadLatest()
        }
    }

    func loadLatest() async throws(RedisError) {
        guard let timestamp = try await library.store.latestTimestamp() else { return }
        if let held = library.latest, held.timestamp >= timestamp { return }
        guard let rendered = try await library.load(timestamp) else { return }
        library.offerLatest(rendered)
        logger.info("serving new snapshot", metadata: ["snapshot": "\(timestamp)", "rows": "\(rendered.total)"])
    }
}
