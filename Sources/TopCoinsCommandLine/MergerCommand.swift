import ArgumentParser
import TopCoins

/// `merger`: pairs the newest price and rank snapshots and writes the merged one and its history.
public struct MergerCommand: ServiceCommand {
    public static let configuration = CommandConfiguration.service(
        "merger", abstract: "Merges the newest price and rank snapshots into the served snapshot and its history.")

    @Option(help: ArgumentHelp("The merger's JSON config.", valueName: "path"))
    var config = "Config/merger.json"

    public init() {}

    public func run() async {
        await MergerProgram.main(configPath: config)
    }
}
