import Logging

/// Backfills daily candles from an upstream's history, as its `HistoryFetcherConfig` says: per
/// asset, windows of days asked newest first, each page's valid candles stored with the
/// asset's progress in one atomic write. A pass asks only for days outside the stored
/// progress: after the first, that is the days since the last pass ("update rather than ingest
/// everything again"); after a kill, the page that was in flight and what lay beyond it.
public struct HistoryFetcher: Sendable {
    public let config: HistoryFetcherConfig
    let requester: UpstreamRequester
    let history: History
    let mapper: RecordMapper
    let time: FieldSpec
    let status: PipelineStatus
    let logger: Logger

    public init(config: HistoryFetcherConfig, http: HTTPClient, redis: RedisClient, logger: Logger) {
        self.config = config
        self.requester = UpstreamRequester(
            http: http, source: config.source, retry: config.retry, records: config.records, responseFilter: config.responseFilter,
            budget: config.budget.isEmpty ? nil : RequestBudget(limits: config.budget), noData: config.noData, logger: logger)
        self.history = History(redis: redis)
        self.mapper = RecordMapper(fields: config.fields)
        self.time = config.timeField
        self.status = PipelineStatus(redis: redis, component: config.component)
        self.logger = logger
    }

    /// What a pass did, summed over its assets.
    public struct PassSummary: Sendable, Equatable {
        public var assets = 0
        /// Assets whose every page was stored (or that needed none).
        public var stored = 0
        /// Assets the upstream has no data for (the config's `no_data` answer).
        public var noData = 0
        /// Assets whose requests still failed after their retries, or whose write failed.
        public var failed = 0
        public var requests = 0
        /// Valid candles received, and of them the days whose stored value changed.
        public var candles = 0
        public var daysChanged = 0
        /// Records skipped by `<problem>:<field>` (`not_positive:close` for padding).
        public var skipped: [String: Int] = [:]
        /// Why the pass could not do all it should (the first failure), when it could not.
        public var failure: Failure?
        public var cancelled = false

        /// A `--once` pass succeeds when every asset was stored or has no data upstream.
        public var succeeded: Bool { failed == 0 && failure == nil && !cancelled }

        public struct Failure: Sendable, Equatable {
            public let reason: String
            public let message: String
        }

        /// Keeps the first failure: the one that explains the rest.
        mutating func fail(_ reason: String, _ message: String) {
            if failure == nil { failure = Failure(reason: reason, message: message) }
        }
    }

    /// One pass over every configured asset on `today` (UTC), recorded in the pipeline status.
    public func runPass(today: UTCDay = .today) async -> PassSummary {
        let started = ContinuousClock.now
        var summary = PassSummary()
        guard let days = config.range.days(today: today) else {
            logger.info("backfill range is empty", metadata: ["source": "\(config.source)"])
            return summary
        }
        let assets = await resolveAssets(&summary)
        let stored: [Int64: String]
        do {
            stored = try await history.backfillProgress(config.source)
        } catch {
            summary.fail(error.reason, "could not read backfill progress: \(error)")
            await recordStatus(summary, started: started)
            return summary
        }
        summary.assets = assets.count
        for asset in assets {
            if Task.isCancelled {
                summary.cancelled = true
                break
            }
            var progress = stored[asset.cmcId].flatMap { BackfillProgress(encoded: $0) }
            if let text = stored[asset.cmcId], progress == nil {
                logger.warning("stored backfill progress is corrupt, starting the asset over", metadata: ["cmc_id": "\(asset.cmcId)", "value": "\(text.prefix(80))"])
                summary.skipped["corrupt_progress", default: 0] += 1
            }
            // Progress that ends before the range (last_days after a long pause) starts over.
            if let known = progress, known.newest < days.lowerBound.adding(days: -1) { progress = nil }
            await backfill(asset, days: days, progress: progress, into: &summary)
        }
        var metadata: Logger.Metadata = [
            "source": "\(config.source)", "assets": "\(summary.assets)", "stored": "\(summary.stored)", "no_data": "\(summary.noData)",
            "failed": "\(summary.failed)", "requests": "\(summary.requests)", "candles": "\(summary.candles)", "days_changed": "\(summary.daysChanged)",
            "from": "\(days.lowerBound)", "to": "\(days.upperBound)", "duration_ms": "\(started.duration(to: .now).milliseconds)",
        ]
        for (reason, count) in summary.skipped { metadata["skipped.\(reason)"] = "\(count)" }
        logger.info("backfill pass finished", metadata: metadata)
        if !summary.cancelled { await recordStatus(summary, started: started) }
        return summary
    }

    /// The list, then the top N of the newest snapshot not already listed.
    func resolveAssets(_ summary: inout PassSummary) async -> [HistoryFetcherConfig.Asset] {
        var assets = config.list
        guard let top = config.top else { return assets }
        do {
            var registry = AssetRegistry()
            guard let timestamp = try await history.latestTimestamp(), let body = try await history.body(at: timestamp) else {
                logger.warning("no merged snapshot yet: the top assets wait for the next pass", metadata: ["source": "\(config.source)", "top": "\(top)"])
                summary.skipped["no_snapshot", default: 0] += 1
                return assets
            }
            try await history.refresh(&registry)
            let rows = try SnapshotCodec.decode(body, registry: registry, rowLimit: top).snapshot.rows
            let listed = Set(assets.map(\.cmcId))
            for row in rows where !listed.contains(row.cmcId) {
                assets.append(.init(cmcId: row.cmcId, values: ["symbol": row.symbol, "name": row.name]))
            }
        } catch {
            logger.error("could not read the newest snapshot: the top assets wait for the next pass", metadata: ["source": "\(config.source)", "error": "\(error)"])
            summary.fail("snapshot_unreadable", "could not read the newest snapshot: \(error)")
        }
        return assets
    }

    /// One asset: first the days after the stored ones (an update), then older days back to
    /// the range's start or the upstream's first day. A window holds two days at least, since
    /// CryptoCompare's `limit` starts at 1; only the range's days are stored.
    func backfill(_ asset: HistoryFetcherConfig.Asset, days: ClosedRange<UTCDay>, progress start: BackfillProgress?, into summary: inout PassSummary) async {
        var progress = start
        let span = Int64(config.windowDays)
        while true {
            let window: ClosedRange<UTCDay>
            let backward: Bool
            if let known = progress, known.newest < days.upperBound {
                // The newest stored day again, so a window holds two days at least.
                window = known.newest...min(days.upperBound, known.newest.adding(days: span - 1))
                backward = false
            } else if let known = progress, known.exhausted || known.oldest <= days.lowerBound {
                summary.stored += 1
                return
            } else {
                let last = progress.map { $0.oldest.adding(days: -1) } ?? days.upperBound
                // A last window of one day reaches a day further back: two days at least.
                window = min(last.adding(days: -1), max(days.lowerBound, last.adding(days: 1 - span)))...last
                backward = true
            }
            summary.requests += 1
            let page: Page
            switch await fetch(asset, window: window) {
            case .records(let records): page = self.page(records, window: window)
            case .noData(let message):
                logger.warning("the upstream has no data for this asset: skipped", metadata: assetMetadata(asset, window).merging(["message": "\(message)"]) { $1 })
                summary.noData += 1
                return
            case .failed(let failure):
                logger.error("backfill request failed after its retries: asset left for the next pass", metadata: assetMetadata(asset, window).merging(["reason": "\(failure.reason)", "error": "\(failure)"]) { $1 })
                summary.failed += 1
                summary.fail(failure.reason, "cmc_id \(asset.cmcId): \(failure)")
                return
            case .cancelled:
                summary.cancelled = true
                return
            }
            for (reason, count) in page.skipped { summary.skipped[reason, default: 0] += count }
            let inRange = page.candles.filter { days.contains(UTCDay(containing: $0.day)) }
            summary.candles += inRange.count
            var next = progress ?? BackfillProgress(oldest: window.upperBound.adding(days: 1), newest: window.upperBound, exhausted: false)
            if backward {
                // The next window ends the day before the page's earliest record; a page with
                // fewer valid candles than days asked reached the upstream's first day.
                next.oldest = min(next.oldest, page.earliest.map { max($0, window.lowerBound) } ?? window.lowerBound)
                next.exhausted = page.candles.count < Int(window.lowerBound.days(through: window.upperBound))
            } else {
                next.newest = window.upperBound
            }
            do {
                summary.daysChanged += try await history.storeCandles(inRange, of: asset.cmcId, progress: (config.source, next.encoded))
            } catch {
                logger.error("could not store candles: asset left for the next pass", metadata: assetMetadata(asset, window).merging(["error": "\(error)"]) { $1 })
                summary.failed += 1
                summary.fail(error.reason, "cmc_id \(asset.cmcId): could not store candles: \(error)")
                return
            }
            progress = next
        }
    }

    /// One window's request, its placeholders filled from the asset and the window.
    func fetch(_ asset: HistoryFetcherConfig.Asset, window: ClosedRange<UTCDay>) async -> UpstreamRequester.Outcome {
        let days = window.lowerBound.days(through: window.upperBound)
        var values = [
            "window.from": String(window.lowerBound.start.milliseconds / 1000), "window.to": String(window.upperBound.start.milliseconds / 1000),
            "window.days": String(days), "window.span_days": String(days - 1),
        ]
        for (name, value) in asset.values { values["asset.\(name)"] = value }
        return await requester.records(for: config.request.http(values), metadata: assetMetadata(asset, window))
    }

    /// A page's valid candles inside its window (one per day, the last record of a day
    /// winning), what was skipped, and the earliest day any record names.
    struct Page {
        var candles: [DailyCandle] = []
        var skipped: [String: Int] = [:]
        var earliest: UTCDay?
    }

    func page(_ records: [JSONValue], window: ClosedRange<UTCDay>) -> Page {
        var result = Page()
        for record in records {
            if case .success(.string(let text)) = time.extract(from: record), let day = UTCDay(iso8601: text) {
                result.earliest = min(result.earliest ?? day, day)
            }
        }
        let mapped = mapper.map(records)
        result.skipped = mapped.skipped
        var byDay: [UTCDay: DailyCandle] = [:]
        for record in mapped.records {
            guard let candle = DailyCandle(mapped: record, source: config.source) else {
                result.skipped["invalid:candle", default: 0] += 1
                continue
            }
            let day = UTCDay(containing: candle.day)
            guard window.contains(day) else {
                result.skipped["outside_window", default: 0] += 1
                continue
            }
            byDay[day] = candle
        }
        result.candles = byDay.values.sorted { $0.day < $1.day }
        return result
    }

    func assetMetadata(_ asset: HistoryFetcherConfig.Asset, _ window: ClosedRange<UTCDay>) -> Logger.Metadata {
        ["source": "\(config.source)", "cmc_id": "\(asset.cmcId)", "from": "\(window.lowerBound)", "to": "\(window.upperBound)"]
    }

    /// Status is for the operator; failing to write it never fails the pass.
    func recordStatus(_ summary: PassSummary, started: ContinuousClock.Instant) async {
        var figures = ["records_kept": summary.candles, "skipped.no_data": summary.noData]
        for (reason, count) in summary.skipped { figures["skipped.\(reason)"] = count }
        do {
            if let failure = summary.failure {
                try await status.recordFailure(at: .now, reason: failure.reason, message: failure.message)
            } else {
                try await status.recordSuccess(at: .now, duration: started.duration(to: .now), figures: figures)
            }
        } catch {
            logger.warning("could not record status", metadata: ["source": "\(config.source)", "error": "\(error)"])
        }
    }
}

extension DailyCandle {
    /// A candle from a record mapped through a history config's fields (`time` as ISO-8601,
    /// prices and volume as decimals); nil when a value does not read back.
    init?(mapped record: JSONObject, source: String) {
        func decimal(_ name: String) -> DecimalNumber? {
            if case .number(let text)? = record[name] { DecimalNumber(text) } else { nil }
        }
        guard case .string(let timeText)? = record["time"], let time = Timestamp(iso8601: timeText), let open = decimal("open"), let high = decimal("high"),
            let low = decimal("low"), let close = decimal("close")
        else { return nil }
        self.init(dayOf: time, open: open, high: high, low: low, close: close, volume: decimal("volume"), source: source)
    }
}
