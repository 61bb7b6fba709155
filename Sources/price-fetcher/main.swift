import TopCoinsCommandLine

await PriceFetcherCommand.start()
