import Logging
import ServiceLifecycle

/// glibc's `malloc_trim` (declared in malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func mallocTrim(_ pad: Int) -> Int32

/// The fetcher process's main loop: a cycle at start, then one on every interval boundary
/// (aligned to multiples of the interval since the epoch when `schedule.align` is set).
/// Graceful shutdown cancels the loop, which aborts an in-flight transfer or wait.
public struct FetcherService: Service {
    let fetcher: Fetcher
    let logger: Logger

    public init(fetcher: Fetcher, logger: Logger) {
        self.fetcher = fetcher
        self.logger = logger
    }

    public func run() async throws {
        let schedule = fetcher.config.schedule
        let interval = Int64(schedule.intervalSeconds) * 1000
        logger.info(
            "fetcher started",
            metadata: ["source": "\(fetcher.config.source)", "url": "\(fetcher.config.request.urlForLogs)", "interval_s": "\(schedule.intervalSeconds)", "stream": "\(fetcher.config.stream.key)"])
        await cancelWhenGracefulShutdown {
            // The first cycle runs at once; the next boundary is at least half an interval later
            // so a start just before a boundary does not fetch twice in a row.
            var previousStart = Timestamp.now.adding(milliseconds: interval / 2)
            while !Task.isCancelled {
                let next = FetcherService.nextStart(after: previousStart, intervalMilliseconds: interval, align: schedule.align)
                _ = await fetcher.runCycle(publishDeadline: .now.advanced(by: .milliseconds(max(0, next.milliseconds - Timestamp.now.milliseconds))))
                #if os(Linux)
                // A cycle parses megabytes of JSON; hand the freed memory back between cycles
                // instead of keeping the peak resident until the next one.
                _ = mallocTrim(0)
                #endif
                let wait = next.milliseconds - Timestamp.now.milliseconds
                if wait > 0 {
                    do { try await Task.sleep(for: .milliseconds(wait)) } catch { break }
                }
                // A cycle that overran its interval is followed at once, not by a burst of missed ones.
                previousStart = wait > 0 ? next : .now
            }
        }
        logger.info("fetcher stopped", metadata: ["source": "\(fetcher.config.source)"])
    }

    /// When the cycle after one that started at `start` begins.
    public static func nextStart(after start: Timestamp, intervalMilliseconds: Int64, align: Bool) -> Timestamp {
        guard align else { return start.adding(milliseconds: intervalMilliseconds) }
        let (periods, _) = start.milliseconds.floorDividedWithRemainder(by: intervalMilliseconds)
        return Timestamp(milliseconds: (periods + 1) * intervalMilliseconds)
    }
}
