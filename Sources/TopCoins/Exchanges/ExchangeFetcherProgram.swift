import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The `exchange-fetcher` program: a run at start, then one on every aligned interval (a day);
/// a failed run is tried again after `retry_run_after_seconds` until the next one is due.
public enum ExchangeFetcherProgram {
    /// Runs until SIGTERM or SIGINT, or one run with `once` (exit 1 when it put nothing in service).
    public static func main(configPath: String, once: Bool) async -> Never {
        let (logger, config) = ProcessRunner.start(executable: "exchange-fetcher", configPath: configPath) { (object) throws(ConfigError) in
            try ExchangeFetcherConfig(reading: object)
        }
        let http = HTTPClient(threads: 1)
        let redis = RedisClient(endpoint: config.settings.redis)
        let fetcher = ExchangeFetcher(config: config, http: http, redis: redis, logger: logger)
        let interval = Int64(config.schedule.intervalSeconds) * 1000
        var exitCode: Int32 = 0
        if once {
            let next = FetcherService.nextStart(after: .now, intervalMilliseconds: interval, align: config.schedule.align)
            if case .failure = await fetcher.run(nextRunAt: next).result { exitCode = 1 }
        } else {
            let service = FetcherService(
                source: config.source, schedule: config.schedule, startMetadata: ["reference": "\(config.reference)"], logger: logger
            ) { deadline in
                while case .failure(let failure) = await fetcher.run(nextRunAt: deadline).result {
                    if case .cancelled = failure { return }
                    let retry = Timestamp.now.adding(milliseconds: Int64(config.retryRunAfterSeconds) * 1000)
                    guard retry < deadline else { return }
                    do { try await Task.sleep(for: .seconds(config.retryRunAfterSeconds)) } catch { return }
                }
            }
            await ProcessRunner.run([service], logger: logger)
        }
        await redis.shutdown()
        try? await http.shutdown()
        exit(exitCode)
    }
}
