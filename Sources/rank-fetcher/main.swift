import TopCoinsCommandLine

await RankFetcherCommand.start()
