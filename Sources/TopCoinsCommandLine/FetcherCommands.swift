import ArgumentParser
import TopCoins

/// `price-fetcher`: CoinMarketCap's prices, one snapshot per cycle on `topcoins:prices`.
public struct PriceFetcherCommand: ServiceCommand {
    public static let configuration = CommandConfiguration.service(
        "price-fetcher", abstract: "Fetches USD prices on a schedule and publishes each snapshot to a Redis stream.",
        exitCodes: FetcherCommandText.exitCodes)

    @Option(help: FetcherCommandText.config)
    var config = "Config/price-fetcher.json"

    @Flag(help: FetcherCommandText.once)
    var once = false

    public init() {}

    public func run() async {
        await FetcherProgram.main(executable: "price-fetcher", configPath: config, once: once)
    }
}

/// `rank-fetcher`: CryptoCompare's toplist by 24-hour volume, one snapshot per cycle on `topcoins:ranks`.
public struct RankFetcherCommand: ServiceCommand {
    public static let configuration = CommandConfiguration.service(
        "rank-fetcher", abstract: "Fetches the ranking by 24-hour volume on a schedule and publishes each snapshot to a Redis stream.",
        exitCodes: FetcherCommandText.exitCodes)

    @Option(help: FetcherCommandText.config)
    var config = "Config/rank-fetcher.json"

    @Flag(help: FetcherCommandText.once)
    var once = false

    public init() {}

    public func run() async {
        await FetcherProgram.main(executable: "rank-fetcher", configPath: config, once: once)
    }
}

/// `book-fetcher`: Bitso's order books, one message per book per cycle on `topcoins:books`.
public struct BookFetcherCommand: ServiceCommand {
    public static let configuration = CommandConfiguration.service(
        "book-fetcher", abstract: "Fetches each configured order book's best bid and ask on a schedule and publishes one message per book.",
        exitCodes: ", 1 when a --once cycle leaves a book unpublished (0 when every book published)")

    @Option(help: FetcherCommandText.config)
    var config = "Config/book-fetcher.json"

    @Flag(help: "Run one fetch cycle over every book, publish each book's message, and exit.")
    var once = false

    public init() {}

    public func run() async {
        await FetcherProgram.main(executable: "book-fetcher", configPath: config, once: once)
    }
}

/// The help the fetchers share.
enum FetcherCommandText {
    static let config = ArgumentHelp("The fetcher's JSON config.", valueName: "path")
    static let once = ArgumentHelp("Run one fetch cycle, publish its snapshot, and exit.")
    static let exitCodes = ", 1 when a --once cycle fails (0 when it publishes)"
}


/// `history-fetcher`: daily candles per asset from an upstream's history (CryptoCompare's
/// `histoday` by default), backfilled from the config's range, then each new day once a day.
public struct HistoryFetcherCommand: ServiceCommand {
    public static let configuration = CommandConfiguration.service(
        "history-fetcher", abstract: "Backfills daily candles per asset from an upstream's history, then adds each new day.",
        exitCodes: ", 1 when a --once pass leaves an asset whose request failed after its retries (0 when every asset was stored or has no data upstream)")

    @Option(help: FetcherCommandText.config)
    var config = "Config/history-fetcher.json"

    @Flag(help: "Run one pass over every asset, store what it fetched, and exit.")
    var once = false

    public init() {}

    public func run() async {
        await HistoryFetcherProgram.main(configPath: config, once: once)
    }
}

/// `exchange-fetcher`: the exchanges that share the reference exchange's markets (CoinGecko),
/// two tables refreshed once a day.
public struct ExchangeFetcherCommand: ServiceCommand {
    public static let configuration = CommandConfiguration.service(
        "exchange-fetcher", abstract: "Finds the exchanges that list the reference exchange's markets, once a day, and serves the two tables from Redis.",
        exitCodes: ", 1 when a --once run puts no tables in service (0 when it does)")

    @Option(help: FetcherCommandText.config)
    var config = "Config/exchange-fetcher.json"

    @Flag(help: "Run once: fetch, join, put the tables in service, and exit.")
    var once = false

    public init() {}

    public func run() async {
        await ExchangeFetcherProgram.main(configPath: config, once: once)
    }
}
