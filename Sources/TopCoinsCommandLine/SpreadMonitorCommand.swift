import ArgumentParser
import TopCoins

/// `spread-monitor`: watches the order books' spreads and alerts on breaches; `export`
/// writes the stored observations as Hive-style CSV partitions.
public struct SpreadMonitorCommand: ServiceCommand {
    public static let configuration: CommandConfiguration = {
        var configuration = CommandConfiguration.service(
            "spread-monitor", abstract: "Observes the order books' spreads, opens and closes alert episodes, and keeps the hourly record.",
            exitCodes: "; export exits 1 when Redis or the directory fails")
        configuration.subcommands = [Export.self]
        return configuration
    }()

    @Option(help: ArgumentHelp("The monitor's JSON config.", valueName: "path"))
    var config = "Config/spread-monitor.json"

    public init() {}

    public func run() async {
        await SpreadMonitorProgram.main(configPath: config)
    }

    /// `spread-monitor export --to DIR [--from T] [--until T] [--book B]`.
    public struct Export: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Writes the stored observations as DIR/book=<book>/date=<yyyy-mm-dd>/hour=<hh>/spreads.csv (RFC 4180, replaced whole).")

        @Option(help: ArgumentHelp("The monitor's JSON config (for Redis and the books).", valueName: "path"))
        var config = "Config/spread-monitor.json"

        @Option(help: ArgumentHelp("The directory to write the partitions under (created if missing).", valueName: "dir"))
        var to: String

        @Option(help: ArgumentHelp("The earliest observation time, ISO-8601 UTC (default: the retention's start).", valueName: "time"))
        var from: String?

        @Option(help: ArgumentHelp("The latest observation time, ISO-8601 UTC (default: now).", valueName: "time"))
        var until: String?

        @Option(help: ArgumentHelp("Only this book (default: every book of the config).", valueName: "book"))
        var book: String?

        public init() {}

        public func validate() throws {
            for (name, value) in [("--from", from), ("--until", until)] {
                if let value, Timestamp(iso8601: value) == nil {
                    throw ValidationError("\(name) must be an ISO-8601 UTC time such as 2026-12-01T15:00:00Z, not \"\(value.prefix(40))\"")
                }
            }
            if to.isEmpty { throw ValidationError("--to must name a directory") }
        }

        public func run() async {
            await SpreadMonitorProgram.export(
                configPath: config, directory: to, from: from.flatMap { Timestamp(iso8601: $0) }, until: until.flatMap { Timestamp(iso8601: $0) }, book: book)
        }
    }
}
