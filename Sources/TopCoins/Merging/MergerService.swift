import Logging
import ServiceLifecycle

/// The merger process: reads both fetcher streams through a consumer group, merges the newest
/// price snapshot with the newest rank snapshot when they are within the window, writes the
/// result atomically, and only then acknowledges what it read.
///
/// Restart safety comes from two facts: the newest entry of each stream is read back from the
/// stream itself at start (so nothing acknowledged is needed again), and the write is skipped
/// when history already holds that timestamp (so repeating a merge changes nothing).
public final class MergerService: Service, Sendable {
    let config: MergerConfig
    let reader: RedisClient
    let writer: RedisClient
    let history: History
    let status: PipelineStatus
    let lease: MergerLease
    let logger: Logger

    /// How long an entry may sit unacknowledged with another consumer before it is claimed.
    static let claimIdleMilliseconds = 30_000

    public init(config: MergerConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        // Blocking reads get their own connection so writes never wait behind them.
        self.reader = RedisClient(endpoint: config.settings.redis)
        self.writer = RedisClient(endpoint: config.settings.redis)
        self.history = History(redis: writer)
        self.status = PipelineStatus(redis: writer, component: "merger")
        self.lease = MergerLease(redis: writer, key: history.keys.mergerLease, owner: config.consumer, seconds: Double(config.leaseSeconds))
    }

    public func shutdown() async {
        await reader.shutdown()
        await writer.shutdown()
    }

    /// What the merger holds between reads.
    struct State {
        var prices: MergeRule.Side?
        var ranks: MergeRule.Side?
        var registry = AssetRegistry()
        var catalogue = Catalogue()
        var lastWritten: (prices: String, ranks: String)?
        var hold: LeaseHold
        /// Sources whose last entry was refused for a fetch time ahead of this clock.
        var skewedSources: Set<String> = []
    }

    public func run() async throws {
        logger.info("merger started", metadata: ["redis": "\(config.settings.redis)", "group": "\(config.group)", "consumer": "\(config.consumer)"])
        await cancelWhenGracefulShutdown {
            var backoff = StartOverBackoff()
            while !Task.isCancelled {
                do {
                    try await self.waitForLease()
                    var state = State(hold: LeaseHold(self.lease))
                    try await self.start(&state)
                    backoff.reset()
                    try await self.follow(&state)
                } catch let error as RedisError {
                    if Task.isCancelled { break }
                    // Out of memory refuses writes but is no outage: nothing is acknowledged
                    // before its write, so starting over loses nothing either way.
                    let message = error.isOutOfMemory ? "Redis is out of memory, starting over" : "merger lost Redis, starting over"
                    self.logger.error(
                        "\(message)", metadata: ["reason": "\(error.reason)", "error": "\(error)", "retry_in_s": "\(String(format3: backoff.seconds))"])
                    await backoff.wait()
                } catch {
                    break
                }
            }
        }
        try? await lease.release()
        logger.info("merger stopped")
    }

    /// Returns once this merger holds the lease; a standby polls several times per lease period.
    func waitForLease() async throws {
        var announced = false
        while !(try await lease.acquire()) {
            if !announced {
                logger.info("another merger holds the lease, standing by", metadata: ["lease_s": "\(config.leaseSeconds)"])
                announced = true
            }
            try await Task.sleep(for: .milliseconds(max(100, min(1000, lease.milliseconds / 5))))
        }
        logger.info("holding the merger lease", metadata: ["lease_s": "\(config.leaseSeconds)"])
    }

    /// Renews the lease a few times per period; false when it was lost.
    func keepLease(_ state: inout State) async throws(RedisError) -> Bool {
        let holds = try await state.hold.keep()
        if !holds { logger.warning("lost the merger lease, standing by") }
        return holds
    }

    /// Creates the groups, loads the registry and catalogue, converts snapshot history that
    /// has no series yet, loads the newest entry of each stream, then merges and acknowledges
    /// whatever this consumer (or a dead one) left pending.
    func start(_ state: inout State) async throws(RedisError) {
        for stream in [config.pricesStream, config.ranksStream] {
            try await reader.xgroupCreate(stream, group: config.group, startingAt: "0")
        }
        try await history.refresh(&state.registry)
        do throws(HistoryReadError) {
            state.catalogue = try await history.catalogue() ?? Catalogue()
        } catch {
            switch error {
            case .redis(let error): throw error
            case .corrupt(let key, let detail):
                // Rebuilt from the listings from now on; first sightings before now are lost.
                logger.error("stored catalogue does not decode, starting a new one", metadata: ["key": "\(key)", "reason": "corrupt_catalogue", "error": "\(detail)"])
            }
        }
        guard try await history.convertOlderHistory(registry: &state.registry, catalogue: &state.catalogue, hold: &state.hold, logger: logger) != nil else { return }
        state.prices = try await newest(in: config.pricesStream, &state)
        state.ranks = try await newest(in: config.ranksStream, &state)
        let pending = try await reader.xreadgroup(
            group: config.group, consumer: config.consumer, count: 1000, blockMilliseconds: nil,
            streams: [(config.pricesStream, "0"), (config.ranksStream, "0")])
        var delivered = pending.map { ($0.key, $0.entries.map(\.id)) }
        delivered += try await claimAbandoned()
        try await mergeIfPaired(&state)
        try await acknowledge(delivered)
    }

    /// Waits for new entries and merges on each.
    func follow(_ state: inout State) async throws(RedisError) {
        var lastClaim = ContinuousClock.now
        while !Task.isCancelled, try await keepLease(&state) {
            let streams: [(key: String, entries: [StreamEntry])]
            do {
                streams = try await reader.xreadgroup(
                    group: config.group, consumer: config.consumer, count: 100, blockMilliseconds: 1000,
                    streams: [(config.pricesStream, ">"), (config.ranksStream, ">")])
            } catch let error where error.serverCode == "NOGROUP" || error.serverCode == "UNBLOCKED" {
                // Redis came back empty, or the streams were deleted under a blocked read: the
                // groups are gone. Start over, which recreates them.
                logger.warning("consumer group missing, recreating it", metadata: ["error": "\(error)"])
                throw error
            }
            var delivered = streams.map { ($0.key, $0.entries.map(\.id)) }
            for stream in streams {
                for entry in stream.entries {
                    guard let side = try await accept(entry, stream: stream.key, &state) else { continue }
                    if stream.key == config.pricesStream {
                        if state.prices.map({ StreamID.isNewer(entry.id, than: $0.entryID) }) ?? true { state.prices = side }
                    } else if state.ranks.map({ StreamID.isNewer(entry.id, than: $0.entryID) }) ?? true {
                        state.ranks = side
                    }
                }
            }
            if lastClaim.duration(to: .now) > .seconds(10) {
                delivered += try await claimAbandoned()
                lastClaim = .now
            }
            if !streams.isEmpty { try await mergeIfPaired(&state) }
            try await acknowledge(delivered)
        }
    }

    /// How many entries back from a stream's end `newest` looks for one it can merge.
    static let newestSearchDepth = 8

    /// The newest entry of `stream` that can be merged, looking past unreadable or future ones.
    func newest(in stream: String, _ state: inout State) async throws(RedisError) -> MergeRule.Side? {
        var end = "+"
        for _ in 0..<MergerService.newestSearchDepth {
            guard let entry = try await reader.xrevrange(stream, from: end, count: 1).first else { return nil }
            if let side = try await accept(entry, stream: stream, &state) { return side }
            end = "(" + entry.id
        }
        return nil
    }

    /// The entry as a merge side, or nil (logged and counted) when it does not decode or was
    /// fetched more than `max_clock_skew_seconds` ahead of this host's clock.
    func accept(_ entry: StreamEntry, stream: String, _ state: inout State) async throws(RedisError) -> MergeRule.Side? {
        let snapshot: FetchedSnapshot
        do {
            snapshot = try FetchedSnapshot(entry: entry)
        } catch {
            logger.error("unreadable stream entry skipped", metadata: ["stream": "\(stream)", "reason": "invalid_entry", "error": "\(error)"])
            try await status.recordFailure(at: .now, reason: "invalid_entry", message: "\(error)")
            return nil
        }
        let now = Timestamp.now
        let aheadMilliseconds = snapshot.fetchedAt.milliseconds - now.milliseconds
        if aheadMilliseconds > Int64(config.maxClockSkewSeconds) * 1000 {
            let message = "\(snapshot.source) entry \(entry.id) was fetched at \(snapshot.fetchedAt), \(aheadMilliseconds / 1000) s ahead of this clock"
            logger.warning(
                "stream entry from the future skipped",
                metadata: [
                    "stream": "\(stream)", "reason": "future_fetch", "source": "\(snapshot.source)", "entry": "\(entry.id)",
                    "fetched_at": "\(snapshot.fetchedAt)", "ahead_s": "\(aheadMilliseconds / 1000)", "max_clock_skew_s": "\(config.maxClockSkewSeconds)",
                ])
            try await status.recordClockSkew(of: snapshot.source, at: now, message: message)
            state.skewedSources.insert(snapshot.source)
            return nil
        }
        if state.skewedSources.remove(snapshot.source) != nil { try await status.clearClockSkew(of: snapshot.source) }
        return MergeRule.Side(entryID: entry.id, snapshot: snapshot)
    }

    /// Entries a dead consumer read but never acknowledged; the newest-entry state already
    /// covers their content, so they only need acknowledging.
    func claimAbandoned() async throws(RedisError) -> [(String, [String])] {
        var claimed: [(String, [String])] = []
        for stream in [config.pricesStream, config.ranksStream] {
            let result = try await reader.xautoclaim(
                stream, group: config.group, consumer: config.consumer, minIdleMilliseconds: MergerService.claimIdleMilliseconds)
            if !result.entries.isEmpty { claimed.append((stream, result.entries.map(\.id))) }
        }
        return claimed
    }

    func mergeIfPaired(_ state: inout State) async throws(RedisError) {
        guard let prices = state.prices, let ranks = state.ranks else { return }
        if let last = state.lastWritten, last == (prices.entryID, ranks.entryID) { return }
        guard state.hold.holds else { return }
        guard MergeRule.isPairable(prices.snapshot, ranks.snapshot, windowSeconds: config.windowSeconds) else {
            let message = "newest snapshots are too far apart to merge"
            logger.info(
                "\(message)",
                metadata: [
                    "prices_fetched_at": "\(prices.snapshot.fetchedAt)", "ranks_fetched_at": "\(ranks.snapshot.fetchedAt)",
                    "window_s": "\(config.windowSeconds)",
                ])
            try await status.recordFailure(
                at: .now, reason: "not_paired",
                message: "\(message): prices \(prices.snapshot.fetchedAt), ranks \(ranks.snapshot.fetchedAt), window \(config.windowSeconds) s")
            return
        }
        let started = ContinuousClock.now
        let merged = MergeRule.merge(prices: prices, ranks: ranks)
        guard !merged.rows.isEmpty else {
            // An empty top list is no snapshot: the latest one stays in service.
            let leftOut = merged.leftOut.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            logger.warning(
                "merge yielded no rows, nothing written",
                metadata: ["reason": "empty_merge", "prices_entry": "\(prices.entryID)", "ranks_entry": "\(ranks.entryID)", "left_out": "\(leftOut)"])
            try await status.recordFailure(at: .now, reason: "empty_merge", message: "the pair \(prices.entryID) / \(ranks.entryID) merged to no rows (\(leftOut))")
            state.lastWritten = (prices.entryID, ranks.entryID)
            return
        }
        // A latest snapshot further ahead than the skew allows (written before skew was
        // checked) does not block newer merges.
        let latestLimit = Timestamp.now.adding(milliseconds: Int64(config.maxClockSkewSeconds) * 1000)
        var catalogue = state.catalogue
        for asset in MergeRule.listing(prices.snapshot) { catalogue.record(asset, at: merged.timestamp) }
        var outcome = try await history.write(
            merged, registry: &state.registry, catalogue: catalogue, announceOn: config.mergedStream, lease: lease, latestLimit: latestLimit)
        if outcome == .registryChanged {
            state.registry = AssetRegistry()
            try await history.refresh(&state.registry)
            outcome = try await history.write(
                merged, registry: &state.registry, catalogue: catalogue, announceOn: config.mergedStream, lease: lease, latestLimit: latestLimit)
        }
        if outcome == .notLeaseHolder {
            state.hold.lost()
            return
        }
        if outcome == .written { state.catalogue = catalogue }
        state.lastWritten = (prices.entryID, ranks.entryID)
        var figures = ["rows": merged.rows.count]
        for (reason, count) in merged.leftOut { figures["left_out.\(reason)"] = count }
        var metadata: Logger.Metadata = [
            "snapshot": "\(merged.timestamp)", "outcome": "\(outcome)", "prices_entry": "\(prices.entryID)", "ranks_entry": "\(ranks.entryID)",
            "duration_ms": "\(started.duration(to: .now).milliseconds)",
        ]
        for (name, value) in figures { metadata[name] = "\(value)" }
        logger.info("merged snapshot", metadata: metadata)
        if outcome == .written {
            try await status.recordSuccess(at: .now, duration: started.duration(to: .now), figures: figures)
            // From the wall clock: a snapshot's own time comes from a fetcher's clock.
            _ = try await history.applyRetention(config.retention, now: .now, hold: &state.hold, logger: logger)
        }
    }

    func acknowledge(_ delivered: [(String, [String])]) async throws(RedisError) {
        for (stream, ids) in delivered where !ids.isEmpty {
            try await writer.xack(stream, group: config.group, ids: ids)
        }
    }
}

/// Redis stream ids (`<ms>-<seq>`) compared as the pairs of numbers they are.
enum StreamID {
    static func parts(_ id: String) -> (UInt64, UInt64) {
        let pieces = id.split(separator: "-", maxSplits: 1)
        return (UInt64(pieces.first ?? "") ?? 0, pieces.count > 1 ? UInt64(pieces[1]) ?? 0 : 0)
    }

    static func isNewer(_ id: String, than other: String) -> Bool {
        parts(id) > parts(other)
    }
}
