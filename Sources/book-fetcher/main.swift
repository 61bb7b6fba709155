import TopCoinsCommandLine

await BookFetcherCommand.start()
