import TopCoinsCommandLine

await HistoryFetcherCommand.start()
