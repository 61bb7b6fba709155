import Logging
import ServiceLifecycle

/// A fetcher process's main loop: a cycle at start, then one on every interval boundary
/// (aligned to multiples of the interval since the epoch when `schedule.align` is set): a
/// listing fetcher's fetch and publish, or a history fetcher's pass over its assets.
/// Graceful shutdown cancels the loop, which aborts an in-flight transfer or wait.
public struct FetcherService: Service {
    let source: String
    let schedule: FetcherConfig.Schedule
    /// What the start line says besides the source and interval.
    let startMetadata: Logger.Metadata
    /// One cycle, which may go on until the given next tick.
    let cycle: @Sendable (Timestamp) async -> Void
    let logger: Logger

    public init(fetcher: Fetcher, logger: Logger) {
        self.init(
            source: fetcher.config.source, schedule: fetcher.config.schedule,
            startMetadata: ["url": "\(fetcher.config.request.urlForLogs)", "stream": "\(fetcher.config.stream.key)"], logger: logger
        ) { deadline in
            _ = await fetcher.runCycle(publishDeadline: .now.advanced(by: .milliseconds(max(0, deadline.milliseconds - Timestamp.now.milliseconds))))
        }
    }

    public init(historyFetcher: HistoryFetcher, logger: Logger) {
        self.init(
            source: historyFetcher.config.source, schedule: historyFetcher.config.schedule,
            startMetadata: ["url": "\(historyFetcher.config.request.urlForLogs)", "component": "\(historyFetcher.config.component)"], logger: logger
        ) { _ in
            _ = await historyFetcher.runPass()
        }
    }

    init(source: String, schedule: FetcherConfig.Schedule, startMetadata: Logger.Metadata, logger: Logger, cycle: @escaping @Sendable (Timestamp) async -> Void) {
        self.source = source
        self.schedule = schedule
        self.startMetadata = startMetadata
        self.cycle = cycle
        self.logger = logger
    }

    public func run() async throws {
        let interval = Int64(schedule.intervalSeconds) * 1000
        logger.info(
            "fetcher started", metadata: startMetadata.merging(["source": "\(source)", "interval_s": "\(schedule.intervalSeconds)"]) { $1 })
        await cancelWhenGracefulShutdown {
            // The first cycle runs at once; the first tick is at least half an interval later
            // so a start just before a boundary does not fetch twice in a row.
            var tick = FetcherService.nextStart(after: Timestamp.now.adding(milliseconds: interval / 2), intervalMilliseconds: interval, align: schedule.align)
            await cycle(until: tick)
            while !Task.isCancelled {
                let now = Timestamp.now
                tick = FetcherService.upcomingTick(tick, now: now, intervalMilliseconds: interval, align: schedule.align)
                do { try await Task.sleep(for: .milliseconds(tick.milliseconds - now.milliseconds)) } catch { break }
                // Woken well after the tick: the process was stopped while it waited. That
                // tick is missed too; upstream credits are not spent catching up.
                if Timestamp.now.milliseconds - tick.milliseconds > interval / 2 { continue }
                let following = FetcherService.nextStart(after: tick, intervalMilliseconds: interval, align: schedule.align)
                await cycle(until: following)
                tick = following
            }
        }
        logger.info("fetcher stopped", metadata: ["source": "\(source)"])
    }

    /// One cycle, which may go on until `deadline` (the next tick).
    func cycle(until deadline: Timestamp) async {
        await cycle(deadline)
        // A cycle parses megabytes of JSON: its peak goes back between cycles.
        FreedMemory.release()
    }

    /// The tick to wait for: `tick` while it is ahead, else the first one after `now`, so
    /// ticks missed while a cycle overran or the process was stopped are skipped, never replayed.
    public static func upcomingTick(_ tick: Timestamp, now: Timestamp, intervalMilliseconds: Int64, align: Bool) -> Timestamp {
        tick > now ? tick : nextStart(after: now, intervalMilliseconds: intervalMilliseconds, align: align)
    }

    /// When the cycle after one that started at `start` begins.
    public static func nextStart(after start: Timestamp, intervalMilliseconds: Int64, align: Bool) -> Timestamp {
        guard align else { return start.adding(milliseconds: intervalMilliseconds) }
        let (periods, _) = start.milliseconds.floorDividedWithRemainder(by: intervalMilliseconds)
        return Timestamp(milliseconds: (periods + 1) * intervalMilliseconds)
    }
}
