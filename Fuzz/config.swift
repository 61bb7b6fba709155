import TopCoins

// The config loader, on config file bytes read as each executable reads its config: every
// input gives a config or a `ConfigError` that names the file and says what is wrong.

/// A name inside `Config/`, so an API config's `openapi_path` of `../oas.yaml` (as seeds
/// taken from older shipped configs have) resolves to the repository's document.
let configFile = repositoryRoot + "/Config/fuzz-input.json"
let environment = ["CMC_API_KEY": "key", "CRYPTOCOMPARE_API_KEY": "key", "COINGECKO_API_KEY": "key"]

let readers: [(String, @Sendable (ConfigObject) throws(ConfigError) -> Void)] = [
    ("fetcher", { (config) throws(ConfigError) in
        let fetcher = try FetcherConfig(reading: config)
        check(!fetcher.fields.isEmpty && !fetcher.source.isEmpty, "a fetcher config without fields or source")
        check(fetcher.secrets.allSatisfy { !$0.isEmpty }, "an empty secret")
        _ = fetcher.responseFilter
    }),
    ("history-fetcher", { (config) throws(ConfigError) in
        let history = try HistoryFetcherConfig(reading: config)
        check(history.windowDays >= 2 && (!history.list.isEmpty || history.top != nil), "a history config without two-day windows or assets")
        _ = history.responseFilter
    }),
    ("exchange-fetcher", { (config) throws(ConfigError) in
        let exchanges = try ExchangeFetcherConfig(reading: config)
        check(!exchanges.steps.isEmpty && exchanges.budget.perRun >= exchanges.steps.count - 1, "an exchange config without steps or a budget for them")
        for step in exchanges.steps { _ = step.responseFilter }
    }),
    ("merger", { (config) throws(ConfigError) in _ = try MergerConfig(reading: config) }),
    ("http-api", { (config) throws(ConfigError) in _ = try APIConfig(reading: config) }),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    for (name, read) in readers {
        do {
            try read(try ConfigObject.parse(file: configFile, bytes: bytes, environment: environment))
        } catch {
            check(error.file == configFile && !error.message.isEmpty, "\(name): a config error without the file or a message: \(error)")
        }
    }
    return 0
}
