import Foundation
@testable import TopCoins

/// One test's private world: a temp directory, a real redis-server on a unix socket in it, a
/// fake upstream on a free port, a Redis client, and API keys the services get from the
/// environment. Use it through `TestBed.with { bed in ... }`, which always tears everything
/// down, also when the test throws.
///
///     try await TestBed.with { bed in
///         let config = try bed.writeFetcherConfig("price-fetcher")
///         let run = try await bed.run("price-fetcher", arguments: ["--config", config, "--once"])
///         #expect(run.status == .exited(0))
///         let entries = try await bed.redis.xrange("topcoins:prices")
///     }
final class TestBed: @unchecked Sendable {
    /// What Redis the bed runs: one server, or that server (on a TCP port too) as the primary
    /// of a `SentinelCluster` that services reach through `REDIS_URL` in Sentinel form.
    enum RedisSetup {
        case single
        case sentinels(promotableReplica: Bool)
    }

    let directory: TemporaryDirectory
    let redisServer: RedisServer
    let cluster: SentinelCluster?
    let upstream: FakeUpstream
    /// A client of `redisServer` (database 0), through the Sentinels with a cluster.
    let redis: RedisClient
    /// Random per test, so a leak into a log is unambiguous.
    let cmcAPIKey = "cmc-\(UUID().uuidString.lowercased())"
    let cryptoCompareAPIKey = "cc-\(UUID().uuidString.lowercased())"
    private var children: [ChildProcess] = []

    /// The environment every service of this bed gets: `REDIS_URL` and both API keys.
    var environment: [String: String] {
        ["REDIS_URL": cluster?.url ?? redisServer.url, "CMC_API_KEY": cmcAPIKey, "CRYPTOCOMPARE_API_KEY": cryptoCompareAPIKey]
    }

    /// Secrets no log may contain.
    var secrets: [String] { [cmcAPIKey, cryptoCompareAPIKey] + (cluster?.secrets ?? []) }

    private init(directory: TemporaryDirectory, redisServer: RedisServer, cluster: SentinelCluster?, upstream: FakeUpstream) throws {
        self.directory = directory
        self.redisServer = redisServer
        self.cluster = cluster
        self.upstream = upstream
        self.redis = try cluster.map { RedisClient(endpoint: try $0.endpoint) } ?? redisServer.client()
    }

    static func with<T>(redis setup: RedisSetup = .single, _ body: (TestBed) async throws -> T) async throws -> T {
        let directory = try TemporaryDirectory(prefix: "tcbed")
        let redisServer: RedisServer
        var cluster: SentinelCluster?
        do {
            if case .sentinels(let promotable) = setup {
                redisServer = try await RedisServer.startOnFreePort(in: directory, password: "data-\(UUID().uuidString.lowercased())")
                do {
                    cluster = try await SentinelCluster.start(primary: redisServer, promotable: promotable)
                } catch {
                    await redisServer.stop()
                    throw error
                }
            } else {
                redisServer = try await RedisServer.start(in: directory)
            }
        } catch {
            directory.remove()
            throw error
        }
        let bed: TestBed
        do {
            bed = try TestBed(directory: directory, redisServer: redisServer, cluster: cluster, upstream: try await FakeUpstream.start())
        } catch {
            await cluster?.stop()
            await redisServer.stop()
            directory.remove()
            throw error
        }
        do {
            let result = try await body(bed)
            await bed.tearDown()
            return result
        } catch {
            await bed.tearDown()
            throw error
        }
    }

    private func tearDown() async {
        for child in children { child.stopNow(grace: 2) }
        children = []
        await redis.shutdown()
        await upstream.stop()
        await cluster?.stop()
        await redisServer.stop()
        directory.remove()
    }

    /// Writes a fetcher config derived from the shipped one (see `TestConfigs.fetcher`) into
    /// the bed's directory and returns its path.
    func writeFetcherConfig(
        _ executable: String,
        name: String? = nil,
        intervalSeconds: Int = 1,
        timeoutSeconds: String? = nil,
        edit: (inout JSONValue) -> Void = { _ in }
    ) throws -> String {
        let config = try TestConfigs.fetcher(
            executable, upstreamBaseURL: upstream.baseURL, intervalSeconds: intervalSeconds, timeoutSeconds: timeoutSeconds, edit: edit)
        let path = directory.file(name ?? "\(executable).json")
        try TestConfigs.write(config, to: path)
        return path
    }

    /// Starts a built executable with the bed's environment (plus `environment`, minus
    /// `unsetEnvironment`), in `currentDirectory` (the package root by default); it is stopped
    /// at teardown if still running.
    func start(
        _ product: String, arguments: [String], environment: [String: String] = [:], unsetEnvironment: [String] = [], currentDirectory: URL? = nil
    ) throws -> ChildProcess {
        var merged = self.environment.merging(environment) { $1 }
        for key in unsetEnvironment { merged[key] = nil }
        let child = try ChildProcess(
            product: product, arguments: arguments, environment: merged, unsetEnvironment: unsetEnvironment, currentDirectory: currentDirectory)
        children.append(child)
        return child
    }

    /// What a finished run left behind.
    struct Run: Sendable {
        let status: ExitStatus
        let stdout: String
        let stderr: String
        var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    /// Runs a built executable to completion.
    func run(
        _ product: String, arguments: [String], environment: [String: String] = [:], unsetEnvironment: [String] = [],
        timeout: Duration = .seconds(60)
    ) async throws -> Run {
        let child = try start(product, arguments: arguments, environment: environment, unsetEnvironment: unsetEnvironment)
        let status = try await child.waitForExit(timeout: timeout)
        return Run(status: status, stdout: child.stdout.text, stderr: child.stderr.text)
    }
}
