import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The `http-api` program: Hummingbird on `--host`/`--port`, the latest snapshot from memory.
public enum HTTPAPIProgram {
    /// Builds the listeners (the API, and the ops listener when it has a port of its own) and
    /// the service that follows new snapshots.
    public static func buildServices(config: APIConfig, metrics: APIMetrics, logger: Logger) -> (services: [any Service], clients: [RedisClient]) {
        // History reads spread over a few connections, each with its own thread; they and the
        // follower read from `readRedis` (a replica when configured).
        let historyClients = (0..<4).map { _ in RedisClient(endpoint: config.readRedis) }
        let followerClient = RedisClient(endpoint: config.readRedis)
        let library = SnapshotLibrary(
            stores: historyClients.map { History(redis: $0) }, cacheSize: config.historyCacheSize, clockSkewSeconds: config.maxClockSkewSeconds,
            logger: logger)
        let assets = AssetLibrary(history: History(redis: historyClients[0]), cachedPointLimit: config.seriesCachePoints, logger: logger)
        // The rankings load all of history at start: on a connection of their own, off the requests' ones.
        let rankingsClient = RedisClient(endpoint: config.readRedis)
        let rankings = Rankings(
            history: History(redis: rankingsClient), library: library, assets: assets, maxWindowMilliseconds: Int64(config.rawHistoryDays) * 86_400_000,
            logger: logger)
        let follower = LatestSnapshotFollower(
            library: library, assets: assets, rankings: rankings, redis: followerClient, mergedStream: config.mergedStream, logger: logger)
        // Spread reads on connections of their own; the status follower on one more.
        let spreadClients = (0..<2).map { _ in RedisClient(endpoint: config.settings.redis) }
        let spreadStatusClient = RedisClient(endpoint: config.settings.redis)
        let spreads = SpreadLibrary(stores: spreadClients.map { SpreadStore(redis: $0) })
        let spreadFollower = SpreadStatusFollower(library: spreads, store: SpreadStore(redis: spreadStatusClient), interval: .seconds(2), logger: logger)
        let exchangesClient = RedisClient(endpoint: config.settings.redis)
        let api = APIRouter(
            config: config, library: library, assets: assets, rankings: rankings, spreads: spreads, exchanges: ExchangeStore(redis: exchangesClient),
            metrics: metrics)
        func listener(_ name: String, host: String, port: Int, routes: APIRouter.Routes) -> some Service {
            Application(
                router: api.router(serving: routes),
                server: HTTPServerBuilder { responder in GuardedHTTP1Channel(responder: responder, limits: config.connections) },
                configuration: .init(address: .hostname(host, port: port), serverName: "topcoins"),
                onServerRunning: { channel in
                    logger.info("\(name) listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")", "port": "\(channel.localAddress?.port ?? 0)"])
                },
                logger: logger
            )
        }
        var services: [any Service] = [follower, rankings, spreadFollower]
        if let opsPort = config.opsPort {
            services.append(listener("http-api", host: config.host, port: config.port, routes: .api))
            services.append(listener("ops", host: config.opsHost ?? config.host, port: opsPort, routes: .operations))
        } else {
            services.append(listener("http-api", host: config.host, port: config.port, routes: [.api, .operations]))
        }
        return (services, historyClients + spreadClients + [followerClient, rankingsClient, spreadStatusClient, exchangesClient])
    }

    /// Serves from the config at `configPath` until SIGTERM or SIGINT; `port` and `host`
    /// (the command line's) win over the config's.
    public static func main(configPath: String, port: Int?, host: String?) async -> Never {
        let executable = "http-api"
        var (logger, config) = ProcessRunner.start(executable: executable, configPath: configPath) { (object) throws(ConfigError) in
            try APIConfig(reading: object)
        }
        if let port { config.port = port }
        if let host { config.host = host }
        let (services, clients) = buildServices(config: config, metrics: APIMetrics.bootstrap(), logger: logger)
        await ProcessRunner.run(services, logger: logger)
        for client in clients { await client.shutdown() }
        exit(0)
    }
}
