import Hummingbird
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The `http-api` program: Hummingbird on `--host`/`--port`, the latest snapshot from memory.
public enum HTTPAPIProgram {
    /// Builds the application: the responder plus the service that follows new snapshots.
    public static func buildApplication(config: APIConfig, metrics: APIMetrics, logger: Logger) -> (some ApplicationProtocol, [RedisClient]) {
        // History reads spread over a few connections, each with its own thread.
        let historyClients = (0..<4).map { _ in RedisClient(endpoint: config.settings.redis) }
        let followerClient = RedisClient(endpoint: config.settings.redis)
        let library = SnapshotLibrary(
            stores: historyClients.map { SnapshotStore(redis: $0) }, cacheSize: config.historyCacheSize, clockSkewSeconds: config.maxClockSkewSeconds,
            logger: logger)
        let follower = LatestSnapshotFollower(library: library, redis: followerClient, mergedStream: config.mergedStream, logger: logger)
        let app = Application(
            responder: TopCoinsResponder(config: config, library: library, metrics: metrics),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "topcoins"),
            services: [follower],
            onServerRunning: { channel in
                logger.info("http-api listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")", "port": "\(channel.localAddress?.port ?? 0)"])
            },
            logger: logger
        )
        return (app, historyClients + [followerClient])
    }

    public static func main() async -> Never {
        let executable = "http-api"
        let options = CommandLineOptions(executable: executable, arguments: Array(CommandLine.arguments.dropFirst()), allowsListen: true)
        var (logger, config) = ProcessRunner.start(executable: executable, configPath: options.configPath) { (object) throws(ConfigError) in
            try APIConfig(reading: object)
        }
        if let port = options.port { config.port = port }
        if let host = options.host { config.host = host }
        let (app, clients) = buildApplication(config: config, metrics: APIMetrics.bootstrap(), logger: logger)
        await ProcessRunner.run([app], logger: logger)
        for client in clients { await client.shutdown() }
        exit(0)
    }
}
