import ArgumentParser
import TopCoins

/// `http-api`: the HTTP API. `--port` and `--host` win over the config's `port` and `host`.
public struct HTTPAPICommand: ServiceCommand {
    public static let configuration = CommandConfiguration.service(
        "http-api", abstract: "Serves the top list, now or at a past instant, as JSON or CSV over HTTP.",
        environment: " REDIS_READ_URL (any of those forms; Sentinel's takes replica=1) is where history reads go.")

    @Option(help: ArgumentHelp("The API's JSON config.", valueName: "path"))
    var config = "Config/http-api.json"

    // No ArgumentParser default: one would always win over the config's.
    @Option(help: ArgumentHelp("The port to listen on, 0 for any free one (default: the config's port, else 6667).", valueName: "n"))
    var port: Int?

    @Option(help: ArgumentHelp("The address to listen on (default: the config's host, else 0.0.0.0).", valueName: "address"))
    var host: String?

    public init() {}

    public func validate() throws {
        if let port, !(0...65535).contains(port) {
            throw ValidationError("--port must be a number from 0 to 65535, not \(port)")
        }
    }

    public func run() async {
        await HTTPAPIProgram.main(configPath: config, port: port, host: host)
    }
}
