import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Start-up shared by the executables: logging, config loading with exit code 2 on a
/// mistake, and a service group that turns SIGTERM and SIGINT into a graceful shutdown.
public enum ProcessRunner {
    /// Sets up logging and signals, and returns the executable's logger. SIGPIPE is ignored: a
    /// peer that closes a socket (Redis restarting) must be an error to handle, not death.
    /// SIGTERM and SIGINT that arrive before the service group handles them are remembered
    /// here, so a stop request during start-up still ends in a graceful exit 0.
    static func bootstrap(executable: String) -> Logger {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGTERM, rememberTermination)
        signal(SIGINT, rememberTermination)
        LoggingSystem.bootstrap { label in KeyValueLogHandler(label: label) }
        return Logger(label: executable)
    }

    /// Loads the config at `path` or exits with code 2 naming the file and key.
    public static func loadConfig<T>(_ path: String, executable: String, _ read: (ConfigObject) throws(ConfigError) -> T) -> T {
        do {
            return try ConfigFile.load(path, environment: ConfigFile.processEnvironment, read)
        } catch {
            Exit.config(error, executable: executable)
        }
    }

    /// The start-up every executable shares: logging and signals, the config (exit 2 on a
    /// mistake), its secrets registered for redaction, and the log level it sets.
    public static func start<Config: ProcessConfig>(
        executable: String, configPath: String, _ read: (ConfigObject) throws(ConfigError) -> Config
    ) -> (Logger, Config) {
        var logger = bootstrap(executable: executable)
        let config = loadConfig(configPath, executable: executable, read)
        KeyValueLogHandler.secrets.withLock { $0 += config.secrets + [config.settings.redis.password].compactMap { $0 } }
        logger.logLevel = config.settings.logLevel
        return (logger, config)
    }

    /// Runs `services` until SIGTERM or SIGINT, then lets them finish; with `endingWhenDone`, also
    /// until one of them returns (a `--once` pass).
    public static func run(_ services: [any Service], logger: Logger, endingWhenDone: Bool = false) async {
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0, successTerminationBehavior: endingWhenDone ? .gracefullyShutdownGroup : .cancelGroup) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // Until the group's own signal handling is installed, an early signal only sets the flag.
        let watcher = Task {
            while !Task.isCancelled {
                if terminationRequested.load(ordering: .relaxed) {
                    await group.triggerGracefulShutdown()
                    return
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        do {
            try await group.run()
        } catch {
            logger.error("service group ended with an error", metadata: ["error": "\(error)"])
        }
        watcher.cancel()
    }
}

/// Set by the early SIGTERM/SIGINT handler; an atomic store is async-signal-safe.
let terminationRequested = Atomic<Bool>(false)

private func rememberTermination(_ signal: Int32) {
    terminationRequested.store(true, ordering: .relaxed)
}

/// The `price-fetcher`, `rank-fetcher` and `book-fetcher` programs: the same code, different configs.
public enum FetcherProgram {
    /// The merger's schema for the streams these fetchers feed.
    static let requiredFields = ["price-fetcher": MergeRule.priceFields, "rank-fetcher": MergeRule.rankFields]

    /// Runs the fetcher from the config at `configPath`: on its schedule until SIGTERM or
    /// SIGINT, or one cycle with `once` (exit 1 when any value that cycle asked failed).
    public static func main(executable: String, configPath: String, once: Bool) async -> Never {
        let (logger, config) = ProcessRunner.start(executable: executable, configPath: configPath) { (object) throws(ConfigError) in
            try FetcherConfig(reading: object, requiring: FetcherProgram.requiredFields[executable] ?? [])
        }
        let http = HTTPClient(threads: 1)
        let redis = RedisClient(endpoint: config.settings.redis)
        let fetcher = Fetcher(config: config, http: http, redis: redis, logger: logger)
        var exitCode: Int32 = 0
        if once {
            let summary = await fetcher.runCycle(publishDeadline: .now.advanced(by: .seconds(10)))
            if !summary.succeeded { exitCode = 1 }
        } else {
            await ProcessRunner.run([FetcherService(fetcher: fetcher, logger: logger)], logger: logger)
        }
        await redis.shutdown()
        try? await http.shutdown()
        exit(exitCode)
    }
}

/// The `merger` program.
public enum MergerProgram {
    /// Runs the merger from the config at `configPath` until SIGTERM or SIGINT.
    public static func main(configPath: String) async -> Never {
        let executable = "merger"
        let (logger, config) = ProcessRunner.start(executable: executable, configPath: configPath) { (object) throws(ConfigError) in
            try MergerConfig(reading: object)
        }
        let service = MergerService(config: config, logger: logger)
        await ProcessRunner.run([service], logger: logger)
        await service.shutdown()
        exit(0)
    }
}


/// The `history-fetcher` program: daily candles backfilled, then kept up to date.
public enum HistoryFetcherProgram {
    /// Runs passes on the config's schedule until SIGTERM or SIGINT, or one pass with `once`
    /// (exit 1 when an asset's request still failed after its retries). A signal ends either
    /// cleanly: the pass stops between requests, and what it stored stays stored.
    public static func main(configPath: String, once: Bool) async -> Never {
        let (logger, config) = ProcessRunner.start(executable: "history-fetcher", configPath: configPath) { (object) throws(ConfigError) in
            try HistoryFetcherConfig(reading: object)
        }
        let http = HTTPClient(threads: 1)
        let redis = RedisClient(endpoint: config.settings.redis)
        let fetcher = HistoryFetcher(config: config, http: http, redis: redis, logger: logger)
        let pass = OnePass(fetcher: fetcher)
        await ProcessRunner.run([once ? pass : FetcherService(historyFetcher: fetcher, logger: logger)], logger: logger, endingWhenDone: once)
        await redis.shutdown()
        try? await http.shutdown()
        exit(once && !pass.succeeded ? 1 : 0)
    }

    /// `--once`: one pass as the service group's only service, so a signal cancels it.
    struct OnePass: Service {
        let fetcher: HistoryFetcher
        private let outcome = Outcome()

        init(fetcher: HistoryFetcher) {
            self.fetcher = fetcher
        }

        final class Outcome: Sendable {
            let succeeded = Atomic<Bool>(false)
        }

        /// True once the pass stored every asset or found it has no data upstream; a pass
        /// stopped by a signal counts as done.
        var succeeded: Bool { outcome.succeeded.load(ordering: .relaxed) }

        func run() async throws {
            await cancelWhenGracefulShutdown {
                let summary = await fetcher.runPass()
                outcome.succeeded.store(summary.succeeded || summary.cancelled, ordering: .relaxed)
            }
        }
    }
}
