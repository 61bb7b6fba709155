import ArgumentParser
import Testing
import TopCoins

@testable import TopCoinsCommandLine

/// The parsing half of the command lines; `IntegrationTests/CommandLineTests` runs the built
/// executables for the exit codes and output.
struct CommandLineTests {
    @Test func optionsParseAsTheDesignNamesThem() throws {
        let fetcher = try PriceFetcherCommand.parse(["--config", "/etc/topcoins/price-fetcher.json", "--once"])
        #expect(fetcher.config == "/etc/topcoins/price-fetcher.json")
        #expect(fetcher.once)
        #expect(try RankFetcherCommand.parse([]).config == "Config/rank-fetcher.json")
        #expect(try !RankFetcherCommand.parse([]).once)
        #expect(try MergerCommand.parse([]).config == "Config/merger.json")
        let api = try HTTPAPICommand.parse(["--port", "0", "--host", "127.0.0.1"])
        #expect(api.config == "Config/http-api.json")
        #expect(api.port == 0)
        #expect(api.host == "127.0.0.1")
        let defaults = try HTTPAPICommand.parse([])
        #expect(defaults.port == nil && defaults.host == nil, "no default of its own: the config's port and host stand")
    }

    @Test(arguments: [["--port", "70000"], ["--port", "-1"], ["--port", "http"], ["--port"], ["--once"], ["--bogus"], ["stray"]])
    func aMistakeIsAUsageError(arguments: [String]) {
        let error = #expect(throws: (any Error).self) { try HTTPAPICommand.parse(arguments) }
        #expect(error.map { HTTPAPICommand.exitCode(for: $0) } == .validationFailure, "ServiceCommand.start turns this into exit 2")
    }

    @Test func theHelpShowsEachDefault() {
        let help = HTTPAPICommand.helpMessage(columns: 1000)
        #expect(help.contains("--config <path>"))
        #expect(help.contains("(default: Config/http-api.json)"))
        #expect(help.contains("--port <n>"))
        #expect(help.contains("else 6667"))
        #expect(help.contains("--host <address>"))
        #expect(help.contains("else 0.0.0.0"))
        #expect(MergerCommand.helpMessage(columns: 1000).contains("(default: Config/merger.json)"))
    }

    @Test func everyExecutableHasTheProjectVersion() {
        for command in [PriceFetcherCommand.self, RankFetcherCommand.self, MergerCommand.self, HTTPAPICommand.self] as [any ParsableCommand.Type] {
            #expect(command.configuration.version == TopCoinsVersion.current)
        }
    }
}
