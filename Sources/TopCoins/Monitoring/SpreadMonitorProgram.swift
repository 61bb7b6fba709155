import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The `spread-monitor` program and its `export` subcommand.
public enum SpreadMonitorProgram {
    static let executable = "spread-monitor"

    /// Runs the monitor (and the webhook's deliveries, when configured) from the config at
    /// `configPath` until SIGTERM or SIGINT.
    public static func main(configPath: String) async -> Never {
        let (logger, config) = ProcessRunner.start(executable: executable, configPath: configPath) { (object) throws(ConfigError) in
            try SpreadMonitorConfig(reading: object)
        }
        let monitor = SpreadMonitor(config: config, logger: logger)
        var services: [any Service] = [monitor]
        let webhook = config.webhook.map {
            AlertWebhook(config: $0, stream: config.alertStream, consumer: config.consumer, redisEndpoint: config.settings.redis, logger: logger)
        }
        if let webhook { services.append(webhook) }
        await ProcessRunner.run(services, logger: logger)
        await monitor.shutdown()
        await webhook?.shutdown()
        exit(0)
    }

    /// Writes the observations of `book` (every configured book when nil) from `from` (the
    /// retention's start when nil) to `until` (now when nil) under `directory`. Exit 0 when
    /// done, 2 for a mistake in the request or the config, 1 when Redis or the directory fails.
    public static func export(configPath: String, directory: String, from: Timestamp?, until: Timestamp?, book: String?) async -> Never {
        let config = ProcessRunner.loadConfig(configPath, executable: executable) { (object) throws(ConfigError) in
            try SpreadMonitorConfig(reading: object)
        }
        let books = config.books.keys.sorted()
        if let book, !books.contains(book) {
            Exit.usage("\(executable) export: unknown book \"\(book.prefix(40))\"; the config monitors \(books.joined(separator: ", "))")
        }
        let now = Timestamp.now
        let start = from ?? now.adding(milliseconds: -Int64(config.retentionDays + 1) * 86_400_000)
        let end = until ?? now
        guard start <= end else { Exit.usage("\(executable) export: --from \(start) is after --until \(end)") }
        let redis = RedisClient(endpoint: config.settings.redis)
        let export = SpreadExport(store: SpreadStore(redis: redis), directory: directory)
        do throws(SpreadExport.Failure) {
            let written = try await export.export(books: book.map { [$0] } ?? books, from: start, to: end)
            await redis.shutdown()
            StandardOutput.write(
                "exported \(written.observations) observations in \(written.partitions) partitions to \(directory)"
                    + (written.corrupt > 0 ? " (\(written.corrupt) stored observations did not decode and were left out)" : "") + "\n")
            exit(0)
        } catch {
            await redis.shutdown()
            StandardError.write("\(executable) export: \(error)\n")
            exit(1)
        }
    }
}
