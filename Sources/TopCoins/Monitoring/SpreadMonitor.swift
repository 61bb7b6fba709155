import Logging
import ServiceLifecycle

/// The spread monitor process: reads `topcoins:books` through a consumer group, turns each
/// record into an observation, runs the book's `EpisodeTracker`, and writes everything the
/// observation changes in one `SpreadWriter.write`, acknowledging the entry only after.
///
/// Restart safety: the writer only writes when the book's stored state is the one this
/// monitor started from, and the state names the last entry written, so an entry given
/// again after a kill (pending, or claimed from a dead consumer) is recognised and only
/// acknowledged. Skips are counted in the same script that acknowledges their entry, so
/// they too are counted once.
public final class SpreadMonitor: Service, Sendable {
    let config: SpreadMonitorConfig
    let reader: RedisClient
    let writer: RedisClient
    let spreads: SpreadWriter
    let store: SpreadStore
    let status: PipelineStatus
    let logger: Logger

    /// How long an entry may sit unacknowledged with another consumer before it is claimed.
    static let claimIdleMilliseconds = 30_000
    /// How far `fetched_at` may be from Redis' own time of the entry (its id).
    static let plausibleMilliseconds: Int64 = 5 * 60_000
    /// How often retention is applied.
    static let pruneInterval = Duration.seconds(3600)

    public init(config: SpreadMonitorConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        // Blocking reads get their own connection so writes never wait behind them.
        reader = RedisClient(endpoint: config.settings.redis)
        writer = RedisClient(endpoint: config.settings.redis)
        spreads = SpreadWriter(redis: writer, alertStream: config.alertStream, alertStreamLength: config.alertStreamLength, retentionDays: config.retentionDays)
        store = SpreadStore(redis: writer)
        status = PipelineStatus(redis: writer, component: "spread-monitor")
    }

    public func shutdown() async {
        await reader.shutdown()
        await writer.shutdown()
    }

    /// What the monitor holds between reads: each book's state as last stored.
    struct State {
        var books: [String: MonitorState] = [:]
        /// Stored state text that does not decode, by book: the next write replaces it (it
        /// must be the write's `before`, or the book could never move on).
        var undecodable: [String: String] = [:]
        var lastPrune: ContinuousClock.Instant?
    }

    public func run() async throws {
        logger.info(
            "spread monitor started",
            metadata: [
                "redis": "\(config.settings.redis)", "stream": "\(config.stream)", "group": "\(config.group)", "consumer": "\(config.consumer)",
                "books": "\(config.books.keys.sorted().joined(separator: ","))",
            ])
        await cancelWhenGracefulShutdown {
            var backoff = StartOverBackoff()
            while !Task.isCancelled {
                do throws(RedisError) {
                    var state = State()
                    try await self.start(&state)
                    backoff.reset()
                    try await self.follow(&state)
                } catch {
                    if Task.isCancelled { break }
                    // Nothing is acknowledged before its write: starting over loses nothing.
                    let message = error.isOutOfMemory ? "Redis is out of memory, starting over" : "spread monitor lost Redis, starting over"
                    self.logger.error("\(message)", metadata: ["reason": "\(error.reason)", "error": "\(error)", "retry_in_s": "\(String(format3: backoff.seconds))"])
                    await backoff.wait()
                }
            }
        }
        logger.info("spread monitor stopped")
    }

    /// Creates the group, publishes the rules, loads each book's stored state, then handles
    /// whatever this consumer left pending.
    func start(_ state: inout State) async throws(RedisError) {
        try await reader.xgroupCreate(config.stream, group: config.group, startingAt: "0")
        if let webhook = config.webhook {
            // Before any alert is written, so the webhook's group sees every one.
            try await reader.xgroupCreate(config.alertStream, group: webhook.group, startingAt: "0")
        }
        try await spreads.publish(rules: config.books.keys.sorted().compactMap { config.books[$0] })
        try await loadStates(&state)
        var after = "0"
        while !Task.isCancelled {
            let pending = try await reader.xreadgroup(
                group: config.group, consumer: config.consumer, count: 100, blockMilliseconds: nil, streams: [(config.stream, after)])
            let entries = pending.first?.entries ?? []
            guard let last = entries.last else { break }
            try await handle(entries, &state)
            after = last.id
        }
        try await pruneIfDue(&state)
    }

    /// Waits for new entries and handles them as they come.
    func follow(_ state: inout State) async throws(RedisError) {
        var lastClaim = ContinuousClock.now
        while !Task.isCancelled {
            let streams: [(key: String, entries: [StreamEntry])]
            do {
                streams = try await reader.xreadgroup(
                    group: config.group, consumer: config.consumer, count: 100, blockMilliseconds: 1000, streams: [(config.stream, ">")])
            } catch let error where error.serverCode == "NOGROUP" || error.serverCode == "UNBLOCKED" {
                // Redis came back empty, or the stream was deleted under a blocked read: the
                // group is gone. Start over, which recreates it and reloads the states.
                logger.warning("consumer group missing, recreating it", metadata: ["error": "\(error)"])
                throw error
            }
            try await handle(streams.first?.entries ?? [], &state)
            if lastClaim.duration(to: .now) > .seconds(10) {
                let claimed = try await reader.xautoclaim(
                    config.stream, group: config.group, consumer: config.consumer, minIdleMilliseconds: SpreadMonitor.claimIdleMilliseconds)
                try await handle(claimed.entries, &state)
                lastClaim = .now
            }
            try await pruneIfDue(&state)
        }
    }

    func loadStates(_ state: inout State) async throws(RedisError) {
        state.books = [:]
        state.undecodable = [:]
        for (book, text) in try await spreads.states() {
            do throws(SpreadStoreError) {
                state.books[book] = try MonitorState(text: text)
            } catch {
                state.undecodable[book] = text
                // Treated as a book never observed: its next observation starts it afresh.
                logger.error("stored monitor state does not decode, starting the book afresh", metadata: ["book": "\(book)", "reason": "corrupt_state", "error": "\(error)"])
                try await status.recordFailure(at: .now, reason: "corrupt_state", message: "\(book): \(error)")
            }
        }
    }

    func pruneIfDue(_ state: inout State) async throws(RedisError) {
        if let last = state.lastPrune, last.duration(to: .now) < SpreadMonitor.pruneInterval { return }
        try await spreads.prune(books: config.books.keys.sorted(), now: .now)
        state.lastPrune = .now
    }

    /// Handles a batch, entry by entry, and records it in the pipeline status.
    func handle(_ entries: [StreamEntry], _ state: inout State) async throws(RedisError) {
        guard !entries.isEmpty else { return }
        let started = ContinuousClock.now
        var batch = BatchFigures()
        for entry in entries {
            var skips = SkipCounts()
            try await handle(entry, &state, &batch, &skips)
            try await acknowledge(entry.id, counting: skips)
            for (reason, count) in skips.reasons { batch.skipped[reason, default: 0] += count }
        }
        var figures = ["records_kept": batch.written]
        for (reason, count) in batch.skipped { figures["skipped.\(reason)"] = count }
        try await status.recordSuccess(at: .now, duration: started.duration(to: .now), figures: figures)
        for (reason, message) in batch.failures {
            try await status.recordFailure(at: .now, reason: reason, message: message)
        }
    }

    /// What a batch did, for the pipeline status.
    struct BatchFigures {
        var written = 0
        var skipped: [String: Int] = [:]
        /// The last message of each skip reason in the batch.
        var failures: [String: String] = [:]
    }

    /// One entry's skips: counter fields (`<book>:<reason>`, or `<reason>` when no monitored
    /// book is known) and the reasons alone, for the status figures.
    struct SkipCounts {
        var counters: [String: Int] = [:]
        var reasons: [String: Int] = [:]

        mutating func add(_ reason: String, book: String?) {
            counters[book.map { "\($0):\(reason)" } ?? reason, default: 0] += 1
            reasons[reason, default: 0] += 1
        }
    }

    func skip(_ reason: String, book: String?, entry: StreamEntry, detail: String, _ batch: inout BatchFigures, _ skips: inout SkipCounts) {
        skips.add(reason, book: book)
        let message = "entry \(entry.id)\(book.map { " book \($0)" } ?? ""): \(detail)"
        batch.failures[reason] = message
        logger.warning("stream record skipped", metadata: ["stream": "\(config.stream)", "reason": "\(reason)", "entry": "\(entry.id)", "error": "\(detail)"])
    }

    func handle(_ entry: StreamEntry, _ state: inout State, _ batch: inout BatchFigures, _ skips: inout SkipCounts) async throws(RedisError) {
        let snapshot: FetchedSnapshot
        do throws(FetchedSnapshot.InvalidMessage) {
            snapshot = try FetchedSnapshot(entry: entry)
        } catch {
            return skip("invalid_entry", book: nil, entry: entry, detail: error.reason, &batch, &skips)
        }
        let redisTime = StreamID.milliseconds(entry.id)
        guard abs(snapshot.fetchedAt.milliseconds - redisTime) <= SpreadMonitor.plausibleMilliseconds else {
            let detail = "fetched_at \(snapshot.fetchedAt) is more than 5 minutes from the entry's own time \(Timestamp(milliseconds: redisTime))"
            return skip("implausible_time", book: nil, entry: entry, detail: detail, &batch, &skips)
        }
        var seen: Set<String> = []
        for record in snapshot.records {
            let quote: BookQuote
            do throws(BookQuote.Invalid) {
                quote = try BookQuote(record: record)
            } catch {
                var book: String?
                if case .string(let name)? = record["book"], config.books[name] != nil { book = name }
                skip(error.reason, book: book, entry: entry, detail: error.detail, &batch, &skips)
                continue
            }
            guard let rules = config.books[quote.book] else {
                skip("unlisted_book", book: nil, entry: entry, detail: "book \(quote.book) is not in the config's books", &batch, &skips)
                continue
            }
            guard seen.insert(quote.book).inserted else {
                skip("duplicate_book", book: quote.book, entry: entry, detail: "the entry holds the book twice", &batch, &skips)
                continue
            }
            if let last = state.books[quote.book], !StreamID.isNewer(entry.id, than: last.lastEntryID) {
                continue  // Written before a restart: only the acknowledgement is missing.
            }
            let observation = SpreadObservation(quote: quote, observedAt: snapshot.fetchedAt, rules: rules)
            guard let step = EpisodeTracker.observe(observation, entryID: entry.id, state: state.books[quote.book], rules: rules) else {
                let detail = "observed at \(observation.observedAt), not after the book's last observation \(state.books[quote.book].map { "\($0.lastObservedAt)" } ?? "")"
                skip("out_of_order", book: quote.book, entry: entry, detail: detail, &batch, &skips)
                continue
            }
            try await write(step, observation: observation, before: state.books[quote.book], rules: rules, &state, &batch)
        }
    }

    func write(_ step: EpisodeTracker.Step, observation: SpreadObservation, before: MonitorState?, rules: BookRules, _ state: inout State, _ batch: inout BatchFigures)
        async throws(RedisError)
    {
        let started = ContinuousClock.now
        var change = SpreadWriter.Change(observation: observation, before: before?.text ?? state.undecodable[observation.book], after: step.state.text)
        change.counters = MonitorCounters.of(observation, step: step)
        change.episodes = step.changed.map { [$0] } ?? []
        change.alerts = step.transitions.map { AlertMessage.fields(of: $0, observation: observation) }
        if let before { change.summaries = try await closedSummaries(before: before, arriving: observation, rules: rules) }
        let outcome = try await spreads.write(change)
        switch outcome {
        case .written:
            state.books[observation.book] = step.state
            state.undecodable[observation.book] = nil
            batch.written += 1
        case .stateMoved:
            // Already written (or another monitor moved the book on): take the stored state.
            logger.info("book state moved under this monitor, reloading it", metadata: ["book": "\(observation.book)"])
            try await loadStates(&state)
        }
        var metadata: Logger.Metadata = [
            "book": "\(observation.book)", "observed_at": "\(observation.observedAt)", "spread_pct": "\(observation.spreadPct?.text ?? "")",
            "flags": "\(observation.flags.names.joined(separator: ";"))", "breach": "\(observation.breach)", "outcome": "\(outcome)",
            "duration_ms": "\(started.duration(to: .now).milliseconds)",
        ]
        if let transition = step.transitions.first { metadata["transition"] = "\(transition.episode.state.rawValue)" }
        logger.debug("observed", metadata: metadata)
        for transition in step.transitions where outcome == .written {
            let episode = transition.episode
            logger.info(
                "alert \(episode.state.rawValue)",
                metadata: ["book": "\(episode.book)", "id": "\(episode.id)", "spread_pct": "\(observation.spreadPct?.text ?? "")", "peak_spread_pct": "\(episode.peakSpreadPct)"])
        }
    }

    /// The summaries of the hour (and day) that `observation` closes by arriving after the
    /// book's last observation in a later bucket: from the stored observations of that
    /// bucket, this one as the next (ending the last breach's time), and the episodes that
    /// started in it.
    func closedSummaries(before: MonitorState, arriving observation: SpreadObservation, rules: BookRules) async throws(RedisError)
        -> [(SpreadSummary.Width, SpreadSummary)]
    {
        var summaries: [(SpreadSummary.Width, SpreadSummary)] = []
        for width in SpreadSummary.Width.allCases {
            let closed = width.start(of: before.lastObservedAt)
            guard width.start(of: observation.observedAt) > closed else { continue }
            let end = closed.adding(milliseconds: width.milliseconds - 1)
            let stored = try await store.observations(of: observation.book, from: closed, to: end, limit: Int.max).values
            let starts = try await store.episodes(book: observation.book, from: closed, to: end).values.map(\.startedAt)
            let buckets = SpreadSummary.buckets(of: stored + [observation], width: width, maxGapSeconds: rules.maxGapSeconds, episodeStarts: starts)
            if let summary = buckets.first(where: { $0.start == closed }) { summaries.append((width, summary)) }
        }
        return summaries
    }

    /// Acknowledges the entry and adds its skips to the counters in one script, only when
    /// the entry was still pending: an entry acknowledged before is never counted twice.
    func acknowledge(_ id: String, counting skips: SkipCounts) async throws(RedisError) {
        var arguments = [RedisArgument(config.group), RedisArgument(id)]
        for (field, count) in skips.counters.sorted(by: { $0.key < $1.key }) { arguments += [RedisArgument(field), RedisArgument(count)] }
        _ = try await writer.eval(SpreadMonitor.acknowledgeScript, keys: [config.stream, store.keys.counters], arguments: arguments)
    }

    static let acknowledgeScript = """
        if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
          for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
        end
        return 1
        """
}
